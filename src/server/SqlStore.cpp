#include "SqlStore.h"

#include "Auth.h"
#include "Codec.h"
#include "Json.h"
#include "PbtPlanner.h"
#include "Sampler.h"

#include <QAtomicInteger>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QSqlError>
#include <QSqlRecord>
#include <QStandardPaths>
#include <QUrl>
#include <QUrlQuery>
#include <QVariant>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace schedy::server {
namespace {

QAtomicInteger<int> connectionCounter;

// A null QString binds as SQL NULL; NOT NULL text columns want ''.
QString nonNull(const QByteArray &latin1)
{
    return latin1.isEmpty() ? QStringLiteral("") : QString::fromLatin1(latin1);
}

int statusCode(JobStatus s)
{
    return int(s);
}
JobStatus statusFrom(int code)
{
    return code >= 0 && code < JobStatusCount ? JobStatus(code) : JobStatus::Queued;
}

// Schema migrations, in order; entry i brings the schema to version i + 1.
struct Migration
{
    const char *sqlite;
    const char *postgresql;
};

const Migration Migrations[] = {
    {R"SQL(
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL DEFAULT '',
  token_hash TEXT NOT NULL DEFAULT '',
  created_at REAL NOT NULL);
CREATE TABLE experiments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  status INTEGER NOT NULL,
  scheduler TEXT NOT NULL,
  created_at REAL NOT NULL,
  modified_at REAL NOT NULL,
  UNIQUE (user_id, name));
CREATE TABLE jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  job_id TEXT NOT NULL,
  status INTEGER NOT NULL,
  hyperparameters TEXT NOT NULL,
  results TEXT NOT NULL,
  created_at REAL NOT NULL,
  modified_at REAL NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  generation INTEGER,
  parent TEXT,
  member TEXT,
  predecessor TEXT,
  ready_at REAL,
  lease_until REAL NOT NULL DEFAULT 0,
  UNIQUE (experiment_id, job_id));
CREATE INDEX jobs_by_status ON jobs (experiment_id, status, seq);
CREATE INDEX jobs_by_modified ON jobs (experiment_id, modified_at);
CREATE TABLE job_counts (
  experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  status INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (experiment_id, status));
CREATE TRIGGER jobs_count_insert AFTER INSERT ON jobs BEGIN
  INSERT INTO job_counts (experiment_id, status, n) VALUES (NEW.experiment_id, NEW.status, 1)
    ON CONFLICT (experiment_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN
  UPDATE job_counts SET n = n - 1 WHERE experiment_id = OLD.experiment_id AND status = OLD.status;
END;
CREATE TRIGGER jobs_count_update AFTER UPDATE OF status ON jobs WHEN OLD.status <> NEW.status BEGIN
  UPDATE job_counts SET n = n - 1 WHERE experiment_id = OLD.experiment_id AND status = OLD.status;
  INSERT INTO job_counts (experiment_id, status, n) VALUES (NEW.experiment_id, NEW.status, 1)
    ON CONFLICT (experiment_id, status) DO UPDATE SET n = n + 1;
END;
)SQL",
     R"SQL(
CREATE TABLE users (
  id BIGSERIAL PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL DEFAULT '',
  token_hash TEXT NOT NULL DEFAULT '',
  created_at DOUBLE PRECISION NOT NULL);
CREATE TABLE experiments (
  id BIGSERIAL PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  status INTEGER NOT NULL,
  scheduler TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  modified_at DOUBLE PRECISION NOT NULL,
  UNIQUE (user_id, name));
CREATE TABLE jobs (
  seq BIGSERIAL PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  job_id TEXT NOT NULL,
  status INTEGER NOT NULL,
  hyperparameters TEXT NOT NULL,
  results TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  modified_at DOUBLE PRECISION NOT NULL,
  version BIGINT NOT NULL DEFAULT 1,
  generation BIGINT,
  parent TEXT,
  member TEXT,
  predecessor TEXT,
  ready_at DOUBLE PRECISION,
  lease_until DOUBLE PRECISION NOT NULL DEFAULT 0,
  UNIQUE (experiment_id, job_id));
CREATE INDEX jobs_by_status ON jobs (experiment_id, status, seq);
CREATE INDEX jobs_by_modified ON jobs (experiment_id, modified_at);
CREATE TABLE job_counts (
  experiment_id BIGINT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  status INTEGER NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (experiment_id, status));
CREATE FUNCTION schedy_count_jobs() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE job_counts SET n = n - 1 WHERE experiment_id = OLD.experiment_id AND status = OLD.status;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO job_counts (experiment_id, status, n) VALUES (NEW.experiment_id, NEW.status, 1)
      ON CONFLICT (experiment_id, status) DO UPDATE SET n = job_counts.n + 1;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER jobs_count_insert AFTER INSERT OR DELETE ON jobs FOR EACH ROW EXECUTE FUNCTION schedy_count_jobs();
CREATE TRIGGER jobs_count_update AFTER UPDATE OF status ON jobs FOR EACH ROW
  WHEN (OLD.status <> NEW.status) EXECUTE FUNCTION schedy_count_jobs();
)SQL"},
    // 2: listing in insertion order (the default, newest first, paging by seq)
    // walks an index instead of sorting the experiment's jobs for every page.
    {"CREATE INDEX jobs_by_seq ON jobs (experiment_id, seq);",
     "CREATE INDEX jobs_by_seq ON jobs (experiment_id, seq);"},
    // 3: experiments get a version, bumped at every change of status or scheduler,
    // for their ETag (If-Match on PUT). Existing experiments start at 1.
    {"ALTER TABLE experiments ADD COLUMN version INTEGER NOT NULL DEFAULT 1;",
     "ALTER TABLE experiments ADD COLUMN version BIGINT NOT NULL DEFAULT 1;"},
};

// Statements of a migration script, split on ';' outside of $$ bodies and
// trigger BEGIN ... END blocks.
QStringList splitStatements(const QString &script)
{
    QStringList out;
    QString current;
    bool inDollar = false;
    int beginDepth = 0;
    const QStringList lines = script.split(QLatin1Char('\n'));
    for (const QString &line : lines) {
        current += line + QLatin1Char('\n');
        if (line.count(QStringLiteral("$$")) % 2 == 1)
            inDollar = !inDollar;
        const QString t = line.trimmed();
        if (t.startsWith(QLatin1String("CREATE TRIGGER")) && t.endsWith(QLatin1String("BEGIN")))
            ++beginDepth;
        if (inDollar)
            continue;
        if (beginDepth > 0) {
            if (t == QLatin1String("END;")) {
                --beginDepth;
                out << current.trimmed();
                current.clear();
            }
            continue;
        }
        if (t.endsWith(QLatin1Char(';'))) {
            out << current.trimmed();
            current.clear();
        }
    }
    if (!current.trimmed().isEmpty())
        out << current.trimmed();
    return out;
}

QByteArray etagOf(qint64 seq, qint64 version)
{
    return '"' + QByteArray::number(seq, 36) + '.' + QByteArray::number(version, 36) + '"';
}

// An experiment's ETag: its row and version, marked so that it never equals a job's.
QByteArray experimentEtagOf(qint64 id, qint64 version)
{
    return "\"e" + QByteArray::number(id, 36) + '.' + QByteArray::number(version, 36) + '"';
}

constexpr auto B64 = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

QString encodeCursor(const QCborArray &parts)
{
    return QString::fromLatin1(json::write(parts).toBase64(B64));
}

