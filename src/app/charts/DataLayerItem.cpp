#include "DataLayerItem.h"

#include <QChart>
#include <QLogValueAxis>
#include <QPaintEngine>
#include <QPainter>
#include <QPainterPath>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace schedy::charts {

namespace {

enum Emphasis : quint8 { Plain = 0, Selected = 1, Hovered = 2 };

QPainterPath markerPath(const QPointF &c, qreal size, DataLayerItem::Shape shape)
{
    QPainterPath path;
    const qreal h = size / 2;
    switch (shape) {
    case DataLayerItem::Shape::Circle:
        path.addEllipse(c, h, h);
        break;
    case DataLayerItem::Shape::Square:
        path.addRect(QRectF(c.x() - h * 0.9, c.y() - h * 0.9, h * 1.8, h * 1.8));
        break;
    case DataLayerItem::Shape::Diamond:
        path.moveTo(c.x(), c.y() - h * 1.2);
        path.lineTo(c.x() + h * 1.2, c.y());
        path.lineTo(c.x(), c.y() + h * 1.2);
        path.lineTo(c.x() - h * 1.2, c.y());
        path.closeSubpath();
        break;
    case DataLayerItem::Shape::Triangle:
        path.moveTo(c.x(), c.y() - h * 1.2);
        path.lineTo(c.x() + h * 1.1, c.y() + h * 0.8);
        path.lineTo(c.x() - h * 1.1, c.y() + h * 0.8);
        path.closeSubpath();
        break;
    }
    return path;
}

qreal segmentDistance2(const QPointF &p, const QPointF &a, const QPointF &b)
{
    const QPointF ab = b - a;
    const qreal len2 = QPointF::dotProduct(ab, ab);
    qreal t = len2 > 0 ? QPointF::dotProduct(p - a, ab) / len2 : 0;
    t = std::clamp(t, qreal(0), qreal(1));
    const QPointF d = p - (a + t * ab);
    return QPointF::dotProduct(d, d);
}

} // namespace

DataLayerItem::DataLayerItem(QChart *chart)
    : QGraphicsObject(chart)
    , m_chart(chart)
{
    // Above the grid and axis lines, below Qt Charts' own series and the legend.
    setZValue(3.5);
    setAcceptedMouseButtons(Qt::NoButton);
    setAcceptHoverEvents(false);
    connect(chart, &QChart::plotAreaChanged, this, [this] {
        prepareGeometryChange();
        update();
    });
}

void DataLayerItem::setAxes(QAbstractAxis *x, QAbstractAxis *y)
{
    for (QAbstractAxis *old : {m_axisX.data(), m_axisY.data()}) {
        if (old)
            disconnect(old, nullptr, this, nullptr);
    }
    m_axisX = x;
    m_axisY = y;
    for (QAbstractAxis *axis : {x, y}) {
        if (auto *v = qobject_cast<QValueAxis *>(axis))
            connect(v, &QValueAxis::rangeChanged, this, [this] { update(); });
        else if (auto *l = qobject_cast<QLogValueAxis *>(axis))
            connect(l, &QLogValueAxis::rangeChanged, this, [this] { update(); });
    }
    update();
}

void DataLayerItem::setData(QList<Line> lines, QList<PointSet> pointSets, QList<Label> labels)
{
    m_lines = std::move(lines);
    m_pointSets = std::move(pointSets);
    m_labels = std::move(labels);
    rebuildEmphasis();
    update();
}

void DataLayerItem::setSelectedIds(const QSet<QString> &ids)
{
    if (ids == m_selected)
        return;
    m_selected = ids;
    rebuildEmphasis();
    update();
}

void DataLayerItem::setHoveredIds(const QSet<QString> &ids, bool dimOthers)
{
    if (ids == m_hovered && dimOthers == m_dimOthers)
        return;
    m_hovered = ids;
    m_dimOthers = dimOthers;
    rebuildEmphasis();
    update();
}

void DataLayerItem::setUnpaintedSets(const QSet<int> &sets)
{
    if (sets == m_unpainted)
        return;
    m_unpainted = sets;
    update();
}

void DataLayerItem::setMessage(const QString &message)
{
    if (message == m_message)
        return;
    m_message = message;
    update();
}

