#include "ParallelCoordinatesChart.h"
#include "ValueFormat.h"

#include "ChartColors.h"

#include <QElapsedTimer>
#include <QMouseEvent>
#include <QPaintEngine>
#include <QPainter>
#include <QThread>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <vector>

namespace schedy::charts {

namespace {

constexpr qreal MarginLeft = 24, MarginRight = 24, MarginTop = 64, MarginBottom = 28;
// Beyond this many lines: colour buckets and one drawLines() per bucket
// instead of a pen and a polyline per line (the lines are a colour field).
constexpr int ExactColourLimit = 5000;
constexpr int ColourBuckets = 64;
// The worker looks for a newer request this often (lines).
constexpr int CancelCheckLines = 2048;
// Up to this many lines the layer is rendered in paintEvent() (measured:
// a few milliseconds, see docs/performance.md).
int s_asyncThreshold = 2000;

qreal segmentDistance2(const QPointF &p, const QPointF &a, const QPointF &b)
{
    const QPointF ab = b - a;
    const qreal len2 = QPointF::dotProduct(ab, ab);
    qreal t = len2 > 0 ? QPointF::dotProduct(p - a, ab) / len2 : 0;
    t = std::clamp(t, qreal(0), qreal(1));
    const QPointF d = p - (a + t * ab);
    return QPointF::dotProduct(d, d);
}

// Axis position (normalised) -> value, the inverse of normalise().
double valueAt(const AxisSpec &axis, double n)
{
    if (axis.kind == AxisKind::Log)
        return std::exp(std::log(axis.min) + n * (std::log(axis.max) - std::log(axis.min)));
    return axis.min + n * (axis.max - axis.min);
}

QString tickLabel(double v)
{
    QString s = QString::number(v, 'g', 4);
    return s;
}

// World (axis index, [0, 1]) to widget pixels for a plot rectangle and view.
QTransform worldToPixel(const QRectF &plot, const QRectF &view)
{
    const qreal sx = plot.width() / view.width(), sy = plot.height() / view.height();
    return QTransform(sx, 0, 0, -sy, plot.left() - view.left() * sx, plot.bottom() + view.top() * sy);
}

int lineAlpha(int n)
{
    return n <= 200 ? 210 : n <= 2000 ? 120 : n <= 20000 ? 60 : 30;
}

// Thousands of lines: one-pixel cosmetic pens, the raster engine's fast path.
qreal lineWidth(int n)
{
    return n <= 200 ? 1.4 : n <= 5000 ? 1.0 : 0.0;
}

// A selected or hovered line: a dark outline under the line's own colour;
// `points` has NaN where a job lacks a hyperparameter.
void strokeEmphasised(QPainter &painter, const QPolygonF &points, const QColor &colour, bool hovered)
{
    QPolygonF run;
    auto flush = [&] {
        if (run.size() > 1) {
            painter.setPen(QPen(QColor(0x10, 0x10, 0x10), hovered ? 5.0 : 4.0, Qt::SolidLine, Qt::RoundCap,
                                Qt::RoundJoin));
            painter.drawPolyline(run);
            painter.setPen(QPen(colour, hovered ? 2.6 : 2.0, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
            painter.drawPolyline(run);
        }
        run.clear();
    };
    for (const QPointF &p : points) {
        if (std::isnan(p.x()))
            flush();
        else
            run.append(p);
    }
    flush();
}

} // namespace

// A snapshot of everything the lines need, as plain values (implicitly
// shared lists, read only), so that a worker thread can render it while the
// UI thread goes on.
struct ParallelCoordinatesChart::LineJob
{
    QList<float> positions; // line-major
    QStringList ids;
    QList<float> ratings;
    QList<int> order; // worst first
    int axisCount = 0;
    QSet<QString> selected;
    QString hovered;
    QTransform toPixel;
    QRect imageRect; // the plot and a 2-pixel margin, widget coordinates
    QRectF clip;
    qreal dpr = 1;

    int lineCount() const { return int(ids.size()); }
    QPolygonF polygon(int line) const
    {
        QPolygonF poly;
        poly.reserve(axisCount);
        const float *v = positions.constData() + qsizetype(line) * axisCount;
        for (int a = 0; a < axisCount; ++a)
            poly.append(std::isnan(v[a]) ? QPointF(std::nan(""), std::nan(""))
                                         : toPixel.map(QPointF(a, double(v[a]))));
        return poly;
    }
    bool emphasised(int line) const
    {
        if (selected.isEmpty() && hovered.isEmpty())
            return false;
        const QString &id = ids.at(line);
        return id == hovered || selected.contains(id);
    }
};

namespace {

// Paints the lines, worst first so that the best end on top, then the
// selected and hovered ones. Returns false if `ticket` went stale (cancelled).
template <typename Job> bool paintLines(QPainter &painter, const Job &job, const LatestOnly::Ticket *ticket)
{
    auto cancelled = [ticket] {
        return ticket && ticket->stale();
    };
    const int n = job.lineCount();
    const int axisCount = job.axisCount;
    const bool emphasis = !job.selected.isEmpty() || !job.hovered.isEmpty();
    const int alpha = emphasis ? std::max(20, lineAlpha(n) / 2) : lineAlpha(n);
    const qreal width = lineWidth(n);
    painter.setRenderHint(QPainter::Antialiasing, n <= 5000);
    QList<int> emphasised;
    if (n <= ExactColourLimit) {
        // Few lines: each in its own colour, as one polyline per run of values.
        QPolygonF run;
        for (int line : job.order) {
            if (job.emphasised(line)) {
                emphasised.append(line);
                continue;
            }
            QColor c = qualityColor(job.ratings[line]);
            c.setAlpha(alpha);
            painter.setPen(QPen(c, width));
            const QPolygonF poly = job.polygon(line);
            run.clear();
            for (const QPointF &p : poly) {
                if (std::isnan(p.x())) {
                    if (run.size() > 1)
                        painter.drawPolyline(run);
                    run.clear();
                } else {
                    run.append(p);
                }
            }
            if (run.size() > 1)
                painter.drawPolyline(run);
        }
    } else {
        // Many lines: the ratings are sorted, so a colour bucket is a run of
        // the order; each is one pen and one drawLines() of its segments.
        std::vector<QLineF> segments;
        segments.reserve(std::min(n, 20000) * std::max(1, axisCount - 1));
        const QTransform &m = job.toPixel;
        std::vector<qreal> xs(axisCount);
        for (int a = 0; a < axisCount; ++a)
            xs[a] = m.map(QPointF(a, 0)).x();
        const qreal y0 = m.dy(), sy = m.m22();
        int bucket = -1;
        auto flush = [&] {
            if (!segments.empty()) {
                QColor c = qualityColor((bucket + 0.5) / ColourBuckets);
                c.setAlpha(alpha);
                painter.setPen(QPen(c, width));
                painter.drawLines(segments.data(), int(segments.size()));
            }
            segments.clear();
        };
        int done = 0;
        for (int line : job.order) {
            if (++done % CancelCheckLines == 0 && cancelled())
                return false;
            if (job.emphasised(line)) {
                emphasised.append(line);
                continue;
            }
            const int b = std::clamp(int(job.ratings[line] * ColourBuckets), 0, ColourBuckets - 1);
            if (b != bucket) {
                flush();
                bucket = b;
            }
            const float *v = job.positions.constData() + qsizetype(line) * axisCount;
            for (int a = 1; a < axisCount; ++a) {
                if (std::isnan(v[a - 1]) || std::isnan(v[a]))
                    continue;
                segments.emplace_back(xs[a - 1], y0 + sy * v[a - 1], xs[a], y0 + sy * v[a]);
            }
        }
        flush();
    }
    if (cancelled())
        return false;
    painter.setRenderHint(QPainter::Antialiasing, true);
    std::stable_partition(emphasised.begin(), emphasised.end(),
                          [&job](int line) { return job.ids.at(line) != job.hovered; });
    for (int line : std::as_const(emphasised))
        strokeEmphasised(painter, job.polygon(line), qualityColor(job.ratings[line]),
                         job.ids.at(line) == job.hovered);
    return true;
}

// The line layer as an image of the plot (transparent elsewhere); null if
// cancelled.
template <typename Job> QImage renderLayer(const Job &job, const LatestOnly::Ticket *ticket)
{
    QImage image(job.imageRect.size() * job.dpr, QImage::Format_ARGB32_Premultiplied);
    if (image.isNull())
        return {};
    image.setDevicePixelRatio(job.dpr);
    image.fill(Qt::transparent);
    QPainter painter(&image);
    painter.translate(-job.imageRect.topLeft());
    painter.setClipRect(job.clip);
    if (!paintLines(painter, job, ticket))
        return {};
    return image;
}

} // namespace

ParallelCoordinatesChart::ParallelCoordinatesChart(QWidget *parent)
    : QWidget(parent)
    , m_gesture(this,
                {[this](const QPoint &pos) { hover(pos); },
                 {},
                 [this](const QRectF &r) {
                     if (r.width() <= 4 || r.height() <= 4)
                         return;
                     const QRectF plot = plotRect(rect());
                     setView(QRectF(toWorld(plot, r.bottomLeft()), toWorld(plot, r.topRight())).normalized());
                 },
                 [this](int dx, int dy) { pan(dx, dy); },
                 [this](qreal factor, const QPointF &at) { zoomBy(factor, at); },
                 [this](const QPoint &pos, Qt::KeyboardModifiers modifiers) {
                     const int line = lineAt(pos);
                     if (line >= 0)
                         Q_EMIT jobClicked(m_data.ids[line], modifiers);
                 },
                 [this](const QPoint &pos) { return lineAt(pos) >= 0; },
                 [this] {
                     resetZoom();
                 }})
{
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setAutoFillBackground(false);
    setAttribute(Qt::WA_OpaquePaintEvent);
    // Resizes and zoom steps come in bursts: one render after them.
    m_renderTimer.setSingleShot(true);
    m_renderTimer.setInterval(30);
    connect(&m_renderTimer, &QTimer::timeout, this, &ParallelCoordinatesChart::startRender);
}

ParallelCoordinatesChart::~ParallelCoordinatesChart() = default;

void ParallelCoordinatesChart::setAsyncThreshold(int lines)
{
    s_asyncThreshold = lines;
}

int ParallelCoordinatesChart::asyncThreshold()
{
    return s_asyncThreshold;
}

QRectF ParallelCoordinatesChart::fullView() const
{
    const double span = std::max<double>(1.0, double(m_data.axes.size() - 1));
    return QRectF(-0.02 * span, -0.04, span * 1.04, 1.08);
}

void ParallelCoordinatesChart::setData(ParallelData data, const QString &result, Objective objective)
{
    const bool sameAxes =
        m_data.axes.size() == data.axes.size() &&
        std::equal(m_data.axes.begin(), m_data.axes.end(), data.axes.begin(),
                   [](const ParallelAxis &a, const ParallelAxis &b) { return a.name == b.name; });
    m_data = std::move(data);
    m_result = result;
    m_objective = objective;
    m_title = tr("Parallel coordinates, coloured by %1").arg(result);
    ++m_dataGeneration;
    cancelRender();
    // Ratings once per line: the sort and the colours need them.
    const int n = m_data.lineCount();
    const double span = m_data.resultMax - m_data.resultMin;
    QList<float> ratings(n, 1.0f); // all equal: all best
    if (span > 0) {
        for (int line = 0; line < n; ++line) {
            const double t = (m_data.results[line] - m_data.resultMin) / span;
            ratings[line] = float(m_objective == Objective::Minimize ? 1.0 - t : t);
        }
    }
    m_ratings = std::move(ratings);
    // Worst first, ties in line order; sorting pairs keeps the data in cache.
    std::vector<std::pair<float, int>> keyed(n);
    for (int line = 0; line < n; ++line)
        keyed[line] = {m_ratings[line], line};
    std::sort(keyed.begin(), keyed.end());
    QList<int> order(n);
    for (int k = 0; k < n; ++k)
        order[k] = keyed[k].second;
    m_order = std::move(order);
    if (!sameAxes || !m_zoomed) {
        m_view = fullView();
        if (m_zoomed) {
            m_zoomed = false;
            Q_EMIT zoomChanged(false);
        }
    }
    update();
}

void ParallelCoordinatesChart::setSelectedIds(const QSet<QString> &ids)
{
    if (ids == m_selected)
        return;
    m_selected = ids;
    ++m_selectionGeneration;
    cancelRender();
    update();
}

QColor ParallelCoordinatesChart::lineColor(int line) const
{
    return qualityColor(rating(line));
}

QRectF ParallelCoordinatesChart::plotRect(const QRectF &rect) const
{
    // Room for the first axis' labels on the left and the colour scale on the
    // right; above, for the result's name when it takes more than two lines.
    qreal left = 0, right = 0;
    const qsizetype titleLines = resultTitleLines(rect, &left, &right).size();
    const qreal extra = titleLines > 2 ? (titleLines - 2) * QFontMetricsF(titleFont()).height() : 0;
    return rect.adjusted(MarginLeft + 60, MarginTop + extra, -(MarginRight + 60), -MarginBottom);
}

QPointF ParallelCoordinatesChart::toPixel(const QRectF &plot, double axis, double position) const
{
    return {plot.left() + (axis - m_view.left()) / m_view.width() * plot.width(),
            plot.bottom() - (position - m_view.top()) / m_view.height() * plot.height()};
}

QPointF ParallelCoordinatesChart::toWorld(const QRectF &plot, const QPointF &p) const
{
    return {m_view.left() + (p.x() - plot.left()) / plot.width() * m_view.width(),
            m_view.top() + (plot.bottom() - p.y()) / plot.height() * m_view.height()};
}

ParallelCoordinatesChart::LayerKey ParallelCoordinatesChart::currentKey(const QRectF &plot) const
{
    LayerKey key;
    key.data = m_dataGeneration;
    key.selection = m_selectionGeneration;
    key.view = m_view;
    key.plot = plot;
    key.dpr = devicePixelRatioF();
    if (!isAsync())
        key.hovered = m_hovered;
    return key;
}

ParallelCoordinatesChart::LineJob ParallelCoordinatesChart::makeJob(const QRectF &plot, bool withHover) const
{
    LineJob job;
    job.positions = m_data.positions;
    job.ids = m_data.ids;
    job.ratings = m_ratings;
    job.order = m_order;
    job.axisCount = int(m_data.axes.size());
    job.selected = m_selected;
    if (withHover)
        job.hovered = m_hovered;
    job.toPixel = worldToPixel(plot, m_view);
    job.clip = plot.adjusted(-2, -2, 2, 2);
    job.imageRect = job.clip.toAlignedRect();
    job.dpr = devicePixelRatioF();
    return job;
}

bool ParallelCoordinatesChart::isLayerStale() const
{
    const QRectF plot = plotRect(rect());
    return m_data.lineCount() > 0 && (m_layer.image.isNull() || m_layer.key != currentKey(plot));
}

void ParallelCoordinatesChart::paintEvent(QPaintEvent *)
{
    ++m_paintCount;
    QPainter painter(this);
    paintChart(painter, rect(), true);
}

void ParallelCoordinatesChart::renderChart(QPainter *painter, const QRectF &target)
{
    painter->save();
    painter->translate(target.topLeft());
    painter->scale(target.width() / std::max(1, width()), target.height() / std::max(1, height()));
    paintChart(*painter, rect(), false);
    painter->restore();
}

void ParallelCoordinatesChart::paintLayer(QPainter &painter, const QRectF &plot)
{
    const LayerKey key = currentKey(plot);
    if (!isAsync()) {
        // Few lines: render here, hover included; a new request makes any
        // worker render still in flight stale.
        if (m_layer.image.isNull() || m_layer.key != key) {
            const LineJob job = makeJob(plot, true);
            m_renderer.cancel();
            m_rendering = false;
            m_renderTimer.stop();
            m_layer = {renderLayer(job, nullptr), job.imageRect, key};
        }
        painter.drawImage(m_layer.rect.topLeft(), m_layer.image);
        return;
    }
    if (m_rendering && m_inFlight != key)
        cancelRender(); // resized meanwhile
    if (m_layer.key != key && !m_rendering)
        requestRender(key);
    if (!m_layer.image.isNull()) {
        // The last layer, mapped from the zoom and size it was rendered for
        // onto the current ones (exact when only the data changed).
        painter.save();
        const LayerKey &old = m_layer.key;
        if (old.view != key.view || old.plot != key.plot) {
            painter.setTransform(worldToPixel(old.plot, old.view).inverted() * worldToPixel(plot, m_view),
                                 true);
            // Shrunk one-pixel lines would break up into dashes.
            painter.setRenderHint(QPainter::SmoothPixmapTransform);
        }
        // Hovering dims the other lines, as a selection does.
        if (!m_hovered.isEmpty() && m_selected.isEmpty())
            painter.setOpacity(0.45);
        painter.drawImage(m_layer.rect.topLeft(), m_layer.image);
        painter.restore();
    }
    if (!m_hovered.isEmpty()) {
        const int line = int(m_data.ids.indexOf(m_hovered));
        if (line >= 0) {
            painter.setRenderHint(QPainter::Antialiasing, true);
            LineJob job;
            job.positions = m_data.positions;
            job.axisCount = int(m_data.axes.size());
            job.toPixel = worldToPixel(plot, m_view);
            strokeEmphasised(painter, job.polygon(line), lineColor(line), true);
        }
    }
}

void ParallelCoordinatesChart::cancelRender()
{
    if (!m_rendering)
        return;
    // The worker stops at its next check; a result already on its way is
    // dropped.
    m_renderer.cancel();
    m_rendering = false;
}

void ParallelCoordinatesChart::requestRender(const LayerKey &key)
{
    // Debounced: a pan, zoom or resize in progress restarts the wait (the
    // last layer is shown mapped meanwhile); repaints for the same key don't.
    if (m_renderTimer.isActive() && key == m_pendingKey)
        return;
    m_pendingKey = key;
    m_renderTimer.start(m_layer.image.isNull() ? 0 : 30);
}

void ParallelCoordinatesChart::startRender()
{
    if (!isAsync() || !isVisible())
        return;
    const QRectF plot = plotRect(rect());
    if (plot.width() < 20 || plot.height() < 20)
        return;
    m_inFlight = currentKey(plot);
    m_rendering = true;
    ++m_renderCount;
    struct Rendered
    {
        QImage image;
        QRect rect;
        qint64 ms = 0;
    };
    m_renderer.submit(
        [job = makeJob(plot, false)](const LatestOnly::Ticket &ticket) {
            QElapsedTimer timer;
            timer.start();
            QImage image = renderLayer(job, &ticket); // null if cancelled: then stale, never delivered
            return Rendered{std::move(image), job.imageRect, timer.elapsed()};
        },
        [this, key = m_inFlight](const Rendered &r) { takeLayer(r.image, r.rect, key, r.ms); });
    Q_EMIT renderStarted();
}

void ParallelCoordinatesChart::takeLayer(const QImage &image, const QRect &rect, const LayerKey &key,
                                         qint64 ms)
{
    m_rendering = false;
    if (image.isNull())
        return; // no memory for the image: keep showing the last layer
    m_lastRenderMs = ms;
    m_layer = {image, rect, key};
    update();
    Q_EMIT layerRendered();
}

void ParallelCoordinatesChart::paintChart(QPainter &painter, const QRectF &rect, bool onScreen)
{
    painter.fillRect(rect, Qt::white);
    painter.setRenderHint(QPainter::TextAntialiasing);
    QFont titleFont = font();
    titleFont.setBold(true);
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.1);
    painter.setFont(titleFont);
    painter.setPen(QColor(0x20, 0x20, 0x20));
    painter.drawText(QRectF(rect.left(), rect.top() + 6, rect.width(), 24), Qt::AlignCenter,
                     QFontMetricsF(titleFont).elidedText(m_title, Qt::ElideMiddle, rect.width() - 12));

    const QRectF plot = plotRect(rect);
    const qsizetype axisCount = m_data.axes.size();
    const int n = m_data.lineCount();
    painter.setFont(font());
    if (n == 0 || plot.width() < 20 || plot.height() < 20) {
        painter.setPen(QColor(0x80, 0x80, 0x80));
        painter.drawText(rect, Qt::AlignCenter | Qt::TextWordWrap,
                         tr("No finished job has a numeric “%1” yet").arg(m_result));
        return;
    }

    painter.save();
    painter.setClipRect(plot.adjusted(-2, -2, 2, 2));
    if (onScreen) {
        paintLayer(painter, plot);
    } else {
        // Export: the lines themselves, vector for SVG, without the hover.
        LineJob job = makeJob(plot, false);
        paintLines(painter, job, nullptr);
    }
    painter.restore();

    // Axes: a line, the name above, ticks with labels on a white backing.
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    const QFontMetricsF fm(small);
    const qreal spacing = axisCount > 1 ? plot.width() / m_view.width() : plot.width();
    for (qsizetype a = 0; a < axisCount; ++a) {
        const ParallelAxis &axis = m_data.axes[a];
        const qreal x = toPixel(plot, double(a), 0).x();
        if (x < rect.left() - 1 || x > rect.right() + 1)
            continue;
        const qreal top = std::max(plot.top(), toPixel(plot, 0, 1).y());
        const qreal bottom = std::min(plot.bottom(), toPixel(plot, 0, 0).y());
        if (axis.isResult) {
            // The result axis is the colour scale.
            const int steps = 64;
            for (int s = 0; s < steps; ++s) {
                const double n0 = double(s) / steps, n1 = double(s + 1) / steps;
                const QPointF p0 = toPixel(plot, double(a), n0), p1 = toPixel(plot, double(a), n1);
                const double v = axis.spec.min + (n0 + n1) / 2 * (axis.spec.max - axis.spec.min);
                const double span = m_data.resultMax - m_data.resultMin;
                double t = 1.0;
                if (span > 0) {
                    t = (v - m_data.resultMin) / span;
                    if (m_objective == Objective::Minimize)
                        t = 1.0 - t;
                }
                const QRectF band(x - 4, std::min(p0.y(), p1.y()), 8, std::abs(p1.y() - p0.y()) + 0.5);
                painter.fillRect(band & QRectF(x - 4, top, 8, bottom - top), qualityColor(t));
            }
            painter.setPen(QPen(QColor(0x40, 0x40, 0x40), 1));
            painter.setBrush(Qt::NoBrush);
            painter.drawRect(QRectF(x - 4, top, 8, bottom - top));
        } else {
            painter.setPen(QPen(QColor(0x40, 0x40, 0x40), 1.2));
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
        }
        const AxisTitle title = axisTitle(int(a), rect);
        painter.setFont(this->titleFont());
        painter.setPen(QColor(0x20, 0x20, 0x20));
        painter.drawText(title.box, Qt::AlignCenter, title.lines.join(QLatin1Char('\n')));

        // Ticks.
        painter.setFont(small);
        struct Tick
        {
            double position;
            QString label;
        };
        QList<Tick> ticks;
        const AxisSpec &spec = axis.spec;
        const double lo = std::max(0.0, m_view.top()), hi = std::min(1.0, m_view.bottom());
        if (spec.kind == AxisKind::Category) {
            const qsizetype count = spec.labels.size();
            for (qsizetype i = 0; i < count; ++i) {
                const double pos = count > 1 ? double(i) / double(count - 1) : 0.5;
                ticks.append({pos, spec.labels[i]});
            }
        } else if (spec.isValid()) {
            if (!(spec.max > spec.min)) {
                ticks.append({0.5, tickLabel(spec.min)});
            } else if (spec.kind == AxisKind::Log) {
                const double l0 = std::log10(valueAt(spec, lo)), l1 = std::log10(valueAt(spec, hi));
                QList<double> exps;
                if (l1 - l0 >= 1.5) {
                    for (double e = std::ceil(l0); e <= std::floor(l1) + 1e-9;
                         e += std::max(1.0, std::floor((l1 - l0) / 6)))
                        exps.append(e);
                } else {
                    for (double v : niceTicks(valueAt(spec, lo), valueAt(spec, hi), 5))
                        exps.append(std::log10(v));
                }
                for (double e : std::as_const(exps)) {
                    const double v = std::pow(10.0, e);
                    ticks.append({normalise(v, spec), tickLabel(v)});
                }
            } else {
                for (double v :
                     niceTicks(valueAt(spec, lo), valueAt(spec, hi), std::max(3, int(plot.height() / 90))))
                    ticks.append({normalise(v, spec), tickLabel(v)});
            }
        }
        for (const Tick &t : std::as_const(ticks)) {
            const QPointF p = toPixel(plot, double(a), t.position);
            if (p.y() < plot.top() - 1 || p.y() > plot.bottom() + 1)
                continue;
            painter.setPen(QPen(QColor(0x40, 0x40, 0x40), 1));
            painter.drawLine(QPointF(x - 4, p.y()), QPointF(x, p.y()));
            const QString label =
                fm.elidedText(t.label, Qt::ElideRight, std::max<qreal>(40, spacing / 2 - 10));
            const qreal w = fm.horizontalAdvance(label);
            // Right of the axis for the result (the scale is in the way on the left).
            const QRectF box = axis.isResult
                                   ? QRectF(x + 8, p.y() - fm.height() / 2, w + 4, fm.height())
                                   : QRectF(x - 8 - w - 4, p.y() - fm.height() / 2, w + 4, fm.height());
            painter.fillRect(box, QColor(255, 255, 255, 200));
            painter.setPen(QColor(0x30, 0x30, 0x30));
            painter.drawText(box, Qt::AlignCenter, label);
        }
    }
    // Footer: how many lines.
    painter.setFont(small);
    painter.setPen(QColor(0x70, 0x70, 0x70));
    QString footer = format::count(n, tr("finished job"));
    if (m_data.skipped > 0)
        footer += tr(" · %n without a numeric result", nullptr, m_data.skipped);
    painter.drawText(
        QRectF(rect.left(), rect.bottom() - MarginBottom + 6, rect.width() - 12, MarginBottom - 6),
        Qt::AlignRight | Qt::AlignVCenter, footer);
    if (onScreen && isAsync() && isLayerStale()) {
        // The worker is on it; until then the last layer (if any) is shown.
        const QString hint = tr("Rendering %Ln lines…", nullptr, n);
        const QRectF box = m_layer.image.isNull()
                               ? QRectF(plot.center().x() - 110, plot.center().y() - 14, 220, 28)
                               : QRectF(plot.right() - 200, plot.top() + 4, 196, fm.height() + 6);
        painter.fillRect(box, QColor(255, 255, 255, 220));
        painter.setPen(QColor(0x50, 0x50, 0x50));
        painter.drawText(box, Qt::AlignCenter, hint);
    }
}

QFont ParallelCoordinatesChart::titleFont() const
{
    QFont bold = font();
    bold.setBold(true);
    return bold;
}

QStringList ParallelCoordinatesChart::resultTitleLines(const QRectF &rect, qreal *left, qreal *right) const
{
    // Horizontal geometry only: the plot's top depends on these lines.
    const qsizetype a = m_data.axes.size() - 1;
    if (a < 0 || !m_data.axes.at(a).isResult)
        return {};
    const QRectF columns = rect.adjusted(MarginLeft + 60, 0, -(MarginRight + 60), 0);
    const qreal spacing = a > 0 ? columns.width() / m_view.width() : columns.width();
    const qreal x = columns.left() + (double(a) - m_view.left()) / m_view.width() * columns.width();
    const QFontMetricsF fm(titleFont());
    QString name = m_data.axes.at(a).name;
    if (m_data.axes.at(a).spec.kind == AxisKind::Log)
        name += tr(" (log)");
    const QString better =
        m_objective == Objective::Minimize ? tr("(lower is better)") : tr("(higher is better)");
    // The room from half way to the previous axis (whose name stops there)
    // to the widget's edge.
    *left = std::max(rect.left() + 4, x - std::max<qreal>(30, spacing / 2 - 4));
    *right = rect.right() - 4;
    const qreal room = *right - *left;
    if (fm.horizontalAdvance(name + QLatin1Char(' ') + better) <= room)
        return {name + QLatin1Char(' ') + better};
    // Else on lines of their own; a name longer than the room is cut into
    // pieces that fit, never elided.
    QStringList lines;
    QString piece;
    for (const QChar c : name) {
        if (!piece.isEmpty() && fm.horizontalAdvance(piece + c) > room) {
            lines.append(piece);
            piece.clear();
        }
        piece += c;
    }
    lines.append(piece);
    lines.append(better);
    return lines;
}

ParallelCoordinatesChart::AxisTitle ParallelCoordinatesChart::axisTitle(int a, const QRectF &rect) const
{
    const ParallelAxis &axis = m_data.axes.at(a);
    const QRectF plot = plotRect(rect);
    const qsizetype axisCount = m_data.axes.size();
    const qreal spacing = axisCount > 1 ? plot.width() / m_view.width() : plot.width();
    const qreal x = toPixel(plot, double(a), 0).x();
    const QFontMetricsF fm(titleFont());
    if (!axis.isResult) {
        QString name = axis.name;
        if (axis.spec.kind == AxisKind::Log)
            name += tr(" (log)");
        const qreal width = std::max<qreal>(60, spacing - 8);
        return {{fm.elidedText(name, Qt::ElideMiddle, width)},
                QRectF(x - width / 2, plot.top() - 34, width, 18)};
    }
    qreal left = 0, right = 0;
    const QStringList lines = resultTitleLines(rect, &left, &right);
    qreal width = 0;
    for (const QString &line : lines)
        width = std::max(width, fm.horizontalAdvance(line));
    width = std::min(std::ceil(width) + 2, right - left);
    // Centred over the axis where it fits, else moved into the room.
    const qreal boxLeft = std::clamp(x - width / 2, left, std::max(left, right - width));
    if (lines.size() == 1)
        return {lines, QRectF(boxLeft, plot.top() - 34, width, 18)}; // in line with the others
    const qreal height = fm.height() * lines.size();
    return {lines, QRectF(boxLeft, plot.top() - 6 - height, width, height)};
}

int ParallelCoordinatesChart::lineAt(const QPointF &position, qreal radius) const
{
    // Computed from the data for the current zoom and size (no per-line
    // geometry is kept: that was most of the paint time for 100k jobs).
    const QRectF plot = plotRect(rect());
    const int axisCount = int(m_data.axes.size());
    if (m_data.lineCount() == 0 || axisCount < 2 ||
        !plot.adjusted(-radius, -radius, radius, radius).contains(position))
        return -1;
    const QTransform m = worldToPixel(plot, m_view);
    // Segments between axes a-1 and a are the same span of x for every
    // line: only those around the position can be near.
    QList<int> segments;
    for (int a = 1; a < axisCount; ++a) {
        const qreal x0 = m.map(QPointF(a - 1, 0)).x(), x1 = m.map(QPointF(a, 0)).x();
        if (position.x() >= std::min(x0, x1) - radius && position.x() <= std::max(x0, x1) + radius)
            segments.append(a);
    }
    int best = -1;
    qreal bestD2 = radius * radius;
    const float *positions = m_data.positions.constData();
    // Emphasised and best lines are on top: search from the top down.
    for (qsizetype k = m_order.size() - 1; k >= 0; --k) {
        const int line = m_order[k];
        const float *v = positions + qsizetype(line) * axisCount;
        for (int a : std::as_const(segments)) {
            if (std::isnan(v[a - 1]) || std::isnan(v[a]))
                continue;
            const QPointF p0 = m.map(QPointF(a - 1, double(v[a - 1]))), p1 = m.map(QPointF(a, double(v[a])));
            const qreal d2 = segmentDistance2(position, p0, p1);
            if (d2 < bestD2 || (d2 <= bestD2 && best >= 0 && m_selected.contains(m_data.ids[line]))) {
                bestD2 = d2;
                best = line;
            }
        }
    }
    return best;
}

void ParallelCoordinatesChart::setView(const QRectF &view)
{
    if (view.width() <= 1e-6 || view.height() <= 1e-6)
        return;
    m_view = view;
    cancelRender();
    if (!m_zoomed) {
        m_zoomed = true;
        Q_EMIT zoomChanged(true);
    }
    update();
}

void ParallelCoordinatesChart::resetZoom()
{
    m_view = fullView();
    cancelRender();
    if (m_zoomed) {
        m_zoomed = false;
        Q_EMIT zoomChanged(false);
    }
    update();
}

void ParallelCoordinatesChart::zoomBy(qreal factor, const QPointF &center)
{
    if (factor <= 0)
        return;
    const QRectF plot = plotRect(rect());
    const QPointF c = toWorld(plot, center);
    setView(QRectF(c.x() - (c.x() - m_view.left()) / factor, c.y() - (c.y() - m_view.top()) / factor,
                   m_view.width() / factor, m_view.height() / factor));
}

void ParallelCoordinatesChart::pan(qreal dx, qreal dy)
{
    const QRectF plot = plotRect(rect());
    setView(m_view.translated(dx / plot.width() * m_view.width(), dy / plot.height() * m_view.height()));
}

void ParallelCoordinatesChart::hover(const QPoint &pos)
{
    const int line = lineAt(pos);
    const QString id = line >= 0 ? m_data.ids[line] : QString();
    if (id != m_hovered) {
        m_hovered = id;
        update();
    }
    if (line >= 0) {
        const QString head =
            tr("%1 = <b>%2</b><br>").arg(m_result.toHtmlEscaped()).arg(m_data.results[line], 0, 'g', 6);
        QToolTip::showText(mapToGlobal(pos),
                           QStringLiteral("<p style='white-space:nowrap'>%1</p>")
                               .arg(head + (m_describe ? m_describe(id) : id.toHtmlEscaped())),
                           this);
    } else {
        QToolTip::hideText();
    }
}

void ParallelCoordinatesChart::mousePressEvent(QMouseEvent *event)
{
    m_gesture.press(*event);
}

void ParallelCoordinatesChart::mouseMoveEvent(QMouseEvent *event)
{
    m_gesture.move(*event);
}

void ParallelCoordinatesChart::mouseReleaseEvent(QMouseEvent *event)
{
    m_gesture.release(*event);
}

void ParallelCoordinatesChart::mouseDoubleClickEvent(QMouseEvent *event)
{
    m_gesture.doubleClick(*event);
}

void ParallelCoordinatesChart::wheelEvent(QWheelEvent *event)
{
    m_gesture.wheel(*event);
    event->accept();
}

void ParallelCoordinatesChart::keyPressEvent(QKeyEvent *event)
{
    if (!navigateByKey(*this, event->key(), plotRect(rect()).center())) {
        QWidget::keyPressEvent(event);
        return;
    }
    event->accept();
}

void ParallelCoordinatesChart::leaveEvent(QEvent *event)
{
    if (!m_hovered.isEmpty()) {
        m_hovered.clear();
        update();
    }
    QToolTip::hideText();
    QWidget::leaveEvent(event);
}

} // namespace schedy::charts
