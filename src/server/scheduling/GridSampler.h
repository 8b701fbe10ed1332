#pragma once

// Grid search (docs/protocol.md section 8.1): every combination of the
// hyperparameters' values, each point handed out once. Points are numbered
// with the first hyperparameter varying slowest; which point comes next is
// decided from the points the experiment's jobs hold, so a point whose job
// CRASHED (or was deleted) is handed out again.

#include "Types.h"

#include <QCborMap>
#include <QList>
#include <QMap>

#include <optional>

namespace schedy::server {

class Grid
{
public:
    // steps: points per numeric hyperparameter (one missing counts as 1 point).
    Grid(const Distributions &distributions, const QMap<QString, qint64> &steps);

    qint64 size() const { return m_size; }
    // The hyperparameters of point `index`, 0 <= index < size().
    QCborMap point(qint64 index) const;
    // The values of one hyperparameter's axis: a choice's values (weights ignored), a
    // const's value, n evenly spaced points of a uniform/loguniform's own scale (both
    // ends included; the middle when n is 1), the quantiles (i + 1/2)/n of a normal.
    static QList<QCborValue> axis(const Distribution &d, qint64 steps);

private:
    QList<QString> m_names;
    QList<QList<QCborValue>> m_axes;
    qint64 m_size = 1;
};

struct GridJob
{
    qint64 index = 0;
    JobStatus status = JobStatus::Queued;
};

struct GridDecision
{
    enum class Kind { Create, Wait, Finish };
    Kind kind = Kind::Wait;
    qint64 index = 0; // Create
};

// The smallest point no QUEUED, RUNNING, DONE or PRUNED job holds; none left:
// Wait while some job still runs, Finish once every point has a DONE or PRUNED job.
GridDecision decideGrid(qint64 size, const QList<GridJob> &jobs);

} // namespace schedy::server
