#include "TpeSampler.h"

#include "Json.h"
#include "Sampler.h"
#include "SearchSpace.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace schedy::server {
namespace {

constexpr double PriorWeight = 1.0;
constexpr double Sigma0Magnitude = 0.2;
// A normal hyperparameter's kernels are as wide, relative to its spread, as a
// uniform's: the width of a uniform of the same variance, sqrt(12) std.
const double NormalRange = std::sqrt(12.0);
const double LogSqrt2Pi = 0.5 * std::log(2 * M_PI);

struct Bounds
{
    double low = -INFINITY, high = INFINITY, range = 1, priorMu = 0, priorSigma = 1;
};

Bounds boundsOf(const Distribution &d)
{
    Bounds b;
    switch (d.kind) {
    case Distribution::Kind::Uniform:
        b.low = d.low;
        b.high = d.high;
        break;
    case Distribution::Kind::LogUniform:
        b.low = std::log(d.low);
        b.high = std::log(d.high);
        break;
    case Distribution::Kind::Normal:
        b.range = NormalRange;
        return b; // untruncated, N(0, 1) in standardised space
    case Distribution::Kind::Choice:
    case Distribution::Kind::Const:
        return b;
    }
    b.range = b.high - b.low;
    b.priorMu = 0.5 * (b.low + b.high);
    b.priorSigma = b.range;
    return b;
}

// log(Phi(b) - Phi(a)) for a <= b, on the tail where it is accurate.
double logGaussMass(double a, double b)
{
    if (a > 0)
        return std::log(normalCdf(-a) - normalCdf(-b));
    return std::log(normalCdf(b) - normalCdf(a));
}

// A draw from N(0, 1) truncated to [a, b], by its inverse CDF on the accurate tail.
double truncatedNormal(double a, double b, double u)
{
    if (a > 0)
        return -truncatedNormal(-b, -a, 1 - u);
    const double pa = normalCdf(a), pb = normalCdf(b);
    const double p = pa + u * (pb - pa);
    return std::clamp(normalQuantile(std::clamp(p, 1e-300, 1 - 1e-16)), a, b);
}

qsizetype drawIndex(const std::vector<double> &probabilities, double u)
{
    // Optuna: the number of cumulative probabilities below u.
    double cumulative = 0;
    qsizetype i = 0;
    for (; i < qsizetype(probabilities.size()) - 1; ++i) {
        cumulative += probabilities[size_t(i)];
        if (!(cumulative < u))
            break;
    }
    return i;
}

bool isChoice(const Distribution &d)
{
    return d.kind == Distribution::Kind::Choice;
}

} // namespace

qint64 tpeGamma(qint64 n)
{
    return std::min<qint64>(qint64(std::ceil(0.1 * double(n))), 25);
}

std::vector<double> tpeWeights(qint64 n)
{
    if (n <= 0)
        return {};
    if (n < 25)
        return std::vector<double>(size_t(n), 1.0);
    // np.linspace(1 / n, 1, n - 25), then 25 ones.
    std::vector<double> w(size_t(n), 1.0);
    const qint64 ramp = n - 25;
    for (qint64 i = 0; i < ramp; ++i) {
        const double start = 1.0 / double(n);
        w[size_t(i)] = ramp == 1 ? start : start + (1.0 - start) * double(i) / double(ramp - 1);
    }
    return w;
}

TpeSplit splitObservations(const QList<TpeObservation> &observations, bool minimize)
{
    struct Scored
    {
        double step, loss;
        qsizetype index;
    };
    const double sign = minimize ? 1.0 : -1.0;
    std::vector<Scored> scored;
    TpeSplit split;
    for (qsizetype i = 0; i < observations.size(); ++i) {
        const TpeObservation &o = observations[i];
        switch (o.status) {
        case JobStatus::Done:
            if (!o.value || !std::isfinite(*o.value))
                continue; // no numeric result: not an observation
            scored.push_back({-INFINITY, sign * *o.value, i});
            ++split.n;
            break;
        case JobStatus::Pruned:
            // Ranked after every DONE job: the longer its curve, the better; then its last value.
            if (o.steps > 0)
                scored.push_back(
                    {-double(o.steps), o.value && !std::isnan(*o.value) ? sign * *o.value : INFINITY, i});
            else
                scored.push_back({1, 0.0, i});
            ++split.n;
            break;
        case JobStatus::Queued:
        case JobStatus::Running:
            scored.push_back({INFINITY, INFINITY, i}); // the constant liar
            break;
        case JobStatus::Crashed:
            break;
        }
    }
    std::stable_sort(scored.begin(), scored.end(), [](const Scored &a, const Scored &b) {
        return a.step != b.step ? a.step < b.step : a.loss < b.loss;
    });
    const qint64 nBelow = tpeGamma(split.n);
    for (qsizetype k = 0; k < qsizetype(scored.size()); ++k)
        (k < nBelow ? split.below : split.above).append(scored[size_t(k)].index);
    std::sort(split.below.begin(), split.below.end());
    std::sort(split.above.begin(), split.above.end());
    return split;
}

