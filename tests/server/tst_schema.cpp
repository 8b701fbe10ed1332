// Schema migrations on a database an older program left behind: built with the
// real migration scripts up to an old version, filled as that version stores
// data, then opened by the current store, which brings it up to date; served,
// everything is still there and works. Version 3 added the experiment version
// behind experiment ETags.
#include "Auth.h"
#include "Json.h"
#include "Server.h"
#include "SqlStore.h"
#include "TestServer.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QtTest>

#include <memory>

using namespace schedy;
using namespace schedy::test;

namespace {

bool run(QSqlDatabase db, const QString &sql, const QVariantList &values = {})
{
    QSqlQuery q(db);
    if (!q.prepare(sql)) {
        qWarning("%s: %s", qPrintable(sql), qPrintable(q.lastError().text()));
        return false;
    }
    for (const QVariant &v : values)
        q.addBindValue(v);
    if (!q.exec()) {
        qWarning("%s: %s", qPrintable(sql), qPrintable(q.lastError().text()));
        return false;
    }
    return true;
}

bool hasColumn(QSqlDatabase db, const QString &table, const QString &column)
{
    return db.record(table).indexOf(column) >= 0;
}

} // namespace

class TestSchema : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<PostgresDatabase> m_pg;

    QString freshUrl(const QString &file)
    {
        if (!testingPostgres())
            return QStringLiteral("sqlite:") + m_dir.filePath(file);
        m_pg = std::make_unique<PostgresDatabase>();
        return m_pg->ok() ? m_pg->url() : QString();
    }

private slots:
    void cleanup() { m_pg.reset(); }

    void version2GetsExperimentEtags()
    {
        QVERIFY(m_dir.isValid());
        const QString url = freshUrl(QStringLiteral("v2.sqlite3"));
        QVERIFY2(!url.isEmpty(), m_pg ? qPrintable(m_pg->error()) : "");

        // ---- a database as version 2 left it: an experiment with jobs ----
        ClientConfig config;
        {
            server::SqlStore old(url);
            old.setSchemaVersionLimit(2);
            QString error;
            QVERIFY2(old.open(&error), qPrintable(error));
            QCOMPARE(old.schemaVersion(), 2);
            QVERIFY(!hasColumn(old.database(), QStringLiteral("experiments"), QStringLiteral("version")));
            // The user as version 2 stored it (today's addUser reads columns it lacks).
            QSqlDatabase db = old.database();
            config.email = QStringLiteral("old@example.com");
            config.token = QString::fromLatin1(server::randomToken());
            QVERIFY(
                run(db, QStringLiteral("INSERT INTO users (email, token_hash, created_at) VALUES (?, ?, ?)"),
                    {config.email, QString::fromLatin1(server::hashApiToken(config.token)), 1700000000.0}));
            QSqlQuery userId(db);
            QVERIFY(userId.exec(QStringLiteral("SELECT id FROM users")) && userId.next());
            const qint64 user = userId.value(0).toLongLong();
            userId.finish();
            QVERIFY(
                run(db,
                    QStringLiteral("INSERT INTO experiments (user_id, name, status, scheduler, created_at, "
                                   "modified_at) VALUES (?, ?, ?, ?, ?, ?)"),
                    {user, QStringLiteral("kept"), 1,
                     QStringLiteral(R"({"RandomSearch":{"lr":{"uniform":{"low":0.0,"high":1.0}}}})"),
                     1700000000.5, 1700000100.25}));
            QSqlQuery id(db);
            QVERIFY(id.exec(QStringLiteral("SELECT id FROM experiments WHERE name = 'kept'")) && id.next());
            const qint64 experimentId = id.value(0).toLongLong();
            id.finish();
            for (int i = 0; i < 3; ++i) {
                QVERIFY(run(db,
                            QStringLiteral(
                                "INSERT INTO jobs (experiment_id, job_id, status, hyperparameters, results, "
                                "created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?)"),
                            {experimentId, QStringLiteral("Job%1x").arg(i), i == 0 ? 0 : 4,
                             QStringLiteral(R"({"lr":0.%1})").arg(i + 1), QStringLiteral("{}"),
                             1700000001.0 + i, 1700000001.0 + i}));
            }
        }

        // ---- the current program opens it ----
        {
            server::SqlStore store(url);
            QString error;
            QVERIFY2(store.open(&error), qPrintable(error));
            QCOMPARE(store.schemaVersion(), server::SqlStore::latestSchemaVersion());
            QVERIFY(server::SqlStore::latestSchemaVersion() >= 3);
            QVERIFY(hasColumn(store.database(), QStringLiteral("experiments"), QStringLiteral("version")));
        }

        server::ServerOptions options;
        options.databaseUrl = url;
        TestServer server(options);
        QVERIFY(server.start());
        HttpTestClient http(server.root());
        QVERIFY(http.login(config));
        const QString path = QStringLiteral("experiments/kept/");
        Reply r = http.get(path);
        QCOMPARE(r.status, 200);
        const QCborMap doc = r.json.toMap();
        QCOMPARE(doc.value(QStringLiteral("status")).toString(), QStringLiteral("DONE"));
        QCOMPARE(json::write(doc.value(QStringLiteral("scheduler"))),
                 QByteArray(R"({"RandomSearch":{"lr":{"uniform":{"low":0.0,"high":1.0}}}})"));
        QCOMPARE(doc.value(QStringLiteral("modifiedAt")).toDouble(), 1700000100.25);
        QCOMPARE(doc.value(QStringLiteral("jobCounts")).toMap().value(QStringLiteral("DONE")).toInteger(), 2);
        const QByteArray etag = r.header("ETag");
        QVERIFY(!etag.isEmpty());
        QCOMPARE(http.get(QStringLiteral("experiments/kept/jobs/Job0x/")).status, 200);

        // Its ETag guards saves like any other.
        r = http.put(path, R"({"status": "RUNNING", "scheduler": {"Manual": null}})", {{"If-Match", etag}});
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("ETag") != etag);
        QCOMPARE(http.put(path, R"({"status": "DONE", "scheduler": {"Manual": null}})", {{"If-Match", etag}})
                     .status,
                 412);
        QCOMPARE(http.get(QStringLiteral("experiments/kept/jobs/"))
                     .json.toMap()
                     .value(QStringLiteral("items"))
                     .toArray()
                     .size(),
                 3);
    }

    void newerDatabaseIsRefused()
    {
        QVERIFY(m_dir.isValid());
        const QString url = freshUrl(QStringLiteral("newer.sqlite3"));
        QVERIFY(!url.isEmpty());
        {
            server::SqlStore store(url);
            QString error;
            QVERIFY2(store.open(&error), qPrintable(error));
            QVERIFY(run(store.database(),
                        QStringLiteral("UPDATE meta SET value = ? WHERE key = 'schema_version'"),
                        {QString::number(server::SqlStore::latestSchemaVersion() + 1)}));
        }
        server::SqlStore store(url);
        QString error;
        QVERIFY(!store.open(&error));
        QVERIFY2(error.contains(QLatin1String("newer than this program")), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestSchema)
#include "tst_schema.moc"
