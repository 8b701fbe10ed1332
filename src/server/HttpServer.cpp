#include "HttpServer.h"

#include "Json.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QPointer>
#include <QTcpSocket>
#include <QTimer>

#include <algorithm>
#include <cstring>

namespace schedy::server {
namespace {

QByteArray methodName(QHttpServerRequest::Method m)
{
    switch (m) {
    case QHttpServerRequest::Method::Get:
        return "GET";
    case QHttpServerRequest::Method::Put:
        return "PUT";
    case QHttpServerRequest::Method::Delete:
        return "DELETE";
    case QHttpServerRequest::Method::Post:
        return "POST";
    case QHttpServerRequest::Method::Head:
        return "HEAD";
    case QHttpServerRequest::Method::Options:
        return "OPTIONS";
    case QHttpServerRequest::Method::Patch:
        return "PATCH";
    case QHttpServerRequest::Method::Connect:
        return "CONNECT";
    case QHttpServerRequest::Method::Trace:
        return "TRACE";
    default:
        return "UNKNOWN";
    }
}

// A socket that watches the byte stream it hands to Qt's HTTP parser. An
// accepted QTcpSocket is always buffered (Unbuffered only applies to
// connectToHost), so Qt would read straight from the socket's buffer. Instead,
// takeIncoming() runs first on every readyRead (it is connected before Qt's
// handler), moves the new bytes out of that buffer, and Qt then gets them
// through readData(), where the request framing is followed: the head of each
// request is scanned for Content-Length / chunked encoding, and a body over the
// limit is answered with 413 at once, never buffered, and drained to its end
// before the connection is closed (so that the client reads the answer rather
// than a reset).
class GuardedSocket : public QTcpSocket
{
public:
    explicit GuardedSocket(qint64 maxBodyBytes, QObject *parent = nullptr)
        : QTcpSocket(parent)
        , m_max(maxBodyBytes)
    {
        connect(this, &QIODevice::readyRead, this, &GuardedSocket::takeIncoming);
    }

    qint64 bytesAvailable() const override
    {
        return QTcpSocket::bytesAvailable() + (m_rejected ? 0 : m_pending.size() - m_pendingPos);
    }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        if (m_rejected)
            return 0;
        if (m_taking || m_pendingPos >= m_pending.size())
            return QTcpSocket::readData(data, maxSize);
        const qint64 n = std::min<qint64>(maxSize, m_pending.size() - m_pendingPos);
        const char *from = m_pending.constData() + m_pendingPos;
        const qint64 pass = consume(from, n);
        std::memcpy(data, from, size_t(pass));
        m_pendingPos += n;
        if (m_rejected)
            drainPending();
        return pass;
    }

private:
    enum class State { Head, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailer };

    void takeIncoming()
    {
        const qint64 n = QTcpSocket::bytesAvailable();
        if (n <= 0)
            return;
        m_taking = true;
        const QByteArray bytes = read(n);
        m_taking = false;
        if (m_pendingPos >= m_pending.size()) {
            m_pending.clear();
            m_pendingPos = 0;
        }
        m_pending += bytes;
        if (m_rejected)
            drainPending();
    }

