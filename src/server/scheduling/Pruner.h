#pragma once

#include "Types.h"

#include <QCborMap>
#include <QList>
#include <QString>

#include <optional>

// Early stopping (docs/protocol.md section 8.2): Optuna's MedianPruner and
// SuccessiveHalvingPruner as pure functions. The store gathers the
// observations inside the transaction of the PUT that lengthened the curve and
// applies the outcome in that same transaction.
namespace schedy::server::scheduling {

// Why a job was stopped: the document's reason (step, rule, value, threshold)
// and what the 412 message tells besides.
struct PruneVerdict
{
    PruneInfo reason;    // step: the curve's length when it was stopped (prunedAt)
    qint64 rungStep = 0; // asha: the rung it failed; median: the step compared (= step)
    qint64 compared = 0; // how many other jobs' values it was compared with

    QString describe() const; // one line for people (412 messages, logs)
};

// A value recorded at an ASHA rung (the store keeps them, as Optuna keeps
// completed_rung_k in the trial's system attributes).
struct RungRecord
{
    qint64 rungStep = 0;
    double value = 0;
    friend bool operator==(const RungRecord &a, const RungRecord &b)
    {
        return a.rungStep == b.rungStep && a.value == b.value;
    }
};

// How one value stands among the values other jobs recorded at a rung.
struct RungStanding
{
    qint64 others = 0; // values recorded there by other jobs
    qint64 better = 0; // of those, strictly better than the value (by the direction)
};

// What a rule needs to know of the other jobs, read by the store inside the
// transaction (tests feed hand-made curves). nullopt: the read failed (a
// database error), and nothing may be decided.
class PruneObservations
{
public:
    virtual ~PruneObservations() = default;
    virtual std::optional<qint64> doneJobs() = 0;
    // Median of the finite values DONE jobs' curves have at `step` (1-based); NaN when none has one.
    virtual std::optional<double> doneMedianAt(qint64 step) = 0;
    virtual std::optional<RungStanding> rungStanding(qint64 rungStep, double value, bool maximize) = 0;
    // The `index`-th best (0-based) of the other jobs' values at the rung.
    virtual std::optional<double> rungValue(qint64 rungStep, qint64 index, bool maximize) = 0;
};

struct PruneOutcome
{
    bool failed = false; // an observation could not be read: apply nothing
    std::optional<PruneVerdict> pruned;
    QList<RungRecord> records; // asha: to record for this job, whether pruned or not
};

// The curve named by the settings: a list whose elements are numbers (null
// and NaN read as NaN). nullopt when the result is missing or not such a list.
std::optional<QList<double>> curveOf(const QCborMap &results, const QString &name);

// Looks at a RUNNING job whose curve grew from `previousLength` values to
// `curve`. Median (Optuna's MedianPruner, n_min_trials 1): step k of ours is
// Optuna's step k - 1, so pruning starts once the curve has more than
// warmupSteps values, and only when at least startupJobs (and one) jobs are
// DONE. ASHA (Optuna's SuccessiveHalvingPruner, bootstrap 0): every rung
// minSteps * eta^r that the curve reached in this write is judged in order,
// with the value at that rung.
PruneOutcome evaluatePrune(const PrunerSpec &settings, const QList<double> &curve, qint64 previousLength,
                           PruneObservations &observations);

// The rung steps minSteps * eta^r up to and including `length`.
QList<qint64> rungSteps(const PrunerSpec &settings, qint64 length);

// Median of the finite values (NaN ignored); NaN when there is none.
double medianOf(QList<double> values);

// The observations computed from plain curves: for tests, and the reference the
// store's SQL is checked against.
class CurveObservations final : public PruneObservations
{
public:
    QList<QList<double>> doneCurves;
    QList<RungRecord> rungRecords; // of the other jobs

    std::optional<qint64> doneJobs() override { return doneCurves.size(); }
    std::optional<double> doneMedianAt(qint64 step) override;
    std::optional<RungStanding> rungStanding(qint64 rungStep, double value, bool maximize) override;
    std::optional<double> rungValue(qint64 rungStep, qint64 index, bool maximize) override;
};

} // namespace schedy::server::scheduling
