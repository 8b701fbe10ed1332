#include "Client.h"
#include "ClientTestSupport.h"
#include "FaultServer.h"
#include "JobFetcher.h"
#include "Worker.h"

#include <QSignalSpy>
#include <QtTest>

#include <memory>
#include <stdexcept>

using namespace schedy;
using namespace schedy::test;

namespace {

using Kind = ClientError::Kind;
using F = FaultServer::Fault;

// The fault server answers at once or never: 20 s is plenty.
template <typename T> std::unique_ptr<Call<T>> await(Call<T> *call, int timeoutMs = 20000)
{
    return awaitCall(call, timeoutMs);
}

RetryPolicy fastPolicy()
{
    RetryPolicy p = quickRetries(4, 10000);
    p.jitter = 0.5;
    return p;
}

} // namespace

#define VERIFY_ERROR(call, k, status) VERIFY_FAILED(call, k, status)

// A fetcher over experiment "e" in pages of 2 jobs, recording what it delivers.
struct PagedFetch
{
    JobFetcher fetcher;
    QList<Job> jobs;
    QList<bool> ends;
    QSignalSpy fetched{&fetcher, &JobFetcher::pageFetched};
    QSignalSpy failed{&fetcher, &JobFetcher::failed};
    explicit PagedFetch(Client *client)
        : fetcher(client, QStringLiteral("e"), pagesOf2())
    {
        QObject::connect(&fetcher, &JobFetcher::pageFetched, &fetcher,
                         [this](const QList<Job> &page, bool atEnd) {
                             jobs.append(page);
                             ends.append(atEnd);
                         });
    }
    static JobListQuery pagesOf2()
    {
        JobListQuery q;
        q.limit = 2;
        return q;
    }
};

class TestFaults : public QObject
{
    Q_OBJECT

    std::unique_ptr<FaultServer> server;
    std::unique_ptr<Client> client;

    static Experiment manual(const QString &name)
    {
        Experiment e;
        e.name = name;
        return e;
    }
    static JobWrite job(qint64 n)
    {
        JobWrite w;
        w.hyperparameters.insert(QStringLiteral("n"), n);
        return w;
    }
    void makeExperiment(const QString &name)
    {
        auto c = await(client->createExperiment(manual(name)));
        QVERIFY2(c->ok(), qPrintable(describe(*c)));
    }

    void addJobs(const QString &experiment, int n)
    {
        for (int i = 0; i < n; ++i)
            QVERIFY(await(client->addJob(experiment, job(i)))->ok());
    }

    // After the first page: until page 2 has been asked for (read ahead) and
    // its answer has had time to come back.
    void awaitReadAheadOfPage2()
    {
        QSignalSpy received(server.get(), &FaultServer::requestReceived);
        while (server->count("GET", "jobs/?start=2") == 0)
            QVERIFY(received.wait(10000));
        QVERIFY(await(client->experiment(QStringLiteral("e")))->ok());
    }

private slots:
    void init()
    {
        server = std::make_unique<FaultServer>();
        QVERIFY(server->listen());
        client = std::make_unique<Client>(server->config());
        client->setRetryPolicy(fastPolicy());
    }

    void cleanup()
    {
        client.reset();
        server.reset();
    }

    void normalRoundTripLogsInOnce()
    {
        makeExperiment(QStringLiteral("e"));
        auto added = await(client->addJob(QStringLiteral("e"), job(1)));
        VERIFY_OK(added);
        QCOMPARE(added->value().id, QStringLiteral("J1"));
        QCOMPARE(added->value().etag, QByteArray("\"J1-1\""));
        auto got = await(client->job(QStringLiteral("e"), QStringLiteral("J1")));
        VERIFY_OK(got);
        QCOMPARE(got->value().hyperparameters.value(QStringLiteral("n")).toInteger(), 1);
        QCOMPARE(server->logins(), 1);
        QCOMPARE(server->count("POST", "/token/"), 1);
        QCOMPARE(server->count("POST", "/passauth/"), 0);
        QCOMPARE(got->attempts(), 1);
    }

    void passwordConfigUsesPassauth()
    {
        client->setConfig(server->config(ClientConfig::TokenType::Password));
        makeExperiment(QStringLiteral("e"));
        QCOMPARE(server->count("POST", "/passauth/"), 1);
        QCOMPARE(server->count("POST", "/token/"), 0);
        const FaultRequest &login = server->requests().first();
        QVERIFY(login.header("Authorization").isEmpty());
        QVERIFY(login.body.contains(FaultServer::password()));
        // Every other request carries the bearer.
        QCOMPARE(server->requests().last().header("Authorization"), QByteArray("Bearer bearer-1"));
    }

