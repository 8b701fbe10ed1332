#include "CurvesChart.h"
#include "ValueFormat.h"

#include "ChartColors.h"

#include <QAbstractAxis>

namespace schedy::charts {

namespace {
constexpr int DistinctColors = 12;
const QColor RungColor(0x30, 0x30, 0x30);
} // namespace

CurvesChart::CurvesChart(QWidget *parent)
    : XYChartView(parent)
{
    setIntegerTicks(Qt::Horizontal, true);
    axisX()->setTitleText(tr("Step (position in the list)"));
}

void CurvesChart::setData(CurveData data, const QString &result, Objective objective)
{
    m_data = std::move(data);
    m_result = result;
    m_objective = objective;
    m_indexOf.clear();
    chart()->setTitle(tr("Result curves: %1").arg(result));
    axisY()->setTitleText(result);

    const qsizetype n = m_data.curves.size();
    const bool distinct = n <= DistinctColors;
    const qreal width = n <= 20 ? 1.8 : n <= 200 ? 1.2 : 0.8;
    QList<DataLayerItem::Line> lines;
    lines.reserve(n);
    DataLayerItem::PointSet stops;
    stops.shape = DataLayerItem::Shape::Square;
    stops.outline = RungColor;
    stops.size = 7;
    QList<LegendEntry> legend;
    // Worst first, so that the best curves are drawn on top.
    for (qsizetype i = n - 1; i >= 0; --i) {
        const Curve &c = m_data.curves[i];
        DataLayerItem::Line line;
        line.points = c.points;
        line.id = c.id;
        line.width = width;
        if (distinct) {
            line.color = categoryColor(int(i));
        } else {
            line.color = qualityColor(n > 1 ? 1.0 - double(i) / double(n - 1) : 1.0);
            if (n > 200)
                line.color.setAlpha(140);
        }
        if (c.prunedAt > 0) {
            // Stopped by the pruner: dashed and faded, with a square where it stopped.
            line.style = Qt::DashLine;
            line.color.setAlpha(std::min(line.color.alpha(), 150));
            stops.points.append(c.points.last());
            stops.ids.append(c.id);
            stops.colors.append(line.color);
        }
        lines.append(std::move(line));
    }
    // ASHA's rungs: a short bar at each rung's step, at the value that continues.
    QList<DataLayerItem::Label> labels;
    for (const RungMark &m : std::as_const(m_data.rungs)) {
        if (double(m.step) > m_data.xMax || n == 0)
            continue;
        DataLayerItem::Line bar;
        bar.points = {QPointF(double(m.step) - 0.3, m.threshold), QPointF(double(m.step) + 0.3, m.threshold)};
        bar.color = RungColor;
        bar.width = 3;
        bar.hoverable = false;
        lines.append(std::move(bar));
        labels.append({QPointF(double(m.step) + 0.35, m.threshold),
                       tr("rung %1: %2").arg(m.step).arg(m.threshold, 0, 'g', 4), RungColor,
                       QColor(255, 255, 255, 210)});
    }
    for (qsizetype i = 0; i < n; ++i)
        m_indexOf.insert(m_data.curves[i].id, int(i));
    if (distinct) {
        for (qsizetype i = 0; i < n; ++i) {
            const Curve &c = m_data.curves[i];
            legend.append({c.prunedAt > 0
                               ? tr("%1. %2 (pruned at %3)").arg(c.rank + 1).arg(c.id).arg(c.prunedAt)
                               : QStringLiteral("%1. %2").arg(c.rank + 1).arg(c.id),
                           categoryColor(int(i)), true, DataLayerItem::Shape::Circle,
                           c.prunedAt > 0 ? Qt::DashLine : Qt::SolidLine});
        }
    } else if (n > 0) {
        legend.append({tr("Rank %1 (best shown)").arg(m_data.curves.first().rank + 1), qualityColor(1.0),
                       true, DataLayerItem::Shape::Circle, Qt::SolidLine});
        legend.append({tr("Rank %1 (worst shown)").arg(m_data.curves.last().rank + 1), qualityColor(0.0),
                       true, DataLayerItem::Shape::Circle, Qt::SolidLine});
    }
    if (!stops.points.isEmpty())
        legend.append({tr("Pruned: stopped here"), QColor(0x90, 0x90, 0x90), false,
                       DataLayerItem::Shape::Square, Qt::DashLine});
    if (!labels.isEmpty())
        legend.append({tr("ASHA rung: value to continue"), RungColor, true, DataLayerItem::Shape::Circle,
                       Qt::SolidLine});
    // Job ids need room: a column on the right rather than an elided row.
    chart()->legend()->setAlignment(distinct ? Qt::AlignRight : Qt::AlignBottom);
    layer()->setMessage(
        m_data.candidates == 0
            ? tr("No job has a list of numbers in “%1” (a curve such as a loss per epoch)").arg(result)
            : tr("None of the %1 with a curve is selected").arg(format::jobs(m_data.candidates)));
    QList<DataLayerItem::PointSet> sets;
    if (!stops.points.isEmpty())
        sets.append(std::move(stops));
    setLayerData(lines, sets, labels);
    setLegendEntries(legend);
    setAxisBounds(Qt::Horizontal, 1, std::max(2.0, m_data.xMax), false);
    setAxisBounds(Qt::Vertical, m_data.yMin, m_data.yMax);
}

QString CurvesChart::hoverText(const DataLayerItem::Hit &hit) const
{
    const int i = m_indexOf.value(hit.id, -1);
    QString head;
    if (i >= 0) {
        const Curve &c = m_data.curves[i];
        head = tr("Rank %1 of %2 · best %3 = <b>%4</b> · step %5: %6<br>")
                   .arg(c.rank + 1)
                   .arg(m_data.candidates)
                   .arg(m_result.toHtmlEscaped())
                   .arg(c.best, 0, 'g', 6)
                   .arg(hit.value.x())
                   .arg(hit.value.y(), 0, 'g', 6);
        if (c.prunedAt > 0)
            head += tr("<b>Pruned</b> at step %1<br>").arg(c.prunedAt);
    }
    return head + describeJob(hit.id);
}

} // namespace schedy::charts
