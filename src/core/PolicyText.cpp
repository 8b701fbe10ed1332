#include "PolicyText.h"

#include "Json.h"

#include <QDateTime>
#include <QStringList>

#include <algorithm>

namespace schedy {

QString describe(const SamplerSpec &s, const Scheduler &scheduler)
{
    switch (s.kind) {
    case SamplerSpec::Kind::Random:
        return QStringLiteral("random");
    case SamplerSpec::Kind::Grid: {
        const auto points = gridSize(scheduler, s);
        if (!points)
            return QStringLiteral("grid (steps missing)");
        if (*points > MaxGridPoints)
            return QStringLiteral("grid, more than %1 points").arg(MaxGridPoints);
        return *points == 1 ? QStringLiteral("grid, 1 point")
                            : QStringLiteral("grid, %1 points").arg(*points);
    }
    case SamplerSpec::Kind::Sobol:
        return s.seed ? QStringLiteral("Sobol (seed %1)").arg(*s.seed) : QStringLiteral("Sobol");
    case SamplerSpec::Kind::Tpe: {
        QString text = QStringLiteral("TPE on %1 (%2), %3 startup jobs, %4 candidates")
                           .arg(s.result, directionName(s.direction))
                           .arg(s.tpeStartupJobs())
                           .arg(s.tpeCandidates());
        if (s.seed)
            text += QStringLiteral(", seed %1").arg(*s.seed);
        return text;
    }
    }
    return {};
}

QString describe(const PrunerSpec &p)
{
    const QString curve = QStringLiteral("%1 (%2)").arg(p.result, directionName(p.direction));
    if (p.kind == PrunerSpec::Kind::Median) {
        return QStringLiteral("median on %1, after %2 DONE jobs, %3 warm-up steps")
            .arg(curve)
            .arg(p.medianStartupJobs())
            .arg(p.medianWarmupSteps());
    }
    const qint64 m = p.ashaMinSteps(), eta = p.ashaReductionFactor();
    return QStringLiteral("ASHA on %1, rungs at steps %2, %3, %4..., keeps the best 1/%5")
        .arg(curve)
        .arg(m)
        .arg(m * eta)
        .arg(m * eta * eta)
        .arg(eta);
}

QString describe(const LeaseSpec &l)
{
    const qint64 retries = l.effectiveRetries();
    return QStringLiteral("%1 s, %2 %3")
        .arg(l.seconds)
        .arg(retries)
        .arg(retries == 1 ? QStringLiteral("retry") : QStringLiteral("retries"));
}

QString headline(const Experiment &e)
{
    QStringList parts;
    if (e.sampler) {
        switch (e.sampler->kind) {
        case SamplerSpec::Kind::Random:
            break;
        case SamplerSpec::Kind::Grid: {
            const qint64 size = gridSize(e.scheduler, *e.sampler).value_or(0);
            const qint64 finished =
                e.jobCounts ? (*e.jobCounts)[JobStatus::Done] + (*e.jobCounts)[JobStatus::Pruned] : 0;
            parts.append(QStringLiteral("grid: %1 of %2 points").arg(std::min(finished, size)).arg(size));
            break;
        }
        case SamplerSpec::Kind::Sobol:
            parts.append(QStringLiteral("Sobol"));
            break;
        case SamplerSpec::Kind::Tpe:
            parts.append(QStringLiteral("TPE on %1").arg(e.sampler->result));
            break;
        }
    }
    if (e.pruner)
        parts.append(e.pruner->kind == PrunerSpec::Kind::Asha ? QStringLiteral("ASHA")
                                                              : QStringLiteral("median rule"));
    if (e.lease)
        parts.append(QStringLiteral("lease %1 s").arg(e.lease->seconds));
    return parts.join(QStringLiteral(", "));
}

QString describe(const PruneInfo &p)
{
    QString text = QStringLiteral("at step %1 by the %2 rule").arg(p.step).arg(toString(p.rule));
    if (p.value && p.threshold) {
        text += QStringLiteral(": %1, worse than %2")
                    .arg(json::formatDouble(*p.value), json::formatDouble(*p.threshold));
    }
    return text;
}

QString describeLoss(const Job &job)
{
    QString text;
    if (job.lostAt) {
        text = QDateTime::fromMSecsSinceEpoch(qint64(*job.lostAt * 1000), Qt::UTC)
                   .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"));
        text += QStringLiteral(", its worker silent longer than the lease");
    }
    text += job.replacedBy.isEmpty() ? QStringLiteral("; not replaced")
                                     : QStringLiteral("; replaced by %1").arg(job.replacedBy);
    return text;
}

} // namespace schedy
