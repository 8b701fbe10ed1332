// The store side of early stopping (docs/protocol.md section 8.2): the observations the
// pruning rules (scheduling/Pruner.h) compare a job with, read inside the
// transaction of the PUT that lengthened its curve, and their bookkeeping in
// prune_values, kept in step with the jobs in the same transactions.

#include "SqlStore.h"

#include "Json.h"
#include "Pruner.h"
#include "SqlCodes.h"
#include "SqlStoreRows.h"

#include <QVariant>

#include <cmath>

namespace schedy::server {
namespace {

using namespace scheduling;

// prune_values.kind
constexpr int DoneValues = 0; // a DONE job's curve, every step (median)
constexpr int RungValues = 1; // the value a job had at an ASHA rung, recorded when it got there

// Counts, medians and ranks from the index prune_values (experiment_id, kind, step, value).
class SqlObservations final : public PruneObservations
{
public:
    SqlObservations(SqlConnection &sql, qint64 experimentId, std::optional<qint64> done)
        : m_sql(sql)
        , m_experiment(experimentId)
        , m_done(done)
    {}

    std::optional<qint64> doneJobs() override { return m_done; }

    std::optional<double> doneMedianAt(qint64 step) override
    {
        const auto n = count("SELECT COUNT(*) FROM prune_values WHERE experiment_id = ? AND kind = 0 AND "
                             "step = ?",
                             step, std::nullopt);
        if (!n)
            return std::nullopt;
        if (*n == 0)
            return std::nan("");
        // The middle value, or the mean of the middle two.
        QSqlQuery &q = m_sql.prepared("SELECT value FROM prune_values WHERE experiment_id = ? AND kind = 0 "
                                      "AND step = ? ORDER BY value LIMIT ? OFFSET ?");
        q.addBindValue(m_experiment);
        q.addBindValue(step);
        q.addBindValue(*n % 2 ? 1 : 2);
        q.addBindValue((*n - 1) / 2);
        if (!m_sql.exec(q))
            return std::nullopt;
        double sum = 0;
        int values = 0;
        while (q.next()) {
            sum += q.value(0).toDouble();
            ++values;
        }
        q.finish();
        return values ? sum / values : std::nan("");
    }

    std::optional<RungStanding> rungStanding(qint64 rungStep, double value, bool maximize) override
    {
        const auto others = count("SELECT COUNT(*) FROM prune_values WHERE experiment_id = ? AND kind = 1 "
                                  "AND step = ?",
                                  rungStep, std::nullopt);
        const auto better =
            maximize ? count("SELECT COUNT(*) FROM prune_values WHERE experiment_id = ? AND kind = 1 AND "
                             "step = ? AND value > ?",
                             rungStep, value)
                     : count("SELECT COUNT(*) FROM prune_values WHERE experiment_id = ? AND kind = 1 AND "
                             "step = ? AND value < ?",
                             rungStep, value);
        if (!others || !better)
            return std::nullopt;
        return RungStanding{*others, *better};
    }

    std::optional<double> rungValue(qint64 rungStep, qint64 index, bool maximize) override
    {
        QSqlQuery &q = maximize ? m_sql.prepared("SELECT value FROM prune_values WHERE experiment_id = ? AND "
                                                 "kind = 1 AND step = ? ORDER BY value DESC LIMIT 1 OFFSET ?")
                                : m_sql.prepared("SELECT value FROM prune_values WHERE experiment_id = ? AND "
                                                 "kind = 1 AND step = ? ORDER BY value LIMIT 1 OFFSET ?");
        q.addBindValue(m_experiment);
        q.addBindValue(rungStep);
        q.addBindValue(index);
        if (!m_sql.exec(q))
            return std::nullopt;
        const double v = q.next() ? q.value(0).toDouble() : std::nan("");
        q.finish();
        return v;
    }

private:
    std::optional<qint64> count(const char *sql, qint64 step, std::optional<double> value)
    {
        QSqlQuery &q = m_sql.prepared(sql);
        q.addBindValue(m_experiment);
        q.addBindValue(step);
        if (value)
            q.addBindValue(*value);
        if (!m_sql.exec(q) || !q.next()) {
            q.finish();
            return std::nullopt;
        }
        const qint64 n = q.value(0).toLongLong();
        q.finish();
        return n;
    }

