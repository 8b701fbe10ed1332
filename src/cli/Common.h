#pragma once

#include "ClientError.h"

#include <QByteArray>
#include <QString>

// Exit codes and output helpers shared by the commands (docs/cli.md).
namespace schedy::cli {

enum ExitCode {
    ExitOk = 0,
    ExitFailure = 1,     // anything else (a file that cannot be written, ...)
    ExitUsage = 2,       // bad arguments or values
    ExitNotFound = 3,    // no such experiment or job
    ExitCredentials = 4, // no usable config, or the server refused the credentials
    ExitUnreachable = 5, // no answer from the server (after the retries)
    ExitServer = 6,      // the server failed (5xx) or answered nonsense
    ExitConflict = 7,    // already exists, or changed by someone else meanwhile
    ExitRefused = 8,     // the server refused the request as invalid (other 4xx)
    ExitJobFailed = 9,   // run: a job's command failed
    ExitJobStopped = 10, // run: the server stopped the job (pruned, or lost), and the run ended with it
};

int exitCodeFor(const ClientError &error);
// A one-line description of a failed call.
QString describe(const ClientError &error);

void writeOut(const QString &text);
void writeOutBytes(const QByteArray &bytes);
void writeErr(const QString &text);
// "schedy: MESSAGE\n" on stderr; returns `code`.
int failWith(int code, const QString &message);

} // namespace schedy::cli
