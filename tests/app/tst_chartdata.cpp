#include "ChartData.h"
#include "ChartFixtures.h"
#include "LatestOnly.h"

#include <QThread>
#include <QtTest>

#include <cmath>

using namespace schedy;
using namespace schedy::charts;
using namespace schedy::test;
using namespace Qt::StringLiterals;

// The charts' data preparation, without widgets: which jobs, where, in
// which order, and what is skipped.
class TestChartData : public QObject
{
    Q_OBJECT

    static Job done(const QString &id, double modifiedAt, const QCborValue &value,
                    const QString &result = QStringLiteral("loss"))
    {
        return makeJob(id, JobStatus::Done, {}, QCborMap{{result, value}}, modifiedAt);
    }

private slots:
    void numbers()
    {
        QCOMPARE(scalar(QCborValue(3)).value(), 3.0);
        QCOMPARE(scalar(QCborValue(0.25)).value(), 0.25);
        QVERIFY(!scalar(QCborValue(std::nan(""))));
        QVERIFY(!scalar(QCborValue(qInf())));
        QVERIFY(!scalar(QCborValue(QStringLiteral("0.5"))));
        QVERIFY(!scalar(QCborValue(true)));
        QVERIFY(!scalar(QCborValue()));
        QVERIFY(!scalar(QCborValue(nullptr)));
        // A curve counts by its last number, as the job table shows it.
        QCOMPARE(resultNumber(QCborArray{1.0, 0.5, QStringLiteral("x")}).value(), 0.5);
        QVERIFY(!resultNumber(QCborArray{QStringLiteral("a")}));
        QVERIFY(!resultNumber(QCborMap{{QStringLiteral("k"), 1}}));
    }

    void curveExtraction()
    {
        const QList<QPointF> points =
            curvePoints(QCborArray{1, QStringLiteral("x"), 2.5, QCborValue(nullptr), 3, std::nan("")});
        QCOMPARE(points, (QList<QPointF>{{1, 1}, {3, 2.5}, {5, 3}})); // steps keep their place
        QVERIFY(curvePoints(QCborValue(2.0)).isEmpty());
        QVERIFY(curvePoints(QCborArray{}).isEmpty());
        QVERIFY(curvePoints(QCborArray{QStringLiteral("a"), QStringLiteral("b")}).isEmpty());
    }

    void objectives()
    {
        QCOMPARE(guessObjective(QStringLiteral("val_loss")), Objective::Minimize);
        QCOMPARE(guessObjective(QStringLiteral("error_rate")), Objective::Minimize);
        QCOMPARE(guessObjective(QStringLiteral("accuracy")), Objective::Maximize);
        QCOMPARE(guessObjective(QStringLiteral("F1")), Objective::Maximize);
        Experiment pbt = pbtExperiment(4, 3);
        pbt.scheduler.pbt.qualityResultName = QStringLiteral("score_that_is_minimised");
        QCOMPARE(objectiveFor(pbt, QStringLiteral("score_that_is_minimised")), Objective::Minimize);
        QCOMPARE(objectiveFor(pbt, QStringLiteral("accuracy")), Objective::Maximize);
    }

