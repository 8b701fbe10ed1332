#pragma once

#include "JobTableModel.h"
#include "Types.h"

#include <QCborMap>
#include <QCborValue>
#include <QHash>
#include <QList>
#include <QPointF>
#include <QSet>
#include <QString>
#include <QStringList>

#include <cmath>
#include <limits>
#include <optional>

// The charts' data preparation, free of widgets so that tests and the bench
// call it directly: which jobs a chart shows, where, in which order. The
// widgets in this directory only draw what these functions return.
namespace schedy::charts {

using FieldKey = JobTableModel::ColumnKey;
using FieldSource = JobTableModel::ColumnSource;

inline FieldKey resultField(const QString &name)
{
    return {FieldSource::Result, name};
}
inline FieldKey hyperparameterField(const QString &name)
{
    return {FieldSource::Hyperparameter, name};
}

constexpr double NaN = std::numeric_limits<double>::quiet_NaN();

// Read-only access to the jobs a chart is built from: the dashboard's job
// table (ModelJobSource) or plain Job values (JobListSource, for tests).
class JobSource
{
public:
    virtual ~JobSource() = default;
    virtual int count() const = 0;
    virtual QString id(int index) const = 0;
    virtual JobStatus status(int index) const = 0;
    virtual double createdAt(int index) const = 0;
    virtual double modifiedAt(int index) const = 0;
    virtual qint64 generation(int index) const = 0; // -1: none
    virtual QString parent(int index) const = 0;
    virtual QString member(int index) const = 0;
    // A handle for value(), resolved once per chart; -1 when no job has it.
    virtual int field(const FieldKey &key) const = 0;
    virtual QCborValue value(int index, int field) const = 0;
    // Hyperparameters first, then results, in order of first appearance.
    virtual QList<FieldKey> fields() const = 0;
    virtual QCborMap hyperparameters(int index) const = 0;
    // The step at which the server's pruner stopped the job (section 8.2); 0 if it did not.
    virtual qint64 prunedAt(int index) const = 0;
};

class ModelJobSource final : public JobSource
{
public:
    explicit ModelJobSource(const JobTableModel *model)
        : m_model(model)
    {}
    int count() const override;
    QString id(int index) const override;
    JobStatus status(int index) const override;
    double createdAt(int index) const override;
    double modifiedAt(int index) const override;
    qint64 generation(int index) const override;
    QString parent(int index) const override;
    QString member(int index) const override;
    int field(const FieldKey &key) const override;
    QCborValue value(int index, int field) const override;
    QList<FieldKey> fields() const override;
    QCborMap hyperparameters(int index) const override;
    qint64 prunedAt(int index) const override;

private:
    const JobTableModel *m_model;
};

// A snapshot of the job table (JobTableModel::snapshot()): the same answers as
// ModelJobSource at the time it was taken, readable from any thread.
class SnapshotJobSource final : public JobSource
{
public:
    explicit SnapshotJobSource(JobTableModel::Snapshot snapshot)
        : m_snapshot(std::move(snapshot))
    {}
    int count() const override { return int(m_snapshot.rows.size()); }
    QString id(int index) const override { return m_snapshot.rows[index].id; }
    JobStatus status(int index) const override { return m_snapshot.rows[index].status; }
    double createdAt(int index) const override { return m_snapshot.rows[index].createdAt; }
    double modifiedAt(int index) const override { return m_snapshot.rows[index].modifiedAt; }
    qint64 generation(int index) const override { return m_snapshot.rows[index].generation; }
    QString parent(int index) const override { return m_snapshot.rows[index].parent; }
    QString member(int index) const override { return m_snapshot.rows[index].member; }
    // Handles are slots of JobRow::values; fixed columns are not charted.
    int field(const FieldKey &key) const override;
    QCborValue value(int index, int field) const override
    {
        return field < 0 ? QCborValue() : m_snapshot.rows[index].values.value(field);
    }
    QList<FieldKey> fields() const override;
    QCborMap hyperparameters(int index) const override;
    qint64 prunedAt(int index) const override
    {
        const auto &fate = m_snapshot.rows[index].fate;
        return fate && fate->pruned ? fate->pruned->step : 0;
    }

private:
    JobTableModel::Snapshot m_snapshot;
};

class JobListSource final : public JobSource
{
public:
    explicit JobListSource(QList<Job> jobs);
    int count() const override { return int(m_jobs.size()); }
    QString id(int index) const override { return m_jobs[index].id; }
    JobStatus status(int index) const override { return m_jobs[index].status; }
    double createdAt(int index) const override { return m_jobs[index].createdAt.value_or(0); }
    double modifiedAt(int index) const override { return m_jobs[index].modifiedAt.value_or(0); }
    qint64 generation(int index) const override { return m_jobs[index].generation.value_or(-1); }
    QString parent(int index) const override { return m_jobs[index].parent; }
    QString member(int index) const override { return m_jobs[index].member; }
    int field(const FieldKey &key) const override;
    QCborValue value(int index, int field) const override;
    QList<FieldKey> fields() const override { return m_fields; }
    QCborMap hyperparameters(int index) const override { return m_jobs[index].hyperparameters; }
    qint64 prunedAt(int index) const override
    {
        return m_jobs[index].pruned ? m_jobs[index].pruned->step : 0;
    }

private:
    QList<Job> m_jobs;
    QList<FieldKey> m_fields;
};

// --- Values -----------------------------------------------------------------

// A finite number (integers included); nothing for text, lists, NaN, ∞.
std::optional<double> scalar(const QCborValue &value);
// A result as a number: scalars, or a curve's last point (as the job table shows it).
std::optional<double> resultNumber(const QCborValue &value);
// The points of a list-valued result: x is the step (1-based position in the
// list), non-numeric and non-finite entries are skipped. Empty unless at
// least one point is numeric.
QList<QPointF> curvePoints(const QCborValue &value);

// "loss", "error", "mse", "time", ... are minimised; everything else maximised.
Objective guessObjective(const QString &resultName);
// The PBT objective for its quality result, the pruner's direction for its
// curve, else guessObjective().
Objective objectiveFor(const Experiment &experiment, const QString &resultName);
inline bool isBetter(double a, double b, Objective o)
{
    return o == Objective::Minimize ? a < b : a > b;
}

// --- Axes -------------------------------------------------------------------

enum class AxisKind { Linear, Log, Category };

// What the experiment says about a hyperparameter's axis.
struct AxisHint
{
    AxisKind kind = AxisKind::Linear;
    bool fromExperiment = false;  // false: decided by the values alone
    QList<QCborValue> categories; // choice values, in the experiment's order
    double low = NaN;             // uniform, loguniform: the distribution's bounds
    double high = NaN;
};
AxisHint axisHint(const Experiment &experiment, const QString &hyperparameter);
// Hyperparameter names the experiment defines (distributions, PBT init and explore).
QStringList experimentHyperparameters(const Experiment &experiment);

// An axis resolved against the values: log needs every value > 0 (else
// linear), categories get the values not foreseen by the experiment appended,
// text or mixed values make it a category axis.
struct AxisSpec
{
    AxisKind kind = AxisKind::Linear;
    QStringList labels;                // Category
    QList<QCborValue> categories;      // Category, same order as labels
    QHash<QString, int> categoryIndex; // by format::exact() of the value
    double min = NaN;                  // of the positions (Linear/Log: the values)
    double max = NaN;

