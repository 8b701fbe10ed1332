#include "SqlConnection.h"

#include <QAtomicInteger>
#include <QDir>
#include <QFileInfo>
#include <QUrl>
#include <QUrlQuery>

namespace schedy::server {
namespace {
QAtomicInteger<int> connectionCounter;
} // namespace

SqlConnection::SqlConnection(const QString &url)
    : m_url(url)
    , m_connectionName(QStringLiteral("schedy-store-%1").arg(connectionCounter.fetchAndAddRelaxed(1)))
{}

SqlConnection::~SqlConnection()
{
    m_queries.clear();
    if (m_db.isOpen()) {
        if (m_dialect == Dialect::SQLite)
            execRaw(QStringLiteral("PRAGMA optimize"));
        m_db.close();
    }
    m_db = QSqlDatabase();
    QSqlDatabase::removeDatabase(m_connectionName);
}

bool SqlConnection::open(QString *error)
{
    auto fail = [&](const QString &m) {
        if (error)
            *error = m;
        return false;
    };
    if (m_url.startsWith(QLatin1String("sqlite:"))) {
        m_dialect = Dialect::SQLite;
        const QString path = m_url.mid(7);
        if (path.isEmpty())
            return fail(QStringLiteral("sqlite: URL without a file path"));
        if (path != QLatin1String(":memory:")) {
            const QFileInfo info(path);
            if (!QDir().mkpath(info.absolutePath()))
                return fail(QStringLiteral("cannot create the folder %1").arg(info.absolutePath()));
        }
        m_db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connectionName);
        m_db.setDatabaseName(path);
        m_db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
    } else if (m_url.startsWith(QLatin1String("postgresql:")) ||
               m_url.startsWith(QLatin1String("postgres:"))) {
        m_dialect = Dialect::PostgreSQL;
        const QUrl url(m_url);
        if (!url.isValid())
            return fail(QStringLiteral("invalid PostgreSQL URL"));
        m_db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), m_connectionName);
        // No host (postgresql://USER@/DB): libpq's default, the local Unix socket
        // (/var/run/postgresql on Debian; ?host=/dir for another directory).
        if (!url.host().isEmpty())
            m_db.setHostName(url.host());
        m_db.setPort(url.port(5432));
        m_db.setUserName(url.userName(QUrl::FullyDecoded));
        m_db.setPassword(url.password(QUrl::FullyDecoded));
        m_db.setDatabaseName(url.path(QUrl::FullyDecoded).mid(1));
        // Query parameters are libpq connection parameters, as in libpq's own URLs:
        // ?sslmode=verify-full&sslrootcert=/etc/schedy/db-ca.pem&connect_timeout=10.
        // A password left out of the URL comes from PGPASSWORD or ~/.pgpass.
        QStringList options;
        for (const auto &[key, value] : QUrlQuery(url).queryItems(QUrl::FullyDecoded)) {
            QString v = value;
            v.replace(QLatin1Char('\\'), QLatin1String("\\\\"))
                .replace(QLatin1Char('\''), QLatin1String("\\'"));
            options << key + QStringLiteral("='") + v + QLatin1Char('\'');
        }
        if (!options.isEmpty())
            m_db.setConnectOptions(options.join(QLatin1Char(';')));
    } else {
        return fail(QStringLiteral("unsupported database URL '%1' (expected sqlite:PATH or postgresql://...)")
                        .arg(m_url));
    }
    // Qt loads its SQL drivers as plugins, so a missing one shows only here: name the package.
    if (!m_db.isValid()) {
        return fail(
            m_dialect == Dialect::PostgreSQL
                ? QStringLiteral("Qt's PostgreSQL driver (QPSQL) is not installed: install the package "
                                 "libqt6sql6-psql (apt-get install libqt6sql6-psql)")
                : QStringLiteral("Qt's SQLite driver (QSQLITE) is not installed: install the package "
                                 "libqt6sql6-sqlite (apt-get install libqt6sql6-sqlite)"));
    }
    if (!m_db.open())
        return fail(QStringLiteral("cannot open the database: %1").arg(m_db.lastError().text()));
    if (m_dialect == Dialect::PostgreSQL && !configurePostgres())
        return fail(QStringLiteral("cannot configure the PostgreSQL session: %1").arg(m_lastError));
    if (m_dialect == Dialect::SQLite) {
        // WAL lets readers proceed while a worker writes; NORMAL sync is durable
        // against process crashes, which is what a clean stop needs. The WAL is
        // checkpointed every 256 pages (1 MiB; SQLite's default is 1,000) and cut
        // back to 1 MiB after a checkpoint (by default it never shrinks), so that it
        // cannot fill a small disk by itself (issue 17, finding 8).
        for (const char *pragma :
             {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
              "PRAGMA temp_store=MEMORY", "PRAGMA cache_size=-65536", "PRAGMA wal_autocheckpoint=256",
              "PRAGMA journal_size_limit=1048576"}) {
            if (!execRaw(QLatin1String(pragma)))
                return fail(QStringLiteral("cannot configure SQLite: %1").arg(m_lastError));
        }
    }
    return true;
}

