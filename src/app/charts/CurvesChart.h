#pragma once

#include "ChartData.h"
#include "XYChartView.h"

namespace schedy::charts {

// Result curves: one line per job for a list-valued result (loss per epoch),
// for the best N jobs and the selected ones, or the selected ones only.
// Few curves get distinct colours and legend entries; many are coloured by
// rank (dark: best).
class CurvesChart : public XYChartView
{
    Q_OBJECT
public:
    explicit CurvesChart(QWidget *parent = nullptr);

    void setData(CurveData data, const QString &result, Objective objective);
    const CurveData &data() const { return m_data; }
    // The tooltip of a hovered curve (public for tests).
    QString hoverText(const DataLayerItem::Hit &hit) const override;

private:
    CurveData m_data;
    QHash<QString, int> m_indexOf;
    QString m_result;
    Objective m_objective = Objective::Minimize;
};

} // namespace schedy::charts
