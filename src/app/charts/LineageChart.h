#pragma once

#include "ChartData.h"
#include "XYChartView.h"

namespace schedy::charts {

// PBT lineage. Lanes (default): one row per member, best latest quality on
// top, one node per generation coloured by quality; a grey link continues a
// member, an orange arrow is an exploit step (the child copied another
// member) and the child is a diamond. Quality: the same graph with quality
// on the y axis, one colour per member. Hovering a node shows its job and
// highlights its ancestry across members.
class LineageChart : public XYChartView
{
    Q_OBJECT
public:
    enum class Layout { Lanes, Quality };

    explicit LineageChart(QWidget *parent = nullptr);

    void setData(LineageGraph graph, const QString &quality, Objective objective, Layout layout);
    const LineageGraph &graph() const { return m_graph; }
    Layout layout() const { return m_layout; }
    // Where a node is drawn, in axis values.
    QPointF nodePosition(int node) const;

protected:
    QString hoverText(const DataLayerItem::Hit &hit) const override;
    QSet<QString> hoverEmphasis(const DataLayerItem::Hit &hit) const override;
    bool dimOnHover() const override { return true; }

private:
    double lane(int memberIndex) const { return double(m_graph.members.size() - 1 - memberIndex); }

    LineageGraph m_graph;
    QString m_quality;
    Objective m_objective = Objective::Minimize;
    Layout m_layout = Layout::Lanes;
    bool m_hasLayout = false;
    QStringList m_laneLabels;
};

} // namespace schedy::charts
