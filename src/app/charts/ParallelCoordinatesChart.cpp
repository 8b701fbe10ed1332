#include "ParallelCoordinatesChart.h"

#include "ChartColors.h"

#include <QMouseEvent>
#include <QPaintEngine>
#include <QPainter>
#include <QRubberBand>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace schedy::charts {

namespace {

constexpr qreal MarginLeft = 24, MarginRight = 24, MarginTop = 64, MarginBottom = 28;

qreal segmentDistance2(const QPointF &p, const QPointF &a, const QPointF &b)
{
    const QPointF ab = b - a;
    const qreal len2 = QPointF::dotProduct(ab, ab);
    qreal t = len2 > 0 ? QPointF::dotProduct(p - a, ab) / len2 : 0;
    t = std::clamp(t, qreal(0), qreal(1));
    const QPointF d = p - (a + t * ab);
    return QPointF::dotProduct(d, d);
}

// Axis position (normalised) -> value, the inverse of normalise().
double valueAt(const AxisSpec &axis, double n)
{
    if (axis.kind == AxisKind::Log)
        return std::exp(std::log(axis.min) + n * (std::log(axis.max) - std::log(axis.min)));
    return axis.min + n * (axis.max - axis.min);
}

QString tickLabel(double v)
{
    QString s = QString::number(v, 'g', 4);
    return s;
}

} // namespace

