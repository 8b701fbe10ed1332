#include "ChartData.h"

#include "ValueFormat.h"

#include <QCborArray>
#include <QElapsedTimer>
#include <QVarLengthArray>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace schedy::charts {

// --- Sources ------------------------------------------------------------------

int ModelJobSource::count() const
{
    return m_model->rowCount();
}
QString ModelJobSource::id(int index) const
{
    return m_model->rowAt(index).id;
}
JobStatus ModelJobSource::status(int index) const
{
    return m_model->rowAt(index).status;
}
double ModelJobSource::createdAt(int index) const
{
    return m_model->rowAt(index).createdAt;
}
double ModelJobSource::modifiedAt(int index) const
{
    return m_model->rowAt(index).modifiedAt;
}
qint64 ModelJobSource::generation(int index) const
{
    return m_model->rowAt(index).generation;
}
QString ModelJobSource::parent(int index) const
{
    return m_model->rowAt(index).parent;
}
QString ModelJobSource::member(int index) const
{
    return m_model->rowAt(index).member;
}
int ModelJobSource::field(const FieldKey &key) const
{
    return m_model->columnOf(key);
}

QCborValue ModelJobSource::value(int index, int field) const
{
    return field < 0 ? QCborValue() : m_model->value(index, field);
}

QList<FieldKey> ModelJobSource::fields() const
{
    QList<FieldKey> keys;
    for (const FieldKey &k : m_model->columnKeys()) {
        if (k.source != FieldSource::Fixed)
            keys.append(k);
    }
    return keys;
}

QCborMap ModelJobSource::hyperparameters(int index) const
{
    return m_model->job(index).hyperparameters;
}

qint64 ModelJobSource::prunedAt(int index) const
{
    const auto &fate = m_model->rowAt(index).fate;
    return fate && fate->pruned ? fate->pruned->step : 0;
}

int SnapshotJobSource::field(const FieldKey &key) const
{
    if (key.source == FieldSource::Fixed)
        return -1;
    return int(m_snapshot.slotKeys.indexOf(key));
}

QList<FieldKey> SnapshotJobSource::fields() const
{
    // In column order, as the model lists them.
    QList<FieldKey> keys;
    keys.reserve(m_snapshot.columnSlots.size());
    for (int slot : m_snapshot.columnSlots)
        keys.append(m_snapshot.slotKeys[slot]);
    return keys;
}

QCborMap SnapshotJobSource::hyperparameters(int index) const
{
    QCborMap map;
    const QList<QCborValue> &values = m_snapshot.rows[index].values;
    for (int slot = 0; slot < values.size(); ++slot) {
        const FieldKey &k = m_snapshot.slotKeys[slot];
        if (k.source == FieldSource::Hyperparameter && !values[slot].isUndefined())
            map.insert(k.name, values[slot]);
    }
    return map;
}

JobListSource::JobListSource(QList<Job> jobs)
    : m_jobs(std::move(jobs))
{
    QList<FieldKey> results;
    QSet<QString> seen;
    for (const Job &j : std::as_const(m_jobs)) {
        for (auto it = j.hyperparameters.begin(); it != j.hyperparameters.end(); ++it) {
            const FieldKey k = hyperparameterField(it.key().toString());
            if (!seen.contains(k.key())) {
                seen.insert(k.key());
                m_fields.append(k);
            }
        }
        for (auto it = j.results.begin(); it != j.results.end(); ++it) {
            const FieldKey k = resultField(it.key().toString());
            if (!seen.contains(k.key())) {
                seen.insert(k.key());
                results.append(k);
            }
        }
    }
    m_fields.append(results);
}

int JobListSource::field(const FieldKey &key) const
{
    return int(m_fields.indexOf(key));
}

QCborValue JobListSource::value(int index, int field) const
{
    if (field < 0 || field >= m_fields.size())
        return {};
    const FieldKey &k = m_fields[field];
    const Job &j = m_jobs[index];
    return (k.source == FieldSource::Hyperparameter ? j.hyperparameters : j.results).value(k.name);
}

// --- Values -------------------------------------------------------------------

std::optional<double> scalar(const QCborValue &value)
{
    if (value.isInteger())
        return double(value.toInteger());
    if (value.isDouble() && std::isfinite(value.toDouble()))
        return value.toDouble();
    return std::nullopt;
}

