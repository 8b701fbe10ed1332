#pragma once

#include "ClientConfig.h"
#include "ClientError.h"
#include "Types.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QNetworkAccessManager>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <optional>

class QNetworkReply;

namespace schedy {

class Client;

// One request in flight: retried, re-authenticated and timed out by the
// Client; emits finished() exactly once. Deletes itself after finished()
// unless setAutoDelete(false): the caller then owns it, and it outlives the
// Client if need be (destroying the Client aborts the calls in flight).
class CallBase : public QObject
{
    Q_OBJECT
public:
    ~CallBase() override;

    bool isFinished() const { return m_finished; }
    bool ok() const { return m_finished && !m_error.isError(); }
    const ClientError &error() const { return m_error; }
    int httpStatus() const { return m_httpStatus; }
    int attempts() const { return m_attempts; }
    void setAutoDelete(bool autoDelete) { m_autoDelete = autoDelete; }
    // Cancels the call; finished() follows with ClientError::Kind::Aborted.
    void abort();

Q_SIGNALS:
    void finished();

protected:
    explicit CallBase(Client *client);
    // Interprets a complete HTTP response; returns an error or None.
    virtual ClientError parse(int status, const QByteArray &body, QNetworkReply *reply) = 0;

private:
    friend class Client;
    friend class JobFetcher; // reads ahead from m_onBody, as Client::allJobs() does
    void finish(const ClientError &error);

    Client *m_client; // null once the client is gone
    QByteArray m_method;
    QString m_path; // relative to the root, percent-encoded
    QByteArray m_body;
    QList<QPair<QByteArray, QByteArray>> m_headers;
    QByteArray m_sentBearer; // the bearer of the attempt in flight
    bool m_authenticated = true;
    bool m_submitted = false;
    bool m_retriedAfter401 = false;
    bool m_finished = false;
    bool m_autoDelete = true;
    int m_attempts = 0;
    int m_httpStatus = 0;
    ClientError m_error;
    QPointer<QNetworkReply> m_reply;
    QTimer m_retryTimer;
    std::function<void()> m_onRetry; // set by the client
    // Sees a successful body before it is decoded (a listing walk asks for the next page then).
    std::function<void(const QByteArray &)> m_onBody;
    bool m_timedOut = false;
};

template <typename T> class Call : public CallBase
{
public:
    const T &value() const { return m_value; }
    T takeValue() { return std::move(m_value); }

private:
    friend class Client;
    using Parser = std::function<ClientError(int, const QByteArray &, QNetworkReply *, T &)>;
    Call(Client *client, Parser parser)
        : CallBase(client)
        , m_parser(std::move(parser))
    {}
    ClientError parse(int status, const QByteArray &body, QNetworkReply *reply) override
    {
        return m_parser(status, body, reply, m_value);
    }
    Parser m_parser;
    T m_value{};
};

struct ExperimentPage
{
    QList<Experiment> items;
    QString next;
    std::optional<qint64> total;
};

struct JobPage
{
    QList<Job> items;
    QString next;
    std::optional<qint64> total;
};

// A job listing: the protocol's paging plus the server's extensions.
struct JobListQuery
{
    QString start; // cursor of the page to fetch; empty: the first
    int limit = 0; // 0: the server's default
    QList<JobStatus> statuses;
    QString sort; // id, status, createdAt, modifiedAt, hyperparameters.NAME, results.NAME
    bool descending = false;
    std::optional<double> modifiedSince;
    QString idContains;
};

struct RetryPolicy
{
    int maxAttempts = 10;   // including the first
    double baseDelay = 0.4; // seconds before the second attempt; doubles each time
    double maxDelay = 30.0; // cap of one wait
    double jitter = 0.25;   // +- this fraction of each wait
    int timeoutMs = 30000;  // per attempt
};

enum class WriteCondition { Unconditional, IfMatch, CreateOnly };

// The asynchronous Schedy client: one QNetworkAccessManager, typed calls,
// retries with back-off, bearer renewal. Documents are turned into values by
// the core codec only.
class Client : public QObject
{
    Q_OBJECT
public:
    explicit Client(QObject *parent = nullptr);
    explicit Client(const ClientConfig &config, QObject *parent = nullptr);
    ~Client() override;

    void setConfig(const ClientConfig &config);
    const ClientConfig &config() const { return m_config; }
    void setRetryPolicy(const RetryPolicy &policy) { m_policy = policy; }
    const RetryPolicy &retryPolicy() const { return m_policy; }
    QNetworkAccessManager *networkAccessManager() { return &m_nam; }
    // The current bearer and when it expires (seconds since the epoch); empty before the first login.
    QByteArray bearer() const { return m_bearer; }
    qint64 bearerExpiresAt() const { return m_expiresAt; }

