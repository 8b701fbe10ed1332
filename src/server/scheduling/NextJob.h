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

#include "GridSampler.h"
#include "PbtPlanner.h"
#include "TpeSampler.h"
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
    bool gridJobs = false;   // grid: the point and status of every grid job
    bool sobolNext = false;  // sobol: the next index of the sequence
    bool tpe = false;        // tpe: every job's hyperparameters, status and result
    // The decision depends on the other jobs: the store decides for one experiment at a
    // time (on PostgreSQL, under a lock of the experiment row).
    bool serialize = false;
};

struct NextJobObservations
{
    QList<PbtJob> population;
    QList<GridJob> gridJobs;
    qint64 sobolNext = 0;
    QList<TpeObservation> tpe; // in creation order
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
    std::optional<qint64> gridIndex;  // Create: the grid point
    std::optional<qint64> sobolIndex; // Create: the index in the Sobol sequence
    bool ownMember = false;           // Create: the job starts its own PBT lineage
    PbtDecision pbt;                  // Continue
};

NextJobNeeds nextJobNeeds(const Experiment &e);
// `rng` serves samplers without a seed of their own; a seeded sampler draws from its
// seed and the number of jobs it has seen, so a fixed order of events repeats.
NextJobDecision decideNextJob(const Experiment &e, const NextJobObservations &o, Sampler &rng);

// What a job contributes to TPE: its status, hyperparameters and the numeric result
// `result` (a list counts by its last element and its length is the PRUNED curve's).
TpeObservation tpeObservation(JobStatus status, const QCborMap &hyperparameters, const QCborMap &results,
                              const QString &result);

// The hyperparameters of a PBT continuation, from its source's (explored only
// when the source is another member).
QCborMap continuedHyperparameters(const Experiment &e, const PbtDecision &d, const QCborMap &source,
                                  Sampler &rng);

// Whether a job leaving QUEUED/RUNNING may have finished the experiment (PBT
// rule 7, a grid's last point), so that the store checks it with finishedAfterJobEnded().
bool mayFinishWhenJobsEnd(const Experiment &e);
// With no job QUEUED or RUNNING: whether the experiment is finished.
bool finishedAfterJobEnded(const Experiment &e, const NextJobObservations &o);

} // namespace schedy::server