std::optional<QCborArray> decodeCursor(const QString &cursor)
{
    const auto decoded = QByteArray::fromBase64Encoding(
        cursor.toLatin1(), QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    json::ParseError e;
    const QCborValue v = json::parse(*decoded, &e);
    if (e.isError() || !v.isArray())
        return std::nullopt;
    return v.toArray();
}

QString sortTag(const JobSort &s)
{
    QString tag;
    switch (s.field) {
    case JobSort::Field::Default:
        tag = QStringLiteral("seq");
        break;
    case JobSort::Field::Id:
        tag = QStringLiteral("id");
        break;
    case JobSort::Field::Status:
        tag = QStringLiteral("status");
        break;
    case JobSort::Field::CreatedAt:
        tag = QStringLiteral("seq");
        break;
    case JobSort::Field::ModifiedAt:
        tag = QStringLiteral("modified");
        break;
    case JobSort::Field::Hyperparameter:
        tag = QStringLiteral("h:") + s.name;
        break;
    case JobSort::Field::Result:
        tag = QStringLiteral("r:") + s.name;
        break;
    }
    return tag + (s.descending ? QStringLiteral(":desc") : QStringLiteral(":asc"));
}

// The answer for an experiment that is missing or another user's (the same, so names do not leak).
template <typename T> StoreResult<T> noExperiment(const QString &name)
{
    return StoreResult<T>::fail(StoreStatus::NotFound, QStringLiteral("no experiment named '%1'").arg(name));
}

} // namespace

