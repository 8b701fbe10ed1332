#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

#include <functional>

namespace schedy::server {

// What `schedy-server migrate` copied, table by table.
struct CopiedTable
{
    QString table;
    qint64 rows = 0;     // rows in the source, and (verified) in the target
    QByteArray checksum; // SHA-256 (hex) of the rows in key order, equal on both sides
};

struct CopyOptions
{
    QString from; // sqlite:PATH or postgresql://...
    QString to;
    bool force = false;                            // replace what the target holds instead of refusing it
    std::function<void(const QString &)> progress; // one line per step (may be empty)
};

// Copies a whole Schedy database into another one, of either backend (SQLite
// -> PostgreSQL, the usual move to several server processes, and back):
// users, experiments and jobs with their original ids, row numbers, versions
// and timestamps, so that every document, ETag and cursor stays the same, and
// the token signing secret, so that bearers already handed out stay valid.
// The row sequences continue past the source's (ids are never reused). Job
// counts are rebuilt by the target's triggers. Both databases get the current
// schema first. The copy is one transaction on the target, committed only
// when the row counts and a checksum per table match the source's (read in
// one snapshot); on any difference nothing is kept. A target that already
// holds users, experiments or jobs is refused unless `force`.
// Stop the servers on the source first: writes made during the copy are not in it.
bool copyDatabase(const CopyOptions &options, QList<CopiedTable> *report, QString *error);

} // namespace schedy::server
