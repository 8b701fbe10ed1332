#pragma once

// The scheduling layer's answer to `nextjob/` when no QUEUED job is free: a
// new job, the continuation of a PBT member, nothing yet, or the end of the
// experiment. Pure and seedable: the store reads the observations a policy
// asks for inside its transaction, calls decideNextJob(), and applies the
// decision in that same transaction.
//
// The hand-out order every store follows (docs/protocol.md section 5):
//   1. a paused or finished experiment hands out nothing;
//   2. the oldest QUEUED job nobody was just given (manual jobs, replacements);
//   3. decideNextJob();
//   4. on Wait, a QUEUED job even if another worker holds its short
//      reservation (that worker may have died: the ETag decides who claims it).
//
// Further policies follow the same shape, each in its own file: a settings
// value on the experiment, the observations it needs as plain values, and a
// pure function returning a decision that the store applies in the
// transaction of the request that triggered it.

#include "PbtPlanner.h"
#include "Types.h"

#include <QCborMap>
#include <QList>

#include <optional>

namespace schedy {
class Sampler;
}

namespace schedy::server {

// Which observations decideNextJob() needs for an experiment.
struct NextJobNeeds
{
    bool population = false; // PBT: every job's lineage and quality
};

struct NextJobObservations
{
    QList<PbtJob> population;
};

struct NextJobDecision
{
    enum class Kind {
        Create,   // a new QUEUED job with `hyperparameters`
        Continue, // PBT: continue `pbt.picked` from `pbt.source` (see continuedHyperparameters)
        Wait,     // nothing new now: step 4
        Finish    // nothing left to do: the experiment becomes DONE
    };
    Kind kind = Kind::Wait;
    QCborMap hyperparameters;         // Create
    std::optional<qint64> generation; // Create: PBT generation 0
    bool ownMember = false;           // Create: the job starts its own PBT lineage
    PbtDecision pbt;                  // Continue
};

NextJobNeeds nextJobNeeds(const Experiment &e);
NextJobDecision decideNextJob(const Experiment &e, const NextJobObservations &o, Sampler &rng);

// The hyperparameters of a PBT continuation, from its source's (explored only
// when the source is another member).
QCborMap continuedHyperparameters(const Experiment &e, const PbtDecision &d, const QCborMap &source,
                                  Sampler &rng);

// Whether a job leaving QUEUED/RUNNING may have finished the experiment (PBT
// rule 7), so that the store checks it with finishedAfterJobEnded().
bool mayFinishWhenJobsEnd(const Experiment &e);
// With no job QUEUED or RUNNING: whether the experiment is finished.
bool finishedAfterJobEnded(const Experiment &e, const NextJobObservations &o);

} // namespace schedy::server
