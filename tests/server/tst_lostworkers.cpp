#include "Json.h"
#include "TestServer.h"

#include <QtTest>

#include <memory>

using namespace schedy;
using namespace schedy::test;

// Lost workers over HTTP (docs/protocol.md 8.3), on both backends, with the store's
// lease clock replaced by a number the test moves: no test sleeps. A RUNNING
// job silent for more than the lease becomes CRASHED with lostAt; under
// Manual and RandomSearch a QUEUED replacement with its hyperparameters is
// handed out first, at most `retries` times along a chain; under PBT the
// member is given back. Heartbeats keep a job alive without changing its ETag.
namespace {

QString expPath(const QString &name)
{
    return QStringLiteral("experiments/") + enc(name) + QLatin1Char('/');
}
QString jobPath(const QString &name, const QString &id)
{
    return expPath(name) + QStringLiteral("jobs/") + enc(id) + QLatin1Char('/');
}
QCborMap doc(const Reply &r)
{
    return r.json.toMap();
}
QString str(const QCborMap &d, const char *key)
{
    return d.value(QString::fromLatin1(key)).toString();
}

class Env
{
public:
    explicit Env(int lostCheckMs = 0)
    {
        server::ServerOptions o;
        o.port = 0;
        o.leaseSeconds = 0;
        o.lostCheckMs = lostCheckMs;
        m_server = std::make_unique<TestServer>(o);
    }
    bool start()
    {
        if (!m_server->start())
            return false;
        store()->setLeaseClock([this] { return clock; });
        m_http = std::make_unique<HttpTestClient>(m_server->root());
        return m_http->login(m_server->addUser(QStringLiteral("w@example.com")));
    }
    server::SqlStore *store() const { return m_server->server()->store(); }
    HttpTestClient &http() { return *m_http; }

    Reply create(const QString &name, const QByteArray &scheduler, const QByteArray &lease)
    {
        return m_http->put(expPath(name), R"({"status": "RUNNING", "scheduler": )" + scheduler +
                                              R"(, "lease": )" + lease + '}');
    }
    Reply next(const QString &name) { return m_http->get(expPath(name) + QStringLiteral("nextjob/")); }
    Reply job(const QString &name, const QString &id) { return m_http->get(jobPath(name, id)); }
    Reply put(const QString &name, const QString &id, const QByteArray &etag, const char *status,
              const QCborMap &hyperparameters, const QByteArray &results = "{}")
    {
        return m_http->put(jobPath(name, id),
                           R"({"status": ")" + QByteArray(status) + R"(", "hyperparameters": )" +
                               json::write(hyperparameters) + R"(, "results": )" + results + '}',
                           {{"If-Match", etag}});
    }
    // nextjob, then the claim; the claimed job's document and ETag.
    Reply claim(const QString &name)
    {
        const Reply handed = next(name);
        if (handed.status != 200)
            return handed;
        return put(name, str(doc(handed), "id"), handed.header("ETag"), "RUNNING",
                   doc(handed).value(QStringLiteral("hyperparameters")).toMap());
    }
    Reply heartbeat(const QString &name, const QString &id, const QByteArray &etag)
    {
        return m_http->request("POST", jobPath(name, id) + QStringLiteral("heartbeat/"), {},
                               {{"If-Match", etag}});
    }
    int expire() { return store()->expireLostJobs().value_or(-1); }

    double clock = 1000;

private:
    std::unique_ptr<TestServer> m_server;
    std::unique_ptr<HttpTestClient> m_http;
};

const QByteArray Random = R"({"RandomSearch": {"x": {"uniform": {"low": 0, "high": 1}}}})";

} // namespace

