#include "JobFetcher.h"

#include "PageDecoder.h"

#include <QTimer>

namespace schedy {

JobFetcher::JobFetcher(Client *client, QString experiment, JobListQuery query, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_experiment(std::move(experiment))
    , m_query(std::move(query))
{}

JobFetcher::~JobFetcher()
{
    drop(m_current);
    drop(m_ahead);
}

void JobFetcher::setReadAhead(bool enabled, int maxAgeMs)
{
    m_readAhead = enabled;
    m_maxAgeMs = maxAgeMs;
    if (!enabled)
        drop(m_ahead);
}

void JobFetcher::reset(const JobListQuery &query)
{
    reset(m_experiment, query);
}

void JobFetcher::reset(const QString &experiment, const JobListQuery &query)
{
    drop(m_current);
    drop(m_ahead);
    ++m_generation;
    m_experiment = experiment;
    m_query = query;
    m_next.clear();
    m_atEnd = false;
    m_wanted = false;
    m_total = -1;
}

void JobFetcher::drop(Slot &slot)
{
    if (Call<JobPage> *call = slot.call) {
        slot.call = nullptr;
        call->disconnect(this);
        call->abort();
    }
    slot = Slot{};
}

void JobFetcher::request(Slot &slot, const QString &cursor)
{
    drop(slot);
    if (!m_client)
        return;
    JobListQuery q = m_query;
    q.start = cursor;
    if (cursor.isEmpty() && m_firstPageLimit > 0)
        q.limit = m_firstPageLimit;
    Call<JobPage> *call = m_client->jobs(m_experiment, q);
    slot.call = call;
    slot.cursor = cursor;
    call->m_onBody = [this, call](const QByteArray &body) {
        // The page asked for has come: ask for the one after it while this one is
        // decoded and used.
        if (call != m_current.call || !m_wanted || !m_readAhead || !m_ahead.isEmpty())
            return;
        const QString next = detail::peekNextCursor(body);
        if (!next.isEmpty())
            request(m_ahead, next);
    };
    connect(call, &CallBase::finished, this, [this, call] { arrived(call); });
    // Sent now rather than from the event loop: a page read ahead from m_onBody
    // must be on its way while the current one is decoded.
    m_client->submit(call);
}

void JobFetcher::arrived(Call<JobPage> *call)
{
    Slot *slot = call == m_current.call ? &m_current : call == m_ahead.call ? &m_ahead : nullptr;
    if (!slot)
        return;
    slot->call = nullptr;
    if (call->ok()) {
        slot->page = call->takeValue();
        slot->arrived.start();
    } else if (call->error().kind != ClientError::Kind::Aborted && slot == &m_current && m_wanted) {
        slot->error = call->error();
    } else {
        // A page read ahead that failed is asked for again when it is wanted;
        // one aborted from outside (the client is gone) is no longer on its way.
        if (slot == &m_current && call->error().kind == ClientError::Kind::Aborted)
            m_wanted = false;
        *slot = Slot{};
    }
    if (slot != &m_current)
        return;
    // The page read ahead must start where this one ends.
    const bool more = m_current.page && !m_current.page->next.isEmpty() && !m_current.page->items.isEmpty();
    if (!m_ahead.isEmpty() && (!more || m_ahead.cursor != m_current.page->next))
        drop(m_ahead);
    if (m_wanted && !m_current.isEmpty())
        deliver();
}

void JobFetcher::deliver()
{
    m_wanted = false;
    if (m_current.error) {
        const ClientError error = *m_current.error;
        drop(m_current);
        drop(m_ahead);
        Q_EMIT failed(error);
        return;
    }
    const JobPage page = std::move(*m_current.page);
    m_current = Slot{};
    m_next = page.next;
    m_atEnd = page.next.isEmpty() || page.items.isEmpty();
    if (m_atEnd) {
        drop(m_ahead);
    } else if (!m_ahead.isEmpty() && m_ahead.cursor == m_next) {
        m_current = std::move(m_ahead);
        m_ahead = Slot{};
    } else {
        drop(m_ahead);
        if (m_readAhead)
            request(m_current, m_next);
    }
    if (page.total && *page.total != m_total) {
        m_total = *page.total;
        Q_EMIT totalChanged(m_total);
    }
    Q_EMIT pageFetched(page.items, m_atEnd);
}

void JobFetcher::fetchMore()
{
    if (m_atEnd || m_wanted || m_experiment.isEmpty() || !m_client)
        return;
    m_wanted = true;
    if (m_current.page && m_current.arrived.elapsed() >= m_maxAgeMs) {
        drop(m_current); // read ahead too long ago: its jobs may have changed
        drop(m_ahead);
    }
    if (m_current.page) {
        // Delivered from the event loop, as a page from the network would be.
        QTimer::singleShot(0, this, [this, generation = m_generation] {
            if (generation == m_generation && m_wanted && m_current.page)
                deliver();
        });
    } else if (!m_current.call) {
        request(m_current, m_next);
    }
}

ExperimentFetcher::ExperimentFetcher(Client *client, int pageSize, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_pageSize(pageSize)
{}

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
