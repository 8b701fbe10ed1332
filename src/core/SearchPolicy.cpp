#include "SearchPolicy.h"

#include "Types.h"

#include <algorithm>

namespace schedy {

bool operator==(const SamplerSpec &a, const SamplerSpec &b)
{
    return a.kind == b.kind && a.steps == b.steps && a.seed == b.seed && a.result == b.result &&
           a.direction == b.direction && a.startupJobs == b.startupJobs && a.candidates == b.candidates;
}

bool operator==(const PrunerSpec &a, const PrunerSpec &b)
{
    return a.kind == b.kind && a.result == b.result && a.direction == b.direction &&
           a.startupJobs == b.startupJobs && a.warmupSteps == b.warmupSteps && a.minSteps == b.minSteps &&
           a.reductionFactor == b.reductionFactor;
}

QString toString(SamplerSpec::Kind kind)
{
    switch (kind) {
    case SamplerSpec::Kind::Random:
        return QStringLiteral("random");
    case SamplerSpec::Kind::Grid:
        return QStringLiteral("grid");
    case SamplerSpec::Kind::Sobol:
        return QStringLiteral("sobol");
    case SamplerSpec::Kind::Tpe:
        return QStringLiteral("tpe");
    }
    return {};
}

std::optional<SamplerSpec::Kind> samplerKindFromString(const QString &text)
{
    using K = SamplerSpec::Kind;
    for (K k : {K::Random, K::Grid, K::Sobol, K::Tpe}) {
        if (toString(k) == text)
            return k;
    }
    return std::nullopt;
}

QString toString(PrunerSpec::Kind kind)
{
    return kind == PrunerSpec::Kind::Median ? QStringLiteral("median") : QStringLiteral("asha");
}

std::optional<PrunerSpec::Kind> prunerKindFromString(const QString &text)
{
    if (text == QLatin1String("median"))
        return PrunerSpec::Kind::Median;
    if (text == QLatin1String("asha"))
        return PrunerSpec::Kind::Asha;
    return std::nullopt;
}

QString directionName(Objective direction)
{
    return direction == Objective::Minimize ? QStringLiteral("minimize") : QStringLiteral("maximize");
}

std::optional<qint64> gridSize(const Scheduler &scheduler, const SamplerSpec &sampler)
{
    qint64 points = 1;
    for (const NamedDistribution &nd : scheduler.distributions) {
        qint64 n = 1;
        switch (nd.distribution.kind) {
        case Distribution::Kind::Choice:
            n = nd.distribution.values.size();
            break;
        case Distribution::Kind::Const:
            n = 1;
            break;
        case Distribution::Kind::Uniform:
        case Distribution::Kind::LogUniform:
        case Distribution::Kind::Normal:
            if (!sampler.steps.contains(nd.name))
                return std::nullopt;
            n = sampler.steps.value(nd.name);
            break;
        }
        // Saturate: anything above the limit is refused anyway. No overflow, as points and
        // n are each at most MaxGridPoints + 1 here.
        points = std::min(MaxGridPoints + 1, points * std::min(n, MaxGridPoints + 1));
    }
    return points;
}

} // namespace schedy
