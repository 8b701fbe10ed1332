#include "BlockingClient.h"
#include "Client.h"
#include "ClientTestSupport.h"
#include "JobFetcher.h"
#include "TestServer.h"
#include "Worker.h"

#include <QSet>
#include <QSignalSpy>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

using namespace schedy;
using namespace schedy::test;

namespace {

using Kind = ClientError::Kind;

template <typename T> std::unique_ptr<Call<T>> await(Call<T> *call, int timeoutMs = 30000)
{
    return awaitCall(call, timeoutMs);
}

RetryPolicy fastPolicy()
{
    return quickRetries(3, 30000);
}

Experiment manual(const QString &name, ExperimentStatus status = ExperimentStatus::Running)
{
    Experiment e;
    e.name = name;
    e.status = status;
    return e;
}

Experiment randomSearch(const QString &name)
{
    Experiment e;
    e.name = name;
    e.scheduler.kind = Scheduler::Kind::RandomSearch;
    e.scheduler.distributions = {{QStringLiteral("x"), Distribution::uniform(-5.0, 5.0)},
                                 {QStringLiteral("layers"), Distribution::choice(QCborArray{1, 2, 3})}};
    return e;
}

JobWrite jobWrite(const QCborMap &hp, JobStatus status = JobStatus::Queued, const QCborMap &results = {})
{
    JobWrite w;
    w.status = status;
    w.hyperparameters = hp;
    w.results = results;
    return w;
}

} // namespace

// Errors of the real server always come with a message.
#define VERIFY_ERROR(call, k, status)                                                                        \
    do {                                                                                                     \
        VERIFY_FAILED(call, k, status);                                                                      \
        QVERIFY(!(call)->error().message.isEmpty());                                                         \
    } while (false)

class TestClient : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> server;
    ClientConfig config;
    std::unique_ptr<Client> client;
    int userCount = 0;

    // Creates jobs one after the other (so that their order is known); returns them.
    QList<Job> addJobs(const QString &experiment, int n, const std::function<JobWrite(int)> &make)
    {
        BlockingClient blocking(client.get());
        QList<Job> jobs;
        for (int i = 0; i < n; ++i) {
            auto j = blocking.addJob(experiment, make(i));
            if (!j) {
                qWarning("addJob: %s", qPrintable(blocking.lastError().toString()));
                return {};
            }
            jobs.append(*j);
        }
        return jobs;
    }

