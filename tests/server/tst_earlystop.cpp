#include "Json.h"
#include "TestServer.h"

#include <QtTest>

#include <memory>

using namespace schedy;
using namespace schedy::test;

// Early stopping over HTTP (docs/protocol.md 8.2), on both backends: the PUT that
// lengthens a RUNNING job's curve stops it in its own transaction, answers 200
// with Schedy-Job-Status: PRUNED and an ETag that no longer matches, and every
// later write of the worker gets a 412 that says it was pruned and why.
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
    bool start()
    {
        server::ServerOptions o;
        o.port = 0;
        o.leaseSeconds = 0;
        o.lostCheckMs = 0;
        m_server = std::make_unique<TestServer>(o);
        if (!m_server->start())
            return false;
        m_http = std::make_unique<HttpTestClient>(m_server->root());
        return m_http->login(m_server->addUser(QStringLiteral("w@example.com")));
    }
    HttpTestClient &http() { return *m_http; }

    Reply create(const QString &name, const QByteArray &pruner)
    {
        return m_http->put(expPath(name), R"({"status": "RUNNING", "scheduler": {"RandomSearch": )"
                                          R"({"x": {"uniform": {"low": 0, "high": 1}}}}, "pruner": )" +
                                              pruner + '}');
    }
    // A finished job with the curve `loss`.
    Reply done(const QString &name, const QByteArray &curve, const char *result = "loss")
    {
        return m_http->post(expPath(name) + QStringLiteral("jobs/"), R"({"status": "DONE", "results": {")" +
                                                                         QByteArray(result) + "\": " + curve +
                                                                         "}}");
    }
    // A job handed out and claimed, as a worker does; its ETag in `etag`.
    QString claim(const QString &name, QByteArray *etag)
    {
        const Reply handed = m_http->get(expPath(name) + QStringLiteral("nextjob/"));
        if (handed.status != 200)
            return {};
        const QString id = str(doc(handed), "id");
        const Reply claimed = report(name, id, handed.header("ETag"), "RUNNING", "{}");
        *etag = claimed.header("ETag");
        return claimed.status == 200 ? id : QString();
    }
    Reply report(const QString &name, const QString &id, const QByteArray &etag, const char *status,
                 const QByteArray &results)
    {
        return m_http->put(jobPath(name, id),
                           R"({"status": ")" + QByteArray(status) + R"(", "results": )" + results + '}',
                           {{"If-Match", etag}});
    }

private:
    std::unique_ptr<TestServer> m_server;
    std::unique_ptr<HttpTestClient> m_http;
};

} // namespace

class TestEarlyStop : public QObject
{
    Q_OBJECT

    std::unique_ptr<Env> m_env;

private slots:
    void init()
    {
        m_env = std::make_unique<Env>();
        QVERIFY(m_env->start());
    }
    void cleanup() { m_env.reset(); }

