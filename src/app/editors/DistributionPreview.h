#pragma once

#include "Types.h"

#include <QChartView>
#include <QStringList>

#include <optional>

namespace schedy {

// What a distribution draws, as counted from samples of the core sampler.
struct Histogram
{
    enum class Shape { Empty, Continuous, Categories };
    Shape shape = Shape::Empty;
    bool logScale = false;  // bins of equal width in log space
    QList<double> edges;    // Continuous: bins + 1 edges
    QList<double> counts;   // one per bin or category
    QStringList categories; // Categories: the values as JSON text
    int samples = 0;

    // Draws `samples` values with a seeded sampler: the same input always gives the same picture.
    static Histogram of(const Distribution &distribution, int samples = 5000, quint64 seed = 20240601);
};

// A live preview of one distribution: a histogram of samples (log axis for
// log-uniform), bars for a choice or a constant.
class DistributionPreview : public QChartView
{
    Q_OBJECT
public:
    explicit DistributionPreview(QWidget *parent = nullptr);
    ~DistributionPreview() override;

    // Redraws; without a distribution the chart is empty and shows `note`.
    void setDistribution(const QString &name, const std::optional<Distribution> &distribution,
                         const QString &note = {});
    const Histogram &histogram() const { return m_histogram; }
    bool isLogScale() const; // the horizontal axis is logarithmic
    bool showsBars() const;  // categories drawn as bars

private:
    void newChart();
    void drawContinuous();
    void drawCategories();

    Histogram m_histogram;
};

} // namespace schedy
