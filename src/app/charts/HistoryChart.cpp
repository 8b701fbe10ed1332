#include "HistoryChart.h"

#include <QAbstractAxis>

#include <algorithm>

namespace schedy::charts {

namespace {
const QColor JobColor(0x1f, 0x77, 0xb4);
const QColor BestColor(0xd6, 0x27, 0x28);
} // namespace

HistoryChart::HistoryChart(QWidget *parent)
    : XYChartView(parent)
{
    setIntegerTicks(Qt::Horizontal, true);
    axisX()->setTitleText(tr("Finished jobs, in order of completion"));
}

void HistoryChart::setData(HistoryData data, const QString &result, Objective objective)
{
    m_data = std::move(data);
    m_result = result;
    m_objective = objective;
    const QString direction = objective == Objective::Minimize ? tr("min") : tr("max");
    chart()->setTitle(tr("Optimization history: %1").arg(result));
    axisY()->setTitleText(result);

    const qsizetype n = m_data.points.size();
    DataLayerItem::PointSet jobs;
    jobs.points = m_data.points;
    jobs.ids = m_data.ids;
    jobs.color = JobColor;
    if (n > 2000)
        jobs.color.setAlpha(150);
    jobs.size = n > 20000 ? 4 : n > 2000 ? 5 : 7;
    DataLayerItem::PointSet best;
    if (!m_data.bestId.isEmpty()) {
        const qsizetype i = m_data.ids.lastIndexOf(m_data.bestId);
        best.points = {m_data.points[i]};
        best.ids = {m_data.bestId};
        best.color = BestColor;
        best.outline = QColor(Qt::white);
        best.size = 12;
        best.shape = DataLayerItem::Shape::Diamond;
    }
    DataLayerItem::Line bestLine;
    bestLine.points = m_data.best;
    bestLine.color = BestColor;
    bestLine.width = 2.2;
    bestLine.hoverable = false;
    layer()->setMessage(tr("No finished job has a numeric “%1” yet").arg(result));
    setLayerData({bestLine}, {jobs, best});

    QList<LegendEntry> legend;
    if (n > 0) {
        legend.append({tr("Finished jobs"), JobColor, false, DataLayerItem::Shape::Circle, Qt::SolidLine});
        legend.append({tr("Best so far (%1)").arg(direction), BestColor, true, DataLayerItem::Shape::Circle,
                       Qt::SolidLine});
        legend.append({tr("Best job"), BestColor, false, DataLayerItem::Shape::Diamond, Qt::SolidLine});
    }
    setLegendEntries(legend);

    double lo = NaN, hi = NaN;
    for (const QPointF &p : std::as_const(m_data.points)) {
        if (std::isnan(lo) || p.y() < lo)
            lo = p.y();
        if (std::isnan(hi) || p.y() > hi)
            hi = p.y();
    }
    setAxisBounds(Qt::Horizontal, n > 0 ? 0.5 : 0, n > 0 ? double(n) + 0.5 : 1, n < 20);
    setAxisBounds(Qt::Vertical, lo, hi);
}

QString HistoryChart::hoverText(const DataLayerItem::Hit &hit) const
{
    QString head;
    if (hit.pointSet >= 0) {
        const QPointF v = hit.value;
        head = tr("#%1 finished · %2 = <b>%3</b>")
                   .arg(qRound(v.x()))
                   .arg(m_result.toHtmlEscaped())
                   .arg(v.y(), 0, 'g', 6);
        if (hit.id == m_data.bestId)
            head += tr(" · <span style='color:#d62728'>best</span>");
        head += QStringLiteral("<br>");
    }
    return head + describeJob(hit.id);
}

} // namespace schedy::charts
