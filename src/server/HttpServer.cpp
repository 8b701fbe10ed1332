#include "HttpServer.h"

#include "Json.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

namespace schedy::server {
namespace {

QByteArray methodName(QHttpServerRequest::Method m)
{
    switch (m) {
    case QHttpServerRequest::Method::Get: return "GET";
    case QHttpServerRequest::Method::Put: return "PUT";
    case QHttpServerRequest::Method::Delete: return "DELETE";
    case QHttpServerRequest::Method::Post: return "POST";
    case QHttpServerRequest::Method::Head: return "HEAD";
    case QHttpServerRequest::Method::Options: return "OPTIONS";
    case QHttpServerRequest::Method::Patch: return "PATCH";
    case QHttpServerRequest::Method::Connect: return "CONNECT";
    case QHttpServerRequest::Method::Trace: return "TRACE";
    default: return "UNKNOWN";
    }
}

// A socket that watches the byte stream it hands to Qt's HTTP parser. Opened
// unbuffered, every byte passes through readData() exactly once, so request
// framing can be followed without re-reading: the head of each request is
// scanned for Content-Length / chunked encoding, and a body over the limit is
// answered with 413 and drained instead of being passed on.
class GuardedSocket : public QTcpSocket
{
public:
    explicit GuardedSocket(qint64 maxBodyBytes, QObject *parent = nullptr)
        : QTcpSocket(parent)
        , m_max(maxBodyBytes)
    {
        connect(this, &QIODevice::readyRead, this, &GuardedSocket::drainIfRejected);
    }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        if (m_rejected) {
            drainIfRejected();
            return 0;
        }
        const qint64 n = QTcpSocket::readData(data, maxSize);
        if (n <= 0)
            return n;
        const qint64 pass = scan(data, n);
        return pass;
    }

private:
    enum class State { Head, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailer };

    // Follows the framing over `n` new bytes; returns how many may go to Qt.
    qint64 scan(const char *data, qint64 n)
    {
        qint64 i = 0;
        while (i < n) {
            switch (m_state) {
            case State::Head: {
                const char c = data[i++];
                m_line += c;
                if (c != '\n')
                    break;
                const QByteArray line = m_line.trimmed();
                m_line.clear();
                if (line.isEmpty()) {
                    if (!m_sawRequestLine)
                        break; // stray CRLF between requests
                    // End of head.
                    m_sawRequestLine = false;
                    if (m_chunked) {
                        m_state = State::ChunkSize;
                        m_bodySeen = 0;
                    } else if (m_contentLength > 0) {
                        if (m_contentLength > m_max)
                            return reject(i);
                        m_remaining = m_contentLength;
                        m_state = State::Body;
                    }
                    m_chunked = false;
                    m_contentLength = 0;
                    break;
                }
                if (!m_sawRequestLine) {
                    m_sawRequestLine = true;
                    break;
                }
                const qsizetype colon = line.indexOf(':');
                if (colon > 0) {
                    const QByteArray name = line.left(colon).trimmed().toLower();
                    const QByteArray value = line.mid(colon + 1).trimmed();
                    if (name == "content-length")
                        m_contentLength = value.toLongLong();
                    else if (name == "transfer-encoding" && value.toLower().contains("chunked"))
                        m_chunked = true;
                }
                if (m_line.size() > 65536)
                    m_line.clear();
                break;
            }
            case State::Body: {
                const qint64 take = std::min(m_remaining, n - i);
                i += take;
                m_remaining -= take;
                if (m_remaining == 0)
                    m_state = State::Head;
                break;
            }
            case State::ChunkSize: {
                const char c = data[i++];
                m_line += c;
                if (c != '\n')
                    break;
                bool ok = false;
                const qint64 size = m_line.trimmed().split(';').value(0).toLongLong(&ok, 16);
                m_line.clear();
                if (!ok)
                    return n; // let Qt report the malformed chunk
                if (size == 0) {
                    m_state = State::Trailer;
                } else {
                    m_bodySeen += size;
                    if (m_bodySeen > m_max)
                        return reject(i);
                    m_remaining = size;
                    m_state = State::ChunkData;
                }
                break;
            }
            case State::ChunkData: {
                const qint64 take = std::min(m_remaining, n - i);
                i += take;
                m_remaining -= take;
                if (m_remaining == 0)
                    m_state = State::ChunkDataEnd;
                break;
            }
            case State::ChunkDataEnd:
                if (data[i++] == '\n')
                    m_state = State::ChunkSize;
                break;
            case State::Trailer: {
                const char c = data[i++];
                m_line += c;
                if (c == '\n') {
                    if (m_line.trimmed().isEmpty())
                        m_state = State::Head;
                    m_line.clear();
                }
                break;
            }
            }
        }
        return n;
    }