    void droppedConnectionIsRetried()
    {
        makeExperiment(QStringLiteral("e"));
        server->script("GET", "/experiments/e/", F::Drop);
        auto c = await(client->experiment(QStringLiteral("e")));
        VERIFY_OK(c);
        QCOMPARE(c->value().name, QStringLiteral("e"));
        QCOMPARE(server->count("GET", "/experiments/e/"), 2);
    }

    void droppedPostCreatesOneJob()
    {
        makeExperiment(QStringLiteral("e"));
        server->script("POST", "/jobs/", F::Drop);
        auto c = await(client->addJob(QStringLiteral("e"), job(7)));
        VERIFY_OK(c);
        QCOMPARE(server->count("POST", "/experiments/e/jobs/"), 2); // dropped, then handled
        QCOMPARE(server->jobsCreated(), 1);
        QCOMPARE(server->jobIds(QStringLiteral("e")), QList<QByteArray>{"J1"});
        QCOMPARE(c->value().id, QStringLiteral("J1"));
    }

    void connectionDroppedEveryTimeGivesNetworkError()
    {
        makeExperiment(QStringLiteral("e"));
        server->script("GET", "/experiments/e/", F::Drop, 1000);
        auto c = await(client->experiment(QStringLiteral("e")));
        VERIFY_ERROR(c, Kind::Network, 0);
        QCOMPARE(c->attempts(), fastPolicy().maxAttempts);
        QVERIFY(server->count("GET", "/experiments/e/") >= fastPolicy().maxAttempts);
        QVERIFY(!c->error().message.isEmpty());
    }

    void serviceUnavailableTwiceThenSuccess()
    {
        makeExperiment(QStringLiteral("e"));
        server->script("GET", "/experiments/e/", F::Respond, 2, 503, R"({"error": "the database is busy"})");
        auto c = await(client->experiment(QStringLiteral("e")));
        VERIFY_OK(c);
        QCOMPARE(c->attempts(), 3);
        QCOMPARE(server->count("GET", "/experiments/e/"), 3);
        QCOMPARE(server->logins(), 1);
    }

    void serviceUnavailableOnPostCreatesOneJob()
    {
        makeExperiment(QStringLiteral("e"));
        server->script("POST", "/jobs/", F::Respond, 2, 503, R"({"error": "busy; nothing was changed"})");
        auto c = await(client->addJob(QStringLiteral("e"), job(1)));
        VERIFY_OK(c);
        QCOMPARE(server->count("POST", "/jobs/"), 3);
        QCOMPARE(server->jobsCreated(), 1);
    }

    void serverErrorAfterMaxAttempts()
    {
        makeExperiment(QStringLiteral("e"));
        server->script("GET", "/experiments/e/", F::Respond, 1000, 500,
                       R"({"error": "database error; nothing was changed"})");
        auto c = await(client->experiment(QStringLiteral("e")));
        VERIFY_ERROR(c, Kind::Server, 500);
        QCOMPARE(c->error().message, QStringLiteral("database error; nothing was changed"));
        QCOMPARE(c->attempts(), 4);
        QCOMPARE(server->count("GET", "/experiments/e/"), 4);
    }

    void badGatewayIsNotRetried()
    {
        makeExperiment(QStringLiteral("e"));
        server->script("GET", "/experiments/e/", F::Respond, 1000, 502, "upstream is down");
        auto c = await(client->experiment(QStringLiteral("e")));
        VERIFY_ERROR(c, Kind::Server, 502);
        QCOMPARE(c->error().message, QStringLiteral("upstream is down"));
        QCOMPARE(server->count("GET", "/experiments/e/"), 1);
    }

    void expiredBearerIsRenewedOnce()
    {
        makeExperiment(QStringLiteral("e"));
        QCOMPARE(server->logins(), 1);
        server->expireBearers();
        auto c = await(client->experiment(QStringLiteral("e")));
        VERIFY_OK(c);
        QCOMPARE(server->logins(), 2);
        QCOMPARE(server->count("GET", "/experiments/e/"), 2); // 401, then with the new bearer
        QCOMPARE(server->requests().last().header("Authorization"), QByteArray("Bearer bearer-2"));
        QCOMPARE(client->bearer(), QByteArray("bearer-2"));
    }

    void concurrentCallsAfterExpiryShareOneRenewal()
    {
        makeExperiment(QStringLiteral("e"));
        makeExperiment(QStringLiteral("f"));
        server->expireBearers();
        std::vector<std::unique_ptr<Call<Experiment>>> calls;
        for (int i = 0; i < 4; ++i) {
            calls.emplace_back(client->experiment(QStringLiteral("e")));
            calls.back()->setAutoDelete(false);
        }
        for (auto &c : calls) {
            if (!c->isFinished())
                QVERIFY(QSignalSpy(c.get(), &CallBase::finished).wait(20000));
            VERIFY_OK(c);
        }
        QCOMPARE(server->logins(), 2);
    }

