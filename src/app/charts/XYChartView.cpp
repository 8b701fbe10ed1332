#include "XYChartView.h"

#include "ChartData.h"
#include "OpenGlProbe.h"

#include <QCategoryAxis>
#include <QCoreApplication>
#include <QGraphicsLayout>
#include <QGraphicsScene>
#include <QHelpEvent>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QMouseEvent>
#include <QScatterSeries>
#include <QToolTip>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace schedy::charts {

namespace {

Qt::Alignment alignmentOf(Qt::Orientation o)
{
    return o == Qt::Horizontal ? Qt::AlignBottom : Qt::AlignLeft;
}

QPair<double, double> rangeOf(QAbstractAxis *axis)
{
    if (auto *v = qobject_cast<QValueAxis *>(axis))
        return {v->min(), v->max()};
    if (auto *l = qobject_cast<QLogValueAxis *>(axis))
        return {l->min(), l->max()};
    return {0, 1};
}

void setRangeOf(QAbstractAxis *axis, const QPair<double, double> &range)
{
    if (auto *v = qobject_cast<QValueAxis *>(axis))
        v->setRange(range.first, range.second);
    else if (auto *l = qobject_cast<QLogValueAxis *>(axis))
        l->setRange(range.first, range.second);
}

qsizetype s_openGlThreshold = 50000;
bool s_openGlForced = false;

} // namespace

void XYChartView::setOpenGlThreshold(qsizetype points, bool evenInSoftware)
{
    s_openGlThreshold = points;
    s_openGlForced = evenInSoftware;
}
qsizetype XYChartView::openGlThreshold()
{
    return s_openGlThreshold;
}

int XYChartView::openGlSeriesCount() const
{
    return int(
        std::count_if(m_glSeries.begin(), m_glSeries.end(), [](QScatterSeries *s) { return s != nullptr; }));
}

void XYChartView::keepingRanges(const std::function<void()> &change)
{
    const auto shownX = rangeOf(m_axisX), shownY = rangeOf(m_axisY);
    const bool applying = m_applying;
    m_applying = true;
    change();
    if (m_zoomed) {
        setRangeOf(m_axisX, shownX);
        setRangeOf(m_axisY, shownY);
        m_applying = applying;
    } else {
        m_applying = applying;
        applyBounds();
    }
}

void XYChartView::setLayerData(QList<DataLayerItem::Line> lines, QList<DataLayerItem::PointSet> pointSets,
                               QList<DataLayerItem::Label> labels)
{
    m_layer->setData(std::move(lines), std::move(pointSets), std::move(labels));
    updateOpenGlSeries();
}

void XYChartView::updateOpenGlSeries()
{
    const QList<DataLayerItem::PointSet> &sets = m_layer->pointSets();
    const bool gl =
        s_openGlThreshold > 0 && (s_openGlForced ? OpenGlProbe::available() : OpenGlProbe::worthwhile());
    QSet<int> unpainted;
    bool changed = false;
    for (int i = 0; i < sets.size(); ++i) {
        if (gl && sets[i].points.size() >= s_openGlThreshold && sets[i].colors.isEmpty())
            unpainted.insert(i);
    }
    if (m_glSeries.size() < sets.size())
        m_glSeries.resize(sets.size(), nullptr);
    for (int i = 0; i < m_glSeries.size(); ++i)
        changed = changed || (m_glSeries[i] != nullptr) != unpainted.contains(i);
    auto update = [&] {
        for (int i = 0; i < m_glSeries.size(); ++i) {
            QScatterSeries *&series = m_glSeries[i];
            if (!unpainted.contains(i)) {
                if (series) {
                    chart()->removeSeries(series);
                    delete series;
                    series = nullptr;
                }
                continue;
            }
            if (!series) {
                series = new QScatterSeries;
                series->setUseOpenGL(true);
                chart()->addSeries(series);
                attachAll(series);
                for (QLegendMarker *m : chart()->legend()->markers(series))
                    m->setVisible(false);
            }
        }
    };
    if (changed)
        keepingRanges(update);
    while (!m_glSeries.isEmpty() && !m_glSeries.last())
        m_glSeries.removeLast();
    for (int i : std::as_const(unpainted)) {
        const DataLayerItem::PointSet &set = sets[i];
        QScatterSeries *series = m_glSeries[i];
        series->setColor(set.color);
        series->setBorderColor(Qt::transparent);
        series->setMarkerSize(set.size);
        series->replace(set.points);
    }
    m_layer->setUnpaintedSets(unpainted);
}