    void historyBestSoFar()
    {
        // Listed out of order: completion order comes from modifiedAt.
        const QList<Job> jobs = {
            done(QStringLiteral("d"), 40, 1.0),
            done(QStringLiteral("a"), 10, 5),
            done(QStringLiteral("c"), 30, 4.0),
            done(QStringLiteral("b"), 20, 3.0),
            done(QStringLiteral("e"), 50, 2.0),
            done(QStringLiteral("text"), 35, QStringLiteral("n/a")), // skipped
            makeJob(QStringLiteral("run"), JobStatus::Running, {}, {{QStringLiteral("loss"), 0.0}},
                    45),                                   // not finished
            done(QStringLiteral("nan"), 36, std::nan("")), // skipped
        };
        const JobListSource source(jobs);
        const HistoryData h = history(source, resultField(QStringLiteral("loss")), Objective::Minimize);
        QCOMPARE(h.ids, (QStringList{u"a"_s, u"b"_s, u"c"_s, u"d"_s, u"e"_s}));
        QCOMPARE(h.points, (QList<QPointF>{{1, 5}, {2, 3}, {3, 4}, {4, 1}, {5, 2}}));
        QCOMPARE(h.best, (QList<QPointF>{{1, 5}, {2, 5}, {2, 3}, {4, 3}, {4, 1}, {5, 1}}));
        QCOMPARE(h.bestId, QStringLiteral("d"));
        QCOMPARE(h.skipped, 2);

        const HistoryData up = history(source, resultField(QStringLiteral("loss")), Objective::Maximize);
        QCOMPARE(up.best, (QList<QPointF>{{1, 5}, {5, 5}}));
        QCOMPARE(up.bestId, QStringLiteral("a"));

        // Curves count by their last point; ties in time by creation, then id.
        const QList<Job> ties = {
            makeJob(QStringLiteral("y"), JobStatus::Done, {}, {{QStringLiteral("loss"), QCborArray{9, 2}}},
                    10, 5),
            makeJob(QStringLiteral("x"), JobStatus::Done, {}, {{QStringLiteral("loss"), 3}}, 10, 5),
            makeJob(QStringLiteral("w"), JobStatus::Done, {}, {{QStringLiteral("loss"), 1}}, 10, 6)};
        const HistoryData t =
            history(JobListSource(ties), resultField(QStringLiteral("loss")), Objective::Minimize);
        QCOMPARE(t.ids, (QStringList{u"x"_s, u"y"_s, u"w"_s}));
        QCOMPARE(t.points[1].y(), 2.0);

        const HistoryData none = history(source, resultField(QStringLiteral("missing")), Objective::Minimize);
        QVERIFY(none.points.isEmpty());
        QVERIFY(none.best.isEmpty());
    }

    void axisHints()
    {
        const Experiment e = randomSearchExperiment();
        QCOMPARE(axisHint(e, QStringLiteral("learning_rate")).kind, AxisKind::Log);
        QCOMPARE(axisHint(e, QStringLiteral("dropout")).kind, AxisKind::Linear);
        const AxisHint optimizer = axisHint(e, QStringLiteral("optimizer"));
        QCOMPARE(optimizer.kind, AxisKind::Category);
        QCOMPARE(optimizer.categories.size(), 3);
        QCOMPARE(axisHint(e, QStringLiteral("batch_size")).kind, AxisKind::Category);
        QVERIFY(!axisHint(e, QStringLiteral("unknown")).fromExperiment);
        // PBT: init distributions; an explored numeric choice leaves its values.
        Experiment pbt = pbtExperiment(4, 3);
        QCOMPARE(axisHint(pbt, QStringLiteral("learning_rate")).kind, AxisKind::Log);
        QCOMPARE(axisHint(pbt, QStringLiteral("layers")).kind, AxisKind::Category);
        pbt.scheduler.pbt.explore.append({QStringLiteral("layers"), 0.8, 1.2});
        QCOMPARE(axisHint(pbt, QStringLiteral("layers")).kind, AxisKind::Linear);
        QCOMPARE(experimentHyperparameters(pbt), (QStringList{u"learning_rate"_s, u"layers"_s}));
        QCOMPARE(experimentHyperparameters(e).size(), 5);
    }

