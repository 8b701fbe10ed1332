// Chart scale: builds and paints the dashboard's charts from a job table
// holding 100k jobs (history, scatter) and 1,000 curves of 1,000 points,
// printing milliseconds for each step. "Paint" renders the chart into a
// QImage through the same code the window and the PNG export use.
//
//   schedy-bench-charts [--jobs 100000] [--curves 1000] [--points 1000] [--runs 3]
//                       [--live-only [--only WORD]] [--sync]
//
// It starts with live updates in the Charts tab, per chart (--live-only stops
// after them): the UI thread's part, the longest stall of the event loop and
// when the new data is shown; --sync prepares in place, as before the worker.
//
// Run it with QT_QPA_PLATFORM=offscreen or under xvfb-run (see docs/performance.md).

#include "ChartData.h"
#include "ChartExporter.h"
#include "ChartsPanel.h"
#include "CurvesChart.h"
#include "HistoryChart.h"
#include "JobTableModel.h"
#include "LineageChart.h"
#include "OpenGlProbe.h"
#include "ParallelCoordinatesChart.h"
#include "ScatterChart.h"

#include <QApplication>
#include <QCborArray>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QImage>
#include <QItemSelectionModel>
#include <QMouseEvent>
#include <QRandomGenerator>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>

using namespace schedy;
using namespace schedy::charts;