    void late401AfterRenewalUsesTheNewBearer()
    {
        makeExperiment(QStringLiteral("e"));
        makeExperiment(QStringLiteral("f"));
        QCOMPARE(server->logins(), 1);
        server->expireBearers();
        // Call "f" is held by the server with the old bearer while call "e"
        // gets its 401 and renews the bearer.
        server->script("GET", "/experiments/f/", F::Hold);
        QSignalSpy received(server.get(), &FaultServer::requestReceived);
        auto held = std::unique_ptr<Call<Experiment>>(client->experiment(QStringLiteral("f")));
        held->setAutoDelete(false);
        QVERIFY(received.wait(10000));
        auto renewed = await(client->experiment(QStringLiteral("e")));
        VERIFY_OK(renewed);
        QCOMPARE(server->logins(), 2);
        // Now "f" gets its 401: the bearer was renewed after it was sent, so the
        // client repeats it with the new one instead of logging in once more.
        server->releaseHeld();
        QVERIFY(QSignalSpy(held.get(), &CallBase::finished).wait(10000));
        VERIFY_OK(held);
        QCOMPARE(held->value().name, QStringLiteral("f"));
        QCOMPARE(server->logins(), 2);
        QCOMPARE(server->count("GET", "/experiments/f/"), 2);
    }

    void persistent401IsReauthenticateError()
    {
        makeExperiment(QStringLiteral("e"));
        server->script("GET", "/experiments/e/", F::Respond, 2, 401, R"({"error": "invalid bearer token"})");
        auto c = await(client->experiment(QStringLiteral("e")));
        VERIFY_ERROR(c, Kind::Reauthenticate, 401);
        QCOMPARE(c->error().message, QStringLiteral("invalid bearer token"));
        QCOMPARE(server->logins(), 2); // renewed once, not more
        QCOMPARE(server->count("GET", "/experiments/e/"), 2);
    }

    void bearerRenewedShortlyBeforeExpiry()
    {
        server->setBearerLifetime(0); // every bearer is already within the renewal margin
        makeExperiment(QStringLiteral("e"));
        QCOMPARE(server->logins(), 1);
        auto c = await(client->experiment(QStringLiteral("e")));
        VERIFY_OK(c);
        QCOMPARE(server->logins(), 2);
        QCOMPARE(server->count("GET", "/experiments/e/"), 1); // no 401 round trip

        server->setBearerLifetime(3600);
        c = await(client->experiment(QStringLiteral("e")));
        VERIFY_OK(c);
        QCOMPARE(server->logins(), 3);
        QVERIFY(client->bearerExpiresAt() > QDateTime::currentSecsSinceEpoch() + 3000);
        c = await(client->experiment(QStringLiteral("e")));
        VERIFY_OK(c);
        QCOMPARE(server->logins(), 3); // a fresh bearer is reused
    }

    void malformedJsonIsUnhandledResponse()
    {
        makeExperiment(QStringLiteral("e"));
        server->script("GET", "/experiments/e/", F::Malformed);
        auto c = await(client->experiment(QStringLiteral("e")));
        VERIFY_ERROR(c, Kind::UnhandledResponse, 200);
        QVERIFY2(c->error().message.contains(QLatin1String("invalid JSON")), qPrintable(c->error().message));
        QCOMPARE(server->count("GET", "/experiments/e/"), 1);
    }

    void unexpectedDocumentIsUnhandledResponse()
    {
        makeExperiment(QStringLiteral("e"));
        server->script("GET", "/experiments/e/", F::Respond, 1, 200, R"({"name": "e", "status": "PAUSED"})");
        auto c = await(client->experiment(QStringLiteral("e")));
        VERIFY_ERROR(c, Kind::UnhandledResponse, 200);
        QCOMPARE(server->count("GET", "/experiments/e/"), 1);
    }

    void unexpectedStatusIsUnhandledResponse()
    {
        makeExperiment(QStringLiteral("e"));
        server->script("GET", "/experiments/e/", F::Respond, 1, 204, {});
        auto c = await(client->experiment(QStringLiteral("e")));
        VERIFY_ERROR(c, Kind::UnhandledResponse, 204);
        QCOMPARE(server->count("GET", "/experiments/e/"), 1);
    }

    void truncatedBodyOfGetIsRetried()
    {
        makeExperiment(QStringLiteral("e"));
        QVERIFY(await(client->addJob(QStringLiteral("e"), job(1)))->ok());
        server->script("GET", "/jobs/J1/", F::Truncated);
        auto c = await(client->job(QStringLiteral("e"), QStringLiteral("J1")));
        VERIFY_OK(c);
        QCOMPARE(c->value().id, QStringLiteral("J1"));
        QCOMPARE(server->count("GET", "/jobs/J1/"), 2);
    }

