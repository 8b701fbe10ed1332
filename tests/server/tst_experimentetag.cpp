// Experiment ETags (our extension): every single-experiment response carries
// one, it changes at every change of status or scheduler (a PUT, or a PBT
// population finishing), PUT with If-Match saves only over that version and
// answers 412 otherwise (also when the experiment is missing), atomically when
// several server processes share the database. The original client's requests
// (no ETag, If-None-Match: *, If-Match: *) behave exactly as before.
#include "Json.h"
#include "Server.h"
#include "SqlStore.h"
#include "TestServer.h"

#include <QEventLoop>
#include <QNetworkRequest>
#include <QTimer>
#include <QUrl>
#include <QtTest>

#include <algorithm>
#include <memory>

using namespace schedy;
using namespace schedy::test;

namespace {

const QByteArray ManualBody = R"({"status": "RUNNING", "scheduler": {"Manual": null}})";
const QByteArray DoneBody = R"({"status": "DONE", "scheduler": {"Manual": null}})";
const QByteArray RandomBody =
    R"({"status": "RUNNING", "scheduler": {"RandomSearch": {"lr": {"uniform": {"low": 0.0, "high": 1.0}}}}})";

QString expPath(const QString &name)
{
    return QStringLiteral("experiments/%1/").arg(enc(name));
}

QString status(const Reply &r)
{
    return r.json.toMap().value(QStringLiteral("status")).toString();
}

} // namespace

class TestExperimentEtag : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> m_server;
    std::unique_ptr<HttpTestClient> m_http;