// BEGIN IMMEDIATE on SQLite takes the write lock up front, so two processes
// never deadlock upgrading read locks. PostgreSQL writes run in READ COMMITTED
// and take row locks (the experiment row, FOR NO KEY UPDATE, serializes the
// scheduling of one experiment; a job row, FOR UPDATE, its ETag check); reads
// run in one REPEATABLE READ snapshot, so a page and its total agree. A
// PostgreSQL connection found broken at BEGIN is opened again (nothing was
// sent yet, so nothing can be applied twice). Rolled back unless committed.
class SqlStore::Transaction
{
public:
    explicit Transaction(SqlStore &store, bool write = true)
        : m_store(store)
    {
        const bool sqlite = store.m_dialect == Dialect::SQLite;
        const QString begin =
            sqlite ? (write ? QStringLiteral("BEGIN IMMEDIATE") : QStringLiteral("BEGIN"))
                   : (write ? QStringLiteral("BEGIN")
                            : QStringLiteral("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
        m_ok = store.execRaw(begin);
        if (!m_ok && !sqlite && store.reconnect())
            m_ok = store.execRaw(begin);
        store.m_statementFailed = false;
        store.m_inTransaction = m_ok;
    }
    ~Transaction()
    {
        if (m_ok && !m_done)
            m_store.execRaw(QStringLiteral("ROLLBACK"));
        m_store.m_inTransaction = false;
    }
    bool ok() const { return m_ok; }
    bool commit()
    {
        m_done = true;
        // A statement of this transaction failed (and was not acted upon): nothing
        // is kept. On PostgreSQL the transaction is aborted anyway, and COMMIT
        // would quietly roll it back without an error.
        if (m_store.m_statementFailed) {
            const QString error = m_store.m_lastError;
            const bool busy = m_store.m_lastErrorBusy, retryable = m_store.m_lastErrorRetryable;
            m_store.execRaw(QStringLiteral("ROLLBACK"));
            m_store.m_lastError = error;
            m_store.m_lastErrorBusy = busy;
            m_store.m_lastErrorRetryable = retryable;
            return false;
        }
        if (m_store.execRaw(QStringLiteral("COMMIT")))
            return true;
        const QString error = m_store.m_lastError;
        const bool busy = m_store.m_lastErrorBusy, retryable = m_store.m_lastErrorRetryable;
        m_store.execRaw(QStringLiteral("ROLLBACK"));
        m_store.m_lastError = error; // the reason is the COMMIT's, not the ROLLBACK's
        m_store.m_lastErrorBusy = busy;
        m_store.m_lastErrorRetryable = retryable;
        return false;
    }

private:
    SqlStore &m_store;
    bool m_ok = false;
    bool m_done = false;
};

SqlStore::SqlStore(const QString &url)
    : m_url(url)
    , m_connectionName(QStringLiteral("schedy-store-%1").arg(connectionCounter.fetchAndAddRelaxed(1)))
{}

SqlStore::~SqlStore()
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

QString SqlStore::defaultSqliteUrl()
{
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    const QString base = dir.isEmpty() ? QDir::homePath() + QStringLiteral("/.local/share/schedy") : dir;
    return QStringLiteral("sqlite:") + base + QStringLiteral("/schedy.sqlite3");
}

int SqlStore::latestSchemaVersion()
{
    return int(std::size(Migrations));
}

bool SqlStore::open(QString *error)
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
    if (!m_db.isValid())
        return fail(QStringLiteral("the Qt SQL driver for %1 is not installed")
                        .arg(m_url.section(QLatin1Char(':'), 0, 0)));
    if (!m_db.open())
        return fail(QStringLiteral("cannot open the database: %1").arg(m_db.lastError().text()));
    if (m_dialect == Dialect::PostgreSQL && !configurePostgres())
        return fail(QStringLiteral("cannot configure the PostgreSQL session: %1").arg(m_lastError));
    if (m_dialect == Dialect::SQLite) {
        // WAL lets readers proceed while a worker writes; NORMAL sync is durable
        // against process crashes, which is what a clean stop needs.
        for (const char *pragma :
             {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
              "PRAGMA temp_store=MEMORY", "PRAGMA cache_size=-65536"}) {
            if (!execRaw(QLatin1String(pragma)))
                return fail(QStringLiteral("cannot configure SQLite: %1").arg(m_lastError));
        }
    }
    return migrate(error);
}

bool SqlStore::execRaw(const QString &sql)
{
    // Transaction control runs two or three times per request: on SQLite those
    // statements stay prepared (PostgreSQL cannot prepare them).
    static const char *const Control[] = {"BEGIN IMMEDIATE", "BEGIN", "COMMIT", "ROLLBACK"};
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

void SqlStore::noteError(const QSqlError &error)
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
    m_lastErrorBusy = code == QLatin1String("5") || m_lastErrorRetryable;
}

bool SqlStore::configurePostgres()
{
    // NOTICEs (such as "relation meta already exists, skipping") are not worth
    // a line on the server's stderr; the name shows in pg_stat_activity.
    return execRaw(QStringLiteral("SET client_min_messages = warning")) &&
           execRaw(QStringLiteral("SET application_name = 'schedy-server'"));
}

bool SqlStore::reconnect()
{
    if (m_dialect != Dialect::PostgreSQL)
        return false;
    QSqlQuery probe(m_db);
    if (m_db.isOpen() && probe.exec(QStringLiteral("SELECT 1")))
        return false; // the connection works: the failure was something else
    probe = QSqlQuery();
    qWarning("schedy: the database connection was lost, connecting again");
    m_queries.clear(); // prepared statements belong to the old session
    m_db.close();
    if (!m_db.open()) {
        noteError(m_db.lastError());
        return false;
    }
    return configurePostgres();
}

template <typename F> auto SqlStore::retrying(F attempt) -> decltype(attempt())
{
    // A transaction that PostgreSQL rolled back because of a concurrent one
    // (another process) runs again from the start; nothing of it was applied.
    constexpr int MaxAttempts = 8;
    for (int i = 1;; ++i) {
        m_lastErrorRetryable = false;
        auto r = attempt();
        const bool failed = r.status == StoreStatus::Busy || r.status == StoreStatus::Error;
        if (!failed || !m_lastErrorRetryable || i == MaxAttempts)
            return r;
        std::this_thread::sleep_for(
            std::chrono::microseconds(200 * (1 << std::min(i, 5)) + std::rand() % 1000));
    }
}

bool SqlStore::migrate(QString *error)
{
    const QString createMeta =
        QStringLiteral("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    if (m_dialect == Dialect::SQLite && !execRaw(createMeta)) {
        if (error)
            *error = QStringLiteral("cannot create the meta table: %1").arg(m_lastError);
        return false;
    }
    for (;;) {
        Transaction tx(*this);
        if (!tx.ok()) {
            if (error)
                *error = QStringLiteral("cannot start a migration: %1").arg(m_lastError);
            return false;
        }
        // Several processes starting on one PostgreSQL database: one migrates at
        // a time (a transaction-scoped advisory lock, as even CREATE TABLE IF NOT
        // EXISTS races), the others then find the schema up to date.
        if (m_dialect == Dialect::PostgreSQL &&
            (!execRaw(QStringLiteral("SELECT pg_advisory_xact_lock(7453290918245561)")) ||
             !execRaw(createMeta))) {
            if (error)
                *error = QStringLiteral("cannot create the meta table: %1").arg(m_lastError);
            return false;
        }
        const int version = schemaVersion();
        if (version > latestSchemaVersion()) {
            if (error) {
                *error = QStringLiteral("the database has schema version %1, newer than this program's %2")
                             .arg(version)
                             .arg(latestSchemaVersion());
            }
            return false;
        }
        if (version == latestSchemaVersion() ||
            (m_schemaVersionLimit >= 0 && version >= m_schemaVersionLimit))
            return tx.commit();
        const Migration &m = Migrations[version];
        const QString script = QString::fromUtf8(m_dialect == Dialect::SQLite ? m.sqlite : m.postgresql);
        for (const QString &statement : splitStatements(script)) {
            if (!execRaw(statement)) {
                if (error)
                    *error = QStringLiteral("migration to version %1 failed: %2")
                                 .arg(version + 1)
                                 .arg(m_lastError);
                return false;
            }
        }
        QSqlQuery q(m_db);
        q.prepare(version == 0 ? QStringLiteral("INSERT INTO meta (key, value) VALUES ('schema_version', ?)")
                               : QStringLiteral("UPDATE meta SET value = ? WHERE key = 'schema_version'"));
        q.addBindValue(QString::number(version + 1));
        if (!q.exec() || !tx.commit()) {
            if (error)
                *error =
                    QStringLiteral("migration to version %1 failed: %2").arg(version + 1).arg(m_lastError);
            return false;
        }
    }
}

int SqlStore::schemaVersion()
{
    QSqlQuery q(m_db);
    if (q.exec(QStringLiteral("SELECT value FROM meta WHERE key = 'schema_version'")) && q.next())
        return q.value(0).toString().toInt();
    return 0;
}

QSqlQuery &SqlStore::prepared(const char *sql)
{
    auto it = m_queries.find(sql);
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

bool SqlStore::exec(QSqlQuery &q)
{
    if (q.exec())
        return true;
    if (q.lastError().isValid())
        noteError(q.lastError());
    if (!m_lastErrorRetryable) // a conflict between processes is retried, not a fault
        qWarning("schedy: database error: %s", qPrintable(m_lastError));
    return false;
}

template <typename T> StoreResult<T> SqlStore::failure()
{
    if (m_lastErrorBusy)
        return StoreResult<T>::fail(StoreStatus::Busy,
                                    QStringLiteral("the database is busy; nothing was changed"));
    return StoreResult<T>::fail(StoreStatus::Error, QStringLiteral("database error; nothing was changed"));
}

double SqlStore::now()
{
    using namespace std::chrono;
    const double t =
        double(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()) / 1e6;
    // Strictly increasing within this process, so modifiedSince never misses a change.
    m_lastNow = t > m_lastNow ? t : m_lastNow + 1e-6;
    return m_lastNow;
}

QByteArray SqlStore::secret()
{
    for (int attempt = 0; attempt < 2; ++attempt) {
        QSqlQuery &q = prepared("SELECT value FROM meta WHERE key = 'jwt_secret'");
        if (exec(q) && q.next()) {
            const QByteArray s = QByteArray::fromBase64(q.value(0).toString().toLatin1());
            q.finish();
            return s;
        }
        q.finish();
        // First start: create it; another process may win the race, hence the re-read.
        QSqlQuery &insert =
            prepared(m_dialect == Dialect::SQLite
                         ? "INSERT OR IGNORE INTO meta (key, value) VALUES ('jwt_secret', ?)"
                         : "INSERT INTO meta (key, value) VALUES ('jwt_secret', ?) ON CONFLICT DO NOTHING");
        QByteArray raw = QByteArray::fromBase64(randomToken(48), QByteArray::Base64UrlEncoding);
        insert.addBindValue(QString::fromLatin1(raw.toBase64()));
        exec(insert);
    }
    return {};
}

// ---- users -----------------------------------------------------------------

StoreResult<User> SqlStore::addUser(const QString &email, const QByteArray &passwordHash,
                                    const QByteArray &tokenHash)
{
    return retrying([&] { return addUserOnce(email, passwordHash, tokenHash); });
}

StoreResult<User> SqlStore::addUserOnce(const QString &email, const QByteArray &passwordHash,
                                        const QByteArray &tokenHash)
{
    Transaction tx(*this);
    if (!tx.ok())
        return failure<User>();
    if (findUserByEmail(email))
        return StoreResult<User>::fail(StoreStatus::PreconditionFailed,
                                       QStringLiteral("user %1 exists").arg(email));
    QSqlQuery &q =
        prepared("INSERT INTO users (email, password_hash, token_hash, created_at) VALUES (?, ?, ?, ?)");
    q.addBindValue(email);
    q.addBindValue(nonNull(passwordHash));
    q.addBindValue(nonNull(tokenHash));
    q.addBindValue(now());
    if (!exec(q))
        return failure<User>();
    q.finish();
    auto user = findUserByEmail(email);
    if (!user || !tx.commit())
        return failure<User>();
    StoreResult<User> r;
    r.status = StoreStatus::Created;
    r.value = *user;
    return r;
}

// Logins and token resets are single statements, but run in a transaction all
// the same: its BEGIN is where a broken PostgreSQL connection is noticed and
// opened again, so that the first login after a database restart is not
// answered as a wrong password.
std::optional<User> SqlStore::userByEmail(const QString &email)
{
    Transaction tx(*this, false);
    if (!tx.ok())
        return std::nullopt;
    auto user = findUserByEmail(email);
    tx.commit();
    return user;
}

std::optional<User> SqlStore::userById(qint64 id)
{
    Transaction tx(*this, false);
    if (!tx.ok())
        return std::nullopt;
    auto user = findUserById(id);
    tx.commit();
    return user;
}

bool SqlStore::setTokenHash(qint64 userId, const QByteArray &tokenHash)
{
    Transaction tx(*this);
    return tx.ok() && updateUserHash(userId, "UPDATE users SET token_hash = ? WHERE id = ?", tokenHash) &&
           tx.commit();
}

bool SqlStore::setPasswordHash(qint64 userId, const QByteArray &passwordHash)
{
    Transaction tx(*this);
    return tx.ok() &&
           updateUserHash(userId, "UPDATE users SET password_hash = ? WHERE id = ?", passwordHash) &&
           tx.commit();
}

std::optional<User> SqlStore::findUserByEmail(const QString &email)
{
    QSqlQuery &q = prepared("SELECT id, email, password_hash, token_hash FROM users WHERE email = ?");
    q.addBindValue(email);
    if (!exec(q) || !q.next()) {
        q.finish();
        return std::nullopt;
    }
    User u{q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString().toLatin1(),
           q.value(3).toString().toLatin1()};
    q.finish();
    return u;
}

std::optional<User> SqlStore::findUserById(qint64 id)
{
    QSqlQuery &q = prepared("SELECT id, email, password_hash, token_hash FROM users WHERE id = ?");
    q.addBindValue(id);
    if (!exec(q) || !q.next()) {
        q.finish();
        return std::nullopt;
    }
    User u{q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString().toLatin1(),
           q.value(3).toString().toLatin1()};
    q.finish();
    return u;
}

bool SqlStore::updateUserHash(qint64 userId, const char *sql, const QByteArray &hash)
{
    QSqlQuery &q = prepared(sql);
    q.addBindValue(nonNull(hash));
    q.addBindValue(userId);
    const bool ok = exec(q) && q.numRowsAffected() == 1;
    q.finish();
    return ok;
}

// ---- experiments -------------------------------------------------------------

std::optional<SqlStore::ExperimentRow> SqlStore::findExperiment(qint64 user, const QString &name,
                                                                bool forUpdate)
{
    QSqlQuery &q =
        forUpdate && m_dialect == Dialect::PostgreSQL
            ? prepared(
                  "SELECT id, status, scheduler, name, created_at, modified_at, version FROM experiments "
                  "WHERE user_id = ? AND name = ? FOR NO KEY UPDATE")
            : prepared(
                  "SELECT id, status, scheduler, name, created_at, modified_at, version FROM experiments "
                  "WHERE user_id = ? AND name = ?");
    q.addBindValue(user);
    q.addBindValue(name);
    if (!exec(q) || !q.next()) {
        q.finish();
        return std::nullopt;
    }
    ExperimentRow row;
    row.id = q.value(0).toLongLong();
    row.status = q.value(1).toInt() == 0 ? ExperimentStatus::Running : ExperimentStatus::Done;
    row.name = q.value(3).toString();
    row.createdAt = q.value(4).toDouble();
    row.modifiedAt = q.value(5).toDouble();
    row.version = q.value(6).toLongLong();
    auto cached = m_schedulerCache.constFind(row.id);
    if (cached != m_schedulerCache.constEnd() && cached->first == row.modifiedAt) {
        row.scheduler = cached->second;
    } else {
        auto s = codec::decodeScheduler(json::parse(q.value(2).toString().toUtf8()));
        if (s)
            row.scheduler = s.value();
        m_schedulerCache.insert(row.id, {row.modifiedAt, row.scheduler});
    }
    q.finish();
    return row;
}

std::optional<SqlStore::ExperimentRow> SqlStore::findExperimentToSchedule(qint64 user, const QString &name)
{
    // PostgreSQL: only PBT needs the experiment locked, as its decisions depend on the
    // whole population (numParallel, which member to continue, rule 7). Manual and
    // RandomSearch need no lock: the QUEUED job handed out is locked by itself (see
    // oldestQueued()), and a new job depends on no other.
    auto row = findExperiment(user, name, false);
    if (row && m_dialect == Dialect::PostgreSQL && row->scheduler.kind == Scheduler::Kind::Pbt)
        row = findExperiment(user, name, true);
    return row;
}

std::optional<JobCounts> SqlStore::countsOf(qint64 experimentId)
{
    QSqlQuery &q = prepared("SELECT status, n FROM job_counts WHERE experiment_id = ?");
    q.addBindValue(experimentId);
    if (!exec(q))
        return std::nullopt;
    JobCounts c;
    while (q.next()) {
        const int s = q.value(0).toInt();
        if (s >= 0 && s < JobStatusCount)
            c[JobStatus(s)] = q.value(1).toLongLong();
    }
    q.finish();
    return c;
}

Experiment SqlStore::toExperiment(const ExperimentRow &row, const std::optional<JobCounts> &counts) const
{
    Experiment e;
    e.name = row.name;
    e.status = row.status;
    e.scheduler = row.scheduler;
    e.createdAt = row.createdAt;
    e.modifiedAt = row.modifiedAt;
    e.jobCounts = counts;
    e.etag = experimentEtagOf(row.id, row.version);
    return e;
}

StoreResult<ExperimentListing> SqlStore::listExperiments(qint64 user, const QString &cursor, int limit)
{
    qint64 after = 0;
    if (!cursor.isEmpty()) {
        const auto parts = decodeCursor(cursor);
        if (!parts || parts->size() != 2 || parts->at(0).toString() != QLatin1String("e") ||
            !parts->at(1).isInteger())
            return StoreResult<ExperimentListing>::fail(StoreStatus::Invalid,
                                                        QStringLiteral("start: invalid cursor"));
        after = parts->at(1).toInteger();
    }
    Transaction tx(*this, false);
    if (!tx.ok())
        return failure<ExperimentListing>();
    QSqlQuery &q =
        prepared("SELECT id, status, scheduler, name, created_at, modified_at, version FROM experiments "
                 "WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?");
    q.addBindValue(user);
    q.addBindValue(after);
    q.addBindValue(limit + 1);
    if (!exec(q))
        return failure<ExperimentListing>();
    QList<ExperimentRow> rows;
    while (q.next()) {
        ExperimentRow row;
        row.id = q.value(0).toLongLong();
        row.status = q.value(1).toInt() == 0 ? ExperimentStatus::Running : ExperimentStatus::Done;
        auto s = codec::decodeScheduler(json::parse(q.value(2).toString().toUtf8()));
        if (s)
            row.scheduler = s.value();
        row.name = q.value(3).toString();
        row.createdAt = q.value(4).toDouble();
        row.modifiedAt = q.value(5).toDouble();
        row.version = q.value(6).toLongLong();
        rows.append(row);
    }
    q.finish();
    StoreResult<ExperimentListing> r;
    if (rows.size() > limit) {
        rows.resize(limit);
        r.value.next = encodeCursor(QCborArray{QStringLiteral("e"), rows.last().id});
    }
    for (const ExperimentRow &row : rows)
        r.value.items.append(toExperiment(row, countsOf(row.id)));
    if (cursor.isEmpty()) {
        QSqlQuery &c = prepared("SELECT COUNT(*) FROM experiments WHERE user_id = ?");
        c.addBindValue(user);
        if (exec(c) && c.next())
            r.value.total = c.value(0).toLongLong();
        c.finish();
    }
    tx.commit();
    return r;
}

StoreResult<Experiment> SqlStore::experiment(qint64 user, const QString &name)
{
    Transaction tx(*this, false);
    if (!tx.ok())
        return failure<Experiment>();
    auto row = findExperiment(user, name, false);
    if (!row)
        return noExperiment<Experiment>(name);
    StoreResult<Experiment> r;
    r.value = toExperiment(*row, countsOf(row->id));
    tx.commit();
    return r;
}

StoreResult<Experiment> SqlStore::putExperiment(qint64 user, const Experiment &e, Condition c,
                                                const QByteArray &etag)
{
    return retrying([&] { return putExperimentOnce(user, e, c, etag); });
}

StoreResult<Experiment> SqlStore::putExperimentOnce(qint64 user, const Experiment &e, Condition c,
                                                    const QByteArray &etag)
{
    Transaction tx(*this);
    if (!tx.ok())
        return failure<Experiment>();
    // Locked on PostgreSQL (and the write lock held on SQLite) before the ETag is
    // compared: of two processes saving over one version, the second reads the
    // first one's version once it committed, and fails the If-Match.
    auto row = findExperiment(user, e.name, true);
    const double t = now();
    const QString scheduler = QString::fromUtf8(json::write(codec::encode(e.scheduler)));
    StoreResult<Experiment> r;
    if (c == Condition::IfMatch) {
        if (!row) {
            return StoreResult<Experiment>::fail(
                StoreStatus::PreconditionFailed,
                QStringLiteral("experiment '%1' does not exist (any more); nothing was saved").arg(e.name));
        }
        if (!constantTimeEquals(etag, experimentEtagOf(row->id, row->version))) {
            return StoreResult<Experiment>::fail(
                StoreStatus::PreconditionFailed,
                QStringLiteral(
                    "experiment '%1' was changed by someone else (ETag mismatch); nothing was saved: "
                    "read it again")
                    .arg(e.name));
        }
    }
    if (row) {
        if (c == Condition::IfNoneMatchAny) {
            return StoreResult<Experiment>::fail(
                StoreStatus::PreconditionFailed,
                QStringLiteral("experiment '%1' already exists").arg(e.name));
        }
        QSqlQuery &q = prepared("UPDATE experiments SET status = ?, scheduler = ?, modified_at = ?, version "
                                "= version + 1 WHERE id = ?");
        q.addBindValue(e.status == ExperimentStatus::Running ? 0 : 1);
        q.addBindValue(scheduler);
        q.addBindValue(t);
        q.addBindValue(row->id);
        if (!exec(q))
            return failure<Experiment>();
        q.finish();
        r.status = StoreStatus::Ok;
    } else {
        QSqlQuery &q =
            prepared("INSERT INTO experiments (user_id, name, status, scheduler, created_at, modified_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)");
        q.addBindValue(user);
        q.addBindValue(e.name);
        q.addBindValue(e.status == ExperimentStatus::Running ? 0 : 1);
        q.addBindValue(scheduler);
        q.addBindValue(t);
        q.addBindValue(t);
        if (!exec(q))
            return failure<Experiment>();
        q.finish();
        r.status = StoreStatus::Created;
    }
    row = findExperiment(user, e.name, false);
    if (!row)
        return failure<Experiment>();
    r.value = toExperiment(*row, countsOf(row->id));
    if (!tx.commit())
        return failure<Experiment>();
    return r;
}

StoreResult<qint64> SqlStore::deleteExperiment(qint64 user, const QString &name)
{
    return retrying([&] { return deleteExperimentOnce(user, name); });
}

StoreResult<qint64> SqlStore::deleteExperimentOnce(qint64 user, const QString &name)
{
    Transaction tx(*this);
    if (!tx.ok())
        return failure<qint64>();
    auto row = findExperiment(user, name, true);
    if (!row)
        return noExperiment<qint64>(name);
    const auto counts = countsOf(row->id);
    for (const char *sql :
         {"DELETE FROM job_counts WHERE experiment_id = ?", "DELETE FROM jobs WHERE experiment_id = ?",
          "DELETE FROM job_counts WHERE experiment_id = ?", "DELETE FROM experiments WHERE id = ?"}) {
        QSqlQuery &q = prepared(sql);
        q.addBindValue(row->id);
        if (!exec(q))
            return failure<qint64>();
        q.finish();
    }
    if (!tx.commit())
        return failure<qint64>();
    m_schedulerCache.remove(row->id);
    StoreResult<qint64> r;
    r.value = counts ? counts->total() : 0;
    return r;
}

// ---- jobs --------------------------------------------------------------------

#define JOB_COLUMNS                                                                                          \
    "seq, job_id, status, hyperparameters, results, created_at, modified_at, version, generation, parent, "  \
    "member"

StoredJob SqlStore::jobFromQuery(QSqlQuery &q, const QString &experimentName) const
{
    StoredJob s;
    const qint64 seq = q.value(0).toLongLong();
    s.job.id = q.value(1).toString();
    s.job.experiment = experimentName;
    s.job.status = statusFrom(q.value(2).toInt());
    s.hyperparametersJson = q.value(3).toString().toUtf8();
    s.resultsJson = q.value(4).toString().toUtf8();
    s.job.createdAt = q.value(5).toDouble();
    s.job.modifiedAt = q.value(6).toDouble();
    s.job.etag = etagOf(seq, q.value(7).toLongLong());
    if (!q.value(8).isNull())
        s.job.generation = q.value(8).toLongLong();
    s.job.parent = q.value(9).toString();
    s.job.member = q.value(10).toString();
    return s;
}

std::optional<StoredJob> SqlStore::loadJob(qint64 seq, const QString &experimentName)
{
    QSqlQuery &q = prepared("SELECT " JOB_COLUMNS " FROM jobs WHERE seq = ?");
    q.addBindValue(seq);
    if (!exec(q) || !q.next()) {
        q.finish();
        return std::nullopt;
    }
    StoredJob s = jobFromQuery(q, experimentName);
    q.finish();
    return s;
}

bool SqlStore::jobIdExists(qint64 experimentId, const QString &id)
{
    QSqlQuery &q = prepared("SELECT 1 FROM jobs WHERE experiment_id = ? AND job_id = ?");
    q.addBindValue(experimentId);
    q.addBindValue(id);
    const bool exists = exec(q) && q.next();
    q.finish();
    return exists;
}

QString SqlStore::newJobId(qint64 experimentId, Sampler *sampler)
{
    // Six URL- and file-name-safe characters. The first is a letter that cannot
    // start a number Python's float() accepts (not e, i, n), so that tools that
    // sniff numbers (tabulate in the original CLI) leave ids alone.
    static const char first[] = "ABCDFGHJKLMOPQRSTUVWXYZabcdfghjklmopqrstuvwxyz";
    static const char rest[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    Sampler local;
    Sampler &rng = sampler ? *sampler : local;
    for (;;) {
        QString id;
        id += QLatin1Char(first[rng.index(qsizetype(sizeof(first) - 1))]);
        for (int i = 0; i < 5; ++i)
            id += QLatin1Char(rest[rng.index(qsizetype(sizeof(rest) - 1))]);
        // PostgreSQL: a collision (one in 10^10 with a thousand jobs) is a unique violation,
        // and the transaction runs again with another id; a round trip less per new job.
        if (m_dialect == Dialect::PostgreSQL || !jobIdExists(experimentId, id))
            return id;
    }
}

qint64 SqlStore::insertJob(qint64 experimentId, const QString &id, JobStatus status, const QByteArray &hp,
                           const QByteArray &results, std::optional<qint64> generation, const QString &parent,
                           const QString &member, const QString &predecessor, double lease)
{
    const double t = now();
    QSqlQuery &q = prepared(
        "INSERT INTO jobs (experiment_id, job_id, status, hyperparameters, results, created_at, modified_at, "
        "version, generation, parent, member, predecessor, ready_at, lease_until) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?) RETURNING seq");
    q.addBindValue(experimentId);
    q.addBindValue(id);
    q.addBindValue(statusCode(status));
    q.addBindValue(QString::fromUtf8(hp));
    q.addBindValue(QString::fromUtf8(results));
    q.addBindValue(t);
    q.addBindValue(t);
    q.addBindValue(generation ? QVariant(*generation) : QVariant(QMetaType::fromType<qlonglong>()));
    q.addBindValue(parent.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(parent));
    q.addBindValue(member.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(member));
    q.addBindValue(predecessor.isEmpty() ? QVariant(QMetaType::fromType<QString>()) : QVariant(predecessor));
    q.addBindValue(status == JobStatus::Done ? QVariant(t) : QVariant(QMetaType::fromType<double>()));
    q.addBindValue(lease);
    if (!exec(q) || !q.next()) {
        q.finish();
        return 0;
    }
    const qint64 seq = q.value(0).toLongLong();
    q.finish();
    return seq;
}

StoreResult<StoredJob> SqlStore::job(qint64 user, const QString &experiment, const QString &id)
{
    Transaction tx(*this, false);
    if (!tx.ok())
        return failure<StoredJob>();
    auto row = findExperiment(user, experiment, false);
    if (!row)
        return noExperiment<StoredJob>(experiment);
    QSqlQuery &q = prepared("SELECT " JOB_COLUMNS " FROM jobs WHERE experiment_id = ? AND job_id = ?");
    q.addBindValue(row->id);
    q.addBindValue(id);
    if (!exec(q))
        return failure<StoredJob>();
    if (!q.next()) {
        q.finish();
        return StoreResult<StoredJob>::fail(
            StoreStatus::NotFound, QStringLiteral("no job '%1' in experiment '%2'").arg(id, experiment));
    }
    StoreResult<StoredJob> r;
    r.value = jobFromQuery(q, row->name);
    q.finish();
    tx.commit();
    return r;
}

StoreResult<StoredJob> SqlStore::createJob(qint64 user, const QString &experiment, const JobWrite &w)
{
    return retrying([&] { return createJobOnce(user, experiment, w); });
}

StoreResult<StoredJob> SqlStore::createJobOnce(qint64 user, const QString &experiment, const JobWrite &w)
{
    Transaction tx(*this);
    if (!tx.ok())
        return failure<StoredJob>();
    auto row = findExperimentToSchedule(user, experiment);
    if (!row)
        return noExperiment<StoredJob>(experiment);
    const QString id = newJobId(row->id, nullptr);
    const bool pbt = row->scheduler.kind == Scheduler::Kind::Pbt;
    const qint64 seq =
        insertJob(row->id, id, w.status, json::write(w.hyperparameters), json::write(w.results),
                  pbt ? std::optional<qint64>(0) : std::nullopt, {}, pbt ? id : QString(), {}, 0);
    if (!seq)
        return failure<StoredJob>();
    auto stored = loadJob(seq, row->name);
    if (!stored || !tx.commit())
        return failure<StoredJob>();
    StoreResult<StoredJob> r;
    r.status = StoreStatus::Created;
    r.value = *stored;
    return r;
}

StoreResult<StoredJob> SqlStore::putJob(qint64 user, const QString &experiment, const QString &id,
                                        const JobWrite &w, Condition c, const QByteArray &etag)
{
    return retrying([&] { return putJobOnce(user, experiment, id, w, c, etag); });
}

StoreResult<StoredJob> SqlStore::putJobOnce(qint64 user, const QString &experiment, const QString &id,
                                            const JobWrite &w, Condition c, const QByteArray &etag)
{
    Transaction tx(*this);
    if (!tx.ok())
        return failure<StoredJob>();
    // A job leaving QUEUED/RUNNING may finish a PBT population (rule 7), and any change
    // to a PBT job may change what nextJob decides: the experiment is locked for PBT.
    const bool terminal = w.status != JobStatus::Queued && w.status != JobStatus::Running;
    auto row = findExperimentToSchedule(user, experiment);
    if (!row)
        return noExperiment<StoredJob>(experiment);
    const bool pg = m_dialect == Dialect::PostgreSQL;
    // On PostgreSQL the job row is locked before its ETag is compared: of two processes
    // claiming one job, the second waits, then reads the first one's version (READ
    // COMMITTED re-reads a locked row) and fails the If-Match.
    QSqlQuery &q =
        pg ? prepared(
                 "SELECT seq, version, status FROM jobs WHERE experiment_id = ? AND job_id = ? FOR UPDATE")
           : prepared("SELECT seq, version, status FROM jobs WHERE experiment_id = ? AND job_id = ?");
    q.addBindValue(row->id);
    q.addBindValue(id);
    if (!exec(q))
        return failure<StoredJob>();
    const bool exists = q.next();
    const qint64 seq = exists ? q.value(0).toLongLong() : 0;
    const qint64 version = exists ? q.value(1).toLongLong() : 0;
    q.finish();

    if (c == Condition::IfNoneMatchAny && exists) {
        return StoreResult<StoredJob>::fail(StoreStatus::PreconditionFailed,
                                            QStringLiteral("job '%1' already exists").arg(id));
    }
    if (c == Condition::IfMatch) {
        if (!exists) {
            return StoreResult<StoredJob>::fail(StoreStatus::PreconditionFailed,
                                                QStringLiteral("job '%1' does not exist").arg(id));
        }
        if (etag != "*" && !constantTimeEquals(etag, etagOf(seq, version))) {
            return StoreResult<StoredJob>::fail(
                StoreStatus::PreconditionFailed,
                QStringLiteral("job '%1' was changed by someone else (ETag mismatch)").arg(id));
        }
    }

    StoreResult<StoredJob> r;
    qint64 resultSeq = seq;
    std::optional<StoredJob> updated;
    if (exists) {
        const double t = now();
        // ready_at (the PBT queue order): set when the job becomes DONE, kept while it stays
        // DONE, cleared otherwise. RETURNING saves reading the job back.
        QSqlQuery &u =
            prepared("UPDATE jobs SET status = ?, hyperparameters = ?, results = ?, modified_at = ?, "
                     "version = version + 1, lease_until = 0, ready_at = CASE WHEN ? <> ? THEN NULL "
                     "WHEN status = ? THEN COALESCE(ready_at, ?) ELSE ? END WHERE seq = ? "
                     "RETURNING " JOB_COLUMNS);
        const int done = statusCode(JobStatus::Done);
        u.addBindValue(statusCode(w.status));
        u.addBindValue(QString::fromUtf8(json::write(w.hyperparameters)));
        u.addBindValue(QString::fromUtf8(json::write(w.results)));
        u.addBindValue(t);
        u.addBindValue(statusCode(w.status));
        u.addBindValue(done);
        u.addBindValue(done);
        u.addBindValue(t);
        u.addBindValue(t);
        u.addBindValue(seq);
        if (!exec(u) || !u.next()) {
            u.finish();
            return failure<StoredJob>();
        }
        updated = jobFromQuery(u, row->name);
        u.finish();
        r.status = StoreStatus::Ok;
    } else {
        const bool pbt = row->scheduler.kind == Scheduler::Kind::Pbt;
        resultSeq = insertJob(row->id, id, w.status, json::write(w.hyperparameters), json::write(w.results),
                              pbt ? std::optional<qint64>(0) : std::nullopt, {}, pbt ? id : QString(), {}, 0);
        if (!resultSeq)
            return failure<StoredJob>();
        r.status = StoreStatus::Created;
    }
    // Rule 7 applies as soon as the last job of a PBT population is reported, so the
    // experiment shows DONE without waiting for a worker to ask again.
    if (terminal && !finishPbtIfDone(*row))
        return failure<StoredJob>();
    auto stored = updated ? updated : loadJob(resultSeq, row->name);
    if (!stored || !tx.commit())
        return failure<StoredJob>();
    r.value = *stored;
    return r;
}

StoreResult<bool> SqlStore::deleteJob(qint64 user, const QString &experiment, const QString &id)
{
    return retrying([&] { return deleteJobOnce(user, experiment, id); });
}

StoreResult<bool> SqlStore::deleteJobOnce(qint64 user, const QString &experiment, const QString &id)
{
    Transaction tx(*this);
    if (!tx.ok())
        return failure<bool>();
    auto row = findExperiment(user, experiment, false);
    if (!row)
        return noExperiment<bool>(experiment);
    QSqlQuery &q = prepared("DELETE FROM jobs WHERE experiment_id = ? AND job_id = ?");
    q.addBindValue(row->id);
    q.addBindValue(id);
    if (!exec(q))
        return failure<bool>();
    const bool deleted = q.numRowsAffected() > 0;
    q.finish();
    if (!tx.commit())
        return failure<bool>();
    StoreResult<bool> r;
    r.value = deleted;
    return r;
}

std::optional<qint64> SqlStore::oldestQueued(qint64 experimentId, bool respectLeases)
{
    auto run = [&](QSqlQuery &q, qint64 key) -> std::optional<qint64> {
        q.addBindValue(key);
        if (respectLeases)
            q.addBindValue(m_lastNow);
        std::optional<qint64> seq;
        if (exec(q) && q.next())
            seq = q.value(0).toLongLong();
        q.finish();
        return seq;
    };
    if (m_dialect == Dialect::SQLite) {
        return run(respectLeases ? prepared("SELECT seq FROM jobs WHERE experiment_id = ? AND status = 0 AND "
                                            "lease_until <= ? ORDER BY seq LIMIT 1")
                                 : prepared("SELECT seq FROM jobs WHERE experiment_id = ? AND status = 0 "
                                            "ORDER BY seq LIMIT 1"),
                   experimentId);
    }
    // PostgreSQL: the job handed out is locked until the hand-out commits. Without
    // that, a claim committing between this read and the hand-out would make it
    // hand out a RUNNING job with its new ETag, which a second worker could claim.
    // Jobs a claim holds right now are skipped; when only such jobs are left, the
    // oldest is waited for, and taken if it is still QUEUED once the claim is over.
    for (int attempt = 0; attempt < 4; ++attempt) {
        // One round trip: the oldest free job (locked), and the oldest at all.
        QSqlQuery &q =
            respectLeases
                ? prepared("WITH free AS (SELECT seq FROM jobs WHERE experiment_id = ? AND status = 0 AND "
                           "lease_until <= ? "
                           "ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED) "
                           "SELECT (SELECT seq FROM free), (SELECT seq FROM jobs WHERE experiment_id = ? AND "
                           "status = 0 "
                           "AND lease_until <= ? ORDER BY seq LIMIT 1)")
                : prepared("WITH free AS (SELECT seq FROM jobs WHERE experiment_id = ? AND status = 0 "
                           "ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED) "
                           "SELECT (SELECT seq FROM free), (SELECT seq FROM jobs WHERE experiment_id = ? AND "
                           "status = 0 "
                           "ORDER BY seq LIMIT 1)");
        for (int i = 0; i < 2; ++i) {
            q.addBindValue(experimentId);
            if (respectLeases)
                q.addBindValue(m_lastNow);
        }
        std::optional<qint64> busy;
        if (exec(q) && q.next()) {
            if (!q.isNull(0)) {
                const qint64 seq = q.value(0).toLongLong();
                q.finish();
                return seq;
            }
            if (!q.isNull(1))
                busy = q.value(1).toLongLong();
        }
        q.finish();
        if (!busy)
            return std::nullopt;
        if (auto seq =
                run(respectLeases ? prepared("SELECT seq FROM jobs WHERE seq = ? AND status = 0 AND "
                                             "lease_until <= ? FOR UPDATE")
                                  : prepared("SELECT seq FROM jobs WHERE seq = ? AND status = 0 FOR UPDATE"),
                    *busy))
            return seq;
    }
    return std::nullopt;
}

bool SqlStore::lease(qint64 seq)
{
    if (m_leaseSeconds <= 0)
        return true;
    QSqlQuery &q = prepared("UPDATE jobs SET lease_until = ? WHERE seq = ?");
    q.addBindValue(m_lastNow + m_leaseSeconds);
    q.addBindValue(seq);
    const bool ok = exec(q);
    q.finish();
    return ok;
}

std::optional<QList<PbtJob>> SqlStore::pbtPopulation(qint64 experimentId, const PbtSettings &settings)
{
    QList<PbtJob> population;
    QSqlQuery &q = prepared("SELECT seq, job_id, status, generation, member, predecessor, ready_at, results "
                            "FROM jobs WHERE experiment_id = ?");
    q.addBindValue(experimentId);
    if (!exec(q))
        return std::nullopt;
    while (q.next()) {
        PbtJob j;
        j.seq = q.value(0).toLongLong();
        j.id = q.value(1).toString();
        j.status = statusFrom(q.value(2).toInt());
        j.generation = q.value(3).toLongLong();
        j.member = q.value(4).toString();
        j.predecessor = q.value(5).toString();
        j.readyAt = q.value(6).toDouble();
        if (j.status == JobStatus::Done)
            j.quality =
                qualityOf(json::parse(q.value(7).toString().toUtf8()).toMap(), settings.qualityResultName);
        population.append(j);
    }
    q.finish();
    return population;
}

bool SqlStore::finishPbtIfDone(const ExperimentRow &row)
{
    const Scheduler &s = row.scheduler;
    if (s.kind != Scheduler::Kind::Pbt || !s.pbt.maxGenerations || row.status != ExperimentStatus::Running)
        return true;
    // Cheap first: a QUEUED or RUNNING job means it is not finished.
    const auto counts = countsOf(row.id);
    if (!counts)
        return false;
    if ((*counts)[JobStatus::Queued] > 0 || (*counts)[JobStatus::Running] > 0)
        return true;
    const auto population = pbtPopulation(row.id, s.pbt);
    if (!population)
        return false;
    Sampler unused{0}; // only an exploit would draw from it
    if (planPbt(*population, s.pbt, unused).kind != PbtDecision::Kind::Finished)
        return true;
    QSqlQuery &u =
        prepared("UPDATE experiments SET status = 1, modified_at = ?, version = version + 1 WHERE id = ?");
    u.addBindValue(now());
    u.addBindValue(row.id);
    const bool ok = exec(u);
    u.finish();
    return ok;
}

StoreResult<StoredJob> SqlStore::nextJob(qint64 user, const QString &experiment, Sampler &sampler)
{
    return retrying([&] { return nextJobOnce(user, experiment, sampler); });
}

StoreResult<StoredJob> SqlStore::nextJobOnce(qint64 user, const QString &experiment, Sampler &sampler)
{
    Transaction tx(*this);
    if (!tx.ok())
        return failure<StoredJob>();
    auto row = findExperimentToSchedule(user, experiment);
    if (!row)
        return noExperiment<StoredJob>(experiment);
    StoreResult<StoredJob> r;
    if (row->status == ExperimentStatus::Done) {
        tx.commit();
        return r; // nothing is handed out while paused or finished
    }
    const double t = now();
    const double leaseUntil = m_leaseSeconds > 0 ? t + m_leaseSeconds : 0;
    // `leased`: inserted with lease_until already set, no second write needed.
    auto handOut = [&](qint64 seq, bool leased = false) -> StoreResult<StoredJob> {
        if (!leased && !lease(seq))
            return failure<StoredJob>();
        auto stored = loadJob(seq, row->name);
        if (!stored || !tx.commit())
            return failure<StoredJob>();
        r.value = *stored;
        return r;
    };

    // Rule 1 of every scheduler: the oldest QUEUED job nobody was just given.
    if (auto seq = oldestQueued(row->id, true))
        return handOut(*seq);

    const Scheduler &s = row->scheduler;
    if (s.kind == Scheduler::Kind::RandomSearch) {
        const QString id = newJobId(row->id, &sampler);
        const qint64 seq =
            insertJob(row->id, id, JobStatus::Queued, json::write(sampler.sample(s.distributions)), "{}",
                      std::nullopt, {}, {}, {}, leaseUntil);
        if (!seq)
            return failure<StoredJob>();
        return handOut(seq, true);
    }

    if (s.kind == Scheduler::Kind::Pbt) {
        const auto population = pbtPopulation(row->id, s.pbt);
        if (!population)
            return failure<StoredJob>();
        const PbtDecision d = planPbt(*population, s.pbt, sampler);
        switch (d.kind) {
        case PbtDecision::Kind::CreateInitial: {
            const QString id = newJobId(row->id, &sampler);
            const qint64 seq =
                insertJob(row->id, id, JobStatus::Queued, json::write(sampler.sample(s.pbt.init)), "{}",
                          qint64(0), {}, id, {}, leaseUntil);
            if (!seq)
                return failure<StoredJob>();
            return handOut(seq, true);
        }
        case PbtDecision::Kind::Continue: {
            QSqlQuery &src =
                prepared("SELECT hyperparameters, results FROM jobs WHERE experiment_id = ? AND job_id = ?");
            src.addBindValue(row->id);
            src.addBindValue(d.source);
            if (!exec(src) || !src.next()) {
                src.finish();
                return failure<StoredJob>();
            }
            QByteArray hp = src.value(0).toString().toUtf8();
            const QByteArray results = src.value(1).toString().toUtf8();
            src.finish();
            if (d.source != d.picked)
                hp = json::write(perturb(json::parse(hp).toMap(), s.pbt.explore, sampler));
            const QString id = newJobId(row->id, &sampler);
            const qint64 seq = insertJob(row->id, id, JobStatus::Queued, hp, results, d.generation, d.source,
                                         d.member, d.picked, leaseUntil);
            if (!seq)
                return failure<StoredJob>();
            return handOut(seq, true);
        }
        case PbtDecision::Kind::Finished: {
            QSqlQuery &u = prepared(
                "UPDATE experiments SET status = 1, modified_at = ?, version = version + 1 WHERE id = ?");
            u.addBindValue(t);
            u.addBindValue(row->id);
            if (!exec(u))
                return failure<StoredJob>();
            u.finish();
            if (!tx.commit())
                return failure<StoredJob>();
            return r;
        }
        case PbtDecision::Kind::Wait:
            break;
        }
    }

    // Manual, or a busy population: a QUEUED job even if another worker holds
    // its lease (that worker may have died); the ETag decides who claims it.
    if (auto seq = oldestQueued(row->id, false))
        return handOut(*seq);
    tx.commit();
    return r;
}

// ---- listing -------------------------------------------------------------------

StoreResult<JobListing> SqlStore::listJobs(qint64 user, const QString &experiment, const JobQuery &query)
{
    using Field = JobSort::Field;
    const JobSort &sort = query.sort;
    const bool sqlite = m_dialect == Dialect::SQLite;
    const QString tag = sortTag(sort);

    // Cursor: [tag, key..., seq] for keyset pages, [tag, "offset", n] for JSON sort keys.
    std::optional<QCborArray> cursor;
    if (!query.cursor.isEmpty()) {
        cursor = decodeCursor(query.cursor);
        if (!cursor || cursor->isEmpty() || cursor->at(0).toString() != tag) {
            return StoreResult<JobListing>::fail(
                StoreStatus::Invalid,
                QStringLiteral("start: invalid cursor, or one from a listing with another sort"));
        }
    }

    Transaction tx(*this, false);
    if (!tx.ok())
        return failure<JobListing>();
    auto row = findExperiment(user, experiment, false);
    if (!row)
        return noExperiment<JobListing>(experiment);

    QString where = QStringLiteral("experiment_id = ?");
    QVariantList binds{row->id};
    if (!query.statuses.isEmpty()) {
        QStringList codes;
        for (JobStatus s : query.statuses)
            codes << QString::number(statusCode(s));
        where += QStringLiteral(" AND status IN (") + codes.join(QLatin1Char(',')) + QLatin1Char(')');
    }
    if (query.modifiedSince) {
        where += QStringLiteral(" AND modified_at >= ?");
        binds << *query.modifiedSince;
    }
    if (!query.idContains.isEmpty()) {
        where += sqlite ? QStringLiteral(" AND instr(job_id, ?) > 0")
                        : QStringLiteral(" AND strpos(job_id, ?) > 0");
        binds << query.idContains;
    }

    StoreResult<JobListing> r;
    if (query.wantTotal) {
        QSqlQuery c(m_db);
        c.prepare(QStringLiteral("SELECT COUNT(*) FROM jobs WHERE ") + where);
        for (const QVariant &b : binds)
            c.addBindValue(b);
        if (!exec(c))
            return failure<JobListing>();
        if (c.next())
            r.value.total = c.value(0).toLongLong();
    }

    const QString dir = sort.descending ? QStringLiteral(" DESC") : QStringLiteral(" ASC");
    const QString cmp = sort.descending ? QStringLiteral(" < ") : QStringLiteral(" > ");
    QString keyExpr; // the sort key besides seq, empty for seq order
    bool offsetPaging = false;
    switch (sort.field) {
    case Field::Default:
    case Field::CreatedAt:
        break;
    case Field::Id:
        keyExpr = QStringLiteral("job_id");
        break;
    case Field::Status:
        keyExpr = QStringLiteral("status");
        break;
    case Field::ModifiedAt:
        keyExpr = QStringLiteral("modified_at");
        break;
    case Field::Hyperparameter:
    case Field::Result: {
        const QString column = sort.field == Field::Hyperparameter ? QStringLiteral("hyperparameters")
                                                                   : QStringLiteral("results");
        if (sqlite) {
            // Curves sort by their last value, as the dashboard shows them. SQLite before 3.42
            // refuses the NaN/Infinity we store: such documents are read with NaN as null.
            const QString doc =
                QStringLiteral("(CASE WHEN json_valid(%1) THEN %1 ELSE "
                               "replace(replace(%1, 'NaN', 'null'), 'Infinity', '1e999') END)")
                    .arg(column);
            keyExpr = QStringLiteral("COALESCE(json_extract(%1, ?), json_extract(%1, ?))").arg(doc);
        } else {
            // jsonb refuses NaN/Infinity too: bare ones (never inside a string, as our
            // writer is compact) read as null and +-1e999. JSON null sorts as missing, as
            // SQLite's json_extract makes it.
            const QString doc =
                QStringLiteral(
                    "(CASE WHEN strpos(%1, 'NaN') > 0 OR strpos(%1, 'Infinity') > 0 THEN "
                    "regexp_replace(regexp_replace(%1, '(?<=[:,\\[])NaN(?=[,\\]}])', 'null', 'g'), "
                    "'(?<=[:,\\[])(-?)Infinity(?=[,\\]}])', '\\11e999', 'g') ELSE %1 END)::jsonb")
                    .arg(column);
            keyExpr = QStringLiteral("NULLIF(COALESCE((%1 -> ?) -> -1, %1 -> ?), 'null'::jsonb)").arg(doc);
        }
        offsetPaging = true;
        break;
    }
    }
    QVariantList keyBinds;
    if (offsetPaging) {
        const QString path = QStringLiteral("$.\"") + sort.name + QLatin1Char('"');
        if (sqlite)
            keyBinds << QString(path + QStringLiteral("[#-1]")) << path;
        else
            keyBinds << sort.name << sort.name;
    }

    QString sql = QStringLiteral("SELECT " JOB_COLUMNS " FROM jobs WHERE ") + where;
    QVariantList pageBinds = binds;
    qint64 offset = 0;
    if (cursor) {
        if (offsetPaging) {
            offset = cursor->at(2).toInteger();
        } else if (keyExpr.isEmpty()) {
            sql += QStringLiteral(" AND seq") + cmp + QLatin1Char('?');
            pageBinds << cursor->at(1).toInteger();
        } else {
            const QCborValue key = cursor->at(1);
            sql += QStringLiteral(" AND (") + keyExpr + cmp + QStringLiteral("? OR (") + keyExpr +
                   QStringLiteral(" = ? AND seq") + cmp + QStringLiteral("?))");
            const QVariant k = key.isInteger()  ? QVariant(key.toInteger())
                               : key.isDouble() ? QVariant(key.toDouble())
                                                : QVariant(key.toString());
            pageBinds << k << k << cursor->at(2).toInteger();
        }
    }
    if (offsetPaging) {
        // NULLs (jobs without that value) last, whatever the direction.
        sql += QStringLiteral(" ORDER BY (") + keyExpr + QStringLiteral(") IS NULL, ");
        pageBinds << keyBinds;
        if (!sqlite) {
            // Across types as SQLite orders json_extract's values: numbers, then strings,
            // then objects and arrays (jsonb alone puts strings first).
            sql += QStringLiteral("(CASE jsonb_typeof(") + keyExpr +
                   QStringLiteral(
                       ") WHEN 'string' THEN 1 WHEN 'object' THEN 2 WHEN 'array' THEN 2 ELSE 0 END)") +
                   dir + QStringLiteral(", ");
            pageBinds << keyBinds;
        }
        sql += keyExpr + dir + QStringLiteral(", seq") + dir;
        pageBinds << keyBinds;
    } else if (keyExpr.isEmpty()) {
        sql += QStringLiteral(" ORDER BY seq") + dir;
    } else {
        sql += QStringLiteral(" ORDER BY ") + keyExpr + dir + QStringLiteral(", seq") + dir;
    }
    sql += QStringLiteral(" LIMIT ? OFFSET ?");
    pageBinds << query.limit + 1 << offset;

    QSqlQuery q(m_db);
    q.setForwardOnly(true);
    q.prepare(sql);
    for (const QVariant &b : pageBinds)
        q.addBindValue(b);
    if (!exec(q))
        return failure<JobListing>();
    QList<qint64> seqs;
    while (q.next()) {
        seqs.append(q.value(0).toLongLong());
        r.value.items.append(jobFromQuery(q, row->name));
    }
    q.finish();
    if (r.value.items.size() > query.limit) {
        r.value.items.resize(query.limit);
        const StoredJob &last = r.value.items.last();
        const qint64 lastSeq = seqs[query.limit - 1];
        QCborArray next{tag};
        if (offsetPaging) {
            next << QStringLiteral("offset") << offset + query.limit;
        } else if (keyExpr.isEmpty()) {
            next << lastSeq;
        } else if (sort.field == Field::Id) {
            next << last.job.id << lastSeq;
        } else if (sort.field == Field::Status) {
            next << qint64(statusCode(last.job.status)) << lastSeq;
        } else {
            next << *last.job.modifiedAt << lastSeq;
        }
        r.value.next = encodeCursor(next);
    }
    tx.commit();
    return r;
}

} // namespace schedy::server