    void truncatedBodyOfPostIsNotRepeated()
    {
        // The server created the job before the answer was cut: sending the POST
        // again would create a second one.
        makeExperiment(QStringLiteral("e"));
        server->script("POST", "/jobs/", F::Truncated);
        auto c = await(client->addJob(QStringLiteral("e"), job(1)));
        VERIFY_ERROR(c, Kind::UnhandledResponse, 201);
        QCOMPARE(server->count("POST", "/jobs/"), 1);
        QCOMPARE(server->jobsCreated(), 1);
    }

    void truncatedBodyEveryTimeIsUnhandledResponse()
    {
        makeExperiment(QStringLiteral("e"));
        server->script("GET", "/experiments/e/", F::Truncated, 1000);
        auto c = await(client->experiment(QStringLiteral("e")));
        VERIFY_ERROR(c, Kind::UnhandledResponse, 200);
        QCOMPARE(c->attempts(), 4);
        // At least one request per attempt; Qt may resend one on a new connection
        // by itself when the server closes it (QNetworkAccessManager's reconnect).
        QVERIFY(server->count("GET", "/experiments/e/") >= 4);
    }

    void neverAnsweredRequestTimesOut()
    {
        RetryPolicy p = fastPolicy();
        p.timeoutMs = 300;
        p.maxAttempts = 2;
        client->setRetryPolicy(p);
        makeExperiment(QStringLiteral("e"));
        server->script("GET", "/experiments/e/", F::NeverAnswer, 1000);
        auto c = await(client->experiment(QStringLiteral("e")));
        VERIFY_ERROR(c, Kind::Timeout, 0);
        QCOMPARE(c->attempts(), 2);
        QCOMPARE(server->count("GET", "/experiments/e/"), 2);
    }

    void timeoutOnceThenSuccess()
    {
        RetryPolicy p = fastPolicy();
        p.timeoutMs = 300;
        p.maxAttempts = 2;
        client->setRetryPolicy(p);
        makeExperiment(QStringLiteral("e"));
        server->script("GET", "/experiments/e/", F::NeverAnswer, 1);
        auto c = await(client->experiment(QStringLiteral("e")));
        VERIFY_OK(c);
        QCOMPARE(c->attempts(), 2);
    }

    void loginTimeoutFailsTheWaitingCall()
    {
        RetryPolicy p = fastPolicy();
        p.timeoutMs = 300;
        p.maxAttempts = 2;
        client->setRetryPolicy(p);
        server->script("POST", "/token/", F::NeverAnswer, 1000);
        auto c = await(client->experiments());
        VERIFY_ERROR(c, Kind::Timeout, 0);
        QCOMPARE(server->count("POST", "/token/"), 2);
        QCOMPARE(server->count("GET", "/experiments/"), 0);
    }

    void notFoundIsNotRetried()
    {
        auto c = await(client->experiment(QStringLiteral("missing")));
        VERIFY_ERROR(c, Kind::ClientRequest, 404);
        QCOMPARE(c->error().message, QStringLiteral("no experiment named 'missing'"));
        QCOMPARE(server->count("GET", "/experiments/missing/"), 1);
    }

    void badRequestIsNotRetried()
    {
        server->script("PUT", "/experiments/e/", F::Respond, 1000, 400,
                       R"({"error": "scheduler: unknown scheduler 'Grid'"})");
        auto c = await(client->createExperiment(manual(QStringLiteral("e"))));
        VERIFY_ERROR(c, Kind::ClientRequest, 400);
        QCOMPARE(c->error().message, QStringLiteral("scheduler: unknown scheduler 'Grid'"));
        QCOMPARE(server->count("PUT", "/experiments/e/"), 1);
    }

    void nonJsonErrorBodyIsTheMessage()
    {
        server->script("GET", "/experiments/", F::Respond, 1, 404, "Not here either");
        auto c = await(client->experiments());
        VERIFY_ERROR(c, Kind::ClientRequest, 404);
        QCOMPARE(c->error().message, QStringLiteral("Not here either"));
    }