    void medianStopsAWorseCurveAndRefusesTheWorker()
    {
        Env &e = *m_env;
        const QString exp = QStringLiteral("median");
        QCOMPARE(e.create(exp, R"({"kind": "median", "result": "loss", "direction": "minimize", )"
                               R"("startupJobs": 2})")
                     .status,
                 201);
        QCOMPARE(e.done(exp, "[1.0, 0.5, 0.2]").status, 201);
        QByteArray etag;
        const QString id = e.claim(exp, &etag);
        QVERIFY(!id.isEmpty());
        // One DONE job < startupJobs 2: a bad first step goes on.
        Reply r = e.report(exp, id, etag, "RUNNING", R"({"loss": [1.5]})");
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("Schedy-Job-Status").isEmpty());
        etag = r.header("ETag");
        QCOMPARE(e.done(exp, "[0.8, 0.3, 0.1]").status, 201);
        // Medians now 0.9, 0.4, 0.15. Step 2 at 0.35 (best 0.35 < 0.4) goes on.
        r = e.report(exp, id, etag, "RUNNING", R"({"loss": [1.5, 0.35]})");
        QCOMPARE(r.status, 200);
        QCOMPARE(str(doc(r), "status"), QStringLiteral("RUNNING"));
        etag = r.header("ETag");
        // Step 3 at 0.3: best 0.3 is worse than 0.15: stopped, the report kept.
        r = e.report(exp, id, etag, "RUNNING", R"({"loss": [1.5, 0.35, 0.3], "note": "kept"})");
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Schedy-Job-Status"), QByteArray("PRUNED"));
        const QCborMap pruned = doc(r);
        QCOMPARE(str(pruned, "status"), QStringLiteral("PRUNED"));
        QCOMPARE(pruned.value(QStringLiteral("prunedAt")).toInteger(), 3);
        QCOMPARE(str(pruned, "pruneRule"), QStringLiteral("median"));
        QCOMPARE(pruned.value(QStringLiteral("pruneValue")).toDouble(), 0.3);
        QCOMPARE(pruned.value(QStringLiteral("pruneThreshold")).toDouble(), 0.15);
        QCOMPARE(pruned.value(QStringLiteral("results")).toMap().value(QStringLiteral("note")).toString(),
                 QStringLiteral("kept"));
        const QByteArray answered = r.header("ETag");
        QVERIFY(!answered.isEmpty());
        // The ETag answered is not the job's: the worker's next write is refused.
        const Reply now = e.http().get(jobPath(exp, id));
        QCOMPARE(str(doc(now), "status"), QStringLiteral("PRUNED"));
        QVERIFY(now.header("ETag") != answered);
        for (const char *status : {"RUNNING", "DONE", "CRASHED"}) {
            const Reply late = e.report(exp, id, answered, status, R"({"loss": [1.5, 0.35, 0.3, 0.2]})");
            QCOMPARE(late.status, 412);
            QVERIFY2(late.errorText().contains(QStringLiteral("pruned by the median rule at step 3")),
                     qPrintable(late.errorText()));
            QVERIFY(late.body.left(150).contains("pruned"));
        }
        const Reply beat = e.http().request("POST", jobPath(exp, id) + QStringLiteral("heartbeat/"), {},
                                            {{"If-Match", answered}});
        QCOMPARE(beat.status, 412);
        QVERIFY(beat.errorText().contains(QStringLiteral("pruned")));
        // Nothing of the refused writes was applied.
        QCOMPARE(e.http().get(jobPath(exp, id)).header("ETag"), now.header("ETag"));
        // Listed PRUNED, and counted.
        const Reply experiment = e.http().get(expPath(exp));
        QCOMPARE(doc(experiment)
                     .value(QStringLiteral("jobCounts"))
                     .toMap()
                     .value(QStringLiteral("PRUNED"))
                     .toInteger(),
                 1);
    }

    void ashaKeepsTheTopOfEachRung()
    {
        Env &e = *m_env;
        const QString exp = QStringLiteral("asha");
        QCOMPARE(e.create(exp, R"({"kind": "asha", "result": "acc", "direction": "maximize", )"
                               R"("minSteps": 1, "reductionFactor": 2})")
                     .status,
                 201);
        QByteArray a, b, c;
        const QString ja = e.claim(exp, &a), jb = e.claim(exp, &b), jc = e.claim(exp, &c);
        QVERIFY(!ja.isEmpty() && !jb.isEmpty() && !jc.isEmpty());
        // a alone at rung 1: goes on. b below it with two values there: stopped at step 1.
        Reply r = e.report(exp, ja, a, "RUNNING", R"({"acc": [0.5]})");
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("Schedy-Job-Status").isEmpty());
        a = r.header("ETag");
        r = e.report(exp, jb, b, "RUNNING", R"({"acc": [0.4]})");
        QCOMPARE(r.header("Schedy-Job-Status"), QByteArray("PRUNED"));
        QCOMPARE(str(doc(r), "pruneRule"), QStringLiteral("asha"));
        QCOMPARE(doc(r).value(QStringLiteral("pruneThreshold")).toDouble(), 0.5);
        QCOMPARE(doc(r).value(QStringLiteral("prunedAt")).toInteger(), 1);
        // c best at rung 1 (n = 3: index 0), then rung 2 alone: goes on.
        r = e.report(exp, jc, c, "RUNNING", R"({"acc": [0.6, 0.61]})");
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("Schedy-Job-Status").isEmpty());
        // a reaches rung 2 below c's 0.61: stopped at step 2.
        r = e.report(exp, ja, a, "RUNNING", R"({"acc": [0.5, 0.55]})");
        QCOMPARE(r.header("Schedy-Job-Status"), QByteArray("PRUNED"));
        QCOMPARE(doc(r).value(QStringLiteral("prunedAt")).toInteger(), 2);
        QCOMPARE(doc(r).value(QStringLiteral("pruneThreshold")).toDouble(), 0.61);
        const Reply late = e.report(exp, ja, r.header("ETag"), "DONE", R"({"acc": [0.5, 0.55, 0.7]})");
        QCOMPARE(late.status, 412);
        QVERIFY2(late.errorText().contains(QStringLiteral("pruned by ASHA at step 2")),
                 qPrintable(late.errorText()));
    }

    void finalReportsAndOtherResultsAreNotJudged()
    {
        Env &e = *m_env;
        const QString exp = QStringLiteral("final");
        QCOMPARE(e.create(exp, R"({"kind": "median", "result": "loss", "direction": "minimize", )"
                               R"("startupJobs": 1})")
                     .status,
                 201);
        QCOMPARE(e.done(exp, "[0.1, 0.1]").status, 201);
        QByteArray etag;
        const QString id = e.claim(exp, &etag);
        // Another result, or a curve that does not grow, is not looked at.
        Reply r = e.report(exp, id, etag, "RUNNING", R"({"acc": [9, 9]})");
        QVERIFY(r.header("Schedy-Job-Status").isEmpty());
        r = e.report(exp, id, r.header("ETag"), "RUNNING", R"({"loss": "not a curve"})");
        QVERIFY(r.header("Schedy-Job-Status").isEmpty());
        // The final report finishes the job whatever its curve.
        r = e.report(exp, id, r.header("ETag"), "DONE", R"({"loss": [9, 9]})");
        QCOMPARE(r.status, 200);
        QCOMPARE(str(doc(r), "status"), QStringLiteral("DONE"));
        QVERIFY(r.header("Schedy-Job-Status").isEmpty());
    }

    void aPrunerSetLaterSeesTheJobsBeforeIt()
    {
        Env &e = *m_env;
        const QString exp = QStringLiteral("later");
        QCOMPARE(e.create(exp, "null").status, 201);
        const Reply first = e.done(exp, "[0.2, 0.1]");
        QCOMPARE(first.status, 201);
        QByteArray etag;
        const QString id = e.claim(exp, &etag);
        Reply r = e.report(exp, id, etag, "RUNNING", R"({"loss": [0.5]})");
        QVERIFY(r.header("Schedy-Job-Status").isEmpty()); // no pruner yet
        etag = r.header("ETag");
        QCOMPARE(e.create(exp, R"({"kind": "median", "result": "loss", "direction": "minimize", )"
                               R"("startupJobs": 1})")
                     .status,
                 200);
        // The DONE job from before the pruner is a median of its own.
        r = e.report(exp, id, etag, "RUNNING", R"({"loss": [0.5, 0.4]})");
        QCOMPARE(r.header("Schedy-Job-Status"), QByteArray("PRUNED"));
        QCOMPARE(doc(r).value(QStringLiteral("pruneThreshold")).toDouble(), 0.1);
        // Deleting the DONE job takes its curve out: nothing left to compare with.
        QCOMPARE(e.http().del(jobPath(exp, str(doc(first), "id"))).status, 204);
        const QString other = e.claim(exp, &etag);
        r = e.report(exp, other, etag, "RUNNING", R"({"loss": [5.0]})");
        QCOMPARE(r.status, 200);
        QVERIFY(r.header("Schedy-Job-Status").isEmpty());
    }
};

QTEST_MAIN(TestEarlyStop)
#include "tst_earlystop.moc"
