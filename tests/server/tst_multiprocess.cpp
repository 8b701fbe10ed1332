#include "ClaimWorkers.h"
#include "Json.h"
#include "SqlStore.h"
#include "TestServer.h"

#include <QAtomicInt>
#include <QEventLoop>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSet>
#include <QSqlQuery>
#include <QTimer>
#include <QUrl>
#include <QtTest>

#include <cmath>
#include <memory>

using namespace schedy;
using namespace schedy::test;

// Scale-out on PostgreSQL: three schedy-server processes on one database, 24
// workers spread over them (each worker talks to one process), 1,200 jobs over
// a Manual, a RandomSearch and a PBT experiment at the same time. No job may be
// claimed twice, every reported result must be stored as reported, and the
// PBT population must be exact (P members, each continued once per generation,
// P * G jobs). Also: a bearer from one process works on the others (the
// signing secret is in the database), three processes starting at once on an
// empty database migrate it once, and creations racing on the same name from
// three processes give one 201 and 412s (never a 500).
namespace {

constexpr int Processes = 3;
constexpr int Workers = 24;
constexpr int ManualJobs = 400;
constexpr int RandomJobs = 400;
constexpr int PbtPopulation = 20;
constexpr int PbtGenerations = 20; // 400 jobs

QString expPath(const QString &name)
{
    return QStringLiteral("experiments/") + enc(name) + QLatin1Char('/');
}
QString str(const QCborMap &doc, const char *key)
{
    return doc.value(QString::fromLatin1(key)).toString();
}

// The results a worker reports for a job: one report while RUNNING, then the
// final one with an accuracy that depends on lr.
QList<QCborMap> progressThenDone(int worker, const QCborMap &job)
{
    QCborMap results = job.value(QStringLiteral("results")).toMap();
    results.insert(QStringLiteral("worker"), worker);
    results.insert(QStringLiteral("epoch"), 1);
    const QCborMap progress = results;
    const double lr =
        job.value(QStringLiteral("hyperparameters")).toMap().value(QStringLiteral("lr")).toDouble();
    results.insert(QStringLiteral("epoch"), 2);
    results.insert(QStringLiteral("acc"), 1.0 / (1.0 + std::abs(std::log10(lr > 0 ? lr : 1e-3) + 2.0)) +
                                              double(qHash(str(job, "id")) % 1000) / 1e6);
    results.insert(QStringLiteral("curve"), QCborArray{0.5, 0.25, double(worker) / 7.0});
    return {progress, results};
}

} // namespace

class TestMultiProcess : public QObject
{
    Q_OBJECT

    std::unique_ptr<PostgresDatabase> m_db;
    std::vector<std::unique_ptr<ServerProcess>> m_servers;
    QStringList m_roots;
    ClientConfig m_config;
    QByteArray m_bearer;

    bool startServers(double leaseSeconds, const QStringList &extra = {})
    {
        m_servers.clear();
        m_roots.clear();
        // All at once: on an empty database they race to create the schema.
        for (int i = 0; i < Processes; ++i) {
            auto s = std::make_unique<ServerProcess>(m_db->url());
            s->launch(freePort(), QStringList{QStringLiteral("--quiet"), QStringLiteral("--lease-seconds"),
                                              QString::number(leaseSeconds)} +
                                      extra);
            m_servers.push_back(std::move(s));
        }
        for (auto &s : m_servers) {
            QString error;
            if (!s->waitUntilReady(&error)) {
                qWarning("%s", qPrintable(error));
                return false;
            }
            m_roots << QStringLiteral("http://127.0.0.1:%1/").arg(s->port());
        }
        return true;
    }

    void stopServers()
    {
        for (auto &s : m_servers) {
            const QByteArray out = s->output();
            QVERIFY2(s->stop(), out.constData());
            QVERIFY2(!s->output().contains("database error"), s->output().constData());
        }
        m_servers.clear();
    }

private slots:
    void initTestCase()
    {
        QVERIFY2(testingPostgres(),
                 "tst_multiprocess runs on PostgreSQL only (SCHEDY_TEST_BACKEND=postgresql)");
    }

