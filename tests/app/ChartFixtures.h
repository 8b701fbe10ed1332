#pragma once

#include "ChartData.h"
#include "JobTableModel.h"
#include "Types.h"

#include <QCborArray>
#include <QCborMap>
#include <QtTest>

#include <cmath>
#include <cstring>

// QTest output for the enums compared below (found by argument-dependent lookup).
namespace schedy {
inline char *toString(Objective o)
{
    return qstrdup(o == Objective::Minimize ? "Minimize" : "Maximize");
}
namespace charts {
inline char *toString(AxisKind k)
{
    return qstrdup(k == AxisKind::Log ? "Log" : k == AxisKind::Category ? "Category" : "Linear");
}
} // namespace charts
} // namespace schedy

// Known experiments for the chart tests: built as Job values, no server.
namespace schedy::test {

inline Job makeJob(const QString &id, JobStatus status, const QCborMap &hyperparameters,
                   const QCborMap &results, double modifiedAt, double createdAt = 0)
{
    Job j;
    j.id = id;
    j.experiment = QStringLiteral("charts");
    j.status = status;
    j.hyperparameters = hyperparameters;
    j.results = results;
    j.createdAt = createdAt > 0 ? createdAt : modifiedAt - 10;
    j.modifiedAt = modifiedAt;
    return j;
}

inline Experiment randomSearchExperiment()
{
    Experiment e;
    e.name = QStringLiteral("charts");
    e.scheduler.kind = Scheduler::Kind::RandomSearch;
    e.scheduler.distributions = {
        {QStringLiteral("learning_rate"), Distribution::logUniform(1e-5, 0.3)},
        {QStringLiteral("dropout"), Distribution::uniform(0.0, 0.7)},
        {QStringLiteral("layers"), Distribution::choice(QCborArray{1, 2, 3, 4, 5})},
        {QStringLiteral("optimizer"),
         Distribution::choice(
             QCborArray{QStringLiteral("adam"), QStringLiteral("sgd"), QStringLiteral("rmsprop")})},
        {QStringLiteral("batch_size"), Distribution::constantValue(64)}};
    return e;
}

// `done` DONE jobs with a 5-point loss curve, accuracy and a checkpoint path;
// `running` RUNNING jobs with a partial curve only; `queued` without results.
inline QList<Job> randomSearchJobs(int done = 25, int running = 3, int queued = 2)
{
    static const char *const optimizers[] = {"adam", "sgd", "rmsprop"};
    QList<Job> jobs;
    const int total = done + running + queued;
    for (int i = 0; i < total; ++i) {
        const double lr = 1e-5 * std::pow(10.0, (i * 7 % 40) / 10.0);
        QCborMap hp{{QStringLiteral("learning_rate"), lr},
                    {QStringLiteral("dropout"), (i * 13 % 70) / 100.0},
                    {QStringLiteral("layers"), qint64(1 + i % 5)},
                    {QStringLiteral("optimizer"), QString::fromLatin1(optimizers[i % 3])},
                    {QStringLiteral("batch_size"), 64}};
        QCborMap results;
        JobStatus status = JobStatus::Queued;
        if (i < done) {
            status = JobStatus::Done;
            QCborArray loss;
            for (int e = 0; e < 5; ++e)
                loss.append(1.0 + (i % 10) * 0.1 - e * 0.15);
            results.insert(QStringLiteral("loss"), loss);
            results.insert(QStringLiteral("accuracy"), 0.5 + (i % 10) * 0.04);
            results.insert(QStringLiteral("checkpoint"), QStringLiteral("models/%1.pt").arg(i));
        } else if (i < done + running) {
            status = JobStatus::Running;
            results.insert(QStringLiteral("loss"), QCborArray{1.5, 1.2});
        }
        jobs.append(makeJob(QStringLiteral("job%1").arg(i, 3, 10, QLatin1Char('0')), status, hp, results,
                            1000.0 + i * 10, 900.0 + i));
    }
    return jobs;
}

inline Experiment pbtExperiment(int population, int generations)
{
    Experiment e;
    e.name = QStringLiteral("pbt");
    e.scheduler.kind = Scheduler::Kind::Pbt;
    e.scheduler.pbt.objective = Objective::Minimize;
    e.scheduler.pbt.qualityResultName = QStringLiteral("best_loss");
    e.scheduler.pbt.numParallel = population;
    e.scheduler.pbt.maxGenerations = generations;
    e.scheduler.pbt.init = {{QStringLiteral("learning_rate"), Distribution::logUniform(1e-4, 0.1)},
                            {QStringLiteral("layers"), Distribution::choice(QCborArray{2, 3, 4})}};
    e.scheduler.pbt.explore = {{QStringLiteral("learning_rate"), 0.8, 1.25}};
    return e;
}

inline QString pbtId(int member, int generation)
{
    return QStringLiteral("m%1g%2").arg(member).arg(generation);
}

// Member m at generation g >= 1 exploits (copies member m+1) when (m + g) % 3 == 0.
inline bool pbtExploits(int member, int generation)
{
    return generation >= 1 && (member + generation) % 3 == 0;
}

inline QList<Job> pbtJobs(int population, int generations)
{
    QList<Job> jobs;
    for (int g = 0; g < generations; ++g) {
        for (int m = 0; m < population; ++m) {
            Job j =
                makeJob(pbtId(m, g), JobStatus::Done,
                        QCborMap{{QStringLiteral("learning_rate"), 0.001 * (m + 1) * (1 + 0.1 * g)},
                                 {QStringLiteral("layers"), qint64(2 + m % 3)}},
                        QCborMap{{QStringLiteral("best_loss"), 1.0 / (1 + g) + 0.01 * m},
                                 {QStringLiteral("loss"), QCborArray{1.0, 0.8, 1.0 / (1 + g) + 0.01 * m}}},
                        2000.0 + g * 100 + m);
            j.generation = g;
            j.member = pbtId(m, 0);
            if (g > 0)
                j.parent = pbtExploits(m, g) ? pbtId((m + 1) % population, g - 1) : pbtId(m, g - 1);
            jobs.append(j);
        }
    }
    return jobs;
}

// Fills a model without a server: oldest first, so that additions append.
inline void fillModel(JobTableModel &model, const QList<Job> &jobs)
{
    model.sort(JobTableModel::CreatedColumn, Qt::AscendingOrder);
    model.applyChanges(jobs);
}

// Prepared chart data compared field by field (NaN equals NaN): what a
// worker prepared from a snapshot against what the model gave in place.
inline bool sameNumber(double a, double b)
{
    return (std::isnan(a) && std::isnan(b)) || a == b;
}

inline void compareAxis(const charts::AxisSpec &a, const charts::AxisSpec &b)
{
    QCOMPARE(a.kind, b.kind);
    QCOMPARE(a.labels, b.labels);
    QCOMPARE(a.categories, b.categories);
    QCOMPARE(a.categoryIndex, b.categoryIndex);
    QVERIFY(sameNumber(a.min, b.min));
    QVERIFY(sameNumber(a.max, b.max));
}

inline void comparePrepared(const charts::PreparedChart &a, const charts::PreparedChart &b)
{
    using namespace charts;
    QCOMPARE(int(a.request.kind), int(b.request.kind));
    switch (a.request.kind) {
    case ChartKind::History:
        QCOMPARE(a.history.points, b.history.points);
        QCOMPARE(a.history.ids, b.history.ids);
        QCOMPARE(a.history.best, b.history.best);
        QCOMPARE(a.history.bestId, b.history.bestId);
        QCOMPARE(a.history.skipped, b.history.skipped);
        break;
    case ChartKind::Scatter:
        compareAxis(a.scatter.xAxis, b.scatter.xAxis);
        QCOMPARE(a.scatter.points, b.scatter.points);
        QCOMPARE(a.scatter.ids, b.scatter.ids);
        QVERIFY(a.scatter.statuses == b.scatter.statuses);
        QCOMPARE(a.scatter.skipped, b.scatter.skipped);
        break;
    case ChartKind::Parallel:
        QCOMPARE(a.parallel.axes.size(), b.parallel.axes.size());
        for (qsizetype i = 0; i < a.parallel.axes.size(); ++i) {
            QCOMPARE(a.parallel.axes[i].name, b.parallel.axes[i].name);
            QCOMPARE(a.parallel.axes[i].isResult, b.parallel.axes[i].isResult);
            compareAxis(a.parallel.axes[i].spec, b.parallel.axes[i].spec);
            if (QTest::currentTestFailed())
                return;
        }
        // Bit for bit: NaN marks a missing value.
        QCOMPARE(a.parallel.positions.size(), b.parallel.positions.size());
        QVERIFY(std::memcmp(a.parallel.positions.constData(), b.parallel.positions.constData(),
                            sizeof(float) * size_t(a.parallel.positions.size())) == 0);
        QCOMPARE(a.parallel.ids, b.parallel.ids);
        QCOMPARE(a.parallel.results, b.parallel.results);
        QVERIFY(sameNumber(a.parallel.resultMin, b.parallel.resultMin));
        QVERIFY(sameNumber(a.parallel.resultMax, b.parallel.resultMax));
        QCOMPARE(a.parallel.skipped, b.parallel.skipped);
        break;
    case ChartKind::Curves:
        QCOMPARE(a.curves.curves.size(), b.curves.curves.size());
        for (qsizetype i = 0; i < a.curves.curves.size(); ++i) {
            const Curve &x = a.curves.curves[i], &y = b.curves.curves[i];
            QCOMPARE(x.id, y.id);
            QCOMPARE(x.points, y.points);
            QVERIFY(sameNumber(x.best, y.best));
            QCOMPARE(int(x.status), int(y.status));
            QCOMPARE(x.rank, y.rank);
            QCOMPARE(x.selected, y.selected);
            QCOMPARE(x.prunedAt, y.prunedAt);
        }
        QCOMPARE(a.curves.rungs.size(), b.curves.rungs.size());
        for (qsizetype i = 0; i < a.curves.rungs.size(); ++i) {
            QCOMPARE(a.curves.rungs[i].step, b.curves.rungs[i].step);
            QCOMPARE(a.curves.rungs[i].threshold, b.curves.rungs[i].threshold);
            QCOMPARE(a.curves.rungs[i].values, b.curves.rungs[i].values);
        }
        QCOMPARE(a.curves.candidates, b.curves.candidates);
        QCOMPARE(a.curves.xMax, b.curves.xMax);
        QVERIFY(sameNumber(a.curves.yMin, b.curves.yMin));
        QVERIFY(sameNumber(a.curves.yMax, b.curves.yMax));
        break;
    case ChartKind::Lineage:
        QCOMPARE(a.lineage.nodes.size(), b.lineage.nodes.size());
        for (qsizetype i = 0; i < a.lineage.nodes.size(); ++i) {
            const LineageNode &x = a.lineage.nodes[i], &y = b.lineage.nodes[i];
            QCOMPARE(x.id, y.id);
            QCOMPARE(x.member, y.member);
            QCOMPARE(x.parent, y.parent);
            QCOMPARE(x.generation, y.generation);
            QVERIFY(sameNumber(x.quality, y.quality));
            QCOMPARE(int(x.status), int(y.status));
            QCOMPARE(x.parentNode, y.parentNode);
            QCOMPARE(x.memberIndex, y.memberIndex);
            QCOMPARE(x.exploit, y.exploit);
        }
        QCOMPARE(a.lineage.members, b.lineage.members);
        QCOMPARE(a.lineage.memberNodes, b.lineage.memberNodes);
        QCOMPARE(a.lineage.maxGeneration, b.lineage.maxGeneration);
        QVERIFY(sameNumber(a.lineage.qualityMin, b.lineage.qualityMin));
        QVERIFY(sameNumber(a.lineage.qualityMax, b.lineage.qualityMax));
        QCOMPARE(a.lineage.exploitCount, b.lineage.exploitCount);
        QCOMPARE(a.lineage.nodeOfId, b.lineage.nodeOfId);
        break;
    }
}

// One request per chart kind for the random-search and PBT fixtures.
inline QList<charts::ChartRequest> requestsFor(const Experiment &experiment, const QString &result,
                                               const QSet<QString> &selected = {})
{
    using namespace charts;
    QList<ChartRequest> requests;
    for (ChartKind kind : {ChartKind::History, ChartKind::Scatter, ChartKind::Scatter, ChartKind::Parallel,
                           ChartKind::Curves, ChartKind::Curves, ChartKind::Lineage}) {
        ChartRequest r;
        r.kind = kind;
        r.result = result;
        r.objective = objectiveFor(experiment, result);
        r.hyperparameter =
            requests.size() == 1 ? QStringLiteral("learning_rate") : QStringLiteral("optimizer");
        r.hint = axisHint(experiment, r.hyperparameter);
        for (const QString &hp : experimentHyperparameters(experiment)) {
            r.fields.append(hyperparameterField(hp));
            r.hints.append(axisHint(experiment, hp));
        }
        r.bestCount = 3;
        r.selected = selected;
        r.selectedOnly = kind == ChartKind::Curves && requests.size() == 5;
        requests.append(r);
    }
    return requests;
}

} // namespace schedy::test
