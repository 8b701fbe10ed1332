// The code samples of docs/libschedy.md, compiled and run: every function
// between "guide:" markers stands verbatim in the guide (the test
// examples_guide_in_sync checks it), and main() runs them all, in order,
// against a server.
//
//     schedy-example-guide [--config FILE] [--password PASSWORD] EXPERIMENT
//
// EXPERIMENT is created as a Manual experiment if it does not exist, and jobs
// are added to it. With --password (the password of the config's user), the
// gen-token flow first replaces the config's API token with a new one: the
// previous token stops working.

#include "BlockingClient.h"
#include "Client.h"
#include "ClientConfig.h"
#include "JobFetcher.h"
#include "Worker.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QEventLoop>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>

namespace {

// guide: configuration
// From a file: ~/.schedy/client.json unless another path is given.
std::optional<schedy::ClientConfig> loadConfig(const QString &path)
{
    QString error;
    auto config =
        schedy::ClientConfig::load(path.isEmpty() ? schedy::ClientConfig::defaultPath() : path, &error);
    if (!config)
        qWarning("%s", qPrintable(error)); // names the file and what is wrong with it
    return config;
}

// In code: an API token, or the password itself (TokenType::Password).
schedy::ClientConfig configFor(const QString &root, const QString &email, const QString &apiToken)
{
    schedy::ClientConfig config;
    config.root = schedy::normalizedRoot(root); // adds the final '/'
    config.email = email;
    config.token = apiToken;
    config.tokenType = schedy::ClientConfig::TokenType::ApiToken;
    return config;
}
// guide: end

// guide: gen-token
// What `schedy gen-token` does: log in with the password, ask for a new API
// token (the previous one stops working) and save the config, readable by
// its owner only.
bool generateToken(const QString &root, const QString &email, const QString &password, const QString &path)
{
    schedy::ClientError error;
    const auto config = schedy::BlockingClient::generateToken(root, email, password, &error);
    if (!config) {
        qWarning("cannot get a token: %s", qPrintable(error.toString()));
        return false;
    }
    QString saveError;
    if (!config->save(path, &saveError)) {
        qWarning("%s", qPrintable(saveError));
        return false;
    }
    return true;
}
// guide: end

// guide: call
// Asks for an experiment and returns at once; the lambda runs when the
// answer is there. The call deletes itself after finished().
void printExperiment(schedy::Client *client, const QString &name, std::function<void()> then)
{
    schedy::Call<schedy::Experiment> *call = client->experiment(name);
    QObject::connect(call, &schedy::CallBase::finished, client, [call, then] {
        if (call->ok()) {
            const schedy::Experiment &e = call->value();
            qInfo("%s is %s", qPrintable(e.name), qPrintable(schedy::toString(e.status)));
        } else {
            qWarning("%s", qPrintable(call->error().toString()));
        }
        then();
    });
}
// guide: end

// guide: chain
// Claims the next job: nextjob/, then PUT RUNNING with the job's ETag, so
// that of two workers handed the same job only one gets it.
void claimNextJob(schedy::Client *client, const QString &experiment,
                  std::function<void(std::optional<schedy::Job>)> claimed)
{
    auto *next = client->nextJob(experiment);
    QObject::connect(next, &schedy::CallBase::finished, client, [=] {
        if (!next->ok()) { // NoJob: nothing to do now
            claimed(std::nullopt);
            return;
        }
        const schedy::Job job = next->value();
        schedy::JobWrite running;
        running.status = schedy::JobStatus::Running;
        running.hyperparameters = job.hyperparameters;
        running.results = job.results;
        auto *put = client->putJob(experiment, job.id, running, schedy::WriteCondition::IfMatch, job.etag);
        QObject::connect(put, &schedy::CallBase::finished, client, [=] {
            // UnsafeUpdate (412): another worker claimed it first.
            claimed(put->ok() ? std::optional<schedy::Job>(put->value()) : std::nullopt);
        });
    });
}
// guide: end

// guide: own
// A call kept (no auto-delete) can be read after finished() and cancelled
// before: abort() emits finished() at once, with ClientError::Kind::Aborted.
void listThenCancel(schedy::Client *client, const QString &experiment)
{
    std::unique_ptr<schedy::Call<schedy::JobPage>> call(client->jobs(experiment));
    call->setAutoDelete(false);
    call->abort(); // e.g. the window that wanted the jobs was closed
    qInfo("%s", qPrintable(call->error().toString()));
} // deleting an unfinished call cancels it too, without finished()
// guide: end

// guide: errors
// What a tool might do about each kind of error.
QString advice(const schedy::ClientError &error)
{
    using Kind = schedy::ClientError::Kind;
    switch (error.kind) {
    case Kind::None:
        return QStringLiteral("no error");
    case Kind::Authentication:
        return QStringLiteral("check the email and token (schedy gen-token)");
    case Kind::Reauthenticate:
        return QStringLiteral("the new bearer was refused too: log in again later");
    case Kind::UnsafeUpdate:
        return QStringLiteral("changed by someone else: read it again, then decide");
    case Kind::ResourceExists:
        return QStringLiteral("the name is taken");
    case Kind::NoJob:
        return QStringLiteral("nothing to do now");
    case Kind::ClientRequest:
        return QStringLiteral("fix the request: ") + error.message;
    case Kind::Server:
        return QStringLiteral("the server failed; try again later");
    case Kind::UnhandledResponse:
        return QStringLiteral("not a Schedy server, or a broken answer");
    case Kind::Network:
        return QStringLiteral("server unreachable");
    case Kind::Timeout:
        return QStringLiteral("no answer in time");
    case Kind::Aborted:
        return QStringLiteral("cancelled");
    }
    return {};
}
// guide: end

// guide: retries
// Fewer, shorter retries for a tool that must not hang on a dead server.
void failFast(schedy::Client *client)
{
    schedy::RetryPolicy policy; // 10 attempts, 0.4 s doubling up to 30 s, +-25 %, 30 s each
    policy.maxAttempts = 3;
    policy.baseDelay = 0.2;
    policy.timeoutMs = 5000;
    client->setRetryPolicy(policy);
}
// guide: end

// guide: fetcher
// Reads a listing page by page, as a model's fetchMore() would; the page
// after the one delivered is usually read ahead already.
void readPages(schedy::JobFetcher *fetcher, std::function<void(qint64 jobs)> done)
{
    auto count = std::make_shared<qint64>(0);
    QObject::connect(fetcher, &schedy::JobFetcher::pageFetched, fetcher,
                     [=](const QList<schedy::Job> &page, bool atEnd) {
                         *count += page.size();
                         if (atEnd)
                             done(*count);
                         else
                             fetcher->fetchMore(); // never answered from inside this call
                     });
    QObject::connect(fetcher, &schedy::JobFetcher::failed, fetcher, [=](const schedy::ClientError &error) {
        qWarning("%s", qPrintable(error.toString()));
        done(-1);
    });
    fetcher->fetchMore();
}

schedy::JobListQuery finishedByLoss()
{
    schedy::JobListQuery query;
    query.limit = 2; // jobs per page, tiny to show the paging (0: the server's default)
    query.statuses = {schedy::JobStatus::Done};
    query.sort = QStringLiteral("results.final_loss");
    return query;
}
// guide: end

// guide: mirror
// A local copy of an experiment's jobs: all of them once, then only what
// changed. The margin re-reads the last seconds: with several server
// processes, a change stamped a little earlier may be committed later.
struct JobMirror
{
    QHash<QString, schedy::Job> jobs;
    double newest = 0; // the latest modifiedAt seen (server time)

