#include "PbtPlanner.h"

#include "Json.h"
#include "Sampler.h"

#include <QHash>
#include <QSet>

#include <algorithm>
#include <cmath>

namespace schedy::server {

std::optional<double> qualityOf(const QCborMap &results, const QString &name)
{
    const QCborValue v = results.value(name);
    if (!json::isNumber(v))
        return std::nullopt;
    const double d = json::toDouble(v);
    if (!std::isfinite(d))
        return std::nullopt;
    return d;
}

QCborMap perturb(const QCborMap &hyperparameters, const QList<Perturb> &explore, Sampler &sampler)
{
    QCborMap out = hyperparameters;
    for (const Perturb &p : explore) {
        const QCborValue v = out.value(p.name);
        if (!json::isNumber(v))
            continue;
        const double factor =
            p.minFactor == p.maxFactor ? p.minFactor : sampler.uniform(p.minFactor, p.maxFactor);
        if (v.isInteger())
            out.insert(p.name, qint64(std::llround(double(v.toInteger()) * factor)));
        else
            out.insert(p.name, v.toDouble() * factor);
    }
    return out;
}

PbtDecision planPbt(const QList<PbtJob> &jobs, const PbtSettings &settings, Sampler &sampler)
{
    PbtDecision decision;

    // Rule 6: a job is continued while a non-crashed job continues it; a crash
    // gives the predecessor back.
    QSet<QString> continued;
    qint64 generationZero = 0;
    bool busy = false;
    for (const PbtJob &j : jobs) {
        if (!j.predecessor.isEmpty() && j.status != JobStatus::Crashed)
            continued.insert(j.predecessor);
        if (j.generation == 0 && j.status != JobStatus::Crashed)
            ++generationZero;
        if (j.status == JobStatus::Queued || j.status == JobStatus::Running)
            busy = true;
    }

    // Rule 2.
    if (generationZero < settings.population()) {
        decision.kind = PbtDecision::Kind::CreateInitial;
        return decision;
    }

    // Rule 3: the member that became ready first.
    const PbtJob *picked = nullptr;
    for (const PbtJob &j : jobs) {
        if (j.status != JobStatus::Done || !j.quality || continued.contains(j.id))
            continue;
        if (settings.maxGenerations && j.generation + 1 >= *settings.maxGenerations)
            continue;
        if (!picked || j.readyAt < picked->readyAt || (j.readyAt == picked->readyAt && j.seq < picked->seq))
            picked = &j;
    }
    if (!picked) {
        // Rule 7.
        decision.kind =
            settings.maxGenerations && !busy ? PbtDecision::Kind::Finished : PbtDecision::Kind::Wait;
        return decision;
    }

    // Rule 4: rank the latest DONE job of every lineage.
    QHash<QString, const PbtJob *> latest;
    for (const PbtJob &j : jobs) {
        if (j.status != JobStatus::Done || !j.quality)
            continue;
        const QString member = j.member.isEmpty() ? j.id : j.member;
        const PbtJob *&slot = latest[member];
        if (!slot || j.generation > slot->generation ||
            (j.generation == slot->generation && j.seq > slot->seq))
            slot = &j;
    }
    QList<const PbtJob *> ranked = latest.values();
    const bool maximize = settings.objective == Objective::Maximize;
    std::sort(ranked.begin(), ranked.end(), [maximize](const PbtJob *a, const PbtJob *b) {
        if (*a->quality != *b->quality)
            return maximize ? *a->quality > *b->quality : *a->quality < *b->quality;
        return a->seq < b->seq;
    }); // best first
    const qsizetype n = ranked.size();
    // floor(n p), read as the user meant it: 100 * 0.29 is 28.999999999999996 in floating point.
    const qsizetype k = std::max<qsizetype>(1, qsizetype(std::floor(double(n) * settings.truncate + 1e-9)));
    bool amongWorst = false;
    for (qsizetype i = n - k; i < n; ++i)
        amongWorst = amongWorst || ranked[i]->id == picked->id;

    const PbtJob *source = picked;
    if (amongWorst)
        source = ranked[sampler.index(std::min(k, n))];

    decision.kind = PbtDecision::Kind::Continue;
    decision.picked = picked->id;
    decision.source = source->id;
    decision.generation = picked->generation + 1;
    decision.member = picked->member.isEmpty() ? picked->id : picked->member;
    return decision;
}

} // namespace schedy::server
