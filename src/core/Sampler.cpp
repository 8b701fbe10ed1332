#include "Sampler.h"

#include <QRandomGenerator>

#include <algorithm>
#include <cmath>

namespace schedy {

Sampler::Sampler(quint64 seed)
    : m_engine(seed)
{}

Sampler::Sampler()
    : m_engine(QRandomGenerator::system()->generate64())
{}

double Sampler::uniform01()
{
    // 53 random bits: exactly representable, never 1.0.
    return double(m_engine() >> 11) * 0x1.0p-53;
}

qsizetype Sampler::index(qsizetype n)
{
    if (n <= 0) // not a valid call; avoid dividing by zero
        return 0;
    return qsizetype(uniform01() * double(n)) % n;
}

QCborValue Sampler::choiceAt(const Distribution &d, double u)
{
    if (d.values.isEmpty())
        return QCborValue(QCborValue::Null);
    if (d.weights.isEmpty())
        return d.values.at(std::min(d.values.size() - 1, qsizetype(u * double(d.values.size()))));
    double total = 0;
    for (double w : d.weights)
        total += w;
    double r = u * total;
    qsizetype last = 0;
    for (qsizetype i = 0; i < d.weights.size() && i < d.values.size(); ++i) {
        if (d.weights[i] <= 0)
            continue;
        last = i;
        if (r < d.weights[i])
            return d.values.at(i);
        r -= d.weights[i];
    }
    return d.values.at(last);
}

QCborValue Sampler::sample(const Distribution &d)
{
    switch (d.kind) {
    case Distribution::Kind::Uniform: {
        const double u = uniform01();
        const double width = d.high - d.low;
        // When high - low overflows (e.g. [-1e308, 1e308)), weighing the ends stays finite.
        const double x = std::isfinite(width) ? d.low + width * u : d.low * (1 - u) + d.high * u;
        return x < d.high ? x : d.low; // rounding can reach high; keep [low, high)
    }
    case Distribution::Kind::LogUniform: {
        const double x = std::exp(uniform(std::log(d.low), std::log(d.high)));
        return x < d.high && x >= d.low ? x : d.low;
    }
    case Distribution::Kind::Normal: {
        if (d.std == 0)
            return d.mean;
        // Box-Muller keeps the result independent of the standard library.
        double u1 = uniform01();
        while (u1 <= 0)
            u1 = uniform01();
        const double u2 = uniform01();
        return d.mean + d.std * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
    }
    case Distribution::Kind::Choice:
        return choiceAt(d, uniform01());
    case Distribution::Kind::Const:
        return d.constant;
    }
    return {};
}

QCborMap Sampler::sample(const Distributions &ds)
{
    QCborMap o;
    for (const NamedDistribution &nd : ds)
        o.insert(nd.name, sample(nd.distribution));
    return o;
}

} // namespace schedy
