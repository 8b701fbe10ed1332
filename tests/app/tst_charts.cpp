#include "ChartExporter.h"
#include "ChartFixtures.h"
#include "ChartsPanel.h"
#include "CurvesChart.h"
#include "HistoryChart.h"
#include "JobTableModel.h"
#include "LineageChart.h"
#include "OpenGlProbe.h"
#include "ParallelCoordinatesChart.h"
#include "ScatterChart.h"

#include <QCategoryAxis>
#include <QItemSelectionModel>
#include <QLayout>
#include <QLogValueAxis>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QToolTip>
#include <QValueAxis>
#include <QWheelEvent>
#include <QtTest>

using namespace schedy;
using namespace schedy::charts;
using namespace schedy::test;
using namespace Qt::StringLiterals;

// The chart widgets, offscreen: what each holds for a known experiment,
// selection shared with the job table both ways, live updates that keep
// the zoom and come as one rebuild per burst, and export.
class TestCharts : public QObject
{
    Q_OBJECT

    struct Fixture
    {
        JobTableModel model;
        QItemSelectionModel selection{&model};
        ChartsPanel panel;
        explicit Fixture(const Experiment &e, const QList<Job> &jobs)
        {
            fillModel(model, jobs);
            panel.resize(1200, 800);
            panel.setSource(&model, e, &selection);
            panel.show();
            exposed = QTest::qWaitForWindowExposed(&panel);
            panel.rebuildNow();
        }
        bool exposed = false;
    };

    // The data the panel's visible chart shows, as prepared data.
    static PreparedChart shown(const ChartsPanel &panel)
    {
        PreparedChart c;
        c.request.kind = ChartKind(panel.currentChart());
        c.history = panel.historyChart()->data();
        c.scatter = panel.scatterChart()->data();
        c.parallel = panel.parallelChart()->data();
        c.curves = panel.curvesChart()->data();
        c.lineage = panel.lineageChart()->graph();
        return c;
    }
    // Prepares off the UI thread whatever the size, for one test.
    struct OffThread
    {
        const int previous = ChartsPanel::asyncThreshold();
        OffThread() { ChartsPanel::setAsyncThreshold(0); }
        ~OffThread() { ChartsPanel::setAsyncThreshold(previous); }
    };

    static qsizetype points(const DataLayerItem *layer, int set)
    {
        return layer->pointSets().value(set).points.size();
    }

    // Where a value is drawn, in the chart view's viewport.
    static QPoint viewportPos(XYChartView *view, const QPointF &value)
    {
        return view->mapFromScene(view->chart()->mapToScene(view->layer()->map(value)));
    }

    // Where a line of the parallel chart crosses between two axes (`t` of
    // the way from axis `axis` to the next), in widget pixels.
    static QRectF plotOf(const ParallelCoordinatesChart *chart)
    {
        return QRectF(chart->rect()).adjusted(84, 64, -84, -28);
    }
    static QPointF linePoint(const ParallelCoordinatesChart *chart, int line, double t, double override = -1,
                             int axis = 0)
    {
        const QRectF plot = plotOf(chart);
        const QRectF view = chart->visibleRange();
        auto px = [&](double a, double n) {
            return QPointF(plot.left() + (a - view.left()) / view.width() * plot.width(),
                           plot.bottom() - (n - view.top()) / view.height() * plot.height());
        };
        double n0 = chart->data().at(line, axis), n1 = chart->data().at(line, axis + 1);
        if (override >= 0)
            n0 = n1 = override;
        return px(axis, n0) * (1 - t) + px(axis + 1, n1) * t;
    }
    // Lines all at `position` on two hyperparameter axes and the result axis.
    static ParallelData flatLines(int n, float position)
    {
        ParallelData d;
        for (const char *name : {"a", "b"}) {
            ParallelAxis axis{QString::fromLatin1(name), false, {}};
            axis.spec.min = 0;
            axis.spec.max = 1;
            d.axes.append(axis);
        }
        ParallelAxis result{u"loss"_s, true, {}};
        result.spec.min = 0;
        result.spec.max = 1;
        d.axes.append(result);
        for (int i = 0; i < n; ++i) {
            d.ids.append(u"j%1"_s.arg(i));
            const double r = n > 1 ? double(i) / (n - 1) : 0.5;
            d.results.append(r);
            d.positions << position << position << float(r);
        }
        d.resultMin = 0;
        d.resultMax = 1;
        return d;
    }
    struct ThresholdGuard
    {
        int saved = ParallelCoordinatesChart::asyncThreshold();
        explicit ThresholdGuard(int lines) { ParallelCoordinatesChart::setAsyncThreshold(lines); }
        ~ThresholdGuard() { ParallelCoordinatesChart::setAsyncThreshold(saved); }
    };

private slots:
    void initTestCase() { QVERIFY(!OpenGlProbe::available()); } // offscreen: never OpenGL

    void history()
    {
        Fixture f(randomSearchExperiment(), randomSearchJobs(25, 3, 2));
        QVERIFY(f.exposed);
        f.panel.setCurrentChart(ChartsPanel::Chart::History);
        QCOMPARE(f.panel.result(), u"accuracy"_s); // first numeric non-curve result
        QCOMPARE(f.panel.objective(), Objective::Maximize);
        QCOMPARE(f.panel.resultChoices(), (QStringList{u"loss"_s, u"accuracy"_s})); // no "checkpoint": text
        HistoryChart *chart = f.panel.historyChart();
        QCOMPARE(chart->data().points.size(), 25);
        QCOMPARE(points(chart->layer(), 0), 25);
        QCOMPARE(points(chart->layer(), 1), 1); // the best job
        QCOMPARE(chart->layer()->lines().size(), 1);
        QVERIFY(chart->layer()->lines().first().points.size() >= 2);
        QCOMPARE(chart->legendEntries().size(), 3);
        QCOMPARE(chart->chart()->title(), u"Optimization history: accuracy"_s);
        // The best-so-far of accuracy rises to the maximum.
        QCOMPARE(chart->data().best.last().y(), 0.5 + 9 * 0.04);
        f.panel.setObjective(Objective::Minimize);
        QCOMPARE(chart->data().best.last().y(), 0.5);
        // Offscreen never gets OpenGL series, whatever the threshold.
        XYChartView::setOpenGlThreshold(1, true);
        f.panel.setObjective(Objective::Maximize);
        QCOMPARE(chart->openGlSeriesCount(), 0);
        QVERIFY(chart->layer()->unpaintedSets().isEmpty());
        XYChartView::setOpenGlThreshold(50000);
    }