std::optional<double> resultNumber(const QCborValue &value)
{
    if (value.isArray()) {
        const QCborArray a = value.toArray();
        for (qsizetype i = a.size() - 1; i >= 0; --i) {
            if (auto d = scalar(a.at(i)))
                return d;
        }
        return std::nullopt;
    }
    return scalar(value);
}

QList<QPointF> curvePoints(const QCborValue &value)
{
    QList<QPointF> points;
    if (!value.isArray())
        return points;
    const QCborArray a = value.toArray();
    points.reserve(a.size());
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (auto d = scalar(a.at(i)))
            points.append(QPointF(double(i + 1), *d));
    }
    return points;
}

Objective guessObjective(const QString &resultName)
{
    const QString n = resultName.toLower();
    static const char *const maximised[] = {"acc",  "auc", "f1", "score",  "reward", "precision", "recall",
                                            "bleu", "iou", "r2", "return", "map",    "ndcg",      "quality"};
    for (const char *word : maximised) {
        if (n.contains(QLatin1String(word)))
            return Objective::Maximize;
    }
    return Objective::Minimize; // losses, errors, times: the common case
}

Objective objectiveFor(const Experiment &experiment, const QString &resultName)
{
    if (experiment.scheduler.kind == Scheduler::Kind::Pbt &&
        experiment.scheduler.pbt.qualityResultName == resultName)
        return experiment.scheduler.pbt.objective;
    if (experiment.pruner && experiment.pruner->result == resultName)
        return experiment.pruner->direction;
    return guessObjective(resultName);
}

// --- Axes -----------------------------------------------------------------------

namespace {

const Distribution *findDistribution(const Distributions &list, const QString &name)
{
    for (const NamedDistribution &d : list) {
        if (d.name == name)
            return &d.distribution;
    }
    return nullptr;
}

// Category identity: 1 and 1.0 are one category, "1" is another.
QString categoryKey(const QCborValue &value)
{
    if (auto d = scalar(value))
        return QString::number(*d, 'g', 17);
    if (value.isString())
        return QLatin1String("s:") + value.toString();
    return QLatin1String("j:") + format::exact(value);
}

bool isAbsent(const QCborValue &value)
{
    return value.isUndefined() || value.isNull();
}

// The last few distinct values of a field and what they came to: a search's
// category axes take a handful of values, and comparing a value is much
// cheaper than building its category key (a string per job and axis was most
// of the time of parallel coordinates for 100k jobs). A miss only costs the
// key; 1 and 1.0 differ here but still meet in the key.
template <typename T> class ValueMemo
{
public:
    const T *find(const QCborValue &value) const
    {
        for (const auto &e : m_entries) {
            if (same(e.first, value))
                return &e.second;
        }
        return nullptr;
    }
    void add(const QCborValue &value, const T &result)
    {
        if (m_entries.size() < 16)
            m_entries.append({value, result});
    }

private:
    // QCborValue's operator== is a generic ordering; numbers need less.
    static bool same(const QCborValue &a, const QCborValue &b)
    {
        if (a.type() != b.type())
            return false;
        if (a.isInteger())
            return a.toInteger() == b.toInteger();
        if (a.isDouble()) {
            const double x = a.toDouble(), y = b.toDouble();
            return std::memcmp(&x, &y, sizeof x) == 0; // -0 is not 0 (see categoryKey())
        }
        return a == b;
    }
    QVarLengthArray<std::pair<QCborValue, T>, 16> m_entries;
};

// AxisSpec::position() through a memo (for category axes).
std::optional<double> memoPosition(const AxisSpec &axis, const QCborValue &value,
                                   ValueMemo<std::optional<double>> &memo)
{
    if (axis.kind != AxisKind::Category)
        return axis.position(value);
    if (const auto *known = memo.find(value))
        return *known;
    const auto p = axis.position(value);
    memo.add(value, p);
    return p;
}

} // namespace

