#include "ClientError.h"

namespace schedy {

QString ClientError::kindName(Kind kind)
{
    switch (kind) {
    case Kind::None:
        return QStringLiteral("no error");
    case Kind::Authentication:
        return QStringLiteral("authentication failed");
    case Kind::Reauthenticate:
        return QStringLiteral("authentication expired");
    case Kind::UnsafeUpdate:
        return QStringLiteral("changed by someone else");
    case Kind::ResourceExists:
        return QStringLiteral("already exists");
    case Kind::NoJob:
        return QStringLiteral("no job available");
    case Kind::ClientRequest:
        return QStringLiteral("request refused");
    case Kind::Server:
        return QStringLiteral("server error");
    case Kind::UnhandledResponse:
        return QStringLiteral("unexpected response");
    case Kind::Network:
        return QStringLiteral("server unreachable");
    case Kind::Timeout:
        return QStringLiteral("server did not answer in time");
    case Kind::Aborted:
        return QStringLiteral("cancelled");
    }
    return {};
}

bool ClientError::jobPruned() const
{
    if (httpStatus != 412)
        return false;
    if (!jobStatus.isEmpty())
        return jobStatus == QLatin1String("PRUNED");
    return message.contains(QLatin1String("pruned"), Qt::CaseInsensitive);
}

bool ClientError::jobLost() const
{
    if (httpStatus != 412 || jobPruned())
        return false;
    if (!jobStatus.isEmpty())
        return jobStatus == QLatin1String("CRASHED");
    return message.contains(QLatin1String("lost"), Qt::CaseInsensitive);
}

QString ClientError::toString() const
{
    QString s = kindName(kind);
    if (httpStatus > 0)
        s += QStringLiteral(" (HTTP %1)").arg(httpStatus);
    if (!message.isEmpty())
        s += QStringLiteral(": ") + message;
    return s;
}

} // namespace schedy
