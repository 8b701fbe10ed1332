#pragma once

#include "DataLayerItem.h"
#include "ExportableChart.h"
#include "ZoomPanGesture.h"

#include <QChartView>
#include <QPointer>
#include <QSet>

#include <functional>

class QAbstractAxis;
class QLineSeries;
class QScatterSeries;

namespace schedy::charts {

// Base of the Qt Charts based charts: one QChart with two axes, the bulk
// data in a DataLayerItem, legend entries as empty series. Zoom: drag a
// rectangle or turn the wheel; pan: drag with the right or middle button (or
// Shift and the left one); reset: double-click or resetZoom(). A click on a
// point or line reports its job (jobClicked); hovering shows its description.
// While the user is zoomed in, new data keeps the visible range.
class XYChartView : public QChartView, public ExportableChart
{
    Q_OBJECT
public:
    struct LegendEntry
    {
        QString name;
        QColor color;
        bool line = false; // a line, else a marker
        DataLayerItem::Shape shape = DataLayerItem::Shape::Circle;
        Qt::PenStyle style = Qt::SolidLine;
        friend bool operator==(const LegendEntry &a, const LegendEntry &b)
        {
            return a.name == b.name && a.color == b.color && a.line == b.line && a.shape == b.shape &&
                   a.style == b.style;
        }
    };

    explicit XYChartView(QWidget *parent = nullptr);
    ~XYChartView() override;

    DataLayerItem *layer() const { return m_layer; }
    QAbstractAxis *axisX() const { return m_axisX; }
    QAbstractAxis *axisY() const { return m_axisY; }
    QList<LegendEntry> legendEntries() const { return m_legend; }

    void setSelectedIds(const QSet<QString> &ids);

    // Point sets of at least this many points (default 50,000) are drawn by
    // a Qt Charts OpenGL scatter series where OpenGlProbe finds a usable,
    // accelerated context (never offscreen); `evenInSoftware` accepts a
    // software rasteriser too. Exports paint them as usual. 0 turns it off.
    static void setOpenGlThreshold(qsizetype points, bool evenInSoftware = false);
    static qsizetype openGlThreshold();
    int openGlSeriesCount() const;
    // Tooltip text for a job (id, status, hyperparameters), given by the panel.
    void setJobDescriber(std::function<QString(const QString &id)> describe)
    {
        m_describe = std::move(describe);
    }

    QString chartTitle() const override;
    QSize exportSize() const override;
    void renderChart(QPainter *painter, const QRectF &target) override;
    void resetZoom() override;
    bool isZoomed() const override { return m_zoomed; }

    // The user's gestures, callable directly (tests, keyboard).
    void zoomBy(qreal factor, const QPointF &chartCenter);
    void zoomToRect(const QRectF &chartRect);
    void pan(qreal dx, qreal dy); // pixels; positive dx shows what is to the right

Q_SIGNALS:
    void jobClicked(const QString &id, Qt::KeyboardModifiers modifiers);
    void zoomChanged(bool zoomed);

protected:
    // Replaces an axis (its kind changed); the new one is owned by the chart.
    void setAxis(Qt::Orientation orientation, QAbstractAxis *axis);
    // The range shown while not zoomed; `pad` adds a margin. Category axes
    // pass their exact range.
    void setAxisBounds(Qt::Orientation orientation, double min, double max, bool pad = true);
    // Value axes with whole-number ticks only (counts, generations).
    void setIntegerTicks(Qt::Orientation orientation, bool on);
    void setLegendEntries(const QList<LegendEntry> &entries);
    // The layer's data; big point sets may go to OpenGL series.
    void setLayerData(QList<DataLayerItem::Line> lines, QList<DataLayerItem::PointSet> pointSets,
                      QList<DataLayerItem::Label> labels = {});

    virtual QString hoverText(const DataLayerItem::Hit &hit) const;
    virtual QSet<QString> hoverEmphasis(const DataLayerItem::Hit &hit) const { return {hit.id}; }
    virtual bool dimOnHover() const { return false; }
    QString describeJob(const QString &id) const;

    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void mouseDoubleClickEvent(QMouseEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void leaveEvent(QEvent *event) override;
    bool viewportEvent(QEvent *event) override;

private:
    struct Bounds
    {
        double min = 0, max = 1;
        bool pad = true;
        bool valid = false;
    };
    void applyBounds();
    void applyBounds(QAbstractAxis *axis, const Bounds &bounds);
    void updateTicks(QAbstractAxis *axis);
    void attachAll(QAbstractSeries *series);
    void updateOpenGlSeries();
    // Runs `change` (adding or removing series) without moving what the user sees.
    void keepingRanges(const std::function<void()> &change);
    void setZoomed(bool zoomed);
    void hover(const QPoint &viewportPos);
    void clearHover();
    QPointF toChart(const QPoint &viewportPos) const;

    DataLayerItem *m_layer;
    QLineSeries *m_anchor; // keeps zoom and pan working: they act on series' domains
    QAbstractAxis *m_axisX = nullptr;
    QAbstractAxis *m_axisY = nullptr;
    Bounds m_boundsX, m_boundsY;
    bool m_integerX = false, m_integerY = false;
    QList<LegendEntry> m_legend;
    QList<QAbstractSeries *> m_legendSeries;
    QList<QScatterSeries *> m_glSeries; // by point set; nullptr: painted by the layer
    std::function<QString(const QString &)> m_describe;
    bool m_zoomed = false;
    bool m_applying = false;
    // Gestures.
    ZoomPanGesture m_gesture;
    QString m_hoverId;
};

} // namespace schedy::charts
