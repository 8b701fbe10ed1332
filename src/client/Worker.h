#pragma once

#include "BlockingClient.h"

#include <functional>

namespace schedy {

// One claimed job while the training code runs.
class WorkerJob
{
public:
    const Job &job() const { return m_job; }
    const QString &id() const { return m_job.id; }
    const QCborMap &hyperparameters() const { return m_job.hyperparameters; }
    QCborMap &results() { return m_job.results; }
    void setResult(const QString &name, const QCborValue &value) { m_job.results.insert(name, value); }
    // Sends the results now (e.g. once per epoch); the job stays RUNNING.
    bool report();

private:
    friend class Worker;
    WorkerJob(BlockingClient &client, Job job)
        : m_client(client)
        , m_job(std::move(job))
    {}
    bool put(JobStatus status);
    BlockingClient &m_client;
    Job m_job;
};

// The C++ counterpart of the original `with experiment.next_job() as job:`.
//
//     schedy::Worker worker(config, "MNIST");
//     while (worker.runNext([](schedy::WorkerJob &job) {
//         job.setResult("loss", train(job.hyperparameters()));
//     })) {}
//
// runNext() pulls a job, claims it (asking again when another worker won it),
// runs the body and marks the job DONE, or CRASHED when the body throws (the
// exception is then rethrown). It returns false when there is no job.
class Worker
{
public:
    Worker(const ClientConfig &config, QString experiment);
    Worker(Client *client, QString experiment);

    bool runNext(const std::function<void(WorkerJob &)> &body);
    // Why the last runNext() returned false (NoJob when the experiment has nothing to do).
    const ClientError &lastError() const { return m_client.lastError(); }
    BlockingClient &client() { return m_client; }
    int maxClaimAttempts = 100;

private:
    BlockingClient m_client;
    QString m_experiment;
};

} // namespace schedy
