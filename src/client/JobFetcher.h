#pragma once

#include "Client.h"

#include <QObject>
#include <QPointer>

namespace schedy {

// Fetches a job listing one page at a time, on demand: what a model calls
// from canFetchMore()/fetchMore(). Changing the query or destroying the
// fetcher aborts the page in flight, so stale pages never arrive.
class JobFetcher : public QObject
{
    Q_OBJECT
public:
    JobFetcher(Client *client, QString experiment, JobListQuery query = {}, QObject *parent = nullptr);
    ~JobFetcher() override;

    const QString &experiment() const { return m_experiment; }
    const JobListQuery &query() const { return m_query; }
    // Starts over with another query (filters, sort); aborts a page in flight.
    void reset(const JobListQuery &query);
    void reset(const QString &experiment, const JobListQuery &query);

    bool canFetchMore() const { return !m_atEnd; }
    bool isFetching() const { return !m_inFlight.isNull(); }
    // Size of the pages after this one (a small first page shows rows sooner).
    void setPageLimit(int limit) { m_query.limit = limit; }
    qint64 total() const { return m_total; } // -1 until the first page told
    // Requests the next page unless one is in flight or there is none.
    void fetchMore();

Q_SIGNALS:
    void pageFetched(const QList<schedy::Job> &jobs, bool atEnd);
    void totalChanged(qint64 total);
    void failed(const schedy::ClientError &error);

private:
    QPointer<Client> m_client; // the connection may be replaced while a view still shows its data
    QString m_experiment;
    JobListQuery m_query;
    QString m_next;
    bool m_atEnd = false;
    qint64 m_total = -1;
    QPointer<Call<JobPage>> m_inFlight;
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