    void scatter()
    {
        Fixture f(randomSearchExperiment(), randomSearchJobs(25, 3, 2));
        QVERIFY(f.exposed);
        f.panel.setCurrentChart(ChartsPanel::Chart::Scatter);
        f.panel.setResult(u"accuracy"_s);
        f.panel.setHyperparameter(u"learning_rate"_s);
        ScatterChart *chart = f.panel.scatterChart();
        QVERIFY(qobject_cast<QLogValueAxis *>(chart->axisX()));
        QCOMPARE(chart->layer()->pointCount(), 25);
        QCOMPARE(chart->layer()->pointSets().size(), 1); // all DONE
        f.panel.setHyperparameter(u"optimizer"_s);
        auto *categories = qobject_cast<QCategoryAxis *>(chart->axisX());
        QVERIFY(categories);
        QCOMPARE(categories->count(), 3);
        QCOMPARE(chart->axisKind(), AxisKind::Category);
        f.panel.setHyperparameter(u"dropout"_s);
        QVERIFY(qobject_cast<QValueAxis *>(chart->axisX()));
        // The loss includes running jobs' partial curves: a set per status.
        f.panel.setResult(u"loss"_s);
        QCOMPARE(chart->layer()->pointCount(), 28);
        QCOMPARE(chart->layer()->pointSets().size(), 2);
        QCOMPARE(chart->legendEntries().size(), 2);
    }

    // The resting pointer's ToolTip event must show the job's tooltip, not
    // hide it (the scene found no item tooltip and hid ours after ~0.7 s).
    void tooltipStaysWhilePointerRests_data()
    {
        QTest::addColumn<int>("kind");
        QTest::newRow("history") << int(ChartsPanel::Chart::History);
        QTest::newRow("scatter") << int(ChartsPanel::Chart::Scatter);
        QTest::newRow("curves") << int(ChartsPanel::Chart::Curves);
        QTest::newRow("lineage") << int(ChartsPanel::Chart::Lineage);
    }
    void tooltipStaysWhilePointerRests()
    {
        QFETCH(int, kind);
        const auto chartKind = ChartsPanel::Chart(kind);
        const bool pbt = chartKind == ChartsPanel::Chart::Lineage;
        Fixture f(pbt ? pbtExperiment(4, 3) : randomSearchExperiment(),
                  pbt ? pbtJobs(4, 3) : randomSearchJobs(25, 3, 2));
        QVERIFY(f.exposed);
        f.panel.setCurrentChart(chartKind);
        auto *chart = qobject_cast<XYChartView *>(f.panel.currentChartWidget());
        QVERIFY(chart);
        // The axes' labels settle the plot area in posted layout requests.
        QCoreApplication::sendPostedEvents();
        QCoreApplication::sendPostedEvents();
        // A job's point, or the first point of a job's curve.
        QPointF value(qQNaN(), qQNaN());
        for (const DataLayerItem::PointSet &set : chart->layer()->pointSets())
            if (!set.points.isEmpty() && set.ids.size() == set.points.size())
                value = set.points.first();
        for (const DataLayerItem::Line &line : chart->layer()->lines())
            if (qIsNaN(value.x()) && line.hoverable && !line.id.isEmpty() && !line.points.isEmpty())
                value = line.points.first();
        QVERIFY(!qIsNaN(value.x()));
        const QPoint at = viewportPos(chart, value);
        QTest::mouseMove(chart->viewport(), QPoint(2, 2));
        QTest::mouseMove(chart->viewport(), at);
        QTRY_VERIFY(!chart->layer()->hoveredIds().isEmpty());
        QToolTip::hideText();
        QTRY_VERIFY(!QToolTip::isVisible());

        QHelpEvent rest(QEvent::ToolTip, at, chart->viewport()->mapToGlobal(at));
        QCoreApplication::sendEvent(chart->viewport(), &rest);
        QVERIFY(QToolTip::isVisible());
        QVERIFY(!QToolTip::text().isEmpty());
        QToolTip::hideText();
    }

    void parallelCoordinates()
    {
        Fixture f(randomSearchExperiment(), randomSearchJobs(25, 3, 2));
        QVERIFY(f.exposed);
        f.panel.setCurrentChart(ChartsPanel::Chart::Parallel);
        f.panel.setResult(u"accuracy"_s);
        ParallelCoordinatesChart *chart = f.panel.parallelChart();
        QCOMPARE(chart->data().lineCount(), 25);
        QCOMPARE(chart->data().axes.size(), 5); // 4 hyperparameters (batch_size is constant) + accuracy
        QCOMPARE(chart->data().axes[0].spec.kind, AxisKind::Log);
        QVERIFY(chart->data().axes.last().isResult);
        const int before = chart->paintCount();
        chart->repaint();
        QVERIFY(chart->paintCount() > before);
        // A line under the mouse selects its job.
        const int line = 3;
        const QPointF a = [&] {
            const QRectF plot = chart->rect().adjusted(84, 64, -84, -28);
            const QRectF view = chart->visibleRange();
            const double n = chart->data().at(line, 4);
            return QPointF(plot.left() + (4 - view.left()) / view.width() * plot.width(),
                           plot.bottom() - (n - view.top()) / view.height() * plot.height());
        }();
        const int found = chart->lineAt(a, 3);
        QVERIFY(found >= 0);
        QTest::mouseClick(chart, Qt::LeftButton, {}, a.toPoint());
        QVERIFY(f.selection.isRowSelected(f.model.rowOf(chart->data().ids[found]), {}));
    }

    // Beyond the threshold the lines are rendered by a worker thread: the
    // UI shows a hint, then the finished layer with the lines in colour.
    void parallelRenderedOffThread()
    {
        ThresholdGuard guard(0); // every chart renders off the UI thread
        Fixture f(randomSearchExperiment(), randomSearchJobs(25, 3, 2));
        QVERIFY(f.exposed);
        QSignalSpy rendered(f.panel.parallelChart(), &ParallelCoordinatesChart::layerRendered);
        f.panel.setCurrentChart(ChartsPanel::Chart::Parallel);
        f.panel.setResult(u"accuracy"_s);
        ParallelCoordinatesChart *chart = f.panel.parallelChart();
        QVERIFY(chart->isAsync());
        chart->repaint();
        if (rendered.isEmpty())
            QVERIFY(rendered.wait());
        QVERIFY(!chart->isLayerStale());
        QCOMPARE(chart->layerImage().isNull(), false);
        QCOMPARE(chart->layerImage().size(), (plotOf(chart).adjusted(-2, -2, 2, 2).toAlignedRect().size()));
        const QImage shot = chart->grab().toImage();
        // Midway between the first two axes every line is drawn in a colour
        // of the scale (not white, not grey), the best one dark.
        int coloured = 0;
        for (int line = 0; line < chart->data().lineCount(); ++line) {
            const QPoint p = linePoint(chart, line, 0.5).toPoint();
            int saturation = 0; // most saturated pixel next to the line's centre
            for (int dy = -1; dy <= 1; ++dy)
                saturation = std::max(saturation, shot.pixelColor(p + QPoint(0, dy)).hsvSaturation());
            if (saturation > 60)
                ++coloured;
        }
        QCOMPARE(coloured, chart->data().lineCount());
        // Away from any line: white.
        QCOMPARE(shot.pixelColor(plotOf(chart).topLeft().toPoint() + QPoint(3, -20)), QColor(Qt::white));
        // Plain repaints blit the layer; no new render.
        const int renders = chart->renderCount();
        chart->repaint();
        QCOMPARE(chart->renderCount(), renders);
        QVERIFY(!chart->isLayerStale());
        // Hover and click still find lines.
        const int line = 3;
        const QPointF at = linePoint(chart, line, 0.5);
        QVERIFY(chart->lineAt(at, 3) >= 0);
        QTest::mouseClick(chart, Qt::LeftButton, {}, at.toPoint());
        QCOMPARE(f.selection.selectedRows().size(), 1);
        // A new selection is a new render (selected lines thick, others dimmed).
        rendered.clear();
        QVERIFY(rendered.wait());
        QVERIFY(!chart->isLayerStale());
    }

