#pragma once

#include "BlockingClient.h"

#include <functional>
#include <memory>
#include <optional>

namespace schedy {

class Heartbeat;

// How a job handed to Worker::runNext() ended.
enum class JobOutcome {
    Done,    // the body returned: the job is DONE
    Crashed, // the body threw: the job is CRASHED (the exception is rethrown)
    Pruned,  // the server's pruner stopped it (docs/protocol.md 8.2): the job is PRUNED
    Lost,    // its lease expired (8.3), or it was changed or deleted elsewhere: no longer ours
    Failed,  // a request failed: Worker::lastError()
};

// One claimed job while the training code runs.
class WorkerJob
{
public:
    ~WorkerJob();
    const Job &job() const { return m_job; }
    const QString &id() const { return m_job.id; }
    const QCborMap &hyperparameters() const { return m_job.hyperparameters; }
    QCborMap &results() { return m_job.results; }
    void setResult(const QString &name, const QCborValue &value) { m_job.results.insert(name, value); }
    // Sends the results now (e.g. once per epoch); the job stays RUNNING. False when they could
    // not be sent, or when the server stopped the job: then stopped() is true.
    bool report();
    // The server pruned the job or it was lost (seen by a report or a heartbeat): stop training
    // and return from the body; its results are not written again.
    bool stopped() const { return stopReason().has_value(); }
    std::optional<JobOutcome> stopReason() const;

private:
    friend class Worker;
    WorkerJob(BlockingClient &client, Job job);
    bool put(JobStatus status);
    BlockingClient &m_client;
    Job m_job;
    std::optional<JobOutcome> m_stop;
    std::unique_ptr<Heartbeat> m_heartbeat; // while the body runs, when the experiment has a lease
};

// The C++ counterpart of the original `with experiment.next_job() as job:`.
//
//     schedy::Worker worker(config, "MNIST");
//     while (worker.runNext([](schedy::WorkerJob &job) {
//         for (int epoch = 0; epoch < 10 && !job.stopped(); ++epoch) {
//             job.setResult("loss", train_epoch(job.hyperparameters()));
//             job.report();
//         }
//     })) {}
//
// runNext() pulls a job, claims it (asking again when another worker won it),
// runs the body and marks the job DONE, or CRASHED when the body throws (the
// exception is then rethrown). While the experiment has a lease, a thread
// heartbeats every third of it. It returns true when a job was handled
// (lastOutcome(): Done, Pruned or Lost), false when there is no job
// (lastError() is NoJob) or a request failed.
class Worker
{
public:
    Worker(const ClientConfig &config, QString experiment);
    Worker(Client *client, QString experiment);
    ~Worker();

    bool runNext(const std::function<void(WorkerJob &)> &body);
    JobOutcome lastOutcome() const { return m_outcome; }
    // Why the last runNext() returned false (NoJob when the experiment has nothing to do).
    const ClientError &lastError() const { return m_client.lastError(); }
    BlockingClient &client() { return m_client; }
    int maxClaimAttempts = 100;
    // Heartbeat period; nullopt: a third of the experiment's lease, none without a lease.
    // A value heartbeats at that period whatever the lease.
    std::optional<int> heartbeatIntervalMs;

private:
    BlockingClient m_client;
    QString m_experiment;
    JobOutcome m_outcome = JobOutcome::Failed;
};

} // namespace schedy