XYChartView::XYChartView(QWidget *parent)
    : QChartView(parent)
    , m_gesture(
          viewport(),
          {[this](const QPoint &pos) { hover(pos); }, [this] { clearHover(); },
           [this](const QRectF &r) {
               zoomToRect(
                   QRectF(toChart(r.topLeft().toPoint()), toChart(r.bottomRight().toPoint())).normalized() &
                   chart()->plotArea());
           },
           [this](int dx, int dy) { pan(dx, dy); },
           [this](qreal factor, const QPointF &at) { zoomBy(factor, toChart(at.toPoint())); },
           [this](const QPoint &pos, Qt::KeyboardModifiers modifiers) {
               const DataLayerItem::Hit hit = m_layer->hitTest(toChart(pos));
               if (hit.isValid())
                   Q_EMIT jobClicked(hit.id, modifiers);
           },
           [this](const QPoint &pos) { return m_layer->hitTest(toChart(pos)).isValid(); },
           [this] {
               resetZoom();
           }})
{
    auto *c = new QChart;
    c->setAnimationOptions(QChart::NoAnimation);
    c->setBackgroundRoundness(0);
    c->setDropShadowEnabled(false);
    c->setMargins(QMargins(6, 6, 12, 6));
    c->legend()->setAlignment(Qt::AlignBottom);
    c->legend()->setMarkerShape(QLegend::MarkerShapeFromSeries);
    QFont titleFont = c->titleFont();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.1);
    c->setTitleFont(titleFont);
    setChart(c);
    setFrameShape(QFrame::NoFrame);
    setRenderHint(QPainter::Antialiasing);
    setRubberBand(QChartView::NoRubberBand); // ours: see the mouse events
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    // One repaint per change of the scene, never a partial one that could
    // show the old and the new data side by side.
    setViewportUpdateMode(QGraphicsView::FullViewportUpdate);

    m_layer = new DataLayerItem(c);
    m_anchor = new QLineSeries;
    c->addSeries(m_anchor);
    setAxis(Qt::Horizontal, new QValueAxis);
    setAxis(Qt::Vertical, new QValueAxis);
    for (QLegendMarker *m : c->legend()->markers(m_anchor))
        m->setVisible(false);
}

XYChartView::~XYChartView() = default;

void XYChartView::attachAll(QAbstractSeries *series)
{
    for (QAbstractAxis *a : series->attachedAxes())
        series->detachAxis(a);
    if (m_axisX)
        series->attachAxis(m_axisX);
    if (m_axisY)
        series->attachAxis(m_axisY);
}