void DataLayerItem::rebuildEmphasis()
{
    // Emphasised lines and points are drawn again on top: keep their indices.
    m_selectedLines.clear();
    m_hoveredLines.clear();
    m_selectedPoints.clear();
    m_hoveredPoints.clear();
    for (int i = 0; i < m_lines.size(); ++i) {
        if (m_hovered.contains(m_lines[i].id))
            m_hoveredLines.append(i);
        else if (m_selected.contains(m_lines[i].id))
            m_selectedLines.append(i);
    }
    m_selectedPoints.resize(m_pointSets.size());
    m_hoveredPoints.resize(m_pointSets.size());
    if (m_selected.isEmpty() && m_hovered.isEmpty())
        return;
    for (int s = 0; s < m_pointSets.size(); ++s) {
        const QStringList &ids = m_pointSets[s].ids;
        for (int i = 0; i < ids.size(); ++i) {
            if (m_hovered.contains(ids[i]))
                m_hoveredPoints[s].append(i);
            else if (m_selected.contains(ids[i]))
                m_selectedPoints[s].append(i);
        }
    }
}

qsizetype DataLayerItem::pointCount() const
{
    qsizetype n = 0;
    for (const PointSet &s : m_pointSets)
        n += s.points.size();
    return n;
}

qsizetype DataLayerItem::linePointCount() const
{
    qsizetype n = 0;
    for (const Line &l : m_lines)
        n += l.points.size();
    return n;
}

QRectF DataLayerItem::boundingRect() const
{
    return m_chart->plotArea();
}

DataLayerItem::Mapping DataLayerItem::mapping() const
{
    Mapping m;
    m.plot = m_chart->plotArea();
    auto read = [](QAbstractAxis *a, Axis &axis) {
        if (auto *v = qobject_cast<QValueAxis *>(a)) {
            axis.min = v->min();
            axis.max = v->max();
        } else if (auto *l = qobject_cast<QLogValueAxis *>(a)) {
            axis.log = true;
            axis.min = l->min();
            axis.max = l->max();
        }
    };
    read(m_axisX, m.x);
    read(m_axisY, m.y);
    auto setup = [](Axis &axis, double from, double length) {
        double lo = axis.min, hi = axis.max;
        if (axis.log) {
            lo = std::log10(std::max(lo, 1e-300));
            hi = std::log10(std::max(hi, 1e-300));
        }
        axis.scale = hi > lo ? length / (hi - lo) : 0;
        axis.offset = from - lo * axis.scale;
    };
    setup(m.x, m.plot.left(), m.plot.width());
    setup(m.y, m.plot.bottom(), -m.plot.height());
    return m;
}

QPointF DataLayerItem::map(const QPointF &value) const
{
    return mapping().map(value);
}

