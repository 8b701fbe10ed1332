#include "DatabaseCopy.h"

#include "SqlStore.h"

#include <QCryptographicHash>
#include <QHash>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStringList>
#include <QVariant>

#include <memory>
#include <vector>

namespace schedy::server {
namespace {

enum class Type { Int, Real, Text };

struct Column
{
    const char *name;
    Type type;
    bool nullable;
};

struct Table
{
    const char *name;
    const char *key; // the INTEGER PRIMARY KEY / BIGSERIAL column, whose sequence goes on
    std::vector<Column> columns;
};

// The tables holding data, parents first. job_counts is rebuilt by the
// target's triggers and verified; meta holds the schema version (made by the
// target's migrations) and the token signing secret (copied).
const std::vector<Table> &tables()
{
    static const std::vector<Table> t = {
        {"users",
         "id",
         {{"id", Type::Int, false},
          {"email", Type::Text, false},
          {"password_hash", Type::Text, false},
          {"token_hash", Type::Text, false},
          {"created_at", Type::Real, false},
          {"token_generation", Type::Int, false}}},
        {"experiments",
         "id",
         {{"id", Type::Int, false},
          {"user_id", Type::Int, false},
          {"name", Type::Text, false},
          {"status", Type::Int, false},
          {"scheduler", Type::Text, false},
          {"created_at", Type::Real, false},
          {"modified_at", Type::Real, false},
          {"version", Type::Int, false},
          {"pruner", Type::Text, true},
          {"lease_seconds", Type::Int, true},
          {"lease_retries", Type::Int, true},
          {"sampler", Type::Text, true}}},
        {"jobs",
         "seq",
         {{"seq", Type::Int, false},
          {"experiment_id", Type::Int, false},
          {"job_id", Type::Text, false},
          {"status", Type::Int, false},
          {"hyperparameters", Type::Text, false},
          {"results", Type::Text, false},
          {"created_at", Type::Real, false},
          {"modified_at", Type::Real, false},
          {"version", Type::Int, false},
          {"generation", Type::Int, true},
          {"parent", Type::Text, true},
          {"member", Type::Text, true},
          {"predecessor", Type::Text, true},
          {"ready_at", Type::Real, true},
          {"lease_until", Type::Real, false},
          {"alive_at", Type::Real, true},
          {"retry", Type::Int, false},
          {"replaces", Type::Text, true},
          {"replaced_by", Type::Text, true},
          {"lost_at", Type::Real, true},
          {"pruned", Type::Text, true},
          {"grid_index", Type::Int, true},
          {"sobol_index", Type::Int, true}}},
        {"prune_values",
         "id",
         {{"id", Type::Int, false},
          {"experiment_id", Type::Int, false},
          {"job_seq", Type::Int, false},
          {"kind", Type::Int, false},
          {"step", Type::Int, false},
          {"value", Type::Real, false}}},
    };
    return t;
}

const Table &jobCountsTable()
{
    static const Table t{
        "job_counts",
        "experiment_id",
        {{"experiment_id", Type::Int, false}, {"status", Type::Int, false}, {"n", Type::Int, false}}};
    return t;
}

QString columnList(const Table &t)
{
    QStringList names;
    for (const Column &c : t.columns)
        names << QLatin1String(c.name);
    return names.join(QStringLiteral(", "));
}

// The value as it is bound: typed, NULL only where the column allows it.
QVariant typed(const QVariant &v, const Column &c)
{
    if (v.isNull()) {
        if (c.nullable) {
            switch (c.type) {
            case Type::Int:
                return QVariant(QMetaType::fromType<qlonglong>());
            case Type::Real:
                return QVariant(QMetaType::fromType<double>());
            case Type::Text:
                return QVariant(QMetaType::fromType<QString>());
            }
        }
        if (c.type == Type::Text)
            return QStringLiteral("");
        return QVariant(qlonglong(0));
    }
    switch (c.type) {
    case Type::Int:
        return QVariant(v.toLongLong());
    case Type::Real:
        return QVariant(v.toDouble());
    case Type::Text: {
        const QString s = v.toString();
        return s.isNull() ? QStringLiteral("") : s;
    }
    }
    return v;
}

// One value in the checksummed form: type tag, then the value, exactly.
void canonical(QByteArray &out, const QVariant &v, const Column &c)
{
    if (v.isNull()) {
        out += "N|";
        return;
    }
    switch (c.type) {
    case Type::Int:
        out += 'I' + QByteArray::number(v.toLongLong());
        break;
    case Type::Real:
        out += 'R' + QByteArray::number(v.toDouble(), 'g', 17);
        break;
    case Type::Text: {
        const QByteArray s = v.toString().toUtf8();
        out += 'T' + QByteArray::number(s.size()) + ':' + s;
        break;
    }
    }
    out += '|';
}

struct Side
{
    std::unique_ptr<SqlStore> store;
    QSqlDatabase db;
    bool pg = false;
    QString label;
};

class Copier
{
public:
    Copier(const CopyOptions &options, QString *error)
        : m_options(options)
        , m_error(error)
    {}