    // Experiments.
    Call<ExperimentPage> *experiments(const QString &start = {}, int limit = 0);
    Call<Experiment> *experiment(const QString &name);
    // PUT with If-None-Match: *; fails with ResourceExists when the name is taken.
    Call<Experiment> *createExperiment(const Experiment &experiment);
    // PUT: replaces status, scheduler, sampler, pruner and lease (unset ones are sent as null,
    // which removes them), keeps the jobs (creates a missing one unless IfMatch).
    // IfMatch sends experiment.etag (an extension of our server): saved only over that version,
    // else UnsafeUpdate (412), also when it was deleted or no ETag is known. CreateOnly is
    // createExperiment(). The result carries the new ETag.
    Call<Experiment> *updateExperiment(const Experiment &experiment,
                                       WriteCondition condition = WriteCondition::Unconditional);
    // mustExist: If-Match: *, failing with UnsafeUpdate (412) when missing.
    Call<bool> *deleteExperiment(const QString &name, bool mustExist = true);

    // Jobs.
    Call<JobPage> *jobs(const QString &experiment, const JobListQuery &query = {});
    Call<Job> *job(const QString &experiment, const QString &id);
    Call<Job> *addJob(const QString &experiment, const JobWrite &job);
    // Fails with NoJob when the server has nothing to hand out.
    Call<Job> *nextJob(const QString &experiment);
    // IfMatch needs `etag` (without one, like the original client, it sends If-None-Match: * and an
    // existing job fails with UnsafeUpdate); CreateOnly is If-None-Match: *. When the server's
    // pruner stopped the job in this write (Schedy-Job-Status: PRUNED), the result's status is
    // Pruned; a 412 because it was pruned or lost earlier: error().jobPruned() / jobLost().
    Call<Job> *putJob(const QString &experiment, const QString &id, const JobWrite &job,
                      WriteCondition condition, const QByteArray &etag = {});
    Call<bool> *deleteJob(const QString &experiment, const QString &id, bool mustExist = true);
    // Keeps a RUNNING job's lease alive (docs/protocol.md 8.3): POST .../jobs/ID/heartbeat/ with
    // If-Match: etag. The ETag does not change. UnsafeUpdate (412) when the job is no longer that
    // version: error().jobPruned() / jobLost() tell why; ClientRequest (404) when it is gone.
    Call<bool> *heartbeat(const QString &experiment, const QString &id, const QByteArray &etag);
    // Every job of a listing, all pages from query.start (filters and sort apply; limit is the
    // page size, 1000 when 0). Pipelined: the next page is asked for as soon as a page has
    // arrived, while that page is being decoded. `total` comes from the first page.
    Call<JobPage> *allJobs(const QString &experiment, const JobListQuery &query = {});
    // Every job changed at or after `since` (server time), all pages.
    Call<JobPage> *changesSince(const QString &experiment, double since, const JobListQuery &filter = {});

    // Authentication.
    // Logs in now (normally done on demand).
    Call<bool> *login();
    // A new API token for the configured user; the previous one stops working.
    Call<ClientConfig> *resetToken();

    // Percent-encodes a path segment like the original client (every reserved character).
    static QString encodeSegment(const QString &segment);

Q_SIGNALS:
    // The bearer changed (after a login).
    void authenticated();
    // A login attempt ended (error None on success).
    void loginCompleted(const schedy::ClientError &error);

private:
    friend class JobFetcher; // submits a page read ahead at once, as allJobs() does
    friend class CallBase;
    template <typename T>
    Call<T> *makeCall(const QByteArray &method, const QString &path, const QByteArray &body,
                      typename Call<T>::Parser parser, bool authenticated = true);
    void submit(CallBase *call);
    void send(CallBase *call);
    void onFinished(CallBase *call, QNetworkReply *reply);
    void retryLater(CallBase *call, const ClientError &error);
    bool needsLogin() const;
    void startLogin();
    void loginFinished(const ClientError &error);

    QNetworkAccessManager m_nam;
    ClientConfig m_config;
    RetryPolicy m_policy;
    QByteArray m_bearer;
    qint64 m_expiresAt = 0;
    qint64 m_issuedAt = 0;
    bool m_loggingIn = false;
    QPointer<CallBase> m_loginCall;
    QList<QPointer<CallBase>> m_waitingForLogin;
    QList<QPointer<CallBase>> m_calls; // everything in flight, aborted on destruction
};

} // namespace schedy
