#include "Json.h"
#include "TestServer.h"

#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QUrl>
#include <QtTest>

using namespace schedy;
using namespace schedy::test;

// schedy-server migrate: an SQLite database with every kind of data copied to
// PostgreSQL (and back) by the real binary, then served: every document and
// every ETag unchanged, bearers issued before still valid, new rows numbered
// after the old ones; a non-empty target refused unless --force.
namespace {

QString expPath(const QString &name)
{
    return QStringLiteral("experiments/") + enc(name) + QLatin1Char('/');
}

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Run migrate(const QStringList &args)
{
    QProcess p;
    p.start(ServerProcess::binary(), QStringList{QStringLiteral("migrate")} + args);
    Run r;
    if (!p.waitForFinished(120000)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

// Everything a user sees: experiment documents, and every job with its ETag.
struct Snapshot
{
    QMap<QString, QByteArray> experiments;     // name -> document without jobCounts... kept whole
    QMap<QString, QByteArray> jobs;            // "experiment/id" -> document
    QMap<QString, QByteArray> etags;           // "experiment/id" -> ETag
    QMap<QString, QByteArray> experimentEtags; // name -> ETag
    QStringList pages;                         // raw pages of a paged walk (cursors included)
};

bool snapshot(HttpTestClient &http, Snapshot *s)
{
    Reply r = http.get(QStringLiteral("experiments/?limit=1000"));
    if (r.status != 200)
        return false;
    for (const QCborValue &v : r.json.toMap().value(QStringLiteral("items")).toArray()) {
        const QCborMap e = v.toMap();
        const QString name = e.value(QStringLiteral("name")).toString();
        s->experiments.insert(name, json::write(e));
        const Reply one = http.get(expPath(name));
        if (one.status != 200 || one.header("ETag").isEmpty())
            return false;
        s->experimentEtags.insert(name, one.header("ETag"));
        QString path = expPath(name) + QStringLiteral("jobs/?limit=7");
        for (int page = 0; page < 10000; ++page) {
            r = http.get(path);
            if (r.status != 200)
                return false;
            s->pages << QString::fromUtf8(r.body);
            const QCborMap m = r.json.toMap();
            for (const QCborValue &j : m.value(QStringLiteral("items")).toArray()) {
                const QString id = j.toMap().value(QStringLiteral("id")).toString();
                const Reply one =
                    http.get(expPath(name) + QStringLiteral("jobs/") + enc(id) + QLatin1Char('/'));
                if (one.status != 200)
                    return false;
                s->jobs.insert(name + QLatin1Char('/') + id, one.body);
                s->etags.insert(name + QLatin1Char('/') + id, one.header("ETag"));
            }
            const QCborValue next = m.value(QStringLiteral("next"));
            if (!next.isString())
                break;
            path = expPath(name) + QStringLiteral("jobs/?limit=7&start=") +
                   QString::fromLatin1(QUrl::toPercentEncoding(next.toString()));
        }
    }
    return true;
}

} // namespace

class TestMigrate : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QVERIFY2(testingPostgres(), "tst_migrate runs on PostgreSQL only (SCHEDY_TEST_BACKEND=postgresql)");
    }

    void sqliteToPostgresAndBack()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString sqliteUrl = QStringLiteral("sqlite:") + dir.filePath(QStringLiteral("old.sqlite3"));

        // ---- an SQLite database with every kind of data ----
        server::ServerOptions options;
        options.databaseUrl = sqliteUrl;
        auto source = std::make_unique<TestServer>(options);
        QVERIFY(source->start());
        const ClientConfig me = source->addUser(QStringLiteral("me@example.com"), QStringLiteral("pw ü"));
        const ClientConfig other = source->addUser(QStringLiteral("other@example.com"));
        HttpTestClient http(source->root());
        QVERIFY(http.login(me));
        const QByteArray oldBearer = http.bearer;

