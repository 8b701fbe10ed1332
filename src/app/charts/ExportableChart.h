#pragma once

#include <QPointF>
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

// The charts' keyboard zoom: + and - zoom about `center`, the arrows pan by
// 40 px, 0, Home and Esc reset. False for any other key (the caller passes it
// on to its base class).
template <typename Chart> bool navigateByKey(Chart &chart, int key, const QPointF &center)
{
    switch (key) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
        chart.zoomBy(1.25, center);
        return true;
    case Qt::Key_Minus:
        chart.zoomBy(0.8, center);
        return true;
    case Qt::Key_Left:
        chart.pan(-40, 0);
        return true;
    case Qt::Key_Right:
        chart.pan(40, 0);
        return true;
    case Qt::Key_Up:
        chart.pan(0, 40);
        return true;
    case Qt::Key_Down:
        chart.pan(0, -40);
        return true;
    case Qt::Key_0:
    case Qt::Key_Home:
    case Qt::Key_Escape:
        chart.resetZoom();
        return true;
    default:
        return false;
    }
}

} // namespace schedy::charts