    void merge(const QList<schedy::Job> &changed)
    {
        for (const schedy::Job &job : changed) {
            jobs.insert(job.id, job);
            newest = std::max(newest, job.modifiedAt.value_or(0));
        }
    }

    void refresh(schedy::Client *client, const QString &experiment, std::function<void()> then)
    {
        auto *call =
            newest > 0 ? client->changesSince(experiment, newest - 5.0) : client->allJobs(experiment);
        QObject::connect(call, &schedy::CallBase::finished, client, [this, call, then] {
            if (call->ok())
                merge(call->value().items);
            then();
        });
    }
};
// guide: end

// guide: blocking
// The same calls, waited for: for scripts and worker programs without a user
// interface. Each method runs a local event loop until its call is finished.
bool addJobs(const schedy::ClientConfig &config, const QString &experiment, int count)
{
    schedy::BlockingClient api(config);
    schedy::Experiment e;
    e.name = experiment; // a Manual experiment: jobs are added by hand
    if (!api.createExperiment(e) && api.lastError().kind != schedy::ClientError::Kind::ResourceExists) {
        qWarning("%s", qPrintable(api.lastError().toString()));
        return false;
    }
    for (int i = 0; i < count; ++i) {
        schedy::JobWrite job;
        job.hyperparameters.insert(QStringLiteral("x"), i - 2.0);
        if (!api.addJob(experiment, job)) {
            qWarning("%s", qPrintable(api.lastError().toString()));
            return false;
        }
    }
    return true;
}
// guide: end

// guide: pruned
// Stands in for one epoch of training.
double trainOneEpoch(const QCborMap &hyperparameters)
{
    return hyperparameters.value(QStringLiteral("lr")).toDouble(0.1);
}

// Epochs until the server stops the job: pruned (its curve is worse than the
// others'), or lost (its lease expired). Either way it is no longer ours.
bool trainUntilStopped(schedy::Worker &worker)
{
    const bool ran = worker.runNext([](schedy::WorkerJob &job) {
        for (int epoch = 1; epoch <= 100 && !job.stopped(); ++epoch) {
            job.setResult(QStringLiteral("loss"), trainOneEpoch(job.hyperparameters()));
            job.report(); // false once the server pruned the job: stopped() says so
        }
    });
    return ran && worker.lastOutcome() == schedy::JobOutcome::Pruned;
}

// guide: worker
// A training program, as examples/minimize_worker.cpp is: runNext() asks for
// a job, claims it, runs the body and marks the job DONE, or CRASHED when the
// body throws (the exception goes on to the caller). False: no job left.
int train(const schedy::ClientConfig &config, const QString &experiment)
{
    schedy::Worker worker(config, experiment);
    int done = 0;
    for (;;) {
        try {
            const bool ran = worker.runNext([](schedy::WorkerJob &job) {
                double x = job.hyperparameters().value(QStringLiteral("x")).toDouble();
                const double lr = job.hyperparameters().value(QStringLiteral("lr")).toDouble(0.1);
                QCborArray curve;
                for (int epoch = 1; epoch <= 3; ++epoch) {
                    x -= lr * 2 * (x - 1); // a step of gradient descent on (x - 1)^2
                    const double loss = (x - 1) * (x - 1);
                    if (!std::isfinite(loss))
                        throw std::runtime_error("the loss diverged");
                    curve.append(loss);
                    job.setResult(QStringLiteral("loss"), curve);
                    if (!job.report()) { // sent now; the job stays RUNNING
                        if (job.stopped())
                            return; // the server pruned it, or it was lost: leave it
                        throw std::runtime_error("could not report the loss");
                    }
                }
                job.setResult(QStringLiteral("final_loss"), curve.last());
            });
            if (!ran)
                break; // lastError() says why: NoJob when nothing is left
            ++done;
        } catch (const std::exception &e) {
            qWarning("job crashed: %s", e.what()); // it is CRASHED already; go on
        }
    }
    if (worker.lastError().kind != schedy::ClientError::Kind::NoJob)
        qWarning("stopped: %s", qPrintable(worker.lastError().toString()));
    return done;
}
// guide: end

// Runs `start` and waits until it calls the function it is given.
void runAndWait(const std::function<void(std::function<void()>)> &start)
{
    QEventLoop loop;
    bool finished = false;
    start([&] {
        finished = true;
        loop.quit();
    });
    if (!finished)
        loop.exec();
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("schedy-example-guide"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Runs the samples of docs/libschedy.md."));
    parser.addHelpOption();
    const QCommandLineOption configOption(QStringLiteral("config"), QStringLiteral("Client config."),
                                          QStringLiteral("path"));
    const QCommandLineOption passwordOption(
        QStringLiteral("password"), QStringLiteral("The user's password: generate a new token first."),
        QStringLiteral("password"));
    parser.addOptions({configOption, passwordOption});
    parser.addPositionalArgument(QStringLiteral("experiment"), QStringLiteral("Name of the experiment."));
    parser.process(app);
    if (parser.positionalArguments().size() != 1)
        parser.showHelp(2);
    const QString experiment = parser.positionalArguments().constFirst();
    const QString path = parser.value(configOption);

    auto config = loadConfig(path);
    if (!config)
        return 2;
    if (parser.isSet(passwordOption)) {
        const QString target = path.isEmpty() ? schedy::ClientConfig::defaultPath() : path;
        if (!generateToken(config->root, config->email, parser.value(passwordOption), target))
            return 1;
        config = loadConfig(target);
        if (!config)
            return 2;
    }
    const schedy::ClientConfig sameInCode = configFor(config->root, config->email, config->token);
    if (config->tokenType == schedy::ClientConfig::TokenType::ApiToken && !(sameInCode == *config))
        return 1;

    if (!addJobs(*config, experiment, 5))
        return 1;

    schedy::Client client(*config);
    failFast(&client);
    runAndWait([&](std::function<void()> done) { printExperiment(&client, experiment, done); });
    listThenCancel(&client, experiment);

    // One job claimed the asynchronous way and finished with the blocking client.
    std::optional<schedy::Job> claimed;
    runAndWait([&](std::function<void()> done) {
        claimNextJob(&client, experiment, [&claimed, done](std::optional<schedy::Job> job) {
            claimed = std::move(job);
            done();
        });
    });
    if (!claimed) {
        qWarning("no job claimed");
        return 1;
    }
    schedy::BlockingClient blocking(&client);
    schedy::JobWrite finished;
    finished.status = schedy::JobStatus::Done;
    finished.hyperparameters = claimed->hyperparameters;
    finished.results.insert(QStringLiteral("final_loss"), 0.5);
    if (!blocking.putJob(experiment, claimed->id, finished, schedy::WriteCondition::IfMatch, claimed->etag)) {
        qWarning("%s", qPrintable(advice(blocking.lastError())));
        return 1;
    }

    const int trained = train(*config, experiment);
    qInfo("trained %d job(s)", trained);
    schedy::Worker pruned(*config, experiment);
    if (trainUntilStopped(pruned)) // nothing left by now; a pruned search would stop some
        qInfo("a job was pruned");

    schedy::JobFetcher fetcher(&client, experiment, finishedByLoss());
    qint64 listed = 0;
    runAndWait([&](std::function<void()> done) {
        readPages(&fetcher, [&listed, done](qint64 jobs) {
            listed = jobs;
            done();
        });
    });
    qInfo("%lld finished job(s), page by page", listed);

    JobMirror mirror;
    runAndWait([&](std::function<void()> done) { mirror.refresh(&client, experiment, done); });
    runAndWait([&](std::function<void()> done) { mirror.refresh(&client, experiment, done); });
    qInfo("%lld job(s) mirrored", qint64(mirror.jobs.size()));
    return listed >= trained + 1 && mirror.jobs.size() >= listed ? 0 : 1;
}
