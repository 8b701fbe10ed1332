#pragma once

#include "Types.h"

#include <QCborMap>
#include <QCborValue>

#include <random>

namespace schedy {

// Draws hyperparameter values. Seedable so that tests and previews are
// reproducible; the server seeds it from the system's entropy.
class Sampler
{
public:
    explicit Sampler(quint64 seed);
    Sampler(); // random seed

    QCborValue sample(const Distribution &d);
    // A choice's value at u in [0, 1): by its cumulative weights (equal when none).
    static QCborValue choiceAt(const Distribution &d, double u);
    QCborMap sample(const Distributions &ds);
    double uniform01(); // [0, 1)
    double uniform(double low, double high) { return low + (high - low) * uniform01(); }
    quint64 next() { return m_engine(); }
    // Index in [0, n), n > 0.
    qsizetype index(qsizetype n);

private:
    std::mt19937_64 m_engine;
};

} // namespace schedy
