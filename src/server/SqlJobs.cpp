// The entities of the store, part 2: jobs (reading, creating, replacing,
// deleting, listing) and their rows.

#include "SqlStore.h"

#include "Auth.h"
#include "Json.h"
#include "Sampler.h"
#include "SqlCodes.h"
#include "SqlListing.h"
#include "SqlStoreRows.h"

#include <QVariant>

namespace schedy::server {

StoredJob SqlStore::jobFromQuery(QSqlQuery &q, const QString &experimentName) const
{
    StoredJob s;
    const qint64 seq = q.value(0).toLongLong();
    s.job.id = q.value(1).toString();
    s.job.experiment = experimentName;
    s.job.status = jobStatusFromCode(q.value(2).toInt());
    s.hyperparametersJson = q.value(3).toString().toUtf8();
    s.resultsJson = q.value(4).toString().toUtf8();
    s.job.createdAt = q.value(5).toDouble();
    s.job.modifiedAt = q.value(6).toDouble();
    s.job.etag = etagOf(seq, q.value(7).toLongLong());
    if (!q.value(8).isNull())
        s.job.generation = q.value(8).toLongLong();
    s.job.parent = q.value(9).toString();
    s.job.member = q.value(10).toString();
    if (!q.value(11).isNull())
        s.job.pruned = pruneInfoOf(q.value(11).toString());
    if (!q.value(12).isNull())
        s.job.lostAt = q.value(12).toDouble();
    s.job.replacedBy = q.value(13).toString();
    s.job.replaces = q.value(14).toString();
    if (!q.value(15).isNull())
        s.job.gridIndex = q.value(15).toLongLong();
    return s;
}

std::optional<StoredJob> SqlStore::loadJob(qint64 seq, const QString &experimentName)
{
    QSqlQuery &q = m_sql.prepared("SELECT " SCHEDY_JOB_COLUMNS " FROM jobs WHERE seq = ?");
    q.addBindValue(seq);
    if (!m_sql.exec(q) || !q.next()) {
        q.finish();
        return std::nullopt;
    }
    StoredJob s = jobFromQuery(q, experimentName);
    q.finish();
    return s;
}

bool SqlStore::jobIdExists(qint64 experimentId, const QString &id)
{
    QSqlQuery &q = m_sql.prepared("SELECT 1 FROM jobs WHERE experiment_id = ? AND job_id = ?");
    q.addBindValue(experimentId);
    q.addBindValue(id);
    const bool exists = m_sql.exec(q) && q.next();
    q.finish();
    return exists;
}

QString SqlStore::newJobId(qint64 experimentId, Sampler *sampler)
{
    // Six URL- and file-name-safe characters. The first is a letter that cannot
    // start a number Python's float() accepts (not e, i, n), so that tools that
    // sniff numbers (tabulate in the original CLI) leave ids alone.
    static const char first[] = "ABCDFGHJKLMOPQRSTUVWXYZabcdfghjklmopqrstuvwxyz";
    static const char rest[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    Sampler local;
    Sampler &rng = sampler ? *sampler : local;
    for (;;) {
        QString id;
        id += QLatin1Char(first[rng.index(qsizetype(sizeof(first) - 1))]);
        for (int i = 0; i < 5; ++i)
            id += QLatin1Char(rest[rng.index(qsizetype(sizeof(rest) - 1))]);
        // PostgreSQL: a collision (one in 10^10 with a thousand jobs) is a unique violation,
        // and the transaction runs again with another id; a round trip less per new job.
        if (m_sql.isPostgres() || !jobIdExists(experimentId, id))
            return id;
    }
}

qint64 SqlStore::insertJob(qint64 experimentId, const QString &id, JobStatus status, const QByteArray &hp,
                           const QByteArray &results, std::optional<qint64> generation, const QString &parent,
                           const QString &member, const QString &predecessor, double lease,
                           std::optional<qint64> gridIndex, std::optional<qint64> sobolIndex)
{
    const double t = m_sql.now();
    QSqlQuery &q = m_sql.prepared(
        "INSERT INTO jobs (experiment_id, job_id, status, hyperparameters, results, created_at, modified_at, "
        "version, generation, parent, member, predecessor, ready_at, lease_until, grid_index, sobol_index) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq");
    q.addBindValue(experimentId);
    q.addBindValue(id);
    q.addBindValue(sqlcode::of(status));
    q.addBindValue(QString::fromUtf8(hp));
    q.addBindValue(QString::fromUtf8(results));
    q.addBindValue(t);
    q.addBindValue(t);
    q.addBindValue(generation ? QVariant(*generation) : QVariant(QMetaType::fromType<qlonglong>()));
    q.addBindValue(parent.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(parent));
    q.addBindValue(member.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(member));
    q.addBindValue(predecessor.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(predecessor));
    q.addBindValue(status == JobStatus::Done ? QVariant(t) : QVariant(QMetaType::fromType<double>()));
    q.addBindValue(lease);
    q.addBindValue(gridIndex ? QVariant(*gridIndex) : QVariant(QMetaType::fromType<qlonglong>()));
    q.addBindValue(sobolIndex ? QVariant(*sobolIndex) : QVariant(QMetaType::fromType<qlonglong>()));
    if (!m_sql.exec(q) || !q.next()) {
        q.finish();
        return 0;
    }
    const qint64 seq = q.value(0).toLongLong();
    q.finish();
    return seq;
}

StoreResult<StoredJob> SqlStore::job(qint64 user, const QString &experiment, const QString &id)
{
    SqlConnection::Transaction tx(m_sql, false);
    if (!tx.ok())
        return m_sql.failure<StoredJob>();
    auto row = findExperiment(user, experiment, false);
    if (!row)
        return noExperiment<StoredJob>(m_sql, experiment);
    QSqlQuery &q =
        m_sql.prepared("SELECT " SCHEDY_JOB_COLUMNS " FROM jobs WHERE experiment_id = ? AND job_id = ?");
    q.addBindValue(row->id);
    q.addBindValue(id);
    if (!m_sql.exec(q))
        return m_sql.failure<StoredJob>();
    if (!q.next()) {
        q.finish();
        return StoreResult<StoredJob>::fail(
            StoreStatus::NotFound, QStringLiteral("no job '%1' in experiment '%2'").arg(id, experiment));
    }
    StoreResult<StoredJob> r;
    r.value = jobFromQuery(q, row->name);
    q.finish();
    if (!tx.commit())
        return m_sql.failure<StoredJob>();
    return r;
}

StoreResult<StoredJob> SqlStore::createJob(qint64 user, const QString &experiment, const JobWrite &w)
{
    return m_sql.retrying([&] { return createJobOnce(user, experiment, w); });
}

StoreResult<StoredJob> SqlStore::createJobOnce(qint64 user, const QString &experiment, const JobWrite &w)
{
    SqlConnection::Transaction tx(m_sql);
    if (!tx.ok())
        return m_sql.failure<StoredJob>();
    auto row = findExperimentToSchedule(user, experiment);
    if (!row)
        return noExperiment<StoredJob>(m_sql, experiment);
    const QString id = newJobId(row->id, nullptr);
    const bool pbt = row->scheduler.kind == Scheduler::Kind::Pbt;
    const qint64 seq =
        insertJob(row->id, id, w.status, json::write(w.hyperparameters), json::write(w.results),
                  pbt ? std::optional<qint64>(0) : std::nullopt, {}, pbt ? id : QString(), {}, 0);
    if (!seq)
        return m_sql.failure<StoredJob>();
    JobBefore before;
    before.seq = seq;
    if (!startLease(seq, w.status) || !recordPruneValues(*row, before, w.status, planPrune(*row, before, w)))
        return m_sql.failure<StoredJob>();
    auto stored = loadJob(seq, row->name);
    if (!stored || !tx.commit())
        return m_sql.failure<StoredJob>();
    StoreResult<StoredJob> r;
    r.status = StoreStatus::Created;
    r.value = *stored;
    return r;
}

StoreResult<StoredJob> SqlStore::putJob(qint64 user, const QString &experiment, const QString &id,
                                        const JobWrite &w, Condition c, const QByteArray &etag)
{
    return m_sql.retrying([&] { return putJobOnce(user, experiment, id, w, c, etag); });
}

StoreResult<StoredJob> SqlStore::putJobOnce(qint64 user, const QString &experiment, const QString &id,
                                            const JobWrite &w, Condition c, const QByteArray &etag)
{
    SqlConnection::Transaction tx(m_sql);
    if (!tx.ok())
        return m_sql.failure<StoredJob>();
    // A job leaving QUEUED/RUNNING may finish a PBT population (rule 7), and any change
    // to a PBT job may change what nextJob decides: the experiment is locked for PBT.
    const bool terminal = w.status != JobStatus::Queued && w.status != JobStatus::Running;
    auto row = findExperimentToSchedule(user, experiment);
    if (!row)
        return noExperiment<StoredJob>(m_sql, experiment);
    const bool pg = m_sql.isPostgres();
    // On PostgreSQL the job row is locked before its ETag is compared: of two processes
    // claiming one job, the second waits, then reads the first one's version (READ
    // COMMITTED re-reads a locked row) and fails the If-Match.
    QSqlQuery &q = pg ? m_sql.prepared("SELECT seq, version, status, results, pruned, lost_at, replaced_by "
                                       "FROM jobs WHERE experiment_id = ? AND job_id = ? FOR UPDATE")
                      : m_sql.prepared("SELECT seq, version, status, results, pruned, lost_at, replaced_by "
                                       "FROM jobs WHERE experiment_id = ? AND job_id = ?");
    q.addBindValue(row->id);
    q.addBindValue(id);
    if (!m_sql.exec(q))
        return m_sql.failure<StoredJob>();
    const bool exists = q.next();
    JobBefore before;
    if (exists) {
        before.seq = q.value(0).toLongLong();
        before.version = q.value(1).toLongLong();
        before.status = jobStatusFromCode(q.value(2).toInt());
        before.resultsJson = q.value(3).toString().toUtf8();
        before.pruned = q.value(4).toString();
        before.lost = !q.value(5).isNull();
        before.replacedBy = q.value(6).toString();
    }
    const qint64 seq = before.seq;
    const qint64 version = before.version;
    q.finish();

    // A precondition that fails because this very write was applied before (its answer
    // was lost) is answered as that write was, with the stored job and its ETag.
    auto repeated = [&]() -> std::optional<StoreResult<StoredJob>> {
        auto same = repeatedJobWrite(before, w, c, etag, row->name);
        if (!same && !m_sql.statementFailed())
            return std::nullopt;
        if (!same || !tx.commit())
            return m_sql.failure<StoredJob>();
        StoreResult<StoredJob> done;
        done.value = *same;
        return done;
    };
    if (c == Condition::IfNoneMatchAny && exists) {
        return StoreResult<StoredJob>::fail(StoreStatus::PreconditionFailed,
                                            QStringLiteral("job '%1' already exists").arg(id));
    }
    if (c == Condition::IfMatch) {
        if (!exists) {
            return StoreResult<StoredJob>::fail(StoreStatus::PreconditionFailed,
                                                QStringLiteral("job '%1' does not exist").arg(id));
        }
        if (etag != "*" && !constantTimeEquals(etag, etagOf(seq, version))) {
            if (auto done = repeated())
                return *done;
            const QString stopped = stoppedMessage(id, before, *row);
            return StoreResult<StoredJob>::fail(
                StoreStatus::PreconditionFailed,
                stopped.isEmpty()
                    ? QStringLiteral("job '%1' was changed by someone else (ETag mismatch)").arg(id)
                    : stopped);
        }
    }

    StoreResult<StoredJob> r;
    qint64 resultSeq = seq;
    std::optional<StoredJob> updated;
    JobStatus storedStatus = w.status;
    if (exists) {
        const double t = m_sql.now();
        const PrunePlan plan = planPrune(*row, before, w);
        if (plan.failed)
            return m_sql.failure<StoredJob>();
        // Stopped by the pruner: the report is kept as one version and the stop is the
        // next, so the ETag answered (the report's) no longer matches (section 8.2).
        if (!plan.verdict.isEmpty())
            storedStatus = JobStatus::Pruned;
        // ready_at (the PBT queue order): set when the job becomes DONE, kept while it stays
        // DONE, cleared otherwise. alive_at: the lease clock of the last write while RUNNING.
        // Why a job was pruned or lost is kept while it stays PRUNED or CRASHED.
        // RETURNING saves reading the job back.
        QSqlQuery &u =
            m_sql.prepared("UPDATE jobs SET status = ?, hyperparameters = ?, results = ?, modified_at = ?, "
                           "version = version + ?, lease_until = 0, ready_at = CASE WHEN ? <> ? THEN NULL "
                           "WHEN status = ? THEN COALESCE(ready_at, ?) ELSE ? END, alive_at = ?, "
                           "pruned = CASE WHEN ? THEN ? WHEN ? = ? THEN pruned ELSE NULL END, "
                           "lost_at = CASE WHEN ? = ? THEN lost_at ELSE NULL END, "
                           "replaced_by = CASE WHEN ? = ? THEN replaced_by ELSE NULL END WHERE seq = ? "
                           "RETURNING " SCHEDY_JOB_COLUMNS);
        const int done = sqlcode::of(JobStatus::Done);
        const int pruned = sqlcode::of(JobStatus::Pruned);
        const int crashed = sqlcode::of(JobStatus::Crashed);
        const int code = sqlcode::of(storedStatus);
        u.addBindValue(code);
        u.addBindValue(QString::fromUtf8(json::write(w.hyperparameters)));
        u.addBindValue(QString::fromUtf8(json::write(w.results)));
        u.addBindValue(t);
        u.addBindValue(plan.verdict.isEmpty() ? 1 : 2);
        u.addBindValue(code);
        u.addBindValue(done);
        u.addBindValue(done);
        u.addBindValue(t);
        u.addBindValue(t);
        u.addBindValue(storedStatus == JobStatus::Running ? QVariant(leaseNow())
                                                          : QVariant(QMetaType::fromType<double>()));
        u.addBindValue(!plan.verdict.isEmpty());
        u.addBindValue(plan.verdict.isEmpty() ? QVariant(QMetaType::fromType<QString>())
                                              : QVariant(plan.verdict));
        u.addBindValue(code);
        u.addBindValue(pruned);
        u.addBindValue(code);
        u.addBindValue(crashed);
        u.addBindValue(code);
        u.addBindValue(crashed);
        u.addBindValue(seq);
        if (!m_sql.exec(u) || !u.next()) {
            u.finish();
            return m_sql.failure<StoredJob>();
        }
        updated = jobFromQuery(u, row->name);
        u.finish();
        if (!plan.verdict.isEmpty())
            updated->job.etag = etagOf(seq, version + 1);
        if (!recordPruneValues(*row, before, storedStatus, plan))
            return m_sql.failure<StoredJob>();
        r.status = StoreStatus::Ok;
    } else {
        const bool pbt = row->scheduler.kind == Scheduler::Kind::Pbt;
        resultSeq = insertJob(row->id, id, w.status, json::write(w.hyperparameters), json::write(w.results),
                              pbt ? std::optional<qint64>(0) : std::nullopt, {}, pbt ? id : QString(), {}, 0);
        if (!resultSeq)
            return m_sql.failure<StoredJob>();
        before.seq = resultSeq;
        if (!startLease(resultSeq, w.status) ||
            !recordPruneValues(*row, before, w.status, planPrune(*row, before, w)))
            return m_sql.failure<StoredJob>();
        r.status = StoreStatus::Created;
    }
    // Rule 7 applies as soon as the last job of a PBT population is reported, so the
    // experiment shows DONE without waiting for a worker to ask again.
    if ((terminal || storedStatus != w.status) && !finishIfDone(*row))
        return m_sql.failure<StoredJob>();
    auto stored = updated ? updated : loadJob(resultSeq, row->name);
    if (!stored || !tx.commit())
        return m_sql.failure<StoredJob>();
    r.value = *stored;
    return r;
}

std::optional<StoredJob> SqlStore::repeatedJobWrite(const JobBefore &before, const JobWrite &w, Condition c,
                                                    const QByteArray &etag, const QString &experimentName)
{
    // A claim (a write to RUNNING) looks the same from every worker handed the job,
    // and the store keeps no trace of which write made a RUNNING version: a rival's
    // claim must fail, so a repeated claim or progress report does too. If-None-Match
    // stays "must not exist": the original client relies on its 412.
    if (w.status == JobStatus::Running || c != Condition::IfMatch)
        return std::nullopt;
    // The stored version must be the one the lost write made: the one right after
    // the version it was sent against.
    const auto sent = parseEtag(etag, false);
    if (!sent || sent->first != before.seq || before.version != sent->second + 1 || before.status != w.status)
        return std::nullopt;
    auto stored = loadJob(before.seq, experimentName);
    if (!stored || stored->hyperparametersJson != json::write(w.hyperparameters) ||
        stored->resultsJson != json::write(w.results))
        return std::nullopt;
    return stored;
}

StoreResult<bool> SqlStore::deleteJob(qint64 user, const QString &experiment, const QString &id)
{
    return m_sql.retrying([&] { return deleteJobOnce(user, experiment, id); });
}

StoreResult<bool> SqlStore::deleteJobOnce(qint64 user, const QString &experiment, const QString &id)
{
    SqlConnection::Transaction tx(m_sql);
    if (!tx.ok())
        return m_sql.failure<bool>();
    auto row = findExperiment(user, experiment, false);
    if (!row)
        return noExperiment<bool>(m_sql, experiment);
    QSqlQuery &q = m_sql.prepared("DELETE FROM jobs WHERE experiment_id = ? AND job_id = ?");
    q.addBindValue(row->id);
    q.addBindValue(id);
    if (!m_sql.exec(q))
        return m_sql.failure<bool>();
    const bool deleted = q.numRowsAffected() > 0;
    q.finish();
    if (!tx.commit())
        return m_sql.failure<bool>();
    StoreResult<bool> r;
    r.value = deleted;
    return r;
}

StoreResult<JobListing> SqlStore::listJobs(qint64 user, const QString &experiment, const JobQuery &query)
{
    const auto listing = JobListingSql::prepare(query, !m_sql.isPostgres());
    if (!listing) {
        return StoreResult<JobListing>::fail(
            StoreStatus::Invalid,
            QStringLiteral("start: invalid cursor, or one from a listing with another sort"));
    }
    SqlConnection::Transaction tx(m_sql, false);
    if (!tx.ok())
        return m_sql.failure<JobListing>();
    auto row = findExperiment(user, experiment, false);
    if (!row)
        return noExperiment<JobListing>(m_sql, experiment);
    auto run = [&](QSqlQuery &q, const std::pair<QString, QVariantList> &sql) {
        q.setForwardOnly(true);
        q.prepare(sql.first);
        for (const QVariant &b : sql.second)
            q.addBindValue(b);
        return m_sql.exec(q);
    };

    StoreResult<JobListing> r;
    if (query.wantTotal) {
        QSqlQuery c(m_sql.database());
        if (!run(c, listing->countSql(row->id)))
            return m_sql.failure<JobListing>();
        if (c.next())
            r.value.total = c.value(0).toLongLong();
    }
    QSqlQuery q(m_sql.database());
    if (!run(q, listing->pageSql(row->id)))
        return m_sql.failure<JobListing>();
    QList<qint64> seqs;
    while (q.next()) {
        seqs.append(q.value(0).toLongLong());
        r.value.items.append(jobFromQuery(q, row->name));
    }
    q.finish();
    if (r.value.items.size() > query.limit) {
        r.value.items.resize(query.limit);
        r.value.next = listing->nextCursor(r.value.items.last(), seqs[query.limit - 1]);
    }
    if (!tx.commit())
        return m_sql.failure<JobListing>();
    return r;
}

} // namespace schedy::server
