#include "Common.h"

#include <cstdio>

namespace schedy::cli {

int exitCodeFor(const ClientError &error)
{
    using K = ClientError::Kind;
    switch (error.kind) {
    case K::None:
    case K::NoJob:
        return ExitOk;
    case K::Authentication:
    case K::Reauthenticate:
        return ExitCredentials;
    case K::UnsafeUpdate:
    case K::ResourceExists:
        return ExitConflict;
    case K::ClientRequest:
        return error.httpStatus == 404 ? ExitNotFound : ExitRefused;
    case K::Server:
    case K::UnhandledResponse:
        return ExitServer;
    case K::Network:
    case K::Timeout:
        return ExitUnreachable;
    case K::Aborted:
        return ExitFailure;
    }
    return ExitFailure;
}

QString describe(const ClientError &error)
{
    using K = ClientError::Kind;
    const QString status =
        error.httpStatus > 0 ? QStringLiteral(" (HTTP %1)").arg(error.httpStatus) : QString();
    QString what;
    switch (error.kind) {
    case K::ClientRequest:
        what =
            error.httpStatus == 404 ? QStringLiteral("not found") : QStringLiteral("refused by the server");
        break;
    case K::Authentication:
        what = QStringLiteral("authentication failed");
        break;
    case K::Reauthenticate:
        what = QStringLiteral("the server no longer accepts the login");
        break;
    case K::Network:
        what = QStringLiteral("server unreachable");
        break;
    case K::Timeout:
        what = QStringLiteral("no answer from the server");
        break;
    default:
        what = ClientError::kindName(error.kind);
    }
    QString message = error.message;
    message.replace(QLatin1Char('\n'), QLatin1Char(' '));
    if (message.isEmpty() || message == ClientError::kindName(error.kind))
        return what + status;
    return what + status + QStringLiteral(": ") + message;
}

void writeOutBytes(const QByteArray &bytes)
{
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stdout);
    std::fflush(stdout);
}

void writeOut(const QString &text)
{
    writeOutBytes(text.toUtf8());
}

void writeErr(const QString &text)
{
    std::fflush(stdout);
    const QByteArray bytes = text.toUtf8();
    std::fwrite(bytes.constData(), 1, size_t(bytes.size()), stderr);
    std::fflush(stderr);
}

int failWith(int code, const QString &message)
{
    writeErr(QStringLiteral("schedy: ") + message + QLatin1Char('\n'));
    return code;
}

} // namespace schedy::cli