const QImage &DataLayerItem::marker(const QColor &fill, const QColor &outline, qreal size, Shape shape,
                                    qreal dpr) const
{
    const QString key = QStringLiteral("%1/%2/%3/%4/%5")
                            .arg(fill.rgba())
                            .arg(outline.isValid() ? outline.rgba() : 0u)
                            .arg(size)
                            .arg(int(shape))
                            .arg(dpr);
    auto it = m_markers.find(key);
    if (it != m_markers.end())
        return *it;
    const int side = int(std::ceil((size * 1.3 + 2) * dpr));
    QImage image(side, side, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    {
        QPainter p(&image);
        p.setRenderHint(QPainter::Antialiasing);
        p.scale(dpr, dpr);
        p.setBrush(fill);
        p.setPen(outline.isValid() ? QPen(outline, 1.2) : QPen(Qt::NoPen));
        const qreal c = side / dpr / 2.0;
        p.drawPath(markerPath(QPointF(c, c), size, shape));
    }
    image.setDevicePixelRatio(dpr);
    if (m_markers.size() > 4096)
        m_markers.clear();
    return *m_markers.insert(key, image);
}

void DataLayerItem::paintLine(QPainter *painter, const Mapping &m, const Line &line, const QColor &color,
                              qreal width) const
{
    if (line.points.size() < 2)
        return;
    // Dense curves: a join per pixel or so, and round joins make the stroker
    // several times slower for a difference below a pixel.
    const bool dense = line.points.size() > 200;
    QPen pen(color, width, line.style, Qt::RoundCap, dense ? Qt::BevelJoin : Qt::RoundJoin);
    if (!painter->testRenderHint(QPainter::Antialiasing) && line.style == Qt::SolidLine) {
        // Many lines: one-pixel cosmetic lines take the raster engine's fast path.
        pen.setWidthF(0);
        pen.setCapStyle(Qt::FlatCap);
    }
    painter->setPen(pen);
    painter->setBrush(Qt::NoBrush);
    QPolygonF polygon;
    polygon.reserve(line.points.size());
    for (const QPointF &v : line.points) {
        const QPointF p = m.map(v);
        if (std::isnan(p.x()) || std::isnan(p.y())) {
            if (polygon.size() > 1)
                painter->drawPolyline(polygon);
            polygon.clear();
            continue;
        }
        polygon.append(p);
    }
    if (polygon.size() > 1)
        painter->drawPolyline(polygon);
    if (line.arrow && polygon.size() > 1) {
        // Direction over the last ~10 pixels: curves come in many short segments.
        const QPointF tip = polygon.last();
        QPointF from = polygon[polygon.size() - 2];
        for (qsizetype i = polygon.size() - 2; i >= 0; --i) {
            from = polygon[i];
            if (std::hypot(tip.x() - from.x(), tip.y() - from.y()) >= 10)
                break;
        }
        const QPointF d = tip - from;
        const qreal len = std::hypot(d.x(), d.y());
        if (len > 8) {
            const QPointF u = d / len;
            const QPointF n(-u.y(), u.x());
            const QPointF end = tip - u * 6.0; // stop short of the node
            const qreal a = 4 + width;
            QPolygonF head({end, end - u * (a * 1.8) + n * a, end - u * (a * 1.8) - n * a});
            painter->setPen(Qt::NoPen);
            painter->setBrush(color);
            painter->drawPolygon(head);
        }
    }
}

void DataLayerItem::paintPoints(QPainter *painter, const Mapping &m, const PointSet &set,
                                const QList<int> *only, qreal grow, const QColor &outline, qreal alpha) const
{
    const qsizetype n = only ? only->size() : set.points.size();
    if (n == 0)
        return;
    const qreal size = set.size + grow;
    const QColor ring = outline.isValid() ? outline : set.outline;
    const QRectF visible = m.plot.adjusted(-size, -size, size, size);
    const bool raster = painter->paintEngine() && painter->paintEngine()->type() == QPaintEngine::Raster;
    const qreal dpr = painter->device() ? painter->device()->devicePixelRatioF() : 1.0;
    const qreal half = std::ceil((size * 1.3 + 2) * dpr) / dpr / 2.0;
    const bool perPoint = set.colors.size() == set.points.size();
    painter->setOpacity(alpha);
    const QImage *image = raster && !perPoint ? &marker(set.color, ring, size, set.shape, dpr) : nullptr;
    if (!raster) {
        painter->setPen(ring.isValid() ? QPen(ring, 1.2) : QPen(Qt::NoPen));
        painter->setBrush(set.color);
    }
    for (qsizetype k = 0; k < n; ++k) {
        const int i = only ? (*only)[k] : int(k);
        const QPointF p = m.map(set.points[i]);
        if (!visible.contains(p))
            continue;
        if (raster) {
            const QImage &img = perPoint ? marker(set.colors[i], ring, size, set.shape, dpr) : *image;
            // Whole pixels keep drawImage on its blit path.
            painter->drawImage(QPointF(std::round(p.x() - half), std::round(p.y() - half)), img);
        } else {
            if (perPoint)
                painter->setBrush(set.colors[i]);
            painter->drawPath(markerPath(p, size, set.shape));
        }
    }
    painter->setOpacity(1.0);
}

void DataLayerItem::paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *)
{
    ++m_paintCount;
    const Mapping m = mapping();
    if (m.plot.isEmpty())
        return;
    painter->save();
    painter->setClipRect(m.plot);
    const bool dim = m_dimOthers && !m_hovered.isEmpty();
    const qreal plainAlpha = dim ? 0.18 : 1.0;

    // Lines: plain ones, then selected, then hovered on top.
    const qsizetype linePoints = linePointCount();
    painter->setRenderHint(QPainter::Antialiasing, linePoints <= m_antialiasingLimit);
    QList<quint8> lineFlags(m_lines.size(), Plain);
    for (int i : m_selectedLines)
        lineFlags[i] = Selected;
    for (int i : m_hoveredLines)
        lineFlags[i] = Hovered;
    for (int i = 0; i < m_lines.size(); ++i) {
        if (lineFlags[i] != Plain)
            continue;
        QColor c = m_lines[i].color;
        if (dim)
            c.setAlphaF(c.alphaF() * float(plainAlpha));
        paintLine(painter, m, m_lines[i], c, m_lines[i].width);
    }
    painter->setRenderHint(QPainter::Antialiasing, true);
    for (const QList<int> *list : {&m_selectedLines, &m_hoveredLines}) {
        for (int i : *list) {
            const Line &line = m_lines[i];
            QColor c = line.color;
            c.setAlphaF(1.0f);
            paintLine(painter, m, line, QColor(255, 255, 255, 200), line.width + 4.0); // halo
            paintLine(painter, m, line, c, line.width + 1.8);
        }
    }

    // Points: plain ones (emphasised ones are drawn again, bigger, on top).
    painter->setRenderHint(QPainter::Antialiasing, true);
    for (int s = 0; s < m_pointSets.size(); ++s) {
        if (!m_unpainted.contains(s))
            paintPoints(painter, m, m_pointSets[s], nullptr, 0, QColor(), plainAlpha);
    }
    for (int s = 0; s < m_pointSets.size(); ++s) {
        paintPoints(painter, m, m_pointSets[s], &m_selectedPoints[s], 4, QColor(0x20, 0x20, 0x20), 1.0);
        paintPoints(painter, m, m_pointSets[s], &m_hoveredPoints[s], 6, QColor(0, 0, 0), 1.0);
    }

    // Labels, kept inside the plot area.
    if (!m_labels.isEmpty()) {
        QFont font = painter->font();
        font.setPointSizeF(font.pointSizeF() * 0.85);
        painter->setFont(font);
        const QFontMetricsF fm(font);
        QList<QRectF> taken; // labels that would overlap an earlier one are left out
        for (const Label &label : m_labels) {
            QPointF p = m.map(label.position);
            if (std::isnan(p.x()) || std::isnan(p.y()) || !m.plot.contains(p))
                continue;
            const qreal w = fm.horizontalAdvance(label.text);
            p.setX(std::min(p.x() + 8, m.plot.right() - w - 2));
            const QRectF box(p.x(), p.y() - fm.height() / 2, w, fm.height());
            if (std::any_of(taken.begin(), taken.end(),
                            [&box](const QRectF &r) { return r.intersects(box); }))
                continue;
            taken.append(box);
            if (label.background.isValid())
                painter->fillRect(box.adjusted(-2, 0, 2, 0), label.background);
            painter->setPen(dim ? QColor(0x99, 0x99, 0x99) : label.color);
            painter->drawText(QPointF(p.x(), p.y() + fm.ascent() / 2 - 1), label.text);
        }
    }

    if (!m_message.isEmpty() && pointCount() == 0 && linePointCount() == 0) {
        painter->setPen(QColor(0x80, 0x80, 0x80));
        painter->drawText(m.plot, Qt::AlignCenter | Qt::TextWordWrap, m_message);
    }
    painter->restore();
}