    void resolvedAxes()
    {
        auto job = [](const QString &id, const QCborValue &v) {
            return makeJob(id, JobStatus::Done, QCborMap{{QStringLiteral("x"), v}}, {}, 1);
        };
        const FieldKey x = hyperparameterField(QStringLiteral("x"));
        {
            const JobListSource s({job(u"a"_s, 0.01), job(u"b"_s, 1.0), job(u"c"_s, 0.1)});
            const AxisSpec a = resolveAxis(s, s.field(x), {AxisKind::Log, true, {}});
            QCOMPARE(a.kind, AxisKind::Log);
            QCOMPARE(a.min, 0.01);
            QCOMPARE(a.max, 1.0);
        }
        {
            // A value <= 0 has no place on a log axis: linear instead.
            const JobListSource s({job(u"a"_s, 0.0), job(u"b"_s, 1.0)});
            QCOMPARE(resolveAxis(s, s.field(x), {AxisKind::Log, true, {}}).kind, AxisKind::Linear);
        }
        {
            // Choices first in the experiment's order, unforeseen values after (numbers sorted, then text).
            const JobListSource s({job(u"a"_s, QStringLiteral("sgd")), job(u"b"_s, 7),
                                   job(u"c"_s, QStringLiteral("zzz")), job(u"d"_s, 3),
                                   job(u"e"_s, QStringLiteral("adam")), job(u"f"_s, 3.0)});
            const AxisSpec a = resolveAxis(
                s, s.field(x), {AxisKind::Category, true, {QStringLiteral("adam"), QStringLiteral("sgd")}});
            QCOMPARE(a.kind, AxisKind::Category);
            QCOMPARE(a.labels, (QStringList{u"adam"_s, u"sgd"_s, u"3"_s, u"7"_s, u"zzz"_s}));
            QCOMPARE(a.position(QCborValue(3.0)).value(), 2.0); // 3 and 3.0 are one category
            QCOMPARE(a.min, 0.0);
            QCOMPARE(a.max, 4.0);
        }
        {
            // Without a hint, text makes it a category axis.
            const JobListSource s({job(u"a"_s, 1), job(u"b"_s, QStringLiteral("big")), job(u"c"_s, 2)});
            const AxisSpec a = resolveAxis(s, s.field(x), {});
            QCOMPARE(a.kind, AxisKind::Category);
            QCOMPARE(a.labels, (QStringList{u"1"_s, u"2"_s, u"big"_s}));
        }
    }

    void normalisation()
    {
        AxisSpec linear;
        linear.min = 10;
        linear.max = 20;
        QCOMPARE(normalise(15, linear), 0.5);
        QCOMPARE(normalise(10, linear), 0.0);
        AxisSpec log;
        log.kind = AxisKind::Log;
        log.min = 1e-4;
        log.max = 1;
        QVERIFY(std::abs(normalise(1e-2, log) - 0.5) < 1e-12);
        QVERIFY(std::isnan(normalise(-1, log)));
        AxisSpec category;
        category.kind = AxisKind::Category;
        category.min = 0;
        category.max = 4;
        QCOMPARE(normalise(1, category), 0.25);
        AxisSpec single;
        single.min = single.max = 3;
        QCOMPARE(normalise(3, single), 0.5);
        QVERIFY(std::isnan(normalise(1, AxisSpec{})));
    }

