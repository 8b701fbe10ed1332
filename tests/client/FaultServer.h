#pragma once

#include "ClientConfig.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QSet>
#include <QTcpServer>

#include <functional>
#include <optional>

class QTcpSocket;

// A tiny scripted HTTP/1.1 server on 127.0.0.1 for the client's fault tests.
//
// By default it answers like a (very small) Schedy service kept in memory:
// POST token/ and passauth/ log in (counted), every other path needs one of
// the bearers it issued (else 401), and experiments/NAME/, .../jobs/,
// .../jobs/ID/ and .../nextjob/ behave as docs/protocol.md says for Manual
// experiments. Scripted faults replace the answer to the next matching
// requests: drop the connection, answer some status, send malformed JSON,
// truncate the body, or never answer.
namespace schedy::test {

struct FaultRequest
{
    QByteArray method;
    QByteArray path;                       // raw, percent-encoded, without the query
    QByteArray query;                      // raw, without '?'
    QHash<QByteArray, QByteArray> headers; // lower-case names
    QByteArray body;
    QByteArray header(const QByteArray &name) const { return headers.value(name.toLower()); }
};

struct FaultResponse
{
    int status = 200;
    QByteArray body;
    QList<QPair<QByteArray, QByteArray>> headers;
};

class FaultServer : public QObject
{
    Q_OBJECT
public:
    enum class Fault {
        Drop,        // read the request, close the connection without answering (nothing handled)
        Respond,     // answer `status` with `body` instead of handling the request
        Malformed,   // handle the request, then answer 200 with a body that is not JSON
        Truncated,   // handle the request, announce the whole body but send half of it, then close
        NeverAnswer, // keep the connection open and never answer (nothing handled)
        Hold,        // keep the request until releaseHeld(), then handle it normally
    };

    explicit FaultServer(QObject *parent = nullptr);
    ~FaultServer() override;

    bool listen();
    // Stops listening and closes every connection: the port now refuses connections.
    void close();
    quint16 port() const { return m_server.serverPort(); }
    QString root() const;
    // A config for the one user this server knows.
    ClientConfig config(ClientConfig::TokenType type = ClientConfig::TokenType::ApiToken) const;

    // The next `times` requests whose method is `method` and whose path ends
    // with `pathSuffix` (empty: any; with a '?', the path and query contain it)
    // get `fault` instead of the normal answer.
    void script(const QByteArray &method, const QByteArray &pathSuffix, Fault fault, int times = 1,
                int status = 0, const QByteArray &body = {});

    // Handles and answers the requests kept by Fault::Hold, in order.
    void releaseHeld();
    // Every bearer issued so far stops working (the next request gets 401).
    void expireBearers() { m_bearers.clear(); }
    // Lifetime of the bearers issued from now on (expiresAt = now + seconds).
    void setBearerLifetime(qint64 seconds) { m_lifetime = seconds; }
    // Job listings write "next" before "items" (valid, but not how servers usually write pages).
    void setNextFirst(bool nextFirst) { m_nextFirst = nextFirst; }

    // Section 8 as the server plays it. The next PUT of the job is applied, then the job
    // becomes PRUNED: 200 with Schedy-Job-Status: PRUNED and a new ETag.
    void pruneAtNextReport(const QString &experiment, const QByteArray &id);
    // The job becomes `status` now (e.g. CRASHED: lost); later writes with its old ETag get
    // 412 with `why` and Schedy-Job-Status. heartbeat/ answers 204 while the ETag matches.
    // `extensions` are more keys of the job document, as JSON text: ",\"lostAt\":1.7e9".
    void changeJob(const QString &experiment, const QByteArray &id, const QByteArray &status,
                   const QString &why, const QByteArray &extensions = {});

    // What was received, including dropped and never-answered requests.
    const QList<FaultRequest> &requests() const { return m_requests; }
    int count(const QByteArray &method, const QByteArray &pathSuffix = {}) const;
    int logins() const { return m_logins; }
    int jobsCreated() const { return m_jobsCreated; }
    int connections() const { return m_connections; }
    // Jobs of the in-memory experiment store, by experiment name.
    QList<QByteArray> jobIds(const QString &experiment) const;

    static QByteArray email() { return QByteArrayLiteral("fault@example.com"); }
    static QByteArray apiToken() { return QByteArrayLiteral("api-token-1"); }
    static QByteArray password() { return QByteArrayLiteral("pass word"); }

Q_SIGNALS:
    void requestReceived(const schedy::test::FaultRequest &request);

private:
    struct Step
    {
        QByteArray method;
        QByteArray pathSuffix;
        Fault fault;
        int times;
        int status;
        QByteArray body;
    };
    struct Connection
    {
        QByteArray buffer;
        bool stalled = false;
    };
    struct StoredJob
    {
        QByteArray id;
        QByteArray status = "QUEUED";
        QByteArray hyperparameters = "{}";
        QByteArray results = "{}";
        int version = 1;
        bool pruneAtNextReport = false;
        QString why;           // the 412 message once the job was pruned or lost
        QByteArray extensions; // more keys of its document
        QByteArray etag() const { return '"' + id + '-' + QByteArray::number(version) + '"'; }
    };
    struct StoredExperiment
    {
        QByteArray document; // status and scheduler as received
        QList<StoredJob> jobs;
    };

    void onNewConnection();
    void onReadyRead(QTcpSocket *socket);
    std::optional<FaultRequest> takeRequest(QByteArray &buffer, bool *bad);
    void dispatch(QTcpSocket *socket, const FaultRequest &request);
    FaultResponse handle(const FaultRequest &request);
    FaultResponse login(const FaultRequest &request, bool password);
    QByteArray jobDocument(const QString &experiment, const StoredJob &job) const;
    static bool matches(const FaultRequest &request, const QByteArray &pathSuffix);
    static QByteArray serialize(const FaultResponse &response, qsizetype cut = -1);

    QTcpServer m_server;
    QHash<QTcpSocket *, Connection> m_sockets;
    QList<Step> m_script;
    QList<FaultRequest> m_requests;
    QList<QPair<QPointer<QTcpSocket>, FaultRequest>> m_held;
    QSet<QByteArray> m_bearers;
    QHash<QString, StoredExperiment> m_experiments;
    qint64 m_lifetime = 3600;
    bool m_nextFirst = false;
    int m_logins = 0;
    int m_jobsCreated = 0;
    int m_connections = 0;
    int m_nextBearer = 1;
    int m_nextJob = 1;
};

} // namespace schedy::test

Q_DECLARE_METATYPE(schedy::test::FaultRequest)