class TestLostWorkers : public QObject
{
    Q_OBJECT

private slots:
    // Issue 17, finding 11: the default lease clock (the database's or the host's
    // wall clock, advanced by the monotonic clock) with both sources faked. A
    // step of the wall clock, back or forward, neither keeps a lease alive
    // beyond its length (plus the restart after the step) nor loses a live worker.
    void leasesSurviveWallClockSteps_data()
    {
        QTest::addColumn<double>("step");
        QTest::newRow("back one hour") << -3600.0;
        QTest::newRow("forward one hour") << 3600.0;
    }
    void leasesSurviveWallClockSteps()
    {
        QFETCH(double, step);
        Env e;
        QVERIFY(e.start());
        double wall = 1.7e9, steady = 50;
        e.store()->setLeaseClockSources([&]() -> std::optional<double> { return wall; },
                                        [&] { return steady; });
        const QString exp = QStringLiteral("stepped");
        QCOMPARE(e.create(exp, Random, R"({"seconds": 5})").status, 201);
        const Reply claimed = e.claim(exp);
        QCOMPARE(claimed.status, 200);
        const QString id = str(doc(claimed), "id");
        wall += 1 + step; // the wall clock steps a second after the claim
        steady += 1;
        QCOMPARE(e.expire(), 0); // the step is seen: the lease restarts (a live worker is not lost)
        wall += 3.5;
        steady += 3.5;
        QCOMPARE(e.heartbeat(exp, id, claimed.header("ETag")).status, 204);
        wall += 5;
        steady += 5;
        QCOMPARE(e.expire(), 0); // exactly the lease since the heartbeat
        QCOMPARE(str(doc(e.job(exp, id)), "status"), QStringLiteral("RUNNING"));
        wall += 0.5;
        steady += 0.5;
        QCOMPARE(e.expire(), 1); // and no longer: 5 s leases stay 5 s
        QCOMPARE(str(doc(e.job(exp, id)), "status"), QStringLiteral("CRASHED"));
    }

    // Issue 17, finding 11: a process started after the wall clock stepped back
    // (a restart, or another process on the database) finds leases written on
    // the old scale, in its future: they restart from its now instead of
    // living for the hour the clock went back.
    void aProcessStartedAfterAStepBackExpiresLeases()
    {
        Env e;
        QVERIFY(e.start());
        double wall = 1.7e9, steady = 50;
        e.store()->setLeaseClockSources([&]() -> std::optional<double> { return wall; },
                                        [&] { return steady; });
        const QString exp = QStringLiteral("restarted");
        QCOMPARE(e.create(exp, Random, R"({"seconds": 5})").status, 201);
        const Reply claimed = e.claim(exp);
        QCOMPARE(claimed.status, 200);
        const QString id = str(doc(claimed), "id");
        // "Restart": a new lease clock whose wall clock is an hour behind.
        double wall2 = 1.7e9 - 3600, steady2 = 7;
        e.store()->setLeaseClockSources([&]() -> std::optional<double> { return wall2; },
                                        [&] { return steady2; });
        QCOMPARE(e.expire(), 0); // restarted now: not lost for being in the future
        wall2 += 5;
        steady2 += 5;
        QCOMPARE(e.expire(), 0);
        wall2 += 0.5;
        steady2 += 0.5;
        QCOMPARE(e.expire(), 1);
        QCOMPARE(str(doc(e.job(exp, id)), "status"), QStringLiteral("CRASHED"));
    }

    void heartbeatsAndReportsKeepAJobAlive()
    {
        Env e;
        QVERIFY(e.start());
        const QString exp = QStringLiteral("alive");
        QCOMPARE(e.create(exp, Random, R"({"seconds": 30})").status, 201);
        const Reply claimed = e.claim(exp);
        QCOMPARE(claimed.status, 200);
        const QString id = str(doc(claimed), "id");
        const QByteArray etag = claimed.header("ETag");
        e.clock = 1030; // exactly the lease: still alive
        QCOMPARE(e.expire(), 0);
        const Reply beat = e.heartbeat(exp, id, etag);
        QCOMPARE(beat.status, 204);
        QCOMPARE(beat.header("ETag"), etag);
        const Reply after = e.job(exp, id);
        QCOMPARE(after.header("ETag"), etag); // unchanged: the next report still matches
        QCOMPARE(doc(after).value(QStringLiteral("modifiedAt")),
                 doc(claimed).value(QStringLiteral("modifiedAt")));
        e.clock = 1059;
        QCOMPARE(e.expire(), 0);
        const Reply report =
            e.put(exp, id, etag, "RUNNING", doc(claimed).value(QStringLiteral("hyperparameters")).toMap(),
                  R"({"loss": [1]})");
        QCOMPARE(report.status, 200);
        e.clock = 1089;
        QCOMPARE(e.expire(), 0);
        QCOMPARE(str(doc(e.job(exp, id)), "status"), QStringLiteral("RUNNING"));
        e.clock = 1089.5;
        QCOMPARE(e.expire(), 1);
        QCOMPARE(str(doc(e.job(exp, id)), "status"), QStringLiteral("CRASHED"));
        // Heartbeats: 412 once the job is another version, 404 once it is gone.
        QCOMPARE(e.heartbeat(exp, id, report.header("ETag")).status, 412);
        QCOMPARE(e.heartbeat(exp, QStringLiteral("Nobody"), etag).status, 404);
        QCOMPARE(e.heartbeat(QStringLiteral("no such"), id, etag).status, 404);
        QCOMPARE(e.http().request("POST", jobPath(exp, id) + QStringLiteral("heartbeat/")).status, 428);
    }