void XYChartView::setAxis(Qt::Orientation orientation, QAbstractAxis *axis)
{
    QAbstractAxis *&slot = orientation == Qt::Horizontal ? m_axisX : m_axisY;
    if (slot == axis)
        return;
    m_applying = true; // attaching series moves ranges: not the user's doing
    QString title;
    if (slot) {
        title = slot->titleText();
        slot->setVisible(false); // its items go with the next event loop pass
        chart()->removeAxis(slot);
        delete slot;
    }
    slot = axis;
    axis->setTitleText(title);
    chart()->addAxis(axis, alignmentOf(orientation));
    attachAll(m_anchor);
    for (QAbstractSeries *s : std::as_const(m_legendSeries))
        attachAll(s);
    m_layer->setAxes(m_axisX, m_axisY);
    if (auto *v = qobject_cast<QValueAxis *>(axis)) {
        v->setLabelFormat(QStringLiteral("%.4g"));
        if (!qobject_cast<QCategoryAxis *>(axis)) {
            connect(v, &QValueAxis::rangeChanged, this, [this, v] {
                updateTicks(v);
                if (!m_applying)
                    setZoomed(true); // Qt Charts zoomed or scrolled
            });
        }
    } else if (auto *l = qobject_cast<QLogValueAxis *>(axis)) {
        l->setBase(10);
        l->setLabelFormat(QStringLiteral("%g"));
        l->setMinorTickCount(8);
        l->setMinorGridLinePen(QPen(QColor(0xee, 0xee, 0xee), 1));
        connect(l, &QLogValueAxis::rangeChanged, this, [this] {
            if (!m_applying)
                setZoomed(true);
        });
    }
    if (auto *c = qobject_cast<QCategoryAxis *>(axis)) {
        connect(c, &QValueAxis::rangeChanged, this, [this] {
            if (!m_applying)
                setZoomed(true);
        });
    }
    m_applying = false;
    if (m_zoomed)
        setZoomed(false); // a new axis starts unzoomed
    applyBounds();
}

void XYChartView::setAxisBounds(Qt::Orientation orientation, double min, double max, bool pad)
{
    Bounds &b = orientation == Qt::Horizontal ? m_boundsX : m_boundsY;
    b.valid = std::isfinite(min) && std::isfinite(max);
    if (b.valid) {
        b.min = min;
        b.max = max;
    }
    b.pad = pad;
    if (!m_zoomed)
        applyBounds(orientation == Qt::Horizontal ? m_axisX : m_axisY, b);
}

void XYChartView::setIntegerTicks(Qt::Orientation orientation, bool on)
{
    (orientation == Qt::Horizontal ? m_integerX : m_integerY) = on;
    updateTicks(orientation == Qt::Horizontal ? m_axisX : m_axisY);
}

void XYChartView::applyBounds()
{
    applyBounds(m_axisX, m_boundsX);
    applyBounds(m_axisY, m_boundsY);
}

void XYChartView::applyBounds(QAbstractAxis *axis, const Bounds &b)
{
    if (!axis)
        return;
    m_applying = true;
    if (auto *l = qobject_cast<QLogValueAxis *>(axis)) {
        double lo = b.valid && b.min > 0 ? std::log10(b.min) : -1;
        double hi = b.valid && b.max > 0 ? std::log10(b.max) : 1;
        if (hi - lo < 1e-9) {
            lo -= 0.5;
            hi += 0.5;
        } else if (b.pad) {
            const double margin = (hi - lo) * 0.04;
            lo -= margin;
            hi += margin;
        }
        l->setRange(std::pow(10.0, lo), std::pow(10.0, hi));
    } else if (auto *v = qobject_cast<QValueAxis *>(axis)) {
        // Dynamic ticks keep the old interval while the range changes: from
        // 0..1 to 0..100000 that would be half a million labels for a moment.
        if (!qobject_cast<QCategoryAxis *>(axis))
            v->setTickType(QValueAxis::TicksFixed);
        double lo = b.valid ? b.min : 0, hi = b.valid ? b.max : 1;
        if (hi - lo <= std::abs(hi) * 1e-12) {
            const double margin = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
            lo -= margin;
            hi += margin;
        } else if (b.pad) {
            const double margin = (hi - lo) * 0.04;
            lo -= margin;
            hi += margin;
        }
        v->setRange(lo, hi);
    }
    m_applying = false;
    updateTicks(axis);
}

void XYChartView::updateTicks(QAbstractAxis *axis)
{
    auto *v = qobject_cast<QValueAxis *>(axis);
    if (!v || qobject_cast<QCategoryAxis *>(axis))
        return;
    const bool integer = axis == m_axisX ? m_integerX : m_integerY;
    const int count = axis == m_axisX ? std::max(3, width() / 110) : std::max(3, height() / 70);
    const QList<double> ticks = niceTicks(v->min(), v->max(), count);
    double step = ticks.size() > 1 ? ticks[1] - ticks[0] : (v->max() - v->min()) / 2;
    if (integer)
        step = std::max(1.0, std::round(step));
    if (!(step > 0))
        return;
    v->setTickType(QValueAxis::TicksDynamic);
    v->setTickAnchor(0);
    v->setTickInterval(step);
    v->setLabelFormat(integer ? QStringLiteral("%.0f") : QStringLiteral("%.4g"));
}

