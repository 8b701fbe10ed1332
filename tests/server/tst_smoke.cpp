#include "TestServer.h"

#include <QtTest>

using namespace schedy;
using namespace schedy::test;

// The shortest path through the service: log in, create, hand out, claim, report.
class TestSmoke : public QObject
{
    Q_OBJECT
private slots:
    void workerCycle()
    {
        TestServer server;
        QVERIFY(server.start());
        const ClientConfig config = server.addUser(QStringLiteral("me@example.com"));
        HttpTestClient http(server.root());
        QVERIFY(http.login(config));

        Reply r =
            http.put(QStringLiteral("experiments/%1/").arg(enc(QStringLiteral("a/b c"))),
                     R"({"status": "RUNNING", "scheduler": {"Manual": null}})", {{"If-None-Match", "*"}});
        QCOMPARE(r.status, 201);
        QCOMPARE(r.json.toMap().value(QStringLiteral("name")).toString(), QStringLiteral("a/b c"));

        r = http.post(QStringLiteral("experiments/a%2Fb%20c/jobs/"),
                      R"({"hyperparameters": {"lr": 1.0, "n": 3}})");
        QCOMPARE(r.status, 201);
        const QString id = r.json.toMap().value(QStringLiteral("id")).toString();

        r = http.get(QStringLiteral("experiments/a%2Fb%20c/nextjob/"));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.json.toMap().value(QStringLiteral("id")).toString(), id);
        QVERIFY(r.body.contains(R"("hyperparameters":{"lr":1.0,"n":3})"));
        const QByteArray etag = r.header("ETag");
        QVERIFY(!etag.isEmpty());

        r = http.put(QStringLiteral("experiments/a%2Fb%20c/jobs/%1/").arg(id),
                     R"({"status": "RUNNING", "hyperparameters": {"lr": 1.0, "n": 3}})",
                     {{"If-Match", etag}});
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("ETag") != etag);
        r = http.put(QStringLiteral("experiments/a%2Fb%20c/jobs/%1/").arg(id), R"({"status": "RUNNING"})",
                     {{"If-Match", etag}});
        QCOMPARE(r.status, 412);

        r = http.get(QStringLiteral("experiments/a%2Fb%20c/nextjob/"));
        QCOMPARE(r.status, 204);
    }
};

QTEST_GUILESS_MAIN(TestSmoke)
#include "tst_smoke.moc"
