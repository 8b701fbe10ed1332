// libschedy and jobs the server stops (docs/protocol.md 8.2, 8.3): heartbeats, a
// write answered "PRUNED", a 412 because the job was pruned or lost, and the
// Worker's outcomes. Against the scripted FaultServer, which plays the server.
#include "Client.h"
#include "ClientTestSupport.h"
#include "FaultServer.h"
#include "Json.h"
#include "Worker.h"

#include <QSignalSpy>
#include <QtTest>

#include <memory>

using namespace schedy;
using namespace schedy::test;

namespace {

using Kind = ClientError::Kind;

template <typename T> std::unique_ptr<Call<T>> await(Call<T> *call)
{
    return awaitCall(call, 20000);
}

JobWrite running(const QCborMap &results = {})
{
    JobWrite w;
    w.status = JobStatus::Running;
    w.results = results;
    return w;
}

} // namespace

class TestStopping : public QObject
{
    Q_OBJECT

    std::unique_ptr<FaultServer> server;
    std::unique_ptr<Client> client;

    // An experiment (with these section-8 keys) and one QUEUED job, J1.
    void makeExperiment(const std::optional<LeaseSpec> &lease = {})
    {
        Experiment e;
        e.name = QStringLiteral("e");
        e.lease = lease;
        {
            auto done = await(client->createExperiment(e));
            VERIFY_OK(done); // (the macro would send the request twice)
        }
        {
            auto done = await(client->addJob(QStringLiteral("e"), JobWrite{}));
            VERIFY_OK(done); // (the macro would send the request twice)
        }
    }

    // Claims J1 and returns its ETag.
    QByteArray claim()
    {
        auto c = await(client->putJob(QStringLiteral("e"), QStringLiteral("J1"), running(),
                                      WriteCondition::IfMatch, "\"J1-1\""));
        return c->ok() ? c->value().etag : QByteArray();
    }

    // Waits until the server has received a request whose path ends with `suffix`.
    void awaitRequest(const QByteArray &method, const QByteArray &suffix, int count = 1)
    {
        QSignalSpy received(server.get(), &FaultServer::requestReceived);
        while (server->count(method, suffix) < count)
            QVERIFY(received.wait(10000));
    }

private slots:
    void init()
    {
        server = std::make_unique<FaultServer>();
        QVERIFY(server->listen());
        client = std::make_unique<Client>(server->config());
        client->setRetryPolicy(quickRetries(3, 10000));
    }

    void cleanup()
    {
        client.reset();
        server.reset();
    }

    void heartbeatKeepsTheEtagAndSaysWhenTheJobIsLost()
    {
        makeExperiment();
        const QByteArray etag = claim();
        QVERIFY(!etag.isEmpty());
        auto beat = await(client->heartbeat(QStringLiteral("e"), QStringLiteral("J1"), etag));
        VERIFY_OK(beat);
        const FaultRequest &sent = server->requests().last();
        QCOMPARE(sent.method, QByteArray("POST"));
        QCOMPARE(sent.path, QByteArray("/experiments/e/jobs/J1/heartbeat/"));
        QCOMPARE(sent.header("If-Match"), etag);
        // The ETag still matches: a report after a heartbeat goes through.
        auto report = await(client->putJob(QStringLiteral("e"), QStringLiteral("J1"), running(),
                                           WriteCondition::IfMatch, etag));
        VERIFY_OK(report);
        const QByteArray current = report->value().etag;
        server->changeJob(QStringLiteral("e"), "J1", "CRASHED",
                          QStringLiteral("job 'J1' was lost (no word within the lease); replaced by J2"));
        auto lost = await(client->heartbeat(QStringLiteral("e"), QStringLiteral("J1"), current));
        VERIFY_FAILED(lost, Kind::UnsafeUpdate, 412);
        QCOMPARE(lost->error().jobStatus, QStringLiteral("CRASHED"));
        QVERIFY(lost->error().jobLost());
        QVERIFY(!lost->error().jobPruned());
        QVERIFY(lost->error().message.contains(QLatin1String("replaced by J2")));

        auto gone = await(client->heartbeat(QStringLiteral("e"), QStringLiteral("J9"), current));
        VERIFY_FAILED(gone, Kind::ClientRequest, 404);
    }

