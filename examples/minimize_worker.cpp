// A training program in C++ driven by Schedy: it asks the service for
// hyperparameters, "trains" (minimises a toy function of them), reports the
// loss after every epoch and the final loss, and asks for the next job.
//
//     schedy-example-worker [--config ~/.schedy/client.json] [--create] [--jobs N] EXPERIMENT
//
// With --create, a RandomSearch experiment over x, y, lr and layers is created
// first if it does not exist. Without --jobs it runs until the experiment has
// no job left (a Manual experiment runs out; a RandomSearch one never does).

#include "BlockingClient.h"
#include "ClientConfig.h"
#include "Worker.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTextStream>

#include <cmath>
#include <stdexcept>

using namespace schedy;

namespace {

QTextStream &out()
{
    static QTextStream s(stdout);
    return s;
}

QTextStream &err()
{
    static QTextStream s(stderr);
    return s;
}

Experiment exampleExperiment(const QString &name)
{
    Experiment e;
    e.name = name;
    e.scheduler.kind = Scheduler::Kind::RandomSearch;
    e.scheduler.distributions = {
        {QStringLiteral("x"), Distribution::uniform(-5.0, 5.0)},
        {QStringLiteral("y"), Distribution::normal(0.0, 3.0)},
        {QStringLiteral("lr"), Distribution::logUniform(1e-3, 0.5)},
        {QStringLiteral("epochs"), Distribution::choice(QCborArray{5, 10, 20})},
    };
    return e;
}

double number(const QCborMap &hp, const QString &name, double fallback)
{
    const QCborValue v = hp.value(name);
    if (v.isInteger())
        return double(v.toInteger());
    return v.isDouble() ? v.toDouble() : fallback;
}

// The "model": gradient descent on f(x, y) = (x - 1)^2 + 10 (y + 2)^2 + 3,
// starting from the sampled point with the sampled learning rate. The minimum
// (3) is at (1, -2); a learning rate above 0.1 diverges on y.
void train(WorkerJob &job)
{
    const QCborMap &hp = job.hyperparameters();
    double x = number(hp, QStringLiteral("x"), 0.0);
    double y = number(hp, QStringLiteral("y"), 0.0);
    const double lr = number(hp, QStringLiteral("lr"), 0.01);
    const int epochs = int(number(hp, QStringLiteral("epochs"), 10));
    const auto loss = [&] {
        return (x - 1) * (x - 1) + 10 * (y + 2) * (y + 2) + 3;
    };

    QCborArray curve;
    for (int epoch = 1; epoch <= epochs; ++epoch) {
        for (int step = 0; step < 10; ++step) {
            x -= lr * 2 * (x - 1);
            y -= lr * 20 * (y + 2);
        }
        const double l = loss();
        if (!std::isfinite(l) || l > 1e12)
            throw std::runtime_error("the loss diverged"); // the job is marked CRASHED
        curve.append(l);
        // One intermediate result per epoch; the job stays RUNNING.
        job.setResult(QStringLiteral("loss"), curve);
        job.setResult(QStringLiteral("epoch"), epoch);
        if (!job.report()) {
            if (job.stopped())
                return; // pruned by the server, or lost: the job is no longer ours
            throw std::runtime_error("could not report the epoch's loss");
        }
    }
    job.setResult(QStringLiteral("final_loss"), loss());
    job.setResult(QStringLiteral("x_final"), x);
    job.setResult(QStringLiteral("y_final"), y);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("schedy-example-worker"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Minimises a toy function with hyperparameters from Schedy."));
    parser.addHelpOption();
    const QCommandLineOption configOption(
        QStringLiteral("config"),
        QStringLiteral("Client config (default: %1).").arg(ClientConfig::defaultPath()),
        QStringLiteral("path"), ClientConfig::defaultPath());
    const QCommandLineOption createOption(
        QStringLiteral("create"), QStringLiteral("Create a RandomSearch experiment if it does not exist."));
    const QCommandLineOption jobsOption(QStringLiteral("jobs"), QStringLiteral("Stop after this many jobs."),
                                        QStringLiteral("n"), QStringLiteral("0"));
    parser.addOptions({configOption, createOption, jobsOption});
    parser.addPositionalArgument(QStringLiteral("experiment"), QStringLiteral("Name of the experiment."));
    parser.process(app);
    if (parser.positionalArguments().size() != 1)
        parser.showHelp(2);
    const QString experiment = parser.positionalArguments().constFirst();
    bool numberOk = false;
    const int maxJobs = parser.value(jobsOption).toInt(&numberOk);
    if (!numberOk || maxJobs < 0) {
        err() << "--jobs: expected a number >= 0\n";
        return 2;
    }

    QString error;
    const auto config = ClientConfig::load(parser.value(configOption), &error);
    if (!config) {
        err() << error << '\n';
        return 2;
    }

    Worker worker(*config, experiment);
    if (parser.isSet(createOption)) {
        const auto created = worker.client().createExperiment(exampleExperiment(experiment));
        if (!created && worker.client().lastError().kind != ClientError::Kind::ResourceExists) {
            err() << "cannot create " << experiment << ": " << worker.client().lastError().toString() << '\n';
            return 1;
        }
    }

    int done = 0;
    int crashed = 0;
    double best = qInf();
    for (;;) {
        if (maxJobs > 0 && done + crashed >= maxJobs)
            break;
        try {
            bool ran = worker.runNext([&](WorkerJob &job) {
                out() << "job " << job.id() << ": training\n";
                out().flush();
                train(job);
                const double final = job.results().value(QStringLiteral("final_loss")).toDouble();
                best = std::min(best, final);
                out() << "job " << job.id() << ": final loss " << final << '\n';
            });
            if (!ran)
                break;
            ++done;
        } catch (const std::exception &e) {
            // runNext has already marked the job CRASHED; carry on with the next.
            ++crashed;
            out() << "job crashed: " << e.what() << '\n';
        }
    }

    const ClientError &last = worker.lastError();
    out() << done << " job(s) done, " << crashed << " crashed";
    if (std::isfinite(best))
        out() << ", best final loss " << best;
    out() << '\n';
    if (last.isError() && last.kind != ClientError::Kind::NoJob) {
        err() << "stopped: " << last.toString() << '\n';
        return 1;
    }
    return 0;
}
