#pragma once

// Tree-structured Parzen Estimator (docs/protocol.md section 8.1), as Optuna 3.1's
// TPESampler computes it with multivariate=True and constant_liar=True
// (optuna/samplers/_tpe/sampler.py, parzen_estimator.py): the jobs are split
// into a good group (the best gamma(n) = min(ceil(n / 10), 25)) and the rest;
// a Parzen estimator of each (one kernel per job plus the prior, Optuna's
// weights for old observations, Scott-like widths with the magic clip) gives
// l(x) and g(x); of `candidates` draws from l(x), the one with the largest
// l(x)/g(x) wins. Pure and seedable; see docs/server.md for where we depart
// from Optuna (choice weights as the categorical prior, normal as its own
// prior: Optuna has neither).

#include "Types.h"

#include <QCborMap>
#include <QList>

#include <optional>
#include <vector>

namespace schedy {
class Sampler;
}

namespace schedy::server {

// One job of the experiment, in creation order.
struct TpeObservation
{
    JobStatus status = JobStatus::Queued;
    QCborMap hyperparameters;
    // DONE: the result (a list's last element); PRUNED: the curve's last value.
    std::optional<double> value;
    qint64 steps = 0; // PRUNED: the curve's length (0: no value reported)
};

struct TpeSettings
{
    qint64 startupJobs = 10;
    qint64 candidates = 24;
    bool minimize = true;
};

// Optuna's gamma and default_weights.
qint64 tpeGamma(qint64 n);
std::vector<double> tpeWeights(qint64 n);

// The split: indices (into `observations`) of the good and the bad group, each in
// creation order, and n (DONE with a value, and PRUNED jobs). QUEUED and RUNNING
// jobs are bad (the constant liar); DONE jobs without a value, CRASHED ones are left out.
struct TpeSplit
{
    QList<qsizetype> below;
    QList<qsizetype> above;
    qint64 n = 0;
};
TpeSplit splitObservations(const QList<TpeObservation> &observations, bool minimize);

// A Parzen estimator over the hyperparameters that are not fixed, in an internal
// space: uniform as is, loguniform as its log, normal standardised, choice as the
// index of its value.
class ParzenEstimator
{
public:
    struct Kernel
    {
        std::vector<double> mus, sigmas; // numeric; the last one is the prior
        std::vector<double> logNorms;    // numeric: log of each truncated kernel's normalisation
        std::vector<std::vector<double>> probabilities; // choice: one row per kernel
    };

    // `points`: internal coordinates of each observation (see internal()).
    ParzenEstimator(const Distributions &space, const std::vector<std::vector<double>> &points);

    // The internal coordinates of a job's hyperparameters; nullopt when one is
    // missing or outside what its distribution can produce.
    static std::optional<std::vector<double>> internal(const Distributions &space, const QCborMap &hp);

    std::vector<double> sample(Sampler &rng) const;
    double logPdf(const std::vector<double> &x) const;

    const std::vector<double> &weights() const { return m_weights; }
    const Kernel &kernel(qsizetype dimension) const { return m_kernels[size_t(dimension)]; }

private:
    Distributions m_space;         // the hyperparameters that are not fixed
    std::vector<double> m_weights; // per kernel, the prior last; sum 1
    std::vector<Kernel> m_kernels; // per dimension
};

// The hyperparameters of the next job: random draws (from `rng`) until
// startupJobs jobs are DONE or PRUNED, then TPE.
QCborMap suggestTpe(const Distributions &space, const QList<TpeObservation> &observations,
                    const TpeSettings &settings, Sampler &rng);

} // namespace schedy::server