AxisHint axisHint(const Experiment &experiment, const QString &hyperparameter)
{
    AxisHint hint;
    const Scheduler &s = experiment.scheduler;
    const Distribution *d = nullptr;
    bool explored = false;
    if (s.kind == Scheduler::Kind::RandomSearch) {
        d = findDistribution(s.distributions, hyperparameter);
    } else if (s.kind == Scheduler::Kind::Pbt) {
        d = findDistribution(s.pbt.init, hyperparameter);
        explored = std::any_of(s.pbt.explore.begin(), s.pbt.explore.end(),
                               [&](const Perturb &p) { return p.name == hyperparameter; });
    }
    if (!d)
        return hint;
    hint.fromExperiment = true;
    switch (d->kind) {
    case Distribution::Kind::LogUniform:
        hint.kind = AxisKind::Log;
        hint.low = d->low;
        hint.high = d->high;
        break;
    case Distribution::Kind::Uniform:
        hint.low = d->low;
        hint.high = d->high;
        hint.kind = AxisKind::Linear;
        break;
    case Distribution::Kind::Normal:
        hint.kind = AxisKind::Linear;
        break;
    case Distribution::Kind::Choice: {
        const bool numeric = std::all_of(d->values.begin(), d->values.end(),
                                         [](const QCborValue &v) { return scalar(v).has_value(); });
        if (explored && numeric) {
            hint.kind = AxisKind::Linear; // perturbed values leave the choices
        } else {
            hint.kind = AxisKind::Category;
            for (const QCborValue &v : d->values)
                hint.categories.append(v);
        }
        break;
    }
    case Distribution::Kind::Const:
        hint.kind = AxisKind::Category;
        hint.categories.append(d->constant);
        break;
    }
    return hint;
}

QStringList experimentHyperparameters(const Experiment &experiment)
{
    QStringList names;
    const Scheduler &s = experiment.scheduler;
    if (s.kind == Scheduler::Kind::RandomSearch) {
        for (const NamedDistribution &d : s.distributions)
            names.append(d.name);
    } else if (s.kind == Scheduler::Kind::Pbt) {
        for (const NamedDistribution &d : s.pbt.init)
            names.append(d.name);
        for (const Perturb &p : s.pbt.explore) {
            if (!names.contains(p.name))
                names.append(p.name);
        }
    }
    return names;
}

int AxisSpec::categoryOf(const QCborValue &value) const
{
    return categoryIndex.value(categoryKey(value), -1);
}

std::optional<double> AxisSpec::position(const QCborValue &value) const
{
    switch (kind) {
    case AxisKind::Category: {
        const int i = categoryOf(value);
        return i >= 0 ? std::optional<double>(i) : std::nullopt;
    }
    case AxisKind::Log: {
        const auto d = scalar(value);
        return d && *d > 0 ? d : std::nullopt;
    }
    case AxisKind::Linear:
        return scalar(value);
    }
    return std::nullopt;
}

AxisSpec resolveAxis(const JobSource &source, int field, const AxisHint &hint)
{
    AxisSpec axis;
    bool allScalar = true;
    bool allPositive = true;
    double lo = NaN, hi = NaN;
    QList<QCborValue> seen; // distinct, for categories
    QSet<QString> seenKeys;
    ValueMemo<bool> seenMemo;
    const int n = field < 0 ? 0 : source.count();
    for (int i = 0; i < n; ++i) {
        const QCborValue v = source.value(i, field);
        if (isAbsent(v))
            continue;
        if (const auto d = scalar(v)) {
            if (std::isnan(lo) || *d < lo)
                lo = *d;
            if (std::isnan(hi) || *d > hi)
                hi = *d;
            if (*d <= 0)
                allPositive = false;
        } else {
            allScalar = false;
        }
        if ((hint.kind == AxisKind::Category || !allScalar) && !seenMemo.find(v)) {
            const QString key = categoryKey(v);
            if (!seenKeys.contains(key)) {
                seenKeys.insert(key);
                seen.append(v);
            }
            seenMemo.add(v, true);
        }
    }
    if (hint.kind == AxisKind::Category || !allScalar) {
        if (!allScalar && hint.kind != AxisKind::Category) {
            // Values seen before the first text one were not collected.
            seen.clear();
            seenKeys.clear();
            for (int i = 0; i < n; ++i) {
                const QCborValue v = source.value(i, field);
                if (!isAbsent(v) && !seenKeys.contains(categoryKey(v))) {
                    seenKeys.insert(categoryKey(v));
                    seen.append(v);
                }
            }
        }
        axis.kind = AxisKind::Category;
        auto add = [&axis](const QCborValue &v) {
            const QString key = categoryKey(v);
            if (axis.categoryIndex.contains(key))
                return;
            axis.categoryIndex.insert(key, int(axis.categories.size()));
            axis.categories.append(v);
            axis.labels.append(format::display(v));
        };
        for (const QCborValue &v : hint.categories)
            add(v);
        // Values the experiment did not foresee: numbers in order, then text,
        // so that categories do not move as jobs arrive.
        std::stable_sort(seen.begin(), seen.end(), [](const QCborValue &a, const QCborValue &b) {
            const auto da = scalar(a), db = scalar(b);
            if (da && db)
                return *da < *db;
            if (da || db)
                return bool(da);
            return format::display(a) < format::display(b);
        });
        for (const QCborValue &v : std::as_const(seen))
            add(v);
        if (!axis.categories.isEmpty()) {
            axis.min = 0;
            axis.max = double(axis.categories.size() - 1);
        }
        return axis;
    }
    axis.kind = hint.kind == AxisKind::Log && allPositive ? AxisKind::Log : AxisKind::Linear;
    axis.min = lo;
    axis.max = hi;
    return axis;
}