    void scatterPoints()
    {
        const Experiment e = randomSearchExperiment();
        const QList<Job> jobs = randomSearchJobs(25, 3, 2);
        const JobListSource source(jobs);
        const FieldKey accuracy = resultField(QStringLiteral("accuracy"));
        const ScatterData lr = scatter(source, hyperparameterField(QStringLiteral("learning_rate")), accuracy,
                                       axisHint(e, QStringLiteral("learning_rate")));
        QCOMPARE(lr.xAxis.kind, AxisKind::Log);
        QCOMPARE(lr.points.size(), 25);
        QCOMPARE(lr.skipped, 0);
        for (qsizetype i = 0; i < lr.points.size(); ++i) {
            QCOMPARE(lr.ids[i], jobs[i].id); // only the DONE ones (listed first) have an accuracy
            QCOMPARE(lr.points[i].x(),
                     jobs[i].hyperparameters.value(QStringLiteral("learning_rate")).toDouble());
            QCOMPARE(lr.points[i].y(), jobs[i].results.value(QStringLiteral("accuracy")).toDouble());
        }

        const ScatterData opt = scatter(source, hyperparameterField(QStringLiteral("optimizer")), accuracy,
                                        axisHint(e, QStringLiteral("optimizer")));
        QCOMPARE(opt.xAxis.kind, AxisKind::Category);
        QCOMPARE(opt.xAxis.labels, (QStringList{u"adam"_s, u"sgd"_s, u"rmsprop"_s}));
        for (qsizetype i = 0; i < opt.points.size(); ++i) {
            const double expected = double(i % 3); // fixtures cycle adam, sgd, rmsprop
            QVERIFY(std::abs(opt.points[i].x() - expected) <= 0.3);
            QCOMPARE(opt.points[i].x() - expected, jitter(opt.ids[i])); // stable per job
        }
        // The loss of running jobs is a curve: its last point, coloured by status.
        const ScatterData loss =
            scatter(source, hyperparameterField(QStringLiteral("dropout")),
                    resultField(QStringLiteral("loss")), axisHint(e, QStringLiteral("dropout")));
        QCOMPARE(loss.points.size(), 28);
        QCOMPARE(loss.statuses.count(JobStatus::Running), 3);
        // Text results are skipped, and counted.
        const ScatterData text = scatter(source, hyperparameterField(QStringLiteral("dropout")),
                                         resultField(QStringLiteral("checkpoint")), {});
        QCOMPARE(text.points.size(), 0);
        QCOMPARE(text.skipped, 25);
    }

    void parallel()
    {
        const Experiment e = randomSearchExperiment();
        QList<Job> jobs = {
            makeJob(u"a"_s, JobStatus::Done,
                    {{QStringLiteral("lr"), 1e-4}, {QStringLiteral("opt"), QStringLiteral("sgd")}},
                    {{QStringLiteral("acc"), 0.5}}, 1),
            makeJob(u"b"_s, JobStatus::Done,
                    {{QStringLiteral("lr"), 1e-2}, {QStringLiteral("opt"), QStringLiteral("adam")}},
                    {{QStringLiteral("acc"), 0.9}}, 2),
            makeJob(u"c"_s, JobStatus::Done, {{QStringLiteral("lr"), 1e-3}}, {{QStringLiteral("acc"), 0.7}},
                    3), // no opt
            makeJob(u"d"_s, JobStatus::Running, {{QStringLiteral("lr"), 1e-3}},
                    {{QStringLiteral("acc"), 0.1}}, 4), // not finished
            makeJob(u"e"_s, JobStatus::Done, {{QStringLiteral("lr"), 1e-3}},
                    {{QStringLiteral("acc"), QStringLiteral("?")}}, 5), // skipped
        };
        const JobListSource source(jobs);
        const ParallelData p = parallelCoordinates(
            source, {hyperparameterField(QStringLiteral("lr")), hyperparameterField(QStringLiteral("opt"))},
            {{AxisKind::Log, true, {}},
             {AxisKind::Category, true, {QStringLiteral("adam"), QStringLiteral("sgd")}}},
            resultField(QStringLiteral("acc")));
        QCOMPARE(p.axes.size(), 3);
        QVERIFY(p.axes.last().isResult);
        QCOMPARE(p.lineCount(), 3);
        QCOMPARE(p.ids, (QStringList{u"a"_s, u"b"_s, u"c"_s}));
        QCOMPARE(p.skipped, 1);
        QCOMPARE(p.at(0, 0), 0.0f);
        QCOMPARE(p.at(1, 0), 1.0f);
        QVERIFY(std::abs(p.at(2, 0) - 0.5f) < 1e-6f); // 1e-3 halfway on a log axis
        QCOMPARE(p.at(0, 1), 1.0f);                   // sgd, second of two choices
        QCOMPARE(p.at(1, 1), 0.0f);
        QVERIFY(std::isnan(p.at(2, 1))); // no value: a gap
        QCOMPARE(p.at(0, 2), 0.0f);
        QCOMPARE(p.at(1, 2), 1.0f);
        QVERIFY(std::abs(p.at(2, 2) - 0.5f) < 1e-6f);
        QCOMPARE(p.resultMin, 0.5);
        QCOMPARE(p.resultMax, 0.9);
        Q_UNUSED(e)
    }