    bool run(QList<CopiedTable> *report);

private:
    bool fail(const QString &message)
    {
        if (m_error)
            *m_error = message;
        return false;
    }
    bool failQuery(const QString &what, const QSqlQuery &q)
    {
        return fail(QStringLiteral("%1: %2").arg(what, q.lastError().text()));
    }
    void say(const QString &line)
    {
        if (m_options.progress)
            m_options.progress(line);
    }
    bool open(Side &side, const QString &url, const QString &label);
    bool exec(Side &side, const QString &sql)
    {
        QSqlQuery q(side.db);
        if (!q.exec(sql))
            return failQuery(QStringLiteral("%1: %2").arg(side.label, sql), q);
        return true;
    }
    bool scalar(Side &side, const QString &sql, QVariant *out)
    {
        QSqlQuery q(side.db);
        if (!q.exec(sql))
            return failQuery(QStringLiteral("%1: %2").arg(side.label, sql), q);
        *out = q.next() ? q.value(0) : QVariant();
        return true;
    }
    bool copyTable(const Table &t, qint64 *rows);
    bool checksum(Side &side, const Table &t, const QString &where, qint64 *rows, QByteArray *sum);
    bool sequenceOf(Side &side, const Table &t, qint64 *value);
    bool setSequence(Side &side, const Table &t, qint64 value);
    bool secretOf(Side &side, QVariant *value);