    void preconditionFailedKinds()
    {
        makeExperiment(QStringLiteral("e"));
        auto again = await(client->createExperiment(manual(QStringLiteral("e"))));
        VERIFY_ERROR(again, Kind::ResourceExists, 412);
        QCOMPARE(again->error().message, QStringLiteral("experiment 'e' already exists"));

        auto added = await(client->addJob(QStringLiteral("e"), job(1)));
        VERIFY_OK(added);
        const QByteArray etag = added->value().etag;
        JobWrite w = job(1);
        w.status = JobStatus::Running;
        auto claimed = await(
            client->putJob(QStringLiteral("e"), QStringLiteral("J1"), w, WriteCondition::IfMatch, etag));
        VERIFY_OK(claimed);
        QVERIFY(claimed->value().etag != etag);
        auto stale = await(
            client->putJob(QStringLiteral("e"), QStringLiteral("J1"), w, WriteCondition::IfMatch, etag));
        VERIFY_ERROR(stale, Kind::UnsafeUpdate, 412);
        QCOMPARE(stale->error().message, QStringLiteral("job 'J1' was changed by someone else"));
        auto create =
            await(client->putJob(QStringLiteral("e"), QStringLiteral("J1"), w, WriteCondition::CreateOnly));
        VERIFY_ERROR(create, Kind::ResourceExists, 412);
        auto gone = await(client->deleteExperiment(QStringLiteral("nope"), true));
        VERIFY_ERROR(gone, Kind::UnsafeUpdate, 412);
        QCOMPARE(server->count("PUT", "/jobs/J1/"), 3); // none retried
    }

    void forbiddenIsAuthenticationError()
    {
        ClientConfig wrong = server->config();
        wrong.token = QStringLiteral("not-the-token");
        client->setConfig(wrong);
        auto c = await(client->experiments());
        VERIFY_ERROR(c, Kind::Authentication, 403);
        QCOMPARE(c->error().message, QStringLiteral("wrong email or API token"));
        QCOMPARE(server->count("POST", "/token/"), 1);
        QCOMPARE(server->count("GET", "/experiments/"), 0);

        client->setConfig(server->config());
        server->script("GET", "/experiments/", F::Respond, 1, 403, R"({"error": "not yours"})");
        c = await(client->experiments());
        VERIFY_ERROR(c, Kind::Authentication, 403);
        QCOMPARE(c->error().message, QStringLiteral("not yours"));
        QCOMPARE(server->count("GET", "/experiments/"), 1);
    }

    void connectionRefusedIsNetworkErrorAfterMaxAttempts()
    {
        makeExperiment(QStringLiteral("e")); // logged in: the next call needs no login
        RetryPolicy p = fastPolicy();
        p.maxAttempts = 3;
        client->setRetryPolicy(p);
        server->close();
        auto c = await(client->experiment(QStringLiteral("e")));
        VERIFY_ERROR(c, Kind::Network, 0);
        QCOMPARE(c->attempts(), 3);
        QVERIFY(!c->error().message.isEmpty());
    }

    void connectionRefusedDuringLogin()
    {
        server->close();
        auto c = await(client->experiments());
        VERIFY_ERROR(c, Kind::Network, 0);
        QCOMPARE(c->attempts(), 0); // its login failed: the request itself was never sent
    }

    void noServerConfigured()
    {
        Client unconfigured;
        auto c = await(unconfigured.experiments());
        VERIFY_ERROR(c, Kind::Network, 0);
        QCOMPARE(c->error().message, QStringLiteral("no server configured"));
        auto walk = await(unconfigured.allJobs(QStringLiteral("e")));
        VERIFY_ERROR(walk, Kind::Network, 0);
    }

    void abortWhileInFlight()
    {
        makeExperiment(QStringLiteral("e"));
        server->script("GET", "/experiments/e/", F::NeverAnswer);
        QSignalSpy received(server.get(), &FaultServer::requestReceived);
        Call<Experiment> *c = client->experiment(QStringLiteral("e"));
        QSignalSpy finished(c, &CallBase::finished);
        QVERIFY(received.wait(10000)); // the request reached the server
        QCOMPARE(finished.count(), 0);
        c->abort();
        QCOMPARE(finished.count(), 1);
        QCOMPARE(c->error().kind, Kind::Aborted);
        QVERIFY(!c->ok());
        QPointer<CallBase> guard(c);
        // Another call completes normally, and the aborted call deletes itself.
        auto next = await(client->experiment(QStringLiteral("e")));
        VERIFY_OK(next);
        QVERIFY(guard.isNull());
        QCOMPARE(server->count("GET", "/experiments/e/"), 2);
    }

    void abortWhileWaitingForLogin()
    {
        server->script("POST", "/token/", F::NeverAnswer, 1);
        QSignalSpy received(server.get(), &FaultServer::requestReceived);
        auto c = std::unique_ptr<Call<ExperimentPage>>(client->experiments());
        c->setAutoDelete(false);
        QVERIFY(received.wait(10000));
        c->abort();
        QCOMPARE(c->error().kind, Kind::Aborted);
        QCOMPARE(server->count("GET", "/experiments/"), 0);
    }