    void init()
    {
        m_db = std::make_unique<PostgresDatabase>();
        QVERIFY2(m_db->ok(), qPrintable(m_db->error()));
    }

    void cleanup()
    {
        for (auto &s : m_servers)
            s->stop();
        m_servers.clear();
        m_db.reset();
    }

    void tokensAndRaces()
    {
        QVERIFY(startServers(5));
        {
            server::SqlStore store(m_db->url());
            QString error;
            QVERIFY2(store.open(&error), qPrintable(error));
            QCOMPARE(store.schemaVersion(), server::SqlStore::latestSchemaVersion());
            const auto config =
                server::addUser(store, QStringLiteral("mp@example.com"), {}, m_roots[0], &error);
            QVERIFY2(config, qPrintable(error));
            m_config = *config;
        }
        // A bearer from any process is accepted by every process.
        for (int from = 0; from < Processes; ++from) {
            HttpTestClient login(m_roots[from]);
            QVERIFY(login.login(m_config));
            for (int to = 0; to < Processes; ++to) {
                HttpTestClient other(m_roots[to]);
                other.bearer = login.bearer;
                QCOMPARE(other.get(QStringLiteral("experiments/")).status, 200);
            }
        }
        HttpTestClient http(m_roots[0]);
        QVERIFY(http.login(m_config));

        // The same experiment created by three processes at once: one 201, two 412.
        const QByteArray manual = R"({"status": "RUNNING", "scheduler": {"Manual": null}})";
        for (int i = 0; i < 15; ++i) {
            const QString path = expPath(QStringLiteral("race %1").arg(i));
            const QList<Reply> replies =
                sendAtOnce(m_roots, "PUT", path, {manual}, http.bearer, {{"If-None-Match", "*"}});
            QList<int> statuses;
            for (const Reply &r : replies)
                statuses << r.status;
            std::sort(statuses.begin(), statuses.end());
            QCOMPARE(statuses, (QList<int>{201, 412, 412}));
        }
        // The same job id created by three processes at once: one 201, two 412.
        for (int i = 0; i < 15; ++i) {
            const QString path = expPath(QStringLiteral("race 0")) + QStringLiteral("jobs/same-%1/").arg(i);
            const QList<Reply> replies = sendAtOnce(m_roots, "PUT", path, {R"({"status": "QUEUED"})"},
                                                    http.bearer, {{"If-None-Match", "*"}});
            QList<int> statuses;
            for (const Reply &r : replies)
                statuses << r.status;
            std::sort(statuses.begin(), statuses.end());
            QCOMPARE(statuses, (QList<int>{201, 412, 412}));
        }
        // Unconditional creations racing: all succeed, one of them creates.
        for (int i = 0; i < 10; ++i) {
            const QString path = expPath(QStringLiteral("race 0")) + QStringLiteral("jobs/put-%1/").arg(i);
            const QList<Reply> replies =
                sendAtOnce(m_roots, "PUT", path, {R"({"status": "DONE"})"}, http.bearer);
            QList<int> statuses;
            for (const Reply &r : replies)
                statuses << r.status;
            std::sort(statuses.begin(), statuses.end());
            QCOMPARE(statuses, (QList<int>{200, 200, 201}));
        }
        const Reply counts = http.get(expPath(QStringLiteral("race 0")));
        const QCborMap jobCounts = counts.json.toMap().value(QStringLiteral("jobCounts")).toMap();
        QCOMPARE(jobCounts.value(QStringLiteral("QUEUED")).toInteger(), 15);
        QCOMPARE(jobCounts.value(QStringLiteral("DONE")).toInteger(), 10);
        stopServers();
    }

