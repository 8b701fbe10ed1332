#pragma once

#include "Types.h"

#include <QString>

// Section 8's keys in words for people: `schedy show`, the dashboard's
// experiment header. One place, so that both say the same.
namespace schedy {

// "TPE on loss (minimize)", "grid, 60 points", "Sobol (seed 3)", "random".
QString describe(const SamplerSpec &sampler, const Scheduler &scheduler);
// "median on loss (minimize), after 5 DONE jobs, 0 warm-up steps",
// "ASHA on acc (maximize), rungs at steps 1, 4, 16..., keeps the best 1/4".
QString describe(const PrunerSpec &pruner);
// "600 s, 1 retry".
QString describe(const LeaseSpec &lease);

// The strategy in a few words for an experiment's header: "TPE on loss",
// "grid: 37 of 60 points" (points whose job is DONE or PRUNED, from the job
// counts), "Sobol"; then ", ASHA" or ", median rule", and ", lease 600 s".
// Empty for an experiment that uses none of section 8.
QString headline(const Experiment &experiment);

// Why a job was pruned: "at step 3 by the median rule: 0.85 worse than 0.61".
QString describe(const PruneInfo &pruned);
// A lost job: "at 2026-12-08 00:41:30 UTC (no word from its worker within the lease);
// replaced by Xy12ab" (or "not replaced").
QString describeLoss(const Job &job);

} // namespace schedy
