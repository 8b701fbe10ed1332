#pragma once

#include <QColor>

// Colours shared by the charts: a categorical palette that stays readable
// for many lines, and a perceptually uniform map for values.
namespace schedy::charts {

// 20 distinct colours (Tableau 10 and their light variants, dark ones first).
QColor categoryColor(int index);
// Viridis: t in [0, 1], dark purple to yellow.
QColor viridis(double t);
// A colour for the value t in [0, 1] where 1 is the best: dark = good.
inline QColor qualityColor(double t)
{
    return viridis(1.0 - t);
}

} // namespace schedy::charts
