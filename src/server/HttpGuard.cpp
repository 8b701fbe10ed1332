#include "HttpGuard.h"

#include "Json.h"

#include <QCborMap>
#include <QElapsedTimer>

#include <algorithm>
#include <cstring>

namespace schedy::server {
namespace {

// RFC 9110 token characters (header names, methods).
bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool isToken(const QByteArray &s)
{
    return !s.isEmpty() && std::all_of(s.begin(), s.end(), isTokenChar);
}

// Field values: visible characters, obs-text, spaces and tabs; no other control.
bool isFieldValue(const QByteArray &s)
{
    return std::all_of(s.begin(), s.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u == '\t' || (u >= 0x20 && u != 0x7f);
    });
}

RequestHead refused(int status, const QString &why)
{
    RequestHead h;
    h.status = status;
    h.error = why;
    return h;
}

qint64 monotonicMs()
{
    static const QElapsedTimer started = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return started.elapsed();
}

QByteArray reason(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

} // namespace

RequestHead checkHead(const QList<QByteArray> &lines)
{
    if (lines.isEmpty())
        return refused(400, QStringLiteral("empty request head"));
    const QList<QByteArray> requestLine = lines.first().split(' ');
    if (requestLine.size() != 3 || !isToken(requestLine[0]) || requestLine[1].isEmpty() ||
        !isFieldValue(requestLine[1]) || (requestLine[2] != "HTTP/1.1" && requestLine[2] != "HTTP/1.0"))
        return refused(400, QStringLiteral("malformed request line"));
    if (requestLine[0] == "CONNECT")
        return refused(400, QStringLiteral("CONNECT is not served"));
    for (const QByteArray &line : lines) {
        if (line.startsWith(' ') || line.startsWith('\t'))
            return refused(400, QStringLiteral("obsolete line folding is not accepted"));
    }
    RequestHead head;
    bool sawLength = false, sawCoding = false;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray &line = lines[i];
        const qsizetype colon = line.indexOf(':');
        const QByteArray name = colon < 0 ? QByteArray() : line.left(colon).toLower();
        if (!isToken(name))
            return refused(400, QStringLiteral("malformed header line"));
        const QByteArray value = line.mid(colon + 1).trimmed();
        if (!isFieldValue(value))
            return refused(400, QStringLiteral("control character in a header"));
        if (name == "content-length") {
            if (sawLength || value.isEmpty() || value.size() > 18 ||
                !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
                return refused(400, QStringLiteral("Content-Length must be one decimal number"));
            sawLength = true;
            head.contentLength = value.toLongLong();
        } else if (name == "transfer-encoding") {
            // Qt 6.4's chunked parser spins on malformed or partial chunks: a
            // body must come with its Content-Length (RFC 9112 allows 411).
            (void)sawCoding;
            return refused(411, QStringLiteral("send the body with a Content-Length (chunked transfer coding "
                                               "is not accepted)"));
        } else if (name == "upgrade") {
            return refused(400, QStringLiteral("protocol upgrades are not served"));
        } else if (name == "authorization") {
            head.authorization = value;
        }
    }
    if (sawLength && sawCoding)
        return refused(400, QStringLiteral("Content-Length and Transfer-Encoding together"));
    return head;
}

GuardedSocket::GuardedSocket(std::shared_ptr<GuardShared> shared, QObject *parent)
    : QTcpSocket(parent)
    , m_shared(std::move(shared))
{
    m_acceptedAt = m_idleSince = m_lastProgress = m_shared->clock();
    m_serial = ++m_shared->accepted;
    connect(this, &QIODevice::readyRead, this, &GuardedSocket::takeIncoming);
    connect(this, &QAbstractSocket::disconnected, this, &GuardedSocket::unregister);
}

GuardedSocket::~GuardedSocket()
{
    // ~QAbstractSocket closes the socket and emits disconnected() when this is
    // only a QAbstractSocket any more: our slots must not run then. (Only ours:
    // QAbstractHttpServer frees its request on destroyed() with this as context.)
    disconnect(this, &QIODevice::readyRead, this, &GuardedSocket::takeIncoming);
    disconnect(this, &QAbstractSocket::disconnected, this, &GuardedSocket::unregister);
    unregister();
}

void GuardedSocket::registerPeer()
{
    m_peer = peerAddress().toString();
    m_registered = true;
    m_shared->sockets.insert(this);
    ++m_shared->perPeer[m_peer];
}

void GuardedSocket::unregister()
{
    release();
    if (!m_registered)
        return;
    m_registered = false;
    m_shared->sockets.remove(this);
    auto it = m_shared->perPeer.find(m_peer);
    if (it != m_shared->perPeer.end() && --*it <= 0)
        m_shared->perPeer.erase(it);
}

qint64 GuardedSocket::bytesAvailable() const
{
    const bool blocked = m_rejected || m_handling;
    return QTcpSocket::bytesAvailable() + (blocked ? 0 : m_pending.size() - m_pendingPos);
}

qint64 GuardedSocket::deadline() const
{
    const GuardLimits &l = m_shared->limits;
    if (m_handling && !m_rejected)
        return -1; // the server is working on it
    if (m_rejected || m_state != State::Head)
        return m_lastProgress + l.bodyTimeoutMs;
    if (m_headStartedAt >= 0)
        return m_headStartedAt + l.headerTimeoutMs;
    return m_idleSince + (m_requests > 0 ? l.idleTimeoutMs : l.headerTimeoutMs);
}

void GuardedSocket::requestDone()
{
    m_handling = false;
    ++m_requests;
    m_idleSince = m_lastProgress = m_shared->clock();
    if (m_pendingPos < m_pending.size())
        QMetaObject::invokeMethod(
            this,
            [this] {
                if (state() == ConnectedState && !m_handling)
                    emit readyRead();
            },
            Qt::QueuedConnection);
}

qint64 GuardedSocket::readData(char *data, qint64 maxSize)
{
    if (m_taking)
        return QTcpSocket::readData(data, maxSize);
    // Everything reaches Qt through takeIncoming() and consume().
    if (m_rejected || m_handling || m_pendingPos >= m_pending.size())
        return 0;
    const qint64 n = std::min<qint64>(maxSize, m_pending.size() - m_pendingPos);
    const char *from = m_pending.constData() + m_pendingPos;
    qint64 pass = 0;
    const qint64 used = consume(from, n, &pass);
    std::memcpy(data, from, size_t(pass));
    m_pendingPos += used;
    if (m_rejected)
        drainPending();
    return pass;
}

void GuardedSocket::takeIncoming()
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
    if (m_rejected) {
        drainPending();
    } else if (m_handling && m_pending.size() - m_pendingPos > qsizetype(1024) * 1024) {
        // Over a MiB sent ahead while a request is being answered: no client does that.
        abort();
    }
}