    // Issue 17, finding 10: a token reset through one process revokes the
    // earlier bearers in every process at once (the generation is read from
    // the database on every request, no process caches it), and so does
    // `schedy-server user reset-token` run beside them.
    void tokenResetRevokesInEveryProcess()
    {
        QVERIFY(startServers(5));
        QString error;
        server::SqlStore store(m_db->url());
        QVERIFY2(store.open(&error), qPrintable(error));
        const auto config =
            server::addUser(store, QStringLiteral("reset@example.com"), {}, m_roots[0], &error);
        QVERIFY2(config, qPrintable(error));
        // Bearers from every process, each used once everywhere (any cache would be warm).
        QList<QByteArray> bearers;
        for (int from = 0; from < Processes; ++from) {
            HttpTestClient login(m_roots[from]);
            QVERIFY(login.login(*config));
            bearers << login.bearer;
            for (int to = 0; to < Processes; ++to) {
                HttpTestClient c(m_roots[to]);
                c.bearer = login.bearer;
                QCOMPARE(c.get(QStringLiteral("experiments/")).status, 200);
            }
        }
        HttpTestClient resetter(m_roots[1]);
        resetter.bearer = bearers[0];
        const Reply reset = resetter.post(QStringLiteral("resettoken/"));
        QCOMPARE(reset.status, 200);
        for (const QByteArray &bearer : bearers) {
            for (int to = 0; to < Processes; ++to) {
                HttpTestClient c(m_roots[to]);
                c.bearer = bearer;
                QCOMPARE(c.get(QStringLiteral("experiments/")).status, 401);
                QCOMPARE(c.post(QStringLiteral("resettoken/")).status, 401);
            }
        }
        ClientConfig renewed = *config;
        renewed.token = reset.json.toMap().value(QStringLiteral("token")).toString();
        HttpTestClient fresh(m_roots[2]);
        QVERIFY(fresh.login(renewed));
        for (int to = 0; to < Processes; ++to) {
            HttpTestClient c(m_roots[to]);
            c.bearer = fresh.bearer;
            QCOMPARE(c.get(QStringLiteral("experiments/")).status, 200);
        }
        // The administrator's reset, from another process on the same database.
        const auto admin = server::resetUserToken(store, config->email, m_roots[0], &error);
        QVERIFY2(admin, qPrintable(error));
        for (int to = 0; to < Processes; ++to) {
            HttpTestClient c(m_roots[to]);
            c.bearer = fresh.bearer;
            QCOMPARE(c.get(QStringLiteral("experiments/")).status, 401);
        }
        stopServers();
    }