double normalise(double position, const AxisSpec &axis)
{
    if (std::isnan(position) || !axis.isValid())
        return NaN;
    double p = position, lo = axis.min, hi = axis.max;
    if (axis.kind == AxisKind::Log) {
        if (p <= 0 || lo <= 0)
            return NaN;
        p = std::log(p);
        lo = std::log(lo);
        hi = std::log(hi);
    }
    if (!(hi > lo))
        return 0.5;
    return (p - lo) / (hi - lo);
}

double jitter(const QString &id)
{
    // FNV-1a: stable across runs, unlike qHash's seeded hash.
    quint32 h = 2166136261u;
    for (QChar c : id) {
        h ^= c.unicode();
        h *= 16777619u;
    }
    return (double(h % 10007u) / 10006.0 - 0.5) * 0.6;
}

QList<double> niceTicks(double lo, double hi, int count)
{
    QList<double> ticks;
    if (!std::isfinite(lo) || !std::isfinite(hi))
        return ticks;
    if (hi < lo)
        std::swap(lo, hi);
    if (hi == lo) {
        ticks.append(lo);
        return ticks;
    }
    const double rough = (hi - lo) / std::max(1, count);
    const double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
    const double r = rough / magnitude;
    const double step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * magnitude;
    const double eps = step * 1e-9;
    const double first = std::ceil((lo - eps) / step);
    for (double k = first; k * step <= hi + eps; k += 1) {
        // k * step carries float noise (3 * 0.2): keep 12 significant digits.
        const double t = QString::number(k * step, 'g', 12).toDouble();
        ticks.append(std::abs(t) < eps ? 0.0 : t);
    }
    return ticks;
}

// --- Charts -----------------------------------------------------------------------

HistoryData history(const JobSource &source, const FieldKey &result, Objective objective)
{
    HistoryData data;
    struct Entry
    {
        double modified, created;
        QString id;
        double value;
    };
    QList<Entry> entries;
    const int field = source.field(result);
    const int n = source.count();
    for (int i = 0; i < n; ++i) {
        if (source.status(i) != JobStatus::Done)
            continue;
        const auto v = field < 0 ? std::nullopt : resultNumber(source.value(i, field));
        if (!v) {
            ++data.skipped;
            continue;
        }
        entries.append({source.modifiedAt(i), source.createdAt(i), source.id(i), *v});
    }
    std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
        if (a.modified != b.modified)
            return a.modified < b.modified;
        if (a.created != b.created)
            return a.created < b.created;
        return a.id < b.id;
    });
    data.points.reserve(entries.size());
    data.ids.reserve(entries.size());
    double best = NaN;
    for (qsizetype i = 0; i < entries.size(); ++i) {
        const double x = double(i + 1);
        const double y = entries[i].value;
        data.points.append(QPointF(x, y));
        data.ids.append(entries[i].id);
        if (std::isnan(best)) {
            best = y;
            data.bestId = entries[i].id;
            data.best.append(QPointF(x, y));
        } else if (isBetter(y, best, objective)) {
            data.best.append(QPointF(x, best));
            data.best.append(QPointF(x, y));
            best = y;
            data.bestId = entries[i].id;
        }
    }
    if (!data.points.isEmpty() && data.best.last().x() < data.points.last().x())
        data.best.append(QPointF(data.points.last().x(), best));
    return data;
}

