#include "DistributionPreview.h"

#include "EditorSupport.h"
#include "Json.h"
#include "Sampler.h"

#include <QAreaSeries>
#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace schedy {

namespace {
constexpr int Bins = 40;
constexpr int MaxCategories = 40;

const QColor Fill(0x5b, 0x8d, 0xd6);
const QColor Line(0x2f, 0x5f, 0xa8);

QString categoryLabel(const QCborValue &v)
{
    QString s = editors::valueText(v);
    if (s.size() > 18)
        s = s.left(16) + QStringLiteral("…");
    return s;
}
} // namespace

Histogram Histogram::of(const Distribution &d, int samples, quint64 seed)
{
    Histogram h;
    h.samples = samples;
    Sampler sampler(seed);
    const bool degenerateNormal = d.kind == Distribution::Kind::Normal && d.std == 0;
    if (d.kind == Distribution::Kind::Choice || d.kind == Distribution::Kind::Const || degenerateNormal) {
        h.shape = Shape::Categories;
        QCborArray values;
        if (d.kind == Distribution::Kind::Choice)
            values = d.values;
        else
            values.append(d.kind == Distribution::Kind::Const ? d.constant : QCborValue(d.mean));
        h.counts = QList<double>(values.size(), 0.0);
        for (const QCborValue &v : values) {
            // The category axis needs distinct labels.
            QString label = categoryLabel(v);
            for (int n = 2; h.categories.contains(label); ++n)
                label = categoryLabel(v) + QStringLiteral(" #%1").arg(n);
            h.categories.append(label);
        }
        if (values.isEmpty())
            return h;
        for (int i = 0; i < samples; ++i) {
            const QCborValue x = d.kind == Distribution::Kind::Choice ? sampler.sample(d) : values.at(0);
            // Equal values are one category (the first that matches).
            for (qsizetype j = 0; j < values.size(); ++j) {
                if (values.at(j) == x) {
                    h.counts[j] += 1;
                    break;
                }
            }
        }
        return h;
    }

    h.shape = Shape::Continuous;
    h.logScale = d.kind == Distribution::Kind::LogUniform;
    QList<double> xs;
    xs.reserve(samples);
    for (int i = 0; i < samples; ++i)
        xs.append(json::toDouble(sampler.sample(d)));
    double lo = 0;
    double hi = 1;
    if (d.kind == Distribution::Kind::Normal) {
        const auto [mn, mx] = std::minmax_element(xs.begin(), xs.end());
        lo = std::max(*mn, d.mean - 4 * d.std);
        hi = std::min(*mx, d.mean + 4 * d.std);
    } else {
        lo = d.low;
        hi = d.high;
    }
    if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) {
        lo = xs.isEmpty() ? 0 : xs.first() - 1;
        hi = lo + 2;
    }
    const double a = h.logScale ? std::log(lo) : lo;
    const double b = h.logScale ? std::log(hi) : hi;
    for (int i = 0; i <= Bins; ++i) {
        const double t = a + (b - a) * i / Bins;
        h.edges.append(h.logScale ? std::exp(t) : t);
    }
    h.counts = QList<double>(Bins, 0.0);
    for (double x : std::as_const(xs)) {
        const double t = h.logScale ? std::log(x) : x;
        if (!std::isfinite(t))
            continue;
        const int bin = int(std::floor((t - a) / (b - a) * Bins));
        if (bin >= 0 && bin < Bins)
            h.counts[bin] += 1;
    }
    return h;
}

DistributionPreview::DistributionPreview(QWidget *parent)
    : QChartView(parent)
{
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(160);
    setDistribution({}, std::nullopt);
}

DistributionPreview::~DistributionPreview() = default;

bool DistributionPreview::isLogScale() const
{
    const auto axes = chart()->axes(Qt::Horizontal);
    return !axes.isEmpty() && axes.first()->type() == QAbstractAxis::AxisTypeLogValue;
}

bool DistributionPreview::showsBars() const
{
    const auto series = chart()->series();
    return !series.isEmpty() && series.first()->type() == QAbstractSeries::SeriesTypeBar;
}

