#pragma once

#include "Types.h"

#include <QList>
#include <QString>

#include <functional>
#include <optional>

// Lost workers (docs/protocol.md section 8.3) as pure functions: which RUNNING jobs
// are lost at a given time, and what takes their place. The store reads the
// RUNNING jobs and applies the losses in one transaction.
namespace schedy::server::scheduling {

// A RUNNING job as the lease sees it. Times are on the lease clock (see
// LeaseClock), not the wall clock.
struct LeasedJob
{
    qint64 seq = 0;
    QString id;
    double aliveAt = 0; // its last write: the claim, a report or a heartbeat
    qint64 retry = 0;   // replacements before it along its chain (0: the original job)
};

struct Loss
{
    qint64 seq = 0;
    QString id;
    bool replace = false; // Manual, RandomSearch: a QUEUED job with its hyperparameters
    qint64 retry = 0;     // the replacement's place in the chain
};

// Lost: its last write is more than `seconds` old.
bool isLost(double aliveAt, double now, double seconds);

// The lost ones among `running`, oldest write first. Under Manual and
// RandomSearch a lost job is replaced while its chain has had fewer than
// `retries` replacements; under PBT it is not (rule 6 gives its member back).
QList<Loss> expire(const QList<LeasedJob> &running, const LeaseSpec &settings, Scheduler::Kind scheduler,
                   double now);

// Seconds that only move forward, the same in every server process on one
// database: the store's lease clock. Injectable, so tests move time by hand.
using LeaseClock = std::function<double()>;

// A clock anchored once to `reference` (e.g. the database's clock) and then
// advanced by this process's monotonic clock; `resync` seconds later it
// anchors again, never going back.
class AnchoredClock
{
public:
    explicit AnchoredClock(std::function<std::optional<double>()> reference, double resync = 60);
    double operator()();

private:
    std::function<std::optional<double>()> m_reference;
    double m_resync;
    double m_anchor = 0;       // reference seconds at the anchor
    double m_anchorSteady = 0; // steady seconds at the anchor
    bool m_anchored = false;
    double m_last = 0;
};

// This process's monotonic clock in seconds (CLOCK_BOOTTIME on Linux: it
// counts suspended time and is shared by the processes of one machine).
double steadySeconds();

} // namespace schedy::server::scheduling
