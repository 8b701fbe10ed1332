#pragma once

#include <QMap>
#include <QString>

#include <optional>

// The optional experiment keys of docs/protocol.md section 8: how a RandomSearch
// draws (`sampler`), when RUNNING jobs are stopped (`pruner`) and when a silent
// worker's job is declared lost (`lease`). Plain values; Codec knows the wire.
namespace schedy {

struct Scheduler;

enum class Objective { Minimize, Maximize };

struct SamplerSpec
{
    enum class Kind { Random, Grid, Sobol, Tpe };

    static constexpr qint64 DefaultTpeStartupJobs = 10;
    static constexpr qint64 DefaultTpeCandidates = 24;

    Kind kind = Kind::Random;
    QMap<QString, qint64> steps;               // grid: points per numeric hyperparameter
    std::optional<qint64> seed;                // sobol, tpe
    QString result;                            // tpe: the numeric result it models
    Objective direction = Objective::Minimize; // tpe
    std::optional<qint64> startupJobs;         // tpe: random draws until that many are DONE or PRUNED
    std::optional<qint64> candidates;          // tpe: draws from l(x) per new job

    qint64 tpeStartupJobs() const { return startupJobs.value_or(DefaultTpeStartupJobs); }
    qint64 tpeCandidates() const { return candidates.value_or(DefaultTpeCandidates); }

    friend bool operator==(const SamplerSpec &a, const SamplerSpec &b);
    friend bool operator!=(const SamplerSpec &a, const SamplerSpec &b) { return !(a == b); }
};

struct PrunerSpec
{
    enum class Kind { Median, Asha };

    static constexpr qint64 DefaultMedianStartupJobs = 5;
    static constexpr qint64 DefaultMedianWarmupSteps = 0;
    static constexpr qint64 DefaultAshaMinSteps = 1;
    static constexpr qint64 DefaultAshaReductionFactor = 4;

    Kind kind = Kind::Median;
    QString result; // the list-valued result that is the learning curve
    Objective direction = Objective::Minimize;
    std::optional<qint64> startupJobs;     // median
    std::optional<qint64> warmupSteps;     // median
    std::optional<qint64> minSteps;        // asha
    std::optional<qint64> reductionFactor; // asha (eta)

    qint64 medianStartupJobs() const { return startupJobs.value_or(DefaultMedianStartupJobs); }
    qint64 medianWarmupSteps() const { return warmupSteps.value_or(DefaultMedianWarmupSteps); }
    qint64 ashaMinSteps() const { return minSteps.value_or(DefaultAshaMinSteps); }
    qint64 ashaReductionFactor() const { return reductionFactor.value_or(DefaultAshaReductionFactor); }

    friend bool operator==(const PrunerSpec &a, const PrunerSpec &b);
    friend bool operator!=(const PrunerSpec &a, const PrunerSpec &b) { return !(a == b); }
};

struct LeaseSpec
{
    static constexpr qint64 DefaultRetries = 1;
    static constexpr qint64 MaxSeconds = 31536000; // a year: keeps every clock sum far from overflow
    static constexpr qint64 MaxRetries = 1000;

    qint64 seconds = 600;
    std::optional<qint64> retries;

    qint64 effectiveRetries() const { return retries.value_or(DefaultRetries); }
    // How often a worker heartbeats: a third of the lease, so that two lost heartbeats are survived.
    qint64 heartbeatIntervalMs() const { return seconds * 1000 / 3; }

    friend bool operator==(const LeaseSpec &a, const LeaseSpec &b)
    {
        return a.seconds == b.seconds && a.retries == b.retries;
    }
    friend bool operator!=(const LeaseSpec &a, const LeaseSpec &b) { return !(a == b); }
};

QString toString(SamplerSpec::Kind kind); // wire: "random", "grid", "sobol", "tpe"
std::optional<SamplerSpec::Kind> samplerKindFromString(const QString &text);
QString toString(PrunerSpec::Kind kind); // wire: "median", "asha"
std::optional<PrunerSpec::Kind> prunerKindFromString(const QString &text);
QString directionName(Objective direction); // wire: "minimize", "maximize"

// Grid search: the points of a RandomSearch's grid, or nullopt when a numeric
// hyperparameter has no steps. Saturates at MaxGridPoints + 1.
constexpr qint64 MaxGridPoints = 10000000;
std::optional<qint64> gridSize(const Scheduler &scheduler, const SamplerSpec &sampler);

// Why the server stopped a job (job document extension, see docs/server.md).
struct PruneInfo
{
    qint64 step = 0; // 1-based index in the curve at which it was stopped ("prunedAt")
    PrunerSpec::Kind rule = PrunerSpec::Kind::Median;
    std::optional<double> value;     // the job's value the rule looked at
    std::optional<double> threshold; // what it had to beat (the median, the rung's cut)

    friend bool operator==(const PruneInfo &a, const PruneInfo &b)
    {
        return a.step == b.step && a.rule == b.rule && a.value == b.value && a.threshold == b.threshold;
    }
};

// How a PUT of an experiment treats one section-8 key: omitted keeps the
// stored value, null removes it, a value sets it.
template <typename T> struct KeyUpdate
{
    enum class Action { Keep, Remove, Set };
    Action action = Action::Keep;
    std::optional<T> value; // set when action is Set

    std::optional<T> applyTo(const std::optional<T> &stored) const
    {
        return action == Action::Keep ? stored : value;
    }
};

} // namespace schedy