    void aWriteAnsweredPrunedAndTheWritesAfterIt()
    {
        makeExperiment();
        const QByteArray etag = claim();
        server->pruneAtNextReport(QStringLiteral("e"), "J1");
        auto report = await(client->putJob(QStringLiteral("e"), QStringLiteral("J1"),
                                           running({{QStringLiteral("loss"), QCborArray{0.9, 0.8, 0.85}}}),
                                           WriteCondition::IfMatch, etag));
        VERIFY_OK(report);
        QCOMPARE(toString(report->value().status), toString(JobStatus::Pruned));
        // The worker's next write, with the ETag it was given, is refused and says why.
        auto late = await(client->putJob(QStringLiteral("e"), QStringLiteral("J1"), running(),
                                         WriteCondition::IfMatch, report->value().etag));
        VERIFY_FAILED(late, Kind::UnsafeUpdate, 412);
        QVERIFY(late->error().jobPruned());
        QVERIFY(!late->error().jobLost());
    }

    void aServerWithoutTheHeaderIsReadByItsMessage()
    {
        makeExperiment();
        const QByteArray etag = claim();
        server->script("PUT", "/jobs/J1/", FaultServer::Fault::Respond, 1, 412,
                       R"({"error": "job 'J1' was pruned at step 4 by the median rule"})");
        auto late = await(client->putJob(QStringLiteral("e"), QStringLiteral("J1"), running(),
                                         WriteCondition::IfMatch, etag));
        VERIFY_FAILED(late, Kind::UnsafeUpdate, 412);
        QVERIFY(late->error().jobStatus.isEmpty());
        QVERIFY(late->error().jobPruned());
        server->script("PUT", "/jobs/J1/", FaultServer::Fault::Respond, 1, 412,
                       R"({"error": "job 'J1' was lost: no word within the 60 s lease; replaced by J2"})");
        auto lost = await(client->putJob(QStringLiteral("e"), QStringLiteral("J1"), running(),
                                         WriteCondition::IfMatch, etag));
        QVERIFY(lost->error().jobLost());
        // Another worker's claim is neither.
        server->script("PUT", "/jobs/J1/", FaultServer::Fault::Respond, 1, 412,
                       R"({"error": "job 'J1' was changed by someone else"})");
        auto taken = await(client->putJob(QStringLiteral("e"), QStringLiteral("J1"), running(),
                                          WriteCondition::IfMatch, etag));
        QVERIFY(!taken->error().jobLost());
        QVERIFY(!taken->error().jobPruned());
    }

    void anUpdateSendsEveryKeyCreateOnlyTheSetOnes()
    {
        Experiment e;
        e.name = QStringLiteral("e");
        e.lease = LeaseSpec{60, 2};
        {
            auto done = await(client->createExperiment(e));
            VERIFY_OK(done); // (the macro would send the request twice)
        }
        const QCborMap created = json::parse(server->requests().last().body).toMap();
        QVERIFY(!created.contains(QStringLiteral("sampler")));
        QCOMPARE(json::write(created.value(QStringLiteral("lease"))),
                 QByteArray(R"({"seconds":60,"retries":2})"));

        e.lease.reset(); // an editor removed the lease: the server must hear null
        auto updated = await(client->updateExperiment(e));
        VERIFY_OK(updated);
        const QCborMap body = json::parse(server->requests().last().body).toMap();
        QVERIFY(body.value(QStringLiteral("lease")).isNull());
        QVERIFY(body.value(QStringLiteral("sampler")).isNull());
        QVERIFY(body.value(QStringLiteral("pruner")).isNull());
        // And the experiment read back carries the keys the server keeps.
        e.pruner = PrunerSpec{};
        e.pruner->result = QStringLiteral("loss");
        {
            auto done = await(client->updateExperiment(e));
            VERIFY_OK(done); // (the macro would send the request twice)
        }
        auto read = await(client->experiment(QStringLiteral("e")));
        VERIFY_OK(read);
        QVERIFY(read->value().pruner == e.pruner);
    }

