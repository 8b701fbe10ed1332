#pragma once

#include "ChartData.h"
#include "XYChartView.h"

namespace schedy::charts {

// A result against a hyperparameter, one point per job coloured by status.
// The x axis follows the hyperparameter: logarithmic for log-uniform ones,
// categories for choices and text.
class ScatterChart : public XYChartView
{
    Q_OBJECT
public:
    explicit ScatterChart(QWidget *parent = nullptr);

    void setData(ScatterData data, const QString &hyperparameter, const QString &result);
    const ScatterData &data() const { return m_data; }
    AxisKind axisKind() const { return m_kind; }

protected:
    QString hoverText(const DataLayerItem::Hit &hit) const override;

private:
    ScatterData m_data;
    QString m_hyperparameter;
    QString m_result;
    AxisKind m_kind = AxisKind::Linear;
    QStringList m_categories;
};

} // namespace schedy::charts