    // The result axis' title says what the colours mean: never elided, even
    // with many axes in a narrow chart; it stays inside the widget.
    void parallelResultTitleNeverElided_data()
    {
        QTest::addColumn<QString>("result");
        QTest::newRow("short") << u"loss"_s;
        QTest::newRow("long") << u"validation_cross_entropy_after_warmup"_s;
        QTest::newRow("longer than the room") << QString(u"very_long_result_name_"_s.repeated(8));
    }
    void parallelResultTitleNeverElided()
    {
        QFETCH(QString, result);
        ParallelData d;
        for (int i = 0; i < 8; ++i) {
            ParallelAxis axis{u"hyperparameter_number_%1"_s.arg(i), false, {}};
            axis.spec.min = 0;
            axis.spec.max = 1;
            d.axes.append(axis);
        }
        ParallelAxis r{result, true, {}};
        r.spec.min = 0;
        r.spec.max = 1;
        d.axes.append(r);
        for (int i = 0; i < 3; ++i) {
            d.ids.append(u"j%1"_s.arg(i));
            d.results.append(i);
            for (int a = 0; a < 9; ++a)
                d.positions.append(0.5f);
        }
        d.resultMin = 0;
        d.resultMax = 2;
        ParallelCoordinatesChart chart;
        chart.resize(700, 400);
        chart.setData(d, result, Objective::Minimize);
        const QRectF rect(chart.rect());
        const auto title = chart.axisTitle(8, rect);
        const QString text = title.lines.join(QString());
        QVERIFY2(text.startsWith(result), qPrintable(text));
        QVERIFY(text.endsWith(u"(lower is better)"_s));
        QVERIFY(!text.contains(QChar(0x2026)));
        QVERIFY2(rect.contains(title.box),
                 qPrintable(u"%1 %2"_s.arg(title.box.left()).arg(title.box.right())));
        const QFontMetricsF fm([&] {
            QFont f = chart.font();
            f.setBold(true);
            return f;
        }());
        for (const QString &line : title.lines)
            QVERIFY(fm.horizontalAdvance(line) <= title.box.width());
        // Its neighbour's name stops where its own begins.
        QVERIFY(chart.axisTitle(7, rect).box.right() <= title.box.left() + 1);
        // The hyperparameter axes are elided to the room between neighbours.
        QVERIFY(chart.axisTitle(3, rect).lines.first().contains(QChar(0x2026)));
        // Painting uses it (no crash, the title is drawn).
        QVERIFY(!chart.grab().isNull());
    }

    // Data changing while a render is in flight: the stale render is dropped
    // (cancelled, skipped or discarded on arrival) and never shown.
    void parallelStaleRenderDiscarded()
    {
        ThresholdGuard guard(0);
        ParallelCoordinatesChart chart;
        chart.resize(900, 500);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        QSignalSpy started(&chart, &ParallelCoordinatesChart::renderStarted);
        QSignalSpy rendered(&chart, &ParallelCoordinatesChart::layerRendered);
        // A: every line along the bottom; B: along the top.
        chart.setData(flatLines(2000, 0.0f), u"loss"_s, Objective::Minimize);
        chart.repaint();
        if (started.isEmpty())
            QVERIFY(started.wait());
        QCOMPARE(started.size(), 1);
        chart.setData(flatLines(2000, 1.0f), u"loss"_s, Objective::Minimize);
        chart.repaint();
        QVERIFY(rendered.wait());
        QCOMPARE(rendered.size(), 1);
        QCOMPARE(started.size(), 2);
        QCOMPARE(chart.discardedRenders(), 1);
        QVERIFY(!chart.isLayerStale());
        const QImage shot = chart.grab().toImage();
        const QPointF top = linePoint(&chart, 0, 0.5), bottom = linePoint(&chart, 0, 0.5, 0.0);
        QVERIFY(shot.pixelColor(top.toPoint()) != QColor(Qt::white));
        QCOMPARE(shot.pixelColor(bottom.toPoint()), QColor(Qt::white));
    }

    // Destroying the chart while the worker renders must wait for it, not crash.
    void parallelDestroyedWhileRendering()
    {
        ThresholdGuard guard(0);
        for (int round = 0; round < 3; ++round) {
            auto *chart = new ParallelCoordinatesChart;
            chart->resize(900, 500);
            chart->show();
            QVERIFY(QTest::qWaitForWindowExposed(chart));
            QSignalSpy started(chart, &ParallelCoordinatesChart::renderStarted);
            chart->setData(flatLines(50000, 0.5f), u"loss"_s, Objective::Minimize);
            chart->repaint();
            if (started.isEmpty())
                QVERIFY(started.wait());
            delete chart; // the worker is mid-render (or just done)
        }
        // Events the workers posted are gone with their receivers; a fresh
        // chart still renders.
        ParallelCoordinatesChart chart;
        chart.resize(900, 500);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        QSignalSpy rendered(&chart, &ParallelCoordinatesChart::layerRendered);
        chart.setData(flatLines(100, 0.25f), u"loss"_s, Objective::Minimize);
        chart.repaint();
        QVERIFY(rendered.wait());
    }

