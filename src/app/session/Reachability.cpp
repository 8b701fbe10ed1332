#include "Reachability.h"

namespace schedy {

Reachability::Reachability(QObject *parent)
    : QObject(parent)
    , m_clock([] { return QDateTime::currentDateTime(); })
{}

bool Reachability::isOutage(const ClientError &error)
{
    using K = ClientError::Kind;
    return error.kind == K::Network || error.kind == K::Timeout || error.kind == K::Server;
}

bool Reachability::report(const ClientError &error)
{
    if (!isOutage(error))
        return false;
    m_reason = error.toString();
    if (!m_since.isValid()) {
        m_since = m_clock();
        Q_EMIT changed(false);
    }
    return true;
}

void Reachability::reportReached()
{
    if (m_since.isValid()) {
        m_since = {};
        m_reason.clear();
        Q_EMIT changed(true);
    }
}

QString Reachability::text() const
{
    if (isReachable())
        return {};
    return tr("Unreachable since %1 — retrying").arg(m_since.toString(QStringLiteral("HH:mm:ss")));
}

} // namespace schedy
