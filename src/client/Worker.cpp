#include "Worker.h"

namespace schedy {

bool WorkerJob::put(JobStatus status)
{
    JobWrite w;
    w.status = status;
    w.hyperparameters = m_job.hyperparameters;
    w.results = m_job.results;
    auto updated = m_client.putJob(m_job.experiment, m_job.id, w, WriteCondition::IfMatch, m_job.etag);
    if (!updated)
        return false;
    m_job.etag = updated->etag;
    m_job.status = updated->status;
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

bool Worker::runNext(const std::function<void(WorkerJob &)> &body)
{
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
        try {
            body(job);
        } catch (...) {
            job.put(JobStatus::Crashed);
            throw;
        }
        return job.put(JobStatus::Done);
    }
    return false;
}

} // namespace schedy
