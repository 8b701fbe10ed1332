#pragma once

// Small helpers shared by the store's entity files.

#include "SqlCodes.h"
#include "SqlConnection.h"
#include "Store.h"

#include <QByteArray>
#include <QString>

#include <optional>
#include <utility>

namespace schedy::server {

// A null QString binds as SQL NULL; NOT NULL text columns want ''.
inline QString nonNull(const QByteArray &latin1)
{
    return latin1.isEmpty() ? QStringLiteral("") : QString::fromLatin1(latin1);
}

// An unknown code (written by a newer program) reads as QUEUED, as before.
inline JobStatus jobStatusFromCode(int code)
{
    return sqlcode::jobStatus(code).value_or(JobStatus::Queued);
}

inline QByteArray etagOf(qint64 seq, qint64 version)
{
    return '"' + QByteArray::number(seq, 36) + '.' + QByteArray::number(version, 36) + '"';
}

// An experiment's ETag: its row and version, marked so that it never equals a job's.
inline QByteArray experimentEtagOf(qint64 id, qint64 version)
{
    return "\"e" + QByteArray::number(id, 36) + '.' + QByteArray::number(version, 36) + '"';
}

// The row and version an ETag of etagOf() (or experimentEtagOf(), `experiment`) names.
inline std::optional<std::pair<qint64, qint64>> parseEtag(const QByteArray &etag, bool experiment)
{
    const qsizetype skip = experiment ? 2 : 1;
    if (etag.size() < skip + 4 || !etag.startsWith(experiment ? "\"e" : "\"") || !etag.endsWith('"'))
        return std::nullopt;
    const QByteArray inner = etag.mid(skip, etag.size() - skip - 1);
    const qsizetype dot = inner.indexOf('.');
    bool rowOk = false, versionOk = false;
    const qint64 row = inner.left(dot).toLongLong(&rowOk, 36);
    const qint64 version = inner.mid(dot + 1).toLongLong(&versionOk, 36);
    if (dot <= 0 || !rowOk || !versionOk)
        return std::nullopt;
    return std::pair<qint64, qint64>(row, version);
}

// The answer for an experiment that is missing or another user's (the same, so names do not leak),
// after a lookup that found no row: "not found" only when the lookup's query worked.
template <typename T> StoreResult<T> noExperiment(const SqlConnection &sql, const QString &name)
{
    if (sql.statementFailed())
        return sql.failure<T>();
    return StoreResult<T>::fail(StoreStatus::NotFound, QStringLiteral("no experiment named '%1'").arg(name));
}

} // namespace schedy::server