    // Linear/Log: the number; Category: the category's index; else nothing.
    std::optional<double> position(const QCborValue &value) const;
    int categoryOf(const QCborValue &value) const;
    bool isValid() const { return !std::isnan(min); }
};
AxisSpec resolveAxis(const JobSource &source, int field, const AxisHint &hint);

// [0, 1] along an axis: log axes by the logarithm, categories evenly spread,
// an axis with one value at 0.5.
double normalise(double position, const AxisSpec &axis);

// Deterministic spread of points on a category, in [-0.3, 0.3]: the same job
// stays in the same place across updates.
double jitter(const QString &id);

// Round tick values covering [lo, hi] (about `count` of them).
QList<double> niceTicks(double lo, double hi, int count = 5);

// --- Charts -----------------------------------------------------------------

// Optimization history: DONE jobs with a numeric result, in order of
// completion (modification time, then creation, then id); x is the 1-based
// rank. `best` is the best-so-far line as steps.
struct HistoryData
{
    QList<QPointF> points;
    QStringList ids;
    QList<QPointF> best;
    QString bestId;
    int skipped = 0; // DONE jobs whose result is missing or not a number
};
HistoryData history(const JobSource &source, const FieldKey &result, Objective objective);

// Result against hyperparameter: every job with a numeric result and a
// hyperparameter value that fits the axis; category positions are jittered.
struct ScatterData
{
    AxisSpec xAxis;
    QList<QPointF> points;
    QStringList ids;
    QList<JobStatus> statuses;
    int skipped = 0;
};
ScatterData scatter(const JobSource &source, const FieldKey &hyperparameter, const FieldKey &result,
                    const AxisHint &hint);

// Parallel coordinates: DONE jobs with a numeric result; one axis per
// hyperparameter, the result last; positions normalised to [0, 1] (NaN where
// a job lacks the hyperparameter).
struct ParallelAxis
{
    QString name;
    bool isResult = false;
    AxisSpec spec;
};
struct ParallelData
{
    QList<ParallelAxis> axes;
    QList<float> positions; // line-major: lineCount() x axes.size()
    QStringList ids;
    QList<double> results;
    double resultMin = NaN;
    double resultMax = NaN;
    int skipped = 0;
    int lineCount() const { return int(ids.size()); }
    float at(int line, int axis) const { return positions[line * axes.size() + axis]; }
};
ParallelData parallelCoordinates(const JobSource &source, const QList<FieldKey> &hyperparameters,
                                 const QList<AxisHint> &hints, const FieldKey &result);

// Result curves: jobs whose result is a list with numbers, ranked by their
// best point. Shown: the best `bestN` plus the `selected` ones, or only the
// selected ones. A pruned job's curve ends at the step where it was stopped.
struct Curve
{
    QString id;
    QList<QPointF> points;
    double best = NaN;
    JobStatus status = JobStatus::Done;
    int rank = 0; // 0 is the best
    bool selected = false;
    qint64 prunedAt = 0; // the step where the pruner stopped it (its last point); 0: not pruned
};
// One ASHA rung as the jobs' curves show it: at step minSteps·η^k, the value a
// job reaching it now must match or beat to continue (the (n/η)-th best of
// the n values there, at least the best: Optuna's SuccessiveHalvingPruner).
struct RungMark
{
    qint64 step = 0;
    double threshold = NaN;
    int values = 0; // curves that reached the rung
};
// The rungs of an ASHA pruner up to the longest curve, from the curves alone
// (pruned ones cut at their step); rungs no curve reached are left out.
QList<RungMark> ashaRungs(const PrunerSpec &pruner, const QList<Curve> &curves);

struct CurveData
{
    QList<Curve> curves;   // in rank order
    QList<RungMark> rungs; // ASHA on the charted result: its rungs (over all candidates)
    int candidates = 0;    // jobs with a curve
    double xMax = 0;
    double yMin = NaN;
    double yMax = NaN;
    qsizetype pointCount() const;
};
// `pruner`: the experiment's, for its rungs when it is ASHA on `result`.
CurveData curves(const JobSource &source, const FieldKey &result, Objective objective, int bestN,
                 const QSet<QString> &selected, bool onlySelected,
                 const std::optional<PrunerSpec> &pruner = std::nullopt);

// PBT lineage from the generation/member/parent keys. A job without `member`
// takes the one of its generation-0 ancestor. An exploit step is a child whose
// parent belongs to another member.
struct LineageNode
{
    QString id;
    QString member;
    QString parent;
    qint64 generation = 0;
    double quality = NaN;
    JobStatus status = JobStatus::Done;
    int parentNode = -1; // -1: generation 0, or parent not loaded
    int memberIndex = -1;
    bool exploit = false;
};
struct LineageGraph
{
    QList<LineageNode> nodes;
    QStringList members;           // best latest quality first
    QList<QList<int>> memberNodes; // per member: nodes by generation
    qint64 maxGeneration = -1;
    double qualityMin = NaN;
    double qualityMax = NaN;
    int exploitCount = 0;
    QHash<QString, int> nodeOfId;