ScatterData scatter(const JobSource &source, const FieldKey &hyperparameter, const FieldKey &result,
                    const AxisHint &hint)
{
    ScatterData data;
    const int xField = source.field(hyperparameter);
    const int yField = source.field(result);
    data.xAxis = resolveAxis(source, xField, hint);
    if (yField < 0)
        return data;
    const int n = source.count();
    data.points.reserve(n);
    data.ids.reserve(n);
    data.statuses.reserve(n);
    ValueMemo<std::optional<double>> memo;
    for (int i = 0; i < n; ++i) {
        const QCborValue yv = source.value(i, yField);
        if (isAbsent(yv))
            continue;
        const auto y = resultNumber(yv);
        const auto x = memoPosition(data.xAxis, source.value(i, xField), memo);
        if (!x || !y) {
            ++data.skipped;
            continue;
        }
        const QString id = source.id(i);
        data.points.append(QPointF(data.xAxis.kind == AxisKind::Category ? *x + jitter(id) : *x, *y));
        data.ids.append(id);
        data.statuses.append(source.status(i));
    }
    return data;
}

ParallelData parallelCoordinates(const JobSource &source, const QList<FieldKey> &hyperparameters,
                                 const QList<AxisHint> &hints, const FieldKey &result)
{
    ParallelData data;
    QList<int> fields;
    for (qsizetype a = 0; a < hyperparameters.size(); ++a) {
        const int f = source.field(hyperparameters[a]);
        fields.append(f);
        data.axes.append({hyperparameters[a].name, false, resolveAxis(source, f, hints.value(a))});
    }
    const int resultField = source.field(result);
    ParallelAxis resultAxis{result.name, true, {}};
    resultAxis.spec.kind = AxisKind::Linear;
    const int n = resultField < 0 ? 0 : source.count();
    QList<int> rows;
    for (int i = 0; i < n; ++i) {
        if (source.status(i) != JobStatus::Done)
            continue;
        const auto y = resultNumber(source.value(i, resultField));
        if (!y) {
            ++data.skipped;
            continue;
        }
        rows.append(i);
        data.results.append(*y);
        if (std::isnan(data.resultMin) || *y < data.resultMin)
            data.resultMin = *y;
        if (std::isnan(data.resultMax) || *y > data.resultMax)
            data.resultMax = *y;
    }
    resultAxis.spec.min = data.resultMin;
    resultAxis.spec.max = data.resultMax;
    data.axes.append(resultAxis);
    const qsizetype axisCount = data.axes.size();
    data.positions.reserve(rows.size() * axisCount);
    data.ids.reserve(rows.size());
    QList<ValueMemo<std::optional<double>>> memos(axisCount);
    for (qsizetype r = 0; r < rows.size(); ++r) {
        const int i = rows[r];
        for (qsizetype a = 0; a + 1 < axisCount; ++a) {
            const auto p = memoPosition(data.axes[a].spec, source.value(i, fields[a]), memos[a]);
            data.positions.append(p ? float(normalise(*p, data.axes[a].spec)) : float(NaN));
        }
        data.positions.append(float(normalise(data.results[r], resultAxis.spec)));
        data.ids.append(source.id(i));
    }
    return data;
}

qsizetype CurveData::pointCount() const
{
    return std::accumulate(curves.begin(), curves.end(), qsizetype(0),
                           [](qsizetype n, const Curve &c) { return n + c.points.size(); });
}

QList<RungMark> ashaRungs(const PrunerSpec &pruner, const QList<Curve> &curves)
{
    QList<RungMark> rungs;
    const qint64 eta = pruner.ashaReductionFactor();
    if (pruner.kind != PrunerSpec::Kind::Asha || pruner.ashaMinSteps() < 1 || eta < 2)
        return rungs;
    double longest = 0;
    for (const Curve &c : curves)
        longest = c.points.isEmpty() ? longest : std::max(longest, c.points.last().x());
    const bool maximize = pruner.direction == Objective::Maximize;
    for (qint64 step = pruner.ashaMinSteps(); double(step) <= longest; step *= eta) {
        QList<double> values;
        for (const Curve &c : curves) {
            // Points are in step order with gaps where a value was not a number.
            const auto it = std::lower_bound(c.points.begin(), c.points.end(), double(step),
                                             [](const QPointF &p, double x) { return p.x() < x; });
            if (it != c.points.end() && it->x() == double(step))
                values.append(it->y());
        }
        if (values.isEmpty())
            continue;
        std::sort(values.begin(), values.end());
        if (maximize)
            std::reverse(values.begin(), values.end());
        const qsizetype index = std::max<qsizetype>(values.size() / eta - 1, 0);
        rungs.append({step, values[index], int(values.size())});
        if (step > std::numeric_limits<qint64>::max() / eta)
            break;
    }
    return rungs;
}

