#pragma once

#include <QMetaType>
#include <QString>

namespace schedy {

// Why a call failed; mirrors the original Python client's exceptions.
struct ClientError
{
    enum class Kind {
        None,
        Authentication,    // 403: wrong credentials, or not allowed
        Reauthenticate,    // 401 that survived a renewed bearer
        UnsafeUpdate,      // 412 on a job or experiment update (someone else changed it)
        ResourceExists,    // 412 on a create-only request
        NoJob,             // 204 from nextjob/
        ClientRequest,     // other 4xx
        Server,            // 5xx after the retries
        UnhandledResponse, // bad JSON, an unexpected status code, a truncated body
        Network,           // no connection after the retries
        Timeout,           // no answer in time after the retries
        Aborted            // cancelled by the caller
    };

    Kind kind = Kind::None;
    int httpStatus = 0;
    QString message; // the server's message, or ours
    // What became of a job, from the Schedy-Job-Status header of a job write's or a
    // heartbeat's answer (extension, docs/protocol.md 8.2/8.3): e.g. "PRUNED", "CRASHED".
    QString jobStatus;

    // A 412 because the server stopped the job: its pruner did (jobPruned), or its lease
    // expired and it was declared lost (jobLost). Servers without the header are
    // recognised by their message.
    bool jobPruned() const;
    bool jobLost() const;

    bool isError() const { return kind != Kind::None; }
    QString toString() const;
    static QString kindName(Kind kind);
};

} // namespace schedy

Q_DECLARE_METATYPE(schedy::ClientError)
