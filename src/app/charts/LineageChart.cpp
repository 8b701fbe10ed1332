#include "LineageChart.h"

#include "ChartColors.h"
#include "ValueFormat.h"

#include <QCategoryAxis>
#include <QValueAxis>

#include <algorithm>

namespace schedy::charts {

namespace {
const QColor ExploitColor(0xe6, 0x55, 0x0d);
const QColor ContinueColor(0x8c, 0x8c, 0x8c);
const QColor UnratedColor(0xd9, 0xd9, 0xd9);
// Member colours: the categorical palette without its oranges, which mean exploit.
QColor memberColor(int member)
{
    static const int skip[] = {1, 11};
    int index = 0;
    for (int seen = -1; index < 1000; ++index) {
        if (std::find(std::begin(skip), std::end(skip), index % 20) != std::end(skip))
            continue;
        if (++seen == member)
            break;
    }
    return categoryColor(index);
}

// An exploit link, entering the child from the left. Members run at their
// own pace, so the source is often of the child's generation or later: such
// links arc to the left of the column (nested like parentheses) instead of
// running along it; forward links are gentle S-curves.
QList<QPointF> exploitLink(const QPointF &from, const QPointF &to)
{
    const double dx = to.x() - from.x();
    QPointF c1, c2;
    if (dx >= 0.5) {
        const double bend = std::min(0.45, dx / 2);
        c1 = from + QPointF(bend, 0);
        c2 = to - QPointF(bend, 0);
    } else {
        const double reach = 0.28 + 0.04 * std::min(8.0, std::abs(to.y() - from.y()));
        c1 = from + QPointF(-reach + std::min(0.0, dx) * 0.5, 0);
        c2 = to + QPointF(-reach, 0);
    }
    QList<QPointF> points;
    constexpr int Steps = 24;
    points.reserve(Steps + 1);
    for (int i = 0; i <= Steps; ++i) {
        const double t = double(i) / Steps, u = 1 - t;
        points.append(u * u * u * from + 3 * u * u * t * c1 + 3 * u * t * t * c2 + t * t * t * to);
    }
    return points;
}

} // namespace

LineageChart::LineageChart(QWidget *parent)
    : XYChartView(parent)
{
    setIntegerTicks(Qt::Horizontal, true);
    axisX()->setTitleText(tr("Generation"));
}

QPointF LineageChart::nodePosition(int node) const
{
    const LineageNode &n = m_graph.nodes[node];
    if (m_layout == Layout::Lanes)
        return QPointF(double(n.generation), lane(n.memberIndex));
    return QPointF(double(n.generation), n.quality);
}

void LineageChart::setData(LineageGraph graph, const QString &quality, Objective objective, Layout layout)
{
    m_graph = std::move(graph);
    m_quality = quality;
    m_objective = objective;
    if (!m_hasLayout || layout != m_layout) {
        m_hasLayout = true;
        m_layout = layout;
        m_laneLabels.clear();
        if (layout == Layout::Lanes) {
            auto *axis = new QCategoryAxis;
            axis->setLabelsPosition(QCategoryAxis::AxisLabelsPositionCenter);
            axis->setGridLineVisible(false);
            setAxis(Qt::Vertical, axis);
        } else {
            setAxis(Qt::Vertical, new QValueAxis);
        }
    }
    chart()->setTitle(tr("PBT lineage: %1 per generation").arg(quality));
    const qsizetype memberCount = m_graph.members.size();
    if (m_layout == Layout::Lanes) {
        axisY()->setTitleText(tr("Member, best on top"));
        QStringList labels;
        for (qsizetype m = memberCount - 1; m >= 0; --m)
            labels.append(QStringLiteral("%1. %2").arg(m + 1).arg(m_graph.members[m]));
        if (labels != m_laneLabels) {
            auto *axis = qobject_cast<QCategoryAxis *>(axisY());
            for (const QString &label : axis->categoriesLabels())
                axis->remove(label);
            axis->setStartValue(-0.5);
            for (qsizetype i = 0; i < labels.size(); ++i)
                axis->append(labels[i], double(i) + 0.5);
            m_laneLabels = labels;
        }
    } else {
        axisY()->setTitleText(quality);
    }

    // Quality as a colour, 1 = best of its generation: exploit decisions
    // compare members within a generation, and early generations would
    // otherwise use up the whole scale.
    QHash<qint64, QPair<double, double>> spans; // by generation: min, max
    for (const LineageNode &n : std::as_const(m_graph.nodes)) {
        if (std::isnan(n.quality))
            continue;
        auto it = spans.find(n.generation);
        if (it == spans.end())
            spans.insert(n.generation, {n.quality, n.quality});
        else
            *it = {std::min(it->first, n.quality), std::max(it->second, n.quality)};
    }
    auto rating = [this, &spans](const LineageNode &n) {
        if (std::isnan(n.quality))
            return NaN;
        const auto span = spans.value(n.generation);
        if (!(span.second > span.first))
            return 1.0; // all equal: all best
        const double t = (n.quality - span.first) / (span.second - span.first);
        return m_objective == Objective::Minimize ? 1.0 - t : t;
    };
    const bool lanes = m_layout == Layout::Lanes;
    QList<DataLayerItem::Line> edges;
    DataLayerItem::PointSet plain, exploited, pending;
    plain.shape = DataLayerItem::Shape::Circle;
    plain.size = memberCount > 12 ? 9 : 11;
    plain.outline = QColor(0x55, 0x55, 0x55);
    exploited.shape = DataLayerItem::Shape::Diamond;
    exploited.size = plain.size;
    exploited.outline = ExploitColor.darker(115);
    pending = plain;
    pending.color = UnratedColor;
    pending.outline = QColor(0x99, 0x99, 0x99);
    for (int i = 0; i < m_graph.nodes.size(); ++i) {
        const LineageNode &n = m_graph.nodes[i];
        const QPointF at = nodePosition(i);
        const bool rated = !std::isnan(n.quality);
        if (n.parentNode >= 0) {
            const QPointF from = nodePosition(n.parentNode);
            if (lanes || (rated && !std::isnan(m_graph.nodes[n.parentNode].quality))) {
                DataLayerItem::Line edge;
                edge.points = n.exploit ? exploitLink(from, at) : QList<QPointF>{from, at};
                edge.id = n.id;
                edge.hoverable = false;
                if (n.exploit) {
                    edge.color = ExploitColor;
                    edge.width = 1.6;
                    edge.arrow = true;
                } else {
                    edge.color = lanes ? ContinueColor : memberColor(n.memberIndex);
                    edge.width = lanes ? 1.4 : 1.8;
                }
                edges.append(edge);
            }
        }
        if (!lanes && !rated)
            continue; // no place on a quality axis
        DataLayerItem::PointSet &set = !rated ? pending : n.exploit ? exploited : plain;
        set.points.append(at);
        set.ids.append(n.id);
        if (rated)
            set.colors.append(lanes ? qualityColor(rating(n)) : memberColor(n.memberIndex));
        else
            set.colors.append(UnratedColor);
    }
    // Exploit links on top of continuations: they are the story.
    std::stable_partition(edges.begin(), edges.end(), [](const DataLayerItem::Line &l) { return !l.arrow; });

    // Offered for PBT experiments only: no generation yet means no jobs yet.
    layer()->setMessage(tr("Waiting for the first jobs: the lineage grows as workers take them"));
    setLayerData(edges, {pending, plain, exploited});

    QList<LegendEntry> legend;
    if (!m_graph.nodes.isEmpty()) {
        if (lanes) {
            legend.append({tr("Best of its generation"), qualityColor(1.0), false,
                           DataLayerItem::Shape::Circle, Qt::SolidLine});
            legend.append({tr("Worst of its generation"), qualityColor(0.0), false,
                           DataLayerItem::Shape::Circle, Qt::SolidLine});
            legend.append(
                {tr("Member continues"), ContinueColor, true, DataLayerItem::Shape::Circle, Qt::SolidLine});
        } else if (memberCount <= 10) {
            for (qsizetype m = 0; m < memberCount; ++m)
                legend.append({m_graph.members[m], memberColor(int(m)), true, DataLayerItem::Shape::Circle,
                               Qt::SolidLine});
        }
        legend.append({tr("Exploit: copied another member"), ExploitColor, true, DataLayerItem::Shape::Circle,
                       Qt::SolidLine});
        legend.append(
            {tr("Exploit child"), ExploitColor, false, DataLayerItem::Shape::Diamond, Qt::SolidLine});
    }
    // Member names need room: a column on the right rather than an elided row.
    chart()->legend()->setAlignment(!lanes && memberCount <= 10 ? Qt::AlignRight : Qt::AlignBottom);
    setLegendEntries(legend);
    setAxisBounds(Qt::Horizontal, -0.5, std::max(0.5, double(m_graph.maxGeneration) + 0.5), false);
    if (lanes)
        setAxisBounds(Qt::Vertical, -0.5, std::max(0.5, double(memberCount) - 0.5), false);
    else
        setAxisBounds(Qt::Vertical, m_graph.qualityMin, m_graph.qualityMax);
}

QSet<QString> LineageChart::hoverEmphasis(const DataLayerItem::Hit &hit) const
{
    QSet<QString> ids;
    for (int node : m_graph.ancestry(m_graph.nodeOf(hit.id)))
        ids.insert(m_graph.nodes[node].id);
    if (ids.isEmpty())
        ids.insert(hit.id);
    return ids;
}

QString LineageChart::hoverText(const DataLayerItem::Hit &hit) const
{
    const int i = m_graph.nodeOf(hit.id);
    if (i < 0)
        return describeJob(hit.id);
    const LineageNode &n = m_graph.nodes[i];
    QString head = tr("Member %1 · generation %2 · %3 = <b>%4</b><br>")
                       .arg(n.member.toHtmlEscaped())
                       .arg(n.generation)
                       .arg(m_quality.toHtmlEscaped(),
                            std::isnan(n.quality) ? tr("none yet") : QString::number(n.quality, 'g', 6));
    if (n.exploit) {
        const LineageNode &p = m_graph.nodes[n.parentNode];
        head += tr("<span style='color:#e6550d'>Exploit:</span> copied %1 of member %2<br>")
                    .arg(p.id.toHtmlEscaped(), p.member.toHtmlEscaped());
    } else if (n.parentNode >= 0) {
        head += tr("Continues %1<br>").arg(m_graph.nodes[n.parentNode].id.toHtmlEscaped());
    }
    return head + describeJob(hit.id);
}

} // namespace schedy::charts
