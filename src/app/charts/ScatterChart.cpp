#include "ScatterChart.h"

#include "ValueFormat.h"

#include <QCategoryAxis>
#include <QLogValueAxis>
#include <QValueAxis>

namespace schedy::charts {

ScatterChart::ScatterChart(QWidget *parent)
    : XYChartView(parent)
{}

void ScatterChart::setData(ScatterData data, const QString &hyperparameter, const QString &result)
{
    m_data = std::move(data);
    const AxisSpec &spec = m_data.xAxis;
    const bool newAxis = spec.kind != m_kind || hyperparameter != m_hyperparameter;
    m_result = result;
    if (newAxis) {
        m_hyperparameter = hyperparameter;
        m_kind = spec.kind;
        m_categories.clear();
        switch (spec.kind) {
        case AxisKind::Linear:
            setAxis(Qt::Horizontal, new QValueAxis);
            break;
        case AxisKind::Log:
            setAxis(Qt::Horizontal, new QLogValueAxis);
            break;
        case AxisKind::Category: {
            auto *axis = new QCategoryAxis;
            axis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionCenter);
            setAxis(Qt::Horizontal, axis);
            break;
        }
        }
    }
    if (spec.kind == AxisKind::Category && spec.labels != m_categories) {
        auto *axis = qobject_cast<QCategoryAxis *>(axisX());
        for (const QString &label : axis->categoriesLabels())
            axis->remove(label);
        axis->setStartValue(-0.5);
        for (qsizetype i = 0; i < spec.labels.size(); ++i) {
            // Labels must be unique: a text "1" and a number 1 both show "1".
            QString label = spec.labels[i];
            while (axis->categoriesLabels().contains(label))
                label += QChar(0x200b);
            axis->append(label, double(i) + 0.5);
        }
        m_categories = spec.labels;
    }
    chart()->setTitle(tr("%1 against %2").arg(result, hyperparameter));
    axisX()->setTitleText(spec.kind == AxisKind::Log ? tr("%1 (log scale)").arg(hyperparameter)
                                                     : hyperparameter);
    axisY()->setTitleText(result);

    // One marker set per status, finished jobs drawn last (on top).
    const qsizetype n = m_data.points.size();
    const qreal size = n > 20000 ? 4 : n > 2000 ? 5 : 7;
    QList<DataLayerItem::PointSet> sets;
    QList<LegendEntry> legend;
    for (JobStatus status :
         {JobStatus::Queued, JobStatus::Crashed, JobStatus::Pruned, JobStatus::Running, JobStatus::Done}) {
        DataLayerItem::PointSet set;
        for (qsizetype i = 0; i < n; ++i) {
            if (m_data.statuses[i] == status) {
                set.points.append(m_data.points[i]);
                set.ids.append(m_data.ids[i]);
            }
        }
        if (set.points.isEmpty())
            continue;
        set.color = format::statusColor(status);
        if (n > 2000)
            set.color.setAlpha(160);
        set.size = size;
        legend.append({format::statusLabel(status), format::statusColor(status), false,
                       DataLayerItem::Shape::Circle, Qt::SolidLine});
        sets.append(std::move(set));
    }
    layer()->setMessage(tr("No job has both “%1” and a numeric “%2” yet").arg(hyperparameter, result));
    setLayerData({}, sets);
    setLegendEntries(legend);

    double lo = NaN, hi = NaN;
    for (const QPointF &p : std::as_const(m_data.points)) {
        if (std::isnan(lo) || p.y() < lo)
            lo = p.y();
        if (std::isnan(hi) || p.y() > hi)
            hi = p.y();
    }
    if (spec.kind == AxisKind::Category)
        setAxisBounds(Qt::Horizontal, -0.5, std::max(0.5, double(spec.labels.size()) - 0.5), false);
    else
        setAxisBounds(Qt::Horizontal, spec.min, spec.max);
    setAxisBounds(Qt::Vertical, lo, hi);
}

QString ScatterChart::hoverText(const DataLayerItem::Hit &hit) const
{
    QString x;
    if (m_kind == AxisKind::Category) {
        const int i = qRound(hit.value.x());
        x = m_data.xAxis.labels.value(i);
    } else {
        x = QString::number(hit.value.x(), 'g', 6);
    }
    return tr("%1 = %2 · %3 = <b>%4</b><br>")
               .arg(m_hyperparameter.toHtmlEscaped(), x.toHtmlEscaped(), m_result.toHtmlEscaped())
               .arg(hit.value.y(), 0, 'g', 6) +
           describeJob(hit.id);
}

} // namespace schedy::charts
