// Schema and migrations: the tables, indexes and triggers of the store, as a
// list of migrations that bring any earlier database up to date, run by one
// process at a time.

#include "SqlSchema.h"

#include <QSqlQuery>
#include <QStringList>
#include <QVariant>

namespace schedy::server {
namespace {

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
    // 4: early stopping and lost workers (docs/protocol.md section 8.2, 8.3). Experiments keep their
    // pruner (codec JSON) and lease; jobs their lease clock (alive_at, while RUNNING),
    // their place in a replacement chain, and why they were pruned or lost.
    // prune_values holds what the pruning rules compare with, indexed by step and
    // value: kind 0, the curve values of DONE jobs (median); kind 1, the values
    // recorded at ASHA rungs.
    {R"SQL(
ALTER TABLE experiments ADD COLUMN pruner TEXT;
ALTER TABLE experiments ADD COLUMN lease_seconds INTEGER;
ALTER TABLE experiments ADD COLUMN lease_retries INTEGER;
ALTER TABLE jobs ADD COLUMN alive_at REAL;
ALTER TABLE jobs ADD COLUMN retry INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN replaces TEXT;
ALTER TABLE jobs ADD COLUMN replaced_by TEXT;
ALTER TABLE jobs ADD COLUMN lost_at REAL;
ALTER TABLE jobs ADD COLUMN pruned TEXT;
CREATE INDEX jobs_running_alive ON jobs (alive_at) WHERE status = 1;
CREATE INDEX jobs_queued_replacements ON jobs (experiment_id, seq) WHERE status = 0 AND replaces IS NOT NULL;
CREATE TABLE prune_values (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  job_seq INTEGER NOT NULL REFERENCES jobs(seq) ON DELETE CASCADE,
  kind INTEGER NOT NULL,
  step INTEGER NOT NULL,
  value REAL NOT NULL);
CREATE INDEX prune_values_by_step ON prune_values (experiment_id, kind, step, value);
CREATE INDEX prune_values_by_job ON prune_values (job_seq, kind, step);
)SQL",
     R"SQL(
ALTER TABLE experiments ADD COLUMN pruner TEXT;
ALTER TABLE experiments ADD COLUMN lease_seconds BIGINT;
ALTER TABLE experiments ADD COLUMN lease_retries BIGINT;
ALTER TABLE jobs ADD COLUMN alive_at DOUBLE PRECISION;
ALTER TABLE jobs ADD COLUMN retry BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN replaces TEXT;
ALTER TABLE jobs ADD COLUMN replaced_by TEXT;
ALTER TABLE jobs ADD COLUMN lost_at DOUBLE PRECISION;
ALTER TABLE jobs ADD COLUMN pruned TEXT;
CREATE INDEX jobs_running_alive ON jobs (alive_at) WHERE status = 1;
CREATE INDEX jobs_queued_replacements ON jobs (experiment_id, seq) WHERE status = 0 AND replaces IS NOT NULL;
CREATE TABLE prune_values (
  id BIGSERIAL PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  job_seq BIGINT NOT NULL REFERENCES jobs(seq) ON DELETE CASCADE,
  kind INTEGER NOT NULL,
  step BIGINT NOT NULL,
  value DOUBLE PRECISION NOT NULL);
CREATE INDEX prune_values_by_step ON prune_values (experiment_id, kind, step, value);
CREATE INDEX prune_values_by_job ON prune_values (job_seq, kind, step);
)SQL"},
    // 5: the sampler of docs/protocol.md section 8.1 (codec JSON, NULL: random draws);
    // a job's grid point and its index in a Sobol sequence.
    {R"SQL(
ALTER TABLE experiments ADD COLUMN sampler TEXT;
ALTER TABLE jobs ADD COLUMN grid_index INTEGER;
ALTER TABLE jobs ADD COLUMN sobol_index INTEGER;
)SQL",
     R"SQL(
ALTER TABLE experiments ADD COLUMN sampler TEXT;
ALTER TABLE jobs ADD COLUMN grid_index BIGINT;
ALTER TABLE jobs ADD COLUMN sobol_index BIGINT;
)SQL"},
    // 6: the experiment document counts lost jobs (lostJobs) without reading its other jobs.
    {"CREATE INDEX jobs_lost ON jobs (experiment_id) WHERE lost_at IS NOT NULL;",
     "CREATE INDEX jobs_lost ON jobs (experiment_id) WHERE lost_at IS NOT NULL;"},
    // 7: a user's token generation, raised by every token reset and carried by
    // each bearer: a reset revokes the bearers issued before it (issue 17, finding 10).
    {"ALTER TABLE users ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;",
     "ALTER TABLE users ADD COLUMN token_generation BIGINT NOT NULL DEFAULT 0;"},
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

} // namespace

int latestSchemaVersion()
{
    return int(std::size(Migrations));
}

bool migrateSchema(SqlConnection &c, int versionLimit, QString *error)
{
    const QString createMeta =
        QStringLiteral("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    if (c.dialect() == SqlConnection::Dialect::SQLite && !c.execRaw(createMeta)) {
        if (error)
            *error = QStringLiteral("cannot create the meta table: %1").arg(c.lastError());
        return false;
    }
    for (;;) {
        SqlConnection::Transaction tx(c);
        if (!tx.ok()) {
            if (error)
                *error = QStringLiteral("cannot start a migration: %1").arg(c.lastError());
            return false;
        }
        // Several processes starting on one PostgreSQL database: one migrates at
        // a time (a transaction-scoped advisory lock, as even CREATE TABLE IF NOT
        // EXISTS races), the others then find the schema up to date.
        if (c.isPostgres() && (!c.execRaw(QStringLiteral("SELECT pg_advisory_xact_lock(7453290918245561)")) ||
                               !c.execRaw(createMeta))) {
            if (error)
                *error = QStringLiteral("cannot create the meta table: %1").arg(c.lastError());
            return false;
        }
        const int version = schemaVersion(c);
        if (version > latestSchemaVersion()) {
            if (error) {
                *error = QStringLiteral("the database has schema version %1, newer than this program's %2")
                             .arg(version)
                             .arg(latestSchemaVersion());
            }
            return false;
        }
        if (version == latestSchemaVersion() || (versionLimit >= 0 && version >= versionLimit))
            return tx.commit();
        const Migration &m = Migrations[version];
        const QString script =
            QString::fromUtf8(c.dialect() == SqlConnection::Dialect::SQLite ? m.sqlite : m.postgresql);
        for (const QString &statement : splitStatements(script)) {
            if (!c.execRaw(statement)) {
                if (error)
                    *error = QStringLiteral("migration to version %1 failed: %2")
                                 .arg(version + 1)
                                 .arg(c.lastError());
                return false;
            }
        }
        QSqlQuery q(c.database());
        q.prepare(version == 0 ? QStringLiteral("INSERT INTO meta (key, value) VALUES ('schema_version', ?)")
                               : QStringLiteral("UPDATE meta SET value = ? WHERE key = 'schema_version'"));
        q.addBindValue(QString::number(version + 1));
        if (!q.exec() || !tx.commit()) {
            if (error)
                *error =
                    QStringLiteral("migration to version %1 failed: %2").arg(version + 1).arg(c.lastError());
            return false;
        }
    }
}

int schemaVersion(SqlConnection &c)
{
    QSqlQuery q(c.database());
    if (q.exec(QStringLiteral("SELECT value FROM meta WHERE key = 'schema_version'")) && q.next())
        return q.value(0).toString().toInt();
    return 0;
}

} // namespace schedy::server
