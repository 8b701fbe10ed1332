// The entities of the store, part 1: construction, users and experiments
// (jobs are in SqlJobs.cpp, scheduling in SqlScheduling.cpp).

#include "SqlStore.h"

#include "Auth.h"
#include "Codec.h"
#include "Json.h"
#include "SqlCodes.h"
#include "SqlListing.h"
#include "SqlSchema.h"
#include "SqlStoreRows.h"

#include <QDir>
#include <QStandardPaths>
#include <QVariant>

namespace schedy::server {
namespace {

// The pruner and lease columns of an experiment (NULL: none).
void bindPolicies(QSqlQuery &q, const Experiment &e)
{
    q.addBindValue(e.pruner ? QVariant(QString::fromUtf8(json::write(codec::encode(*e.pruner))))
                            : QVariant(QMetaType::fromType<QString>()));
    q.addBindValue(e.lease ? QVariant(e.lease->seconds) : QVariant(QMetaType::fromType<qlonglong>()));
    q.addBindValue(e.lease && e.lease->retries ? QVariant(*e.lease->retries)
                                               : QVariant(QMetaType::fromType<qlonglong>()));
    q.addBindValue(e.sampler ? QVariant(QString::fromUtf8(json::write(codec::encode(*e.sampler))))
                             : QVariant(QMetaType::fromType<QString>()));
}

} // namespace

void SqlStore::readPolicies(const QSqlQuery &q, int first, ExperimentRow *row)
{
    row->pruner.reset();
    row->lease.reset();
    if (!q.value(first).isNull()) {
        if (auto p = codec::decodePruner(json::parse(q.value(first).toString().toUtf8())))
            row->pruner = p.value();
    }
    if (!q.value(first + 1).isNull()) {
        LeaseSpec l;
        l.seconds = q.value(first + 1).toLongLong();
        if (!q.value(first + 2).isNull())
            l.retries = q.value(first + 2).toLongLong();
        row->lease = l;
    }
    row->sampler.reset();
    if (!q.value(first + 3).isNull()) {
        if (auto sampler = codec::decodeSampler(json::parse(q.value(first + 3).toString().toUtf8())))
            row->sampler = sampler.value();
    }
}

SqlStore::SqlStore(const QString &url)
    : m_sql(url)
{}

SqlStore::~SqlStore() = default;

QString SqlStore::defaultSqliteUrl()
{
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    const QString base = dir.isEmpty() ? QDir::homePath() + QStringLiteral("/.local/share/schedy") : dir;
    return QStringLiteral("sqlite:") + base + QStringLiteral("/schedy.sqlite3");
}

int SqlStore::latestSchemaVersion()
{
    return server::latestSchemaVersion();
}

int SqlStore::schemaVersion()
{
    return server::schemaVersion(m_sql);
}

bool SqlStore::open(QString *error)
{
    return m_sql.open(error) && migrateSchema(m_sql, m_schemaVersionLimit, error);
}

QByteArray SqlStore::secret()
{
    for (int attempt = 0; attempt < 2; ++attempt) {
        QSqlQuery &q = m_sql.prepared("SELECT value FROM meta WHERE key = 'jwt_secret'");
        if (m_sql.exec(q) && q.next()) {
            QByteArray s = QByteArray::fromBase64(q.value(0).toString().toLatin1());
            q.finish();
            return s;
        }
        q.finish();
        // First start: create it; another process may win the race, hence the re-read.
        QSqlQuery &insert = m_sql.prepared(
            !m_sql.isPostgres()
                ? "INSERT OR IGNORE INTO meta (key, value) VALUES ('jwt_secret', ?)"
                : "INSERT INTO meta (key, value) VALUES ('jwt_secret', ?) ON CONFLICT DO NOTHING");
        QByteArray raw = QByteArray::fromBase64(randomToken(48), QByteArray::Base64UrlEncoding);
        insert.addBindValue(QString::fromLatin1(raw.toBase64()));
        m_sql.exec(insert);
    }
    return {};
}

// ---- users -----------------------------------------------------------------

StoreResult<User> SqlStore::addUser(const QString &email, const QByteArray &passwordHash,
                                    const QByteArray &tokenHash)
{
    return m_sql.retrying([&] { return addUserOnce(email, passwordHash, tokenHash); });
}

StoreResult<User> SqlStore::addUserOnce(const QString &email, const QByteArray &passwordHash,
                                        const QByteArray &tokenHash)
{
    SqlConnection::Transaction tx(m_sql);
    if (!tx.ok())
        return m_sql.failure<User>();
    if (findUserByEmail(email))
        return StoreResult<User>::fail(StoreStatus::PreconditionFailed,
                                       QStringLiteral("user %1 exists").arg(email));
    if (m_sql.statementFailed())
        return m_sql.failure<User>();
    QSqlQuery &q = m_sql.prepared(
        "INSERT INTO users (email, password_hash, token_hash, created_at) VALUES (?, ?, ?, ?)");
    q.addBindValue(email);
    q.addBindValue(nonNull(passwordHash));
    q.addBindValue(nonNull(tokenHash));
    q.addBindValue(m_sql.now());
    if (!m_sql.exec(q))
        return m_sql.failure<User>();
    q.finish();
    auto user = findUserByEmail(email);
    if (!user || !tx.commit())
        return m_sql.failure<User>();
    StoreResult<User> r;
    r.status = StoreStatus::Created;
    r.value = *user;
    return r;
}

// Logins and token resets are single statements, but run in a transaction all
// the same: its BEGIN is where a broken PostgreSQL connection is noticed and
// opened again, so that the first login after a database restart is not
// answered as a wrong password. A failed query is a failure, never "no such user".
StoreResult<User> SqlStore::userByEmail(const QString &email)
{
    SqlConnection::Transaction tx(m_sql, false);
    if (!tx.ok())
        return m_sql.failure<User>();
    auto user = findUserByEmail(email);
    if (!tx.commit())
        return m_sql.failure<User>();
    if (!user)
        return StoreResult<User>::fail(StoreStatus::NotFound, QStringLiteral("no user %1").arg(email));
    StoreResult<User> r;
    r.value = *user;
    return r;
}

StoreResult<User> SqlStore::userById(qint64 id)
{
    SqlConnection::Transaction tx(m_sql, false);
    if (!tx.ok())
        return m_sql.failure<User>();
    auto user = findUserById(id);
    if (!tx.commit())
        return m_sql.failure<User>();
    if (!user)
        return StoreResult<User>::fail(StoreStatus::NotFound, QStringLiteral("no user with id %1").arg(id));
    StoreResult<User> r;
    r.value = *user;
    return r;
}

bool SqlStore::setTokenHash(qint64 userId, const QByteArray &tokenHash)
{
    SqlConnection::Transaction tx(m_sql);
    return tx.ok() &&
           updateUserHash(
               userId,
               "UPDATE users SET token_hash = ?, token_generation = token_generation + 1 WHERE id = ?",
               tokenHash) &&
           tx.commit();
}

StoreResult<qint64> SqlStore::tokenGeneration(qint64 userId)
{
    auto read = [&]() -> StoreResult<qint64> {
        QSqlQuery &q = m_sql.prepared("SELECT token_generation FROM users WHERE id = ?");
        q.bindValue(0, userId); // by position: a failed run leaves no value behind to pile up
        if (!m_sql.exec(q))
            return m_sql.failure<qint64>();
        StoreResult<qint64> r;
        if (q.next())
            r.value = q.value(0).toLongLong();
        else
            r = StoreResult<qint64>::fail(StoreStatus::NotFound, QStringLiteral("no such user"));
        q.finish();
        return r;
    };
    // Every request asks: one statement on its own, one round trip. Only when it
    // fails is it run again in a transaction, whose BEGIN reopens a broken
    // PostgreSQL connection.
    if (!m_sql.inTransaction()) {
        StoreResult<qint64> r = read();
        if (r.status != StoreStatus::Error && r.status != StoreStatus::Busy)
            return r;
    }
    return m_sql.retrying([&]() -> StoreResult<qint64> {
        SqlConnection::Transaction tx(m_sql, false);
        if (!tx.ok())
            return m_sql.failure<qint64>();
        StoreResult<qint64> r = read();
        if (r.status != StoreStatus::Error && r.status != StoreStatus::Busy && !tx.commit())
            return m_sql.failure<qint64>();
        return r;
    });
}

bool SqlStore::setPasswordHash(qint64 userId, const QByteArray &passwordHash)
{
    SqlConnection::Transaction tx(m_sql);
    return tx.ok() &&
           updateUserHash(userId, "UPDATE users SET password_hash = ? WHERE id = ?", passwordHash) &&
           tx.commit();
}

std::optional<User> SqlStore::findUserByEmail(const QString &email)
{
    QSqlQuery &q = m_sql.prepared(
        "SELECT id, email, password_hash, token_hash, token_generation FROM users WHERE email = ?");
    q.addBindValue(email);
    if (!m_sql.exec(q) || !q.next()) {
        q.finish();
        return std::nullopt;
    }
    User u{q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString().toLatin1(),
           q.value(3).toString().toLatin1(), q.value(4).toLongLong()};
    q.finish();
    return u;
}

std::optional<User> SqlStore::findUserById(qint64 id)
{
    QSqlQuery &q = m_sql.prepared(
        "SELECT id, email, password_hash, token_hash, token_generation FROM users WHERE id = ?");
    q.addBindValue(id);
    if (!m_sql.exec(q) || !q.next()) {
        q.finish();
        return std::nullopt;
    }
    User u{q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString().toLatin1(),
           q.value(3).toString().toLatin1(), q.value(4).toLongLong()};
    q.finish();
    return u;
}

bool SqlStore::updateUserHash(qint64 userId, const char *sql, const QByteArray &hash)
{
    QSqlQuery &q = m_sql.prepared(sql);
    q.addBindValue(nonNull(hash));
    q.addBindValue(userId);
    const bool ok = m_sql.exec(q) && q.numRowsAffected() == 1;
    q.finish();
    return ok;
}

// ---- experiments -------------------------------------------------------------

std::optional<SqlStore::ExperimentRow> SqlStore::findExperiment(qint64 user, const QString &name,
                                                                bool forUpdate)
{
    QSqlQuery &q =
        forUpdate && m_sql.isPostgres()
            ? m_sql.prepared(
                  "SELECT id, status, scheduler, name, created_at, modified_at, version, pruner, "
                  "lease_seconds, "
                  "lease_retries, sampler FROM experiments WHERE user_id = ? AND name = ? FOR NO KEY UPDATE")
            : m_sql.prepared("SELECT id, status, scheduler, name, created_at, modified_at, version, pruner, "
                             "lease_seconds, "
                             "lease_retries, sampler FROM experiments WHERE user_id = ? AND name = ?");
    q.addBindValue(user);
    q.addBindValue(name);
    if (!m_sql.exec(q) || !q.next()) {
        q.finish();
        return std::nullopt;
    }
    ExperimentRow row;
    row.id = q.value(0).toLongLong();
    row.status = sqlcode::experimentStatus(q.value(1).toInt());
    row.name = q.value(3).toString();
    row.createdAt = q.value(4).toDouble();
    row.modifiedAt = q.value(5).toDouble();
    row.version = q.value(6).toLongLong();
    readPolicies(q, 7, &row);
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
    // A pruner compares a job with the others: its decisions are serialized the same way.
    auto row = findExperiment(user, name, false);
    // So do grid, Sobol and TPE: their next job depends on the experiment's other jobs.
    if (row && m_sql.isPostgres() &&
        (row->pruner || nextJobNeeds(toExperiment(*row, std::nullopt)).serialize))
        row = findExperiment(user, name, true);
    return row;
}

std::optional<JobCounts> SqlStore::countsOf(qint64 experimentId)
{
    QSqlQuery &q = m_sql.prepared("SELECT status, n FROM job_counts WHERE experiment_id = ?");
    q.addBindValue(experimentId);
    if (!m_sql.exec(q))
        return std::nullopt;
    JobCounts c;
    while (q.next()) {
        if (const auto s = sqlcode::jobStatus(q.value(0).toInt()))
            c[*s] = q.value(1).toLongLong();
    }
    q.finish();
    // A partial index (jobs_lost) keeps this to the lost jobs themselves.
    QSqlQuery &lost =
        m_sql.prepared("SELECT COUNT(*) FROM jobs WHERE experiment_id = ? AND lost_at IS NOT NULL");
    lost.addBindValue(experimentId);
    if (!m_sql.exec(lost) || !lost.next())
        return std::nullopt;
    c.lost = lost.value(0).toLongLong();
    lost.finish();
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
    e.pruner = row.pruner;
    e.sampler = row.sampler;
    e.lease = row.lease;
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
    SqlConnection::Transaction tx(m_sql, false);
    if (!tx.ok())
        return m_sql.failure<ExperimentListing>();
    QSqlQuery &q = m_sql.prepared(
        "SELECT id, status, scheduler, name, created_at, modified_at, version, pruner, lease_seconds, "
        "lease_retries, sampler FROM experiments WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?");
    q.addBindValue(user);
    q.addBindValue(after);
    q.addBindValue(limit + 1);
    if (!m_sql.exec(q))
        return m_sql.failure<ExperimentListing>();
    QList<ExperimentRow> rows;
    while (q.next()) {
        ExperimentRow row;
        row.id = q.value(0).toLongLong();
        row.status = sqlcode::experimentStatus(q.value(1).toInt());
        auto s = codec::decodeScheduler(json::parse(q.value(2).toString().toUtf8()));
        if (s)
            row.scheduler = s.value();
        row.name = q.value(3).toString();
        row.createdAt = q.value(4).toDouble();
        row.modifiedAt = q.value(5).toDouble();
        row.version = q.value(6).toLongLong();
        readPolicies(q, 7, &row);
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
        QSqlQuery &c = m_sql.prepared("SELECT COUNT(*) FROM experiments WHERE user_id = ?");
        c.addBindValue(user);
        if (m_sql.exec(c) && c.next())
            r.value.total = c.value(0).toLongLong();
        c.finish();
    }
    // A count or total that could not be read fails the page rather than leaving it out.
    if (!tx.commit())
        return m_sql.failure<ExperimentListing>();
    return r;
}

StoreResult<Experiment> SqlStore::experiment(qint64 user, const QString &name)
{
    SqlConnection::Transaction tx(m_sql, false);
    if (!tx.ok())
        return m_sql.failure<Experiment>();
    auto row = findExperiment(user, name, false);
    if (!row)
        return noExperiment<Experiment>(m_sql, name);
    StoreResult<Experiment> r;
    r.value = toExperiment(*row, countsOf(row->id));
    if (!tx.commit())
        return m_sql.failure<Experiment>();
    return r;
}

StoreResult<Experiment> SqlStore::putExperiment(qint64 user, const ExperimentUpdate &u, Condition c,
                                                const QByteArray &etag)
{
    return m_sql.retrying([&] { return putExperimentOnce(user, u, c, etag); });
}

StoreResult<Experiment> SqlStore::putExperimentOnce(qint64 user, const ExperimentUpdate &u, Condition c,
                                                    const QByteArray &etag)
{
    const QString &name = u.experiment.name;
    SqlConnection::Transaction tx(m_sql);
    if (!tx.ok())
        return m_sql.failure<Experiment>();
    // Locked on PostgreSQL (and the write lock held on SQLite) before the ETag is
    // compared: of two processes saving over one version, the second reads the
    // first one's version once it committed, and fails the If-Match.
    auto row = findExperiment(user, name, true);
    if (!row && m_sql.statementFailed())
        return m_sql.failure<Experiment>();
    // Section 8's keys a PUT leaves out keep their stored values; the merged definition
    // must hold together (a kept sampler may not fit a new scheduler).
    const Experiment stored = row ? toExperiment(*row, std::nullopt) : Experiment();
    const Experiment e = u.applyTo(row ? &stored : nullptr);
    if (const auto problem = codec::checkPolicies(e))
        return StoreResult<Experiment>::fail(StoreStatus::Invalid, problem->message());
    const double t = m_sql.now();
    const QString scheduler = QString::fromUtf8(json::write(codec::encode(e.scheduler)));
    StoreResult<Experiment> r;
    // A repeat of the save that made the stored version (its answer was lost): answered
    // as that save was, without a new version.
    auto unchanged = [&] {
        r.value = toExperiment(*row, countsOf(row->id));
        return tx.commit() ? r : m_sql.failure<Experiment>();
    };
    if (c == Condition::IfMatch) {
        if (!row) {
            return StoreResult<Experiment>::fail(
                StoreStatus::PreconditionFailed,
                QStringLiteral("experiment '%1' does not exist (any more); nothing was saved").arg(e.name));
        }
        if (!constantTimeEquals(etag, experimentEtagOf(row->id, row->version))) {
            if (repeatedExperimentWrite(*row, stored, e, c, etag))
                return unchanged();
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
        QSqlQuery &q = m_sql.prepared(
            "UPDATE experiments SET status = ?, scheduler = ?, modified_at = ?, version = version + 1, "
            "pruner = ?, lease_seconds = ?, lease_retries = ?, sampler = ? WHERE id = ?");
        q.addBindValue(sqlcode::of(e.status));
        q.addBindValue(scheduler);
        q.addBindValue(t);
        bindPolicies(q, e);
        q.addBindValue(row->id);
        if (!m_sql.exec(q))
            return m_sql.failure<Experiment>();
        q.finish();
        if (row->pruner != e.pruner && !rebuildPruneValues(row->id, e.pruner))
            return m_sql.failure<Experiment>();
        // A lease set on a running experiment counts from now, not from the last writes.
        if (!row->lease && e.lease && !restartLeases(row->id))
            return m_sql.failure<Experiment>();
        r.status = StoreStatus::Ok;
    } else {
        QSqlQuery &q = m_sql.prepared(
            "INSERT INTO experiments (user_id, name, status, scheduler, created_at, modified_at, pruner, "
            "lease_seconds, lease_retries, sampler) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        q.addBindValue(user);
        q.addBindValue(e.name);
        q.addBindValue(sqlcode::of(e.status));
        q.addBindValue(scheduler);
        q.addBindValue(t);
        q.addBindValue(t);
        bindPolicies(q, e);
        if (!m_sql.exec(q))
            return m_sql.failure<Experiment>();
        q.finish();
        r.status = StoreStatus::Created;
    }
    row = findExperiment(user, e.name, false);
    if (!row)
        return m_sql.failure<Experiment>();
    r.value = toExperiment(*row, countsOf(row->id));
    if (!tx.commit())
        return m_sql.failure<Experiment>();
    return r;
}

bool SqlStore::repeatedExperimentWrite(const ExperimentRow &row, const Experiment &stored,
                                       const Experiment &e, Condition c, const QByteArray &etag)
{
    // If-None-Match stays "must not exist" (the original client relies on its 412).
    const auto sent = c == Condition::IfMatch ? parseEtag(etag, true) : std::nullopt;
    if (!sent || sent->first != row.id)
        return false;
    return row.version == sent->second + 1 && e.status == stored.status && e.scheduler == stored.scheduler &&
           e.pruner == stored.pruner && e.lease == stored.lease && e.sampler == stored.sampler;
}

StoreResult<qint64> SqlStore::deleteExperiment(qint64 user, const QString &name)
{
    return m_sql.retrying([&] { return deleteExperimentOnce(user, name); });
}

StoreResult<qint64> SqlStore::deleteExperimentOnce(qint64 user, const QString &name)
{
    SqlConnection::Transaction tx(m_sql);
    if (!tx.ok())
        return m_sql.failure<qint64>();
    auto row = findExperiment(user, name, true);
    if (!row)
        return noExperiment<qint64>(m_sql, name);
    const auto counts = countsOf(row->id);
    for (const char *sql :
         {"DELETE FROM job_counts WHERE experiment_id = ?", "DELETE FROM jobs WHERE experiment_id = ?",
          "DELETE FROM job_counts WHERE experiment_id = ?", "DELETE FROM experiments WHERE id = ?"}) {
        QSqlQuery &q = m_sql.prepared(sql);
        q.addBindValue(row->id);
        if (!m_sql.exec(q))
            return m_sql.failure<qint64>();
        q.finish();
    }
    if (!tx.commit())
        return m_sql.failure<qint64>();
    m_schedulerCache.remove(row->id);
    m_tpeCache.remove(row->id);
    StoreResult<qint64> r;
    r.value = counts ? counts->total() : 0;
    return r;
}

} // namespace schedy::server
