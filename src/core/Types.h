#pragma once

#include "SearchPolicy.h"

#include <QCborArray>
#include <QCborMap>
#include <QCborValue>
#include <QList>
#include <QString>

#include <array>
#include <optional>

// Domain values of the Schedy protocol (docs/protocol.md section 3). Plain values:
// cheap to copy, comparable, no JSON knowledge (that lives in Codec).
namespace schedy {

enum class ExperimentStatus { Running, Done };

enum class JobStatus { Queued, Running, Crashed, Pruned, Done };
constexpr int JobStatusCount = 5;
constexpr std::array<JobStatus, JobStatusCount> AllJobStatuses = {
    JobStatus::Queued, JobStatus::Running, JobStatus::Crashed, JobStatus::Pruned, JobStatus::Done};

QString toString(ExperimentStatus status);
QString toString(JobStatus status);
std::optional<ExperimentStatus> experimentStatusFromString(const QString &text);
std::optional<JobStatus> jobStatusFromString(const QString &text);

struct Distribution
{
    enum class Kind { Uniform, LogUniform, Normal, Choice, Const };

    Kind kind = Kind::Uniform;
    double low = 0.0;      // uniform, loguniform
    double high = 1.0;     // uniform, loguniform
    double mean = 0.0;     // normal
    double std = 1.0;      // normal
    QCborArray values;     // choice
    QList<double> weights; // choice; empty means equal weights
    QCborValue constant;   // const

    static Distribution uniform(double low, double high);
    static Distribution logUniform(double low, double high);
    static Distribution normal(double mean, double std);
    static Distribution choice(const QCborArray &values, const QList<double> &weights = {});
    static Distribution constantValue(const QCborValue &value);

    friend bool operator==(const Distribution &a, const Distribution &b);
    friend bool operator!=(const Distribution &a, const Distribution &b) { return !(a == b); }
};

QString toString(Distribution::Kind kind); // wire key: "uniform", "loguniform", ...
std::optional<Distribution::Kind> distributionKindFromString(const QString &key);

struct NamedDistribution
{
    QString name;
    Distribution distribution;
    friend bool operator==(const NamedDistribution &a, const NamedDistribution &b)
    {
        return a.name == b.name && a.distribution == b.distribution;
    }
};
using Distributions = QList<NamedDistribution>;

struct Perturb
{
    QString name;
    double minFactor = 0.8;
    double maxFactor = 1.2;
    friend bool operator==(const Perturb &a, const Perturb &b)
    {
        return a.name == b.name && a.minFactor == b.minFactor && a.maxFactor == b.maxFactor;
    }
};

struct PbtSettings
{
    Objective objective = Objective::Maximize;
    QString qualityResultName;
    double truncate = 0.2;
    QList<Perturb> explore;
    Distributions init;
    std::optional<qint64> numParallel;
    std::optional<qint64> maxGenerations;

    // Population size used when numParallel is not set (see docs/protocol-extensions.md).
    static constexpr qint64 DefaultPopulation = 10;
    qint64 population() const { return numParallel.value_or(DefaultPopulation); }

    friend bool operator==(const PbtSettings &a, const PbtSettings &b);
};

struct Scheduler
{
    enum class Kind { Manual, RandomSearch, Pbt };
    Kind kind = Kind::Manual;
    Distributions distributions; // RandomSearch
    PbtSettings pbt;             // Pbt

    friend bool operator==(const Scheduler &a, const Scheduler &b);
    friend bool operator!=(const Scheduler &a, const Scheduler &b) { return !(a == b); }
};

QString toString(Scheduler::Kind kind); // wire key: "Manual", "RandomSearch", "PBT"

struct JobCounts
{
    std::array<qint64, JobStatusCount> byStatus{};
    // Of the CRASHED ones, those whose lease expired (section 8.3; extension key "lostJobs").
    qint64 lost = 0;
    qint64 &operator[](JobStatus s) { return byStatus[size_t(s)]; }
    qint64 operator[](JobStatus s) const { return byStatus[size_t(s)]; }
    qint64 total() const;
    friend bool operator==(const JobCounts &a, const JobCounts &b)
    {
        return a.byStatus == b.byStatus && a.lost == b.lost;
    }
};

struct Experiment
{
    QString name;
    ExperimentStatus status = ExperimentStatus::Running;
    Scheduler scheduler;
    // Extensions (absent in documents from the original service).
    std::optional<double> createdAt;
    std::optional<double> modifiedAt;
    std::optional<JobCounts> jobCounts;
    // Section 8 (extensions): absent means random draws, no pruning, no lease.
    std::optional<SamplerSpec> sampler;
    std::optional<PrunerSpec> pruner;
    std::optional<LeaseSpec> lease;
    // From the ETag header of a single experiment's response (extension), not from the
    // document; empty for listing items and servers without it.
    QByteArray etag;
};

// A PUT body of an experiment (section 8: an omitted sampler, pruner or lease keeps
// the stored one, null removes it).
struct ExperimentUpdate
{
    Experiment experiment; // its sampler, pruner and lease are those the body sets
    KeyUpdate<SamplerSpec> sampler;
    KeyUpdate<PrunerSpec> pruner;
    KeyUpdate<LeaseSpec> lease;

    // The experiment to store: this update over `stored` (nullptr when it is created).
    // Check the result with codec::checkPolicies(): a kept key may not fit a new scheduler.
    Experiment applyTo(const Experiment *stored) const;
};

struct Job
{
    QString id;
    QString experiment;
    JobStatus status = JobStatus::Queued;
    QCborMap hyperparameters;
    QCborMap results;
    // Extensions.
    std::optional<double> createdAt;
    std::optional<double> modifiedAt;
    std::optional<qint64> generation;
    QString parent;                  // PBT: the job whose hyperparameters and results this one copied
    QString member;                  // PBT: the population member (id of its generation-0 job)
    std::optional<qint64> gridIndex; // grid search: the index of its point
    std::optional<PruneInfo> pruned; // PRUNED by the server's pruner: why
    std::optional<double> lostAt;    // CRASHED because its lease expired: when
    QString replacedBy;              // lost: the QUEUED job that took its place
    QString replaces;                // the lost job this one replaces
    // From the ETag header, not from the document.
    QByteArray etag;
};

// What a client sends to create or replace a job.
struct JobWrite
{
    JobStatus status = JobStatus::Queued;
    QCborMap hyperparameters;
    QCborMap results;
};

template <typename T> struct Page
{
    QList<T> items;
    QString next; // empty: no more pages
};

// Name rules of docs/protocol.md section 1; returns an empty string when valid.
QString checkName(const QString &name, const QString &what = QStringLiteral("name"));
constexpr int MaxNameLength = 200;

} // namespace schedy

// Lists of thousands of jobs grow by moving memory, not job by job.
Q_DECLARE_TYPEINFO(schedy::Job, Q_RELOCATABLE_TYPE);
