#pragma once

#include "ChartData.h"

#include <QList>
#include <QPointF>
#include <QString>

// Data of the EDF and timeline charts, free of widgets like the rest of
// ChartData: plain values in, plain values out, any thread.
namespace schedy::charts {

// Empirical distribution of a result over DONE jobs (a curve by its last
// point): the fraction of jobs whose value is at most x, as steps.
struct EdfData
{
    QList<QPointF> steps; // (value, fraction), values ascending, fractions in (0, 1]
    int skipped = 0;      // DONE jobs without a numeric result
    double min() const { return steps.isEmpty() ? NaN : steps.first().x(); }
    double max() const { return steps.isEmpty() ? NaN : steps.last().x(); }
};
EdfData edf(const JobSource &source, const FieldKey &result);

// One bar per job from its creation to its last change. Bars are packed into
// as few lanes as possible (a job takes the first lane free at its start), so
// the number of lanes is the most jobs that existed at once, and a lane reads
// like a worker's history.
struct TimelineBar
{
    QString id;
    JobStatus status = JobStatus::Done;
    double start = 0;
    double end = 0;
    int lane = 0;
};
struct TimelineGap
{
    double start = 0;
    double end = 0;
};
struct TimelineData
{
    QList<TimelineBar> bars; // by start time, then id
    int laneCount = 0;
    // How many RUNNING or finished jobs' bars overlapped, as steps (time, count).
    QList<QPointF> concurrency;
    int peakConcurrency = 0;
    // Stretches with no job's bar open, at least `minGap` long.
    QList<TimelineGap> idleGaps;
    double start = NaN;
    double end = NaN;
    int crashed = 0;
};
// Jobs without times are left out; `now` ends the bars of QUEUED and RUNNING
// jobs (they are still going) when it is later than their last change.
TimelineData timeline(const JobSource &source, double now, double minGap = 60);

} // namespace schedy::charts