    void workerStopsWhenAReportIsAnsweredPruned()
    {
        makeExperiment();
        Worker worker(client.get(), QStringLiteral("e"));
        int reportsAccepted = 0;
        QVERIFY(worker.runNext([&](WorkerJob &job) {
            server->pruneAtNextReport(QStringLiteral("e"), "J1");
            for (int epoch = 0; epoch < 10 && !job.stopped(); ++epoch) {
                job.setResult(QStringLiteral("loss"), QCborArray{1.0 / (epoch + 1)});
                reportsAccepted += job.report() ? 1 : 0;
            }
            QVERIFY(job.stopped());
            QVERIFY(job.stopReason() == JobOutcome::Pruned);
        }));
        QCOMPARE(reportsAccepted, 0);
        QVERIFY(worker.lastOutcome() == JobOutcome::Pruned);
        // Claim and the one pruned report: nothing written after the prune.
        QCOMPARE(server->count("PUT", "/jobs/J1/"), 2);
        auto job = await(client->job(QStringLiteral("e"), QStringLiteral("J1")));
        QCOMPARE(toString(job->value().status), toString(JobStatus::Pruned));
        // No experiment lease: no heartbeat.
        QCOMPARE(server->count("POST", "/heartbeat/"), 0);
    }

    void workerHeartbeatsAndStopsWhenTheJobIsLost()
    {
        makeExperiment(LeaseSpec{600, std::nullopt});
        Worker worker(client.get(), QStringLiteral("e"));
        worker.heartbeatIntervalMs = 20; // a 600 s lease would beat every 200 s
        QByteArray etagSeen;
        QVERIFY(worker.runNext([&](WorkerJob &job) {
            job.setResult(QStringLiteral("loss"), QCborArray{0.9});
            QVERIFY(job.report()); // waits for a heartbeat in flight: never a stale ETag
            awaitRequest("POST", "/heartbeat/", 2);
            etagSeen = server->requests().last().header("If-Match");
            QVERIFY(!job.stopped());
            QCOMPARE(etagSeen, job.job().etag); // the ETag of the last report
            // The server declares it lost: the next heartbeat gets 412.
            server->changeJob(QStringLiteral("e"), "J1", "CRASHED", QStringLiteral("job 'J1' was lost"));
            QTRY_VERIFY_WITH_TIMEOUT(job.stopped(), 10000);
            QVERIFY(job.stopReason() == JobOutcome::Lost);
            QVERIFY(!job.report());
        }));
        QVERIFY(worker.lastOutcome() == JobOutcome::Lost);
        // Nothing written after the loss (claim, one report).
        QCOMPARE(server->count("PUT", "/jobs/J1/"), 2);
        auto job = await(client->job(QStringLiteral("e"), QStringLiteral("J1")));
        QCOMPARE(toString(job->value().status), toString(JobStatus::Crashed));
    }

    void workerDoneWithALease()
    {
        makeExperiment(LeaseSpec{3, 0});
        Worker worker(client.get(), QStringLiteral("e"));
        QVERIFY(worker.runNext([](WorkerJob &job) { job.setResult(QStringLiteral("loss"), 0.5); }));
        QVERIFY(worker.lastOutcome() == JobOutcome::Done);
        auto job = await(client->job(QStringLiteral("e"), QStringLiteral("J1")));
        QCOMPARE(toString(job->value().status), toString(JobStatus::Done));
        QVERIFY(!worker.runNext([](WorkerJob &) {}));
        QCOMPARE(worker.lastError().kind, Kind::NoJob);
    }
};

QTEST_GUILESS_MAIN(TestStopping)
#include "tst_stopping.moc"
