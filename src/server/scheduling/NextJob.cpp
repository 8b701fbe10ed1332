#include "NextJob.h"

#include "Json.h"
#include "Sampler.h"
#include "SearchSpace.h"
#include "SobolSampler.h"

#include <QCborArray>
#include <QCryptographicHash>

namespace schedy::server {

namespace {

std::optional<SamplerSpec::Kind> samplerOf(const Experiment &e)
{
    if (e.scheduler.kind != Scheduler::Kind::RandomSearch || !e.sampler)
        return std::nullopt;
    return e.sampler->kind;
}

// A Sobol sequence without a seed is still one sequence for every server process:
// scrambled from the experiment's name.
quint64 sobolSeed(const Experiment &e)
{
    if (e.sampler->seed)
        return quint64(*e.sampler->seed);
    const QByteArray h = QCryptographicHash::hash(e.name.toUtf8(), QCryptographicHash::Sha256);
    quint64 seed = 0;
    for (int i = 0; i < 8; ++i)
        seed = (seed << 8) | quint8(h[i]);
    return seed;
}

NextJobDecision create(const QCborMap &hyperparameters)
{
    NextJobDecision d;
    d.kind = NextJobDecision::Kind::Create;
    d.hyperparameters = hyperparameters; // QCborMap (Qt 6.4) has no move assignment
    return d;
}

NextJobDecision decideSampler(const Experiment &e, const NextJobObservations &o, Sampler &rng)
{
    const SamplerSpec &spec = *e.sampler;
    const Distributions &space = e.scheduler.distributions;
    switch (spec.kind) {
    case SamplerSpec::Kind::Random:
        break;
    case SamplerSpec::Kind::Grid: {
        const Grid grid(space, spec.steps);
        const GridDecision g = decideGrid(grid.size(), o.gridJobs);
        NextJobDecision d;
        if (g.kind == GridDecision::Kind::Create) {
            d = create(grid.point(g.index));
            d.gridIndex = g.index;
        } else {
            d.kind = g.kind == GridDecision::Kind::Finish ? NextJobDecision::Kind::Finish
                                                          : NextJobDecision::Kind::Wait;
        }
        return d;
    }
    case SamplerSpec::Kind::Sobol: {
        NextJobDecision d = create(sobolPoint(space, quint64(o.sobolNext), sobolSeed(e)));
        d.sobolIndex = o.sobolNext;
        return d;
    }
    case SamplerSpec::Kind::Tpe: {
        TpeSettings settings;
        settings.startupJobs = spec.tpeStartupJobs();
        settings.candidates = spec.tpeCandidates();
        settings.minimize = spec.direction == Objective::Minimize;
        if (spec.seed) {
            Sampler seeded(mixSeed(quint64(*spec.seed), quint64(o.tpe.size())));
            return create(suggestTpe(space, o.tpe, settings, seeded));
        }
        return create(suggestTpe(space, o.tpe, settings, rng));
    }
    }
    return create(rng.sample(space));
}

} // namespace

NextJobNeeds nextJobNeeds(const Experiment &e)
{
    NextJobNeeds needs;
    needs.population = e.scheduler.kind == Scheduler::Kind::Pbt;
    const auto sampler = samplerOf(e);
    needs.gridJobs = sampler == SamplerSpec::Kind::Grid;
    needs.sobolNext = sampler == SamplerSpec::Kind::Sobol;
    needs.tpe = sampler == SamplerSpec::Kind::Tpe;
    needs.serialize = needs.population || needs.gridJobs || needs.sobolNext || needs.tpe;
    return needs;
}

TpeObservation tpeObservation(JobStatus status, const QCborMap &hyperparameters, const QCborMap &results,
                              const QString &result)
{
    TpeObservation o;
    o.status = status;
    o.hyperparameters = hyperparameters;
    QCborValue v = results.value(result);
    if (v.isArray()) {
        const QCborArray curve = v.toArray();
        o.steps = curve.size();
        v = curve.isEmpty() ? QCborValue() : curve.last();
    } else if (json::isNumber(v)) {
        o.steps = 1;
    }
    if (json::isNumber(v))
        o.value = json::toDouble(v);
    else
        o.steps = 0; // nothing numeric reported
    return o;
}

NextJobDecision decideNextJob(const Experiment &e, const NextJobObservations &o, Sampler &rng)
{
    const Scheduler &s = e.scheduler;
    NextJobDecision d;
    switch (s.kind) {
    case Scheduler::Kind::Manual:
        break;
    case Scheduler::Kind::RandomSearch:
        if (e.sampler)
            return decideSampler(e, o, rng);
        d.kind = NextJobDecision::Kind::Create;
        d.hyperparameters = rng.sample(s.distributions);
        break;
    case Scheduler::Kind::Pbt: {
        d.pbt = planPbt(o.population, s.pbt, rng);
        switch (d.pbt.kind) {
        case PbtDecision::Kind::CreateInitial:
            d.kind = NextJobDecision::Kind::Create;
            d.hyperparameters = rng.sample(s.pbt.init);
            d.generation = 0;
            d.ownMember = true;
            break;
        case PbtDecision::Kind::Continue:
            d.kind = NextJobDecision::Kind::Continue;
            break;
        case PbtDecision::Kind::Finished:
            d.kind = NextJobDecision::Kind::Finish;
            break;
        case PbtDecision::Kind::Wait:
            break;
        }
        break;
    }
    }
    return d;
}

QCborMap continuedHyperparameters(const Experiment &e, const PbtDecision &d, const QCborMap &source,
                                  Sampler &rng)
{
    return d.source != d.picked ? perturb(source, e.scheduler.pbt.explore, rng) : source;
}

bool mayFinishWhenJobsEnd(const Experiment &e)
{
    if (e.status != ExperimentStatus::Running)
        return false;
    return (e.scheduler.kind == Scheduler::Kind::Pbt && e.scheduler.pbt.maxGenerations) ||
           samplerOf(e) == SamplerSpec::Kind::Grid;
}

bool finishedAfterJobEnded(const Experiment &e, const NextJobObservations &o)
{
    if (samplerOf(e) == SamplerSpec::Kind::Grid)
        return decideGrid(Grid(e.scheduler.distributions, e.sampler->steps).size(), o.gridJobs).kind ==
               GridDecision::Kind::Finish;
    Sampler unused{0}; // only an exploit would draw from it
    return planPbt(o.population, e.scheduler.pbt, unused).kind == PbtDecision::Kind::Finished;
}

} // namespace schedy::server