void XYChartView::setLegendEntries(const QList<LegendEntry> &entries)
{
    if (entries == m_legend)
        return;
    m_legend = entries;
    keepingRanges([&] {
        for (QAbstractSeries *s : std::as_const(m_legendSeries)) {
            chart()->removeSeries(s);
            delete s;
        }
        m_legendSeries.clear();
        for (const LegendEntry &e : entries) {
            QXYSeries *s = nullptr;
            if (e.line) {
                auto *line = new QLineSeries;
                line->setPen(QPen(e.color, 2.0, e.style));
                s = line;
            } else {
                auto *scatter = new QScatterSeries;
                switch (e.shape) {
                case DataLayerItem::Shape::Circle:
                    scatter->setMarkerShape(QScatterSeries::MarkerShapeCircle);
                    break;
                case DataLayerItem::Shape::Square:
                    scatter->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
                    break;
                case DataLayerItem::Shape::Diamond:
                    scatter->setMarkerShape(QScatterSeries::MarkerShapeRotatedRectangle);
                    break;
                case DataLayerItem::Shape::Triangle:
                    scatter->setMarkerShape(QScatterSeries::MarkerShapeTriangle);
                    break;
                }
                scatter->setColor(e.color);
                scatter->setBorderColor(e.color.darker(130));
                scatter->setMarkerSize(9);
                s = scatter;
            }
            s->setName(e.name);
            chart()->addSeries(s);
            attachAll(s);
            m_legendSeries.append(s);
        }
        chart()->legend()->setVisible(!entries.isEmpty());
    });
}

void XYChartView::setSelectedIds(const QSet<QString> &ids)
{
    m_layer->setSelectedIds(ids);
}

QString XYChartView::describeJob(const QString &id) const
{
    return m_describe ? m_describe(id) : QStringLiteral("<b>%1</b>").arg(id.toHtmlEscaped());
}

QString XYChartView::hoverText(const DataLayerItem::Hit &hit) const
{
    return describeJob(hit.id);
}

QString XYChartView::chartTitle() const
{
    return chart()->title();
}

QSize XYChartView::exportSize() const
{
    return viewport()->size();
}

void XYChartView::renderChart(QPainter *painter, const QRectF &target)
{
    // Without the transient hover emphasis: export what the data says.
    const QString hovered = m_hoverId;
    if (!hovered.isEmpty())
        m_layer->setHoveredIds({}, false);
    // Layout is deferred to the event loop; an export right after new data
    // must not show the previous axes and legend.
    QCoreApplication::sendPostedEvents(nullptr, QEvent::LayoutRequest); // the chart's and the legend's
    if (chart()->layout())
        chart()->layout()->activate();
    if (chart()->legend()->layout())
        chart()->legend()->layout()->activate();
    // OpenGL series draw on a GL surface, not through QPainter: the layer
    // paints their points for the export.
    const QSet<int> unpainted = m_layer->unpaintedSets();
    for (QScatterSeries *s : std::as_const(m_glSeries)) {
        if (s)
            s->setVisible(false);
    }
    m_layer->setUnpaintedSets({});
    const QRectF source = chart()->mapRectToScene(QRectF(QPointF(0, 0), chart()->size()));
    scene()->render(painter, target, source, Qt::IgnoreAspectRatio);
    m_layer->setUnpaintedSets(unpainted);
    for (QScatterSeries *s : std::as_const(m_glSeries)) {
        if (s)
            s->setVisible(true);
    }
    if (!hovered.isEmpty())
        m_layer->setHoveredIds(hoverEmphasis({hovered, -1, -1, -1, {}}), dimOnHover());
}

