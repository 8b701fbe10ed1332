#include "JobFetcher.h"

namespace schedy {

JobFetcher::JobFetcher(Client *client, QString experiment, JobListQuery query, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_experiment(std::move(experiment))
    , m_query(std::move(query))
{
}

JobFetcher::~JobFetcher()
{
    if (m_inFlight)
        m_inFlight->abort();
}

void JobFetcher::reset(const JobListQuery &query) { reset(m_experiment, query); }

void JobFetcher::reset(const QString &experiment, const JobListQuery &query)
{
    if (m_inFlight) {
        m_inFlight->disconnect(this);
        m_inFlight->abort();
    }
    m_inFlight = nullptr;
    m_experiment = experiment;
    m_query = query;
    m_next.clear();
    m_atEnd = false;
    m_total = -1;
}

void JobFetcher::fetchMore()
{
    if (m_atEnd || m_inFlight || m_experiment.isEmpty() || !m_client)
        return;
    JobListQuery q = m_query;
    q.start = m_next;
    auto *call = m_client->jobs(m_experiment, q);
    m_inFlight = call;
    connect(call, &CallBase::finished, this, [this, call] {
        if (m_inFlight != call)
            return;
        m_inFlight = nullptr;
        if (!call->ok()) {
            if (call->error().kind != ClientError::Kind::Aborted)
                Q_EMIT failed(call->error());
            return;
        }
        const JobPage &page = call->value();
        if (page.total && *page.total != m_total) {
            m_total = *page.total;
            Q_EMIT totalChanged(m_total);
        }
        m_next = page.next;
        m_atEnd = page.next.isEmpty() || page.items.isEmpty();
        Q_EMIT pageFetched(page.items, m_atEnd);
    });
}

ExperimentFetcher::ExperimentFetcher(Client *client, int pageSize, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_pageSize(pageSize)
{
}

ExperimentFetcher::~ExperimentFetcher()
{
    if (m_inFlight)
        m_inFlight->abort();
}

void ExperimentFetcher::reset()
{
    if (m_inFlight) {
        m_inFlight->disconnect(this);
        m_inFlight->abort();
    }
    m_inFlight = nullptr;
    m_next.clear();
    m_atEnd = false;
}

void ExperimentFetcher::fetchMore()
{
    if (m_atEnd || m_inFlight || !m_client)
        return;
    auto *call = m_client->experiments(m_next, m_pageSize);
    m_inFlight = call;
    connect(call, &CallBase::finished, this, [this, call] {
        if (m_inFlight != call)
            return;
        m_inFlight = nullptr;
        if (!call->ok()) {
            if (call->error().kind != ClientError::Kind::Aborted)
                Q_EMIT failed(call->error());
            return;
        }
        m_next = call->value().next;
        m_atEnd = m_next.isEmpty() || call->value().items.isEmpty();
        Q_EMIT pageFetched(call->value().items, m_atEnd);
    });
}

} // namespace schedy
