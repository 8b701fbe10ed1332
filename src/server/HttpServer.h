#pragma once

#include "Api.h"

#include <QAbstractHttpServer>
#include <QHostAddress>
#include <QTcpServer>

#include <functional>

namespace schedy::server {

// Accepts connections whose sockets refuse request bodies over a limit with
// 413 before buffering them (Qt HttpServer 6.4 has no such limit).
class GuardedTcpServer : public QTcpServer
{
    Q_OBJECT
public:
    explicit GuardedTcpServer(qint64 maxBodyBytes, QObject *parent = nullptr);

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    qint64 m_maxBodyBytes;
};

// Qt HttpServer carrying the Schedy API: hands each request to Api with its
// raw, still-encoded path, writes compact responses, honours Connection: close,
// and logs one line per request.
class HttpServer : public QAbstractHttpServer
{
    Q_OBJECT
public:
    explicit HttpServer(Api &api, QObject *parent = nullptr);

    // Listens on address:port (0 = any free port); returns the port, or 0 on failure.
    quint16 listenOn(const QHostAddress &address, quint16 port, QString *error);
    // Receives one line per request; none by default.
    void setLogger(std::function<void(const QByteArray &)> logger) { m_logger = std::move(logger); }

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override;
    void missingHandler(const QHttpServerRequest &request, QTcpSocket *socket) override;

private:
    Api &m_api;
    std::function<void(const QByteArray &)> m_logger;
};

} // namespace schedy::server