CurveData curves(const JobSource &source, const FieldKey &result, Objective objective, int bestN,
                 const QSet<QString> &selected, bool onlySelected, const std::optional<PrunerSpec> &pruner)
{
    CurveData data;
    const int field = source.field(result);
    const int n = field < 0 ? 0 : source.count();
    QList<Curve> all;
    for (int i = 0; i < n; ++i) {
        const QCborValue v = source.value(i, field);
        if (!v.isArray())
            continue;
        Curve c;
        c.points = curvePoints(v);
        if (c.points.isEmpty())
            continue;
        c.id = source.id(i);
        c.status = source.status(i);
        c.prunedAt = c.status == JobStatus::Pruned ? source.prunedAt(i) : 0;
        if (c.prunedAt > 0) {
            // Its last point is where it stopped, whatever was written after.
            while (!c.points.isEmpty() && c.points.last().x() > double(c.prunedAt))
                c.points.removeLast();
            if (c.points.isEmpty())
                continue;
        }
        c.best = c.points.first().y();
        for (const QPointF &p : std::as_const(c.points)) {
            if (isBetter(p.y(), c.best, objective))
                c.best = p.y();
        }
        c.selected = selected.contains(c.id);
        all.append(std::move(c));
    }
    data.candidates = int(all.size());
    if (pruner && pruner->kind == PrunerSpec::Kind::Asha && pruner->result == result.name &&
        result.source == FieldSource::Result)
        data.rungs = ashaRungs(*pruner, all);
    std::sort(all.begin(), all.end(), [objective](const Curve &a, const Curve &b) {
        if (a.best != b.best)
            return isBetter(a.best, b.best, objective);
        return a.id < b.id;
    });
    for (qsizetype r = 0; r < all.size(); ++r) {
        Curve &c = all[r];
        c.rank = int(r);
        if (!(c.selected || (!onlySelected && r < bestN)))
            continue;
        for (const QPointF &p : std::as_const(c.points)) {
            if (std::isnan(data.yMin) || p.y() < data.yMin)
                data.yMin = p.y();
            if (std::isnan(data.yMax) || p.y() > data.yMax)
                data.yMax = p.y();
        }
        data.xMax = std::max(data.xMax, c.points.last().x());
        data.curves.append(std::move(c));
    }
    // The thresholds stay in view, with the curves they judge.
    for (const RungMark &m : std::as_const(data.rungs)) {
        if (data.curves.isEmpty() || double(m.step) > data.xMax)
            continue;
        data.yMin = std::isnan(data.yMin) ? m.threshold : std::min(data.yMin, m.threshold);
        data.yMax = std::isnan(data.yMax) ? m.threshold : std::max(data.yMax, m.threshold);
    }
    return data;
}

QList<int> LineageGraph::ancestry(int node) const
{
    QList<int> path;
    while (node >= 0 && node < nodes.size() && path.size() <= nodes.size()) {
        path.append(node);
        node = nodes[node].parentNode;
    }
    return path;
}

int LineageGraph::edgeCount() const
{
    return int(
        std::count_if(nodes.begin(), nodes.end(), [](const LineageNode &n) { return n.parentNode >= 0; }));
}

