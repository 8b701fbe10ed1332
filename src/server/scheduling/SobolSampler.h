#pragma once

// Scrambled Sobol sequence (docs/protocol.md section 8.1): point `index` of a
// sequence with Joe and Kuo's direction numbers (new-joe-kuo-6.21201), in
// Gray-code order as their generator and scipy number it, scrambled by a
// random linear matrix and a digital shift drawn from the seed (scipy's
// scramble), then mapped through each distribution. Pure: a point depends on
// the seed and its index only, so any server process computes the same one.

#include "Types.h"

#include <QCborMap>
#include <QList>

namespace schedy::server {

// Dimensions with published direction numbers; further ones (more varying
// hyperparameters than that) are drawn independently from the seed and index.
constexpr int SobolDimensions = 37;

// The unit-cube point `index` of the unscrambled sequence, as 32-bit integers
// (divide by 2^32): the first is 0, the second is all 2^31.
QList<quint32> sobolIntegers(quint64 index, int dimensions);
// The same point scrambled with `seed`.
QList<quint32> scrambledSobolIntegers(quint64 index, int dimensions, quint64 seed);

// Hyperparameters of point `index`: one dimension per hyperparameter that is not
// fixed (see isFixed()), in the experiment's order.
QCborMap sobolPoint(const Distributions &distributions, quint64 index, quint64 seed);

} // namespace schedy::server