std::optional<std::vector<double>> ParzenEstimator::internal(const Distributions &space, const QCborMap &hp)
{
    std::vector<double> x;
    x.reserve(size_t(space.size()));
    for (const NamedDistribution &nd : space) {
        const Distribution &d = nd.distribution;
        const QCborValue v = hp.value(nd.name);
        if (isChoice(d)) {
            const auto i = choiceIndex(d, v);
            if (!i)
                return std::nullopt;
            x.push_back(double(*i));
            continue;
        }
        if (!json::isNumber(v))
            return std::nullopt;
        const double value = json::toDouble(v);
        double t = value;
        if (d.kind == Distribution::Kind::LogUniform)
            t = value > 0 ? std::log(value) : NAN;
        else if (d.kind == Distribution::Kind::Normal)
            t = (value - d.mean) / d.std;
        const Bounds b = boundsOf(d);
        // A value its distribution cannot produce (a manual job's, say) says nothing
        // about this space.
        if (!std::isfinite(t) || t < b.low || t > b.high)
            return std::nullopt;
        x.push_back(t);
    }
    return x;
}

ParzenEstimator::ParzenEstimator(const Distributions &space, const std::vector<std::vector<double>> &points)
    : m_space(space)
{
    const size_t n = points.size();
    m_weights = tpeWeights(qint64(n));
    m_weights.push_back(PriorWeight);
    const double total = std::accumulate(m_weights.begin(), m_weights.end(), 0.0);
    for (double &w : m_weights)
        w /= total;

    // Multivariate: one width per dimension, Scott's rule as in the BOHB paper.
    const double dims = double(space.size());
    const double sigma0 = Sigma0Magnitude * std::pow(double(std::max<size_t>(n, 1)), -1.0 / (dims + 4));
    m_kernels.resize(size_t(space.size()));
    for (qsizetype k = 0; k < space.size(); ++k) {
        const Distribution &d = space[k].distribution;
        Kernel &kernel = m_kernels[size_t(k)];
        if (isChoice(d)) {
            const qsizetype choices = d.values.size();
            // The prior is the choice's own weights (Optuna's is uniform: equal weights).
            std::vector<double> prior(size_t(choices), 1.0 / double(choices));
            if (d.weights.size() == choices) {
                double sum = 0;
                for (double w : d.weights)
                    sum += std::max(0.0, w);
                for (qsizetype c = 0; c < choices && sum > 0; ++c)
                    prior[size_t(c)] = std::max(0.0, d.weights[c]) / sum;
            }
            kernel.probabilities.assign(n + 1, std::vector<double>(size_t(choices)));
            for (size_t i = 0; i <= n; ++i) {
                std::vector<double> &row = kernel.probabilities[i];
                for (qsizetype c = 0; c < choices; ++c)
                    row[size_t(c)] = PriorWeight * double(choices) * prior[size_t(c)] / double(n + 1);
                if (i < n)
                    row[size_t(points[i][size_t(k)])] += 1;
                const double sum = std::accumulate(row.begin(), row.end(), 0.0);
                for (double &p : row)
                    p /= sum;
            }
            continue;
        }
        const Bounds b = boundsOf(d);
        const double minSigma = b.range / std::min(100.0, 1.0 + double(n + 1)); // the magic clip
        kernel.mus.resize(n + 1);
        kernel.sigmas.resize(n + 1);
        for (size_t i = 0; i < n; ++i) {
            kernel.mus[i] = points[i][size_t(k)];
            kernel.sigmas[i] = std::clamp(sigma0 * b.range, minSigma, b.range);
        }
        kernel.mus[n] = b.priorMu;
        kernel.sigmas[n] = b.priorSigma;
        kernel.logNorms.resize(n + 1);
        for (size_t i = 0; i <= n; ++i) {
            const double mu = kernel.mus[i], sigma = kernel.sigmas[i];
            kernel.logNorms[i] =
                -LogSqrt2Pi - std::log(sigma) - logGaussMass((b.low - mu) / sigma, (b.high - mu) / sigma);
        }
    }
}