    int nodeOf(const QString &id) const { return nodeOfId.value(id, -1); }
    // The node and its ancestors, through parents, up to generation 0.
    QList<int> ancestry(int node) const;
    int edgeCount() const;
};
LineageGraph lineage(const JobSource &source, const FieldKey &quality, Objective objective);

// --- One chart's preparation ------------------------------------------------

// Everything a chart's data depends on besides the jobs, as plain values: the
// panel fills it on the UI thread, prepareChart() may run on any thread.
enum class ChartKind { History, Scatter, Parallel, Curves, Lineage };
struct ChartRequest
{
    ChartKind kind = ChartKind::History;
    QString result;
    Objective objective = Objective::Minimize;
    QString hyperparameter; // scatter
    AxisHint hint;          // scatter
    QList<FieldKey> fields; // parallel: the hyperparameter axes
    QList<AxisHint> hints;  // parallel, same order
    int bestCount = 10;     // curves
    QSet<QString> selected; // curves
    bool selectedOnly = false;
    std::optional<PrunerSpec> pruner; // curves: the experiment's, for ASHA's rungs
};
// The prepared data of request.kind (the other members stay empty).
struct PreparedChart
{
    ChartRequest request;
    HistoryData history;
    ScatterData scatter;
    ParallelData parallel;
    CurveData curves;
    LineageGraph lineage;
    qint64 prepareMs = 0;
};
PreparedChart prepareChart(const JobSource &source, const ChartRequest &request);

} // namespace schedy::charts
