#pragma once

#include "ChartData.h"
#include "ExportableChart.h"
#include "LatestOnly.h"
#include "ZoomPanGesture.h"

#include <QImage>
#include <QPolygonF>
#include <QSet>
#include <QTimer>
#include <QWidget>

#include <atomic>
#include <functional>

class QThread;

namespace schedy::charts {

// Parallel coordinates, painted by hand (one polyline per job over every
// hyperparameter axis and the result, which Qt Charts has no series for).
// Lines are coloured by the result, the best drawn last; the result axis is
// drawn as the colour scale. Zoom and pan act on all axes together (drag a
// rectangle, wheel, right-drag; double-click resets).
//
// The lines are a layer cached as an image, so plain repaints (hover,
// tooltips, rubber band) are blits. Up to asyncThreshold() lines the layer is
// rendered in paintEvent(), hover included, exactly as before; beyond, a
// worker thread renders it from a snapshot of the data while the UI shows the
// previous layer, mapped onto the current zoom and size, with a "rendering"
// hint. A generation counter cancels stale renders and discards their images.
class ParallelCoordinatesChart : public QWidget, public ExportableChart
{
    Q_OBJECT
public:
    explicit ParallelCoordinatesChart(QWidget *parent = nullptr);
    ~ParallelCoordinatesChart() override;

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
    // An axis' name as painted above it: the result axis' is never elided
    // (on two lines, moved left of the widget's edge if need be), the
    // others are elided to the room between their neighbours.
    struct AxisTitle
    {
        QStringList lines;
        QRectF box; // widget coordinates
    };
    AxisTitle axisTitle(int axis, const QRectF &rect) const;
    QSize sizeHint() const override { return {900, 500}; }

    // More lines than this are rendered off the UI thread (tests lower it).
    static void setAsyncThreshold(int lines);
    static int asyncThreshold();
    bool isAsync() const { return m_data.lineCount() > asyncThreshold(); }
    // True while the layer shown is not the one for the current data, zoom,
    // size and selection (a render is pending or in flight).
    bool isLayerStale() const;
    // The cached line layer (transparent outside the lines), plot-sized.
    QImage layerImage() const { return m_layer.image; }
    // Renders started, and stale ones dropped (skipped, cancelled, or
    // finished after newer data and never shown).
    int renderCount() const { return m_renderCount; }
    int discardedRenders() const { return m_renderer.skippedCount() + m_renderer.discardedCount(); }
    qint64 lastRenderMs() const { return m_lastRenderMs; }

Q_SIGNALS:
    void jobClicked(const QString &id, Qt::KeyboardModifiers modifiers);
    void zoomChanged(bool zoomed);
    void renderStarted();
    // A worker's layer arrived and is shown (the next paint blits it).
    void layerRendered();

protected:
    void paintEvent(QPaintEvent *event) override;
    void hover(const QPoint &pos);
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void leaveEvent(QEvent *event) override;

private:
    // What a layer image depends on; the hovered line only when rendered
    // on the UI thread (the worker's layers leave it to paintEvent()).
    struct LayerKey
    {
        quint64 data = 0;
        quint64 selection = 0;
        QRectF view;
        QRectF plot;
        qreal dpr = 0;
        QString hovered;
        bool operator==(const LayerKey &o) const
        {
            return data == o.data && selection == o.selection && view == o.view && plot == o.plot &&
                   dpr == o.dpr && hovered == o.hovered;
        }
        bool operator!=(const LayerKey &o) const { return !(*this == o); }
    };
    struct Layer
    {
        QImage image;
        QRect rect; // widget coordinates the image covers
        LayerKey key;
    };
    struct LineJob;

    void paintChart(QPainter &painter, const QRectF &rect, bool onScreen);
    void paintLayer(QPainter &painter, const QRectF &plot);
    LayerKey currentKey(const QRectF &plot) const;
    LineJob makeJob(const QRectF &plot, bool withHover) const;
    void requestRender(const LayerKey &key);
    void cancelRender();
    void startRender();
    void takeLayer(const QImage &image, const QRect &rect, const LayerKey &key, qint64 ms);
    QRectF plotRect(const QRectF &rect) const;
    QFont titleFont() const;
    // The result axis' name and objective as lines that fit between `left`
    // and `right` (set here): never elided.
    QStringList resultTitleLines(const QRectF &rect, qreal *left, qreal *right) const;
    QPointF toPixel(const QRectF &plot, double axis, double position) const;
    QPointF toWorld(const QRectF &plot, const QPointF &pixel) const;
    double rating(int line) const { return m_ratings[line]; } // 1 = best
    QColor lineColor(int line) const;
    void setView(const QRectF &view);
    QRectF fullView() const;

    ParallelData m_data;
    QString m_result;
    QString m_title;
    Objective m_objective = Objective::Minimize;
    QList<float> m_ratings; // by line
    QList<int> m_order;     // worst first
    QSet<QString> m_selected;
    QString m_hovered;
    std::function<QString(const QString &)> m_describe;
    QRectF m_view{0, 0, 1, 1};
    bool m_zoomed = false;
    int m_paintCount = 0;

    // The line layer and its renders (by m_renderer, declared last).
    Layer m_layer;
    quint64 m_dataGeneration = 0;
    quint64 m_selectionGeneration = 0;
    LayerKey m_pendingKey; // key the render timer waits to render
    LayerKey m_inFlight;   // key of the worker's current render
    bool m_rendering = false;
    int m_renderCount = 0;
    qint64 m_lastRenderMs = 0;
    QTimer m_renderTimer; // debounces resizes, zooms and pans into one render
    ZoomPanGesture m_gesture;
    // Last: destroyed first, it stops and waits for a render in flight.
    LatestOnly m_renderer{QStringLiteral("parallel-coordinates"), QThread::LowPriority};
};

} // namespace schedy::charts