    void curveSelection()
    {
        const QList<Job> jobs = randomSearchJobs(25, 3, 2);
        const JobListSource source(jobs);
        const FieldKey loss = resultField(QStringLiteral("loss"));
        const CurveData best = curves(source, loss, Objective::Minimize, 4, {}, false);
        QCOMPARE(best.candidates, 28);
        QCOMPARE(best.curves.size(), 4);
        for (qsizetype i = 1; i < best.curves.size(); ++i)
            QVERIFY(best.curves[i - 1].best <= best.curves[i].best);
        QCOMPARE(best.curves.first().rank, 0);
        QCOMPARE(best.pointCount(), 20);
        QCOMPARE(best.xMax, 5.0);
        // Selected jobs join the best ones, or are the only ones.
        const QSet<QString> selected{QStringLiteral("job025"), QStringLiteral("job009")};
        const CurveData with = curves(source, loss, Objective::Minimize, 4, selected, false);
        QCOMPARE(with.curves.size(), 6);
        const CurveData only = curves(source, loss, Objective::Minimize, 4, selected, true);
        QCOMPARE(only.curves.size(), 2);
        QVERIFY(
            std::all_of(only.curves.begin(), only.curves.end(), [](const Curve &c) { return c.selected; }));
        const auto running = std::find_if(only.curves.begin(), only.curves.end(),
                                          [](const Curve &c) { return c.id == QLatin1String("job025"); });
        QCOMPARE(running->points.size(), 2);
        QCOMPARE(toString(running->status), toString(JobStatus::Running));
        // Scalars are no curves.
        QCOMPARE(curves(source, resultField(QStringLiteral("accuracy")), Objective::Maximize, 10, {}, false)
                     .candidates,
                 0);
    }