    // Lost workers (docs/protocol.md 8.3): 40 RUNNING jobs go silent at once and the
    // three processes' timers race for them; each is marked CRASHED and replaced
    // exactly once. Time is moved by setting the jobs' lease clock back in the
    // database (the processes share its clock), not by waiting.
    void lostJobsExpireOnce()
    {
        QVERIFY(startServers(0, {QStringLiteral("--lost-check-ms"), QStringLiteral("10")}));
        {
            server::SqlStore store(m_db->url());
            QString error;
            QVERIFY2(store.open(&error), qPrintable(error));
            const auto config =
                server::addUser(store, QStringLiteral("lost@example.com"), {}, m_roots[0], &error);
            QVERIFY2(config, qPrintable(error));
            m_config = *config;
        }
        HttpTestClient http(m_roots[0]);
        QVERIFY(http.login(m_config));
        const QString exp = QStringLiteral("lost");
        QCOMPARE(http.put(expPath(exp), R"({"status": "RUNNING", "scheduler": {"RandomSearch": )"
                                        R"({"x": {"uniform": {"low": 0, "high": 1}}}}, )"
                                        R"("lease": {"seconds": 3600, "retries": 1}})")
                     .status,
                 201);
        constexpr int Lost = 40;
        QSet<QString> claimed;
        for (int i = 0; i < Lost; ++i) {
            HttpTestClient worker(m_roots[i % Processes]);
            worker.bearer = http.bearer;
            const Reply handed = worker.get(expPath(exp) + QStringLiteral("nextjob/"));
            QCOMPARE(handed.status, 200);
            const QString id = str(handed.json.toMap(), "id");
            const Reply claim =
                worker.put(expPath(exp) + QStringLiteral("jobs/") + enc(id) + QLatin1Char('/'),
                           R"({"status": "RUNNING"})", {{"If-Match", handed.header("ETag")}});
            QCOMPARE(claim.status, 200);
            claimed.insert(id);
        }
        {
            server::SqlStore store(m_db->url());
            QString error;
            QVERIFY2(store.open(&error), qPrintable(error));
            QSqlQuery q(store.database());
            QVERIFY(q.exec(QStringLiteral("UPDATE jobs SET alive_at = alive_at - 7200 WHERE status = 1")));
            QCOMPARE(q.numRowsAffected(), Lost);
        }
        const auto counts = [&] {
            return http.get(expPath(exp)).json.toMap().value(QStringLiteral("jobCounts")).toMap();
        };
        QTRY_COMPARE_WITH_TIMEOUT(counts().value(QStringLiteral("CRASHED")).toInteger(), qint64(Lost), 60000);
        const auto jobs = listAllJobs(http, exp);
        QVERIFY(jobs);
        QCOMPARE(jobs->size(), 2 * Lost);
        QHash<QString, QString> replacedBy, replaces;
        for (const QCborMap &j : *jobs) {
            if (str(j, "status") == QLatin1String("CRASHED")) {
                QVERIFY(claimed.contains(str(j, "id")));
                QVERIFY(j.value(QStringLiteral("lostAt")).isDouble());
                replacedBy.insert(str(j, "id"), str(j, "replacedBy"));
            } else {
                QCOMPARE(str(j, "status"), QStringLiteral("QUEUED"));
                QVERIFY(!replaces.contains(str(j, "replaces")));
                replaces.insert(str(j, "replaces"), str(j, "id"));
            }
        }
        QCOMPARE(replacedBy.size(), Lost);
        QCOMPARE(replaces.size(), Lost);
        for (auto it = replacedBy.cbegin(); it != replacedBy.cend(); ++it)
            QCOMPARE(replaces.value(it.key()), it.value());
        // Each loss was applied by one process: one line each in their logs, all told.
        QList<QByteArray> outputs;
        for (auto &s : m_servers) {
            QVERIFY(s->stop());
            outputs << s->output();
        }
        m_servers.clear();
        int lines = 0;
        for (const QByteArray &out : outputs)
            lines += int(out.count(" lost (no write"));
        QCOMPARE(lines, Lost);
    }

    void workers_data()
    {
        QTest::addColumn<double>("leaseSeconds");
        QTest::newRow("lease 5 s") << 5.0;
        QTest::newRow("no lease") << 0.0;
    }