    // Zooming or resizing shows the last layer mapped onto the new geometry
    // until the new one arrives; then it is exact again.
    void parallelResizeAndZoomRerender()
    {
        ThresholdGuard guard(0);
        ParallelCoordinatesChart chart;
        chart.resize(900, 500);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        QSignalSpy rendered(&chart, &ParallelCoordinatesChart::layerRendered);
        chart.setData(flatLines(500, 0.5f), u"loss"_s, Objective::Minimize);
        chart.repaint();
        QVERIFY(rendered.wait());
        chart.resize(1000, 600);
        chart.repaint();
        QVERIFY(chart.isLayerStale());
        QVERIFY(rendered.wait());
        QVERIFY(!chart.isLayerStale());
        QCOMPARE(chart.layerImage().size(), (plotOf(&chart).adjusted(-2, -2, 2, 2).toAlignedRect().size()));
        chart.zoomBy(2, plotOf(&chart).center());
        chart.repaint();
        QVERIFY(chart.isLayerStale());
        QVERIFY(rendered.wait());
        QVERIFY(!chart.isLayerStale());
        // The zoom centre was on the lines (all at 0.5): still drawn there.
        const QImage shot = chart.grab().toImage();
        QVERIFY(shot.pixelColor(linePoint(&chart, 0, 0.5).toPoint()) != QColor(Qt::white));
    }

    // Small experiments stay on the UI thread: the layer is ready at once.
    void parallelSmallRenderedInPaint()
    {
        ParallelCoordinatesChart chart;
        chart.resize(900, 500);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.setData(flatLines(300, 0.5f), u"loss"_s, Objective::Minimize);
        QVERIFY(!chart.isAsync());
        chart.repaint();
        QVERIFY(!chart.isLayerStale());
        QCOMPARE(chart.renderCount(), 0);
        const QImage shot = chart.grab().toImage();
        QVERIFY(shot.pixelColor(linePoint(&chart, 0, 0.5).toPoint()) != QColor(Qt::white));
    }

    // Early stopping on the curves: pruned ones dashed with a square at their stop, ASHA's rungs as bars.
    void curvesShowPrunedJobsAndRungs()
    {
        CurvesChart chart;
        chart.resize(900, 500);
        CurveData data;
        Curve done;
        done.id = u"done"_s;
        done.points = {{1, 0.9}, {2, 0.5}, {3, 0.4}, {4, 0.3}};
        done.best = 0.3;
        Curve pruned;
        pruned.id = u"cut"_s;
        pruned.points = {{1, 0.95}, {2, 0.8}};
        pruned.best = 0.8;
        pruned.status = JobStatus::Pruned;
        pruned.prunedAt = 2;
        pruned.rank = 1;
        data.curves = {done, pruned};
        data.rungs = {{1, 0.95, 2}, {2, 0.8, 2}, {8, 0.1, 1}}; // the last is past every curve: not drawn
        data.candidates = 2;
        data.xMax = 4;
        data.yMin = 0.3;
        data.yMax = 0.95;
        chart.setData(data, u"loss"_s, Objective::Minimize);

        const QList<DataLayerItem::Line> &lines = chart.layer()->lines();
        QCOMPARE(lines.size(), 4); // two curves (worst first), two rung bars
        QCOMPARE(lines[0].id, u"cut"_s);
        QCOMPARE(lines[0].style, Qt::DashLine);
        QVERIFY(lines[0].color.alpha() < 255);
        QCOMPARE(lines[1].id, u"done"_s);
        QCOMPARE(lines[1].style, Qt::SolidLine);
        QCOMPARE(lines[2].points, (QList<QPointF>{{0.7, 0.95}, {1.3, 0.95}}));
        QVERIFY(!lines[2].hoverable);
        QCOMPARE(lines[3].points.first().y(), 0.8);
        // The square where the pruned job stopped.
        QCOMPARE(chart.layer()->pointSets().size(), 1);
        QCOMPARE(chart.layer()->pointSets()[0].points, QList<QPointF>{QPointF(2, 0.8)});
        QCOMPARE(chart.layer()->pointSets()[0].ids, QStringList{u"cut"_s});
        QCOMPARE(chart.layer()->pointSets()[0].shape, DataLayerItem::Shape::Square);
        // Labels say each rung's value, readable over the lines.
        QCOMPARE(chart.layer()->labels().size(), 2);
        QCOMPARE(chart.layer()->labels()[1].text, u"rung 2: 0.8"_s);
        QVERIFY(chart.layer()->labels()[1].background.isValid());
        // The legend names the pruned job as such and explains the marks.
        const QList<XYChartView::LegendEntry> legend = chart.legendEntries();
        QCOMPARE(legend.size(), 4);
        QCOMPARE(legend[1].name, u"2. cut (pruned at 2)"_s);
        QCOMPARE(legend[1].style, Qt::DashLine);
        QCOMPARE(legend[2].name, u"Pruned: stopped here"_s);
        QCOMPARE(legend[3].name, u"ASHA rung: value to continue"_s);
        // Hovering the pruned curve says so.
        DataLayerItem::Hit hit;
        hit.id = u"cut"_s;
        hit.value = {2, 0.8};
        QVERIFY(chart.hoverText(hit).contains(u"<b>Pruned</b> at step 2"_s));

        // Without pruning and rungs: none of it.
        data.curves = {done};
        data.rungs.clear();
        chart.setData(data, u"loss"_s, Objective::Minimize);
        QCOMPARE(chart.layer()->lines().size(), 1);
        QVERIFY(chart.layer()->pointSets().isEmpty());
        QVERIFY(chart.layer()->labels().isEmpty());
        QCOMPARE(chart.legendEntries().size(), 1);
    }

    void curves()
    {
        Fixture f(randomSearchExperiment(), randomSearchJobs(25, 3, 2));
        QVERIFY(f.exposed);
        f.panel.setCurrentChart(ChartsPanel::Chart::Curves);
        QCOMPARE(f.panel.result(), u"loss"_s);
        QCOMPARE(f.panel.resultChoices(), (QStringList{u"loss"_s})); // only list-valued results
        CurvesChart *chart = f.panel.curvesChart();
        QCOMPARE(chart->data().candidates, 28);
        QCOMPARE(chart->layer()->lines().size(), 10); // best 10 by default
        QCOMPARE(chart->layer()->linePointCount(), 50);
        QCOMPARE(chart->legendEntries().size(), 10);
        f.panel.setBestCount(20);
        QCOMPARE(chart->layer()->lines().size(), 20);
        QCOMPARE(chart->legendEntries().size(), 2); // many: coloured by rank

        // Table -> chart: selected jobs only.
        f.panel.setSelectedOnly(true);
        QCOMPARE(chart->layer()->lines().size(), 0);
        f.selection.select(f.model.index(f.model.rowOf(u"job026"_s), 0),
                           QItemSelectionModel::Select | QItemSelectionModel::Rows);
        f.selection.select(f.model.index(f.model.rowOf(u"job004"_s), 0),
                           QItemSelectionModel::Select | QItemSelectionModel::Rows);
        QSignalSpy rebuilt(&f.panel, &ChartsPanel::rebuilt);
        QVERIFY(rebuilt.wait());
        QCOMPARE(chart->layer()->lines().size(), 2);
        QCOMPARE(chart->layer()->linePointCount(), 2 + 5);

        // Chart -> table: clicking a line selects its job.
        f.panel.setSelectedOnly(false);
        const Curve &c = chart->data().curves.first();
        const QPointF middle = (c.points[1] + c.points[2]) / 2;
        QTest::mouseClick(chart->viewport(), Qt::LeftButton, {}, viewportPos(chart, middle));
        const QModelIndexList rows = f.selection.selectedRows();
        QCOMPARE(rows.size(), 1);
        QCOMPARE(rows.first().data(JobTableModel::JobIdRole).toString(), c.id);
        QCOMPARE(chart->layer()->selectedIds(), QSet<QString>{c.id});
    }