    CopyOptions m_options;
    QString *m_error;
    Side m_from;
    Side m_to;
};

bool Copier::open(Side &side, const QString &url, const QString &label)
{
    side.label = label;
    side.store = std::make_unique<SqlStore>(url);
    QString error;
    if (!side.store->open(&error)) // brings the schema up to date
        return fail(QStringLiteral("%1 (%2): %3").arg(label, url.section(QLatin1Char('@'), -1), error));
    side.db = side.store->database();
    side.pg = side.store->dialect() == SqlStore::Dialect::PostgreSQL;
    return true;
}

bool Copier::checksum(Side &side, const Table &t, const QString &where, qint64 *rows, QByteArray *sum)
{
    QSqlQuery q(side.db);
    q.setForwardOnly(true);
    const QString order =
        &t == &jobCountsTable() ? QStringLiteral("experiment_id, status") : QLatin1String(t.key);
    if (!q.exec(QStringLiteral("SELECT %1 FROM %2%3 ORDER BY %4")
                    .arg(columnList(t), QLatin1String(t.name), where, order)))
        return failQuery(QStringLiteral("%1: reading %2").arg(side.label, QLatin1String(t.name)), q);
    QCryptographicHash hash(QCryptographicHash::Sha256);
    QByteArray line;
    *rows = 0;
    while (q.next()) {
        line.clear();
        for (int i = 0; i < int(t.columns.size()); ++i)
            canonical(line, q.value(i), t.columns[size_t(i)]);
        line += '\n';
        hash.addData(line);
        ++*rows;
    }
    if (q.lastError().isValid())
        return failQuery(QStringLiteral("%1: reading %2").arg(side.label, QLatin1String(t.name)), q);
    *sum = hash.result().toHex();
    return true;
}

bool Copier::sequenceOf(Side &side, const Table &t, qint64 *value)
{
    QVariant v;
    if (side.pg) {
        QVariant name;
        if (!scalar(side,
                    QStringLiteral("SELECT pg_get_serial_sequence('%1', '%2')")
                        .arg(QLatin1String(t.name), QLatin1String(t.key)),
                    &name))
            return false;
        if (!scalar(side,
                    QStringLiteral("SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM %1")
                        .arg(name.toString()),
                    &v))
            return false;
    } else if (!scalar(side,
                       QStringLiteral("SELECT seq FROM sqlite_sequence WHERE name = '%1'")
                           .arg(QLatin1String(t.name)),
                       &v)) {
        return false;
    }
    QVariant max;
    if (!scalar(side,
                QStringLiteral("SELECT MAX(%1) FROM %2").arg(QLatin1String(t.key), QLatin1String(t.name)),
                &max))
        return false;
    *value = std::max(v.toLongLong(), max.toLongLong());
    return true;
}

bool Copier::setSequence(Side &side, const Table &t, qint64 value)
{
    if (side.pg) {
        // setval(seq, n, true): the next id is n + 1; (1, false): the next is 1.
        return exec(side, QStringLiteral("SELECT setval(pg_get_serial_sequence('%1', '%2'), %3, %4)")
                              .arg(QLatin1String(t.name), QLatin1String(t.key))
                              .arg(std::max<qint64>(value, 1))
                              .arg(value > 0 ? QStringLiteral("true") : QStringLiteral("false")));
    }
    if (!exec(side,
              QStringLiteral("DELETE FROM sqlite_sequence WHERE name = '%1'").arg(QLatin1String(t.name))))
        return false;
    return value <= 0 ||
           exec(side, QStringLiteral("INSERT INTO sqlite_sequence (name, seq) VALUES ('%1', %2)")
                          .arg(QLatin1String(t.name))
                          .arg(value));
}

bool Copier::secretOf(Side &side, QVariant *value)
{
    return scalar(side, QStringLiteral("SELECT value FROM meta WHERE key = 'jwt_secret'"), value);
}

bool Copier::copyTable(const Table &t, qint64 *rows)
{
    // Multi-row INSERTs: far fewer round trips to PostgreSQL than one per row,
    // and well under SQLite's limit of 32766 bound values per statement.
    constexpr int Batch = 256;
    const int width = int(t.columns.size());
    QHash<int, std::shared_ptr<QSqlQuery>> inserts; // by number of rows
    auto insertFor = [&](int n) -> QSqlQuery * {
        auto &q = inserts[n];
        if (!q) {
            QString row = QStringLiteral("(") +
                          QStringList(width, QStringLiteral("?")).join(QLatin1Char(',')) + QLatin1Char(')');
            const QString sql =
                QStringLiteral("INSERT INTO %1 (%2) VALUES ").arg(QLatin1String(t.name), columnList(t)) +
                QStringList(n, row).join(QLatin1Char(','));
            q = std::make_shared<QSqlQuery>(m_to.db);
            if (!q->prepare(sql)) {
                failQuery(QStringLiteral("target: preparing the insert into %1").arg(QLatin1String(t.name)),
                          *q);
                return nullptr;
            }
        }
        return q.get();
    };
    QVariantList pending;
    int pendingRows = 0;
    auto flush = [&]() -> bool {
        if (!pendingRows)
            return true;
        QSqlQuery *q = insertFor(pendingRows);
        if (!q)
            return false;
        for (const QVariant &v : std::as_const(pending))
            q->addBindValue(v);
        if (!q->exec())
            return failQuery(QStringLiteral("target: inserting into %1").arg(QLatin1String(t.name)), *q);
        q->finish();
        pending.clear();
        pendingRows = 0;
        return true;
    };

    QSqlQuery src(m_from.db);
    src.setForwardOnly(true);
    if (!src.exec(QStringLiteral("SELECT %1 FROM %2 ORDER BY %3")
                      .arg(columnList(t), QLatin1String(t.name), QLatin1String(t.key))))
        return failQuery(QStringLiteral("source: reading %1").arg(QLatin1String(t.name)), src);
    *rows = 0;
    while (src.next()) {
        for (int i = 0; i < width; ++i)
            pending << typed(src.value(i), t.columns[size_t(i)]);
        ++pendingRows;
        ++*rows;
        if (pendingRows == Batch && !flush())
            return false;
        if (*rows % 50000 == 0)
            say(QStringLiteral("  %1: %2 rows...").arg(QLatin1String(t.name)).arg(*rows));
    }
    if (src.lastError().isValid())
        return failQuery(QStringLiteral("source: reading %1").arg(QLatin1String(t.name)), src);
    return flush();
}

bool Copier::run(QList<CopiedTable> *report)
{
    if (m_options.from == m_options.to)
        return fail(QStringLiteral("--from and --to name the same database"));
    if (!open(m_from, m_options.from, QStringLiteral("source")) ||
        !open(m_to, m_options.to, QStringLiteral("target")))
        return false;

    // The source in one snapshot; the target in one transaction.
    if (!exec(m_from, m_from.pg ? QStringLiteral("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                                : QStringLiteral("BEGIN")))
        return false;
    if (!exec(m_to, QStringLiteral("BEGIN")))
        return false;
    bool committed = false;
    struct Rollback
    {
        Copier *c;
        bool *committed;
        ~Rollback()
        {
            QSqlQuery(c->m_from.db).exec(QStringLiteral("ROLLBACK"));
            if (!*committed)
                QSqlQuery(c->m_to.db).exec(QStringLiteral("ROLLBACK"));
        }
    } rollback{this, &committed};

    if (m_to.pg &&
        !exec(m_to, QStringLiteral("LOCK TABLE users, experiments, jobs, job_counts IN EXCLUSIVE MODE")))
        return false;
    QVariant users, experiments, jobs;
    if (!scalar(m_to, QStringLiteral("SELECT COUNT(*) FROM users"), &users) ||
        !scalar(m_to, QStringLiteral("SELECT COUNT(*) FROM experiments"), &experiments) ||
        !scalar(m_to, QStringLiteral("SELECT COUNT(*) FROM jobs"), &jobs))
        return false;
    const bool empty = users.toLongLong() == 0 && experiments.toLongLong() == 0 && jobs.toLongLong() == 0;
    if (!empty) {
        if (!m_options.force) {
            return fail(QStringLiteral("the target is not empty (%1 users, %2 experiments, %3 jobs); "
                                       "--force replaces its contents")
                            .arg(users.toLongLong())
                            .arg(experiments.toLongLong())
                            .arg(jobs.toLongLong()));
        }
        say(QStringLiteral("target not empty: replacing its %1 users, %2 experiments, %3 jobs (--force)")
                .arg(users.toLongLong())
                .arg(experiments.toLongLong())
                .arg(jobs.toLongLong()));
        const QStringList wipe =
            m_to.pg
                ? QStringList{QStringLiteral("TRUNCATE prune_values, jobs, job_counts, experiments, users")}
                : QStringList{QStringLiteral("DELETE FROM prune_values"), QStringLiteral("DELETE FROM jobs"),
                              QStringLiteral("DELETE FROM job_counts"),
                              QStringLiteral("DELETE FROM experiments"), QStringLiteral("DELETE FROM users")};
        for (const QString &sql : wipe) {
            if (!exec(m_to, sql))
                return false;
        }
    }

    for (const Table &t : tables()) {
        qint64 rows = 0, sequence = 0;
        say(QStringLiteral("copying %1...").arg(QLatin1String(t.name)));
        if (!copyTable(t, &rows) || !sequenceOf(m_from, t, &sequence) || !setSequence(m_to, t, sequence))
            return false;
    }
    QVariant secret;
    if (!secretOf(m_from, &secret))
        return false;
    if (!secret.isNull()) {
        QSqlQuery q(m_to.db);
        q.prepare(QStringLiteral("INSERT INTO meta (key, value) VALUES ('jwt_secret', ?) "
                                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
        q.addBindValue(secret.toString());
        if (!q.exec())
            return failQuery(QStringLiteral("target: storing the token signing secret"), q);
    }

    // Verify, inside the target's transaction: same rows, same bytes.
    say(QStringLiteral("verifying..."));
    QList<CopiedTable> out;
    QStringList differences;
    auto compare = [&](Side &a, Side &b, const Table &t, const QString &where) -> bool {
        CopiedTable c;
        c.table = QLatin1String(t.name);
        qint64 targetRows = 0;
        QByteArray targetSum;
        if (!checksum(a, t, where, &c.rows, &c.checksum) || !checksum(b, t, where, &targetRows, &targetSum))
            return false;
        if (c.rows != targetRows || c.checksum != targetSum) {
            differences << QStringLiteral("%1: source %2 rows (sha256 %3), target %4 rows (sha256 %5)")
                               .arg(c.table)
                               .arg(c.rows)
                               .arg(QString::fromLatin1(c.checksum))
                               .arg(targetRows)
                               .arg(QString::fromLatin1(targetSum));
        }
        out << c;
        return true;
    };
    for (const Table &t : tables()) {
        if (!compare(m_from, m_to, t, {}))
            return false;
    }
    // Counts kept by triggers: rows with n = 0 may linger in the source.
    if (!compare(m_from, m_to, jobCountsTable(), QStringLiteral(" WHERE n > 0")))
        return false;
    out.last().table = QStringLiteral("job_counts (n > 0)");
    for (const Table &t : tables()) {
        qint64 a = 0, b = 0;
        if (!sequenceOf(m_from, t, &a) || !sequenceOf(m_to, t, &b))
            return false;
        if (a != b)
            differences << QStringLiteral("%1: source sequence at %2, target at %3")
                               .arg(QLatin1String(t.name))
                               .arg(a)
                               .arg(b);
    }
    QVariant targetSecret;
    if (!secretOf(m_to, &targetSecret))
        return false;
    if (secret.toString() != targetSecret.toString())
        differences << QStringLiteral("the token signing secret differs");
    if (!differences.isEmpty())
        return fail(QStringLiteral("verification failed, nothing was kept:\n  ") +
                    differences.join(QStringLiteral("\n  ")));

    QSqlQuery commit(m_to.db);
    if (!commit.exec(QStringLiteral("COMMIT")))
        return failQuery(QStringLiteral("target: COMMIT"), commit);
    committed = true;
    if (report)
        *report = out;
    return true;
}

} // namespace

bool copyDatabase(const CopyOptions &options, QList<CopiedTable> *report, QString *error)
{
    Copier copier(options, error);
    return copier.run(report);
}

} // namespace schedy::server
