#pragma once

#include "ChartData.h"
#include "ExportableChart.h"

#include <QPolygonF>
#include <QSet>
#include <QWidget>

#include <functional>

class QRubberBand;

namespace schedy::charts {

// Parallel coordinates, painted by hand (one polyline per job over every
// hyperparameter axis and the result, which Qt Charts has no series for).
// Lines are coloured by the result, the best drawn last; the result axis is
// drawn as the colour scale. Zoom and pan act on all axes together (drag a
// rectangle, wheel, right-drag; double-click resets).
class ParallelCoordinatesChart : public QWidget, public ExportableChart
{
    Q_OBJECT
public:
    explicit ParallelCoordinatesChart(QWidget *parent = nullptr);

    void setData(ParallelData data, const QString &result, Objective objective);
    const ParallelData &data() const { return m_data; }
    void setSelectedIds(const QSet<QString> &ids);
    void setJobDescriber(std::function<QString(const QString &id)> describe)
    {
        m_describe = std::move(describe);
    }

    QString chartTitle() const override { return m_title; }
    QSize exportSize() const override { return size(); }
    void renderChart(QPainter *painter, const QRectF &target) override;
    void resetZoom() override;
    bool isZoomed() const override { return m_zoomed; }

    void zoomBy(qreal factor, const QPointF &center);
    void pan(qreal dx, qreal dy); // pixels
    // The visible part of the chart: x in axis indices, y in [0, 1].
    QRectF visibleRange() const { return m_view; }
    // The line under a widget position (-1: none), as last painted.
    int lineAt(const QPointF &position, qreal radius = 5) const;
    int paintCount() const { return m_paintCount; }
    QSize sizeHint() const override { return {900, 500}; }

Q_SIGNALS:
    void jobClicked(const QString &id, Qt::KeyboardModifiers modifiers);
    void zoomChanged(bool zoomed);

protected:
    void paintEvent(QPaintEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void leaveEvent(QEvent *event) override;

private:
    void paintChart(QPainter &painter, const QRectF &rect);
    QRectF plotRect(const QRectF &rect) const;
    QPointF toPixel(const QRectF &plot, double axis, double position) const;
    QPointF toWorld(const QRectF &plot, const QPointF &pixel) const;
    double rating(int line) const; // 1 = best
    QColor lineColor(int line) const;
    void setView(const QRectF &view);
    QRectF fullView() const;

    ParallelData m_data;
    QString m_result;
    QString m_title;
    Objective m_objective = Objective::Minimize;
    QList<int> m_order; // worst first
    QSet<QString> m_selected;
    QString m_hovered;
    std::function<QString(const QString &)> m_describe;
    QRectF m_view{0, 0, 1, 1};
    bool m_zoomed = false;
    QList<QPolygonF> m_painted; // by line, widget coordinates of the last on-screen paint
    int m_paintCount = 0;
    enum class Drag { None, Pending, Zoom, Pan };
    Drag m_drag = Drag::None;
    QPoint m_pressPos, m_lastPos;
    QRubberBand *m_rubberBand = nullptr;
};

} // namespace schedy::charts
