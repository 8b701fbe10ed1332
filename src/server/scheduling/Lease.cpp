#include "Lease.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>

namespace schedy::server::scheduling {

bool isLost(double aliveAt, double now, double seconds)
{
    return now - aliveAt > seconds;
}

QList<Loss> expire(const QList<LeasedJob> &running, const LeaseSpec &settings, Scheduler::Kind scheduler,
                   double now)
{
    QList<LeasedJob> lost;
    for (const LeasedJob &j : running) {
        if (isLost(j.aliveAt, now, double(settings.seconds)))
            lost.append(j);
    }
    std::stable_sort(lost.begin(), lost.end(), [](const LeasedJob &a, const LeasedJob &b) {
        return a.aliveAt < b.aliveAt || (a.aliveAt == b.aliveAt && a.seq < b.seq);
    });
    QList<Loss> out;
    for (const LeasedJob &j : lost) {
        Loss l;
        l.seq = j.seq;
        l.id = j.id;
        l.replace = scheduler != Scheduler::Kind::Pbt && j.retry < settings.effectiveRetries();
        l.retry = j.retry + 1;
        out.append(l);
    }
    return out;
}

double steadySeconds()
{
#ifdef CLOCK_BOOTTIME
    timespec ts{};
    if (clock_gettime(CLOCK_BOOTTIME, &ts) == 0)
        return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
#endif
    using namespace std::chrono;
    return double(duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count()) / 1e6;
}

std::function<double()> AnchoredClock::steadySecondsFunction()
{
    return &steadySeconds;
}

AnchoredClock::AnchoredClock(std::function<std::optional<double>()> reference, std::function<double()> steady)
    : m_reference(std::move(reference))
    , m_steady(std::move(steady))
{}

void AnchoredClock::anchor(double reference, double steady)
{
    m_anchor = reference;
    m_anchorSteady = steady;
    m_anchored = true;
}

double AnchoredClock::operator()()
{
    if (!m_anchored)
        resync();
    const double t = m_anchor + (m_steady() - m_anchorSteady);
    m_floor = std::max(m_floor, t); // drift corrections never move it back
    return m_floor;
}

double AnchoredClock::resync()
{
    const double steady = m_steady();
    const auto r = m_reference();
    if (!m_anchored) {
        // Without a reference yet, the wall clock stands in until one answers
        // (which then counts as a step if they differ).
        using namespace std::chrono;
        anchor(r ? *r
                 : double(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()) / 1e6,
               steady);
        return 0;
    }
    if (!r)
        return 0; // keep the anchor: the monotonic clock carries on
    const double predicted = m_anchor + (steady - m_anchorSteady);
    const double step = *r - predicted;
    anchor(*r, steady);
    if (std::abs(step) <= StepTolerance)
        return 0;
    m_floor = -1e300; // a step is followed, back as well
    return step;
}

} // namespace schedy::server::scheduling
