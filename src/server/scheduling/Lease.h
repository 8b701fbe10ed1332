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

// The lease clock of a server process: the shared reference (the database's
// clock; SQLite's processes share a host, so its wall clock) advanced between
// readings by this process's monotonic clock, so that every process reads
// (nearly) the same time and none is moved by its own wall clock. The
// reference is read again at every resync() (each lost-job check); a reading
// that differs from the monotonic prediction by more than StepTolerance is a
// step of the reference clock: the clock follows it, back or forward, and
// resync() reports it, so that the store restarts the leases measured across
// the step. Smaller differences (drift) are absorbed without going back.
class AnchoredClock
{
public:
    static constexpr double StepTolerance = 2; // seconds
    explicit AnchoredClock(std::function<std::optional<double>()> reference,
                           std::function<double()> steady = steadySecondsFunction());
    double operator()();
    // Reads the reference; the size of a step it took (0: none, or no answer).
    double resync();

private:
    static std::function<double()> steadySecondsFunction();
    void anchor(double reference, double steady);

    std::function<std::optional<double>()> m_reference;
    std::function<double()> m_steady;
    double m_anchor = 0;       // reference seconds at the anchor
    double m_anchorSteady = 0; // steady seconds at the anchor
    bool m_anchored = false;
    double m_floor = -1e300; // not below this until the next step
};

// This process's monotonic clock in seconds (CLOCK_BOOTTIME on Linux: it
// counts suspended time and is shared by the processes of one machine).
double steadySeconds();

} // namespace schedy::server::scheduling
