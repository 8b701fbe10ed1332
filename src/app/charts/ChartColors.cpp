#include "ChartColors.h"

#include <QtGlobal>

#include <algorithm>
#include <array>
#include <cmath>

namespace schedy::charts {

QColor categoryColor(int index)
{
    static constexpr std::array<QRgb, 20> palette = {
        0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf,
        0x0b4f7c, 0xb35806, 0x1b6e1b, 0x8e1b1b, 0x5e3c99, 0x5a3229, 0xad4f96, 0x4d4d4d, 0x858617, 0x0f7f8a};
    const int i = ((index % int(palette.size())) + int(palette.size())) % int(palette.size());
    return QColor::fromRgb(palette[size_t(i)]);
}

QColor viridis(double t)
{
    // Nine samples of matplotlib's viridis, linearly interpolated.
    static constexpr std::array<std::array<double, 3>, 9> stops = {{{0.267, 0.005, 0.329},
                                                                    {0.278, 0.175, 0.483},
                                                                    {0.230, 0.322, 0.546},
                                                                    {0.173, 0.449, 0.558},
                                                                    {0.128, 0.567, 0.551},
                                                                    {0.153, 0.680, 0.504},
                                                                    {0.360, 0.785, 0.388},
                                                                    {0.668, 0.862, 0.196},
                                                                    {0.993, 0.906, 0.144}}};
    if (std::isnan(t))
        return QColor(0xb0, 0xb0, 0xb0);
    t = qBound(0.0, t, 1.0) * double(stops.size() - 1);
    const size_t i = std::min(size_t(t), stops.size() - 2);
    const double f = t - double(i);
    auto mix = [&](int c) {
        return stops[i][size_t(c)] * (1 - f) + stops[i + 1][size_t(c)] * f;
    };
    return QColor::fromRgbF(float(mix(0)), float(mix(1)), float(mix(2)));
}

} // namespace schedy::charts
