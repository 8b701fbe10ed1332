#include "Types.h"

namespace schedy {

QString toString(ExperimentStatus status)
{
    return status == ExperimentStatus::Running ? QStringLiteral("RUNNING") : QStringLiteral("DONE");
}

QString toString(JobStatus status)
{
    switch (status) {
    case JobStatus::Queued:
        return QStringLiteral("QUEUED");
    case JobStatus::Running:
        return QStringLiteral("RUNNING");
    case JobStatus::Crashed:
        return QStringLiteral("CRASHED");
    case JobStatus::Pruned:
        return QStringLiteral("PRUNED");
    case JobStatus::Done:
        return QStringLiteral("DONE");
    }
    return {};
}

std::optional<ExperimentStatus> experimentStatusFromString(const QString &text)
{
    if (text == QLatin1String("RUNNING"))
        return ExperimentStatus::Running;
    if (text == QLatin1String("DONE"))
        return ExperimentStatus::Done;
    return std::nullopt;
}

std::optional<JobStatus> jobStatusFromString(const QString &text)
{
    for (JobStatus s : AllJobStatuses) {
        if (toString(s) == text)
            return s;
    }
    return std::nullopt;
}

Distribution Distribution::uniform(double low, double high)
{
    Distribution d;
    d.kind = Kind::Uniform;
    d.low = low;
    d.high = high;
    return d;
}

Distribution Distribution::logUniform(double low, double high)
{
    Distribution d = uniform(low, high);
    d.kind = Kind::LogUniform;
    return d;
}

Distribution Distribution::normal(double mean, double std)
{
    Distribution d;
    d.kind = Kind::Normal;
    d.mean = mean;
    d.std = std;
    return d;
}

Distribution Distribution::choice(const QCborArray &values, const QList<double> &weights)
{
    Distribution d;
    d.kind = Kind::Choice;
    d.values = values;
    d.weights = weights;
    return d;
}

Distribution Distribution::constantValue(const QCborValue &value)
{
    Distribution d;
    d.kind = Kind::Const;
    d.constant = value;
    return d;
}

bool operator==(const Distribution &a, const Distribution &b)
{
    if (a.kind != b.kind)
        return false;
    switch (a.kind) {
    case Distribution::Kind::Uniform:
    case Distribution::Kind::LogUniform:
        return a.low == b.low && a.high == b.high;
    case Distribution::Kind::Normal:
        return a.mean == b.mean && a.std == b.std;
    case Distribution::Kind::Choice:
        return a.values == b.values && a.weights == b.weights;
    case Distribution::Kind::Const:
        return a.constant == b.constant;
    }
    return false;
}

QString toString(Distribution::Kind kind)
{
    switch (kind) {
    case Distribution::Kind::Uniform:
        return QStringLiteral("uniform");
    case Distribution::Kind::LogUniform:
        return QStringLiteral("loguniform");
    case Distribution::Kind::Normal:
        return QStringLiteral("normal");
    case Distribution::Kind::Choice:
        return QStringLiteral("choice");
    case Distribution::Kind::Const:
        return QStringLiteral("const");
    }
    return {};
}

std::optional<Distribution::Kind> distributionKindFromString(const QString &key)
{
    using K = Distribution::Kind;
    for (K k : {K::Uniform, K::LogUniform, K::Normal, K::Choice, K::Const}) {
        if (toString(k) == key)
            return k;
    }
    return std::nullopt;
}

bool operator==(const PbtSettings &a, const PbtSettings &b)
{
    return a.objective == b.objective && a.qualityResultName == b.qualityResultName &&
           a.truncate == b.truncate && a.explore == b.explore && a.init == b.init &&
           a.numParallel == b.numParallel && a.maxGenerations == b.maxGenerations;
}

bool operator==(const Scheduler &a, const Scheduler &b)
{
    if (a.kind != b.kind)
        return false;
    switch (a.kind) {
    case Scheduler::Kind::Manual:
        return true;
    case Scheduler::Kind::RandomSearch:
        return a.distributions == b.distributions;
    case Scheduler::Kind::Pbt:
        return a.pbt == b.pbt;
    }
    return false;
}

QString toString(Scheduler::Kind kind)
{
    switch (kind) {
    case Scheduler::Kind::Manual:
        return QStringLiteral("Manual");
    case Scheduler::Kind::RandomSearch:
        return QStringLiteral("RandomSearch");
    case Scheduler::Kind::Pbt:
        return QStringLiteral("PBT");
    }
    return {};
}

Experiment ExperimentUpdate::applyTo(const Experiment *stored) const
{
    Experiment e = experiment;
    const Experiment none;
    const Experiment &before = stored ? *stored : none;
    e.sampler = sampler.applyTo(before.sampler);
    e.pruner = pruner.applyTo(before.pruner);
    e.lease = lease.applyTo(before.lease);
    return e;
}

qint64 JobCounts::total() const
{
    qint64 n = 0;
    for (qint64 c : byStatus)
        n += c;
    return n;
}

QString checkName(const QString &name, const QString &what)
{
    if (name.isEmpty())
        return QStringLiteral("%1 must not be empty").arg(what);
    if (name == QLatin1String(".") || name == QLatin1String(".."))
        return QStringLiteral("%1 must not be '.' or '..'").arg(what);
    // QString::fromUtf8 (and so Qt's SQL drivers) drops a leading U+FEFF:
    // "\uFEFFx" would be stored or read back as "x", another name.
    if (name.startsWith(QChar(0xFEFF)))
        return QStringLiteral("%1 must not start with a byte-order mark (U+FEFF)").arg(what);
    // Count code points, not UTF-16 units, so that emoji count once.
    if (name.toUcs4().size() > MaxNameLength)
        return QStringLiteral("%1 is longer than %2 characters").arg(what).arg(MaxNameLength);
    for (const QChar c : name) {
        if (c.category() == QChar::Other_Control)
            return QStringLiteral("%1 must not contain control characters").arg(what);
    }
    return {};
}

} // namespace schedy