    void aLostJobIsReplacedAlongAChainOfRetries()
    {
        Env e;
        QVERIFY(e.start());
        const QString exp = QStringLiteral("chain");
        QCOMPARE(e.create(exp, Random, R"({"seconds": 10, "retries": 1})").status, 201);
        const Reply claimed = e.claim(exp);
        const QString lostId = str(doc(claimed), "id");
        const QCborMap hp = doc(claimed).value(QStringLiteral("hyperparameters")).toMap();
        // An older QUEUED job waits; the replacement still goes first.
        const Reply queued =
            e.http().post(expPath(exp) + QStringLiteral("jobs/"), R"({"hyperparameters": {"x": 7}})");
        QCOMPARE(queued.status, 201);
        e.clock = 1011;
        QCOMPARE(e.expire(), 1);
        QCOMPARE(e.expire(), 0); // once
        const QCborMap lost = doc(e.job(exp, lostId));
        QCOMPARE(str(lost, "status"), QStringLiteral("CRASHED"));
        QVERIFY(lost.value(QStringLiteral("lostAt")).isDouble());
        const QString replacement = str(lost, "replacedBy");
        QVERIFY(!replacement.isEmpty());
        // The worker of the lost job reports late: 412 naming the replacement.
        const Reply late = e.put(exp, lostId, claimed.header("ETag"), "DONE", hp, R"({"loss": 0.1})");
        QCOMPARE(late.status, 412);
        QVERIFY2(late.errorText().contains(replacement) && late.errorText().contains(QStringLiteral("lost")),
                 qPrintable(late.errorText()));
        // The replacement: QUEUED, the same hyperparameters, naming the lost job, handed out first.
        const Reply handed = e.next(exp);
        QCOMPARE(str(doc(handed), "id"), replacement);
        QCOMPARE(str(doc(handed), "status"), QStringLiteral("QUEUED"));
        QCOMPARE(str(doc(handed), "replaces"), lostId);
        QCOMPARE(doc(handed).value(QStringLiteral("hyperparameters")).toMap(), hp);
        QCOMPARE(doc(handed).value(QStringLiteral("results")).toMap(), QCborMap());
        QCOMPARE(e.put(exp, replacement, handed.header("ETag"), "RUNNING", hp).status, 200);
        // Lost again: retries 1 is used up, so no third job.
        e.clock = 1030;
        QCOMPARE(e.expire(), 1);
        const QCborMap second = doc(e.job(exp, replacement));
        QCOMPARE(str(second, "status"), QStringLiteral("CRASHED"));
        QVERIFY(str(second, "replacedBy").isEmpty());
        const Reply lateAgain = e.put(exp, replacement, "\"x\"", "DONE", hp);
        QVERIFY(lateAgain.errorText().contains(QStringLiteral("not replaced")));
        // Next comes the QUEUED job that waited.
        QCOMPARE(str(doc(e.next(exp)), "id"), str(doc(queued), "id"));
        const QCborMap experiment = doc(e.http().get(expPath(exp)));
        const QCborMap counts = experiment.value(QStringLiteral("jobCounts")).toMap();
        QCOMPARE(counts.value(QStringLiteral("CRASHED")).toInteger(), 2);
        QCOMPARE(counts.value(QStringLiteral("QUEUED")).toInteger(), 1);
        // Both crashes are losses; a crash reported by a worker is not.
        QCOMPARE(experiment.value(QStringLiteral("lostJobs")).toInteger(), 2);
        QCOMPARE(e.http()
                     .post(expPath(exp) + QStringLiteral("jobs/"),
                           R"({"status": "CRASHED", "hyperparameters": {"x": 8}})")
                     .status,
                 201);
        const QCborMap after = doc(e.http().get(expPath(exp)));
        QCOMPARE(
            after.value(QStringLiteral("jobCounts")).toMap().value(QStringLiteral("CRASHED")).toInteger(), 3);
        QCOMPARE(after.value(QStringLiteral("lostJobs")).toInteger(), 2);
        // Listed experiments carry it too.
        const QCborArray listed =
            doc(e.http().get(QStringLiteral("experiments/"))).value(QStringLiteral("items")).toArray();
        QVERIFY(!listed.isEmpty());
        QCOMPARE(listed.first().toMap().value(QStringLiteral("lostJobs")).toInteger(), 2);
    }