DataLayerItem::Hit DataLayerItem::hitTest(const QPointF &position, qreal radius) const
{
    Hit hit;
    const Mapping m = mapping();
    if (!m.plot.adjusted(-radius, -radius, radius, radius).contains(position))
        return hit;
    qreal best = radius * radius;
    // Points first: they sit on top of lines.
    for (int s = int(m_pointSets.size()) - 1; s >= 0; --s) {
        const PointSet &set = m_pointSets[s];
        if (set.ids.size() != set.points.size())
            continue;
        const qreal r = std::max(radius, set.size / 2 + 2);
        for (int i = 0; i < set.points.size(); ++i) {
            const QPointF d = m.map(set.points[i]) - position;
            const qreal d2 = QPointF::dotProduct(d, d);
            if (d2 <= std::max(best, r * r) && (!hit.isValid() || d2 < best)) {
                best = d2;
                hit.id = set.ids[i];
                hit.pointSet = s;
                hit.point = i;
                hit.value = set.points[i];
            }
        }
    }
    if (hit.isValid())
        return hit;
    // Emphasised lines are on top: they win ties.
    QList<int> order;
    order.reserve(m_lines.size());
    order.append(m_hoveredLines);
    order.append(m_selectedLines);
    for (int i = int(m_lines.size()) - 1; i >= 0; --i) {
        if (!m_hoveredLines.contains(i) && !m_selectedLines.contains(i))
            order.append(i);
    }
    const QRectF probe(position.x() - radius, position.y() - radius, 2 * radius, 2 * radius);
    for (int i : std::as_const(order)) {
        const Line &line = m_lines[i];
        if (!line.hoverable || line.id.isEmpty() || line.points.size() < 2)
            continue;
        QPointF previous = m.map(line.points.first());
        for (qsizetype k = 1; k < line.points.size(); ++k) {
            const QPointF current = m.map(line.points[k]);
            const QRectF box = QRectF(previous, current).normalized();
            if (box.adjusted(-0.5, -0.5, 0.5, 0.5).intersects(probe)) {
                const qreal d2 = segmentDistance2(position, previous, current);
                if (d2 < best) {
                    best = d2;
                    hit.id = line.id;
                    hit.line = i;
                    hit.value = line.points[k];
                }
            }
            previous = current;
        }
    }
    return hit;
}

} // namespace schedy::charts