    SqlConnection &m_sql;
    qint64 m_experiment;
    std::optional<qint64> m_done;
};

// The stored verdict (the column jobs.pruned): the document's reason and the rest of
// what the 412 message says. Storage only; the wire form is the codec's.
QString verdictText(const PruneVerdict &v)
{
    QCborMap m{{QStringLiteral("rule"), toString(v.reason.rule)},
               {QStringLiteral("step"), v.reason.step},
               {QStringLiteral("rungStep"), v.rungStep},
               {QStringLiteral("compared"), v.compared}};
    if (v.reason.value)
        m.insert(QStringLiteral("value"), *v.reason.value);
    if (v.reason.threshold)
        m.insert(QStringLiteral("threshold"), *v.reason.threshold);
    return QString::fromUtf8(json::write(m));
}

std::optional<PruneVerdict> verdictOf(const QString &text)
{
    const QCborMap m = json::parse(text.toUtf8()).toMap();
    const auto rule = prunerKindFromString(m.value(QStringLiteral("rule")).toString());
    if (!rule)
        return std::nullopt;
    PruneVerdict v;
    v.reason.rule = *rule;
    v.reason.step = m.value(QStringLiteral("step")).toInteger();
    v.rungStep = m.value(QStringLiteral("rungStep")).toInteger();
    v.compared = m.value(QStringLiteral("compared")).toInteger();
    if (json::isNumber(m.value(QStringLiteral("value"))))
        v.reason.value = json::toDouble(m.value(QStringLiteral("value")));
    if (json::isNumber(m.value(QStringLiteral("threshold"))))
        v.reason.threshold = json::toDouble(m.value(QStringLiteral("threshold")));
    return v;
}

qint64 curveLength(const QByteArray &resultsJson, const QString &name)
{
    if (resultsJson.isEmpty())
        return 0;
    const auto c = curveOf(json::parse(resultsJson).toMap(), name);
    return c ? c->size() : 0;
}

// The finite values of a curve at ASHA's rungs after `previousLength`.
QList<RungRecord> rungRecords(const PrunerSpec &p, const QList<double> &curve, qint64 previousLength)
{
    QList<RungRecord> out;
    for (qint64 rung : rungSteps(p, curve.size())) {
        if (rung > previousLength && std::isfinite(curve[rung - 1]))
            out.append({rung, curve[rung - 1]});
    }
    return out;
}

} // namespace

std::optional<PruneInfo> SqlStore::pruneInfoOf(const QString &verdict)
{
    const auto v = verdictOf(verdict);
    return v ? std::optional<PruneInfo>(v->reason) : std::nullopt;
}

QString SqlStore::stoppedMessage(const QString &id, const JobBefore &before, const ExperimentRow &row) const
{
    if (before.status == JobStatus::Pruned && !before.pruned.isEmpty()) {
        if (const auto v = verdictOf(before.pruned))
            return QStringLiteral("job '%1' was %2; stop training it").arg(id, v->describe());
    }
    if (before.status == JobStatus::Crashed && before.lost) {
        const QString lease =
            row.lease ? QStringLiteral(" for more than %1 s").arg(row.lease->seconds) : QString();
        const QString replaced =
            before.replacedBy.isEmpty()
                ? QStringLiteral("it was not replaced (its retries are used up)")
                : QStringLiteral("job '%1' replaced it and runs its hyperparameters").arg(before.replacedBy);
        return QStringLiteral("job '%1' was lost (no claim, report or heartbeat%2) and marked CRASHED; %3")
            .arg(id, lease, replaced);
    }
    return {};
}

SqlStore::PrunePlan SqlStore::planPrune(const ExperimentRow &row, const JobBefore &before, const JobWrite &w)
{
    PrunePlan plan;
    if (!row.pruner)
        return plan;
    const PrunerSpec &p = *row.pruner;
    plan.curve = curveOf(w.results, p.result);
    if (!plan.curve)
        return plan;
    plan.previousLength = curveLength(before.resultsJson, p.result);
    if (plan.curve->size() <= plan.previousLength)
        return plan;
    const bool asha = p.kind == PrunerSpec::Kind::Asha;
    // A curve that was cut and grows again is recorded again at those rungs.
    if (asha && before.seq) {
        QSqlQuery &d = m_sql.prepared("DELETE FROM prune_values WHERE job_seq = ? AND kind = 1 AND step > ?");
        d.addBindValue(before.seq);
        d.addBindValue(plan.previousLength);
        if (!m_sql.exec(d)) {
            plan.failed = true;
            return plan;
        }
        d.finish();
    }
    // Only a report of a RUNNING job that keeps it RUNNING is judged: a final report
    // (DONE) finishes the job whatever its curve.
    if (before.status != JobStatus::Running || w.status != JobStatus::Running) {
        if (asha)
            plan.records = rungRecords(p, *plan.curve, plan.previousLength);
        return plan;
    }
    std::optional<qint64> done;
    if (p.kind == PrunerSpec::Kind::Median) {
        const auto counts = countsOf(row.id);
        if (!counts) {
            plan.failed = true;
            return plan;
        }
        done = (*counts)[JobStatus::Done];
    }
    SqlObservations observations(m_sql, row.id, done);
    const PruneOutcome out = evaluatePrune(p, *plan.curve, plan.previousLength, observations);
    plan.failed = out.failed;
    plan.records = out.records;
    if (out.pruned)
        plan.verdict = verdictText(*out.pruned);
    return plan;
}

bool SqlStore::recordPruneValues(const ExperimentRow &row, const JobBefore &before, JobStatus status,
                                 const PrunePlan &plan)
{
    if (!row.pruner)
        return true;
    if (row.pruner->kind == PrunerSpec::Kind::Asha) {
        QList<std::pair<qint64, double>> values;
        for (const RungRecord &r : plan.records)
            values.append({r.rungStep, r.value});
        return insertPruneValues(row.id, before.seq, RungValues, values);
    }
    // Median: the curves of DONE jobs, replaced whenever a DONE job is written.
    if (before.status != JobStatus::Done && status != JobStatus::Done)
        return true;
    QSqlQuery &d = m_sql.prepared("DELETE FROM prune_values WHERE job_seq = ? AND kind = 0");
    d.addBindValue(before.seq);
    if (!m_sql.exec(d))
        return false;
    d.finish();
    if (status != JobStatus::Done || !plan.curve)
        return true;
    QList<std::pair<qint64, double>> values;
    for (qint64 i = 0; i < plan.curve->size(); ++i) {
        if (std::isfinite(plan.curve->at(i)))
            values.append({i + 1, plan.curve->at(i)});
    }
    return insertPruneValues(row.id, before.seq, DoneValues, values);
}

bool SqlStore::insertPruneValues(qint64 experimentId, qint64 seq, int kind,
                                 const QList<std::pair<qint64, double>> &values)
{
    // Rows go in batches of 64, 32, ..., 1, each statement prepared once.
    static const auto statements = [] {
        std::vector<QByteArray> sql;
        for (int n = 1; n <= 64; n *= 2) {
            QByteArray s = "INSERT INTO prune_values (experiment_id, job_seq, kind, step, value) VALUES ";
            for (int i = 0; i < n; ++i)
                s += i ? ",(?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?)";
            sql.push_back(s);
        }
        return sql;
    }();
    qsizetype at = 0;
    while (at < values.size()) {
        int level = int(statements.size()) - 1;
        while ((qsizetype(1) << level) > values.size() - at)
            --level;
        const qsizetype n = qsizetype(1) << level;
        QSqlQuery &q = m_sql.prepared(statements[size_t(level)].constData());
        for (qsizetype i = at; i < at + n; ++i) {
            q.addBindValue(experimentId);
            q.addBindValue(seq);
            q.addBindValue(kind);
            q.addBindValue(values[i].first);
            q.addBindValue(values[i].second);
        }
        if (!m_sql.exec(q))
            return false;
        q.finish();
        at += n;
    }
    return true;
}

bool SqlStore::rebuildPruneValues(qint64 experimentId, const std::optional<PrunerSpec> &pruner)
{
    QSqlQuery &d = m_sql.prepared("DELETE FROM prune_values WHERE experiment_id = ?");
    d.addBindValue(experimentId);
    if (!m_sql.exec(d))
        return false;
    d.finish();
    if (!pruner)
        return true;
    const bool median = pruner->kind == PrunerSpec::Kind::Median;
    QSqlQuery &q = m_sql.prepared("SELECT seq, status, results FROM jobs WHERE experiment_id = ?");
    q.addBindValue(experimentId);
    if (!m_sql.exec(q))
        return false;
    QList<std::pair<qint64, QList<std::pair<qint64, double>>>> rows;
    while (q.next()) {
        if (median && jobStatusFromCode(q.value(1).toInt()) != JobStatus::Done)
            continue;
        const auto curve = curveOf(json::parse(q.value(2).toString().toUtf8()).toMap(), pruner->result);
        if (!curve)
            continue;
        QList<std::pair<qint64, double>> values;
        if (median) {
            for (qint64 i = 0; i < curve->size(); ++i) {
                if (std::isfinite(curve->at(i)))
                    values.append({i + 1, curve->at(i)});
            }
        } else {
            for (const RungRecord &r : rungRecords(*pruner, *curve, 0))
                values.append({r.rungStep, r.value});
        }
        rows.append({q.value(0).toLongLong(), values});
    }
    q.finish();
    for (const auto &[seq, values] : rows) {
        if (!insertPruneValues(experimentId, seq, median ? DoneValues : RungValues, values))
            return false;
    }
    return true;
}

} // namespace schedy::server