private slots:
    void init()
    {
        m_server = std::make_unique<TestServer>();
        QString error;
        QVERIFY2(m_server->start(&error), qPrintable(error));
        const ClientConfig config = m_server->addUser(QStringLiteral("etag@example.com"));
        m_http = std::make_unique<HttpTestClient>(m_server->root());
        QVERIFY(m_http->login(config));
    }

    void cleanup()
    {
        m_http.reset();
        m_server.reset();
    }

    void everyResponseCarriesOneThatChangesAtEveryChange()
    {
        const QString path = expPath(QStringLiteral("exp ü/1"));
        Reply r = m_http->put(path, ManualBody, {{"If-None-Match", "*"}});
        QCOMPARE(r.status, 201);
        const QByteArray created = r.header("ETag");
        QVERIFY(created.startsWith('"') && created.endsWith('"') && created.size() > 2);
        // Not part of the document: the original client sees the same keys as before.
        QVERIFY(!r.json.toMap().contains(QStringLiteral("etag")));

        r = m_http->get(path);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("ETag"), created);
        QCOMPARE(m_http->get(path).header("ETag"), created); // stable while nothing changes

        // Status, scheduler, and even the same definition written again: a new ETag each time.
        QSet<QByteArray> seen{created};
        for (const QByteArray &body : {DoneBody, RandomBody, RandomBody, ManualBody}) {
            r = m_http->put(path, body);
            QCOMPARE(r.status, 200);
            const QByteArray etag = r.header("ETag");
            QVERIFY2(!seen.contains(etag), etag.constData());
            seen.insert(etag);
            QCOMPARE(m_http->get(path).header("ETag"), etag);
        }

        // Jobs come and go without changing the experiment's ETag: a dialog editing the
        // definition is not disturbed by workers.
        const QByteArray before = m_http->get(path).header("ETag");
        r = m_http->post(path + QStringLiteral("jobs/"), R"({"hyperparameters": {"x": 1}})");
        QCOMPARE(r.status, 201);
        const QString id = r.json.toMap().value(QStringLiteral("id")).toString();
        QCOMPARE(m_http->put(path + QStringLiteral("jobs/%1/").arg(id), R"({"status": "DONE"})").status, 200);
        QCOMPARE(m_http->get(path + QStringLiteral("nextjob/")).status, 204);
        r = m_http->get(path);
        QCOMPARE(r.header("ETag"), before);
        QCOMPARE(r.json.toMap()
                     .value(QStringLiteral("jobCounts"))
                     .toMap()
                     .value(QStringLiteral("DONE"))
                     .toInteger(),
                 1);

        // Listing items have no ETag (the listing is unchanged).
        r = m_http->get(QStringLiteral("experiments/"));
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("ETag").isEmpty());
        QVERIFY(!r.body.contains("etag"));
    }

    void ifMatchSavesOnlyOverThatVersion()
    {
        const QString path = expPath(QStringLiteral("exp"));
        Reply r = m_http->put(path, ManualBody);
        QCOMPARE(r.status, 201);
        const QByteArray v1 = r.header("ETag");

        // The current ETag: saved, with a new one.
        r = m_http->put(path, RandomBody, {{"If-Match", v1}});
        QCOMPARE(r.status, 200);
        QCOMPARE(status(r), QStringLiteral("RUNNING"));
        const QByteArray v2 = r.header("ETag");
        QVERIFY(v2 != v1);

        // The old one again: 412 with a clear message, nothing changed.
        const QString dumped = m_server->dumpTables();
        r = m_http->put(path, DoneBody, {{"If-Match", v1}});
        QCOMPARE(r.status, 412);
        QVERIFY2(r.errorText().contains(QLatin1String("changed by someone else")), r.body.constData());
        QVERIFY2(r.errorText().contains(QLatin1String("'exp'")), r.body.constData());
        QCOMPARE(m_server->dumpTables(), dumped);
        r = m_http->get(path);
        QCOMPARE(r.header("ETag"), v2);
        QCOMPARE(status(r), QStringLiteral("RUNNING"));
        QVERIFY(r.json.toMap()
                    .value(QStringLiteral("scheduler"))
                    .toMap()
                    .contains(QStringLiteral("RandomSearch")));

        // Compared exactly: unquoted, weak, or another resource's ETag never match.
        const QByteArray unquoted = v2.mid(1, v2.size() - 2);
        for (const QByteArray &wrong :
             {unquoted, QByteArray("W/" + v2), QByteArray("\"\""), QByteArray("\"x\"")}) {
            r = m_http->put(path, DoneBody, {{"If-Match", wrong}});
            QCOMPARE(r.status, 412);
        }
        r = m_http->post(path + QStringLiteral("jobs/"), {});
        QCOMPARE(r.status, 201);
        QCOMPARE(m_http->put(path, DoneBody, {{"If-Match", r.header("ETag")}}).status, 412);
        QCOMPARE(m_http->get(path).header("ETag"), v2);

        // If-Match wins over If-None-Match, as for jobs.
        r = m_http->put(path, DoneBody, {{"If-Match", v2}, {"If-None-Match", "*"}});
        QCOMPARE(r.status, 200);
        const QByteArray v3 = r.header("ETag");

        // Missing: 412, and nothing is created.
        r = m_http->put(expPath(QStringLiteral("never")), ManualBody, {{"If-Match", v3}});
        QCOMPARE(r.status, 412);
        QVERIFY2(r.errorText().contains(QLatin1String("does not exist")), r.body.constData());
        QCOMPARE(m_http->get(expPath(QStringLiteral("never"))).status, 404);

        // Deleted and created again under the same name: the old ETag is not reused.
        QCOMPARE(m_http->del(path).status, 204);
        QCOMPARE(m_http->put(path, DoneBody, {{"If-Match", v3}}).status, 412);
        QCOMPARE(m_http->get(path).status, 404);
        r = m_http->put(path, DoneBody);
        QCOMPARE(r.status, 201);
        QVERIFY(r.header("ETag") != v3 && r.header("ETag") != v1 && r.header("ETag") != v2);
        QCOMPARE(m_http->put(path, ManualBody, {{"If-Match", v3}}).status, 412);

        // Bad input is still 400 first, whatever the condition.
        QCOMPARE(m_http->put(path, R"({"status": "PAUSED"})", {{"If-Match", v1}}).status, 400);
    }

    // What the original client sends, unchanged: no condition creates or replaces,
    // If-None-Match: * creates only, If-Match: * compares nothing (as before).
    void pythonClientRequestsBehaveAsBefore()
    {
        const QString path = expPath(QStringLiteral("py"));
        Reply r = m_http->put(path, ManualBody);
        QCOMPARE(r.status, 201);
        QCOMPARE(m_http->post(path + QStringLiteral("jobs/"), {}).status, 201);
        r = m_http->put(path, DoneBody);
        QCOMPARE(r.status, 200);
        QCOMPARE(status(r), QStringLiteral("DONE"));
        QCOMPARE(r.json.toMap()
                     .value(QStringLiteral("jobCounts"))
                     .toMap()
                     .value(QStringLiteral("QUEUED"))
                     .toInteger(),
                 1); // jobs kept
        QStringList keys;
        for (const auto &kv : r.json.toMap())
            keys << kv.first.toString();
        QCOMPARE(keys, (QStringList{QStringLiteral("name"), QStringLiteral("status"),
                                    QStringLiteral("scheduler"), QStringLiteral("createdAt"),
                                    QStringLiteral("modifiedAt"), QStringLiteral("jobCounts")}));

        r = m_http->put(path, ManualBody, {{"If-None-Match", "*"}});
        QCOMPARE(r.status, 412);
        QVERIFY(r.errorText().contains(QLatin1String("already exists")));
        QCOMPARE(m_http->put(expPath(QStringLiteral("py 2")), ManualBody, {{"If-None-Match", "*"}}).status,
                 201);

        r = m_http->put(path, ManualBody, {{"If-Match", "*"}});
        QCOMPARE(r.status, 200);
        QCOMPARE(status(r), QStringLiteral("RUNNING"));
        QCOMPARE(m_http->put(expPath(QStringLiteral("py 3")), ManualBody, {{"If-Match", "*"}}).status, 201);

        // DELETE keeps its conditions too.
        QCOMPARE(m_http->del(expPath(QStringLiteral("py 3")), {{"If-Match", "*"}}).status, 204);
        QCOMPARE(m_http->del(expPath(QStringLiteral("py 3")), {{"If-Match", "*"}}).status, 412);
    }

    // A PBT population that finishes marks the experiment DONE: that is a change too.
    void pbtFinishingChangesIt()
    {
        const QString path = expPath(QStringLiteral("pbt"));
        const QByteArray definition = R"({"status": "RUNNING", "scheduler": {"PBT": {
            "objective": "max", "qualityResultName": "acc", "exploit": {"truncate": 0.5},
            "init": {"lr": {"uniform": {"low": 0.0, "high": 1.0}}}, "numParallel": 1, "maxGenerations": 1}}})";
        Reply r = m_http->put(path, definition);
        QCOMPARE(r.status, 201);
        const QByteArray running = r.header("ETag");
        r = m_http->get(path + QStringLiteral("nextjob/"));
        QCOMPARE(r.status, 200);
        const QString id = r.json.toMap().value(QStringLiteral("id")).toString();
        r = m_http->put(path + QStringLiteral("jobs/%1/").arg(id), R"({"status": "RUNNING"})",
                        {{"If-Match", r.header("ETag")}});
        QCOMPARE(r.status, 200);
        QCOMPARE(m_http->get(path).header("ETag"), running);
        r = m_http->put(path + QStringLiteral("jobs/%1/").arg(id),
                        R"({"status": "DONE", "results": {"acc": 0.5}})", {{"If-Match", r.header("ETag")}});
        QCOMPARE(r.status, 200);

        r = m_http->get(path);
        QCOMPARE(status(r), QStringLiteral("DONE"));
        QVERIFY(r.header("ETag") != running);
        // A save of the RUNNING version read before would silently resume it: refused.
        QCOMPARE(m_http->put(path, definition, {{"If-Match", running}}).status, 412);
        QCOMPARE(status(m_http->get(path)), QStringLiteral("DONE"));
        // Exactly what is stored, sent against the version before: nothing to change
        // (a repeat whose answer was lost, issue 17 finding 7), the current ETag.
        const QByteArray done = r.header("ETag");
        const Reply same = m_http->put(path, r.body, {{"If-Match", running}});
        QCOMPARE(same.status, 200);
        QCOMPARE(same.header("ETag"), done);
        QCOMPARE(m_http->get(path).header("ETag"), done);
    }

    // Three server processes on one database, the same If-Match sent to each at
    // once: exactly one save wins, the others get 412, never a 500.
    void racingSavesAcrossProcesses()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        std::unique_ptr<PostgresDatabase> pg;
        QString url = QStringLiteral("sqlite:") + dir.filePath(QStringLiteral("race.sqlite3"));
        if (testingPostgres()) {
            pg = std::make_unique<PostgresDatabase>();
            QVERIFY2(pg->ok(), qPrintable(pg->error()));
            url = pg->url();
        }
        ClientConfig config;
        {
            server::SqlStore store(url);
            QString error;
            QVERIFY2(store.open(&error), qPrintable(error));
            const auto added = server::addUser(store, QStringLiteral("race@example.com"), {}, {}, &error);
            QVERIFY2(added, qPrintable(error));
            config = *added;
        }
        std::vector<std::unique_ptr<ServerProcess>> servers;
        QStringList roots;
        for (int i = 0; i < 3; ++i) {
            servers.push_back(std::make_unique<ServerProcess>(url));
            servers.back()->launch(freePort(), {QStringLiteral("--quiet")});
        }
        for (auto &s : servers) {
            QString error;
            QVERIFY2(s->waitUntilReady(&error), qPrintable(error));
            roots << QStringLiteral("http://127.0.0.1:%1/").arg(s->port());
        }
        HttpTestClient http(roots[0]);
        QVERIFY(http.login(config));
        const QString path = expPath(QStringLiteral("contended"));
        Reply r = http.put(path, ManualBody, {{"If-None-Match", "*"}});
        QCOMPARE(r.status, 201);
        QByteArray etag = r.header("ETag");
        const QList<QByteArray> bodies{DoneBody, RandomBody, ManualBody};
        for (int round = 0; round < 15; ++round) {
            const QList<Reply> replies =
                sendAtOnce(roots, "PUT", path, bodies, http.bearer, {{"If-Match", etag}});
            QList<int> statuses;
            const Reply *winner = nullptr;
            for (const Reply &x : replies) {
                statuses << x.status;
                if (x.status == 200)
                    winner = &x;
            }
            std::sort(statuses.begin(), statuses.end());
            QCOMPARE(statuses, (QList<int>{200, 412, 412}));
            // What is stored is the winner's save, under the winner's ETag.
            const Reply now = http.get(path);
            QCOMPARE(now.header("ETag"), winner->header("ETag"));
            QCOMPARE(json::write(now.json.toMap().value(QStringLiteral("scheduler"))),
                     json::write(winner->json.toMap().value(QStringLiteral("scheduler"))));
            QCOMPARE(status(now), status(*winner));
            etag = now.header("ETag");
        }
        for (auto &s : servers)
            QVERIFY(s->stop());
    }
};

QTEST_GUILESS_MAIN(TestExperimentEtag)
#include "tst_experimentetag.moc"
