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

void SqlStore::setLeaseClockSources(std::function<std::optional<double>()> reference,
                                    std::function<double()> steady)
{
    m_anchoredClock = std::make_shared<AnchoredClock>(std::move(reference), std::move(steady));
    m_leaseClock = [clock = m_anchoredClock] {
        return (*clock)();
    };
}

double SqlStore::leaseNow()
{
    if (!m_leaseClock) {
        // PostgreSQL: every process reads the same clock, the database's. SQLite:
        // the processes share one host, and so its wall clock.
        if (m_sql.isPostgres()) {
            setLeaseClockSources(
                [this]() -> std::optional<double> {
                    QSqlQuery q(m_sql.database());
                    if (q.exec(QStringLiteral("SELECT EXTRACT(EPOCH FROM clock_timestamp())")) && q.next())
                        return q.value(0).toDouble();
                    return std::nullopt;
                },
                &steadySeconds);
        } else {
            setLeaseClockSources(
                []() -> std::optional<double> {
                    using namespace std::chrono;
                    return double(
                               duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()) /
                           1e6;
                },
                &steadySeconds);
        }
    }
    return m_leaseClock();
}

bool SqlStore::restartAllLeases(const char *sql, double now, double above)
{
    if (above > -1e300) {
        // Usually none: a read (on the partial index) rather than a write lock per check.
        QSqlQuery &any = m_sql.prepared("SELECT 1 FROM jobs WHERE status = 1 AND alive_at > ? LIMIT 1");
        any.bindValue(0, above); // by position: a failed run leaves no value behind
        if (!m_sql.exec(any))
            return false;
        const bool found = any.next();
        any.finish();
        if (!found)
            return true;
    }
    QSqlQuery &q = m_sql.prepared(sql);
    q.bindValue(0, now);
    if (above > -1e300)
        q.bindValue(1, above);
    const bool ok = m_sql.exec(q);
    const int n = ok ? q.numRowsAffected() : 0;
    q.finish();
    if (n > 0)
        qInfo("schedy: %d running job(s) had their lease restarted (lease clock)", n);
    return ok;
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
    leaseNow(); // the default clock, unless set
    const double step = m_anchoredClock ? m_anchoredClock->resync() : 0;
    const double now = leaseNow();
    if (step != 0) {
        // The reference clock stepped: every lease measured across the step is
        // wrong by it (a step back kept leases alive for as long, one forward
        // would lose live workers). Each restarts from now, and none expires
        // until every process has seen the step too and stopped writing times
        // of the old scale.
        qWarning("schedy: the lease clock stepped by %.1f s; leases of running jobs restart now", step);
        m_noExpiryUntil = now + 2 * m_leaseCheckInterval + AnchoredClock::StepTolerance;
        if (!restartAllLeases("UPDATE jobs SET alive_at = ? WHERE status = 1", now, -1e300))
            return std::nullopt;
    } else if (!restartAllLeases("UPDATE jobs SET alive_at = ? WHERE status = 1 AND alive_at > ?", now,
                                 now + AnchoredClock::StepTolerance)) {
        // Last writes in the future: written before a step back that no running
        // process saw (all were down), or by a process that has not seen it yet.
        return std::nullopt;
    }
    if (now < m_noExpiryUntil)
        return 0;
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