bool SqlConnection::execRaw(const QString &sql)
{
    // Transaction control runs two or three times per request: on SQLite those
    // statements stay prepared (PostgreSQL cannot prepare them).
    static const char *const Control[] = {"BEGIN IMMEDIATE", "BEGIN", "COMMIT", "ROLLBACK"};
    if (m_injectedFailure && !sql.startsWith(QLatin1String("ROLLBACK"))) {
        noteError(*m_injectedFailure);
        return false;
    }
    if (!m_db.isOpen())
        return notConnected();
    if (m_dialect == Dialect::SQLite) {
        for (const char *control : Control) {
            if (sql == QLatin1String(control)) {
                QSqlQuery &q = prepared(control);
                const bool ok = q.exec();
                if (!ok)
                    noteError(q.lastError());
                q.finish();
                return ok;
            }
        }
    }
    QSqlQuery q(m_db);
    if (!q.exec(sql)) {
        noteError(q.lastError());
        return false;
    }
    return true;
}

bool SqlConnection::notConnected()
{
    // A PostgreSQL connection that could not be opened again: said here rather
    // than by Qt's "database not open" warning at every statement of an outage.
    noteError(QSqlError(QStringLiteral("no connection to the database"), {}, QSqlError::ConnectionError));
    return false;
}

void SqlConnection::noteError(const QSqlError &error)
{
    const QString code = error.nativeErrorCode();
    // PostgreSQL refuses every statement after a failed one in a transaction
    // (25P02, "current transaction is aborted"): the first failure is the one
    // that tells what happened, and whether running again may succeed.
    if (m_dialect == Dialect::PostgreSQL && m_inTransaction && m_statementFailed)
        return;
    m_statementFailed = true;
    m_lastError = error.text();
    // SQLite: SQLITE_BUSY after the busy timeout. PostgreSQL: serialization
    // failure, deadlock, lock not available, a unique violation between two
    // processes inserting the same key, and a foreign key violation (a job
    // inserted as its experiment is deleted): the transaction is rolled back and
    // may simply run again (see retrying()), which then decides on what won.
    m_lastErrorRetryable =
        m_dialect == Dialect::PostgreSQL &&
        (code == QLatin1String("40001") || code == QLatin1String("40P01") || code == QLatin1String("55P03") ||
         code == QLatin1String("23505") || code == QLatin1String("23503"));
    m_lastFailure = classify(error);
    if (m_lastFailure == Failure::Unavailable || m_lastFailure == Failure::DiskFull)
        noteOutage(error);
}

