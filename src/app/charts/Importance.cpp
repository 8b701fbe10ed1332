#include "Importance.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace schedy::charts {

namespace {

// Optuna's settings for PED-ANOVA (PedAnovaImportanceEvaluator).
constexpr int GridSteps = 50; // a numeric domain becomes linspace(low, high, 50)
constexpr double PriorWeight = 1.0;
constexpr int MinTopJobs = 2; // the better group holds at least two jobs
constexpr double PdfEpsilon = 1e-12;

double normalCdf(double z)
{
    return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

// A mixture of kernels over the cells 0..n-1, as Optuna's
// _ScottParzenEstimator: one kernel per occupied cell weighted by its count,
// plus the prior kernel with weight PriorWeight.
using Pdf = std::vector<double>;

// Numeric: discretised normals truncated to [-0.5, n-0.5], the bandwidth by
// Scott's rule (with the interquartile range), never under 0.5/1.64 cells.
Pdf numericPdf(const std::vector<double> &counts)
{
    const int n = int(counts.size());
    std::vector<double> mus, weights;
    double total = 0;
    for (int i = 0; i < n; ++i) {
        if (counts[i] > 0) {
            mus.push_back(i);
            weights.push_back(counts[i]);
            total += counts[i];
        }
    }
    double mean = 0;
    for (size_t k = 0; k < mus.size(); ++k)
        mean += mus[k] * weights[k] / total;
    double ss = 0;
    for (size_t k = 0; k < mus.size(); ++k)
        ss += (mus[k] - mean) * (mus[k] - mean) * weights[k];
    double sigma = std::sqrt(ss / std::max(1.0, total - 1));
    // np.searchsorted on the cumulative counts: q25 'left', q75 'right'.
    std::vector<double> cumulative(weights.size());
    std::partial_sum(weights.begin(), weights.end(), cumulative.begin());
    const double q25 = std::floor(total / 4);
    const double q75 = std::floor(total * 3 / 4);
    const size_t i25 =
        size_t(std::lower_bound(cumulative.begin(), cumulative.end(), q25) - cumulative.begin());
    const size_t i75 =
        size_t(std::upper_bound(cumulative.begin(), cumulative.end(), q75) - cumulative.begin());
    const double iqr = mus[std::min(mus.size() - 1, i75)] - mus[std::min(mus.size() - 1, i25)];
    sigma = 1.059 * std::min(iqr / 1.34, sigma) * std::pow(total, -0.2);
    sigma = std::max(sigma, 0.5 / 1.64);

    std::vector<double> sigmas(mus.size(), sigma);
    mus.push_back(0.5 * (n - 1));
    sigmas.push_back(double(n));
    weights.push_back(PriorWeight);
    const double weightSum = total + PriorWeight;

    Pdf pdf(size_t(n), 0.0);
    for (size_t k = 0; k < mus.size(); ++k) {
        const double mu = mus[k], s = sigmas[k];
        const double mass = normalCdf((n - 0.5 - mu) / s) - normalCdf((-0.5 - mu) / s);
        for (int x = 0; x < n; ++x) {
            const double p = normalCdf((x + 0.5 - mu) / s) - normalCdf((x - 0.5 - mu) / s);
            pdf[size_t(x)] += weights[k] / weightSum * p / mass;
        }
    }
    return pdf;
}

// Categories: Optuna's categorical kernel (prior_weight / kernels on every
// category, +1 on the observed one, normalised), the prior kernel uniform.
Pdf categoryPdf(const std::vector<double> &counts)
{
    const int n = int(counts.size());
    int observed = 0;
    double total = 0;
    for (double c : counts) {
        if (c > 0) {
            ++observed;
            total += c;
        }
    }
    const int kernels = observed + 1;
    const double base = PriorWeight / kernels;
    const double rowSum = base * n + 1;
    const double weightSum = total + PriorWeight;
    Pdf pdf(size_t(n), 0.0);
    for (int c = 0; c < n; ++c) {
        if (counts[size_t(c)] <= 0)
            continue;
        const double w = counts[size_t(c)] / weightSum;
        for (int x = 0; x < n; ++x)
            pdf[size_t(x)] += w * (base + (x == c ? 1.0 : 0.0)) / rowSum;
    }
    for (int x = 0; x < n; ++x)
        pdf[size_t(x)] += PriorWeight / weightSum / n;
    return pdf;
}

bool isSingle(const ImportanceParameter &p)
{
    return p.scale == ImportanceScale::Category ? p.categoryCount <= 1 : !(p.low < p.high);
}

// The cell of each value (Optuna: searchsorted(grids, value - step / 2)).
std::vector<double> cellCounts(const ImportanceParameter &p, const std::vector<int> &jobs)
{
    if (p.scale == ImportanceScale::Category) {
        std::vector<double> counts(size_t(p.categoryCount), 0.0);
        for (int j : jobs) {
            const int c = int(p.values[j]);
            if (c >= 0 && c < p.categoryCount)
                counts[size_t(c)] += 1;
        }
        return counts;
    }
    const bool log = p.scale == ImportanceScale::Log;
    const double lo = log ? std::log(p.low) : p.low;
    const double hi = log ? std::log(p.high) : p.high;
    const double step = (hi - lo) / (GridSteps - 1);
    std::vector<double> counts(GridSteps, 0.0);
    for (int j : jobs) {
        const double v = log ? std::log(p.values[j]) : p.values[j];
        const double cell = std::ceil((v - step / 2 - lo) / step - 1e-12);
        counts[size_t(std::clamp(int(cell), 0, GridSteps - 1))] += 1;
    }
    return counts;
}

// The jobs at least as good as the baseline quantile (and at least the
// MinTopJobs best ones), as Optuna's _QuantileFilter.
std::vector<int> topJobs(const ImportanceInput &in)
{
    const int n = int(in.results.size());
    const double sign = in.objective == Objective::Minimize ? 1.0 : -1.0;
    std::vector<double> loss(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
        loss[size_t(i)] = sign * in.results[i];
    std::vector<double> sorted = loss;
    std::sort(sorted.begin(), sorted.end());
    const int quantileIndex = std::clamp(int(std::ceil(in.baselineQuantile * n)) - 1, 0, n - 1);
    const double cutoff = std::max(sorted[size_t(MinTopJobs - 1)], sorted[size_t(quantileIndex)]);
    std::vector<int> top;
    for (int i = 0; i < n; ++i) {
        if (loss[size_t(i)] <= cutoff)
            top.push_back(i);
    }
    return top;
}

QList<ParameterImportance> sortedByImportance(QList<ParameterImportance> list)
{
    std::stable_sort(list.begin(), list.end(),
                     [](const ParameterImportance &a, const ParameterImportance &b) {
                         return a.importance > b.importance;
                     });
    return list;
}

} // namespace

QList<ParameterImportance> pedAnovaImportance(const ImportanceInput &input)
{
    QList<ParameterImportance> result;
    QList<int> varying;
    for (int i = 0; i < input.parameters.size(); ++i) {
        result.append({input.parameters[i].name, 0.0});
        if (!isSingle(input.parameters[i]))
            varying.append(i);
    }
    if (varying.isEmpty())
        return result;
    const int n = int(input.results.size());
    if (n <= MinTopJobs) {
        for (int i : varying)
            result[i].importance = 1.0 / varying.size();
        return sortedByImportance(result);
    }
    std::vector<int> all(static_cast<size_t>(n));
    std::iota(all.begin(), all.end(), 0);
    const std::vector<int> top = topJobs(input);

    double sum = 0;
    for (int i : varying) {
        const ImportanceParameter &p = input.parameters[i];
        const bool category = p.scale == ImportanceScale::Category;
        const Pdf topPdf = category ? categoryPdf(cellCounts(p, top)) : numericPdf(cellCounts(p, top));
        const Pdf allPdf = category ? categoryPdf(cellCounts(p, all)) : numericPdf(cellCounts(p, all));
        double divergence = 0;
        for (size_t x = 0; x < topPdf.size(); ++x) {
            const double local = allPdf[x] + PdfEpsilon;
            const double ratio = (topPdf[x] + PdfEpsilon) / local - 1;
            divergence += local * ratio * ratio;
        }
        result[i].importance = divergence;
        sum += divergence;
    }
    for (int i : varying)
        result[i].importance = sum > 0 ? result[i].importance / sum : 1.0 / varying.size();
    return sortedByImportance(result);
}

ImportanceInput importanceInput(const JobSource &source, const Experiment &experiment, const QString &result,
                                Objective objective, int *skipped)
{
    ImportanceInput in;
    in.objective = objective;
    const int resultIndex = source.field(resultField(result));
    QList<int> rows;
    int withoutResult = 0;
    for (int i = 0; i < source.count(); ++i) {
        if (source.status(i) != JobStatus::Done)
            continue;
        const auto v = resultIndex < 0 ? std::nullopt : resultNumber(source.value(i, resultIndex));
        if (!v) {
            ++withoutResult;
            continue;
        }
        rows.append(i);
        in.results.append(*v);
    }
    if (skipped)
        *skipped = withoutResult;

    for (const FieldKey &key : source.fields()) {
        if (key.source != FieldSource::Hyperparameter)
            continue;
        const AxisHint hint = axisHint(experiment, key.name);
        if (hint.fromExperiment && hint.kind == AxisKind::Category && hint.categories.size() == 1)
            continue; // a const (or a choice of one): nothing was searched
        const int field = source.field(key);
        const AxisSpec axis = resolveAxis(source, field, hint);
        if (!axis.isValid())
            continue;
        ImportanceParameter p;
        p.name = key.name;
        p.values.reserve(rows.size());
        bool complete = true;
        for (int row : rows) {
            const auto position = axis.position(source.value(row, field));
            if (!position) {
                complete = false;
                break;
            }
            p.values.append(*position);
        }
        if (!complete)
            continue;
        switch (axis.kind) {
        case AxisKind::Category:
            p.scale = ImportanceScale::Category;
            p.categoryCount = int(axis.categories.size());
            break;
        case AxisKind::Log:
        case AxisKind::Linear:
            p.scale = axis.kind == AxisKind::Log ? ImportanceScale::Log : ImportanceScale::Linear;
            // The distribution's bounds, widened to what PBT's perturbations reached.
            p.low = std::isnan(hint.low) ? axis.min : std::min(hint.low, axis.min);
            p.high = std::isnan(hint.high) ? axis.max : std::max(hint.high, axis.max);
            break;
        }
        in.parameters.append(p);
    }
    return in;
}

ImportanceData importance(const JobSource &source, const Experiment &experiment, const QString &result,
                          Objective objective)
{
    ImportanceData data;
    const ImportanceInput in = importanceInput(source, experiment, result, objective, &data.skipped);
    data.jobs = int(in.results.size());
    data.importances = pedAnovaImportance(in);
    return data;
}

} // namespace schedy::charts
