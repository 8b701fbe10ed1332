#pragma once

#include "ChartData.h"
#include "JobTableModel.h"
#include "Types.h"

#include <QCborArray>
#include <QCborMap>

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

} // namespace schedy::test
