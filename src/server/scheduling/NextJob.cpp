#include "NextJob.h"

#include "Sampler.h"

namespace schedy::server {

NextJobNeeds nextJobNeeds(const Experiment &e)
{
    NextJobNeeds needs;
    needs.population = e.scheduler.kind == Scheduler::Kind::Pbt;
    return needs;
}

NextJobDecision decideNextJob(const Experiment &e, const NextJobObservations &o, Sampler &rng)
{
    const Scheduler &s = e.scheduler;
    NextJobDecision d;
    switch (s.kind) {
    case Scheduler::Kind::Manual:
        break;
    case Scheduler::Kind::RandomSearch:
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
    return e.scheduler.kind == Scheduler::Kind::Pbt && e.scheduler.pbt.maxGenerations &&
           e.status == ExperimentStatus::Running;
}

bool finishedAfterJobEnded(const Experiment &e, const NextJobObservations &o)
{
    Sampler unused{0}; // only an exploit would draw from it
    return planPbt(o.population, e.scheduler.pbt, unused).kind == PbtDecision::Kind::Finished;
}

} // namespace schedy::server