bool GuardedSocket::lineTooLong()
{
    if (m_headBytes + m_line.size() <= m_shared->limits.maxHeadBytes)
        return false;
    refuse(431, QStringLiteral("request head larger than %1 bytes").arg(m_shared->limits.maxHeadBytes),
           false);
    return true;
}

// Follows the framing over `n` bytes; returns how many were used, and in
// *pass how many of them Qt may see: stops after the end of a request (the
// next waits for requestDone()), and before the point where a request is
// refused. Past a refusal only the end of the refused message is looked for.
qint64 GuardedSocket::consume(const char *data, qint64 n, qint64 *pass)
{
    const qint64 now = m_shared->clock();
    if (n > 0)
        m_lastProgress = now;
    qint64 i = 0;
    const bool wasRejected = m_rejected;
    qint64 stopAt = -1;
    auto stopHere = [&](qint64 at) {
        if (stopAt < 0)
            stopAt = at;
    };
    while (i < n && !m_finished && (m_rejected || !m_handling)) {
        switch (m_state) {
        case State::Head: {
            const char c = data[i++];
            if (m_headStartedAt < 0) {
                if (c == '\r' || c == '\n')
                    break; // stray line ends between requests
                m_headStartedAt = now;
            }
            if (c != '\n') {
                m_line += c;
                if (lineTooLong())
                    stopHere(i - 1);
                break;
            }
            if (m_line.endsWith('\r'))
                m_line.chop(1);
            if (m_line.contains('\r') || m_line.contains('\0')) {
                stopHere(i - 1);
                refuse(400, QStringLiteral("stray CR or NUL in the request head"), false);
                break;
            }
            if (!m_line.isEmpty()) {
                m_headBytes += m_line.size() + 2;
                m_head.append(m_line);
                m_line.clear();
                break;
            }
            // End of head: Qt sees its last byte only when it is acceptable.
            if (!headEnded())
                stopHere(i - 1);
            break;
        }
        case State::Body: {
            const qint64 take = std::min(m_remaining, n - i);
            i += take;
            m_remaining -= take;
            if (m_remaining == 0)
                messageEnd();
            break;
        }
        case State::ChunkSize:
        case State::Trailer: {
            const char c = data[i++];
            // Only hex digits before a chunk extension: Qt never sees another byte there.
            if (m_state == State::ChunkSize && c != '\n' && c != '\r' && !m_line.contains(';') && c != ';' &&
                !std::isxdigit(uchar(c))) {
                stopHere(i - 1);
                refuse(400, QStringLiteral("malformed chunk size"), false);
                break;
            }
            if (c != '\n') {
                m_line += c;
                if (m_line.size() > 4096) {
                    stopHere(i - 1);
                    refuse(400, QStringLiteral("chunk line too long"), false);
                }
                break;
            }
            if (m_line.endsWith('\r'))
                m_line.chop(1);
            const QByteArray line = m_line;
            m_line.clear();
            if (m_state == State::Trailer) {
                if (line.isEmpty()) {
                    messageEnd();
                } else if (line.contains('\r') || line.startsWith(' ') || line.startsWith('\t') ||
                           !line.contains(':')) {
                    stopHere(i - 1);
                    refuse(400, QStringLiteral("malformed trailer"), false);
                }
                break;
            }
            const QByteArray digits = line.split(';').value(0);
            bool ok =
                !digits.isEmpty() && digits.size() <= 15 &&
                std::all_of(digits.begin(), digits.end(), [](char d) { return std::isxdigit(uchar(d)); });
            const qint64 size = ok ? digits.toLongLong(&ok, 16) : 0;
            if (!ok || line.contains('\r')) {
                stopHere(i - 1);
                refuse(400, QStringLiteral("malformed chunk size"), false);
            } else if (size == 0) {
                m_state = State::Trailer;
            } else {
                m_bodySeen += size;
                m_remaining = size;
                m_state = State::ChunkData;
                const GuardLimits &l = m_shared->limits;
                if (!m_rejected) {
                    if (m_bodySeen > l.maxBodyBytes) {
                        stopHere(i);
                        refuse(413,
                               QStringLiteral("request body larger than the limit of %1 bytes")
                                   .arg(l.maxBodyBytes),
                               true);
                    } else if (m_bodySeen > l.unauthenticatedBodyBytes && !m_authorized) {
                        stopHere(i);
                        refuse(401,
                               QStringLiteral("authentication required before a body over %1 bytes")
                                   .arg(l.unauthenticatedBodyBytes),
                               true);
                    } else if (!reserve(size)) {
                        stopHere(i);
                    }
                }
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
        case State::ChunkDataEnd: {
            const char c = data[i++];
            if (c == '\n') {
                m_state = State::ChunkSize;
                m_chunkCr = false;
            } else if (c == '\r' && !m_chunkCr) {
                m_chunkCr = true;
            } else {
                stopHere(i - 1);
                refuse(400, QStringLiteral("chunk data not followed by CRLF"), false);
            }
            break;
        }
        }
    }
    *pass = wasRejected ? 0 : stopAt >= 0 ? stopAt : i;
    return i;
}

// At the end of a head: refuses it, or follows its body.
bool GuardedSocket::headEnded()
{
    const RequestHead head = checkHead(m_head);
    const QList<QByteArray> requestLine = m_head.value(0).split(' ');
    m_target = requestLine.size() == 3 ? requestLine[1] : QByteArray();
    m_head.clear();
    m_headBytes = 0;
    m_headStartedAt = -1;
    if (m_rejected) {
        m_finished = true; // not reached: a refused head closes at once
        return false;
    }
    if (head.status != 0) {
        refuse(head.status, head.error, false);
        return false;
    }
    const GuardLimits &l = m_shared->limits;
    m_bodySeen = 0;
    m_chunked = head.chunked;
    const bool big = head.chunked || head.contentLength > l.unauthenticatedBodyBytes;
    m_authorized = big && m_shared->bearerValid && m_shared->bearerValid(head.authorization);
    if (head.chunked) {
        m_state = State::ChunkSize;
        return true;
    }
    if (head.contentLength == 0) {
        messageEnd();
        return true;
    }
    m_remaining = head.contentLength;
    m_state = State::Body;
    if (head.contentLength > l.maxBodyBytes) {
        refuse(413, QStringLiteral("request body larger than the limit of %1 bytes").arg(l.maxBodyBytes),
               true);
        return false;
    }
    if (head.contentLength > l.unauthenticatedBodyBytes && !m_authorized) {
        refuse(401,
               QStringLiteral("authentication required before a body over %1 bytes")
                   .arg(l.unauthenticatedBodyBytes),
               true);
        return false;
    }
    return reserve(head.contentLength);
}

bool GuardedSocket::reserve(qint64 bytes)
{
    const qint64 cap = m_shared->limits.maxBodyBytesInFlight;
    if (m_shared->bodyBytesInFlight + bytes > cap) {
        refuse(503, QStringLiteral("too many request bodies in flight; retry shortly"), true,
               "Retry-After: 1\r\n");
        return false;
    }
    m_shared->bodyBytesInFlight += bytes;
    m_reserved += bytes;
    return true;
}

void GuardedSocket::release()
{
    m_shared->bodyBytesInFlight -= m_reserved;
    m_reserved = 0;
}

void GuardedSocket::messageEnd()
{
    m_state = State::Head;
    release();
    if (m_rejected)
        m_finished = true; // the refused message is drained: close now
    else
        m_handling = true; // Qt gets this request alone
}

// Answers at once and stops passing bytes to Qt. With `drain`, what is left
// of the refused message is read and dropped before closing, so that the
// client reads the answer rather than a reset; otherwise the stream cannot be
// followed and the connection closes right away.
void GuardedSocket::refuse(int status, const QString &message, bool drain, const QByteArray &extraHeaders)
{
    m_rejected = true;
    release();
    const QByteArray body = json::write(QCborMap{{QStringLiteral("error"), message}});
    // No Retry-After on 413: the original client would retry a 413 that carries one.
    write("HTTP/1.1 " + QByteArray::number(status) + ' ' + reason(status) +
          "\r\n"
          "Content-Type: application/json; charset=utf-8\r\n"
          "Connection: close\r\n" +
          extraHeaders + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    if (!drain)
        m_finished = true;
}

// Past a refusal: follows what is left of the refused message, drops it, and
// closes once it has all arrived (anything after it is dropped too).
void GuardedSocket::drainPending()
{
    if (m_pendingPos < m_pending.size() && !m_finished) {
        qint64 pass = 0;
        consume(m_pending.constData() + m_pendingPos, m_pending.size() - m_pendingPos, &pass);
    }
    m_pending.clear();
    m_pendingPos = 0;
    if (m_finished && !m_closing) {
        m_closing = true;
        QMetaObject::invokeMethod(
            this, [this] { disconnectFromHost(); }, Qt::QueuedConnection);
    }
}

GuardedTcpServer::GuardedTcpServer(const GuardLimits &limits,
                                   std::function<bool(const QByteArray &)> bearerValid, QObject *parent)
    : QTcpServer(parent)
    , m_shared(std::make_shared<GuardShared>())
{
    m_shared->limits = limits;
    m_shared->clock = monotonicMs;
    m_shared->bearerValid = std::move(bearerValid);
    connect(&m_sweep, &QTimer::timeout, this, &GuardedTcpServer::sweep);
    m_sweep.start(1000);
}

void GuardedTcpServer::sweep()
{
    const qint64 now = m_shared->clock();
    const QList<GuardedSocket *> sockets = m_shared->sockets.values();
    for (GuardedSocket *s : sockets) {
        const qint64 deadline = s->deadline();
        if (deadline >= 0 && now >= deadline) {
            s->unregister();
            s->abort();
        }
    }
}

void GuardedTcpServer::incomingConnection(qintptr descriptor)
{
    auto *socket = new GuardedSocket(m_shared, this);
    // Unbuffered: what readData() returns goes to the reader, not back into the
    // socket's buffer, where takeIncoming() would see it a second time.
    if (!socket->setSocketDescriptor(descriptor, QAbstractSocket::ConnectedState,
                                     QIODevice::ReadWrite | QIODevice::Unbuffered)) {
        delete socket;
        return;
    }
    const GuardLimits &l = m_shared->limits;
    const QString peer = socket->peerAddress().toString();
    const bool peerFull = m_shared->perPeer.value(peer) >= l.maxConnectionsPerPeer;
    if (peerFull || m_shared->sockets.size() >= l.maxConnections) {
        // Make room by closing the oldest connection that never sent a whole
        // head (of this peer when it is the peer's cap), never a worker's.
        GuardedSocket *victim = nullptr;
        for (GuardedSocket *s : std::as_const(m_shared->sockets)) {
            if (s->evictable() && (!peerFull || s->peerKey() == peer) &&
                (!victim || s->serial() < victim->serial()))
                victim = s;
        }
        if (!victim) {
            connect(socket, &QAbstractSocket::disconnected, socket, &QObject::deleteLater);
            socket->write("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\n"
                          "Content-Length: 0\r\n\r\n");
            socket->disconnectFromHost();
            return;
        }
        victim->unregister();
        victim->abort();
    }
    socket->registerPeer();
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    addPendingConnection(socket);
}

} // namespace schedy::server