    void prunedCurvesAndAshaRungs()
    {
        // ASHA, minSteps 1, eta 2, maximize: rungs at steps 1, 2, 4 (8 is beyond every curve).
        PrunerSpec asha;
        asha.kind = PrunerSpec::Kind::Asha;
        asha.result = u"acc"_s;
        asha.direction = Objective::Maximize;
        asha.minSteps = 1;
        asha.reductionFactor = 2;
        auto curveJob = [](const QString &id, JobStatus status, QCborArray values, qint64 prunedAt = 0) {
            Job j = makeJob(id, status, {}, QCborMap{{u"acc"_s, values}}, 100);
            if (prunedAt > 0)
                j.pruned = PruneInfo{prunedAt, PrunerSpec::Kind::Asha, 0.1, 0.3};
            return j;
        };
        const QList<Job> jobs = {
            curveJob(u"a"_s, JobStatus::Done, {0.3, 0.5, 0.6, 0.7, 0.8}),
            curveJob(u"b"_s, JobStatus::Done, {0.4, 0.6, 0.65, 0.75, 0.85}),
            // Stopped at step 2, yet a value after it was written (an edit): the curve still ends at 2.
            curveJob(u"c"_s, JobStatus::Pruned, {0.1, 0.2, 0.9}, 2),
            curveJob(u"d"_s, JobStatus::Pruned, {0.2}, 1),
            curveJob(u"e"_s, JobStatus::Running, {0.35, 0.55, QCborValue(u"nan"_s), 0.72}),
        };
        const JobListSource source(jobs);
        const FieldKey acc = resultField(u"acc"_s);
        const CurveData data = curves(source, acc, Objective::Maximize, 10, {}, false, asha);
        QCOMPARE(data.candidates, 5);
        auto curveOf = [&data](const QString &id) {
            return *std::find_if(data.curves.begin(), data.curves.end(),
                                 [&id](const Curve &c) { return c.id == id; });
        };
        QCOMPARE(curveOf(u"c"_s).prunedAt, 2);
        QCOMPARE(curveOf(u"c"_s).points, (QList<QPointF>{{1, 0.1}, {2, 0.2}}));
        QCOMPARE(curveOf(u"c"_s).best, 0.2); // not the 0.9 past the stop
        QCOMPARE(curveOf(u"d"_s).prunedAt, 1);
        QCOMPARE(curveOf(u"d"_s).points.size(), 1);
        QCOMPARE(curveOf(u"a"_s).prunedAt, 0);
        QCOMPARE(curveOf(u"e"_s).prunedAt, 0);

        // Rung 1: 0.3 0.4 0.1 0.2 0.35 -> best first 0.4 0.35 0.3 0.2 0.1; 5 / 2 - 1 = 1: 0.35.
        // Rung 2: 0.5 0.6 0.2 0.55 -> 0.6 0.55 0.5 0.2; 4 / 2 - 1 = 1: 0.55.
        // Rung 4: 0.7 0.75 0.72 (e's NaN at 3 is skipped, its 4th value counts) -> 3 / 2 - 1 = 0: 0.75.
        QCOMPARE(data.rungs.size(), 3);
        QCOMPARE(data.rungs[0].step, 1);
        QCOMPARE(data.rungs[0].threshold, 0.35);
        QCOMPARE(data.rungs[0].values, 5);
        QCOMPARE(data.rungs[1].step, 2);
        QCOMPARE(data.rungs[1].threshold, 0.55);
        QCOMPARE(data.rungs[1].values, 4);
        QCOMPARE(data.rungs[2].step, 4);
        QCOMPARE(data.rungs[2].threshold, 0.75);
        QCOMPARE(data.rungs[2].values, 3);

        // Minimizing takes the low end; a larger eta keeps fewer.
        asha.direction = Objective::Minimize;
        asha.reductionFactor = 4;
        const QList<RungMark> low = ashaRungs(asha, data.curves);
        QCOMPARE(low.size(), 2);         // steps 1 and 4
        QCOMPARE(low[0].threshold, 0.1); // 5 / 4 - 1 = 0: the best
        QCOMPARE(low[1].step, 4);
        QCOMPARE(low[1].threshold, 0.7);
        // minSteps 2: rungs at 2 and 8 only reach step 2.
        asha.minSteps = 2;
        QCOMPARE(ashaRungs(asha, data.curves).size(), 1);

        // No rungs for another result, a median pruner or none.
        QVERIFY(curves(source, acc, Objective::Maximize, 10, {}, false).rungs.isEmpty());
        PrunerSpec median = asha;
        median.kind = PrunerSpec::Kind::Median;
        QVERIFY(curves(source, acc, Objective::Maximize, 10, {}, false, median).rungs.isEmpty());
        PrunerSpec other = asha;
        other.result = u"loss"_s;
        QVERIFY(curves(source, acc, Objective::Maximize, 10, {}, false, other).rungs.isEmpty());

        // The model and its snapshot know the step too, and prepare the same chart.
        JobTableModel model;
        fillModel(model, jobs);
        ChartRequest request;
        request.kind = ChartKind::Curves;
        request.result = u"acc"_s;
        request.objective = Objective::Maximize;
        asha.direction = Objective::Maximize;
        asha.reductionFactor = 2;
        asha.minSteps = 1;
        request.pruner = asha;
        const PreparedChart fromModel = prepareChart(ModelJobSource(&model), request);
        comparePrepared(fromModel, prepareChart(SnapshotJobSource(model.snapshot()), request));
        comparePrepared(fromModel, prepareChart(source, request));
        QCOMPARE(fromModel.curves.rungs.size(), 3);
        // The thresholds are inside the vertical range.
        QVERIFY(fromModel.curves.yMin <= 0.1 && fromModel.curves.yMax >= 0.85);
    }