private slots:
    void init()
    {
        server = std::make_unique<TestServer>();
        QVERIFY(server->start());
        config = server->addUser(QStringLiteral("user%1@example.com").arg(++userCount),
                                 QStringLiteral("s3cret pw"));
        client = std::make_unique<Client>(config);
        client->setRetryPolicy(fastPolicy());
    }

    void cleanup()
    {
        client.reset();
        server.reset();
    }

    void experimentsCrud()
    {
        const QString name = QStringLiteral("a/b c?#%+&é 😀");
        auto created = await(client->createExperiment(randomSearch(name)));
        VERIFY_OK(created);
        QCOMPARE(created->httpStatus(), 201);
        QCOMPARE(created->value().name, name);
        QCOMPARE(created->value().scheduler, randomSearch(name).scheduler);

        auto exists = await(client->createExperiment(manual(name)));
        VERIFY_ERROR(exists, Kind::ResourceExists, 412);

        auto got = await(client->experiment(name));
        VERIFY_OK(got);
        QCOMPARE(got->value().name, name);
        QCOMPARE(toString(got->value().status), toString(ExperimentStatus::Running));
        QCOMPARE(toString(got->value().scheduler.kind), toString(Scheduler::Kind::RandomSearch));
        QVERIFY(got->value().createdAt.has_value());

        auto updated = await(client->updateExperiment(manual(name, ExperimentStatus::Done)));
        VERIFY_OK(updated);
        QCOMPARE(updated->httpStatus(), 200);
        QCOMPARE(toString(updated->value().status), toString(ExperimentStatus::Done));
        got = await(client->experiment(name));
        QCOMPARE(toString(got->value().status), toString(ExperimentStatus::Done));
        QCOMPARE(toString(got->value().scheduler.kind), toString(Scheduler::Kind::Manual));

        // The unconditional PUT also creates.
        auto upserted = await(client->updateExperiment(manual(QStringLiteral("second"))));
        VERIFY_OK(upserted);
        QCOMPARE(upserted->httpStatus(), 201);
        QVERIFY(await(client->createExperiment(manual(QStringLiteral("third"))))->ok());

        // Paging through the listing.
        auto page1 = await(client->experiments({}, 2));
        VERIFY_OK(page1);
        QCOMPARE(page1->value().items.size(), 2);
        QVERIFY(!page1->value().next.isEmpty());
        auto page2 = await(client->experiments(page1->value().next, 2));
        VERIFY_OK(page2);
        QCOMPARE(page2->value().items.size(), 1);
        QVERIFY(page2->value().next.isEmpty());
        QSet<QString> names;
        for (const auto &e : page1->value().items + page2->value().items)
            names.insert(e.name);
        QCOMPARE(names, (QSet<QString>{name, QStringLiteral("second"), QStringLiteral("third")}));
        BlockingClient blocking(client.get());
        auto all = blocking.allExperiments();
        QVERIFY(all);
        QCOMPARE(all->size(), 3);

        auto deleted = await(client->deleteExperiment(name));
        VERIFY_OK(deleted);
        QCOMPARE(deleted->httpStatus(), 204);
        auto missing = await(client->experiment(name));
        VERIFY_ERROR(missing, Kind::ClientRequest, 404);
        QVERIFY(missing->error().message.contains(QLatin1String("no experiment")));
        auto again = await(client->deleteExperiment(name, true));
        VERIFY_ERROR(again, Kind::UnsafeUpdate, 412);
        auto lenient = await(client->deleteExperiment(name, false));
        VERIFY_OK(lenient);
    }

    void experimentCarriesJobCounts()
    {
        const QString name = QStringLiteral("counts");
        QVERIFY(await(client->createExperiment(manual(name)))->ok());
        QCOMPARE(
            addJobs(name, 3, [](int i) { return jobWrite({}, i == 0 ? JobStatus::Done : JobStatus::Queued); })
                .size(),
            3);
        auto got = await(client->experiment(name));
        VERIFY_OK(got);
        QVERIFY(got->value().jobCounts.has_value());
        QCOMPARE((*got->value().jobCounts)[JobStatus::Queued], 2);
        QCOMPARE((*got->value().jobCounts)[JobStatus::Done], 1);
        QCOMPARE(got->value().jobCounts->total(), 3);
    }

    void jobsCrud()
    {
        const QString exp = QStringLiteral("jobs/crud");
        QVERIFY(await(client->createExperiment(manual(exp)))->ok());
        const QCborMap hp{{QStringLiteral("n"), 3},
                          {QStringLiteral("lr"), 1.0},
                          {QStringLiteral("act"), QStringLiteral("relu")},
                          {QStringLiteral("sizes"), QCborArray{1, 2.5}}};
        auto added = await(client->addJob(exp, jobWrite(hp)));
        VERIFY_OK(added);
        QCOMPARE(added->httpStatus(), 201);
        const Job job = added->value();
        QVERIFY(!job.id.isEmpty());
        QVERIFY(!job.etag.isEmpty());
        QCOMPARE(job.experiment, exp);
        QCOMPARE(toString(job.status), toString(JobStatus::Queued));
        QVERIFY(job.hyperparameters.value(QStringLiteral("n")).isInteger());
        QVERIFY(job.hyperparameters.value(QStringLiteral("lr")).isDouble());
        QCOMPARE(job.hyperparameters, hp);

        auto got = await(client->job(exp, job.id));
        VERIFY_OK(got);
        QCOMPARE(got->value().etag, job.etag);
        QCOMPARE(got->value().hyperparameters, hp);

        // If-Match with the current ETag.
        const QCborMap results{{QStringLiteral("loss"), QCborArray{0.9, 0.5}}};
        auto claimed = await(client->putJob(exp, job.id, jobWrite(hp, JobStatus::Running, results),
                                            WriteCondition::IfMatch, job.etag));
        VERIFY_OK(claimed);
        QCOMPARE(claimed->httpStatus(), 200);
        QCOMPARE(toString(claimed->value().status), toString(JobStatus::Running));
        QCOMPARE(claimed->value().results, results);
        QVERIFY(claimed->value().etag != job.etag);

        // A stale ETag, and no ETag at all, are unsafe updates.
        auto stale = await(
            client->putJob(exp, job.id, jobWrite(hp, JobStatus::Done), WriteCondition::IfMatch, job.etag));
        VERIFY_ERROR(stale, Kind::UnsafeUpdate, 412);
        auto noEtag =
            await(client->putJob(exp, job.id, jobWrite(hp, JobStatus::Done), WriteCondition::IfMatch, {}));
        VERIFY_ERROR(noEtag, Kind::UnsafeUpdate, 412);
        got = await(client->job(exp, job.id));
        QCOMPARE(toString(got->value().status), toString(JobStatus::Running)); // neither was applied

        // Create-only: refused for an existing id, creates a chosen id.
        auto dup = await(client->putJob(exp, job.id, jobWrite(hp), WriteCondition::CreateOnly));
        VERIFY_ERROR(dup, Kind::ResourceExists, 412);
        // Spaces, non-ASCII and URL delimiters are percent-encoded in the path and come back whole.
        const QString chosen = QStringLiteral("my job 1 é?#%");
        auto mine =
            await(client->putJob(exp, chosen, jobWrite(hp, JobStatus::Pruned), WriteCondition::CreateOnly));
        VERIFY_OK(mine);
        QCOMPARE(mine->httpStatus(), 201);
        QCOMPARE(mine->value().id, chosen);
        QCOMPARE(toString(mine->value().status), toString(JobStatus::Pruned));
        // An id the server would never generate, not safe as a file name, is refused clearly.
        auto slash =
            await(client->putJob(exp, QStringLiteral("a/b"), jobWrite(hp), WriteCondition::CreateOnly));
        VERIFY_ERROR(slash, Kind::ClientRequest, 400);

        // Unconditional: replaces the whole job (missing results mean empty), or creates.
        auto replaced =
            await(client->putJob(exp, job.id, jobWrite({}, JobStatus::Done), WriteCondition::Unconditional));
        VERIFY_OK(replaced);
        QCOMPARE(toString(replaced->value().status), toString(JobStatus::Done));
        QVERIFY(replaced->value().results.isEmpty());
        QVERIFY(replaced->value().hyperparameters.isEmpty());
        auto fresh =
            await(client->putJob(exp, QStringLiteral("free"), jobWrite(hp), WriteCondition::Unconditional));
        VERIFY_OK(fresh);
        QCOMPARE(fresh->httpStatus(), 201);

        // Deletion.
        auto deleted = await(client->deleteJob(exp, chosen));
        VERIFY_OK(deleted);
        auto missing = await(client->job(exp, chosen));
        VERIFY_ERROR(missing, Kind::ClientRequest, 404);
        auto again = await(client->deleteJob(exp, chosen, true));
        VERIFY_ERROR(again, Kind::UnsafeUpdate, 412);
        auto lenient = await(client->deleteJob(exp, chosen, false));
        VERIFY_OK(lenient);
        auto noExperiment = await(client->addJob(QStringLiteral("nope"), jobWrite(hp)));
        VERIFY_ERROR(noExperiment, Kind::ClientRequest, 404);
    }

    void nextJobManual()
    {
        const QString exp = QStringLiteral("next");
        QVERIFY(await(client->createExperiment(manual(exp)))->ok());
        auto none = await(client->nextJob(exp));
        VERIFY_ERROR(none, Kind::NoJob, 204);

        const QList<Job> jobs = addJobs(exp, 2, [](int i) { return jobWrite({{QStringLiteral("i"), i}}); });
        QCOMPARE(jobs.size(), 2);
        QStringList claimed;
        for (int i = 0; i < 2; ++i) {
            auto next = await(client->nextJob(exp));
            VERIFY_OK(next);
            QCOMPARE(toString(next->value().status), toString(JobStatus::Queued));
            QVERIFY(!next->value().etag.isEmpty());
            auto claim = await(client->putJob(exp, next->value().id,
                                              jobWrite(next->value().hyperparameters, JobStatus::Running),
                                              WriteCondition::IfMatch, next->value().etag));
            VERIFY_OK(claim);
            claimed << next->value().id;
        }
        QCOMPARE(claimed, idsOf(jobs)); // oldest first
        none = await(client->nextJob(exp));
        VERIFY_ERROR(none, Kind::NoJob, 204);

        auto missing = await(client->nextJob(QStringLiteral("missing")));
        VERIFY_ERROR(missing, Kind::ClientRequest, 404);
    }

    void nextJobRandomSearchSamples()
    {
        const QString exp = QStringLiteral("random");
        QVERIFY(await(client->createExperiment(randomSearch(exp)))->ok());
        auto next = await(client->nextJob(exp));
        VERIFY_OK(next);
        const double x = next->value().hyperparameters.value(QStringLiteral("x")).toDouble(100);
        QVERIFY(x >= -5.0 && x < 5.0);
        QVERIFY(next->value().hyperparameters.value(QStringLiteral("layers")).isInteger());
    }

    void listingFiltersSortAndTotal()
    {
        const QString exp = QStringLiteral("listing");
        QVERIFY(await(client->createExperiment(manual(exp)))->ok());
        const QList<Job> jobs = addJobs(exp, 30, [](int i) {
            const JobStatus s = i % 3 == 0   ? JobStatus::Done
                                : i % 3 == 1 ? JobStatus::Queued
                                             : JobStatus::Crashed;
            return jobWrite({{QStringLiteral("x"), i}}, s, {{QStringLiteral("loss"), 100.0 - i}});
        });
        QCOMPARE(jobs.size(), 30);

        // Paging with the total on the first page.
        JobListQuery q;
        q.limit = 10;
        auto first = await(client->jobs(exp, q));
        VERIFY_OK(first);
        QCOMPARE(first->value().items.size(), 10);
        QCOMPARE(first->value().total, std::optional<qint64>(30));
        QVERIFY(!first->value().next.isEmpty());
        QCOMPARE(idsOf(first->value().items), idsOf(jobs.mid(0, 10)));
        q.start = first->value().next;
        auto second = await(client->jobs(exp, q));
        VERIFY_OK(second);
        QCOMPARE(idsOf(second->value().items), idsOf(jobs.mid(10, 10)));

        BlockingClient blocking(client.get());
        JobListQuery all;
        all.limit = 7;
        auto everything = blocking.allJobs(exp, all);
        QVERIFY(everything);
        QCOMPARE(idsOf(*everything), idsOf(jobs));

        // Status filter.
        JobListQuery done;
        done.statuses = {JobStatus::Done, JobStatus::Crashed};
        auto filtered = await(client->jobs(exp, done));
        VERIFY_OK(filtered);
        QCOMPARE(filtered->value().items.size(), 20);
        QCOMPARE(filtered->value().total, std::optional<qint64>(20));
        for (const Job &j : filtered->value().items)
            QVERIFY(j.status == JobStatus::Done || j.status == JobStatus::Crashed);

        // Sort on a hyperparameter, descending, across pages.
        JobListQuery sorted;
        sorted.sort = QStringLiteral("hyperparameters.x");
        sorted.descending = true;
        sorted.limit = 8;
        auto bySort = blocking.allJobs(exp, sorted);
        QVERIFY2(bySort, qPrintable(blocking.lastError().toString()));
        QCOMPARE(bySort->size(), 30);
        for (int i = 0; i < 30; ++i)
            QCOMPARE(bySort->at(i).hyperparameters.value(QStringLiteral("x")).toInteger(), 29 - i);

        JobListQuery byResult;
        byResult.sort = QStringLiteral("results.loss");
        byResult.statuses = {JobStatus::Done};
        auto byLoss = blocking.allJobs(exp, byResult);
        QVERIFY(byLoss);
        QCOMPARE(byLoss->size(), 10);
        for (int i = 1; i < byLoss->size(); ++i) {
            QVERIFY(byLoss->at(i - 1).results.value(QStringLiteral("loss")).toDouble() <
                    byLoss->at(i).results.value(QStringLiteral("loss")).toDouble());
        }

        JobListQuery byId;
        byId.sort = QStringLiteral("id");
        byId.limit = 11;
        auto ids = blocking.allJobs(exp, byId);
        QVERIFY(ids);
        QStringList expected = idsOf(jobs);
        std::sort(expected.begin(), expected.end());
        QCOMPARE(idsOf(*ids), expected);

        // Id filter.
        JobListQuery idq;
        idq.idContains = jobs[5].id;
        auto one = await(client->jobs(exp, idq));
        VERIFY_OK(one);
        QCOMPARE(idsOf(one->value().items), QStringList{jobs[5].id});

        // A bad sort is a client request error with the server's reason.
        JobListQuery bad;
        bad.sort = QStringLiteral("colour");
        auto refused = await(client->jobs(exp, bad));
        VERIFY_ERROR(refused, Kind::ClientRequest, 400);
        QVERIFY(refused->error().message.startsWith(QLatin1String("sort:")));
    }

    void allJobsMatchesPageByPageListing()
    {
        const QString exp = QStringLiteral("all");
        QVERIFY(await(client->createExperiment(manual(exp)))->ok());
        const QList<Job> jobs = addJobs(exp, 250, [](int i) {
            return jobWrite({{QStringLiteral("x"), (i * 37) % 250}},
                            i % 4 ? JobStatus::Done : JobStatus::Queued);
        });
        QCOMPARE(jobs.size(), 250);
        for (const QString &sort : {QString(), QStringLiteral("hyperparameters.x"), QStringLiteral("id")}) {
            JobListQuery q;
            q.limit = 40;
            q.sort = sort;
            q.descending = !sort.isEmpty();
            q.statuses = {JobStatus::Done};
            // Page by page, as a fetcher does.
            QList<Job> paged;
            for (JobListQuery p = q;;) {
                auto page = await(client->jobs(exp, p));
                VERIFY_OK(page);
                paged.append(page->value().items);
                if (page->value().next.isEmpty())
                    break;
                p.start = page->value().next;
            }
            auto all = await(client->allJobs(exp, q));
            VERIFY_OK(all);
            QCOMPARE(idsOf(all->value().items), idsOf(paged));
            QCOMPARE(all->value().items.size(), 187);
            QCOMPARE(all->value().total, std::optional<qint64>(187));
        }
        // From a cursor: the rest of the listing.
        JobListQuery q;
        q.limit = 100;
        auto first = await(client->jobs(exp, q));
        VERIFY_OK(first);
        q.start = first->value().next;
        auto rest = await(client->allJobs(exp, q));
        VERIFY_OK(rest);
        QCOMPARE(idsOf(rest->value().items), idsOf(jobs.mid(100)));
        // Default page size.
        auto everything = await(client->allJobs(exp));
        VERIFY_OK(everything);
        QCOMPARE(idsOf(everything->value().items), idsOf(jobs));
    }

    void modifiedSinceAndChangesSince()
    {
        const QString exp = QStringLiteral("changes");
        QVERIFY(await(client->createExperiment(manual(exp)))->ok());
        const QList<Job> jobs = addJobs(exp, 12, [](int i) { return jobWrite({{QStringLiteral("x"), i}}); });
        QCOMPARE(jobs.size(), 12);
        QVERIFY(jobs.last().modifiedAt.has_value());

        // Change three jobs; the first change's time is the poll's "since".
        QList<Job> changed;
        for (int i : {7, 2, 9}) {
            auto put =
                await(client->putJob(exp, jobs[i].id, jobWrite(jobs[i].hyperparameters, JobStatus::Running),
                                     WriteCondition::IfMatch, jobs[i].etag));
            VERIFY_OK(put);
            QVERIFY(put->value().modifiedAt.has_value());
            changed.append(put->value());
        }
        const double since = *changed.first().modifiedAt;
        QVERIFY(since > *jobs.last().modifiedAt);

        JobListQuery q;
        q.modifiedSince = since;
        auto page = await(client->jobs(exp, q));
        VERIFY_OK(page);
        QCOMPARE(page->value().total, std::optional<qint64>(3));
        QStringList got = idsOf(page->value().items);
        got.sort();
        QStringList want = idsOf(changed);
        want.sort();
        QCOMPARE(got, want);

        // The poll walks every page (two jobs a page here) and combines the filters.
        JobListQuery filter;
        filter.limit = 2;
        auto poll = await(client->changesSince(exp, since, filter));
        VERIFY_OK(poll);
        got = idsOf(poll->value().items);
        got.sort();
        QCOMPARE(got, want);
        QCOMPARE(poll->value().total, std::optional<qint64>(3));

        filter.statuses = {JobStatus::Queued};
        poll = await(client->changesSince(exp, since, filter));
        VERIFY_OK(poll);
        QVERIFY(poll->value().items.isEmpty());

        poll = await(client->changesSince(exp, *changed.last().modifiedAt + 1.0));
        VERIFY_OK(poll);
        QVERIFY(poll->value().items.isEmpty());

        poll = await(client->changesSince(QStringLiteral("missing"), since));
        VERIFY_ERROR(poll, Kind::ClientRequest, 404);
    }

    void changesSinceAbortStopsTheWalk()
    {
        const QString exp = QStringLiteral("walk");
        QVERIFY(await(client->createExperiment(manual(exp)))->ok());
        QCOMPARE(addJobs(exp, 6, [](int i) { return jobWrite({{QStringLiteral("x"), i}}); }).size(), 6);
        JobListQuery filter;
        filter.limit = 1;
        Call<JobPage> *poll = client->changesSince(exp, 0, filter);
        QSignalSpy finished(poll, &CallBase::finished);
        poll->abort();
        QCOMPARE(finished.count(), 1);
        QCOMPARE(poll->error().kind, Kind::Aborted);
        // The client keeps working and the aborted walk never finishes again.
        auto after = await(client->jobs(exp));
        VERIFY_OK(after);
        QCOMPARE(finished.count(), 1);
    }

    void apiTokenAndPasswordLogins()
    {
        BlockingClient blocking(client.get());
        QSignalSpy authenticated(client.get(), &Client::authenticated);
        QVERIFY(blocking.login());
        QCOMPARE(authenticated.count(), 1);
        QVERIFY(!client->bearer().isEmpty());
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        QVERIFY(client->bearerExpiresAt() > now + 3000 && client->bearerExpiresAt() <= now + 3700);

        ClientConfig password = config;
        password.tokenType = ClientConfig::TokenType::Password;
        password.token = QStringLiteral("s3cret pw");
        Client byPassword(password);
        auto c = await(byPassword.experiments());
        VERIFY_OK(c);

        password.token = QStringLiteral("wrong");
        Client wrong(password);
        c = await(wrong.experiments());
        VERIFY_ERROR(c, Kind::Authentication, 403);

        ClientConfig badToken = config;
        badToken.token = QStringLiteral("nope");
        Client wrongToken(badToken);
        c = await(wrongToken.experiments());
        VERIFY_ERROR(c, Kind::Authentication, 403);
        QVERIFY(wrongToken.bearer().isEmpty());
    }

    void resetTokenReplacesTheApiToken()
    {
        QVERIFY(await(client->createExperiment(manual(QStringLiteral("mine"))))->ok());
        auto reset = await(client->resetToken());
        VERIFY_OK(reset);
        const ClientConfig fresh = reset->value();
        QCOMPARE(fresh.email, config.email);
        QCOMPARE(fresh.root, server->root());
        QCOMPARE(fresh.tokenType, ClientConfig::TokenType::ApiToken);
        QVERIFY(!fresh.token.isEmpty());
        QVERIFY(fresh.token != config.token);

        Client oldToken(config);
        auto refused = await(oldToken.experiments());
        VERIFY_ERROR(refused, Kind::Authentication, 403);
        Client newToken(fresh);
        auto listed = await(newToken.experiments());
        VERIFY_OK(listed);
        QCOMPARE(listed->value().items.size(), 1);
    }

    void generateTokenWithPassword()
    {
        ClientError error;
        auto generated =
            BlockingClient::generateToken(server->root(), config.email, QStringLiteral("s3cret pw"), &error);
        QVERIFY2(generated, qPrintable(error.toString()));
        QCOMPARE(generated->email, config.email);
        QCOMPARE(generated->tokenType, ClientConfig::TokenType::ApiToken);
        QCOMPARE(generated->root, server->root());
        QVERIFY(generated->token != config.token);
        // The new config works, the old API token does not.
        BlockingClient fresh(*generated);
        QVERIFY2(fresh.experiments(), qPrintable(fresh.lastError().toString()));
        BlockingClient old(config);
        QVERIFY(!old.experiments());
        QCOMPARE(old.lastError().kind, Kind::Authentication);

        error = {};
        auto refused =
            BlockingClient::generateToken(server->root(), config.email, QStringLiteral("guess"), &error);
        QVERIFY(!refused);
        QCOMPARE(error.kind, Kind::Authentication);
        QCOMPARE(error.httpStatus, 403);
        QVERIFY(!error.message.isEmpty());
    }

    void abortBeforeSendingAndAfterwards()
    {
        QVERIFY(await(client->createExperiment(manual(QStringLiteral("a"))))->ok());
        Call<Experiment> *c = client->experiment(QStringLiteral("a"));
        QSignalSpy finished(c, &CallBase::finished);
        QPointer<CallBase> guard(c);
        c->abort();
        QCOMPARE(finished.count(), 1);
        QCOMPARE(c->error().kind, Kind::Aborted);
        c->abort(); // twice is harmless
        QCOMPARE(finished.count(), 1);
        auto next = await(client->experiment(QStringLiteral("a")));
        VERIFY_OK(next);
        QVERIFY(guard.isNull()); // auto-deleted
        QCOMPARE(finished.count(), 1);

        // Aborting a finished call changes nothing.
        next->abort();
        QVERIFY(next->ok());
    }

    void abortMidFlightOnAFreshClient()
    {
        // The first call of a fresh client waits for its login; abort it then.
        QVERIFY(await(client->createExperiment(manual(QStringLiteral("a"))))->ok());
        Client fresh(config);
        Call<ExperimentPage> *c = fresh.experiments();
        QSignalSpy finished(c, &CallBase::finished);
        QSignalSpy loggedIn(&fresh, &Client::loginCompleted);
        QVERIFY(loggedIn.wait(10000));
        // The login is done; the call is now on the wire or about to be.
        c->abort();
        QCOMPARE(finished.count(), 1);
        QCOMPARE(c->error().kind, Kind::Aborted);
        auto again = await(fresh.experiments());
        VERIFY_OK(again);
        QCOMPARE(again->value().items.size(), 1);
        QCOMPARE(finished.count(), 1);
    }

    void jobFetcherPagesOnceAndReportsEnd()
    {
        const QString exp = QStringLiteral("fetch");
        QVERIFY(await(client->createExperiment(manual(exp)))->ok());
        const QList<Job> jobs = addJobs(exp, 250, [](int i) { return jobWrite({{QStringLiteral("i"), i}}); });
        QCOMPARE(jobs.size(), 250);

        JobListQuery q;
        q.limit = 100;
        JobFetcher fetcher(client.get(), exp, q);
        QList<Job> all;
        QList<bool> ends;
        QList<qint64> totals;
        int failures = 0;
        connect(&fetcher, &JobFetcher::pageFetched, this, [&](const QList<Job> &page, bool atEnd) {
            all.append(page);
            ends.append(atEnd);
        });
        connect(&fetcher, &JobFetcher::totalChanged, this, [&](qint64 t) { totals.append(t); });
        connect(&fetcher, &JobFetcher::failed, this, [&] { ++failures; });
        QSignalSpy pages(&fetcher, &JobFetcher::pageFetched);
        QCOMPARE(fetcher.total(), -1);
        while (fetcher.canFetchMore()) {
            fetcher.fetchMore();
            fetcher.fetchMore(); // a page is in flight: no second request
            QVERIFY(fetcher.isFetching());
            QVERIFY(pages.wait(30000));
            QVERIFY(!fetcher.isFetching());
        }
        QCOMPARE(pages.count(), 3);
        QCOMPARE(ends, (QList<bool>{false, false, true}));
        QCOMPARE(idsOf(all), idsOf(jobs));
        QCOMPARE(totals, QList<qint64>{250});
        QCOMPARE(fetcher.total(), 250);
        QCOMPARE(failures, 0);
        fetcher.fetchMore(); // at the end: nothing
        QVERIFY(!fetcher.isFetching());

        // Starting over fetches from the first page again.
        fetcher.reset(q);
        QVERIFY(fetcher.canFetchMore());
        fetcher.fetchMore();
        QVERIFY(pages.wait(30000));
        QCOMPARE(idsOf(all.mid(250)), idsOf(jobs.mid(0, 100)));
    }

    void jobFetcherResetDropsThePageInFlight()
    {
        const QString exp = QStringLiteral("reset");
        QVERIFY(await(client->createExperiment(manual(exp)))->ok());
        const QList<Job> jobs = addJobs(exp, 20, [](int i) {
            return jobWrite({{QStringLiteral("i"), i}}, i < 5 ? JobStatus::Done : JobStatus::Queued);
        });
        QCOMPARE(jobs.size(), 20);
        JobListQuery everything;
        everything.limit = 100;
        JobFetcher fetcher(client.get(), exp, everything);
        QList<QList<Job>> pages;
        connect(&fetcher, &JobFetcher::pageFetched, this,
                [&](const QList<Job> &page, bool) { pages.append(page); });
        QSignalSpy spy(&fetcher, &JobFetcher::pageFetched);
        QSignalSpy failed(&fetcher, &JobFetcher::failed);

        fetcher.fetchMore();
        QVERIFY(fetcher.isFetching());
        JobListQuery done;
        done.statuses = {JobStatus::Done};
        fetcher.reset(done);
        QVERIFY(!fetcher.isFetching());
        fetcher.fetchMore();
        QVERIFY(spy.wait(30000));
        // Let anything stale arrive: a later request finishes after it would have.
        QVERIFY(await(client->experiments())->ok());
        QCOMPARE(pages.size(), 1);
        QCOMPARE(idsOf(pages.first()), idsOf(jobs.mid(0, 5)));
        QCOMPARE(failed.count(), 0);
        QCOMPARE(fetcher.total(), 5);
    }

    void experimentFetcherPages()
    {
        for (int i = 0; i < 5; ++i)
            QVERIFY(await(client->createExperiment(manual(QStringLiteral("e%1").arg(i))))->ok());
        ExperimentFetcher fetcher(client.get(), 2);
        QStringList names;
        QList<bool> ends;
        connect(&fetcher, &ExperimentFetcher::pageFetched, this,
                [&](const QList<Experiment> &page, bool atEnd) {
                    for (const Experiment &e : page)
                        names << e.name;
                    ends << atEnd;
                });
        QSignalSpy spy(&fetcher, &ExperimentFetcher::pageFetched);
        while (fetcher.canFetchMore()) {
            fetcher.fetchMore();
            QVERIFY(spy.wait(30000));
        }
        names.sort();
        QCOMPARE(names, (QStringList{QStringLiteral("e0"), QStringLiteral("e1"), QStringLiteral("e2"),
                                     QStringLiteral("e3"), QStringLiteral("e4")}));
        QCOMPARE(ends, (QList<bool>{false, false, true}));
    }

    void workerRunsJobsToDone()
    {
        const QString exp = QStringLiteral("worker");
        QVERIFY(await(client->createExperiment(manual(exp)))->ok());
        const QList<Job> jobs = addJobs(exp, 3, [](int i) {
            return jobWrite({{QStringLiteral("x"), double(i)}});
        });
        QCOMPARE(jobs.size(), 3);
        Worker worker(config, exp);
        worker.client().client().setRetryPolicy(fastPolicy());
        int runs = 0;
        const auto body = [&](WorkerJob &job) {
            ++runs;
            QCOMPARE(toString(job.job().status), toString(JobStatus::Running));
            const double x = job.hyperparameters().value(QStringLiteral("x")).toDouble();
            QCborArray curve;
            for (int epoch = 1; epoch <= 3; ++epoch) {
                curve.append((x - 1.0) * (x - 1.0) + 1.0 / epoch);
                job.setResult(QStringLiteral("loss"), curve);
                QVERIFY(job.report());
            }
            job.setResult(QStringLiteral("final"), (x - 1.0) * (x - 1.0));
        };
        while (worker.runNext(body)) {
        }
        QCOMPARE(worker.lastError().kind, Kind::NoJob);
        QCOMPARE(runs, 3);
        BlockingClient blocking(client.get());
        const auto listed = blocking.allJobs(exp);
        QVERIFY(listed);
        for (const Job &j : *listed) {
            QCOMPARE(toString(j.status), toString(JobStatus::Done));
            QCOMPARE(j.results.value(QStringLiteral("loss")).toArray().size(), 3);
            const double x = j.hyperparameters.value(QStringLiteral("x")).toDouble();
            QCOMPARE(j.results.value(QStringLiteral("final")).toDouble(), (x - 1.0) * (x - 1.0));
        }
    }

    void workerMarksCrashedWhenTheBodyThrows()
    {
        const QString exp = QStringLiteral("crash");
        QVERIFY(await(client->createExperiment(randomSearch(exp)))->ok());
        Worker worker(client.get(), exp);
        QString id;
        bool caught = false;
        try {
            worker.runNext([&](WorkerJob &job) {
                id = job.id();
                job.setResult(QStringLiteral("loss"), QCborArray{3.0});
                QVERIFY(job.report());
                throw std::runtime_error("NaN loss");
            });
        } catch (const std::runtime_error &) {
            caught = true;
        }
        QVERIFY(caught);
        QVERIFY(!id.isEmpty());
        auto crashed = await(client->job(exp, id));
        VERIFY_OK(crashed);
        QCOMPARE(toString(crashed->value().status), toString(JobStatus::Crashed));
        QCOMPARE(crashed->value().results.value(QStringLiteral("loss")).toArray(), QCborArray{3.0});

        // A paused (DONE) experiment hands out nothing.
        QVERIFY(await(client->updateExperiment([&] {
                    Experiment e = randomSearch(exp);
                    e.status = ExperimentStatus::Done;
                    return e;
                }()))
                    ->ok());
        QVERIFY(!worker.runNext([](WorkerJob &) {}));
        QCOMPARE(worker.lastError().kind, Kind::NoJob);
    }
};

QTEST_GUILESS_MAIN(TestClient)
#include "tst_client.moc"