SqlConnection::Failure SqlConnection::classify(const QSqlError &error) const
{
    const QString code = error.nativeErrorCode();
    if (m_dialect == Dialect::SQLite) {
        bool numeric = false;
        const int primary = code.toInt(&numeric) & 0xff; // an extended code's low byte is its primary code
        if (!numeric)
            return error.type() == QSqlError::ConnectionError ? Failure::Unavailable : Failure::Fault;
        switch (primary) {
        case 5: // SQLITE_BUSY
        case 6: // SQLITE_LOCKED
            return Failure::Conflict;
        case 13: // SQLITE_FULL
            return Failure::DiskFull;
        case 7:  // SQLITE_NOMEM
        case 8:  // SQLITE_READONLY (a file system remounted read-only)
        case 10: // SQLITE_IOERR
        case 14: // SQLITE_CANTOPEN
        case 15: // SQLITE_PROTOCOL
            return Failure::Unavailable;
        default:
            return Failure::Fault; // SQLITE_CORRUPT, SQLITE_CONSTRAINT, a bad statement...
        }
    }
    if (m_lastErrorRetryable)
        return Failure::Conflict;
    if (code == QLatin1String("53100")) // disk_full
        return Failure::DiskFull;
    // No SQLSTATE: libpq's own error, the connection is gone (a server always sends one).
    // 08: connection exception; 53: insufficient resources; 57P01-57P05: shutdown,
    // crash, starting up, idle timeouts; 57014: a statement timeout; 58: system I/O
    // error; 25006: a read-only transaction, i.e. a standby after a failover.
    if (code.isEmpty() || error.type() == QSqlError::ConnectionError ||
        code.startsWith(QLatin1String("08")) || code.startsWith(QLatin1String("53")) ||
        code.startsWith(QLatin1String("57P")) || code == QLatin1String("57014") ||
        code.startsWith(QLatin1String("58")) || code == QLatin1String("25006"))
        return Failure::Unavailable;
    return Failure::Fault;
}

void SqlConnection::noteOutage(const QSqlError &error)
{
    if (m_inOutage)
        return;
    m_inOutage = true;
    qWarning("schedy: the database %s (%s): answering 503 until it works again",
             m_lastFailure == Failure::DiskFull ? "is out of disk space" : "is unavailable",
             qPrintable(error.text().simplified()));
}

void SqlConnection::noteSuccess()
{
    if (!m_inOutage)
        return;
    m_inOutage = false;
    qWarning("schedy: the database works again");
}

QString SqlConnection::failureMessage() const
{
    if (m_commitUncertain) {
        return QStringLiteral("the database connection was lost during COMMIT: the change may or may not "
                              "have been saved; read it back before repeating it");
    }
    switch (m_lastFailure) {
    case Failure::Conflict:
        return QStringLiteral("the database is busy; nothing was changed");
    case Failure::Unavailable:
        return QStringLiteral("the database is unavailable; nothing was changed, retry later");
    case Failure::DiskFull:
        return QStringLiteral("the database is out of disk space; nothing was changed, retry later");
    case Failure::Fault:
        break;
    }
    return QStringLiteral("database error; nothing was changed");
}

bool SqlConnection::configurePostgres()
{
    // NOTICEs (such as "relation meta already exists, skipping") are not worth
    // a line on the server's stderr; the name shows in pg_stat_activity.
    return execRaw(QStringLiteral("SET client_min_messages = warning")) &&
           execRaw(QStringLiteral("SET application_name = 'schedy-server'"));
}

bool SqlConnection::reconnect()
{
    if (m_dialect != Dialect::PostgreSQL)
        return false;
    QSqlQuery probe(m_db);
    if (m_db.isOpen() && probe.exec(QStringLiteral("SELECT 1")))
        return false; // the connection works: the failure was something else
    probe = QSqlQuery();
    if (!m_inOutage) // during an outage every request tries again: said once
        qWarning("schedy: the database connection was lost, connecting again");
    m_queries.clear(); // prepared statements belong to the old session
    m_db.close();
    if (!m_db.open()) {
        noteError(m_db.lastError());
        return false;
    }
    return configurePostgres();
}