    // UX review 2026-11-29, left: the row of controls forced about 600 px, so in half a laptop
    // screen (the panel gets about 640 px, less with the job details open) the chart and Reset /
    // Export were cut off. Narrow, the controls wrap onto more lines; wide, they stay on one.
    void narrowPanelWrapsControls_data()
    {
        QTest::addColumn<int>("chart");
        QTest::addColumn<QStringList>("controls"); // the ones this chart shows
        const QStringList common{u"chartCombo"_s, u"resultCombo"_s, u"resetButton"_s, u"exportButton"_s};
        QTest::newRow("history") << int(ChartsPanel::Chart::History)
                                 << (common + QStringList{u"objectiveCombo"_s});
        QTest::newRow("scatter") << int(ChartsPanel::Chart::Scatter)
                                 << (common + QStringList{u"hyperparameterCombo"_s});
        QTest::newRow("parallel") << int(ChartsPanel::Chart::Parallel)
                                  << (common + QStringList{u"objectiveCombo"_s});
        QTest::newRow("curves") << int(ChartsPanel::Chart::Curves)
                                << (common + QStringList{u"objectiveCombo"_s, u"showCombo"_s, u"bestSpin"_s});
        QTest::newRow("lineage") << int(ChartsPanel::Chart::Lineage)
                                 << (common + QStringList{u"objectiveCombo"_s, u"layoutCombo"_s});
    }
    void narrowPanelWrapsControls()
    {
        QFETCH(int, chart);
        QFETCH(QStringList, controls);
        Fixture f(pbtExperiment(8, 4), pbtJobs(8, 4));
        QVERIFY(f.exposed);
        f.panel.setCurrentChart(ChartsPanel::Chart(chart));
        QVERIFY2(f.panel.minimumSizeHint().width() <= 420,
                 qPrintable(QString::number(f.panel.minimumSizeHint().width())));

        auto rectOf = [&](const QWidget *w) {
            return QRect(w->mapTo(&f.panel, QPoint(0, 0)), w->size());
        };
        auto widgets = [&] {
            QList<QWidget *> list;
            for (const QString &name : std::as_const(controls)) {
                auto *w = f.panel.findChild<QWidget *>(name);
                if (w)
                    list.append(w);
            }
            return list;
        };
        QCOMPARE(widgets().size(), controls.size());

        // Wide: one line, as before, with Reset zoom and Export at the right edge.
        f.panel.layout()->activate();
        auto *exportButton = f.panel.findChild<QWidget *>(u"exportButton"_s);
        const int lineTop = rectOf(f.panel.findChild<QWidget *>(u"chartCombo"_s)).top();
        for (QWidget *w : widgets())
            QVERIFY2(std::abs(rectOf(w).center().y() - rectOf(exportButton).center().y()) <= 2,
                     qPrintable(w->objectName()));
        QVERIFY(f.panel.width() - rectOf(exportButton).right() < 12);
        const int wideChartTop = rectOf(f.panel.currentChartWidget()).top();

        for (int width : {640, 520, 420}) {
            f.panel.resize(width, 700);
            QTRY_COMPARE(f.panel.width(), width);
            f.panel.layout()->activate();
            const QRect chartRect = rectOf(f.panel.currentChartWidget());
            const QList<QWidget *> list = widgets();
            for (QWidget *w : list) {
                const QString what = u"%1 at %2 px"_s.arg(w->objectName()).arg(width);
                // Visible, whole inside the panel, above the chart.
                QVERIFY2(w->isVisible() && w->width() > 0, qPrintable(what));
                QVERIFY2(f.panel.rect().contains(rectOf(w)), qPrintable(what));
                QVERIFY2(rectOf(w).bottom() < chartRect.top(), qPrintable(what));
                QVERIFY2(w->width() >= w->minimumSizeHint().width(), qPrintable(what));
                for (QWidget *other : list) // no control hides another
                    QVERIFY2(other == w || !rectOf(other).intersects(rectOf(w)), qPrintable(what));
            }
            QVERIFY(f.panel.rect().contains(chartRect));
            QVERIFY(chartRect.height() > 300);
        }
        // At 420 px at least one control went onto a second line.
        QVERIFY(rectOf(f.panel.currentChartWidget()).top() > wideChartTop);
        QVERIFY(rectOf(exportButton).top() > lineTop);

        // Wide again: one line.
        f.panel.resize(1200, 800);
        QTRY_COMPARE(f.panel.width(), 1200);
        f.panel.layout()->activate();
        QCOMPARE(rectOf(f.panel.currentChartWidget()).top(), wideChartTop);
    }

    void lineage()
    {
        const int population = 8, generations = 10;
        Fixture f(pbtExperiment(population, generations), pbtJobs(population, generations));
        QVERIFY(f.exposed);
        QCOMPARE(int(f.panel.currentChart()), int(ChartsPanel::Chart::Lineage)); // PBT opens on its lineage
        QCOMPARE(f.panel.result(), u"best_loss"_s);
        QCOMPARE(f.panel.objective(), Objective::Minimize);
        LineageChart *chart = f.panel.lineageChart();
        const LineageGraph &g = chart->graph();
        QCOMPARE(g.nodes.size(), population * generations);
        QCOMPARE(g.members.size(), population);
        QCOMPARE(chart->layer()->pointCount(), population * generations);
        QCOMPARE(chart->layer()->lines().size(), population * (generations - 1));
        const auto arrows = std::count_if(chart->layer()->lines().begin(), chart->layer()->lines().end(),
                                          [](const DataLayerItem::Line &l) { return l.arrow; });
        QCOMPARE(int(arrows), g.exploitCount);
        QCOMPARE(points(chart->layer(), 2), g.exploitCount); // exploit children are diamonds
        auto *lanes = qobject_cast<QCategoryAxis *>(chart->axisY());
        QVERIFY(lanes);
        QCOMPARE(lanes->count(), population);

        f.panel.setLineageLayout(LineageChart::Layout::Quality);
        QVERIFY(qobject_cast<QValueAxis *>(chart->axisY()));
        QCOMPARE(chart->layer()->pointCount(), population * generations);
        QCOMPARE(chart->legendEntries().size(), population + 2); // members, exploit link, exploit child

        // Clicking a node selects its job.
        const int node = g.nodeOf(pbtId(2, 5));
        QTest::mouseClick(chart->viewport(), Qt::LeftButton, {},
                          viewportPos(chart, chart->nodePosition(node)));
        QVERIFY(f.selection.isRowSelected(f.model.rowOf(pbtId(2, 5)), {}));
        // Hovering shows its ancestry across members.
        QTest::mouseMove(chart->viewport(), QPoint(2, 2));
        QTest::mouseMove(chart->viewport(), viewportPos(chart, chart->nodePosition(node)));
        QTRY_VERIFY(!chart->layer()->hoveredIds().isEmpty());
        QCOMPARE(chart->layer()->hoveredIds().size(), qsizetype(g.ancestry(node).size()));

        // A random search has no lineage: a message, no crash.
        Fixture r(randomSearchExperiment(), randomSearchJobs());
        QVERIFY(r.exposed);
        r.panel.setCurrentChart(ChartsPanel::Chart::Lineage);
        QCOMPARE(r.panel.lineageChart()->layer()->pointCount(), 0);
        QVERIFY(!r.panel.lineageChart()->layer()->message().isEmpty());
    }