    // Follows the framing over `n` bytes and returns how many of them Qt may
    // see: all, or those before the point where a body went over the limit.
    // Past that point only the end of the rejected message is looked for.
    qint64 consume(const char *data, qint64 n)
    {
        qint64 pass = m_rejected ? 0 : n;
        qint64 i = 0;
        auto overLimit = [&] {
            pass = i;
            reject();
        };
        while (i < n && !m_finished) {
            switch (m_state) {
            case State::Head: {
                const char c = data[i++];
                m_line += c;
                if (c != '\n') {
                    if (m_line.size() > 65536)
                        m_line.clear(); // Qt refuses such a head; just stay in step
                    break;
                }
                const QByteArray line = m_line.trimmed();
                m_line.clear();
                if (line.isEmpty()) {
                    if (!m_sawRequestLine)
                        break; // stray CRLF between requests
                    // End of head.
                    m_sawRequestLine = false;
                    const bool chunked = m_chunked;
                    const qint64 length = m_contentLength;
                    m_chunked = false;
                    m_contentLength = 0;
                    if (chunked) {
                        m_state = State::ChunkSize;
                        m_bodySeen = 0;
                    } else if (length > 0) {
                        m_remaining = length;
                        m_state = State::Body;
                        if (!m_rejected && length > m_max)
                            overLimit();
                    } else {
                        messageEnd();
                    }
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
                break;
            }
            case State::Body: {
                const qint64 take = std::min(m_remaining, n - i);
                i += take;
                m_remaining -= take;
                if (m_remaining == 0) {
                    m_state = State::Head;
                    messageEnd();
                }
                break;
            }
            case State::ChunkSize: {
                const char c = data[i++];
                m_line += c;
                if (c != '\n') {
                    if (m_line.size() > 65536)
                        m_line.clear();
                    break;
                }
                bool ok = false;
                const qint64 size = m_line.trimmed().split(';').value(0).toLongLong(&ok, 16);
                m_line.clear();
                if (!ok || size < 0) {
                    // Qt reports the malformed chunk (and drops the connection);
                    // a rejected one is simply closed.
                    m_state = State::Head;
                    if (m_rejected)
                        m_finished = true;
                } else if (size == 0) {
                    m_state = State::Trailer;
                } else {
                    m_bodySeen += size;
                    m_remaining = size;
                    m_state = State::ChunkData;
                    if (!m_rejected && m_bodySeen > m_max)
                        overLimit();
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
                    const bool end = m_line.trimmed().isEmpty();
                    m_line.clear();
                    if (end) {
                        m_state = State::Head;
                        messageEnd();
                    }
                }
                break;
            }
            }
        }
        return pass;
    }

    void messageEnd()
    {
        if (m_rejected)
            m_finished = true; // the rejected body is drained: close now
    }

    void reject()
    {
        m_rejected = true;
        const QByteArray body = json::write(
            QCborMap{{QStringLiteral("error"),
                      QStringLiteral("request body larger than the limit of %1 bytes").arg(m_max)}});
        // No Retry-After: the original client would retry a 413 that carries one.
        write("HTTP/1.1 413 Payload Too Large\r\n"
              "Content-Type: application/json; charset=utf-8\r\n"
              "Connection: close\r\n"
              "Content-Length: " +
              QByteArray::number(body.size()) + "\r\n\r\n" + body);
        // A client that never sends the body it announced is not waited for forever.
        QTimer::singleShot(30000, this, [this] { abort(); });
    }

    // Past a rejection: follows what is left of the rejected message, drops it,
    // and closes once it has all arrived (anything after it is dropped too).
    void drainPending()
    {
        if (m_pendingPos < m_pending.size() && !m_finished)
            consume(m_pending.constData() + m_pendingPos, m_pending.size() - m_pendingPos);
        m_pending.clear();
        m_pendingPos = 0;
        if (m_finished && !m_closing) {
            m_closing = true;
            QTimer::singleShot(0, this, [this] { disconnectFromHost(); });
        }
    }

    qint64 m_max;
    QByteArray m_pending; // taken from the socket's buffer, not yet read by Qt
    qsizetype m_pendingPos = 0;
    bool m_taking = false;
    State m_state = State::Head;
    QByteArray m_line;
    bool m_sawRequestLine = false;
    qint64 m_contentLength = 0;
    bool m_chunked = false;
    qint64 m_remaining = 0;
    qint64 m_bodySeen = 0;
    bool m_rejected = false;
    bool m_finished = false;
    bool m_closing = false;
};

} // namespace

GuardedTcpServer::GuardedTcpServer(qint64 maxBodyBytes, QObject *parent)
    : QTcpServer(parent)
    , m_maxBodyBytes(maxBodyBytes)
{}

void GuardedTcpServer::incomingConnection(qintptr descriptor)
{
    auto *socket = new GuardedSocket(m_maxBodyBytes, this);
    // Unbuffered: what readData() returns goes to the reader, not back into the
    // socket's buffer, where takeIncoming() would see it a second time.
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
{}

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
    // After a 413 the rest of the stream cannot be trusted to be in step: close.
    const bool close = connection == "close" || response.status == 413;

    auto responder = makeResponder(request, socket);
    responder.writeStatusLine(QHttpServerResponder::StatusCode(response.status));
    for (const auto &h : response.headers)
        responder.writeHeader(h.first, h.second);
    if (close)
        responder.writeHeader("Connection", "close");
    if (response.status != 204) // RFC 9110: no Content-Length on 204
        responder.writeHeader("Content-Length", QByteArray::number(response.body.size()));
    responder.writeBody(response.body);
    // Send now rather than on the next turn of the event loop (a poll and a
    // wake-up fewer per request, and the client gets its answer sooner).
    socket->flush();

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
