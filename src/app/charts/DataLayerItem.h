#pragma once

#include <QColor>
#include <QGraphicsObject>
#include <QHash>
#include <QList>
#include <QPointer>
#include <QPolygonF>
#include <QSet>
#include <QString>
#include <QStringList>

#include <cmath>

#include <QAbstractAxis>

class QChart;

namespace schedy::charts {

// Draws the bulk of a chart (tens of thousands of points, a thousand curves)
// inside a QChart's plot area, mapped through the chart's axes. Qt Charts
// makes one graphics item per scatter point and strokes a hover shape per
// line series, which costs seconds at these sizes; this item paints markers
// from cached images and lines as plain polylines, and does its own hit
// testing. Axes, legend, title, zoom and pan stay Qt Charts'.
class DataLayerItem : public QGraphicsObject
{
    Q_OBJECT
public:
    enum class Shape { Circle, Square, Diamond, Triangle };

    struct PointSet
    {
        QList<QPointF> points; // in axis values
        QStringList ids;       // job per point (may be empty: not hoverable)
        QList<QColor> colors;  // per point; empty: `color`
        QColor color = QColor(0x1f, 0x77, 0xb4);
        QColor outline; // invalid: none
        qreal size = 6;
        Shape shape = Shape::Circle;
    };
    struct Line
    {
        QList<QPointF> points;
        QString id;
        QColor color = QColor(0x1f, 0x77, 0xb4);
        qreal width = 1.2;
        Qt::PenStyle style = Qt::SolidLine;
        bool arrow = false; // arrowhead at the last point
        bool hoverable = true;
    };
    struct Label
    {
        QPointF position; // in axis values; the text starts right of it
        QString text;
        QColor color;
        QColor background; // invalid: none (a label over lines needs one to be read)
    };
    struct Hit
    {
        QString id;
        int pointSet = -1;
        int point = -1;
        int line = -1;
        QPointF value;
        bool isValid() const { return !id.isEmpty(); }
    };

    explicit DataLayerItem(QChart *chart);

    void setAxes(QAbstractAxis *x, QAbstractAxis *y);
    // Lines are drawn below points; both in the order given.
    void setData(QList<Line> lines, QList<PointSet> pointSets, QList<Label> labels = {});
    void setSelectedIds(const QSet<QString> &ids);
    // Transient emphasis (hover); `dimOthers` fades what is not emphasised.
    void setHoveredIds(const QSet<QString> &ids, bool dimOthers = false);
    void setMessage(const QString &message); // shown centred when there is nothing to draw
    void setAntialiasingLimit(qsizetype linePoints) { m_antialiasingLimit = linePoints; }
    // Point sets drawn elsewhere (an OpenGL series); still hit-tested and emphasised here.
    void setUnpaintedSets(const QSet<int> &sets);
    const QSet<int> &unpaintedSets() const { return m_unpainted; }

    const QList<Line> &lines() const { return m_lines; }
    const QList<PointSet> &pointSets() const { return m_pointSets; }
    const QList<Label> &labels() const { return m_labels; }
    const QString &message() const { return m_message; }
    const QSet<QString> &selectedIds() const { return m_selected; }
    const QSet<QString> &hoveredIds() const { return m_hovered; }
    qsizetype pointCount() const;
    qsizetype linePointCount() const;
    int paintCount() const { return m_paintCount; }

    // The nearest point or line within `radius` pixels of `position` (chart coordinates).
    Hit hitTest(const QPointF &position, qreal radius = 6) const;
    // Axis values to chart coordinates (NaN outside a log axis' domain).
    QPointF map(const QPointF &value) const;

    QRectF boundingRect() const override;
    void paint(QPainter *painter, const QStyleOptionGraphicsItem *option, QWidget *widget) override;

private:
    struct Axis
    {
        bool log = false;
        double min = 0, max = 1;
        double offset = 0, scale = 1; // pixel = offset + scale * (log ? log10(v) : v)
        double map(double v) const
        {
            if (log)
                return v > 0 ? offset + scale * std::log10(v) : std::nan("");
            return offset + scale * v;
        }
    };
    struct Mapping
    {
        Axis x, y;
        QRectF plot;
        QPointF map(const QPointF &p) const { return {x.map(p.x()), y.map(p.y())}; }
    };
    Mapping mapping() const;
    void paintLine(QPainter *painter, const Mapping &m, const Line &line, const QColor &color,
                   qreal width) const;
    void paintPoints(QPainter *painter, const Mapping &m, const PointSet &set, const QList<int> *only,
                     qreal grow, const QColor &outline, qreal alpha) const;
    const QImage &marker(const QColor &fill, const QColor &outline, qreal size, Shape shape, qreal dpr) const;
    void rebuildEmphasis();

    QChart *m_chart;
    QPointer<QAbstractAxis> m_axisX; // deleted axes disconnect themselves
    QPointer<QAbstractAxis> m_axisY;
    QList<Line> m_lines;
    QList<PointSet> m_pointSets;
    QList<Label> m_labels;
    QString m_message;
    QSet<QString> m_selected;
    QSet<QString> m_hovered;
    QSet<int> m_unpainted;
    bool m_dimOthers = false;
    // Indices of emphasised lines/points, rebuilt when data or ids change.
    QList<int> m_selectedLines, m_hoveredLines;
    QList<QList<int>> m_selectedPoints, m_hoveredPoints;
    qsizetype m_antialiasingLimit = 20000;
    int m_paintCount = 0;
    mutable QHash<QString, QImage> m_markers;
};

} // namespace schedy::charts
