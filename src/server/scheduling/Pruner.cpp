#include "Pruner.h"

#include "Json.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace schedy::server::scheduling {
namespace {

constexpr double NaN = std::numeric_limits<double>::quiet_NaN();

bool maximizes(const PrunerSpec &s)
{
    return s.direction == Objective::Maximize;
}

bool better(double a, double b, bool maximize)
{
    return maximize ? a > b : a < b;
}

QString number(double v)
{
    return QString::number(v, 'g', 6);
}

PruneOutcome median(const PrunerSpec &s, const QList<double> &curve, PruneObservations &o)
{
    PruneOutcome out;
    const qint64 step = curve.size();
    // Optuna counts steps from 0: its step k - 1 is our k.
    if (step - 1 < s.medianWarmupSteps())
        return out;
    const auto done = o.doneJobs();
    if (!done) {
        out.failed = true;
        return out;
    }
    if (*done == 0 || *done < s.medianStartupJobs())
        return out;
    double best = NaN;
    for (double v : curve) {
        if (!std::isnan(v) && (std::isnan(best) || better(v, best, maximizes(s))))
            best = v;
    }
    PruneVerdict r;
    r.reason.rule = PrunerSpec::Kind::Median;
    r.reason.step = step;
    r.rungStep = step;
    r.compared = *done;
    if (std::isnan(best)) { // a curve of NaN only: Optuna prunes it
        out.pruned = r;
        return out;
    }
    r.reason.value = best;
    const auto m = o.doneMedianAt(step);
    if (!m) {
        out.failed = true;
        return out;
    }
    if (std::isnan(*m) || !better(*m, best, maximizes(s)))
        return out;
    r.reason.threshold = *m;
    out.pruned = r;
    return out;
}

PruneOutcome asha(const PrunerSpec &s, const QList<double> &curve, qint64 previousLength,
                  PruneObservations &o)
{
    PruneOutcome out;
    const bool max = maximizes(s);
    for (qint64 rung : rungSteps(s, curve.size())) {
        if (rung <= previousLength)
            continue; // judged by an earlier write
        const double v = curve[rung - 1];
        PruneVerdict r;
        r.reason.rule = PrunerSpec::Kind::Asha;
        r.reason.step = curve.size();
        r.rungStep = rung;
        if (std::isnan(v)) { // Optuna prunes before recording a NaN
            out.pruned = r;
            return out;
        }
        r.reason.value = v;
        const auto standing = o.rungStanding(rung, v, max);
        if (!standing) {
            out.failed = true;
            return out;
        }
        out.records.append({rung, v});
        // Optuna's _is_trial_promotable_to_next_rung over the others and this value:
        // the top n // eta continue, and at least the best one.
        const qint64 n = standing->others + 1;
        const qint64 index = std::max<qint64>(n / s.ashaReductionFactor() - 1, 0);
        if (standing->better <= index)
            continue;
        const auto cut = o.rungValue(rung, index, max);
        if (!cut) {
            out.failed = true;
            return out;
        }
        r.reason.threshold = *cut;
        r.compared = standing->others;
        out.pruned = r;
        return out;
    }
    return out;
}

} // namespace

QString PruneVerdict::describe() const
{
    const qint64 step = reason.step;
    if (reason.rule == PrunerSpec::Kind::Asha) {
        if (!reason.value)
            return QStringLiteral("pruned by ASHA at step %1: its value at the rung of step %2 is NaN")
                .arg(step)
                .arg(rungStep);
        return QStringLiteral("pruned by ASHA at step %1: its value %2 at the rung of step %3 is not among "
                              "the best of %4 values there (cut: %5)")
            .arg(step)
            .arg(number(*reason.value))
            .arg(rungStep)
            .arg(compared + 1)
            .arg(number(reason.threshold.value_or(NaN)));
    }
    if (!reason.value)
        return QStringLiteral("pruned by the median rule at step %1: its curve holds only NaN").arg(step);
    return QStringLiteral("pruned by the median rule at step %1: its best value %2 is worse than %3, the "
                          "median of the DONE jobs at that step")
        .arg(step)
        .arg(number(*reason.value))
        .arg(number(reason.threshold.value_or(NaN)));
}

std::optional<QList<double>> curveOf(const QCborMap &results, const QString &name)
{
    const QCborValue v = results.value(name);
    if (!v.isArray())
        return std::nullopt;
    QList<double> curve;
    const QCborArray a = v.toArray();
    curve.reserve(a.size());
    for (qsizetype i = 0; i < a.size(); ++i) { // at(): a value, not a reference to convert
        const QCborValue e = a.at(i);
        if (json::isNumber(e))
            curve.append(json::toDouble(e));
        else if (e.isNull())
            curve.append(NaN);
        else
            return std::nullopt;
    }
    return curve;
}

QList<qint64> rungSteps(const PrunerSpec &settings, qint64 length)
{
    QList<qint64> steps;
    const qint64 eta = settings.ashaReductionFactor();
    if (settings.ashaMinSteps() < 1 || eta < 2)
        return steps;
    for (qint64 s = settings.ashaMinSteps(); s <= length; s *= eta) {
        steps.append(s);
        if (s > length / eta)
            break; // the next one is past the curve (and would not overflow)
    }
    return steps;
}

double medianOf(QList<double> values)
{
    values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }),
                 values.end());
    if (values.isEmpty())
        return NaN;
    std::sort(values.begin(), values.end());
    const qsizetype n = values.size();
    // numpy's percentile(50) with linear interpolation: the mean of the middle two.
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

PruneOutcome evaluatePrune(const PrunerSpec &settings, const QList<double> &curve, qint64 previousLength,
                           PruneObservations &observations)
{
    if (curve.size() <= previousLength)
        return {};
    return settings.kind == PrunerSpec::Kind::Median ? median(settings, curve, observations)
                                                     : asha(settings, curve, previousLength, observations);
}

std::optional<double> CurveObservations::doneMedianAt(qint64 step)
{
    QList<double> values;
    for (const QList<double> &c : doneCurves) {
        if (c.size() >= step)
            values.append(c[step - 1]);
    }
    return medianOf(values);
}

std::optional<RungStanding> CurveObservations::rungStanding(qint64 rungStep, double value, bool maximize)
{
    RungStanding s;
    for (const RungRecord &r : rungRecords) {
        if (r.rungStep != rungStep)
            continue;
        ++s.others;
        if (better(r.value, value, maximize))
            ++s.better;
    }
    return s;
}

std::optional<double> CurveObservations::rungValue(qint64 rungStep, qint64 index, bool maximize)
{
    QList<double> values;
    for (const RungRecord &r : rungRecords) {
        if (r.rungStep == rungStep)
            values.append(r.value);
    }
    std::sort(values.begin(), values.end(), [&](double a, double b) { return better(a, b, maximize); });
    if (index < 0 || index >= values.size())
        return NaN;
    return values[index];
}

} // namespace schedy::server::scheduling