std::vector<double> ParzenEstimator::sample(Sampler &rng) const
{
    const size_t active = size_t(drawIndex(m_weights, rng.uniform01()));
    std::vector<double> x(size_t(m_space.size()));
    for (qsizetype k = 0; k < m_space.size(); ++k) {
        const Distribution &d = m_space[k].distribution;
        const Kernel &kernel = m_kernels[size_t(k)];
        if (isChoice(d)) {
            x[size_t(k)] = double(drawIndex(kernel.probabilities[active], rng.uniform01()));
            continue;
        }
        const Bounds b = boundsOf(d);
        const double mu = kernel.mus[active], sigma = kernel.sigmas[active];
        const double z = truncatedNormal((b.low - mu) / sigma, (b.high - mu) / sigma, rng.uniform01());
        x[size_t(k)] = std::clamp(mu + sigma * z, b.low, b.high);
    }
    return x;
}

double ParzenEstimator::logPdf(const std::vector<double> &x) const
{
    const size_t kernels = m_weights.size();
    std::vector<double> terms(kernels);
    for (size_t i = 0; i < kernels; ++i)
        terms[i] = std::log(m_weights[i]);
    for (qsizetype k = 0; k < m_space.size(); ++k) {
        const Distribution &d = m_space[k].distribution;
        const Kernel &kernel = m_kernels[size_t(k)];
        const double v = x[size_t(k)];
        if (isChoice(d)) {
            for (size_t i = 0; i < kernels; ++i)
                terms[i] += std::log(kernel.probabilities[i][size_t(v)]);
            continue;
        }
        for (size_t i = 0; i < kernels; ++i) {
            const double z = (v - kernel.mus[i]) / kernel.sigmas[i];
            terms[i] += -0.5 * z * z + kernel.logNorms[i];
        }
    }
    const double top = *std::max_element(terms.begin(), terms.end());
    double sum = 0;
    for (double t : terms)
        sum += std::exp(t - top);
    return top + std::log(sum);
}

QCborMap suggestTpe(const Distributions &space, const QList<TpeObservation> &observations,
                    const TpeSettings &settings, Sampler &rng)
{
    Distributions varying;
    for (const NamedDistribution &nd : space) {
        if (!isFixed(nd.distribution))
            varying.append(nd);
    }
    const TpeSplit split = splitObservations(observations, settings.minimize);
    if (split.n < settings.startupJobs || varying.isEmpty())
        return rng.sample(space);

    auto pointsOf = [&](const QList<qsizetype> &indices) {
        std::vector<std::vector<double>> points;
        for (qsizetype i : indices) {
            if (auto x = ParzenEstimator::internal(varying, observations[i].hyperparameters))
                points.push_back(std::move(*x));
        }
        return points;
    };
    const ParzenEstimator below(varying, pointsOf(split.below));
    const ParzenEstimator above(varying, pointsOf(split.above));

    std::vector<double> best;
    double bestScore = -INFINITY;
    for (qint64 c = 0; c < std::max<qint64>(1, settings.candidates); ++c) {
        std::vector<double> x = below.sample(rng);
        const double score = below.logPdf(x) - above.logPdf(x);
        if (best.empty() || score > bestScore) {
            best = std::move(x);
            bestScore = score;
        }
    }

    QCborMap hp;
    qsizetype k = 0;
    for (const NamedDistribution &nd : space) {
        const Distribution &d = nd.distribution;
        if (isFixed(d)) {
            hp.insert(nd.name, fromUnit(d, 0.5));
            continue;
        }
        const double v = best[size_t(k++)];
        switch (d.kind) {
        case Distribution::Kind::Uniform:
            hp.insert(nd.name, v);
            break;
        case Distribution::Kind::LogUniform:
            hp.insert(nd.name, std::clamp(std::exp(v), d.low, d.high));
            break;
        case Distribution::Kind::Normal:
            hp.insert(nd.name, d.mean + d.std * v);
            break;
        case Distribution::Kind::Choice:
            hp.insert(nd.name, d.values.at(qsizetype(v)));
            break;
        case Distribution::Kind::Const:
            break;
        }
    }
    return hp;
}

} // namespace schedy::server