        QCOMPARE(http.put(expPath(QStringLiteral("manual ü/x")),
                          R"({"status": "RUNNING", "scheduler": {"Manual": null}})")
                     .status,
                 201);
        // Saved again: its ETag (version 2) must come along too.
        QCOMPARE(http.put(expPath(QStringLiteral("manual ü/x")),
                          R"({"status": "RUNNING", "scheduler": {"Manual": null}})")
                     .status,
                 200);
        for (int i = 0; i < 30; ++i) {
            const QByteArray body = "{\"status\": \"" + QByteArray(i % 3 ? "DONE" : "QUEUED") +
                                    "\", \"hyperparameters\": {\"i\": " + QByteArray::number(i) +
                                    ", \"lr\": 0.1, \"big\": 9007199254740993, \"s\": "
                                    "\"\\u00e9\\ud83d\\ude00 'q' \\\"d\\\" \\\\\"}, "
                                    "\"results\": {\"loss\": [1.0, NaN, 0.25, -Infinity], \"acc\": "
                                    "0.30000000000000004, \"ok\": true, "
                                    "\"nested\": {\"a\": [null, {}]}}}";
            QCOMPARE(http.post(expPath(QStringLiteral("manual ü/x")) + QStringLiteral("jobs/"), body).status,
                     201);
        }
        QCOMPARE(http.put(expPath(QStringLiteral("manual ü/x")) + QStringLiteral("jobs/mine/"),
                          R"({"status": "CRASHED", "results": {"err": "boom"}})", {{"If-None-Match", "*"}})
                     .status,
                 201);
        // Deleted jobs, the newest one included: the next row number must still be past it.
        QCOMPARE(http.put(expPath(QStringLiteral("manual ü/x")) + QStringLiteral("jobs/gone1/"),
                          R"({"status": "QUEUED"})")
                     .status,
                 201);
        QCOMPARE(http.del(expPath(QStringLiteral("manual ü/x")) + QStringLiteral("jobs/gone1/")).status, 204);