    qint64 reject(qint64 passed)
    {
        m_rejected = true;
        // Stop Qt from waiting on this connection; we answer and close it.
        const QByteArray body = json::write(QCborMap{
            {QStringLiteral("error"),
             QStringLiteral("request body larger than the limit of %1 bytes").arg(m_max)}});
        QByteArray response = "HTTP/1.1 413 Payload Too Large\r\n"
                              "Content-Type: application/json; charset=utf-8\r\n"
                              "Connection: close\r\n"
                              "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
        writeData(response.constData(), response.size());
        // Drain what the client still sends so that it reads our answer rather
        // than a reset; give up after a while.
        m_drainLeft = m_state == State::Head ? m_contentLength : 64 * 1024 * 1024;
        QTimer::singleShot(30000, this, [this] { abort(); });
        QTimer::singleShot(0, this, &GuardedSocket::drainIfRejected);
        // The head goes to Qt, which then waits for a body that never comes.
        return passed;
    }

    void drainIfRejected()
    {
        if (!m_rejected || m_draining)
            return;
        m_draining = true;
        char buffer[65536];
        for (;;) {
            const qint64 n = QTcpSocket::readData(buffer, sizeof buffer);
            if (n <= 0)
                break;
            m_drainLeft -= n;
        }
        m_draining = false;
        if (m_drainLeft <= 0 && state() == ConnectedState)
            disconnectFromHost();
    }

    qint64 m_max;
    State m_state = State::Head;
    QByteArray m_line;
    bool m_sawRequestLine = false;
    qint64 m_contentLength = 0;
    bool m_chunked = false;
    qint64 m_remaining = 0;
    qint64 m_bodySeen = 0;
    bool m_rejected = false;
    bool m_draining = false;
    qint64 m_drainLeft = 0;
};

} // namespace

GuardedTcpServer::GuardedTcpServer(qint64 maxBodyBytes, QObject *parent)
    : QTcpServer(parent)
    , m_maxBodyBytes(maxBodyBytes)
{
}

void GuardedTcpServer::incomingConnection(qintptr descriptor)
{
    auto *socket = new GuardedSocket(m_maxBodyBytes, this);
    if (!socket->setSocketDescriptor(descriptor, QAbstractSocket::ConnectedState,
                                     QIODevice::ReadWrite | QIODevice::Unbuffered)) {
        delete socket;
        return;
    }
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    addPendingConnection(socket);
}

HttpServer::HttpServer(Api &api, QObject *parent)
    : QAbstractHttpServer(parent)
    , m_api(api)
{
}

quint16 HttpServer::listenOn(const QHostAddress &address, quint16 port, QString *error)
{
    auto *tcp = new GuardedTcpServer(m_api.options().maxBodyBytes, this);
    if (!tcp->listen(address, port)) {
        if (error)
            *error = tcp->errorString();
        delete tcp;
        return 0;
    }
    bind(tcp);
    return tcp->serverPort();
}

bool HttpServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    QElapsedTimer timer;
    if (m_logger)
        timer.start();
    HttpRequest r;
    r.method = methodName(request.method());
    const QUrl url = request.url();
    r.path = url.path(QUrl::FullyEncoded).toUtf8();
    r.query = url.query(QUrl::FullyEncoded).toUtf8();
    r.headers = request.headers();
    r.body = request.body();
    const HttpResponse response = m_api.handle(r);

    const QByteArray connection = r.header("Connection").toLower();
    const bool close = connection == "close";

    auto responder = makeResponder(request, socket);
    responder.writeStatusLine(QHttpServerResponder::StatusCode(response.status));
    for (const auto &h : response.headers)
        responder.writeHeader(h.first, h.second);
    if (close)
        responder.writeHeader("Connection", "close");
    if (response.status != 204) // RFC 9110: no Content-Length on 204
        responder.writeHeader("Content-Length", QByteArray::number(response.body.size()));
    responder.writeBody(response.body);

    if (m_logger) {
        m_logger(QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs).toLatin1() + ' ' +
                 request.remoteAddress().toString().toLatin1() + ' ' + r.method + ' ' + r.path.left(300) +
                 (r.query.isEmpty() ? QByteArray() : '?' + r.query.left(200)) + ' ' +
                 QByteArray::number(response.status) + ' ' + QByteArray::number(response.body.size()) + "B " +
                 QByteArray::number(double(timer.nsecsElapsed()) / 1e6, 'f', 2) + "ms");
    }
    if (close)
        socket->disconnectFromHost();
    return true;
}

void HttpServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    auto responder = makeResponder(request, socket);
    const QByteArray body = json::write(QCborMap{{QStringLiteral("error"), QStringLiteral("not found")}});
    responder.write(body, {{"Content-Type", "application/json; charset=utf-8"}},
                    QHttpServerResponder::StatusCode::NotFound);
}

} // namespace schedy::server