LineageGraph lineage(const JobSource &source, const FieldKey &quality, Objective objective)
{
    LineageGraph g;
    const int field = source.field(quality);
    const int n = source.count();
    for (int i = 0; i < n; ++i) {
        const qint64 generation = source.generation(i);
        if (generation < 0)
            continue;
        LineageNode node;
        node.id = source.id(i);
        node.member = source.member(i);
        node.parent = source.parent(i);
        node.generation = generation;
        node.status = source.status(i);
        if (field >= 0) {
            if (auto q = resultNumber(source.value(i, field)))
                node.quality = *q;
        }
        g.nodeOfId.insert(node.id, int(g.nodes.size()));
        g.nodes.append(node);
        g.maxGeneration = std::max(g.maxGeneration, generation);
        if (!std::isnan(node.quality)) {
            if (std::isnan(g.qualityMin) || node.quality < g.qualityMin)
                g.qualityMin = node.quality;
            if (std::isnan(g.qualityMax) || node.quality > g.qualityMax)
                g.qualityMax = node.quality;
        }
    }
    for (LineageNode &node : g.nodes) {
        if (!node.parent.isEmpty())
            node.parentNode = g.nodeOfId.value(node.parent, -1);
    }
    // Members missing from older documents: the generation-0 ancestor's id.
    for (qsizetype i = 0; i < g.nodes.size(); ++i) {
        if (!g.nodes[i].member.isEmpty())
            continue;
        const QList<int> path = g.ancestry(int(i));
        const LineageNode &root = g.nodes[path.last()];
        g.nodes[i].member = root.member.isEmpty() ? root.id : root.member;
    }
    for (LineageNode &node : g.nodes) {
        node.exploit = node.parentNode >= 0 && g.nodes[node.parentNode].member != node.member;
        if (node.exploit)
            ++g.exploitCount;
    }
    // Members, best latest quality first: the lanes read as a ranking.
    QHash<QString, int> memberIndex;
    QList<QPair<qint64, double>> latest; // by member: generation and quality of the latest rated job
    for (const LineageNode &node : std::as_const(g.nodes)) {
        auto it = memberIndex.constFind(node.member);
        int m;
        if (it == memberIndex.constEnd()) {
            m = int(g.members.size());
            memberIndex.insert(node.member, m);
            g.members.append(node.member);
            latest.append({-1, NaN});
        } else {
            m = *it;
        }
        if (!std::isnan(node.quality) && node.generation >= latest[m].first)
            latest[m] = {node.generation, node.quality};
    }
    QList<int> order(g.members.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        const double qa = latest[a].second, qb = latest[b].second;
        if (std::isnan(qa) != std::isnan(qb))
            return std::isnan(qb);
        if (!std::isnan(qa) && qa != qb)
            return isBetter(qa, qb, objective);
        return g.members[a] < g.members[b];
    });
    QStringList members;
    QList<int> newIndex(order.size());
    for (qsizetype i = 0; i < order.size(); ++i) {
        members.append(g.members[order[i]]);
        newIndex[order[i]] = int(i);
    }
    g.members = members;
    g.memberNodes.resize(g.members.size());
    for (qsizetype i = 0; i < g.nodes.size(); ++i) {
        LineageNode &node = g.nodes[i];
        node.memberIndex = newIndex[memberIndex.value(node.member)];
        g.memberNodes[node.memberIndex].append(int(i));
    }
    for (QList<int> &list : g.memberNodes) {
        std::sort(list.begin(), list.end(), [&g](int a, int b) {
            if (g.nodes[a].generation != g.nodes[b].generation)
                return g.nodes[a].generation < g.nodes[b].generation;
            return g.nodes[a].id < g.nodes[b].id;
        });
    }
    return g;
}

// --- One chart's preparation ----------------------------------------------------

PreparedChart prepareChart(const JobSource &source, const ChartRequest &request)
{
    QElapsedTimer timer;
    timer.start();
    PreparedChart out;
    out.request = request;
    const FieldKey result = resultField(request.result);
    switch (request.kind) {
    case ChartKind::History:
        out.history = history(source, result, request.objective);
        break;
    case ChartKind::Scatter:
        out.scatter = scatter(source, hyperparameterField(request.hyperparameter), result, request.hint);
        break;
    case ChartKind::Parallel:
        out.parallel = parallelCoordinates(source, request.fields, request.hints, result);
        break;
    case ChartKind::Curves:
        out.curves = curves(source, result, request.objective, request.bestCount, request.selected,
                            request.selectedOnly, request.pruner);
        break;
    case ChartKind::Lineage:
        out.lineage = lineage(source, result, request.objective);
        break;
    }
    out.prepareMs = timer.elapsed();
    return out;
}

} // namespace schedy::charts