QSqlQuery &SqlConnection::prepared(const char *sql)
{
    auto it = m_queries.find(sql);
    if (it == m_queries.end() && !m_db.isOpen()) {
        notConnected();
        m_unprepared = QSqlQuery(m_db);
        return m_unprepared;
    }
    if (it == m_queries.end()) {
        QSqlQuery q(m_db);
        q.setForwardOnly(true);
        if (!q.prepare(QString::fromUtf8(sql))) {
            // Not kept: a statement that could not be prepared (say, in a
            // transaction PostgreSQL had already aborted) is prepared again next time.
            qWarning("schedy: cannot prepare %s: %s", sql, qPrintable(q.lastError().text()));
            noteError(q.lastError());
            m_unprepared = QSqlQuery(m_db);
            return m_unprepared;
        }
        it = m_queries.insert(sql, q);
    }
    return *it;
}

bool SqlConnection::exec(QSqlQuery &q)
{
    if (m_injectedFailure) {
        noteError(*m_injectedFailure);
        return false;
    }
    if (!m_db.isOpen())
        return notConnected();
    if (q.exec())
        return true;
    if (q.lastError().isValid())
        noteError(q.lastError());
    // A conflict between processes is retried, not a fault; an outage is logged once
    // when it starts (noteOutage()).
    if (!m_lastErrorRetryable && m_lastFailure != Failure::Unavailable && m_lastFailure != Failure::DiskFull)
        qWarning("schedy: database error: %s", qPrintable(m_lastError));
    return false;
}

double SqlConnection::now()
{
    using namespace std::chrono;
    const double t =
        double(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()) / 1e6;
    // Strictly increasing within this process, so modifiedSince never misses a change.
    m_lastNow = t > m_lastNow ? t : m_lastNow + 1e-6;
    return m_lastNow;
}

SqlConnection::Transaction::Transaction(SqlConnection &connection, bool write)
    : m_c(connection)
{
    const bool sqlite = m_c.m_dialect == Dialect::SQLite;
    const QString begin = sqlite
                              ? (write ? QStringLiteral("BEGIN IMMEDIATE") : QStringLiteral("BEGIN"))
                              : (write ? QStringLiteral("BEGIN")
                                       : QStringLiteral("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    m_ok = m_c.execRaw(begin);
    if (!m_ok && !sqlite && m_c.reconnect())
        m_ok = m_c.execRaw(begin);
    m_c.m_statementFailed = false;
    m_c.m_commitUncertain = false;
    m_c.m_inTransaction = m_ok;
}

SqlConnection::Transaction::~Transaction()
{
    if (m_ok && !m_done)
        m_c.execRaw(QStringLiteral("ROLLBACK"));
    m_c.m_inTransaction = false;
}

void SqlConnection::Transaction::rollbackKeepingError()
{
    // The reason reported is the failed statement's or COMMIT's, not the ROLLBACK's.
    const QString error = m_c.m_lastError;
    const Failure failure = m_c.m_lastFailure;
    const bool retryable = m_c.m_lastErrorRetryable;
    m_c.execRaw(QStringLiteral("ROLLBACK"));
    m_c.m_lastError = error;
    m_c.m_lastFailure = failure;
    m_c.m_lastErrorRetryable = retryable;
}

bool SqlConnection::Transaction::commit()
{
    m_done = true;
    // A statement of this transaction failed (and was not acted upon): nothing
    // is kept. On PostgreSQL the transaction is aborted anyway, and COMMIT
    // would quietly roll it back without an error.
    if (m_c.m_statementFailed) {
        rollbackKeepingError();
        return false;
    }
    if (m_c.execRaw(QStringLiteral("COMMIT"))) {
        m_c.noteSuccess();
        return true;
    }
    // PostgreSQL: a COMMIT refused by the server (a serialization failure, say) rolled
    // back, but one whose connection was lost may have been applied before the answer
    // was. SQLite's COMMIT is atomic in this process: an error means nothing was kept.
    m_c.m_commitUncertain = m_c.m_dialect == Dialect::PostgreSQL && m_c.m_lastFailure == Failure::Unavailable;
    rollbackKeepingError();
    return false;
}

} // namespace schedy::server
