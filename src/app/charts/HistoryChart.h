#pragma once

#include "ChartData.h"
#include "XYChartView.h"

namespace schedy::charts {

// Optimization history: each DONE job's result in order of completion, the
// best-so-far line as steps and the best job marked.
class HistoryChart : public XYChartView
{
    Q_OBJECT
public:
    explicit HistoryChart(QWidget *parent = nullptr);

    void setData(HistoryData data, const QString &result, Objective objective);
    const HistoryData &data() const { return m_data; }

protected:
    QString hoverText(const DataLayerItem::Hit &hit) const override;

private:
    HistoryData m_data;
    QString m_result;
    Objective m_objective = Objective::Minimize;
};

} // namespace schedy::charts