ParallelCoordinatesChart::ParallelCoordinatesChart(QWidget *parent)
    : QWidget(parent)
{
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setAutoFillBackground(false);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

QRectF ParallelCoordinatesChart::fullView() const
{
    const double span = std::max<double>(1.0, double(m_data.axes.size() - 1));
    return QRectF(-0.02 * span, -0.04, span * 1.04, 1.08);
}

void ParallelCoordinatesChart::setData(ParallelData data, const QString &result, Objective objective)
{
    const bool sameAxes =
        m_data.axes.size() == data.axes.size() &&
        std::equal(m_data.axes.begin(), m_data.axes.end(), data.axes.begin(),
                   [](const ParallelAxis &a, const ParallelAxis &b) { return a.name == b.name; });
    m_data = std::move(data);
    m_result = result;
    m_objective = objective;
    m_title = tr("Parallel coordinates, coloured by %1").arg(result);
    m_order.resize(m_data.lineCount());
    std::iota(m_order.begin(), m_order.end(), 0);
    std::stable_sort(m_order.begin(), m_order.end(), [this](int a, int b) { return rating(a) < rating(b); });
    m_painted.clear();
    if (!sameAxes || !m_zoomed) {
        m_view = fullView();
        if (m_zoomed) {
            m_zoomed = false;
            Q_EMIT zoomChanged(false);
        }
    }
    update();
}

void ParallelCoordinatesChart::setSelectedIds(const QSet<QString> &ids)
{
    if (ids == m_selected)
        return;
    m_selected = ids;
    update();
}

double ParallelCoordinatesChart::rating(int line) const
{
    const double span = m_data.resultMax - m_data.resultMin;
    if (!(span > 0))
        return 1.0; // all equal: all best
    const double t = (m_data.results[line] - m_data.resultMin) / span;
    return m_objective == Objective::Minimize ? 1.0 - t : t;
}

QColor ParallelCoordinatesChart::lineColor(int line) const
{
    return qualityColor(rating(line));
}

QRectF ParallelCoordinatesChart::plotRect(const QRectF &rect) const
{
    // Room for the first axis' labels on the left and the colour scale on the right.
    return rect.adjusted(MarginLeft + 60, MarginTop, -(MarginRight + 60), -MarginBottom);
}

QPointF ParallelCoordinatesChart::toPixel(const QRectF &plot, double axis, double position) const
{
    return {plot.left() + (axis - m_view.left()) / m_view.width() * plot.width(),
            plot.bottom() - (position - m_view.top()) / m_view.height() * plot.height()};
}

QPointF ParallelCoordinatesChart::toWorld(const QRectF &plot, const QPointF &p) const
{
    return {m_view.left() + (p.x() - plot.left()) / plot.width() * m_view.width(),
            m_view.top() + (plot.bottom() - p.y()) / plot.height() * m_view.height()};
}

void ParallelCoordinatesChart::paintEvent(QPaintEvent *)
{
    ++m_paintCount;
    QPainter painter(this);
    paintChart(painter, rect());
}

void ParallelCoordinatesChart::renderChart(QPainter *painter, const QRectF &target)
{
    const QString hovered = m_hovered;
    m_hovered.clear();
    const QList<QPolygonF> painted = m_painted;
    painter->save();
    painter->translate(target.topLeft());
    painter->scale(target.width() / std::max(1, width()), target.height() / std::max(1, height()));
    paintChart(*painter, rect());
    painter->restore();
    m_hovered = hovered;
    m_painted = painted;
}

void ParallelCoordinatesChart::paintChart(QPainter &painter, const QRectF &rect)
{
    painter.fillRect(rect, Qt::white);
    painter.setRenderHint(QPainter::TextAntialiasing);
    QFont titleFont = font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.1);
    painter.setFont(titleFont);
    painter.setPen(QColor(0x20, 0x20, 0x20));
    painter.drawText(QRectF(rect.left(), rect.top() + 6, rect.width(), 24), Qt::AlignCenter, m_title);

    const QRectF plot = plotRect(rect);
    const qsizetype axisCount = m_data.axes.size();
    const int n = m_data.lineCount();
    painter.setFont(font());
    if (n == 0 || plot.width() < 20 || plot.height() < 20) {
        painter.setPen(QColor(0x80, 0x80, 0x80));
        painter.drawText(rect, Qt::AlignCenter | Qt::TextWordWrap,
                         tr("No finished job has a numeric “%1” yet").arg(m_result));
        m_painted.clear();
        return;
    }

    // Lines, worst first so that the best end on top.
    painter.save();
    painter.setClipRect(plot.adjusted(-2, -2, 2, 2));
    painter.setRenderHint(QPainter::Antialiasing, n <= 5000);
    const int alpha = n <= 200 ? 210 : n <= 2000 ? 120 : n <= 20000 ? 60 : 30;
    // Thousands of lines: one-pixel cosmetic pens, the raster engine's fast path.
    const qreal width = n <= 200 ? 1.4 : n <= 5000 ? 1.0 : 0.0;
    const bool emphasis = !m_selected.isEmpty() || !m_hovered.isEmpty();
    QList<QPolygonF> painted(n);
    QList<int> emphasised;
    for (int line : std::as_const(m_order)) {
        QPolygonF &poly = painted[line];
        poly.reserve(axisCount);
        for (qsizetype a = 0; a < axisCount; ++a) {
            const float v = m_data.at(line, int(a));
            poly.append(std::isnan(v) ? QPointF(std::nan(""), std::nan(""))
                                      : toPixel(plot, double(a), double(v)));
        }
        const QString &id = m_data.ids[line];
        if (emphasis && (id == m_hovered || m_selected.contains(id))) {
            emphasised.append(line);
            continue;
        }
        QColor c = lineColor(line);
        c.setAlpha(emphasis ? std::max(20, alpha / 2) : alpha);
        painter.setPen(QPen(c, width));
        if (std::none_of(poly.begin(), poly.end(), [](const QPointF &p) { return std::isnan(p.x()); })) {
            painter.drawPolyline(poly);
            continue;
        }
        QPolygonF run;
        for (const QPointF &p : std::as_const(poly)) {
            if (std::isnan(p.x())) {
                if (run.size() > 1)
                    painter.drawPolyline(run);
                run.clear();
            } else {
                run.append(p);
            }
        }
        if (run.size() > 1)
            painter.drawPolyline(run);
    }
    painter.setRenderHint(QPainter::Antialiasing, true);
    // Selected and hovered: a dark outline under the line's own colour.
    std::stable_partition(emphasised.begin(), emphasised.end(),
                          [this](int line) { return m_data.ids[line] != m_hovered; });
    for (int line : std::as_const(emphasised)) {
        const bool hovered = m_data.ids[line] == m_hovered;
        QPolygonF run;
        auto flush = [&] {
            if (run.size() > 1) {
                painter.setPen(QPen(QColor(0x10, 0x10, 0x10), hovered ? 5.0 : 4.0, Qt::SolidLine,
                                    Qt::RoundCap, Qt::RoundJoin));
                painter.drawPolyline(run);
                painter.setPen(
                    QPen(lineColor(line), hovered ? 2.6 : 2.0, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
                painter.drawPolyline(run);
            }
            run.clear();
        };
        for (const QPointF &p : std::as_const(painted[line])) {
            if (std::isnan(p.x()))
                flush();
            else
                run.append(p);
        }
        flush();
    }
    painter.restore();
    if (painter.device() == this)
        m_painted = painted;

    // Axes: a line, the name above, ticks with labels on a white backing.
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    QFont bold = font();
    bold.setBold(true);
    const QFontMetricsF fm(small);
    const qreal spacing = axisCount > 1 ? plot.width() / m_view.width() : plot.width();
    for (qsizetype a = 0; a < axisCount; ++a) {
        const ParallelAxis &axis = m_data.axes[a];
        const qreal x = toPixel(plot, double(a), 0).x();
        if (x < rect.left() - 1 || x > rect.right() + 1)
            continue;
        const qreal top = std::max(plot.top(), toPixel(plot, 0, 1).y());
        const qreal bottom = std::min(plot.bottom(), toPixel(plot, 0, 0).y());
        if (axis.isResult) {
            // The result axis is the colour scale.
            const int steps = 64;
            for (int s = 0; s < steps; ++s) {
                const double n0 = double(s) / steps, n1 = double(s + 1) / steps;
                const QPointF p0 = toPixel(plot, double(a), n0), p1 = toPixel(plot, double(a), n1);
                const double v = axis.spec.min + (n0 + n1) / 2 * (axis.spec.max - axis.spec.min);
                const double span = m_data.resultMax - m_data.resultMin;
                double t = 1.0;
                if (span > 0) {
                    t = (v - m_data.resultMin) / span;
                    if (m_objective == Objective::Minimize)
                        t = 1.0 - t;
                }
                const QRectF band(x - 4, std::min(p0.y(), p1.y()), 8, std::abs(p1.y() - p0.y()) + 0.5);
                painter.fillRect(band & QRectF(x - 4, top, 8, bottom - top), qualityColor(t));
            }
            painter.setPen(QPen(QColor(0x40, 0x40, 0x40), 1));
            painter.setBrush(Qt::NoBrush);
            painter.drawRect(QRectF(x - 4, top, 8, bottom - top));
        } else {
            painter.setPen(QPen(QColor(0x40, 0x40, 0x40), 1.2));
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
        }
        // Name, elided to the spacing, on two lines' room.
        painter.setFont(bold);
        const QFontMetricsF bfm(bold);
        QString name = axis.name;
        if (axis.spec.kind == AxisKind::Log)
            name += tr(" (log)");
        if (axis.isResult)
            name += m_objective == Objective::Minimize ? tr(" (lower is better)") : tr(" (higher is better)");
        const qreal nameWidth = std::max<qreal>(60, spacing - 8);
        painter.setPen(QColor(0x20, 0x20, 0x20));
        painter.drawText(QRectF(x - nameWidth / 2, plot.top() - 34, nameWidth, 18), Qt::AlignCenter,
                         bfm.elidedText(name, Qt::ElideMiddle, nameWidth));

        // Ticks.
        painter.setFont(small);
        struct Tick
        {
            double position;
            QString label;
        };
        QList<Tick> ticks;
        const AxisSpec &spec = axis.spec;
        const double lo = std::max(0.0, m_view.top()), hi = std::min(1.0, m_view.bottom());
        if (spec.kind == AxisKind::Category) {
            const qsizetype count = spec.labels.size();
            for (qsizetype i = 0; i < count; ++i) {
                const double pos = count > 1 ? double(i) / double(count - 1) : 0.5;
                ticks.append({pos, spec.labels[i]});
            }
        } else if (spec.isValid()) {
            if (!(spec.max > spec.min)) {
                ticks.append({0.5, tickLabel(spec.min)});
            } else if (spec.kind == AxisKind::Log) {
                const double l0 = std::log10(valueAt(spec, lo)), l1 = std::log10(valueAt(spec, hi));
                QList<double> exps;
                if (l1 - l0 >= 1.5) {
                    for (double e = std::ceil(l0); e <= std::floor(l1) + 1e-9;
                         e += std::max(1.0, std::floor((l1 - l0) / 6)))
                        exps.append(e);
                } else {
                    for (double v : niceTicks(valueAt(spec, lo), valueAt(spec, hi), 5))
                        exps.append(std::log10(v));
                }
                for (double e : std::as_const(exps)) {
                    const double v = std::pow(10.0, e);
                    ticks.append({normalise(v, spec), tickLabel(v)});
                }
            } else {
                for (double v :
                     niceTicks(valueAt(spec, lo), valueAt(spec, hi), std::max(3, int(plot.height() / 90))))
                    ticks.append({normalise(v, spec), tickLabel(v)});
            }
        }
        for (const Tick &t : std::as_const(ticks)) {
            const QPointF p = toPixel(plot, double(a), t.position);
            if (p.y() < plot.top() - 1 || p.y() > plot.bottom() + 1)
                continue;
            painter.setPen(QPen(QColor(0x40, 0x40, 0x40), 1));
            painter.drawLine(QPointF(x - 4, p.y()), QPointF(x, p.y()));
            const QString label =
                fm.elidedText(t.label, Qt::ElideRight, std::max<qreal>(40, spacing / 2 - 10));
            const qreal w = fm.horizontalAdvance(label);
            // Right of the axis for the result (the scale is in the way on the left).
            const QRectF box = axis.isResult
                                   ? QRectF(x + 8, p.y() - fm.height() / 2, w + 4, fm.height())
                                   : QRectF(x - 8 - w - 4, p.y() - fm.height() / 2, w + 4, fm.height());
            painter.fillRect(box, QColor(255, 255, 255, 200));
            painter.setPen(QColor(0x30, 0x30, 0x30));
            painter.drawText(box, Qt::AlignCenter, label);
        }
    }
    // Footer: how many lines.
    painter.setFont(small);
    painter.setPen(QColor(0x70, 0x70, 0x70));
    QString footer = tr("%n finished job(s)", nullptr, n);
    if (m_data.skipped > 0)
        footer += tr(" · %n without a numeric result", nullptr, m_data.skipped);
    painter.drawText(
        QRectF(rect.left(), rect.bottom() - MarginBottom + 6, rect.width() - 12, MarginBottom - 6),
        Qt::AlignRight | Qt::AlignVCenter, footer);
}

int ParallelCoordinatesChart::lineAt(const QPointF &position, qreal radius) const
{
    int best = -1;
    qreal bestD2 = radius * radius;
    // Emphasised and best lines are on top: search from the top down.
    for (qsizetype k = m_order.size() - 1; k >= 0; --k) {
        const int line = m_order[k];
        if (line >= m_painted.size())
            continue;
        const QPolygonF &poly = m_painted[line];
        for (qsizetype i = 1; i < poly.size(); ++i) {
            const QPointF &a = poly[i - 1], &b = poly[i];
            if (std::isnan(a.x()) || std::isnan(b.x()))
                continue;
            if (position.x() < std::min(a.x(), b.x()) - radius ||
                position.x() > std::max(a.x(), b.x()) + radius)
                continue;
            const qreal d2 = segmentDistance2(position, a, b);
            if (d2 < bestD2 || (d2 <= bestD2 && best >= 0 && m_selected.contains(m_data.ids[line]))) {
                bestD2 = d2;
                best = line;
            }
        }
    }
    return best;
}

void ParallelCoordinatesChart::setView(const QRectF &view)
{
    if (view.width() <= 1e-6 || view.height() <= 1e-6)
        return;
    m_view = view;
    m_painted.clear();
    if (!m_zoomed) {
        m_zoomed = true;
        Q_EMIT zoomChanged(true);
    }
    update();
}

void ParallelCoordinatesChart::resetZoom()
{
    m_view = fullView();
    m_painted.clear();
    if (m_zoomed) {
        m_zoomed = false;
        Q_EMIT zoomChanged(false);
    }
    update();
}

void ParallelCoordinatesChart::zoomBy(qreal factor, const QPointF &center)
{
    if (factor <= 0)
        return;
    const QRectF plot = plotRect(rect());
    const QPointF c = toWorld(plot, center);
    setView(QRectF(c.x() - (c.x() - m_view.left()) / factor, c.y() - (c.y() - m_view.top()) / factor,
                   m_view.width() / factor, m_view.height() / factor));
}

void ParallelCoordinatesChart::pan(qreal dx, qreal dy)
{
    const QRectF plot = plotRect(rect());
    setView(m_view.translated(dx / plot.width() * m_view.width(), dy / plot.height() * m_view.height()));
}

void ParallelCoordinatesChart::mousePressEvent(QMouseEvent *event)
{
    m_pressPos = m_lastPos = event->position().toPoint();
    if (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton ||
        (event->button() == Qt::LeftButton && (event->modifiers() & Qt::ShiftModifier))) {
        m_drag = Drag::Pan;
        setCursor(Qt::ClosedHandCursor);
    } else if (event->button() == Qt::LeftButton) {
        m_drag = Drag::Pending;
    }
}

void ParallelCoordinatesChart::mouseMoveEvent(QMouseEvent *event)
{
    const QPoint pos = event->position().toPoint();
    switch (m_drag) {
    case Drag::None: {
        const int line = lineAt(pos);
        const QString id = line >= 0 ? m_data.ids[line] : QString();
        if (id != m_hovered) {
            m_hovered = id;
            update();
        }
        if (line >= 0) {
            const QString head =
                tr("%1 = <b>%2</b><br>").arg(m_result.toHtmlEscaped()).arg(m_data.results[line], 0, 'g', 6);
            QToolTip::showText(mapToGlobal(pos),
                               QStringLiteral("<p style='white-space:nowrap'>%1</p>")
                                   .arg(head + (m_describe ? m_describe(id) : id.toHtmlEscaped())),
                               this);
        } else {
            QToolTip::hideText();
        }
        break;
    }
    case Drag::Pending:
        if ((pos - m_pressPos).manhattanLength() < 5)
            break;
        m_drag = Drag::Zoom;
        if (!m_rubberBand)
            m_rubberBand = new QRubberBand(QRubberBand::Rectangle, this);
        m_rubberBand->show();
        Q_FALLTHROUGH();
    case Drag::Zoom:
        m_rubberBand->setGeometry(QRect(m_pressPos, pos).normalized());
        break;
    case Drag::Pan: {
        const QPoint d = pos - m_lastPos;
        pan(-d.x(), d.y());
        break;
    }
    }
    m_lastPos = pos;
}

void ParallelCoordinatesChart::mouseReleaseEvent(QMouseEvent *event)
{
    const Drag drag = m_drag;
    m_drag = Drag::None;
    unsetCursor();
    const QPoint pos = event->position().toPoint();
    if (drag == Drag::Zoom) {
        m_rubberBand->hide();
        const QRectF plot = plotRect(rect());
        const QRectF r = QRectF(m_pressPos, pos).normalized();
        if (r.width() > 4 && r.height() > 4) {
            const QPointF a = toWorld(plot, r.bottomLeft()), b = toWorld(plot, r.topRight());
            setView(QRectF(a, b).normalized());
        }
    } else if (drag == Drag::Pending && event->button() == Qt::LeftButton) {
        const int line = lineAt(pos);
        if (line >= 0)
            Q_EMIT jobClicked(m_data.ids[line], event->modifiers());
    }
}

void ParallelCoordinatesChart::mouseDoubleClickEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton && lineAt(event->position()) < 0)
        resetZoom();
}

void ParallelCoordinatesChart::wheelEvent(QWheelEvent *event)
{
    const qreal steps = event->angleDelta().y() / 120.0;
    if (steps != 0)
        zoomBy(std::pow(1.2, steps), event->position());
    event->accept();
}

void ParallelCoordinatesChart::keyPressEvent(QKeyEvent *event)
{
    const QPointF center = plotRect(rect()).center();
    switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal: zoomBy(1.25, center); break;
    case Qt::Key_Minus: zoomBy(0.8, center); break;
    case Qt::Key_Left: pan(-40, 0); break;
    case Qt::Key_Right: pan(40, 0); break;
    case Qt::Key_Up: pan(0, 40); break;
    case Qt::Key_Down: pan(0, -40); break;
    case Qt::Key_0:
    case Qt::Key_Home:
    case Qt::Key_Escape: resetZoom(); break;
    default: QWidget::keyPressEvent(event); return;
    }
    event->accept();
}

void ParallelCoordinatesChart::leaveEvent(QEvent *event)
{
    if (!m_hovered.isEmpty()) {
        m_hovered.clear();
        update();
    }
    QToolTip::hideText();
    QWidget::leaveEvent(event);
}

} // namespace schedy::charts
