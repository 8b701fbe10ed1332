#include "Lease.h"

#include <algorithm>
#include <chrono>
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

AnchoredClock::AnchoredClock(std::function<std::optional<double>()> reference, double resync)
    : m_reference(std::move(reference))
    , m_resync(resync)
{}

double AnchoredClock::operator()()
{
    const double steady = steadySeconds();
    if (!m_anchored || steady - m_anchorSteady >= m_resync) {
        const auto r = m_reference();
        if (r || !m_anchored) {
            // Without a reference yet, the wall clock stands in until one answers.
            using namespace std::chrono;
            m_anchor =
                r ? *r
                  : double(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()) / 1e6;
            m_anchorSteady = steady;
            m_anchored = r.has_value() || m_anchored;
        }
    }
    const double t = m_anchor + (steady - m_anchorSteady);
    m_last = std::max(m_last, t); // a re-anchor never moves it back
    return m_last;
}

} // namespace schedy::server::scheduling
