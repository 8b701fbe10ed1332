#pragma once

#include <QImage>
#include <QString>

namespace schedy::charts {

class ExportableChart;

// Writes a chart as it is shown (zoom included) to PNG or SVG.
class ChartExporter
{
public:
    // The chart at `scale` times its on-screen size, on white.
    static QImage toImage(ExportableChart &chart, qreal scale = 1.0);
    static bool savePng(ExportableChart &chart, const QString &path, QString *error = nullptr,
                        qreal scale = 2.0);
    static bool saveSvg(ExportableChart &chart, const QString &path, QString *error = nullptr);
};

} // namespace schedy::charts
