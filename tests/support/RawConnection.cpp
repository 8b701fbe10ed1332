#include "RawConnection.h"

#include <QHostAddress>
#include <QTest>

namespace schedy::test {

RawConnection::RawConnection(quint16 port)
    : m_socket(std::make_unique<QTcpSocket>())
{
    m_socket->connectToHost(QHostAddress::LocalHost, port);
    [[maybe_unused]] const bool done = QTest::qWaitFor(
        [&] {
            return m_socket->state() == QAbstractSocket::ConnectedState ||
                   m_socket->state() == QAbstractSocket::UnconnectedState;
        },
        5000);
    QObject::connect(m_socket.get(), &QTcpSocket::readyRead, m_socket.get(),
                     [this] { m_buffer += m_socket->readAll(); });
}

bool RawConnection::connected() const
{
    return m_socket->state() == QAbstractSocket::ConnectedState;
}

bool RawConnection::closed() const
{
    return m_socket->state() == QAbstractSocket::UnconnectedState;
}

void RawConnection::send(const QByteArray &bytes)
{
    m_socket->write(bytes);
    m_socket->flush();
}

QByteArray RawConnection::Response::header(const QByteArray &name) const
{
    for (const QByteArray &line : head.split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && line.left(colon).trimmed().toLower() == name.toLower())
            return line.mid(colon + 1).trimmed();
    }
    return {};
}

bool RawConnection::parseOne(Response *r)
{
    const qsizetype end = m_buffer.indexOf("\r\n\r\n");
    if (end < 0)
        return false;
    const QByteArray head = m_buffer.left(end);
    Response parsed;
    parsed.head = head;
    parsed.status = head.mid(9, 3).toInt();
    const qint64 length = parsed.header("Content-Length").toLongLong();
    if (m_buffer.size() < end + 4 + length)
        return false;
    parsed.body = m_buffer.mid(end + 4, length);
    m_buffer.remove(0, end + 4 + length);
    *r = parsed;
    return true;
}

QList<RawConnection::Response> RawConnection::responses(int count, int timeoutMs)
{
    [[maybe_unused]] const bool done = QTest::qWaitFor(
        [&] {
            Response r;
            while (parseOne(&r))
                m_responses.append(r);
            return m_responses.size() >= count || closed();
        },
        timeoutMs);
    Response r;
    while (parseOne(&r))
        m_responses.append(r);
    return m_responses;
}

bool RawConnection::waitClosed(int timeoutMs)
{
    return QTest::qWaitFor([&] { return closed(); }, timeoutMs);
}

} // namespace schedy::test
