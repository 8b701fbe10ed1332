#pragma once

// The listing query builder: the SQL of one page of a job listing (filters,
// sort keys, keyset or offset paging on both dialects) and the opaque cursors
// of job and experiment listings.

#include "Store.h"

#include <QCborArray>
#include <QString>
#include <QVariantList>

#include <optional>

// The columns every job query reads, in the order SqlStore::jobFromQuery expects.
#define SCHEDY_JOB_COLUMNS                                                                                   \
    "seq, job_id, status, hyperparameters, results, created_at, modified_at, version, generation, parent, "  \
    "member, pruned, lost_at, replaced_by, replaces, grid_index"

namespace schedy::server {

QString encodeCursor(const QCborArray &parts);
std::optional<QCborArray> decodeCursor(const QString &cursor);

class JobListingSql
{
public:
    // Invalid (nullopt) when the query's cursor is not one of this listing's.
    static std::optional<JobListingSql> prepare(const JobQuery &query, bool sqlite);

    // For the experiment's row id: the count of matching jobs, and one page of
    // SCHEDY_JOB_COLUMNS (limit + 1 rows: one more tells whether a next page exists).
    std::pair<QString, QVariantList> countSql(qint64 experimentId) const;
    std::pair<QString, QVariantList> pageSql(qint64 experimentId) const;
    // The cursor of the page after the one that ended with `last` (of row `lastSeq`).
    QString nextCursor(const StoredJob &last, qint64 lastSeq) const;

private:
    JobListingSql() = default;
    std::pair<QString, QVariantList> where(qint64 experimentId) const;

    JobQuery m_query;
    bool m_sqlite = true;
    QString m_tag;
    std::optional<QCborArray> m_cursor;
    QString m_keyExpr; // the sort key besides seq, empty for seq order
    QVariantList m_keyBinds;
    bool m_offsetPaging = false;
};

} // namespace schedy::server
