#pragma once

// What the samplers share about a RandomSearch's hyperparameters: the normal
// distribution's functions, and a point of the unit cube mapped through each
// distribution (Sobol) or a hyperparameter value mapped back (TPE).

#include "Types.h"

#include <QCborValue>

#include <optional>

namespace schedy::server {

// The standard normal CDF, and its complement (accurate far in the upper tail).
double normalCdf(double x);
// The standard normal quantile, p in (0, 1); accurate to ~1e-15 relative.
double normalQuantile(double p);

// u in [0, 1) through the distribution: uniform and loguniform (in log space)
// linearly, normal by its inverse CDF, choice by its weights (equal when none),
// const as its value.
QCborValue fromUnit(const Distribution &d, double u);

// Whether the hyperparameter takes a single value (const, a choice of one):
// samplers spend no dimension on it.
bool isFixed(const Distribution &d);

// The index of `value` among a choice's values, or nullopt.
std::optional<qsizetype> choiceIndex(const Distribution &d, const QCborValue &value);

// A stable 64-bit mix (splitmix64), for seeds derived from other numbers.
quint64 mixSeed(quint64 a, quint64 b);

} // namespace schedy::server