    void selectionFromTable()
    {
        Fixture f(randomSearchExperiment(), randomSearchJobs(25, 3, 2));
        QVERIFY(f.exposed);
        f.panel.setCurrentChart(ChartsPanel::Chart::History);
        f.selection.select(f.model.index(f.model.rowOf(u"job003"_s), 0),
                           QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        QCOMPARE(f.panel.selectedIds(), QSet<QString>{u"job003"_s});
        QCOMPARE(f.panel.historyChart()->layer()->selectedIds(), QSet<QString>{u"job003"_s});
        QCOMPARE(f.panel.scatterChart()->layer()->selectedIds(), QSet<QString>{u"job003"_s});
        // And back: a point clicked with Ctrl joins the selection.
        HistoryChart *chart = f.panel.historyChart();
        const qsizetype i = chart->data().ids.indexOf(u"job010"_s);
        QTest::mouseClick(chart->viewport(), Qt::LeftButton, Qt::ControlModifier,
                          viewportPos(chart, chart->data().points[i]));
        QCOMPARE(f.selection.selectedRows().size(), 2);
    }

    void keysZoomPanAndReset()
    {
        Fixture f(randomSearchExperiment(), randomSearchJobs(25, 3, 2));
        QVERIFY(f.exposed);
        f.panel.setCurrentChart(ChartsPanel::Chart::History);
        HistoryChart *history = f.panel.historyChart();
        auto *x = qobject_cast<QValueAxis *>(history->axisX());
        const double width = x->max() - x->min();
        QTest::keyClick(history, Qt::Key_Plus);
        QVERIFY(history->isZoomed());
        QVERIFY(x->max() - x->min() < width);
        const double min = x->min();
        QTest::keyClick(history, Qt::Key_Right);
        QVERIFY(x->min() > min);
        QTest::keyClick(history, Qt::Key_Escape);
        QVERIFY(!history->isZoomed());

        f.panel.setCurrentChart(ChartsPanel::Chart::Parallel);
        ParallelCoordinatesChart *parallel = f.panel.parallelChart();
        QTest::keyClick(parallel, Qt::Key_Plus);
        QVERIFY(parallel->isZoomed());
        QTest::keyClick(parallel, Qt::Key_Home);
        QVERIFY(!parallel->isZoomed());
    }

    void liveUpdatesKeepZoomAndCoalesce()
    {
        Fixture f(randomSearchExperiment(), randomSearchJobs(25, 3, 2));
        QVERIFY(f.exposed);
        f.panel.setCurrentChart(ChartsPanel::Chart::History);
        HistoryChart *chart = f.panel.historyChart();
        auto *x = qobject_cast<QValueAxis *>(chart->axisX());
        const QRectF plot = chart->chart()->plotArea();
        chart->zoomBy(2.0, plot.center());
        QVERIFY(chart->isZoomed());
        const double min = x->min(), max = x->max();

        // A burst of refreshes: one rebuild, with everything in it.
        QSignalSpy rebuilt(&f.panel, &ChartsPanel::rebuilt);
        const int before = f.panel.rebuildCount();
        for (int i = 0; i < 20; ++i) {
            f.model.applyChanges({makeJob(u"new%1"_s.arg(i), JobStatus::Done, {},
                                          {{u"accuracy"_s, 0.1 + i / 100.0}}, 5000.0 + i)});
        }
        // Running jobs finishing: updates in place.
        Job finished = f.model.job(f.model.rowOf(u"job025"_s));
        finished.status = JobStatus::Done;
        finished.results.insert(u"accuracy"_s, 0.99);
        finished.modifiedAt = 6000;
        f.model.applyChanges({finished});
        QVERIFY(rebuilt.wait());
        QCOMPARE(rebuilt.count(), 1);
        QCOMPARE(f.panel.rebuildCount(), before + 1);
        QCOMPARE(chart->data().points.size(), 25 + 20 + 1);
        QCOMPARE(chart->data().bestId, u"job025"_s);
        QVERIFY(chart->isZoomed());
        QCOMPARE(x->min(), min);
        QCOMPARE(x->max(), max);

        // Reset shows everything again, new points included.
        f.panel.resetZoom();
        QVERIFY(!chart->isZoomed());
        QVERIFY(x->max() >= 46);

        // Not zoomed: the range follows the data.
        f.model.applyChanges({makeJob(u"later"_s, JobStatus::Done, {}, {{u"accuracy"_s, 0.5}}, 7000)});
        QVERIFY(rebuilt.wait());
        QVERIFY(x->max() >= 47);
        QVERIFY(!chart->isZoomed());

        // Hidden panels only take note; showing them rebuilds once.
        f.panel.hide();
        const int hidden = f.panel.rebuildCount();
        f.model.applyChanges({makeJob(u"unseen"_s, JobStatus::Done, {}, {{u"accuracy"_s, 0.5}}, 8000)});
        QCoreApplication::processEvents();
        QCOMPARE(f.panel.rebuildCount(), hidden);
        f.panel.show();
        QVERIFY(rebuilt.wait());
        QCOMPARE(chart->data().points.size(), 48);
    }

    void preparedOffThreadAsInPlace_data()
    {
        QTest::addColumn<bool>("pbt");
        QTest::addColumn<int>("chart");
        QTest::addColumn<QString>("result");
        QTest::addColumn<QString>("hyperparameter");
        using C = ChartsPanel::Chart;
        QTest::newRow("history") << false << int(C::History) << u"accuracy"_s << QString();
        QTest::newRow("scatter log") << false << int(C::Scatter) << u"loss"_s << u"learning_rate"_s;
        QTest::newRow("scatter categories") << false << int(C::Scatter) << u"accuracy"_s << u"optimizer"_s;
        QTest::newRow("parallel") << false << int(C::Parallel) << u"accuracy"_s << QString();
        QTest::newRow("curves") << false << int(C::Curves) << u"loss"_s << QString();
        QTest::newRow("lineage") << true << int(C::Lineage) << u"best_loss"_s << QString();
        QTest::newRow("pbt curves") << true << int(C::Curves) << u"loss"_s << QString();
    }

    void preparedOffThreadAsInPlace()
    {
        // The worker's data, shown by the chart, equals the synchronous path's.
        QFETCH(bool, pbt);
        QFETCH(int, chart);
        QFETCH(QString, result);
        QFETCH(QString, hyperparameter);
        Fixture f(pbt ? pbtExperiment(6, 5) : randomSearchExperiment(),
                  pbt ? pbtJobs(6, 5) : randomSearchJobs(25, 3, 2));
        QVERIFY(f.exposed);
        f.selection.select(f.model.index(2, 0), QItemSelectionModel::Select | QItemSelectionModel::Rows);
        f.panel.setCurrentChart(ChartsPanel::Chart(chart));
        f.panel.setResult(result);
        if (!hyperparameter.isEmpty())
            f.panel.setHyperparameter(hyperparameter);
        f.panel.rebuildNow();
        QVERIFY(!f.panel.isPreparing());
        const PreparedChart inPlace = shown(f.panel);

        OffThread offThread;
        QSignalSpy rebuilt(&f.panel, &ChartsPanel::rebuilt);
        const int preparations = f.panel.preparationCount();
        f.panel.rebuildNow();
        QVERIFY(f.panel.isPreparing());
        QCOMPARE(rebuilt.count(), 0);
        QVERIFY(rebuilt.wait());
        QVERIFY(!f.panel.isPreparing());
        QCOMPARE(f.panel.preparationCount(), preparations + 1);
        comparePrepared(shown(f.panel), inPlace);
    }

    void staleResultDropped()
    {
        Fixture f(randomSearchExperiment(), randomSearchJobs(25, 3, 2));
        QVERIFY(f.exposed);
        f.panel.setCurrentChart(ChartsPanel::Chart::History);
        f.panel.setResult(u"accuracy"_s);
        HistoryChart *chart = f.panel.historyChart();
        QCOMPARE(chart->data().points.size(), 25);

        OffThread offThread;
        QSignalSpy rebuilt(&f.panel, &ChartsPanel::rebuilt);
        f.panel.rebuildNow(); // overtaken by the next one before its result is in
        f.model.applyChanges({makeJob(u"late"_s, JobStatus::Done, {}, {{u"accuracy"_s, 0.999}}, 9000)});
        f.panel.rebuildNow();
        // Meanwhile the chart shows what it showed.
        QCOMPARE(chart->data().points.size(), 25);
        QVERIFY(rebuilt.wait());
        QCOMPARE(rebuilt.count(), 1);
        QCOMPARE(f.panel.staleResultCount(), 1); // dropped, or skipped unprepared
        QCOMPARE(chart->data().points.size(), 26);
        QCOMPARE(chart->data().bestId, u"late"_s);

        // Switching charts makes a preparation in progress stale too.
        f.panel.rebuildNow();
        f.panel.setCurrentChart(ChartsPanel::Chart::Parallel);
        QVERIFY(rebuilt.wait());
        QCOMPARE(rebuilt.count(), 2);
        QCOMPARE(f.panel.staleResultCount(), 2);
        QCOMPARE(f.panel.parallelChart()->data().lineCount(), 26);
    }

    void destroyedWhilePreparing()
    {
        // Big enough that the worker is still at it when the panel goes.
        JobTableModel model;
        QList<Job> jobs;
        for (int i = 0; i < 20; ++i)
            jobs.append(randomSearchJobs(250, 0, 0));
        for (int i = 0; i < jobs.size(); ++i)
            jobs[i].id = u"big%1"_s.arg(i);
        fillModel(model, jobs);
        QItemSelectionModel selection(&model);
        OffThread offThread;
        for (auto chart : {ChartsPanel::Chart::Parallel, ChartsPanel::Chart::Scatter}) {
            auto *panel = new ChartsPanel;
            panel->setSource(&model, randomSearchExperiment(), &selection);
            panel->setCurrentChart(chart);
            QVERIFY(panel->isPreparing());
            delete panel; // waits for the worker; its result is never delivered
            QCoreApplication::sendPostedEvents();
            QCoreApplication::processEvents();
        }
        // The model is intact and still usable.
        QCOMPARE(model.rowCount(), 5000);
        model.applyChanges({makeJob(u"after"_s, JobStatus::Done, {}, {{u"accuracy"_s, 0.5}}, 9000)});
        QCOMPARE(model.rowCount(), 5001);
    }

    void burstIsOnePreparation()
    {
        Fixture f(randomSearchExperiment(), randomSearchJobs(25, 3, 2));
        QVERIFY(f.exposed);
        f.panel.setCurrentChart(ChartsPanel::Chart::Parallel);
        f.panel.setResult(u"accuracy"_s);
        OffThread offThread;
        QSignalSpy rebuilt(&f.panel, &ChartsPanel::rebuilt);
        const int preparations = f.panel.preparationCount();
        for (int i = 0; i < 30; ++i) {
            f.model.applyChanges({makeJob(u"new%1"_s.arg(i), JobStatus::Done, {},
                                          {{u"accuracy"_s, 0.1 + i / 100.0}}, 5000.0 + i)});
        }
        QVERIFY(rebuilt.wait());
        QCOMPARE(rebuilt.count(), 1);
        QCOMPARE(f.panel.preparationCount(), preparations + 1);
        QCOMPARE(f.panel.parallelChart()->data().lineCount(), 25 + 30);
        QCOMPARE(f.panel.staleResultCount(), 0);
    }

    void zoomAndPan()
    {
        Fixture f(randomSearchExperiment(), randomSearchJobs(25, 3, 2));
        QVERIFY(f.exposed);
        f.panel.setCurrentChart(ChartsPanel::Chart::Scatter);
        f.panel.setHyperparameter(u"dropout"_s);
        ScatterChart *chart = f.panel.scatterChart();
        auto *x = qobject_cast<QValueAxis *>(chart->axisX());
        const double width = x->max() - x->min();
        // Drag a rectangle: zoom in.
        const QRectF plot = chart->chart()->plotArea();
        const QPoint from = chart->mapFromScene(chart->chart()->mapToScene(plot.topLeft() + QPointF(20, 20)));
        const QPoint to = chart->mapFromScene(chart->chart()->mapToScene(plot.center()));
        QTest::mousePress(chart->viewport(), Qt::LeftButton, {}, from);
        QTest::mouseMove(chart->viewport(), from + QPoint(10, 10));
        QTest::mouseMove(chart->viewport(), to);
        QTest::mouseRelease(chart->viewport(), Qt::LeftButton, {}, to);
        QVERIFY(chart->isZoomed());
        QVERIFY(x->max() - x->min() < width * 0.6);
        // Pan right: the range moves right.
        const double min = x->min();
        chart->pan(50, 0);
        QVERIFY(x->min() > min);
        // Reset.
        chart->resetZoom();
        QVERIFY(!chart->isZoomed());
        QVERIFY(std::abs((x->max() - x->min()) - width) < 1e-9);
        // The wheel zooms too.
        QWheelEvent wheel(QPointF(to), QPointF(chart->viewport()->mapToGlobal(to)), {}, QPoint(0, 240),
                          Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
        QCoreApplication::sendEvent(chart->viewport(), &wheel);
        QVERIFY(chart->isZoomed());
    }

    // Both zoomable widgets share one gesture handler (ZoomPanGesture):
    // the same mouse does the same on each.
    void sameGesturesOnEveryChart_data()
    {
        QTest::addColumn<bool>("parallel");
        QTest::newRow("scatter") << false;
        QTest::newRow("parallel coordinates") << true;
    }
    void sameGesturesOnEveryChart()
    {
        QFETCH(bool, parallel);
        Fixture f(randomSearchExperiment(), randomSearchJobs(25, 3, 2));
        QVERIFY(f.exposed);
        f.panel.setCurrentChart(parallel ? ChartsPanel::Chart::Parallel : ChartsPanel::Chart::Scatter);
        f.panel.setHyperparameter(u"dropout"_s);
        QCoreApplication::sendPostedEvents();
        ExportableChart *chart =
            parallel ? static_cast<ExportableChart *>(f.panel.parallelChart()) : f.panel.scatterChart();
        QWidget *surface =
            parallel ? static_cast<QWidget *>(f.panel.parallelChart()) : f.panel.scatterChart()->viewport();
        auto view = [&]() -> QRectF {
            if (parallel)
                return f.panel.parallelChart()->visibleRange();
            auto *x = qobject_cast<QValueAxis *>(f.panel.scatterChart()->axisX());
            auto *y = qobject_cast<QValueAxis *>(f.panel.scatterChart()->axisY());
            return QRectF(QPointF(x->min(), y->min()), QPointF(x->max(), y->max()));
        };
        const QRectF all = view();
        const QPoint from(surface->width() * 3 / 10, surface->height() * 3 / 10);
        const QPoint to(surface->width() * 6 / 10, surface->height() * 6 / 10);

        // A left drag zooms into the rectangle.
        QTest::mousePress(surface, Qt::LeftButton, {}, from);
        QTest::mouseMove(surface, from + QPoint(10, 10));
        QTest::mouseMove(surface, to);
        QTest::mouseRelease(surface, Qt::LeftButton, {}, to);
        QVERIFY(chart->isZoomed());
        const QRectF zoomed = view();
        QVERIFY(zoomed.width() < all.width() * 0.6);
        // A right drag pans: the range moves, its size stays.
        QTest::mousePress(surface, Qt::RightButton, {}, to);
        QTest::mouseMove(surface, to - QPoint(40, 0));
        QTest::mouseRelease(surface, Qt::RightButton, {}, to - QPoint(40, 0));
        QVERIFY(view().left() > zoomed.left());
        QVERIFY(qAbs(view().width() - zoomed.width()) < zoomed.width() * 1e-6);
        // A double-click where no job is resets.
        QTest::mouseDClick(surface, Qt::LeftButton, {}, QPoint(surface->width() - 3, 3));
        QVERIFY(!chart->isZoomed());
        QCOMPARE(view(), all);
        // The wheel zooms in about the pointer.
        QWheelEvent wheel(QPointF(to), surface->mapToGlobal(QPointF(to)), {}, QPoint(0, 120), Qt::NoButton,
                          Qt::NoModifier, Qt::NoScrollPhase, false);
        QCoreApplication::sendEvent(surface, &wheel);
        QVERIFY(chart->isZoomed());
        QVERIFY(view().width() < all.width());
    }

    void exportPngAndSvg_data()
    {
        QTest::addColumn<int>("chart");
        QTest::newRow("history") << int(ChartsPanel::Chart::History);
        QTest::newRow("scatter") << int(ChartsPanel::Chart::Scatter);
        QTest::newRow("parallel") << int(ChartsPanel::Chart::Parallel);
        QTest::newRow("curves") << int(ChartsPanel::Chart::Curves);
        QTest::newRow("lineage") << int(ChartsPanel::Chart::Lineage);
    }

    void exportPngAndSvg()
    {
        QFETCH(int, chart);
        const bool pbt = chart == int(ChartsPanel::Chart::Lineage);
        Fixture f(pbt ? pbtExperiment(4, 5) : randomSearchExperiment(),
                  pbt ? pbtJobs(4, 5) : randomSearchJobs());
        QVERIFY(f.exposed);
        f.panel.setCurrentChart(ChartsPanel::Chart(chart));
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString png = dir.filePath(u"chart.png"_s), svg = dir.filePath(u"chart.svg"_s);
        QString error;
        QVERIFY2(f.panel.exportPng(png, &error), qPrintable(error));
        QVERIFY2(f.panel.exportSvg(svg, &error), qPrintable(error));

        QFile pngFile(png);
        QVERIFY(pngFile.open(QIODevice::ReadOnly));
        QCOMPARE(pngFile.read(8), QByteArray("\x89PNG\r\n\x1a\n", 8));
        const QImage image(png);
        QVERIFY(!image.isNull());
        QCOMPARE(image.size(), f.panel.currentChartWidget()->size() * 2);
        // Not blank: the data is drawn in more than a couple of colours.
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 7) {
            for (int x = 0; x < image.width(); x += 7)
                colours.insert(image.pixel(x, y));
        }
        QVERIFY2(colours.size() > 20, qPrintable(QString::number(colours.size())));

        QFile svgFile(svg);
        QVERIFY(svgFile.open(QIODevice::ReadOnly));
        const QByteArray text = svgFile.readAll();
        QVERIFY(text.startsWith("<?xml"));
        QVERIFY(text.contains("<svg"));
        QSvgRenderer renderer(text);
        QVERIFY(renderer.isValid());
        QCOMPARE(renderer.viewBox().size(), f.panel.currentChartWidget()->size());
    }
};

QTEST_MAIN(TestCharts)
#include "tst_charts.moc"
