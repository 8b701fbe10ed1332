#include "Worker.h"

#include "Heartbeat.h"

namespace schedy {

WorkerJob::WorkerJob(BlockingClient &client, Job job)
    : m_client(client)
    , m_job(std::move(job))
{}

WorkerJob::~WorkerJob() = default;

std::optional<JobOutcome> WorkerJob::stopReason() const
{
    if (m_stop)
        return m_stop;
    if (m_heartbeat) {
        if (const auto e = m_heartbeat->stopped())
            return e->jobPruned() ? JobOutcome::Pruned : JobOutcome::Lost;
    }
    return std::nullopt;
}

bool WorkerJob::put(JobStatus status)
{
    if (stopped())
        return false;
    JobWrite w;
    w.status = status;
    w.hyperparameters = m_job.hyperparameters;
    w.results = m_job.results;
    std::optional<Job> updated;
    const auto write = [&] {
        updated = m_client.putJob(m_job.experiment, m_job.id, w, WriteCondition::IfMatch, m_job.etag);
        return updated ? updated->etag : QByteArray();
    };
    if (m_heartbeat)
        m_heartbeat->exclusive(write);
    else
        write();
    if (!updated) {
        const ClientError &e = m_client.lastError();
        if (e.jobPruned())
            m_stop = JobOutcome::Pruned;
        else if (e.jobLost())
            m_stop = JobOutcome::Lost;
        return false;
    }
    m_job.etag = updated->etag;
    m_job.status = updated->status;
    // Stopped by the server's pruner in this very write (200 with Schedy-Job-Status: PRUNED).
    if (updated->status == JobStatus::Pruned && status != JobStatus::Pruned) {
        m_stop = JobOutcome::Pruned;
        return false;
    }
    return true;
}

bool WorkerJob::report()
{
    return put(JobStatus::Running);
}

Worker::Worker(const ClientConfig &config, QString experiment)
    : m_client(config)
    , m_experiment(std::move(experiment))
{}

Worker::Worker(Client *client, QString experiment)
    : m_client(client)
    , m_experiment(std::move(experiment))
{}

Worker::~Worker() = default;

bool Worker::runNext(const std::function<void(WorkerJob &)> &body)
{
    m_outcome = JobOutcome::Failed;
    for (int attempt = 0; attempt < maxClaimAttempts; ++attempt) {
        auto next = m_client.nextJob(m_experiment);
        if (!next)
            return false;
        WorkerJob job(m_client, *next);
        if (!job.put(JobStatus::Running)) {
            if (m_client.lastError().kind == ClientError::Kind::UnsafeUpdate)
                continue; // another worker claimed it first
            return false;
        }
        // The lease as it is now: read per job, so that one added meanwhile is honoured.
        std::optional<LeaseSpec> lease;
        if (auto experiment = m_client.experiment(m_experiment))
            lease = experiment->lease;
        if (lease || heartbeatIntervalMs) {
            const int interval = heartbeatIntervalMs.value_or(lease ? int(lease->heartbeatIntervalMs()) : 0);
            job.m_heartbeat = std::make_unique<Heartbeat>(m_client.client().config(), m_experiment, job.id(),
                                                          job.m_job.etag, interval);
        }
        try {
            body(job);
        } catch (...) {
            job.put(JobStatus::Crashed);
            m_outcome = job.stopReason().value_or(JobOutcome::Crashed);
            job.m_heartbeat.reset();
            throw;
        }
        const bool done = job.put(JobStatus::Done);
        m_outcome = done ? JobOutcome::Done : job.stopReason().value_or(JobOutcome::Failed);
        job.m_heartbeat.reset();
        return m_outcome != JobOutcome::Failed;
    }
    return false;
}

} // namespace schedy
