#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QSet>
#include <QString>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <functional>
#include <memory>

namespace schedy::server {

// The limits the guard in front of Qt HttpServer enforces (Qt 6.4 has none).
// Timeouts follow nginx's defaults; see docs/server.md.
struct GuardLimits
{
    qint64 maxBodyBytes = qint64(4) * 1024 * 1024;
    // Larger bodies need a valid bearer before a byte of them is taken (401).
    qint64 unauthenticatedBodyBytes = qint64(64) * 1024;
    // Declared body bytes of all connections together (503 + Retry-After beyond).
    qint64 maxBodyBytesInFlight = qint64(64) * 1024 * 1024;
    qint64 maxHeadBytes = qint64(64) * 1024; // 431 beyond
    int maxConnections = 4000;
    int maxConnectionsPerPeer = 500;
    qint64 headerTimeoutMs = 60000; // a whole request head, from its first byte (or the connection)
    qint64 bodyTimeoutMs = 60000;   // between two reads of a body
    qint64 idleTimeoutMs = 75000;   // keep-alive between requests
};

// What the guard reads from a request head. Anything that Qt's parser could
// frame differently from the guard (obsolete line folding, a duplicated or
// malformed Content-Length, a transfer coding other than chunked, both at
// once, control characters, an upgrade) is refused with 400 instead.
struct RequestHead
{
    int status = 0; // 0: acceptable; otherwise the refusal
    QString error;
    qint64 contentLength = 0;
    bool chunked = false;
    QByteArray authorization;
};
// `lines`: the request line and the header lines, without their line ends.
RequestHead checkHead(const QList<QByteArray> &lines);

class GuardedSocket;

// State shared by the listener and its sockets (which may outlive it briefly).
struct GuardShared
{
    GuardLimits limits;
    std::function<qint64()> clock;                       // monotonic milliseconds
    std::function<bool(const QByteArray &)> bearerValid; // an Authorization header
    qint64 bodyBytesInFlight = 0;
    quint64 accepted = 0;
    QSet<GuardedSocket *> sockets;
    QHash<QString, int> perPeer;
};

// A socket that follows the HTTP framing of the byte stream it hands to Qt's
// parser, refusing what it cannot frame exactly, bodies over the limits, and
// handing Qt one request at a time: after the end of a request nothing more is
// passed until requestDone() (so pipelined requests are answered in order,
// also when an answer waits for a password hash).
class GuardedSocket : public QTcpSocket
{
public:
    GuardedSocket(std::shared_ptr<GuardShared> shared, QObject *parent);
    ~GuardedSocket() override;

    qint64 bytesAvailable() const override;
    // The answer to the current request is written: pass on what follows.
    void requestDone();
    // Registered under its peer (after setSocketDescriptor).
    void registerPeer();
    void unregister();
    // When this connection must be closed (no request in it yet), or -1: none.
    qint64 deadline() const;
    // Refused, or never completed a request nor a head: what is closed first at the caps.
    bool evictable() const
    {
        return m_rejected || (m_requests == 0 && !m_handling && m_state == State::Head);
    }
    quint64 serial() const { return m_serial; } // order of acceptance
    // The request-target of the request Qt is handling, as sent: QUrl decodes
    // and re-encodes it, dropping a leading %EF%BB%BF from a name.
    QByteArray requestTarget() const { return m_target; }
    QString peerKey() const { return m_peer; }

protected:
    qint64 readData(char *data, qint64 maxSize) override;

private:
    enum class State { Head, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailer };

    void takeIncoming();
    qint64 consume(const char *data, qint64 n, qint64 *pass);
    bool headEnded(); // false when refused
    bool lineTooLong();
    void messageEnd();
    bool reserve(qint64 bytes); // false when refused
    void release();
    void refuse(int status, const QString &message, bool drain, const QByteArray &extraHeaders = {});
    void drainPending();

    std::shared_ptr<GuardShared> m_shared;
    QString m_peer;
    bool m_registered = false;
    QByteArray m_pending; // taken from the socket's buffer, not yet read by Qt
    qsizetype m_pendingPos = 0;
    bool m_taking = false;
    State m_state = State::Head;
    QByteArray m_line;
    QList<QByteArray> m_head;
    QByteArray m_target;
    qint64 m_headBytes = 0;
    bool m_authorized = false;
    bool m_chunked = false;
    bool m_chunkCr = false;
    qint64 m_remaining = 0;
    qint64 m_bodySeen = 0;
    qint64 m_reserved = 0;
    bool m_handling = false; // a request was handed to Qt and is not answered yet
    int m_requests = 0;
    qint64 m_acceptedAt = 0;
    quint64 m_serial = 0;
    qint64 m_headStartedAt = -1; // -1: between requests
    qint64 m_idleSince = 0;
    qint64 m_lastProgress = 0;
    bool m_rejected = false;
    bool m_finished = false;
    bool m_closing = false;
};

// The listener: creates GuardedSockets, caps connections (in total and per
// peer, closing connections that never sent a whole head first, so that
// established workers keep being served), and closes connections past their
// timeouts.
class GuardedTcpServer : public QTcpServer
{
    Q_OBJECT
public:
    GuardedTcpServer(const GuardLimits &limits, std::function<bool(const QByteArray &)> bearerValid,
                     QObject *parent = nullptr);
    // Monotonic milliseconds; replaceable so that tests can pass the timeouts.
    void setClock(std::function<qint64()> clock) { m_shared->clock = std::move(clock); }
    // Closes the connections past their timeouts (runs every second).
    void sweep();
    int connectionCount() const { return int(m_shared->sockets.size()); }
    qint64 bodyBytesInFlight() const { return m_shared->bodyBytesInFlight; }

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    std::shared_ptr<GuardShared> m_shared;
    QTimer m_sweep;
};

} // namespace schedy::server