    void lineageGraph()
    {
        const int population = 4, generations = 3;
        const LineageGraph g = lineage(JobListSource(pbtJobs(population, generations)),
                                       resultField(QStringLiteral("best_loss")), Objective::Minimize);
        QCOMPARE(g.nodes.size(), population * generations);
        QCOMPARE(g.members.size(), population);
        QCOMPARE(g.maxGeneration, qint64(generations - 1));
        QCOMPARE(g.edgeCount(), population * (generations - 1));
        int exploits = 0;
        for (int gen = 1; gen < generations; ++gen) {
            for (int m = 0; m < population; ++m)
                exploits += pbtExploits(m, gen) ? 1 : 0;
        }
        QCOMPARE(g.exploitCount, exploits);
        for (const LineageNode &n : g.nodes) {
            const int m = n.id.mid(1, n.id.indexOf(QLatin1Char('g')) - 1).toInt();
            QCOMPARE(n.exploit, pbtExploits(m, int(n.generation)));
        }
        // Lanes: best latest quality first (member 0 has the lowest loss).
        QCOMPARE(g.members.first(), pbtId(0, 0));
        QCOMPARE(g.members.last(), pbtId(3, 0));
        for (const QList<int> &nodes : g.memberNodes) {
            QCOMPARE(nodes.size(), generations);
            for (qsizetype k = 1; k < nodes.size(); ++k)
                QVERIFY(g.nodes[nodes[k - 1]].generation < g.nodes[nodes[k]].generation);
        }
        // m2g1 exploited m3g0 ((2 + 1) % 3 == 0): its ancestry crosses members.
        const QList<int> path = g.ancestry(g.nodeOf(pbtId(2, 2)));
        QStringList ids;
        for (int i : path)
            ids.append(g.nodes[i].id);
        QCOMPARE(ids, (QStringList{pbtId(2, 2), pbtId(2, 1), pbtId(3, 0)}));
        QCOMPARE(g.qualityMin, 1.0 / 3);
    }

    void lineageWithoutMembers()
    {
        // Older documents: no member key; it follows the parents to generation 0.
        QList<Job> jobs = pbtJobs(3, 3);
        for (Job &j : jobs)
            j.member.clear();
        const LineageGraph g =
            lineage(JobListSource(jobs), resultField(QStringLiteral("best_loss")), Objective::Minimize);
        const LineageNode &n = g.nodes[g.nodeOf(pbtId(0, 2))];
        QCOMPARE(n.member, pbtId(0, 0));
        // A job whose parent is not loaded starts a lane of its own.
        QList<Job> partial = pbtJobs(2, 2).mid(2);
        const LineageGraph p =
            lineage(JobListSource(partial), resultField(QStringLiteral("best_loss")), Objective::Minimize);
        QCOMPARE(p.edgeCount(), 0);
        QCOMPARE(p.exploitCount, 0);
        // Jobs without a generation are no PBT jobs.
        QCOMPARE(lineage(JobListSource(randomSearchJobs()), resultField(QStringLiteral("loss")),
                         Objective::Minimize)
                     .nodes.size(),
                 0);
    }

    void ticks()
    {
        QCOMPARE(niceTicks(0, 1, 5), (QList<double>{0, 0.2, 0.4, 0.6, 0.8, 1}));
        const QList<double> t = niceTicks(0.13, 0.87, 4);
        QCOMPARE(t.first(), 0.2);
        QVERIFY(t.last() <= 0.87);
        QCOMPARE(niceTicks(5, 5), (QList<double>{5}));
        QCOMPARE(niceTicks(0, 95, 10).size(), 10);
        QVERIFY(niceTicks(std::nan(""), 1).isEmpty());
    }

    void snapshotPreparesAsTheModel_data()
    {
        QTest::addColumn<bool>("pbt");
        QTest::newRow("random search") << false;
        QTest::newRow("pbt") << true;
    }