        QCOMPARE(http.put(expPath(QStringLiteral("random")),
                          R"({"status": "RUNNING", "scheduler": {"RandomSearch": {
                     "x": {"uniform": {"low": 0.0, "high": 1.0}}, "c": {"choice": {"values": ["a", [1, 2], {"k": null}]}}}}})")
                     .status,
                 201);
        for (int i = 0; i < 12; ++i) {
            const Reply next = http.get(expPath(QStringLiteral("random")) + QStringLiteral("nextjob/"));
            QCOMPARE(next.status, 200);
            if (i % 2) {
                const QString id = next.json.toMap().value(QStringLiteral("id")).toString();
                QCborMap body = next.json.toMap();
                body.insert(QStringLiteral("status"), QStringLiteral("RUNNING"));
                QCOMPARE(http.put(expPath(QStringLiteral("random")) + QStringLiteral("jobs/") + enc(id) +
                                      QLatin1Char('/'),
                                  json::write(body), {{"If-Match", next.header("ETag")}})
                             .status,
                         200);
            }
        }
        // A PBT experiment a few generations in: lineage columns, ready times, predecessors.
        QCOMPARE(http.put(expPath(QStringLiteral("pbt")), R"({"status": "RUNNING", "scheduler": {"PBT": {
            "objective": "min", "qualityResultName": "loss", "numParallel": 4, "maxGenerations": 5,
            "init": {"lr": {"loguniform": {"low": 0.001, "high": 0.1}}, "n": {"choice": {"values": [1, 2, 3]}}},
            "exploit": {"truncate": 0.25},
            "explore": {"lr": {"perturb": {"minFactor": 0.8, "maxFactor": 1.2}}}}}})")
                     .status,
                 201);
        for (int i = 0; i < 11; ++i) {
            const Reply next = http.get(expPath(QStringLiteral("pbt")) + QStringLiteral("nextjob/"));
            QCOMPARE(next.status, 200);
            QCborMap body = next.json.toMap();
            const QString path = expPath(QStringLiteral("pbt")) + QStringLiteral("jobs/") +
                                 body.value(QStringLiteral("id")).toString() + QLatin1Char('/');
            body.insert(QStringLiteral("status"),
                        i == 5 ? QStringLiteral("CRASHED") : QStringLiteral("DONE"));
            QCborMap results = body.value(QStringLiteral("results")).toMap();
            results.insert(QStringLiteral("loss"), 1.0 / (i + 1.5));
            body.insert(QStringLiteral("results"), results);
            QCOMPARE(http.put(path, json::write(body), {{"If-Match", next.header("ETag")}}).status, 200);
        }
        QCOMPARE(http.put(expPath(QStringLiteral("paused")),
                          R"({"status": "DONE", "scheduler": {"Manual": null}})")
                     .status,
                 201);
        HttpTestClient theirs(source->root());
        QVERIFY(theirs.login(other));
        QCOMPARE(theirs
                     .put(expPath(QStringLiteral("manual ü/x")),
                          R"({"status": "RUNNING", "scheduler": {"Manual": null}})")
                     .status,
                 201);
        QCOMPARE(theirs
                     .post(expPath(QStringLiteral("manual ü/x")) + QStringLiteral("jobs/"),
                           R"({"hyperparameters": {"t": 1}})")
                     .status,
                 201);

        // The newest row deleted: the sequence stands past every remaining row.
        const Reply gone2 = http.put(expPath(QStringLiteral("manual ü/x")) + QStringLiteral("jobs/gone2/"),
                                     R"({"status": "QUEUED"})");
        QCOMPARE(gone2.status, 201);
        QCOMPARE(http.del(expPath(QStringLiteral("manual ü/x")) + QStringLiteral("jobs/gone2/")).status, 204);

        Snapshot before, beforeTheirs;
        QVERIFY(snapshot(http, &before));
        QVERIFY(snapshot(theirs, &beforeTheirs));
        QCOMPARE(before.experiments.size(), 4);
        QCOMPARE(before.jobs.size(), 31 + 12 + 11);
        source.reset(); // servers stop before a migration

        // ---- to PostgreSQL ----
        PostgresDatabase pg;
        QVERIFY2(pg.ok(), qPrintable(pg.error()));
        Run r = migrate({QStringLiteral("--from"), sqliteUrl, QStringLiteral("--to"), pg.url()});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.out.contains("users") && r.out.contains("experiments") && r.out.contains("jobs") &&
                     r.out.contains("sha256"),
                 r.out.constData());
        QVERIFY2(
            QString::fromUtf8(r.out).contains(QRegularExpression(QStringLiteral("\\n\\s+jobs\\s+55 rows"))),
            r.out.constData());
        QVERIFY2(!r.out.contains(pg.url().section(QLatin1Char('@'), 0, 0).toUtf8()),
                 "the password is not printed");

        // A target with data is refused, and left as it is.
        r = migrate({QStringLiteral("--from"), sqliteUrl, QStringLiteral("--to"), pg.url()});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("not empty") && r.err.contains("--force"), r.err.constData());

        options.databaseUrl = pg.url();
        auto target = std::make_unique<TestServer>(options);
        QVERIFY(target->start());
        HttpTestClient http2(target->root());
        http2.bearer = oldBearer; // issued by the SQLite server: the secret came along
        QCOMPARE(http2.get(QStringLiteral("experiments/")).status, 200);
        Snapshot after;
        QVERIFY(snapshot(http2, &after));
        QCOMPARE(after.experiments, before.experiments);
        QCOMPARE(after.jobs, before.jobs);
        QCOMPARE(after.etags, before.etags);
        QCOMPARE(after.experimentEtags, before.experimentEtags);
        QCOMPARE(after.pages, before.pages); // cursors too
        HttpTestClient theirs2(target->root());
        QVERIFY(theirs2.login(other)); // API tokens and passwords came along
        HttpTestClient withPassword(target->root());
        ClientConfig password = me;
        password.tokenType = ClientConfig::TokenType::Password;
        password.token = QStringLiteral("pw ü");
        QVERIFY(withPassword.login(password));
        Snapshot afterTheirs;
        QVERIFY(snapshot(theirs2, &afterTheirs));
        QCOMPARE(afterTheirs.jobs, beforeTheirs.jobs);

        // New rows come after the old ones: no ETag is ever reused.
        const Reply created = http2.put(expPath(QStringLiteral("manual ü/x")) + QStringLiteral("jobs/gone1/"),
                                        R"({"status": "QUEUED"})", {{"If-None-Match", "*"}});
        QCOMPARE(created.status, 201);
        QVERIFY(!before.etags.values().contains(created.header("ETag")));
        auto rowOf = [](const QByteArray &etag) {
            return etag.mid(1).split('.').value(0).toLongLong(nullptr, 36);
        };
        qint64 maxRow = 0;
        for (const QByteArray &e : std::as_const(before.etags))
            maxRow = std::max(maxRow, rowOf(e));
        QVERIFY(rowOf(gone2.header("ETag")) > maxRow);
        QVERIFY(rowOf(created.header("ETag")) > rowOf(gone2.header("ETag"))); // past the deleted newest row
        // The schedulers go on where they were.
        const Reply next = http2.get(expPath(QStringLiteral("pbt")) + QStringLiteral("nextjob/"));
        QCOMPARE(next.status, 200);
        QCOMPARE(next.json.toMap().value(QStringLiteral("generation")).toInteger(-1) >= 1, true);
        QCOMPARE(http2
                     .put(expPath(QStringLiteral("new")),
                          R"({"status": "RUNNING", "scheduler": {"Manual": null}})")
                     .status,
                 201);
        Snapshot changed;
        QVERIFY(snapshot(http2, &changed));
        target.reset();

        // --force replaces the target's contents with the source's.
        r = migrate({QStringLiteral("--from"), sqliteUrl, QStringLiteral("--to"), pg.url(),
                     QStringLiteral("--force")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.err.contains("--force"), r.err.constData());
        target = std::make_unique<TestServer>(options);
        QVERIFY(target->start());
        HttpTestClient http3(target->root());
        http3.bearer = oldBearer;
        Snapshot forced;
        QVERIFY(snapshot(http3, &forced));
        QCOMPARE(forced.jobs, before.jobs);
        QCOMPARE(forced.etags, before.etags);
        QCOMPARE(forced.experimentEtags, before.experimentEtags);
        QCOMPARE(forced.experiments, before.experiments);
        target.reset();

        // ---- and back to a new SQLite file: the same again ----
        const QString backUrl = QStringLiteral("sqlite:") + dir.filePath(QStringLiteral("back.sqlite3"));
        r = migrate({QStringLiteral("--from"), pg.url(), QStringLiteral("--to"), backUrl});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        options.databaseUrl = backUrl;
        auto back = std::make_unique<TestServer>(options);
        QVERIFY(back->start());
        // Both SQLite files hold the same rows (row numbers, versions, times, secret), but
        // for counts of 0 that the source's triggers left behind.
        auto withoutZeroCounts = [](const QString &dump) {
            QStringList lines = dump.split(QLatin1Char('\n'));
            bool counts = false;
            lines.removeIf([&](const QString &line) {
                if (line.startsWith(QLatin1String("== ")))
                    counts = line == QLatin1String("== job_counts");
                return counts && line.endsWith(QLatin1String("|0"));
            });
            return lines.join(QLatin1Char('\n'));
        };
        const QString backDump = withoutZeroCounts(dumpTables(backUrl));
        QVERIFY(backDump.contains(QLatin1String("== jobs\n")) &&
                backDump.contains(QLatin1String("jwt_secret")));
        QCOMPARE(backDump, withoutZeroCounts(dumpTables(sqliteUrl)));
        HttpTestClient http4(back->root());
        http4.bearer = oldBearer;
        Snapshot roundTrip;
        QVERIFY(snapshot(http4, &roundTrip));
        QCOMPARE(roundTrip.jobs, before.jobs);
        QCOMPARE(roundTrip.etags, before.etags);
        QCOMPARE(roundTrip.experimentEtags, before.experimentEtags);
        QCOMPARE(roundTrip.pages, before.pages);
        const Reply again = http4.put(expPath(QStringLiteral("manual ü/x")) + QStringLiteral("jobs/gone1/"),
                                      R"({"status": "QUEUED"})", {{"If-None-Match", "*"}});
        QCOMPARE(again.status, 201);
        QVERIFY(rowOf(again.header("ETag")) > rowOf(gone2.header("ETag")));
    }

    void refusals()
    {
        QTemporaryDir dir;
        const QString url = QStringLiteral("sqlite:") + dir.filePath(QStringLiteral("a.sqlite3"));
        Run r = migrate({QStringLiteral("--from"), url, QStringLiteral("--to"), url});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("same database"), r.err.constData());
        r = migrate({QStringLiteral("--from"), url});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("--to"), r.err.constData());
        r = migrate({QStringLiteral("--from"), url, QStringLiteral("--to"), QStringLiteral("mysql://x")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("unsupported database URL"), r.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestMigrate)
#include "tst_migrate.moc"