    void workers()
    {
        QFETCH(double, leaseSeconds);
        QVERIFY(startServers(leaseSeconds));
        {
            server::SqlStore store(m_db->url());
            QString error;
            QVERIFY2(store.open(&error), qPrintable(error));
            const auto config =
                server::addUser(store, QStringLiteral("mp@example.com"), {}, m_roots[0], &error);
            QVERIFY2(config, qPrintable(error));
            m_config = *config;
        }
        HttpTestClient http(m_roots[1]);
        QVERIFY(http.login(m_config));

        const QString manual = QStringLiteral("mp manual"), random = QStringLiteral("mp random"),
                      pbt = QStringLiteral("mp pbt");
        QCOMPARE(http.put(expPath(manual), R"({"status": "RUNNING", "scheduler": {"Manual": null}})").status,
                 201);
        QCOMPARE(http.put(expPath(random), R"({"status": "RUNNING", "scheduler": {"RandomSearch": {
                     "lr": {"loguniform": {"low": 0.0001, "high": 0.1}}, "k": {"choice": {"values": [1, 2, 3]}}}}})")
                     .status,
                 201);
        const QByteArray pbtBody = R"({"status": "RUNNING", "scheduler": {"PBT": {
            "objective": "max", "qualityResultName": "acc", "numParallel": )" +
                                   QByteArray::number(PbtPopulation) + R"(, "maxGenerations": )" +
                                   QByteArray::number(PbtGenerations) + R"(,
            "init": {"lr": {"loguniform": {"low": 0.0001, "high": 0.1}}},
            "exploit": {"truncate": 0.25},
            "explore": {"lr": {"perturb": {"minFactor": 0.8, "maxFactor": 1.25}}}}}})";
        QCOMPARE(http.put(expPath(pbt), pbtBody).status, 201);
        // Manual jobs posted through all three processes.
        {
            std::vector<std::unique_ptr<HttpTestClient>> posters;
            for (const QString &root : std::as_const(m_roots)) {
                posters.push_back(std::make_unique<HttpTestClient>(root));
                posters.back()->bearer = http.bearer;
            }
            for (int i = 0; i < ManualJobs; ++i) {
                const Reply r = posters[size_t(i % Processes)]->post(
                    expPath(manual) + QStringLiteral("jobs/"),
                    "{\"hyperparameters\": {\"lr\": " + QByteArray::number(0.001 * (i + 1)) +
                        ", \"i\": " + QByteArray::number(i) + "}}");
                QCOMPARE(r.status, 201);
            }
        }

        // 24 workers: worker i talks to process i % 3 and works on experiment (i / 3) % 3,
        // so that every experiment is worked on through every process.
        QAtomicInt quota(RandomJobs);
        WorkerPool pool;
        const QString experiments[] = {manual, random, pbt};
        const ClaimMode modes[] = {ClaimMode::Drain, ClaimMode::Quota, ClaimMode::Pbt};
        for (int i = 0; i < Workers; ++i) {
            const int e = (i / Processes) % 3;
            ClaimWorkerOptions o;
            o.index = i;
            o.root = m_roots[i % Processes];
            o.bearer = http.bearer;
            o.experiment = experiments[e];
            o.mode = modes[e];
            o.quota = &quota;
            o.reports = progressThenDone;
            o.busyPauseMs = 2; // every PBT member busy: ask again shortly
            pool.add(std::move(o));
        }
        QElapsedTimer timer;
        timer.start();
        QVERIFY2(pool.run(400000), "the workers did not finish in time");
        const qint64 ms = timer.elapsed();

        // No double claims; every claim reported.
        ClaimTally tally;
        verifyClaims(pool, &tally);
        if (QTest::currentTestFailed())
            return;
        const QHash<QString, int> &claims = tally.claims;
        const QHash<QString, QCborMap> &reported = tally.reported;
        QCOMPARE(claims.size(), ManualJobs + RandomJobs + PbtPopulation * PbtGenerations);
        QCOMPARE(reported.size(), claims.size());
        qInfo("%d processes, %d workers: %lld jobs in %lld ms (%.0f jobs/s), %d claims refused with 412",
              Processes, Workers, qint64(claims.size()), ms,
              claims.size() * 1000.0 / double(std::max<qint64>(ms, 1)), tally.preconditionFailures);

        // Every job DONE with exactly the results its worker reported; counts exact.
        const int expected[] = {ManualJobs, RandomJobs, PbtPopulation * PbtGenerations};
        for (int e = 0; e < 3; ++e) {
            const QList<QCborMap> jobs = listAllJobs(http, experiments[e]).value_or(QList<QCborMap>{});
            QCOMPARE(jobs.size(), expected[e]);
            for (const QCborMap &j : jobs) {
                const QString id = str(j, "id");
                QCOMPARE(str(j, "status"), QStringLiteral("DONE"));
                QVERIFY2(reported.contains(id), qPrintable(id));
                QVERIFY2(j.value(QStringLiteral("results")).toMap() == reported.value(id),
                         qPrintable(id + QStringLiteral(": ") + QString::fromUtf8(json::write(j))));
                QCOMPARE(
                    j.value(QStringLiteral("results")).toMap().value(QStringLiteral("worker")).toInteger(),
                    tally.claimedBy.value(id));
            }
            const QCborMap doc = http.get(expPath(experiments[e])).json.toMap();
            const QCborMap counts = doc.value(QStringLiteral("jobCounts")).toMap();
            QCOMPARE(counts.value(QStringLiteral("DONE")).toInteger(), qint64(expected[e]));
            for (const char *other : {"QUEUED", "RUNNING", "CRASHED", "PRUNED"})
                QCOMPARE(counts.value(QLatin1String(other)).toInteger(), 0);
        }

        // The PBT population is exact.
        verifyPbtPopulation(pool, PbtPopulation, PbtGenerations);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(str(http.get(expPath(pbt)).json.toMap(), "status"), QStringLiteral("DONE"));
        for (const QString &root : std::as_const(m_roots)) {
            HttpTestClient other(root);
            other.bearer = http.bearer;
            for (const QString &e : {manual, pbt}) // (random search always makes another job)
                QCOMPARE(other.get(expPath(e) + QStringLiteral("nextjob/")).status, 204);
        }
        stopServers();
    }

    // A grid search (docs/protocol.md section 8.1) worked on through the three
    // processes at once: every point handed out exactly once, none missing.
    void gridAcrossProcesses()
    {
        QVERIFY(startServers(5.0));
        {
            server::SqlStore store(m_db->url());
            QString error;
            QVERIFY2(store.open(&error), qPrintable(error));
            const auto config =
                server::addUser(store, QStringLiteral("grid@example.com"), {}, m_roots[0], &error);
            QVERIFY2(config, qPrintable(error));
            m_config = *config;
        }
        HttpTestClient http(m_roots[2]);
        QVERIFY(http.login(m_config));
        const QString grid = QStringLiteral("mp grid");
        constexpr int Points = 300; // 15 x 10 x 2
        QCOMPARE(http.put(expPath(grid), R"({"status": "RUNNING", "scheduler": {"RandomSearch": {
                     "lr": {"loguniform": {"low": 0.0001, "high": 0.1}}, "d": {"uniform": {"low": 0, "high": 0.5}},
                     "k": {"choice": {"values": [1, 2]}}}},
                     "sampler": {"kind": "grid", "steps": {"lr": 15, "d": 10}}})")
                     .status,
                 201);
        WorkerPool pool;
        for (int i = 0; i < Workers; ++i) {
            ClaimWorkerOptions o;
            o.index = i;
            o.root = m_roots[i % Processes];
            o.bearer = http.bearer;
            o.experiment = grid;
            o.mode = ClaimMode::Pbt; // until the experiment is DONE
            o.reports = progressThenDone;
            o.busyPauseMs = 2;
            pool.add(std::move(o));
        }
        QVERIFY2(pool.run(400000), "the workers did not finish in time");
        ClaimTally tally;
        verifyClaims(pool, &tally);
        if (QTest::currentTestFailed())
            return;
        const auto jobs = listAllJobs(http, grid);
        QVERIFY(jobs);
        QCOMPARE(jobs->size(), Points); // zero duplicates
        QSet<qint64> indices;
        for (const QCborMap &j : *jobs) {
            QCOMPARE(str(j, "status"), QStringLiteral("DONE"));
            indices.insert(j.value(QStringLiteral("gridIndex")).toInteger(-1));
        }
        QCOMPARE(indices.size(), Points); // zero missing
        QVERIFY(!indices.contains(-1));
        QCOMPARE(str(http.get(expPath(grid)).json.toMap(), "status"), QStringLiteral("DONE"));
        stopServers();
    }
};

QTEST_GUILESS_MAIN(TestMultiProcess)
#include "tst_multiprocess.moc"