void XYChartView::setZoomed(bool zoomed)
{
    if (zoomed == m_zoomed)
        return;
    m_zoomed = zoomed;
    Q_EMIT zoomChanged(zoomed);
}

void XYChartView::resetZoom()
{
    for (QAbstractAxis *axis : {m_axisX, m_axisY}) {
        auto *v = qobject_cast<QValueAxis *>(axis);
        if (v && !qobject_cast<QCategoryAxis *>(axis))
            v->setTickType(QValueAxis::TicksFixed); // see applyBounds()
    }
    if (chart()->isZoomed()) {
        m_applying = true;
        chart()->zoomReset();
        m_applying = false;
    }
    setZoomed(false);
    applyBounds();
}

void XYChartView::zoomBy(qreal factor, const QPointF &center)
{
    const QRectF plot = chart()->plotArea();
    if (plot.isEmpty() || factor <= 0)
        return;
    const QPointF c(qBound(plot.left(), center.x(), plot.right()),
                    qBound(plot.top(), center.y(), plot.bottom()));
    const QRectF rect(c.x() - (c.x() - plot.left()) / factor, c.y() - (c.y() - plot.top()) / factor,
                      plot.width() / factor, plot.height() / factor);
    zoomToRect(rect);
}

void XYChartView::zoomToRect(const QRectF &rect)
{
    if (rect.width() < 2 || rect.height() < 2)
        return;
    chart()->zoomIn(rect);
    setZoomed(true);
}

void XYChartView::pan(qreal dx, qreal dy)
{
    chart()->scroll(dx, dy);
    setZoomed(true);
}

QPointF XYChartView::toChart(const QPoint &pos) const
{
    return chart()->mapFromScene(mapToScene(pos));
}

void XYChartView::mousePressEvent(QMouseEvent *event)
{
    m_gesture.press(*event);
    event->accept();
}

void XYChartView::mouseMoveEvent(QMouseEvent *event)
{
    m_gesture.move(*event);
    event->accept();
}

void XYChartView::mouseReleaseEvent(QMouseEvent *event)
{
    m_gesture.release(*event);
    event->accept();
}

void XYChartView::mouseDoubleClickEvent(QMouseEvent *event)
{
    m_gesture.doubleClick(*event);
    event->accept();
}

void XYChartView::wheelEvent(QWheelEvent *event)
{
    m_gesture.wheel(*event);
    event->accept();
}

void XYChartView::keyPressEvent(QKeyEvent *event)
{
    if (!navigateByKey(*this, event->key(), chart()->plotArea().center())) {
        QChartView::keyPressEvent(event);
        return;
    }
    event->accept();
}

void XYChartView::leaveEvent(QEvent *event)
{
    clearHover();
    QChartView::leaveEvent(event);
}

// The resting pointer's ToolTip event would reach the scene, which finds no
// item tooltip and hides ours about 0.7 s after it appeared: answer it here.
bool XYChartView::viewportEvent(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        if (!m_gesture.isDragging())
            hover(static_cast<QHelpEvent *>(event)->pos());
        event->accept();
        return true;
    }
    return QChartView::viewportEvent(event);
}

void XYChartView::hover(const QPoint &pos)
{
    const DataLayerItem::Hit hit = m_layer->hitTest(toChart(pos));
    if (hit.id != m_hoverId) {
        m_hoverId = hit.id;
        m_layer->setHoveredIds(hit.isValid() ? hoverEmphasis(hit) : QSet<QString>(), dimOnHover());
    }
    if (hit.isValid())
        QToolTip::showText(mapToGlobal(pos),
                           QStringLiteral("<p style='white-space:nowrap'>%1</p>").arg(hoverText(hit)), this);
    else
        QToolTip::hideText();
}

void XYChartView::clearHover()
{
    if (m_hoverId.isEmpty())
        return;
    m_hoverId.clear();
    m_layer->setHoveredIds({}, false);
    QToolTip::hideText();
}

} // namespace schedy::charts