    void destroyingTheClientAbortsItsCalls()
    {
        makeExperiment(QStringLiteral("e"));
        server->script("GET", "/experiments/e/", F::NeverAnswer);
        QSignalSpy received(server.get(), &FaultServer::requestReceived);
        Call<Experiment> *c = client->experiment(QStringLiteral("e"));
        QSignalSpy finished(c, &CallBase::finished);
        ClientError seen;
        connect(c, &CallBase::finished, this, [c, &seen] { seen = c->error(); });
        QVERIFY(received.wait(10000));
        client.reset();
        QCOMPARE(finished.count(), 1);
        QCOMPARE(seen.kind, Kind::Aborted);
    }

    void jobFetcherResetAbortsThePageInFlight()
    {
        makeExperiment(QStringLiteral("e"));
        QVERIFY(await(client->addJob(QStringLiteral("e"), job(1)))->ok());
        server->script("GET", "/experiments/e/jobs/", F::Hold);
        QSignalSpy received(server.get(), &FaultServer::requestReceived);
        JobFetcher fetcher(client.get(), QStringLiteral("e"));
        QList<QList<Job>> pages;
        connect(&fetcher, &JobFetcher::pageFetched, this,
                [&](const QList<Job> &page, bool) { pages.append(page); });
        QSignalSpy fetched(&fetcher, &JobFetcher::pageFetched);
        QSignalSpy failed(&fetcher, &JobFetcher::failed);
        fetcher.fetchMore();
        QVERIFY(received.wait(10000)); // the first page is on the server
        QVERIFY(fetcher.isFetching());
        fetcher.reset(JobListQuery{});
        QVERIFY(!fetcher.isFetching());
        QVERIFY(await(client->addJob(QStringLiteral("e"), job(2)))->ok());
        fetcher.fetchMore();
        QVERIFY(fetched.wait(10000));
        server->releaseHeld(); // the stale page would arrive now, on a closed connection
        QVERIFY(await(client->experiment(QStringLiteral("e")))->ok());
        QCOMPARE(pages.size(), 1);
        QCOMPARE(pages.first().size(), 2); // the page asked for after the reset
        QCOMPARE(failed.count(), 0);
        QVERIFY(!fetcher.canFetchMore());
    }

    void jobFetcherReadsOnePageAhead()
    {
        makeExperiment(QStringLiteral("e"));
        addJobs(QStringLiteral("e"), 5);
        PagedFetch f(client.get());
        f.fetcher.fetchMore();
        QVERIFY(f.fetched.wait(10000));
        // Page 2 was asked for while page 1 was being used; nothing further.
        awaitReadAheadOfPage2();
        QCOMPARE(server->count("GET", "/experiments/e/jobs/"), 2);
        QCOMPARE(f.fetched.count(), 1); // kept, not delivered unasked
        QVERIFY(!f.fetcher.isFetching());

        f.fetcher.fetchMore();
        QVERIFY(f.fetcher.isFetching());
        QCOMPARE(f.fetched.count(), 1); // from the event loop, not inside fetchMore()
        QVERIFY(f.fetched.wait(10000));
        f.fetcher.fetchMore();
        QVERIFY(f.fetched.wait(10000));
        QCOMPARE(idsOf(f.jobs), (QStringList{QStringLiteral("J1"), QStringLiteral("J2"), QStringLiteral("J3"),
                                             QStringLiteral("J4"), QStringLiteral("J5")}));
        QCOMPARE(f.ends, (QList<bool>{false, false, true}));
        QVERIFY(!f.fetcher.canFetchMore());
        QVERIFY(await(client->experiment(QStringLiteral("e")))->ok());
        QCOMPARE(server->count("GET", "/experiments/e/jobs/"), 3); // each page once
    }

    void jobFetcherAsksAgainForAPageReadAheadTooLongAgo()
    {
        makeExperiment(QStringLiteral("e"));
        addJobs(QStringLiteral("e"), 3);
        PagedFetch f(client.get());
        f.fetcher.setReadAhead(true, 0); // any page read ahead is too old when it is wanted
        f.fetcher.fetchMore();
        QVERIFY(f.fetched.wait(10000));
        awaitReadAheadOfPage2();
        // J3 changes after page 2 was read ahead.
        JobWrite done = job(2);
        done.status = JobStatus::Done;
        QVERIFY(await(client->putJob(QStringLiteral("e"), QStringLiteral("J3"), done,
                                     WriteCondition::Unconditional))
                    ->ok());
        f.fetcher.fetchMore();
        QVERIFY(f.fetched.wait(10000));
        QCOMPARE(server->count("GET", "jobs/?start=2"), 2);
        QCOMPARE(idsOf(f.jobs),
                 (QStringList{QStringLiteral("J1"), QStringLiteral("J2"), QStringLiteral("J3")}));
        QCOMPARE(int(f.jobs.last().status), int(JobStatus::Done));
    }

