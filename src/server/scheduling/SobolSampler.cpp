#include "SobolSampler.h"

#include "Sampler.h"
#include "SearchSpace.h"

#include <array>

namespace schedy::server {
namespace {

// new-joe-kuo-6.21201, dimensions 2 to 37: degree s, coefficients a, initial m_1..m_s.
struct JoeKuo
{
    int s;
    quint32 a;
    std::array<quint32, 7> m;
};
constexpr JoeKuo Table[SobolDimensions - 1] = {
    {1, 0, {1}},
    {2, 1, {1, 3}},
    {3, 1, {1, 3, 1}},
    {3, 2, {1, 1, 1}},
    {4, 1, {1, 1, 3, 3}},
    {4, 4, {1, 3, 5, 13}},
    {5, 2, {1, 1, 5, 5, 17}},
    {5, 4, {1, 1, 5, 5, 5}},
    {5, 7, {1, 1, 7, 11, 19}},
    {5, 11, {1, 1, 5, 1, 1}},
    {5, 13, {1, 1, 1, 3, 11}},
    {5, 14, {1, 3, 5, 5, 31}},
    {6, 1, {1, 3, 3, 9, 7, 49}},
    {6, 13, {1, 1, 1, 15, 21, 21}},
    {6, 16, {1, 3, 1, 13, 27, 49}},
    {6, 19, {1, 1, 1, 15, 7, 5}},
    {6, 22, {1, 3, 1, 15, 13, 25}},
    {6, 25, {1, 1, 5, 5, 19, 61}},
    {7, 1, {1, 3, 7, 11, 23, 15, 103}},
    {7, 4, {1, 3, 7, 13, 13, 15, 69}},
    {7, 7, {1, 1, 3, 13, 7, 35, 63}},
    {7, 8, {1, 3, 5, 9, 1, 25, 53}},
    {7, 14, {1, 3, 1, 13, 9, 35, 107}},
    {7, 19, {1, 3, 1, 5, 27, 61, 31}},
    {7, 21, {1, 1, 5, 11, 19, 41, 61}},
    {7, 28, {1, 3, 5, 3, 3, 13, 69}},
    {7, 31, {1, 1, 7, 13, 1, 19, 1}},
    {7, 32, {1, 3, 7, 5, 13, 19, 59}},
    {7, 37, {1, 1, 3, 9, 25, 29, 41}},
    {7, 41, {1, 3, 5, 13, 23, 1, 55}},
    {7, 42, {1, 3, 7, 3, 13, 59, 17}},
    {7, 50, {1, 3, 1, 3, 5, 53, 69}},
    {7, 55, {1, 1, 5, 5, 23, 33, 13}},
    {7, 56, {1, 1, 7, 7, 1, 61, 123}},
    {7, 59, {1, 1, 7, 9, 13, 61, 49}},
    {7, 62, {1, 3, 3, 5, 3, 55, 33}},
};

using Directions = std::array<quint32, 32>; // v_1..v_32, left-aligned

const std::array<Directions, SobolDimensions> &directions()
{
    static const std::array<Directions, SobolDimensions> all = [] {
        std::array<Directions, SobolDimensions> v{};
        for (int k = 0; k < 32; ++k)
            v[0][k] = quint32(1) << (31 - k);
        for (int d = 1; d < SobolDimensions; ++d) {
            const JoeKuo &jk = Table[d - 1];
            std::array<quint32, 32> m{};
            for (int k = 0; k < 32; ++k) {
                if (k < jk.s) {
                    m[k] = jk.m[k];
                    continue;
                }
                // m_k = 2 a_1 m_{k-1} ^ 4 a_2 m_{k-2} ^ ... ^ 2^s m_{k-s} ^ m_{k-s}
                quint32 value = m[k - jk.s] ^ (m[k - jk.s] << jk.s);
                for (int i = 1; i < jk.s; ++i) {
                    if ((jk.a >> (jk.s - 1 - i)) & 1)
                        value ^= m[k - i] << i;
                }
                m[k] = value;
            }
            for (int k = 0; k < 32; ++k)
                v[d][k] = m[k] << (31 - k);
        }
        return v;
    }();
    return all;
}

} // namespace

QList<quint32> sobolIntegers(quint64 index, int dimensions)
{
    const auto &v = directions();
    const quint64 gray = index ^ (index >> 1);
    QList<quint32> x(dimensions, 0);
    for (int d = 0; d < dimensions && d < SobolDimensions; ++d) {
        for (int k = 0; k < 32; ++k) {
            if ((gray >> k) & 1)
                x[d] ^= v[d][k];
        }
    }
    return x;
}

QList<quint32> scrambledSobolIntegers(quint64 index, int dimensions, quint64 seed)
{
    const auto &v = directions();
    const quint64 gray = index ^ (index >> 1);
    QList<quint32> x(dimensions, 0);
    for (int d = 0; d < dimensions; ++d) {
        Sampler rng(mixSeed(seed, quint64(d)));
        if (d >= SobolDimensions) { // no direction numbers: an independent draw
            Sampler extra(mixSeed(mixSeed(seed, quint64(d)), index));
            x[d] = quint32(extra.next() >> 32);
            continue;
        }
        // Linear matrix scramble: digit r of a scrambled direction is its digit r
        // plus a random combination of its earlier (more significant) digits.
        std::array<quint32, 32> rows{};
        for (int r = 0; r < 32; ++r) {
            const quint32 diagonal = quint32(1) << (31 - r);
            const quint32 above = r == 0 ? 0 : ~((quint32(1) << (32 - r)) - 1);
            rows[r] = diagonal | (quint32(rng.next() >> 32) & above);
        }
        const quint32 shift = quint32(rng.next() >> 32);
        quint32 value = 0;
        for (int k = 0; k < 32; ++k) {
            if (!((gray >> k) & 1))
                continue;
            quint32 scrambled = 0;
            for (int r = 0; r < 32; ++r) {
                if (__builtin_parity(v[d][k] & rows[r]))
                    scrambled |= quint32(1) << (31 - r);
            }
            value ^= scrambled;
        }
        x[d] = value ^ shift;
    }
    return x;
}

QCborMap sobolPoint(const Distributions &distributions, quint64 index, quint64 seed)
{
    int dimensions = 0;
    for (const NamedDistribution &nd : distributions)
        dimensions += isFixed(nd.distribution) ? 0 : 1;
    const QList<quint32> x = scrambledSobolIntegers(index, dimensions, seed);
    QCborMap hp;
    int d = 0;
    for (const NamedDistribution &nd : distributions) {
        if (isFixed(nd.distribution)) {
            hp.insert(nd.name, fromUnit(nd.distribution, 0.5));
            continue;
        }
        // The middle of the point's cell, never 0 (whose normal quantile is -inf).
        hp.insert(nd.name, fromUnit(nd.distribution, (double(x[d++]) + 0.5) * 0x1.0p-32));
    }
    return hp;
}

} // namespace schedy::server
