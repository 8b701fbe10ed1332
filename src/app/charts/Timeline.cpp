#include "Timeline.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <set>
#include <utility>
#include <vector>

namespace schedy::charts {

EdfData edf(const JobSource &source, const FieldKey &result)
{
    EdfData data;
    const int field = source.field(result);
    std::vector<double> values;
    for (int i = 0; i < source.count(); ++i) {
        if (source.status(i) != JobStatus::Done)
            continue;
        const auto v = field < 0 ? std::nullopt : resultNumber(source.value(i, field));
        if (v)
            values.push_back(*v);
        else
            ++data.skipped;
    }
    std::sort(values.begin(), values.end());
    const double n = double(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        // One step per distinct value, at the fraction after its last copy.
        if (i + 1 < values.size() && values[i + 1] == values[i])
            continue;
        data.steps.append(QPointF(values[i], double(i + 1) / n));
    }
    return data;
}

TimelineData timeline(const JobSource &source, double now, double minGap)
{
    TimelineData data;
    for (int i = 0; i < source.count(); ++i) {
        const double created = source.createdAt(i);
        const double modified = source.modifiedAt(i);
        if (!(created > 0) || !(modified > 0))
            continue;
        TimelineBar bar;
        bar.id = source.id(i);
        bar.status = source.status(i);
        bar.start = created;
        bar.end = std::max(created, modified);
        if ((bar.status == JobStatus::Queued || bar.status == JobStatus::Running) && now > bar.end)
            bar.end = now;
        if (bar.status == JobStatus::Crashed)
            ++data.crashed;
        data.bars.append(bar);
    }
    std::sort(data.bars.begin(), data.bars.end(), [](const TimelineBar &a, const TimelineBar &b) {
        return a.start != b.start ? a.start < b.start : a.id < b.id;
    });

    // Lanes: the lowest lane whose last bar ended by this bar's start.
    using Busy = std::pair<double, int>; // (end, lane)
    std::priority_queue<Busy, std::vector<Busy>, std::greater<Busy>> busy;
    std::set<int> free;
    for (TimelineBar &bar : data.bars) {
        while (!busy.empty() && busy.top().first <= bar.start) {
            free.insert(busy.top().second);
            busy.pop();
        }
        if (free.empty()) {
            bar.lane = data.laneCount++;
        } else {
            bar.lane = *free.begin();
            free.erase(free.begin());
        }
        busy.push({bar.end, bar.lane});
        data.start = std::isnan(data.start) ? bar.start : std::min(data.start, bar.start);
        data.end = std::isnan(data.end) ? bar.end : std::max(data.end, bar.end);
    }

    // Concurrency and idle gaps count jobs that ran: a QUEUED job waits.
    std::vector<std::pair<double, int>> events; // (time, +1 start / -1 end)
    for (const TimelineBar &bar : data.bars) {
        if (bar.status == JobStatus::Queued)
            continue;
        events.push_back({bar.start, +1});
        events.push_back({bar.end, -1});
    }
    std::sort(events.begin(), events.end());
    int running = 0;
    double idleSince = NaN;
    for (size_t k = 0; k < events.size();) {
        // All events of one instant together: a bar may start and end in it.
        const double t = events[k].first;
        int starts = 0, ends = 0;
        for (; k < events.size() && events[k].first == t; ++k)
            (events[k].second > 0 ? starts : ends) += 1;
        if (running == 0 && starts > 0 && !std::isnan(idleSince) && t - idleSince >= minGap)
            data.idleGaps.append({idleSince, t});
        data.peakConcurrency = std::max(data.peakConcurrency, running + starts);
        running += starts - ends;
        data.concurrency.append(QPointF(t, running));
        if (running == 0)
            idleSince = t;
    }
    return data;
}

} // namespace schedy::charts