    void jobFetcherReportsAFailedPageOnlyWhenAskedFor()
    {
        makeExperiment(QStringLiteral("e"));
        addJobs(QStringLiteral("e"), 3);
        server->script("GET", "jobs/?start=2", F::Respond, 1, 404, R"({"error": "gone for a moment"})");
        PagedFetch f(client.get());
        f.fetcher.fetchMore();
        QVERIFY(f.fetched.wait(10000));
        awaitReadAheadOfPage2();
        QCOMPARE(f.failed.count(), 0); // nobody asked for page 2 yet
        // Asked for, the page that failed in the background is asked for again.
        f.fetcher.fetchMore();
        QVERIFY(f.fetched.wait(10000));
        QCOMPARE(f.failed.count(), 0);
        QCOMPARE(f.jobs.size(), 3);
        QCOMPARE(server->count("GET", "jobs/?start=2"), 2);
    }

    void jobFetcherWithoutReadAheadAsksOnlyWhenAsked()
    {
        makeExperiment(QStringLiteral("e"));
        addJobs(QStringLiteral("e"), 5);
        PagedFetch f(client.get());
        f.fetcher.setReadAhead(false);
        f.fetcher.fetchMore();
        QVERIFY(f.fetched.wait(10000));
        QVERIFY(await(client->experiment(QStringLiteral("e")))->ok());
        QCOMPARE(server->count("GET", "/experiments/e/jobs/"), 1);
    }

    void allJobsWalksEveryPageOnce()
    {
        makeExperiment(QStringLiteral("e"));
        addJobs(QStringLiteral("e"), 5);
        JobListQuery q;
        q.limit = 2;
        auto all = await(client->allJobs(QStringLiteral("e"), q));
        VERIFY_OK(all);
        QStringList ids;
        for (const Job &j : all->value().items)
            ids << j.id;
        QCOMPARE(ids, (QStringList{QStringLiteral("J1"), QStringLiteral("J2"), QStringLiteral("J3"),
                                   QStringLiteral("J4"), QStringLiteral("J5")}));
        QCOMPARE(all->value().total, std::optional<qint64>(5));
        QCOMPARE(server->count("GET", "/experiments/e/jobs/"), 3); // nothing asked twice or in vain

        // Starting from a cursor walks the rest.
        q.start = QStringLiteral("3");
        all = await(client->allJobs(QStringLiteral("e"), q));
        VERIFY_OK(all);
        QCOMPARE(all->value().items.size(), 2);
        QCOMPARE(all->value().items.first().id, QStringLiteral("J4"));
    }

    void allJobsWithNextBeforeItems()
    {
        // The next page cannot be asked for early: the walk still gets everything, page by page.
        server->setNextFirst(true);
        makeExperiment(QStringLiteral("e"));
        addJobs(QStringLiteral("e"), 5);
        JobListQuery q;
        q.limit = 2;
        auto all = await(client->allJobs(QStringLiteral("e"), q));
        VERIFY_OK(all);
        QCOMPARE(all->value().items.size(), 5);
        QCOMPARE(all->value().items.last().id, QStringLiteral("J5"));
        QCOMPARE(server->count("GET", "/experiments/e/jobs/"), 3);
    }

    void allJobsRetriesAPage()
    {
        makeExperiment(QStringLiteral("e"));
        addJobs(QStringLiteral("e"), 5);
        server->script("GET", "jobs/?start=2", F::Respond, 2, 503, R"({"error": "busy"})");
        JobListQuery q;
        q.limit = 2;
        auto all = await(client->allJobs(QStringLiteral("e"), q));
        VERIFY_OK(all);
        QCOMPARE(all->value().items.size(), 5);
        QCOMPARE(server->count("GET", "/experiments/e/jobs/"), 5); // page 2 three times
    }

    void allJobsFailsWithThePagesError()
    {
        makeExperiment(QStringLiteral("e"));
        addJobs(QStringLiteral("e"), 5);
        server->script("GET", "jobs/?start=2", F::Respond, 1, 404, R"({"error": "no experiment named 'e'"})");
        JobListQuery q;
        q.limit = 2;
        auto all = await(client->allJobs(QStringLiteral("e"), q));
        VERIFY_ERROR(all, Kind::ClientRequest, 404);
        QCOMPARE(all->error().message, QStringLiteral("no experiment named 'e'"));
        QVERIFY(all->value().items.isEmpty() || all->value().items.size() == 2);
        QCOMPARE(server->count("GET", "/experiments/e/jobs/"), 2); // no third page
    }