namespace {

Experiment benchExperiment()
{
    Experiment e;
    e.name = QStringLiteral("bench");
    e.scheduler.kind = Scheduler::Kind::RandomSearch;
    e.scheduler.distributions = {
        {QStringLiteral("learning_rate"), Distribution::logUniform(1e-5, 0.3)},
        {QStringLiteral("dropout"), Distribution::uniform(0.0, 0.7)},
        {QStringLiteral("layers"), Distribution::choice(QCborArray{1, 2, 3, 4, 5})},
        {QStringLiteral("optimizer"),
         Distribution::choice(
             QCborArray{QStringLiteral("adam"), QStringLiteral("sgd"), QStringLiteral("rmsprop")})}};
    return e;
}

QList<Job> scalarJobs(int n, int offset = 0)
{
    QRandomGenerator rng(42 + offset);
    static const char *const optimizers[] = {"adam", "sgd", "rmsprop"};
    QList<Job> jobs;
    jobs.reserve(n);
    for (int i = 0; i < n; ++i) {
        const int k = i + offset;
        Job j;
        j.id = QStringLiteral("j%1").arg(k, 6, 36, QLatin1Char('0'));
        j.status = k % 50 == 0 ? JobStatus::Running : JobStatus::Done;
        const double lr = std::pow(10.0, -5 + 4.5 * rng.generateDouble());
        j.hyperparameters =
            QCborMap{{QStringLiteral("learning_rate"), lr},
                     {QStringLiteral("dropout"), 0.7 * rng.generateDouble()},
                     {QStringLiteral("layers"), qint64(1 + rng.bounded(5))},
                     {QStringLiteral("optimizer"), QString::fromLatin1(optimizers[rng.bounded(3)])}};
        const double loss = 0.2 + 0.3 * std::abs(std::log10(lr) + 2.5) + 0.2 * rng.generateDouble();
        j.results = QCborMap{{QStringLiteral("loss"), loss}, {QStringLiteral("accuracy"), 1.0 - loss / 2}};
        j.createdAt = 1.7e9 + k;
        j.modifiedAt = 1.7e9 + k + 30 + rng.bounded(60);
        jobs.append(std::move(j));
    }
    return jobs;
}

QList<Job> curveJobs(int n, int points)
{
    QRandomGenerator rng(7);
    QList<Job> jobs;
    jobs.reserve(n);
    for (int i = 0; i < n; ++i) {
        Job j;
        j.id = QStringLiteral("c%1").arg(i, 5, 10, QLatin1Char('0'));
        j.status = JobStatus::Done;
        const double rate = 0.002 + 0.01 * rng.generateDouble();
        const double floor = 0.1 + 0.5 * rng.generateDouble();
        QCborArray loss;
        for (int e = 0; e < points; ++e)
            loss.append(floor + 2.0 * std::exp(-rate * e) + 0.02 * rng.generateDouble());
        j.hyperparameters = QCborMap{{QStringLiteral("learning_rate"), rate}};
        j.results = QCborMap{{QStringLiteral("loss"), loss}};
        j.createdAt = 1.7e9 + i;
        j.modifiedAt = 1.7e9 + i + 100;
        jobs.append(std::move(j));
    }
    return jobs;
}

void fill(JobTableModel &model, const QList<Job> &jobs)
{
    model.sort(JobTableModel::CreatedColumn, Qt::AscendingOrder); // appends, no server
    model.applyChanges(jobs);
}

template <typename View> void prepare(View &view)
{
    view.resize(1200, 800);
    view.setAttribute(Qt::WA_DontShowOnScreen);
    view.show();
    QCoreApplication::processEvents();
}

QString saveDir;

struct Step
{
    qint64 data = 0, set = 0, paint = 0;
    qint64 total() const { return data + set + paint; }
};

void print(const char *name, const QList<Step> &runs, qsizetype items)
{
    auto best = *std::min_element(runs.begin(), runs.end(),
                                  [](const Step &a, const Step &b) { return a.total() < b.total(); });
    QList<qint64> totals;
    for (const Step &s : runs)
        totals.append(s.total());
    std::sort(totals.begin(), totals.end());
    std::printf("%-34s %9lld items | data %5lld ms | set %5lld ms | paint %5lld ms | total best %5lld ms, "
                "median %5lld ms\n",
                name, qint64(items), best.data, best.set, best.paint, best.total(),
                totals[totals.size() / 2]);
    std::fflush(stdout);
}

// One measured build: data preparation, handing it to the chart, painting
// into an image (the export path, which lays the chart out first).
template <typename Prepare, typename Set>
Step measure(ExportableChart &chart, Prepare prepareData, Set setData)
{
    Step s;
    QElapsedTimer t;
    t.start();
    auto data = prepareData();
    s.data = t.restart();
    setData(std::move(data));
    s.set = t.restart();
    const QImage image = ChartExporter::toImage(chart, 1.0);
    s.paint = t.elapsed();
    if (image.isNull())
        std::printf("  (empty image)\n");
    else if (!saveDir.isEmpty()) {
        const QString base =
            saveDir + QLatin1Char('/') +
            QString(chart.chartTitle()).replace(QLatin1Char(' '), QLatin1Char('_')).remove(QLatin1Char(':'));
        image.save(base + QStringLiteral(".png"));
        ChartExporter::saveSvg(chart, base + QStringLiteral(".svg"));
    }
    return s;
}

// The same, painted on screen: QWidget::grab() includes OpenGL surfaces.
template <typename Prepare, typename Set>
Step measureOnScreen(QWidget &view, Prepare prepareData, Set setData)
{
    Step s;
    QElapsedTimer t;
    t.start();
    auto data = prepareData();
    s.data = t.restart();
    setData(std::move(data));
    QCoreApplication::processEvents();
    s.set = t.restart();
    const QImage image = view.grab().toImage();
    s.paint = t.elapsed();
    if (!saveDir.isEmpty())
        image.save(saveDir + QStringLiteral("/opengl-%1.png")
                                 .arg(QString::fromLatin1(view.metaObject()->className())
                                          .remove(QLatin1String("schedy::charts::"))));
    return s;
}

// PBT jobs: `members` members over `generations` generations, some exploit steps.
QList<Job> pbtJobs(int members, int generations, int firstGeneration = 0)
{
    QList<Job> jobs;
    jobs.reserve(members * (generations - firstGeneration));
    for (int g = firstGeneration; g < generations; ++g) {
        for (int m = 0; m < members; ++m) {
            Job j;
            j.id = QStringLiteral("m%1g%2").arg(m).arg(g);
            j.status = JobStatus::Done;
            j.generation = g;
            j.member = QStringLiteral("m%1g0").arg(m);
            if (g > 0)
                j.parent = (m + g) % 4 == 0 ? QStringLiteral("m%1g%2").arg((m + 3) % members).arg(g - 1)
                                            : QStringLiteral("m%1g%2").arg(m).arg(g - 1);
            j.hyperparameters = QCborMap{{QStringLiteral("learning_rate"), 0.001 * (1 + (m * 7 + g) % 13)}};
            j.results = QCborMap{{QStringLiteral("best_loss"), 1.0 / (1 + g) + 0.01 * m}};
            j.createdAt = 1.7e9 + g * 100 + m;
            j.modifiedAt = j.createdAt.value() + 50;
            jobs.append(j);
        }
    }
    return jobs;
}

// The longest time the event loop did not turn, while it runs: a 1 ms timer
// notes the gaps between its ticks (the window is frozen during a gap).
class StallMonitor : public QObject
{
public:
    StallMonitor()
    {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(1);
        QObject::connect(&m_timer, &QTimer::timeout, this,
                         [this] { m_longest = std::max(m_longest, m_clock.restart()); });
    }
    void start()
    {
        m_longest = 0;
        m_clock.start();
        m_timer.start();
    }
    qint64 stop()
    {
        m_timer.stop();
        return std::max(m_longest, m_clock.elapsed());
    }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_longest = 0;
};

// A live update in the Charts tab as the dashboard sees it: a refresh merges
// new jobs into the model (not counted), the panel rebuilds the visible
// chart and it is painted on screen. "UI" is the UI thread's work for it
// (rebuild call, result handed to the chart, paint); "stall" the longest
// time the event loop could not turn; "shown" until the new data is painted.
void measureLive(const char *name, JobTableModel &model, ChartsPanel &panel, QWidget *chartWidget,
                 const std::function<QList<Job>(int)> &batch, int runs)
{
    struct Live
    {
        qint64 ui = 0, rebuild = 0, paint = 0, stall = 0, shown = 0;
    };
    QList<Live> all;
    StallMonitor monitor;
    for (int r = 0; r < runs; ++r) {
        model.applyChanges(batch(r));
        QCoreApplication::processEvents(); // model signals: the panel schedules a rebuild
        Live o;
        int rebuilds = panel.rebuildCount();
        QElapsedTimer since;
        since.start();
        monitor.start();
        QElapsedTimer t;
        t.start();
        panel.rebuildNow();
        o.rebuild = t.elapsed();
        if (panel.rebuildCount() == rebuilds) {
            QEventLoop loop;
            QObject::connect(&panel, &ChartsPanel::rebuilt, &loop, &QEventLoop::quit);
            QTimer::singleShot(30000, &loop, &QEventLoop::quit);
            loop.exec();
        }
        o.ui = o.rebuild + panel.lastApplyMs();
        // Deferred work first (the scene's dirty items, layout), then the paint.
        t.restart();
        QCoreApplication::sendPostedEvents();
        chartWidget->repaint();
        o.paint = t.elapsed();
        o.ui += o.paint;
        o.shown = since.elapsed();
        // Anything the update left for later still counts as a stall.
        {
            QEventLoop loop;
            QTimer::singleShot(200, &loop, &QEventLoop::quit);
            loop.exec();
        }
        o.stall = monitor.stop();
        all.append(o);
    }
    std::sort(all.begin(), all.end(), [](const Live &a, const Live &b) { return a.ui < b.ui; });
    const Live &best = all.first(), &median = all[all.size() / 2];
    std::printf("%-34s %7d jobs | UI %4lld ms (median %4lld): rebuild call %4lld, apply %4lld, paint %4lld "
                "| longest stall %4lld ms (median %4lld) | shown after %4lld ms\n",
                name, model.rowCount(), best.ui, median.ui, best.rebuild, best.ui - best.rebuild - best.paint,
                best.paint, best.stall, median.stall, best.shown);
}

} // namespace

