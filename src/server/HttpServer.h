#pragma once

#include "Api.h"
#include "HttpGuard.h"

#include <QAbstractHttpServer>
#include <QHostAddress>
#include <QThreadPool>

#include <functional>

namespace schedy::server {

// Qt HttpServer carrying the Schedy API behind GuardedTcpServer: hands each
// request to Api with its raw, still-encoded path, writes compact responses,
// honours Connection: close, and logs one line per request. Password hashes
// run on a small thread pool, so that no request waits behind one.
class HttpServer : public QAbstractHttpServer
{
    Q_OBJECT
public:
    HttpServer(Api &api, const GuardLimits &limits, QObject *parent = nullptr);
    ~HttpServer() override;

    // Listens on address:port (0 = any free port); returns the port, or 0 on failure.
    quint16 listenOn(const QHostAddress &address, quint16 port, QString *error);
    // Receives one line per request; none by default.
    void setLogger(std::function<void(const QByteArray &)> logger) { m_logger = std::move(logger); }
    GuardedTcpServer *listener() const { return m_tcp; }
    // Tests: replaces the password check run on the pool (e.g. to hold it).
    void setPasswordChecker(std::function<PasswordCheck::Result(const PasswordCheck &)> checker)
    {
        m_checker = std::move(checker);
    }
    // Password checks queued or running; beyond MaxPendingChecks logins get 503.
    int pendingChecks() const { return m_pendingChecks; }
    static constexpr int MaxPendingChecks = 64;

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    void respond(QTcpSocket *socket, const HttpRequest &request, const HttpResponse &response,
                 qint64 startNs);

    Api &m_api;
    GuardLimits m_limits;
    GuardedTcpServer *m_tcp = nullptr;
    std::function<void(const QByteArray &)> m_logger;
    std::function<PasswordCheck::Result(const PasswordCheck &)> m_checker;
    QThreadPool m_pool;
    int m_pendingChecks = 0;
};

} // namespace schedy::server
