// The store side of lost workers (docs/protocol.md section 8.3): the lease clock, heartbeats,
// and the sweep that marks lost RUNNING jobs CRASHED and queues their
// replacements (the decision is scheduling/Lease.h's), each lost job once
// whatever the number of server processes on the database.

#include "SqlStore.h"

#include "Auth.h"
#include "Json.h"
#include "SqlCodes.h"
#include "SqlStoreRows.h"

#include <QVariant>

#include <chrono>
#include <limits>

namespace schedy::server {

using namespace scheduling;

double SqlStore::leaseNow()
{
    if (!m_leaseClock) {
        // Read once, then advanced by the monotonic clock: a jump of the wall clock
        // (or of the database host's) never expires a lease or keeps one alive.
        // On PostgreSQL every process reads the same clock, the database's.
        constexpr double Never = std::numeric_limits<double>::infinity();
        if (m_sql.isPostgres()) {
            m_leaseClock = AnchoredClock(
                [this]() -> std::optional<double> {
                    QSqlQuery q(m_sql.database());
                    if (q.exec(QStringLiteral("SELECT EXTRACT(EPOCH FROM clock_timestamp())")) && q.next())
                        return q.value(0).toDouble();
                    return std::nullopt;
                },
                Never);
        } else {
            m_leaseClock = AnchoredClock(
                []() -> std::optional<double> {
                    using namespace std::chrono;
                    return double(
                               duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()) /
                           1e6;
                },
                Never);
        }
    }
    return m_leaseClock();
}

bool SqlStore::startLease(qint64 seq, JobStatus status)
{
    if (status != JobStatus::Running)
        return true;
    QSqlQuery &q = m_sql.prepared("UPDATE jobs SET alive_at = ? WHERE seq = ?");
    q.addBindValue(leaseNow());
    q.addBindValue(seq);
    const bool ok = m_sql.exec(q);
    q.finish();
    return ok;
}

bool SqlStore::restartLeases(qint64 experimentId)
{
    QSqlQuery &q = m_sql.prepared("UPDATE jobs SET alive_at = ? WHERE experiment_id = ? AND status = 1");
    q.addBindValue(leaseNow());
    q.addBindValue(experimentId);
    const bool ok = m_sql.exec(q);
    q.finish();
    return ok;
}

StoreResult<bool> SqlStore::heartbeat(qint64 user, const QString &experiment, const QString &id,
                                      const QByteArray &etag)
{
    return m_sql.retrying([&]() -> StoreResult<bool> {
        SqlConnection::Transaction tx(m_sql);
        if (!tx.ok())
            return m_sql.failure<bool>();
        auto row = findExperiment(user, experiment, false);
        if (!row)
            return noExperiment<bool>(m_sql, experiment);
        QSqlQuery &q = m_sql.prepared("SELECT seq, version, status, pruned, lost_at, replaced_by FROM jobs "
                                      "WHERE experiment_id = ? AND job_id = ?");
        q.addBindValue(row->id);
        q.addBindValue(id);
        if (!m_sql.exec(q))
            return m_sql.failure<bool>();
        if (!q.next()) {
            q.finish();
            return StoreResult<bool>::fail(
                StoreStatus::NotFound, QStringLiteral("no job '%1' in experiment '%2'").arg(id, experiment));
        }
        JobBefore before;
        before.seq = q.value(0).toLongLong();
        before.version = q.value(1).toLongLong();
        before.status = jobStatusFromCode(q.value(2).toInt());
        before.pruned = q.value(3).toString();
        before.lost = !q.value(4).isNull();
        before.replacedBy = q.value(5).toString();
        q.finish();
        if (!constantTimeEquals(etag, etagOf(before.seq, before.version))) {
            const QString stopped = stoppedMessage(id, before, *row);
            return StoreResult<bool>::fail(
                StoreStatus::PreconditionFailed,
                stopped.isEmpty()
                    ? QStringLiteral("job '%1' is no longer that version (ETag mismatch)").arg(id)
                    : stopped);
        }
        // Only the lease moves: no new version, no modification time. The version is
        // compared again by the UPDATE: a loss or report committed since the read wins.
        if (before.status == JobStatus::Running) {
            QSqlQuery &u = m_sql.prepared("UPDATE jobs SET alive_at = ? WHERE seq = ? AND version = ?");
            u.addBindValue(leaseNow());
            u.addBindValue(before.seq);
            u.addBindValue(before.version);
            if (!m_sql.exec(u))
                return m_sql.failure<bool>();
            const bool applied = u.numRowsAffected() == 1;
            u.finish();
            if (!applied) {
                return StoreResult<bool>::fail(
                    StoreStatus::PreconditionFailed,
                    QStringLiteral("job '%1' changed while its heartbeat arrived; read it again").arg(id));
            }
        }
        if (!tx.commit())
            return m_sql.failure<bool>();
        StoreResult<bool> r;
        r.value = true;
        return r;
    });
}

std::optional<qint64> SqlStore::queuedReplacement(qint64 experimentId)
{
    static_assert(sqlcode::Queued == 0, "the SQL below writes it literally");
    // PostgreSQL: locked until the hand-out commits, skipped while another claims it.
    QSqlQuery &q = m_sql.isPostgres()
                       ? m_sql.prepared("SELECT seq FROM jobs WHERE experiment_id = ? AND status = 0 AND "
                                        "replaces IS NOT NULL AND lease_until <= ? ORDER BY seq LIMIT 1 "
                                        "FOR UPDATE SKIP LOCKED")
                       : m_sql.prepared("SELECT seq FROM jobs WHERE experiment_id = ? AND status = 0 AND "
                                        "replaces IS NOT NULL AND lease_until <= ? ORDER BY seq LIMIT 1");
    q.addBindValue(experimentId);
    q.addBindValue(m_sql.lastNow());
    std::optional<qint64> seq;
    if (m_sql.exec(q) && q.next())
        seq = q.value(0).toLongLong();
    q.finish();
    return seq;
}

std::optional<int> SqlStore::expireLostJobs()
{
    static_assert(sqlcode::Running == 1, "the SQL below writes it literally");
    const double now = leaseNow();
    QList<qint64> experiments;
    {
        SqlConnection::Transaction tx(m_sql, false);
        if (!tx.ok())
            return std::nullopt;
        QSqlQuery &q = m_sql.prepared(
            "SELECT DISTINCT j.experiment_id FROM jobs j JOIN experiments e ON e.id = j.experiment_id "
            "WHERE j.status = 1 AND e.lease_seconds IS NOT NULL AND j.alive_at < ? - e.lease_seconds");
        q.addBindValue(now);
        if (!m_sql.exec(q))
            return std::nullopt;
        while (q.next())
            experiments.append(q.value(0).toLongLong());
        q.finish();
        tx.commit();
    }
    int lost = 0;
    for (qint64 id : experiments) {
        StoreResult<int> r = m_sql.retrying([&]() -> StoreResult<int> {
            StoreResult<int> one;
            const auto n = expireLostJobsOf(id, now);
            if (!n)
                return m_sql.failure<int>();
            one.value = *n;
            return one;
        });
        if (!r.ok())
            return std::nullopt;
        lost += r.value;
    }
    return lost;
}

std::optional<int> SqlStore::expireLostJobsOf(qint64 experimentId, double now)
{
    SqlConnection::Transaction tx(m_sql);
    if (!tx.ok())
        return std::nullopt;
    QSqlQuery &owner = m_sql.prepared("SELECT user_id, name FROM experiments WHERE id = ?");
    owner.addBindValue(experimentId);
    if (!m_sql.exec(owner))
        return std::nullopt;
    if (!owner.next()) { // deleted meanwhile
        owner.finish();
        tx.commit();
        return 0;
    }
    const qint64 user = owner.value(0).toLongLong();
    const QString name = owner.value(1).toString();
    owner.finish();
    // Locked as a job write would lock it (PBT, pruner), before its jobs.
    const auto row = findExperimentToSchedule(user, name);
    if (!row || !row->lease) {
        tx.commit();
        return 0;
    }
    const double deadline = now - double(row->lease->seconds);
    // PostgreSQL: rows another process is expiring (or a worker is writing) are
    // skipped, and the conditional UPDATE below makes each loss happen once.
    QSqlQuery &q =
        m_sql.isPostgres()
            ? m_sql.prepared("SELECT seq, job_id, alive_at, retry, hyperparameters FROM jobs WHERE "
                             "experiment_id = ? AND status = 1 AND alive_at < ? ORDER BY seq "
                             "FOR UPDATE SKIP LOCKED")
            : m_sql.prepared("SELECT seq, job_id, alive_at, retry, hyperparameters FROM jobs WHERE "
                             "experiment_id = ? AND status = 1 AND alive_at < ? ORDER BY seq");
    q.addBindValue(row->id);
    q.addBindValue(deadline);
    if (!m_sql.exec(q))
        return std::nullopt;
    QList<LeasedJob> running;
    QHash<qint64, QByteArray> hyperparameters;
    while (q.next()) {
        LeasedJob j;
        j.seq = q.value(0).toLongLong();
        j.id = q.value(1).toString();
        j.aliveAt = q.value(2).toDouble();
        j.retry = q.value(3).toLongLong();
        hyperparameters.insert(j.seq, q.value(4).toString().toUtf8());
        running.append(j);
    }
    q.finish();

    const double t = m_sql.now();
    int lost = 0;
    for (const Loss &loss : expire(running, *row->lease, row->scheduler.kind, now)) {
        static_assert(sqlcode::Crashed == 2, "the SQL below writes it literally");
        QSqlQuery &u =
            m_sql.prepared("UPDATE jobs SET status = 2, version = version + 1, modified_at = ?, lost_at = ?, "
                           "alive_at = NULL, "
                           "lease_until = 0, ready_at = NULL WHERE seq = ? AND status = 1 AND alive_at < ?");
        u.addBindValue(t);
        u.addBindValue(t);
        u.addBindValue(loss.seq);
        u.addBindValue(deadline);
        if (!m_sql.exec(u))
            return std::nullopt;
        const bool changed = u.numRowsAffected() == 1;
        u.finish();
        if (!changed)
            continue; // written (or expired) meanwhile
        ++lost;
        QString replacement;
        if (loss.replace) {
            replacement = newJobId(row->id, nullptr);
            const qint64 seq = insertJob(row->id, replacement, JobStatus::Queued,
                                         hyperparameters.value(loss.seq), "{}", std::nullopt, {}, {}, {}, 0);
            if (!seq)
                return std::nullopt;
            QSqlQuery &chain = m_sql.prepared("UPDATE jobs SET retry = ?, replaces = ? WHERE seq = ?");
            chain.addBindValue(loss.retry);
            chain.addBindValue(loss.id);
            chain.addBindValue(seq);
            QSqlQuery &back = m_sql.prepared("UPDATE jobs SET replaced_by = ? WHERE seq = ?");
            back.addBindValue(replacement);
            back.addBindValue(loss.seq);
            if (!m_sql.exec(chain) || !m_sql.exec(back))
                return std::nullopt;
            chain.finish();
            back.finish();
        }
        qInfo("schedy: job %s of experiment '%s' lost (no write for more than %lld s)%s", qPrintable(loss.id),
              qPrintable(row->name), static_cast<long long>(row->lease->seconds),
              replacement.isEmpty() ? "" : qPrintable(QStringLiteral(", replaced by ") + replacement));
    }
    // PBT: a lost member is given back by rule 6; the population may also have ended.
    if (lost && !finishIfDone(*row))
        return std::nullopt;
    if (!tx.commit())
        return std::nullopt;
    return lost;
}

} // namespace schedy::server
