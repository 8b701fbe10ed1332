#pragma once

#include "Client.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>

#include <optional>

namespace schedy {

// Fetches a job listing one page at a time, on demand: what a model calls
// from canFetchMore()/fetchMore(). Changing the query or destroying the
// fetcher aborts the pages in flight, so stale pages never arrive.
//
// It reads one page ahead: while a page that was asked for is being decoded
// and used, the next one is already asked for (its cursor is read from the
// end of the body), so that the next fetchMore() is answered at once. A page
// read ahead is kept at most maxAgeMs; older, it is dropped and asked for
// again, since its jobs may have changed meanwhile.
class JobFetcher : public QObject
{
    Q_OBJECT
public:
    JobFetcher(Client *client, QString experiment, JobListQuery query = {}, QObject *parent = nullptr);
    ~JobFetcher() override;

    const QString &experiment() const { return m_experiment; }
    const JobListQuery &query() const { return m_query; }
    // Starts over with another query (filters, sort); aborts the pages in flight.
    void reset(const JobListQuery &query);
    void reset(const QString &experiment, const JobListQuery &query);

    bool canFetchMore() const { return !m_atEnd; }
    // A page was asked for with fetchMore() and has not been delivered yet.
    bool isFetching() const { return m_wanted; }
    // Size of the pages (the query's limit); the first page may be smaller,
    // which puts rows on screen sooner.
    void setPageLimit(int limit) { m_query.limit = limit; }
    void setFirstPageLimit(int limit) { m_firstPageLimit = limit; }
    void setReadAhead(bool enabled, int maxAgeMs = 2000);
    qint64 total() const { return m_total; } // -1 until the first page told
    // Asks for the next page unless one is on its way or there is none;
    // pageFetched() or failed() follows, never from inside this call.
    void fetchMore();

Q_SIGNALS:
    void pageFetched(const QList<schedy::Job> &jobs, bool atEnd);
    void totalChanged(qint64 total);
    void failed(const schedy::ClientError &error);

private:
    // One page: asked for, or arrived and not delivered yet.
    struct Slot
    {
        QPointer<Call<JobPage>> call;
        QString cursor;
        std::optional<JobPage> page;
        std::optional<ClientError> error;
        QElapsedTimer arrived;
        bool isEmpty() const { return !call && !page && !error; }
    };
    void request(Slot &slot, const QString &cursor);
    void drop(Slot &slot);
    void arrived(Call<JobPage> *call);
    void deliver();

    QPointer<Client> m_client; // the connection may be replaced while a view still shows its data
    QString m_experiment;
    JobListQuery m_query;
    int m_firstPageLimit = 0;
    bool m_readAhead = true;
    int m_maxAgeMs = 2000;
    QString m_next; // cursor of the next page to deliver
    bool m_atEnd = false;
    bool m_wanted = false;
    qint64 m_total = -1;
    quint64 m_generation = 0; // bumped by reset(): a deferred delivery of before is dropped
    Slot m_current;           // the next page to deliver
    Slot m_ahead;             // the one after it
};

// The same for the experiment listing.
class ExperimentFetcher : public QObject
{
    Q_OBJECT
public:
    explicit ExperimentFetcher(Client *client, int pageSize = 0, QObject *parent = nullptr);
    ~ExperimentFetcher() override;
    void reset();
    bool canFetchMore() const { return !m_atEnd; }
    bool isFetching() const { return !m_inFlight.isNull(); }
    void fetchMore();

Q_SIGNALS:
    void pageFetched(const QList<schedy::Experiment> &experiments, bool atEnd);
    void failed(const schedy::ClientError &error);

private:
    QPointer<Client> m_client;
    int m_pageSize;
    QString m_next;
    bool m_atEnd = false;
    QPointer<Call<ExperimentPage>> m_inFlight;
};

} // namespace schedy