    void allJobsStopsWhenAPageIsMalformed()
    {
        makeExperiment(QStringLiteral("e"));
        addJobs(QStringLiteral("e"), 5);
        // A body whose end names a next page, but whose items are not jobs.
        server->script("GET", "/jobs/", F::Malformed, 1, 0, R"({"items": [{"id": 1}], "next": "2"})");
        JobListQuery q;
        q.limit = 2;
        auto all = await(client->allJobs(QStringLiteral("e"), q));
        VERIFY_ERROR(all, Kind::UnhandledResponse, 200);
        // Let the page asked for early come back (or not): nothing more happens.
        QVERIFY(await(client->experiment(QStringLiteral("e")))->ok());
        QVERIFY(server->count("GET", "/experiments/e/jobs/") <= 2);
    }

    void allJobsAbortMidWalk()
    {
        makeExperiment(QStringLiteral("e"));
        addJobs(QStringLiteral("e"), 5);
        server->script("GET", "jobs/?start=2", F::Hold);
        QSignalSpy received(server.get(), &FaultServer::requestReceived);
        JobListQuery q;
        q.limit = 2;
        Call<JobPage> *all = client->allJobs(QStringLiteral("e"), q);
        QSignalSpy finished(all, &CallBase::finished);
        while (server->count("GET", "jobs/?start=2") == 0)
            QVERIFY(received.wait(10000));
        all->abort();
        QCOMPARE(finished.count(), 1);
        QCOMPARE(all->error().kind, Kind::Aborted);
        server->releaseHeld();
        QVERIFY(await(client->experiment(QStringLiteral("e")))->ok());
        QCOMPARE(finished.count(), 1);
        QCOMPARE(server->count("GET", "/experiments/e/jobs/"), 2); // page 3 never asked for
    }

    void workerAsksAgainAfterLosingTheClaim()
    {
        makeExperiment(QStringLiteral("w"));
        QVERIFY(await(client->addJob(QStringLiteral("w"), job(3)))->ok());
        // Another worker claims J1 between our nextjob/ and our PUT.
        server->script("PUT", "/jobs/J1/", F::Respond, 1, 412, R"({"error": "job 'J1' was changed"})");
        Worker worker(client.get(), QStringLiteral("w"));
        int runs = 0;
        QVERIFY(worker.runNext([&](WorkerJob &j) {
            ++runs;
            QCOMPARE(j.id(), QStringLiteral("J1"));
            j.setResult(QStringLiteral("loss"), 0.5);
        }));
        QCOMPARE(runs, 1);
        QCOMPARE(server->count("GET", "/nextjob/"), 2);
        QCOMPARE(server->count("PUT", "/jobs/J1/"), 3); // lost claim, claim, DONE
        auto done = await(client->job(QStringLiteral("w"), QStringLiteral("J1")));
        VERIFY_OK(done);
        QCOMPARE(toString(done->value().status), toString(JobStatus::Done));
        QCOMPARE(done->value().results.value(QStringLiteral("loss")).toDouble(), 0.5);
        QVERIFY(!worker.runNext([&](WorkerJob &) { ++runs; }));
        QCOMPARE(worker.lastError().kind, Kind::NoJob);
        QCOMPARE(runs, 1);
    }

    void workerReportsCrashWhenTheBodyThrows()
    {
        makeExperiment(QStringLiteral("w"));
        QVERIFY(await(client->addJob(QStringLiteral("w"), job(3)))->ok());
        Worker worker(client.get(), QStringLiteral("w"));
        bool thrown = false;
        try {
            worker.runNext([](WorkerJob &j) {
                j.setResult(QStringLiteral("epoch"), 1);
                throw std::runtime_error("diverged");
            });
        } catch (const std::runtime_error &e) {
            thrown = QByteArray(e.what()) == "diverged";
        }
        QVERIFY(thrown);
        auto crashed = await(client->job(QStringLiteral("w"), QStringLiteral("J1")));
        VERIFY_OK(crashed);
        QCOMPARE(toString(crashed->value().status), toString(JobStatus::Crashed));
        QCOMPARE(crashed->value().results.value(QStringLiteral("epoch")).toInteger(), 1);
    }

    void workerReportSurvivesA503()
    {
        makeExperiment(QStringLiteral("w"));
        QVERIFY(await(client->addJob(QStringLiteral("w"), job(3)))->ok());
        Worker worker(client.get(), QStringLiteral("w"));
        QVERIFY(worker.runNext([&](WorkerJob &j) {
            server->script("PUT", "/jobs/J1/", F::Respond, 2, 503, R"({"error": "busy"})");
            j.setResult(QStringLiteral("loss"), QCborArray{0.9});
            QVERIFY(j.report());
        }));
        auto done = await(client->job(QStringLiteral("w"), QStringLiteral("J1")));
        QCOMPARE(toString(done->value().status), toString(JobStatus::Done));
        QCOMPARE(server->count("PUT", "/jobs/J1/"), 5); // claim, 503, 503, report, DONE
    }
};

QTEST_GUILESS_MAIN(TestFaults)
#include "tst_faults.moc"