void DistributionPreview::newChart()
{
    // A fresh chart each time: series and axes removed from a live chart can leave their
    // labels and grid lines painted behind.
    auto *c = new QChart;
    c->legend()->hide();
    c->setAnimationOptions(QChart::NoAnimation);
    c->setBackgroundRoundness(0);
    c->setMargins(QMargins(4, 4, 4, 4));
    QFont title = font();
    title.setPointSizeF(title.pointSizeF() * 0.95);
    c->setTitleFont(title);
    QChart *old = chart();
    setChart(c);
    delete old;
}

void DistributionPreview::setDistribution(const QString &name, const std::optional<Distribution> &d,
                                          const QString &note)
{
    newChart();
    if (!d) {
        m_histogram = {};
        chart()->setTitle(note);
        return;
    }
    m_histogram = Histogram::of(*d);
    const QString what = name.isEmpty() ? tr("Preview") : name;
    switch (d->kind) {
    case Distribution::Kind::Const:
        chart()->setTitle(tr("%1: always %2").arg(what, editors::valueText(d->constant).left(60)));
        break;
    case Distribution::Kind::LogUniform:
        chart()->setTitle(tr("%1: %2 samples, log scale").arg(what).arg(m_histogram.samples));
        break;
    default:
        chart()->setTitle(tr("%1: %2 samples").arg(what).arg(m_histogram.samples));
        break;
    }
    if (m_histogram.shape == Histogram::Shape::Continuous)
        drawContinuous();
    else
        drawCategories();
}

void DistributionPreview::drawContinuous()
{
    const Histogram &h = m_histogram;
    auto *upper = new QLineSeries;
    double peak = 0;
    for (qsizetype i = 0; i < h.counts.size(); ++i) {
        upper->append(h.edges[i], h.counts[i]);
        upper->append(h.edges[i + 1], h.counts[i]);
        peak = std::max(peak, h.counts[i]);
    }
    auto *lower = new QLineSeries;
    lower->append(h.edges.first(), 0);
    lower->append(h.edges.last(), 0);
    auto *area = new QAreaSeries(upper, lower);
    area->setColor(Fill);
    area->setBorderColor(Line);
    QChart *c = chart();
    c->addSeries(area);

    QAbstractAxis *x = nullptr;
    if (h.logScale) {
        auto *axis = new QLogValueAxis;
        axis->setBase(10);
        axis->setLabelFormat(QStringLiteral("%.0e"));
        axis->setMinorTickCount(-1);
        axis->setMinorGridLineVisible(false);
        axis->setRange(h.edges.first(), h.edges.last());
        x = axis;
    } else {
        auto *axis = new QValueAxis;
        axis->setRange(h.edges.first(), h.edges.last());
        axis->setLabelFormat(QStringLiteral("%.3g"));
        axis->applyNiceNumbers();
        x = axis;
    }
    auto *y = new QValueAxis;
    y->setRange(0, std::max(1.0, peak * 1.1));
    y->setLabelFormat(QStringLiteral("%d"));
    y->applyNiceNumbers();
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    x->setLabelsFont(small);
    y->setLabelsFont(small);
    c->addAxis(x, Qt::AlignBottom);
    c->addAxis(y, Qt::AlignLeft);
    area->attachAxis(x);
    area->attachAxis(y);
}

void DistributionPreview::drawCategories()
{
    const Histogram &h = m_histogram;
    auto *set = new QBarSet(tr("samples"));
    set->setColor(Fill);
    set->setBorderColor(Line);
    double peak = 0;
    const qsizetype shown = std::min<qsizetype>(h.counts.size(), MaxCategories);
    for (qsizetype i = 0; i < shown; ++i) {
        set->append(h.counts[i]);
        peak = std::max(peak, h.counts[i]);
    }
    auto *series = new QBarSeries;
    series->append(set);
    series->setBarWidth(0.7);
    QChart *c = chart();
    c->addSeries(series);
    auto *x = new QBarCategoryAxis;
    x->append(h.categories.mid(0, shown));
    auto *y = new QValueAxis;
    y->setRange(0, std::max(1.0, peak * 1.1));
    y->setLabelFormat(QStringLiteral("%d"));
    y->applyNiceNumbers();
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    x->setLabelsFont(small);
    y->setLabelsFont(small);
    c->addAxis(x, Qt::AlignBottom);
    c->addAxis(y, Qt::AlignLeft);
    series->attachAxis(x);
    series->attachAxis(y);
}

} // namespace schedy
