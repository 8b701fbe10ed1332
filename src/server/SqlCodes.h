#pragma once

// The database codes of job and experiment statuses. They are stored in every
// existing database: never renumber them, and give a new status a new code.
// They are independent of the enums' order on purpose.

#include "Types.h"

#include <optional>

namespace schedy::server::sqlcode {

constexpr int Queued = 0; // written literally ("status = 0") in the scheduling SQL
constexpr int Running = 1;
constexpr int Crashed = 2;
constexpr int Pruned = 3;
constexpr int Done = 4;

constexpr int of(JobStatus s)
{
    switch (s) {
    case JobStatus::Queued:
        return Queued;
    case JobStatus::Running:
        return Running;
    case JobStatus::Crashed:
        return Crashed;
    case JobStatus::Pruned:
        return Pruned;
    case JobStatus::Done:
        return Done;
    }
    return Queued;
}

constexpr std::optional<JobStatus> jobStatus(int code)
{
    switch (code) {
    case Queued:
        return JobStatus::Queued;
    case Running:
        return JobStatus::Running;
    case Crashed:
        return JobStatus::Crashed;
    case Pruned:
        return JobStatus::Pruned;
    case Done:
        return JobStatus::Done;
    default:
        return std::nullopt;
    }
}

constexpr int ExperimentRunning = 0; // written literally ("status = 1") where an experiment finishes
constexpr int ExperimentDone = 1;

constexpr int of(ExperimentStatus s)
{
    return s == ExperimentStatus::Running ? ExperimentRunning : ExperimentDone;
}

constexpr ExperimentStatus experimentStatus(int code)
{
    return code == ExperimentRunning ? ExperimentStatus::Running : ExperimentStatus::Done;
}

} // namespace schedy::server::sqlcode
