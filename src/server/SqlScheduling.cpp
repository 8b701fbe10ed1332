// The store side of scheduling: reads the observations the scheduling layer
// (scheduling/NextJob.h) asks for, inside the transaction that then applies
// its decision; the QUEUED jobs handed out first, and their short reservation.

#include "SqlStore.h"

#include "Json.h"
#include "Sampler.h"
#include "SqlCodes.h"
#include "SqlStoreRows.h"

#include <QVariant>

namespace schedy::server {

std::optional<qint64> SqlStore::oldestQueued(qint64 experimentId, bool respectLeases)
{
    static_assert(sqlcode::Queued == 0, "the SQL below writes it literally");
    auto run = [&](QSqlQuery &q, qint64 key) -> std::optional<qint64> {
        q.addBindValue(key);
        if (respectLeases)
            q.addBindValue(m_sql.lastNow());
        std::optional<qint64> seq;
        if (m_sql.exec(q) && q.next())
            seq = q.value(0).toLongLong();
        q.finish();
        return seq;
    };
    if (!m_sql.isPostgres()) {
        return run(respectLeases
                       ? m_sql.prepared("SELECT seq FROM jobs WHERE experiment_id = ? AND status = 0 AND "
                                        "lease_until <= ? ORDER BY seq LIMIT 1")
                       : m_sql.prepared("SELECT seq FROM jobs WHERE experiment_id = ? AND status = 0 "
                                        "ORDER BY seq LIMIT 1"),
                   experimentId);
    }
    // PostgreSQL: the job handed out is locked until the hand-out commits. Without
    // that, a claim committing between this read and the hand-out would make it
    // hand out a RUNNING job with its new ETag, which a second worker could claim.
    // Jobs a claim holds right now are skipped; when only such jobs are left, the
    // oldest is waited for, and taken if it is still QUEUED once the claim is over.
    for (int attempt = 0; attempt < 4; ++attempt) {
        // One round trip: the oldest free job (locked), and the oldest at all.
        QSqlQuery &q =
            respectLeases
                ? m_sql.prepared(
                      "WITH free AS (SELECT seq FROM jobs WHERE experiment_id = ? AND status = 0 AND "
                      "lease_until <= ? "
                      "ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED) "
                      "SELECT (SELECT seq FROM free), (SELECT seq FROM jobs WHERE experiment_id = ? AND "
                      "status = 0 "
                      "AND lease_until <= ? ORDER BY seq LIMIT 1)")
                : m_sql.prepared(
                      "WITH free AS (SELECT seq FROM jobs WHERE experiment_id = ? AND status = 0 "
                      "ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED) "
                      "SELECT (SELECT seq FROM free), (SELECT seq FROM jobs WHERE experiment_id = ? AND "
                      "status = 0 "
                      "ORDER BY seq LIMIT 1)");
        for (int i = 0; i < 2; ++i) {
            q.addBindValue(experimentId);
            if (respectLeases)
                q.addBindValue(m_sql.lastNow());
        }
        std::optional<qint64> busy;
        if (m_sql.exec(q) && q.next()) {
            if (!q.isNull(0)) {
                const qint64 seq = q.value(0).toLongLong();
                q.finish();
                return seq;
            }
            if (!q.isNull(1))
                busy = q.value(1).toLongLong();
        }
        q.finish();
        if (!busy)
            return std::nullopt;
        if (auto seq =
                run(respectLeases
                        ? m_sql.prepared("SELECT seq FROM jobs WHERE seq = ? AND status = 0 AND "
                                         "lease_until <= ? FOR UPDATE")
                        : m_sql.prepared("SELECT seq FROM jobs WHERE seq = ? AND status = 0 FOR UPDATE"),
                    *busy))
            return seq;
    }
    return std::nullopt;
}

bool SqlStore::lease(qint64 seq)
{
    if (m_leaseSeconds <= 0)
        return true;
    QSqlQuery &q = m_sql.prepared("UPDATE jobs SET lease_until = ? WHERE seq = ?");
    q.addBindValue(m_sql.lastNow() + m_leaseSeconds);
    q.addBindValue(seq);
    const bool ok = m_sql.exec(q);
    q.finish();
    return ok;
}

std::optional<QList<PbtJob>> SqlStore::pbtPopulation(qint64 experimentId, const PbtSettings &settings)
{
    QList<PbtJob> population;
    QSqlQuery &q =
        m_sql.prepared("SELECT seq, job_id, status, generation, member, predecessor, ready_at, results "
                       "FROM jobs WHERE experiment_id = ?");
    q.addBindValue(experimentId);
    if (!m_sql.exec(q))
        return std::nullopt;
    while (q.next()) {
        PbtJob j;
        j.seq = q.value(0).toLongLong();
        j.id = q.value(1).toString();
        j.status = jobStatusFromCode(q.value(2).toInt());
        j.generation = q.value(3).toLongLong();
        j.member = q.value(4).toString();
        j.predecessor = q.value(5).toString();
        j.readyAt = q.value(6).toDouble();
        if (j.status == JobStatus::Done)
            j.quality =
                qualityOf(json::parse(q.value(7).toString().toUtf8()).toMap(), settings.qualityResultName);
        population.append(j);
    }
    q.finish();
    return population;
}

std::optional<NextJobObservations> SqlStore::observe(const ExperimentRow &row, const NextJobNeeds &needs)
{
    NextJobObservations o;
    if (needs.population) {
        auto population = pbtPopulation(row.id, row.scheduler.pbt);
        if (!population)
            return std::nullopt;
        o.population = std::move(*population);
    }
    if (needs.gridJobs) {
        QSqlQuery &q = m_sql.prepared(
            "SELECT grid_index, status FROM jobs WHERE experiment_id = ? AND grid_index IS NOT NULL");
        q.addBindValue(row.id);
        if (!m_sql.exec(q))
            return std::nullopt;
        while (q.next())
            o.gridJobs.append({q.value(0).toLongLong(), jobStatusFromCode(q.value(1).toInt())});
        q.finish();
    }
    if (needs.sobolNext) {
        QSqlQuery &q = m_sql.prepared("SELECT MAX(sobol_index) FROM jobs WHERE experiment_id = ?");
        q.addBindValue(row.id);
        if (!m_sql.exec(q))
            return std::nullopt;
        if (q.next() && !q.value(0).isNull())
            o.sobolNext = q.value(0).toLongLong() + 1;
        q.finish();
    }
    if (needs.tpe) {
        auto history = tpeHistory(row);
        if (!history)
            return std::nullopt;
        o.tpe = std::move(*history);
    }
    return o;
}

std::optional<QList<TpeObservation>> SqlStore::tpeHistory(const ExperimentRow &row)
{
    // Every job but CRASHED ones, oldest first (Optuna's weights favour recent ones).
    // Parsing thousands of documents per decision would cost more than TPE itself: the
    // observations are kept per job version, and only new or changed jobs are read.
    static_assert(sqlcode::Crashed == 2, "the SQL below writes it literally");
    const QString result = row.sampler->result;
    TpeCache &cache = m_tpeCache[row.id];
    if (cache.result != result) {
        cache.byRow.clear();
        cache.result = result;
    }
    QSqlQuery &q = m_sql.prepared(
        "SELECT seq, version, status FROM jobs WHERE experiment_id = ? AND status <> 2 ORDER BY seq");
    q.addBindValue(row.id);
    if (!m_sql.exec(q))
        return std::nullopt;
    struct Row
    {
        qint64 seq, version;
        JobStatus status;
    };
    std::vector<Row> rows;
    while (q.next())
        rows.push_back(
            {q.value(0).toLongLong(), q.value(1).toLongLong(), jobStatusFromCode(q.value(2).toInt())});
    q.finish();
    QHash<qint64, CachedObservation> kept;
    kept.reserve(qsizetype(rows.size()));
    QList<TpeObservation> history;
    history.reserve(qsizetype(rows.size()));
    for (const Row &r : rows) {
        auto it = cache.byRow.constFind(r.seq);
        if (it == cache.byRow.constEnd() || it->version != r.version) {
            QSqlQuery &doc = m_sql.prepared("SELECT hyperparameters, results FROM jobs WHERE seq = ?");
            doc.addBindValue(r.seq);
            if (!m_sql.exec(doc) || !doc.next()) {
                doc.finish();
                return std::nullopt;
            }
            const CachedObservation fresh{
                r.version, tpeObservation(r.status, json::parse(doc.value(0).toString().toUtf8()).toMap(),
                                          json::parse(doc.value(1).toString().toUtf8()).toMap(), result)};
            doc.finish();
            it = kept.insert(r.seq, fresh);
        } else {
            it = kept.insert(r.seq, *it);
        }
        history.append(it->observation);
        history.last().status = r.status;
    }
    cache.byRow = std::move(kept);
    return history;
}

bool SqlStore::markExperimentDone(qint64 experimentId, double t)
{
    static_assert(sqlcode::ExperimentDone == 1, "the SQL below writes it literally");
    QSqlQuery &u = m_sql.prepared(
        "UPDATE experiments SET status = 1, modified_at = ?, version = version + 1 WHERE id = ?");
    u.addBindValue(t);
    u.addBindValue(experimentId);
    const bool ok = m_sql.exec(u);
    u.finish();
    return ok;
}

bool SqlStore::finishIfDone(const ExperimentRow &row)
{
    const Experiment e = toExperiment(row, std::nullopt);
    if (!mayFinishWhenJobsEnd(e))
        return true;
    // Cheap first: a QUEUED or RUNNING job means it is not finished.
    const auto counts = countsOf(row.id);
    if (!counts)
        return false;
    if ((*counts)[JobStatus::Queued] > 0 || (*counts)[JobStatus::Running] > 0)
        return true;
    const auto observed = observe(row, nextJobNeeds(e));
    if (!observed)
        return false;
    return !finishedAfterJobEnded(e, *observed) || markExperimentDone(row.id, m_sql.now());
}

StoreResult<StoredJob> SqlStore::nextJob(qint64 user, const QString &experiment, Sampler &sampler)
{
    return m_sql.retrying([&] { return nextJobOnce(user, experiment, sampler); });
}

// The hand-out order of scheduling/NextJob.h.
StoreResult<StoredJob> SqlStore::nextJobOnce(qint64 user, const QString &experiment, Sampler &sampler)
{
    SqlConnection::Transaction tx(m_sql);
    if (!tx.ok())
        return m_sql.failure<StoredJob>();
    auto row = findExperimentToSchedule(user, experiment);
    if (!row)
        return noExperiment<StoredJob>(m_sql, experiment);
    StoreResult<StoredJob> r;
    if (row->status == ExperimentStatus::Done) {
        if (!tx.commit())
            return m_sql.failure<StoredJob>();
        return r; // nothing is handed out while paused or finished
    }
    const double t = m_sql.now();
    const double leaseUntil = m_leaseSeconds > 0 ? t + m_leaseSeconds : 0;
    // `leased`: inserted with lease_until already set, no second write needed.
    auto handOut = [&](qint64 seq, bool leased = false) -> StoreResult<StoredJob> {
        if (!leased && !lease(seq))
            return m_sql.failure<StoredJob>();
        auto stored = loadJob(seq, row->name);
        if (!stored || !tx.commit())
            return m_sql.failure<StoredJob>();
        r.value = *stored;
        return r;
    };

    // Replacements of lost jobs go first (section 8.3), then the oldest QUEUED job
    // nobody was just given.
    if (row->lease) {
        if (auto seq = queuedReplacement(row->id))
            return handOut(*seq);
    }
    if (auto seq = oldestQueued(row->id, true))
        return handOut(*seq);

    const Experiment e = toExperiment(*row, std::nullopt);
    const auto observed = observe(*row, nextJobNeeds(e));
    if (!observed)
        return m_sql.failure<StoredJob>();
    const NextJobDecision d = decideNextJob(e, *observed, sampler);
    switch (d.kind) {
    case NextJobDecision::Kind::Create: {
        const QString id = newJobId(row->id, &sampler);
        const qint64 seq =
            insertJob(row->id, id, JobStatus::Queued, json::write(d.hyperparameters), "{}", d.generation, {},
                      d.ownMember ? id : QString(), {}, leaseUntil, d.gridIndex, d.sobolIndex);
        if (!seq)
            return m_sql.failure<StoredJob>();
        return handOut(seq, true);
    }
    case NextJobDecision::Kind::Continue: {
        QSqlQuery &src = m_sql.prepared(
            "SELECT hyperparameters, results FROM jobs WHERE experiment_id = ? AND job_id = ?");
        src.addBindValue(row->id);
        src.addBindValue(d.pbt.source);
        if (!m_sql.exec(src) || !src.next()) {
            src.finish();
            return m_sql.failure<StoredJob>();
        }
        QByteArray hp = src.value(0).toString().toUtf8();
        const QByteArray results = src.value(1).toString().toUtf8();
        src.finish();
        if (d.pbt.source != d.pbt.picked)
            hp = json::write(continuedHyperparameters(e, d.pbt, json::parse(hp).toMap(), sampler));
        const QString id = newJobId(row->id, &sampler);
        const qint64 seq = insertJob(row->id, id, JobStatus::Queued, hp, results, d.pbt.generation,
                                     d.pbt.source, d.pbt.member, d.pbt.picked, leaseUntil);
        if (!seq)
            return m_sql.failure<StoredJob>();
        return handOut(seq, true);
    }
    case NextJobDecision::Kind::Finish:
        if (!markExperimentDone(row->id, t) || !tx.commit())
            return m_sql.failure<StoredJob>();
        return r;
    case NextJobDecision::Kind::Wait:
        break;
    }

    if (auto seq = oldestQueued(row->id, false))
        return handOut(*seq);
    // "No job for now" only when every lookup above worked.
    if (!tx.commit())
        return m_sql.failure<StoredJob>();
    return r;
}

} // namespace schedy::server
