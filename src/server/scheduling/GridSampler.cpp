#include "GridSampler.h"

#include "SearchSpace.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace schedy::server {

QList<QCborValue> Grid::axis(const Distribution &d, qint64 steps)
{
    QList<QCborValue> values;
    const qint64 n = std::max<qint64>(1, steps);
    auto spaced = [&](double low, double high, auto map) {
        for (qint64 i = 0; i < n; ++i) {
            const double t = n == 1 ? 0.5 : double(i) / double(n - 1);
            values.append(map(i == n - 1 && n > 1 ? high : low + (high - low) * t));
        }
    };
    switch (d.kind) {
    case Distribution::Kind::Choice:
        for (qsizetype i = 0; i < d.values.size(); ++i)
            values.append(d.values.at(i));
        break;
    case Distribution::Kind::Const:
        values.append(d.constant);
        break;
    case Distribution::Kind::Uniform:
        spaced(d.low, d.high, [](double x) { return x; });
        break;
    case Distribution::Kind::LogUniform:
        spaced(std::log(d.low), std::log(d.high), [&](double x) {
            // The ends exactly as the user wrote them, not exp(log(x)).
            const double v = std::exp(x);
            return x == std::log(d.low) ? d.low : x == std::log(d.high) ? d.high : v;
        });
        break;
    case Distribution::Kind::Normal:
        for (qint64 i = 0; i < n; ++i)
            values.append(d.mean + d.std * normalQuantile((double(i) + 0.5) / double(n)));
        break;
    }
    return values;
}

Grid::Grid(const Distributions &distributions, const QMap<QString, qint64> &steps)
{
    for (const NamedDistribution &nd : distributions) {
        m_names.append(nd.name);
        m_axes.append(axis(nd.distribution, steps.value(nd.name, 1)));
        m_size *= std::max<qsizetype>(1, m_axes.last().size());
    }
}

QCborMap Grid::point(qint64 index) const
{
    QCborMap hp;
    // Mixed radix, the last hyperparameter varying fastest.
    for (qsizetype k = m_axes.size() - 1; k >= 0; --k) {
        const QList<QCborValue> &axis = m_axes[k];
        if (axis.isEmpty()) {
            hp.insert(m_names[k], QCborValue(QCborValue::Null));
            continue;
        }
        hp.insert(m_names[k], axis.at(index % axis.size()));
        index /= axis.size();
    }
    // In the experiment's order, as other samplers write them.
    QCborMap ordered;
    for (const QString &name : m_names)
        ordered.insert(name, hp.value(name));
    return ordered;
}

GridDecision decideGrid(qint64 size, const QList<GridJob> &jobs)
{
    std::vector<qint64> held; // points a live or finished job holds
    bool running = false;
    for (const GridJob &j : jobs) {
        if (j.index < 0 || j.index >= size)
            continue;
        if (j.status == JobStatus::Queued || j.status == JobStatus::Running)
            running = true;
        if (j.status != JobStatus::Crashed)
            held.push_back(j.index);
    }
    std::sort(held.begin(), held.end());
    held.erase(std::unique(held.begin(), held.end()), held.end());
    GridDecision d;
    // The smallest point not held: the first place where held[i] != i.
    const auto gap = std::partition_point(held.begin(), held.end(),
                                          [&](const qint64 &v) { return v == qint64(&v - held.data()); });
    const qint64 next = qint64(gap - held.begin());
    if (next < size) {
        d.kind = GridDecision::Kind::Create;
        d.index = next;
    } else {
        d.kind = running ? GridDecision::Kind::Wait : GridDecision::Kind::Finish;
    }
    return d;
}

} // namespace schedy::server