int main(int argc, char **argv)
{
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    QCommandLineOption jobsOption(QStringLiteral("jobs"), QStringLiteral("Jobs for history and scatter."),
                                  QStringLiteral("n"), QStringLiteral("100000"));
    QCommandLineOption curvesOption(QStringLiteral("curves"), QStringLiteral("Curves."), QStringLiteral("n"),
                                    QStringLiteral("1000"));
    QCommandLineOption pointsOption(QStringLiteral("points"), QStringLiteral("Points per curve."),
                                    QStringLiteral("n"), QStringLiteral("1000"));
    QCommandLineOption saveOption(QStringLiteral("save"),
                                  QStringLiteral("Also write each chart as PNG into this directory."),
                                  QStringLiteral("dir"));
    QCommandLineOption runsOption(QStringLiteral("runs"), QStringLiteral("Runs of each measurement."),
                                  QStringLiteral("n"), QStringLiteral("3"));
    QCommandLineOption liveOption(QStringLiteral("live-only"),
                                  QStringLiteral("Only the live updates in the Charts tab, per chart."));
    QCommandLineOption syncOption(
        QStringLiteral("sync"),
        QStringLiteral("The Charts tab prepares in place, as before the worker thread."));
    QCommandLineOption onlyOption(QStringLiteral("only"),
                                  QStringLiteral("Live updates of these charts only."),
                                  QStringLiteral("words"));
    parser.addOptions(
        {jobsOption, curvesOption, pointsOption, runsOption, saveOption, liveOption, syncOption, onlyOption});
    parser.process(app);
    const int jobCount = parser.value(jobsOption).toInt();
    const int curveCount = parser.value(curvesOption).toInt();
    const int pointCount = parser.value(pointsOption).toInt();
    const int runs = std::max(1, parser.value(runsOption).toInt());
    saveDir = parser.value(saveOption);

    std::printf("platform %s, OpenGL context %s%s\n", qPrintable(QGuiApplication::platformName()),
                OpenGlProbe::available() ? "available: " : "not available",
                qPrintable(OpenGlProbe::renderer()));
    const Experiment experiment = benchExperiment();
    XYChartView::setOpenGlThreshold(0); // painted; OpenGL is measured on its own below

    {
        // Live updates in the Charts tab, per chart: 1,000 new jobs into
        // `jobCount` (10 curves into the long curves, a generation of 100
        // members into a lineage of 100 x 1,000).
        if (parser.isSet(syncOption))
            ChartsPanel::setAsyncThreshold(std::numeric_limits<int>::max());
        const QString only = parser.value(onlyOption);
        auto runPanel = [&](const char *name, JobTableModel &m, const Experiment &e, ChartsPanel::Chart chart,
                            const QString &result, const QString &hp,
                            const std::function<QList<Job>(int)> &batch) {
            if (!only.isEmpty() && !QString::fromLatin1(name).contains(only))
                return;
            QItemSelectionModel selection(&m);
            ChartsPanel panel;
            panel.resize(1200, 850);
            panel.setSource(&m, e, &selection);
            panel.show();
            QCoreApplication::processEvents();
            panel.setCurrentChart(chart);
            panel.setResult(result);
            if (!hp.isEmpty())
                panel.setHyperparameter(hp);
            // The first build, and any still in progress.
            panel.rebuildNow();
            QElapsedTimer wait;
            wait.start();
            while (wait.elapsed() < 2000)
                QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
            measureLive(name, m, panel, panel.currentChartWidget(), batch, runs);
        };
        {
            JobTableModel live;
            fill(live, scalarJobs(jobCount));
            int next = jobCount;
            {
                // What a snapshot held by the worker costs the model: the
                // next change copies the row list (shared values stay shared).
                QElapsedTimer m;
                m.start();
                live.applyChanges(scalarJobs(1000, next));
                const qint64 plain = m.restart();
                next += 1000;
                const JobTableModel::Snapshot held = live.snapshot();
                m.restart();
                live.applyChanges(scalarJobs(1000, next));
                const qint64 detached = m.elapsed();
                next += 1000;
                std::printf("model merge of 1,000 jobs into %d: %lld ms; while a snapshot is held: %lld ms\n",
                            live.rowCount(), plain, detached);
            }
            auto batch = [&](int) {
                const QList<Job> jobs = scalarJobs(1000, next);
                next += 1000;
                return jobs;
            };
            const QString lossName = QStringLiteral("loss");
            runPanel("live: history", live, experiment, ChartsPanel::Chart::History, lossName, {}, batch);
            runPanel("live: scatter (log)", live, experiment, ChartsPanel::Chart::Scatter, lossName,
                     QStringLiteral("learning_rate"), batch);
            runPanel("live: scatter (categories)", live, experiment, ChartsPanel::Chart::Scatter, lossName,
                     QStringLiteral("optimizer"), batch);
            runPanel("live: parallel coordinates", live, experiment, ChartsPanel::Chart::Parallel, lossName,
                     {}, batch);
        }
        {
            JobTableModel live;
            fill(live, curveJobs(curveCount, pointCount));
            int next = curveCount;
            auto batch = [&](int) {
                QList<Job> jobs = curveJobs(next + 10, pointCount).mid(next);
                next += 10;
                return jobs;
            };
            runPanel("live: curves", live, experiment, ChartsPanel::Chart::Curves, QStringLiteral("loss"), {},
                     batch);
        }
        if (only.isEmpty() || QStringLiteral("live: curves, short").contains(only)) {
            // Many jobs with short curves (20 epochs): ranking them all.
            JobTableModel live;
            fill(live, curveJobs(jobCount, 20));
            int next = jobCount;
            auto batch = [&](int) {
                QList<Job> jobs = curveJobs(next + 1000, 20).mid(next);
                next += 1000;
                return jobs;
            };
            runPanel("live: curves, short", live, experiment, ChartsPanel::Chart::Curves,
                     QStringLiteral("loss"), {}, batch);
        }
        {
            Experiment pbt;
            pbt.name = QStringLiteral("pbt");
            pbt.scheduler.kind = Scheduler::Kind::Pbt;
            pbt.scheduler.pbt.qualityResultName = QStringLiteral("best_loss");
            pbt.scheduler.pbt.objective = Objective::Minimize;
            const int members = 100, generations = std::max(2, jobCount / members);
            JobTableModel live;
            fill(live, pbtJobs(members, generations));
            int next = generations;
            auto batch = [&](int) {
                QList<Job> jobs = pbtJobs(members, next + 1, next);
                ++next;
                return jobs;
            };
            runPanel("live: PBT lineage", live, pbt, ChartsPanel::Chart::Lineage, QStringLiteral("best_loss"),
                     {}, batch);
        }
        if (parser.isSet(liveOption))
            return 0;
    }

    QElapsedTimer t;
    t.start();
    JobTableModel model;
    fill(model, scalarJobs(jobCount));
    std::printf("job table filled with %d jobs in %lld ms\n", model.rowCount(), t.elapsed());
    const ModelJobSource source(&model);
    const FieldKey loss = resultField(QStringLiteral("loss"));

    {
        HistoryChart chart;
        prepare(chart);
        QList<Step> steps;
        for (int r = 0; r < runs; ++r) {
            steps.append(measure(
                chart, [&] { return history(source, loss, Objective::Minimize); },
                [&](HistoryData d) {
                    chart.setData(std::move(d), QStringLiteral("loss"), Objective::Minimize);
                }));
        }
        print("history (build + paint)", steps, chart.data().points.size());
        // Live: a refresh brings 1,000 more jobs while the user is zoomed in.
        chart.zoomBy(4, chart.chart()->plotArea().center());
        model.applyChanges(scalarJobs(1000, jobCount));
        steps.clear();
        steps.append(measure(
            chart, [&] { return history(source, loss, Objective::Minimize); },
            [&](HistoryData d) {
                chart.setData(std::move(d), QStringLiteral("loss"), Objective::Minimize);
            }));
        print("history, live update (zoomed)", steps, chart.data().points.size());
    }
    for (const char *hp : {"learning_rate", "optimizer"}) {
        ScatterChart chart;
        prepare(chart);
        const QString name = QString::fromLatin1(hp);
        QList<Step> steps;
        for (int r = 0; r < runs; ++r) {
            steps.append(measure(
                chart,
                [&] { return scatter(source, hyperparameterField(name), loss, axisHint(experiment, name)); },
                [&](ScatterData d) { chart.setData(std::move(d), name, QStringLiteral("loss")); }));
        }
        const QByteArray label =
            QByteArray("scatter vs ") + hp + (chart.axisKind() == AxisKind::Log ? " (log)" : " (categories)");
        print(label.constData(), steps, chart.layer()->pointCount());
    }
    {
        QList<FieldKey> fields;
        QList<AxisHint> hints;
        for (const QString &hp : experimentHyperparameters(experiment)) {
            fields.append(hyperparameterField(hp));
            hints.append(axisHint(experiment, hp));
        }
        auto prepareParallel = [&](const JobSource &src) {
            return parallelCoordinates(src, fields, hints, loss);
        };
        // Export path (PNG; the lines painted by the calling thread, as for SVG).
        {
            ParallelCoordinatesChart chart;
            prepare(chart);
            QList<Step> steps;
            for (int r = 0; r < runs; ++r) {
                steps.append(measure(
                    chart, [&] { return prepareParallel(source); },
                    [&](ParallelData d) {
                        chart.setData(std::move(d), QStringLiteral("loss"), Objective::Minimize);
                    }));
            }
            print("parallel coordinates, PNG export", steps, chart.data().lineCount());
        }
        // On screen: what the UI thread spends per step, and when the
        // worker's layer is shown.
        ParallelCoordinatesChart chart;
        chart.resize(1200, 800);
        chart.show();
        QCoreApplication::processEvents();
        auto untilShown = [&](QElapsedTimer &since) {
            QEventLoop loop;
            QObject::connect(&chart, &ParallelCoordinatesChart::layerRendered, &loop, &QEventLoop::quit);
            QTimer::singleShot(30000, &loop, &QEventLoop::quit);
            if (chart.isLayerStale())
                loop.exec();
            chart.repaint(); // the blit of the finished layer
            return since.elapsed();
        };
        struct OnScreen
        {
            qint64 data = 0, set = 0, paint = 0, shown = 0, render = 0;
        };
        auto report = [&](const char *name, QList<OnScreen> runs) {
            std::sort(runs.begin(), runs.end(), [](const OnScreen &a, const OnScreen &b) {
                return a.data + a.set + a.paint < b.data + b.set + b.paint;
            });
            const OnScreen &best = runs.first(), &median = runs[runs.size() / 2];
            std::printf(
                "%-34s %9d lines | UI: data %4lld ms, set %3lld ms, paint %3lld ms (median paint %3lld) "
                "| shown after %4lld ms (median %4lld), worker %4lld ms\n",
                name, chart.data().lineCount(), best.data, best.set, best.paint, median.paint, best.shown,
                median.shown, best.render);
        };
        QList<OnScreen> update, resize, zoom;
        for (int r = 0; r < runs; ++r) {
            OnScreen o;
            QElapsedTimer since;
            since.start();
            QElapsedTimer t;
            t.start();
            ParallelData d = prepareParallel(source);
            o.data = t.restart();
            chart.setData(std::move(d), QStringLiteral("loss"),
                          r % 2 ? Objective::Maximize : Objective::Minimize);
            o.set = t.restart();
            chart.repaint();
            o.paint = t.restart();
            o.shown = untilShown(since);
            o.render = chart.lastRenderMs();
            update.append(o);
        }
        report("parallel, new data (on screen)", update);
        for (int r = 0; r < runs; ++r) {
            OnScreen o;
            QElapsedTimer since;
            since.start();
            chart.resize(r % 2 ? 1200 : 1100, r % 2 ? 800 : 720);
            chart.repaint();
            o.paint = since.elapsed();
            o.shown = untilShown(since);
            o.render = chart.lastRenderMs();
            resize.append(o);
        }
        report("parallel, resize (on screen)", resize);
        for (int r = 0; r < runs; ++r) {
            OnScreen o;
            QElapsedTimer since;
            since.start();
            chart.zoomBy(r % 2 ? 0.5 : 2.0, QPointF(600, 400));
            chart.repaint();
            o.paint = since.elapsed();
            if (r == 0 && !saveDir.isEmpty()) // the last layer, mapped, and the hint
                chart.grab().save(saveDir + QStringLiteral("/parallel-zoom-pending.png"));
            o.shown = untilShown(since);
            o.render = chart.lastRenderMs();
            zoom.append(o);
        }
        report("parallel, zoom step (on screen)", zoom);
        {
            // Hover: the line under the pointer, then a repaint (blit + one line).
            QList<qint64> hover, blit;
            for (int r = 0; r < 20; ++r) {
                QElapsedTimer t;
                t.start();
                const QPoint pos(300 + 30 * r, 300 + 7 * r);
                QMouseEvent move(QEvent::MouseMove, pos, chart.mapToGlobal(pos), Qt::NoButton, Qt::NoButton,
                                 Qt::NoModifier);
                QCoreApplication::sendEvent(&chart, &move);
                chart.repaint();
                hover.append(t.restart());
                chart.repaint();
                blit.append(t.elapsed());
            }
            std::sort(hover.begin(), hover.end());
            std::sort(blit.begin(), blit.end());
            std::printf("%-34s %9d lines | UI: hover (hit test + repaint) median %lld ms, max %lld ms | "
                        "plain repaint median %lld ms\n",
                        "parallel, hover (on screen)", chart.data().lineCount(), hover[10], hover.last(),
                        blit[10]);
            std::printf("  renders started %d, stale ones dropped %d\n", chart.renderCount(),
                        chart.discardedRenders());
            if (!saveDir.isEmpty())
                chart.grab().save(saveDir + QStringLiteral("/parallel-on-screen.png"));
        }
        // The dashboard's path: the Charts tab rebuilding for a refresh that
        // brought 1,000 jobs (model merge excluded), then its paint. "Panel
        // rebuild" is the UI thread's part: the rebuild call, plus handing
        // the data to the chart when it was prepared off the UI thread.
        {
            JobTableModel live;
            fill(live, scalarJobs(jobCount));
            QItemSelectionModel selection(&live);
            ChartsPanel panel;
            panel.resize(1200, 850);
            panel.setSource(&live, experiment, &selection);
            panel.setCurrentChart(ChartsPanel::Chart::Parallel);
            panel.setResult(QStringLiteral("loss"));
            panel.show();
            QCoreApplication::processEvents();
            ParallelCoordinatesChart *pc = panel.parallelChart();
            QList<OnScreen> rebuilds;
            for (int r = 0; r < runs; ++r) {
                live.applyChanges(scalarJobs(1000, jobCount + 1000 * r));
                OnScreen o;
                QElapsedTimer since;
                since.start();
                const int before = panel.rebuildCount();
                QElapsedTimer t;
                t.start();
                panel.rebuildNow();
                o.set = t.elapsed();
                if (panel.rebuildCount() == before) { // prepared off the UI thread
                    QEventLoop prepared;
                    QObject::connect(&panel, &ChartsPanel::rebuilt, &prepared, &QEventLoop::quit);
                    QTimer::singleShot(30000, &prepared, &QEventLoop::quit);
                    prepared.exec();
                    o.set += panel.lastApplyMs();
                }
                t.restart();
                pc->repaint();
                o.paint = t.elapsed();
                QEventLoop loop;
                QObject::connect(pc, &ParallelCoordinatesChart::layerRendered, &loop, &QEventLoop::quit);
                QTimer::singleShot(30000, &loop, &QEventLoop::quit);
                if (pc->isLayerStale())
                    loop.exec();
                pc->repaint();
                o.shown = since.elapsed();
                o.render = pc->lastRenderMs();
                rebuilds.append(o);
            }
            std::sort(rebuilds.begin(), rebuilds.end(),
                      [](const OnScreen &a, const OnScreen &b) { return a.set + a.paint < b.set + b.paint; });
            const OnScreen &best = rebuilds.first(), &median = rebuilds[rebuilds.size() / 2];
            std::printf("%-34s %9d lines | UI: panel rebuild %3lld ms (median %3lld), paint %3lld ms | shown "
                        "after %4lld ms (median %4lld), worker %4lld ms\n",
                        "parallel, live update in the panel", pc->data().lineCount(), best.set, median.set,
                        best.paint, best.shown, median.shown, best.render);
        }
        // Small experiments are rendered in paintEvent(): how long that takes.
        for (int n : {300, 1000, 3000, 5000}) {
            JobTableModel small;
            fill(small, scalarJobs(n));
            const ModelJobSource smallSource(&small);
            const int threshold = ParallelCoordinatesChart::asyncThreshold();
            ParallelCoordinatesChart::setAsyncThreshold(std::numeric_limits<int>::max());
            QList<qint64> paints;
            for (int r = 0; r < runs; ++r) {
                chart.setData(prepareParallel(smallSource), QStringLiteral("loss"), Objective::Minimize);
                QElapsedTimer t;
                t.start();
                chart.repaint();
                paints.append(t.elapsed());
            }
            ParallelCoordinatesChart::setAsyncThreshold(threshold);
            std::sort(paints.begin(), paints.end());
            std::printf("%-34s %9d lines | UI: paint in paintEvent() best %lld ms, median %lld ms\n",
                        "parallel, rendered on the UI thread", chart.data().lineCount(), paints.first(),
                        paints[paints.size() / 2]);
        }
    }

    if (OpenGlProbe::available()) {
        // On screen, painted and with Qt Charts' OpenGL scatter series for the
        // bulk of the points; grab() includes the OpenGL surface.
        for (const bool gl : {false, true}) {
            XYChartView::setOpenGlThreshold(gl ? 50000 : 0, true); // even with a software rasteriser
            {
                HistoryChart chart;
                chart.resize(1200, 800);
                chart.show();
                QCoreApplication::processEvents();
                QList<Step> steps;
                for (int r = 0; r < runs; ++r) {
                    steps.append(measureOnScreen(
                        chart, [&] { return history(source, loss, Objective::Minimize); },
                        [&](HistoryData d) {
                            chart.setData(std::move(d), QStringLiteral("loss"), Objective::Minimize);
                        }));
                }
                print(chart.openGlSeriesCount() > 0 ? "history on screen, OpenGL series"
                                                    : "history on screen, painted",
                      steps, chart.data().points.size());
            }
            {
                ScatterChart chart;
                chart.resize(1200, 800);
                chart.show();
                QCoreApplication::processEvents();
                const QString name = QStringLiteral("learning_rate");
                QList<Step> steps;
                for (int r = 0; r < runs; ++r) {
                    steps.append(measureOnScreen(
                        chart,
                        [&] {
                            return scatter(source, hyperparameterField(name), loss,
                                           axisHint(experiment, name));
                        },
                        [&](ScatterData d) { chart.setData(std::move(d), name, QStringLiteral("loss")); }));
                }
                print(chart.openGlSeriesCount() > 0 ? "scatter on screen, OpenGL series"
                                                    : "scatter on screen, painted",
                      steps, chart.layer()->pointCount());
            }
        }
        XYChartView::setOpenGlThreshold(0);
    }

    {
        t.restart();
        JobTableModel curveModel;
        fill(curveModel, curveJobs(curveCount, pointCount));
        std::printf("job table filled with %d curves of %d points in %lld ms\n", curveModel.rowCount(),
                    pointCount, t.elapsed());
        const ModelJobSource curveSource(&curveModel);
        CurvesChart chart;
        prepare(chart);
        QList<Step> steps;
        for (int r = 0; r < runs; ++r) {
            steps.append(measure(
                chart, [&] { return curves(curveSource, loss, Objective::Minimize, curveCount, {}, false); },
                [&](CurveData d) {
                    chart.setData(std::move(d), QStringLiteral("loss"), Objective::Minimize);
                }));
        }
        print("curves (build + paint)", steps, chart.data().pointCount());
    }
    {
        // PBT lineage at 20 members x 30 generations (readability target).
        QList<Job> jobs;
        for (int g = 0; g < 30; ++g) {
            for (int m = 0; m < 20; ++m) {
                Job j;
                j.id = QStringLiteral("m%1g%2").arg(m).arg(g);
                j.status = JobStatus::Done;
                j.generation = g;
                j.member = QStringLiteral("m%1g0").arg(m);
                if (g > 0)
                    j.parent = (m + g) % 4 == 0 ? QStringLiteral("m%1g%2").arg((m + 3) % 20).arg(g - 1)
                                                : QStringLiteral("m%1g%2").arg(m).arg(g - 1);
                j.results = QCborMap{{QStringLiteral("best_loss"), 1.0 / (1 + g) + 0.01 * m}};
                j.createdAt = 1.7e9 + g * 100 + m;
                j.modifiedAt = j.createdAt.value() + 50;
                jobs.append(j);
            }
        }
        JobTableModel pbtModel;
        fill(pbtModel, jobs);
        const ModelJobSource pbtSource(&pbtModel);
        LineageChart chart;
        prepare(chart);
        QList<Step> steps;
        for (int r = 0; r < runs; ++r) {
            steps.append(measure(
                chart,
                [&] {
                    return lineage(pbtSource, resultField(QStringLiteral("best_loss")), Objective::Minimize);
                },
                [&](LineageGraph g) {
                    chart.setData(std::move(g), QStringLiteral("best_loss"), Objective::Minimize,
                                  LineageChart::Layout::Lanes);
                }));
        }
        print("PBT lineage 20 x 30", steps, chart.graph().nodes.size());
    }
    return 0;
}
