#pragma once

#include <QRectF>
#include <QSize>
#include <QString>

class QPainter;

namespace schedy::charts {

// What every chart offers the panel: painting for export (PNG, SVG) and
// zoom control. Implemented by QChartView and QWidget subclasses alike.
class ExportableChart
{
public:
    virtual ~ExportableChart() = default;
    virtual QString chartTitle() const = 0;
    virtual QSize exportSize() const = 0;
    // Paints the whole chart into `target` (vector painters stay vector).
    virtual void renderChart(QPainter *painter, const QRectF &target) = 0;
    virtual void resetZoom() = 0;
    virtual bool isZoomed() const = 0;
};

} // namespace schedy::charts