    void manualJobsAreReplacedToo()
    {
        Env e;
        QVERIFY(e.start());
        const QString exp = QStringLiteral("manual");
        QCOMPARE(e.create(exp, R"({"Manual": null})", R"({"seconds": 5, "retries": 3})").status, 201);
        QCOMPARE(e.http()
                     .post(expPath(exp) + QStringLiteral("jobs/"), R"({"hyperparameters": {"lr": 0.1}})")
                     .status,
                 201);
        const Reply claimed = e.claim(exp);
        QCOMPARE(claimed.status, 200);
        e.clock = 2000;
        QCOMPARE(e.expire(), 1);
        const Reply handed = e.next(exp);
        QCOMPARE(str(doc(handed), "replaces"), str(doc(claimed), "id"));
        QCOMPARE(doc(handed).value(QStringLiteral("hyperparameters")).toMap(),
                 (QCborMap{{QStringLiteral("lr"), 0.1}}));
    }

    void withoutALeaseNothingIsLost()
    {
        Env e;
        QVERIFY(e.start());
        const QString exp = QStringLiteral("none");
        QCOMPARE(e.create(exp, Random, "null").status, 201);
        const Reply claimed = e.claim(exp);
        e.clock = 1e9;
        QCOMPARE(e.expire(), 0);
        QCOMPARE(str(doc(e.job(exp, str(doc(claimed), "id"))), "status"), QStringLiteral("RUNNING"));
        // Setting a lease later starts counting then, not from the claim.
        QCOMPARE(e.create(exp, Random, R"({"seconds": 60})").status, 200);
        e.clock = 1e9 + 59;
        QCOMPARE(e.expire(), 0);
        e.clock = 1e9 + 61;
        QCOMPARE(e.expire(), 1);
    }

    void pbtGivesTheMemberBack()
    {
        Env e;
        QVERIFY(e.start());
        const QString exp = QStringLiteral("pbt");
        QCOMPARE(
            e.create(
                 exp,
                 R"({"PBT": {"objective": "max", "qualityResultName": "q", "exploit": {"truncate": 0.5}, )"
                 R"("init": {"x": {"uniform": {"low": 0, "high": 1}}}, "numParallel": 1, )"
                 R"("maxGenerations": 3}})",
                 R"({"seconds": 10, "retries": 5})")
                .status,
            201);
        // Generation 0 done; generation 1 handed out, claimed, and its worker dies.
        Reply g0 = e.claim(exp);
        QCOMPARE(e.put(exp, str(doc(g0), "id"), g0.header("ETag"), "DONE",
                       doc(g0).value(QStringLiteral("hyperparameters")).toMap(), R"({"q": 0.5})")
                     .status,
                 200);
        const Reply g1 = e.claim(exp);
        QCOMPARE(g1.status, 200);
        QCOMPARE(doc(g1).value(QStringLiteral("generation")).toInteger(), 1);
        e.clock = 1100;
        QCOMPARE(e.expire(), 1);
        const QCborMap lost = doc(e.job(exp, str(doc(g1), "id")));
        QCOMPARE(str(lost, "status"), QStringLiteral("CRASHED"));
        QVERIFY(str(lost, "replacedBy").isEmpty()); // no replacement: rule 6 instead
        // The member is continued again from generation 0: the population keeps its size.
        const Reply again = e.next(exp);
        QCOMPARE(again.status, 200);
        QCOMPARE(doc(again).value(QStringLiteral("generation")).toInteger(), 1);
        QCOMPARE(str(doc(again), "parent"), str(doc(g0), "id"));
        QVERIFY(str(doc(again), "replaces").isEmpty());
    }

    void theTimerFindsLostJobsWithoutRequests()
    {
        Env e(20);
        QVERIFY(e.start());
        const QString exp = QStringLiteral("timer");
        QCOMPARE(e.create(exp, Random, R"({"seconds": 10})").status, 201);
        const Reply claimed = e.claim(exp);
        QCOMPARE(claimed.status, 200);
        e.clock = 1011;
        // Only the server's timer (run by this event loop) can do it: reading a job expires nothing.
        QTRY_COMPARE_WITH_TIMEOUT(str(doc(e.job(exp, str(doc(claimed), "id"))), "status"),
                                  QStringLiteral("CRASHED"), 10000);
    }
};

QTEST_MAIN(TestLostWorkers)
#include "tst_lostworkers.moc"