    void snapshotPreparesAsTheModel()
    {
        // Every chart kind: prepared from a snapshot, as the worker does,
        // equal to the synchronous path over the model.
        QFETCH(bool, pbt);
        const Experiment e = pbt ? pbtExperiment(6, 5) : randomSearchExperiment();
        JobTableModel model;
        fillModel(model, pbt ? pbtJobs(6, 5) : randomSearchJobs(25, 3, 2));
        const SnapshotJobSource snapshot(model.snapshot());
        const ModelJobSource fromModel(&model);
        QCOMPARE(snapshot.count(), fromModel.count());
        QCOMPARE(snapshot.fields(), fromModel.fields());
        QCOMPARE(snapshot.hyperparameters(3), fromModel.hyperparameters(3));
        QCOMPARE(snapshot.field(resultField(u"nothing"_s)), -1);
        for (const QString &result : {u"loss"_s, pbt ? u"best_loss"_s : u"accuracy"_s}) {
            for (const ChartRequest &request : requestsFor(e, result, {model.rowAt(1).id})) {
                const PreparedChart a = prepareChart(fromModel, request);
                const PreparedChart b = prepareChart(snapshot, request);
                comparePrepared(a, b);
                if (QTest::currentTestFailed())
                    qWarning() << "chart kind" << int(request.kind) << "result" << result;
            }
        }
        // Not empty: the comparison compared something.
        const QList<ChartRequest> requests = requestsFor(e, u"loss"_s);
        QVERIFY(!prepareChart(snapshot, requests[0]).history.points.isEmpty());
        QVERIFY(!prepareChart(snapshot, requests[3]).parallel.ids.isEmpty());
        QVERIFY(!prepareChart(snapshot, requests[4]).curves.curves.isEmpty());
        if (pbt)
            QCOMPARE(prepareChart(snapshot, requestsFor(e, u"best_loss"_s)[6]).lineage.nodes.size(), 30);
    }

    // The panel prepares from a snapshot on LatestOnly's thread: the same data.
    void preparedOnAWorkerThread()
    {
        JobTableModel model;
        fillModel(model, randomSearchJobs(25, 3, 2));
        const ChartRequest request = requestsFor(randomSearchExperiment(), u"accuracy"_s)[3]; // parallel
        const PreparedChart expected = prepareChart(ModelJobSource(&model), request);

        LatestOnly worker(u"chart preparation"_s);
        std::optional<PreparedChart> prepared;
        worker.submit(
            [request, snapshot = model.snapshot()](const LatestOnly::Ticket &) {
                return prepareChart(SnapshotJobSource(snapshot), request);
            },
            [&](const PreparedChart &chart) { prepared = chart; });
        QTRY_VERIFY(prepared);
        comparePrepared(*prepared, expected);
    }

    void modelSourceMatchesJobs()
    {
        // The table model feeds the charts the same data as plain jobs.
        const QList<Job> jobs = randomSearchJobs(25, 3, 2);
        JobTableModel model;
        fillModel(model, jobs);
        QCOMPARE(model.rowCount(), 30);
        const ModelJobSource fromModel(&model);
        const JobListSource fromJobs(jobs);
        const FieldKey accuracy = resultField(QStringLiteral("accuracy"));
        const HistoryData a = history(fromModel, accuracy, Objective::Maximize);
        const HistoryData b = history(fromJobs, accuracy, Objective::Maximize);
        QCOMPARE(a.points, b.points);
        QCOMPARE(a.ids, b.ids);
        QCOMPARE(a.best, b.best);
        QCOMPARE(fromModel.fields(), fromJobs.fields());
        QCOMPARE(fromModel.hyperparameters(0), jobs[0].hyperparameters);
        QCOMPARE(fromModel.field(resultField(QStringLiteral("nothing"))), -1);
        const LineageGraph la = lineage(fromModel, accuracy, Objective::Maximize);
        QCOMPARE(la.nodes.size(), 0);
    }
};

QTEST_GUILESS_MAIN(TestChartData)
#include "tst_chartdata.moc"
