#pragma once

// Population Based Training (docs/protocol.md section 5): which member to continue,
// from which source, and the explore step. Pure and seedable.

#include "Types.h"

#include <QCborMap>
#include <QList>
#include <QString>

#include <optional>

namespace schedy {
class Sampler;
}

namespace schedy::server {

// What the PBT scheduler needs to know of a job (docs/protocol.md section 5).
struct PbtJob
{
    qint64 seq = 0; // insertion order
    QString id;
    JobStatus status = JobStatus::Queued;
    qint64 generation = 0;
    QString member;      // lineage: id of the member's generation-0 job
    QString predecessor; // the job this one continues (same member)
    std::optional<double> quality;
    double readyAt = 0; // when it became DONE
};

struct PbtDecision
{
    enum class Kind {
        CreateInitial, // rule 2: a new generation-0 member drawn from init
        Continue,      // rules 3-5: continue `picked` from `source`
        Wait,          // 204: every member is busy
        Finished       // rule 7: nothing left to do; the experiment becomes DONE
    };
    Kind kind = Kind::Wait;
    QString picked;
    QString source;
    qint64 generation = 0;
    QString member;
};

// Decides rules 2-7 for a population whose QUEUED jobs have been handed out
// already (rule 1 is a plain query). Pure: the store feeds it a snapshot
// taken inside the transaction that applies the decision.
PbtDecision planPbt(const QList<PbtJob> &jobs, const PbtSettings &settings, Sampler &sampler);

// The explore step: each perturbed numeric hyperparameter is multiplied by a
// factor drawn from [minFactor, maxFactor); integers stay integers.
QCborMap perturb(const QCborMap &hyperparameters, const QList<Perturb> &explore, Sampler &sampler);

// The quality of a result map: the named result when it is a finite number.
std::optional<double> qualityOf(const QCborMap &results, const QString &name);

} // namespace schedy::server
