#pragma once

#include <QByteArray>
#include <QList>
#include <QTcpSocket>

#include <memory>

namespace schedy::test {

// A hand-written HTTP/1.1 connection to a server on 127.0.0.1 (only), for
// hostile clients: half-sent heads, folded headers, bodies that never come.
// Waits run the event loop (an in-process server answers from it) and are
// bounded; none sleeps.
class RawConnection
{
public:
    explicit RawConnection(quint16 port);
    bool connected() const;
    void send(const QByteArray &bytes);

    struct Response
    {
        int status = 0;
        QByteArray head; // status line and headers, lower-cased names
        QByteArray body;
        QByteArray header(const QByteArray &name) const;
    };
    // The complete responses read so far, waiting up to `timeoutMs` for `count`
    // of them or for the connection to close, whichever comes first.
    QList<Response> responses(int count, int timeoutMs = 5000);
    // Waits until the server has closed the connection; true when it has.
    bool waitClosed(int timeoutMs = 5000);
    bool closed() const;

private:
    bool parseOne(Response *r);
    std::unique_ptr<QTcpSocket> m_socket;
    QByteArray m_buffer;
    QList<Response> m_responses;
};

} // namespace schedy::test
