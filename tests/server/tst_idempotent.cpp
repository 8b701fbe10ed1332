// Issue 17, finding 7: a write whose answer was lost (the connection cut during
// COMMIT, the server killed after it) is sent again with the ETag the client
// held. When the stored state is exactly what that write made, the repeat
// succeeds with the current ETag instead of 412 "changed by someone else";
// anything else still fails the precondition. A write to RUNNING (a claim or a
// progress report) cannot be told from a rival worker's claim of the same job,
// so its repeat still gets 412: no job is ever claimed twice. If-None-Match: *
// keeps meaning "must not exist".
#include "TestServer.h"

#include <QTest>

using namespace schedy;
using namespace schedy::test;

namespace {

const QByteArray ManualBody = R"({"status": "RUNNING", "scheduler": {"Manual": null}})";
const QByteArray DoneBody = R"({"status": "DONE", "scheduler": {"Manual": null}})";
const QByteArray RandomBody =
    R"({"status": "RUNNING", "scheduler": {"RandomSearch": {"lr": {"uniform": {"low": 0.0, "high": 1.0}}}}})";

QString status(const Reply &r)
{
    return r.json.toMap().value(QStringLiteral("status")).toString();
}

} // namespace

class TestIdempotent : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> m_server;
    std::unique_ptr<HttpTestClient> m_http;

    // A job of experiment `exp`, created QUEUED; its path and ETag.
    std::pair<QString, QByteArray> newJob()
    {
        const Reply r =
            m_http->post(QStringLiteral("experiments/exp/jobs/"), R"({"hyperparameters": {"x": 1}})");
        if (r.status != 201)
            return {};
        return {QStringLiteral("experiments/exp/jobs/%1/")
                    .arg(r.json.toMap().value(QStringLiteral("id")).toString()),
                r.header("ETag")};
    }

private slots:
    void init()
    {
        m_server = std::make_unique<TestServer>();
        QString error;
        QVERIFY2(m_server->start(&error), qPrintable(error));
        const ClientConfig config = m_server->addUser(QStringLiteral("retry@example.com"));
        m_http = std::make_unique<HttpTestClient>(m_server->root());
        QVERIFY(m_http->login(config));
        QCOMPARE(m_http->put(QStringLiteral("experiments/exp/"), ManualBody).status, 201);
    }

    void cleanup()
    {
        m_http.reset();
        m_server.reset();
    }

    void repeatedExperimentSave()
    {
        const QString path = QStringLiteral("experiments/exp/");
        const QByteArray before = m_http->get(path).header("ETag");
        Reply first = m_http->put(path, DoneBody, {{"If-Match", before}});
        QCOMPARE(first.status, 200);
        const QByteArray saved = first.header("ETag");
        QVERIFY(saved != before);

        // The same save again with the ETag it was made against: done already.
        Reply again = m_http->put(path, DoneBody, {{"If-Match", before}});
        QCOMPARE(again.status, 200);
        QCOMPARE(again.header("ETag"), saved);
        QCOMPARE(status(again), QStringLiteral("DONE"));
        QCOMPARE(m_http->get(path).header("ETag"), saved); // nothing was written again

        // Another definition with the old ETag: someone else's change is not overwritten.
        Reply other = m_http->put(path, RandomBody, {{"If-Match", before}});
        QCOMPARE(other.status, 412);
        QCOMPARE(m_http->get(path).header("ETag"), saved);
        QCOMPARE(status(m_http->get(path)), QStringLiteral("DONE"));

        // Once changed again, the first save's repeat no longer matches what is stored.
        QCOMPARE(m_http->put(path, ManualBody, {{"If-Match", saved}}).status, 200);
        QCOMPARE(m_http->put(path, DoneBody, {{"If-Match", before}}).status, 412);
    }

    void createOnlyStaysCreateOnly()
    {
        const QString path = QStringLiteral("experiments/new/");
        QCOMPARE(m_http->put(path, ManualBody, {{"If-None-Match", "*"}}).status, 201);
        // The original client sends If-None-Match: * when it has no ETag and relies on the 412.
        QCOMPARE(m_http->put(path, ManualBody, {{"If-None-Match", "*"}}).status, 412);
        const QString job = QStringLiteral("experiments/exp/jobs/mine/");
        const QByteArray body = R"({"status": "QUEUED", "hyperparameters": {"x": 2}})";
        QCOMPARE(m_http->put(job, body, {{"If-None-Match", "*"}}).status, 201);
        QCOMPARE(m_http->put(job, body, {{"If-None-Match", "*"}}).status, 412);
    }

    void repeatedJobReports()
    {
        const auto [path, queued] = newJob();
        QVERIFY(!path.isEmpty());
        Reply claim = m_http->put(path, R"({"status": "RUNNING", "hyperparameters": {"x": 1}})",
                                  {{"If-Match", queued}});
        QCOMPARE(claim.status, 200);
        const QByteArray claimed = claim.header("ETag");

        // A progress report, sent twice: its repeat cannot be told from a rival's write
        // to RUNNING, so it still fails, and changes nothing.
        const QByteArray progress =
            R"({"status": "RUNNING", "hyperparameters": {"x": 1}, "results": {"loss": 0.7}})";
        Reply report = m_http->put(path, progress, {{"If-Match", claimed}});
        QCOMPARE(report.status, 200);
        const QByteArray reported = report.header("ETag");
        QCOMPARE(m_http->put(path, progress, {{"If-Match", claimed}}).status, 412);
        QCOMPARE(m_http->get(path).header("ETag"), reported);

        // The final report, sent twice: the lost one of the issue.
        const QByteArray done =
            R"({"status": "DONE", "hyperparameters": {"x": 1}, "results": {"loss": 0.5}})";
        Reply final = m_http->put(path, done, {{"If-Match", reported}});
        QCOMPARE(final.status, 200);
        const QByteArray finished = final.header("ETag");
        Reply again = m_http->put(path, done, {{"If-Match", reported}});
        QCOMPARE(again.status, 200);
        QCOMPARE(again.header("ETag"), finished);
        QCOMPARE(again.json.toMap()
                     .value(QStringLiteral("results"))
                     .toMap()
                     .value(QStringLiteral("loss"))
                     .toDouble(),
                 0.5);

        // Other results with an old ETag still fail, and change nothing.
        QCOMPARE(m_http
                     ->put(path,
                           R"({"status": "DONE", "hyperparameters": {"x": 1}, "results": {"loss": 0.1}})",
                           {{"If-Match", reported}})
                     .status,
                 412);
        const Reply stored = m_http->get(path);
        QCOMPARE(stored.header("ETag"), finished);
        QCOMPARE(status(stored), QStringLiteral("DONE"));
    }

    void repeatedClaimIsStillRefused()
    {
        const auto [path, queued] = newJob();
        QVERIFY(!path.isEmpty());
        const QByteArray claim = R"({"status": "RUNNING", "hyperparameters": {"x": 1}})";
        QCOMPARE(m_http->put(path, claim, {{"If-Match", queued}}).status, 200);
        // The same request from a rival worker that was handed the same job.
        QCOMPARE(m_http->put(path, claim, {{"If-Match", queued}}).status, 412);
    }
};

QTEST_GUILESS_MAIN(TestIdempotent)
#include "tst_idempotent.moc"
