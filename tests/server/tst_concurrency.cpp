#include "ClaimWorkers.h"
#include "TestServer.h"

#include <QAtomicInt>
#include <QtTest>

#include <memory>
#include <optional>

using namespace schedy;
using namespace schedy::test;

// Workers on their own threads (each with its own QNetworkAccessManager and
// event loop, see ClaimWorkers.h) against the in-process server on the main
// thread: nextjob -> claim (PUT RUNNING, If-Match; on 412 ask again) -> PUT
// DONE. No job may be claimed twice (docs/protocol.md section 5).
namespace {

QString s(const char *text)
{
    return QString::fromUtf8(text);
}
QString expPath(const QString &name)
{
    return QStringLiteral("experiments/") + enc(name) + QLatin1Char('/');
}
QString str(const QCborMap &doc, const char *key)
{
    return doc.value(QString::fromLatin1(key)).toString();
}

// The results a worker reports: one DONE report that names the worker.
QList<QCborMap> oneReport(int worker, const QCborMap &job)
{
    QCborMap results = job.value(QStringLiteral("results")).toMap();
    results.insert(QStringLiteral("worker"), worker);
    results.insert(QStringLiteral("acc"), double(qHash(str(job, "id")) % 1000) / 1000.0);
    return {results};
}

// Runs `count` workers until all of them are finished; false on timeout.
bool runWorkers(WorkerPool &pool, int count, const QString &root, const QByteArray &bearer,
                const QString &experiment, ClaimMode mode, QAtomicInt *quota = nullptr)
{
    for (int i = 0; i < count; ++i) {
        ClaimWorkerOptions o;
        o.index = i;
        o.root = root;
        o.bearer = bearer;
        o.experiment = experiment;
        o.mode = mode;
        o.quota = quota;
        o.reports = oneReport;
        o.maxRounds = 200000;
        pool.add(std::move(o));
    }
    return pool.run(120000);
}

class Env
{
public:
    explicit Env(double leaseSeconds)
        : server(options(leaseSeconds))
    {}
    static server::ServerOptions options(double leaseSeconds)
    {
        server::ServerOptions o;
        o.leaseSeconds = leaseSeconds;
        return o;
    }
    bool start()
    {
        if (!server.start())
            return false;
        client = std::make_unique<HttpTestClient>(server.root());
        http = client.get();
        return http->login(server.addUser(QStringLiteral("crowd@example.com")));
    }

    TestServer server;
    std::unique_ptr<HttpTestClient> client;
    HttpTestClient *http = nullptr;
};

} // namespace

class TestConcurrency : public QObject
{
    Q_OBJECT

    // Every job claimed exactly once, by the worker whose results it carries, and DONE.
    void checkClaims(Env &env, const QString &experiment, const WorkerPool &pool, int expected)
    {
        ClaimTally tally;
        verifyClaims(pool, &tally);
        if (QTest::currentTestFailed())
            return;
        qInfo("%lld jobs claimed, %d claims refused with 412", qint64(tally.claims.size()),
              tally.preconditionFailures);
        QCOMPARE(tally.claims.size(), expected);

        const std::optional<QList<QCborMap>> all = listAllJobs(*env.http, experiment);
        QVERIFY(all);
        QCOMPARE(all->size(), expected);
        for (const QCborMap &j : *all) {
            const QString id = str(j, "id");
            QCOMPARE(str(j, "status"), s("DONE")); // none left QUEUED or RUNNING
            QVERIFY2(tally.claims.contains(id), qPrintable(id));
            const qint64 worker =
                j.value(QStringLiteral("results")).toMap().value(QStringLiteral("worker")).toInteger(-1);
            QVERIFY(worker >= 0 && worker < qint64(pool.workers().size()));
            QCOMPARE(pool.workers()[size_t(worker)]->claimed.contains(id), true);
        }
    }

    // With the default lease concurrent askers mostly get different jobs; without one they all
    // get the oldest and the ETag alone keeps claims unique.
    static void leaseData()
    {
        QTest::addColumn<double>("leaseSeconds");
        QTest::newRow("lease 5 s") << 5.0;
        QTest::newRow("no lease") << 0.0;
    }

private slots:
    void manual_eightWorkers_data() { leaseData(); }
    void manual_eightWorkers()
    {
        QFETCH(double, leaseSeconds);
        Env env(leaseSeconds);
        QVERIFY(env.start());
        const QString e = s("manual crowd");
        QCOMPARE(env.http->put(expPath(e), R"({"status": "RUNNING", "scheduler": {"Manual": null}})").status,
                 201);
        const int n = 400;
        for (int i = 0; i < n; ++i) {
            const Reply r = env.http->post(expPath(e) + QStringLiteral("jobs/"),
                                           "{\"hyperparameters\": {\"i\": " + QByteArray::number(i) + "}}");
            QCOMPARE(r.status, 201);
        }
        WorkerPool pool;
        QVERIFY(runWorkers(pool, 8, env.server.root(), env.http->bearer, e, ClaimMode::Drain));
        checkClaims(env, e, pool, n);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(env.http->get(expPath(e) + QStringLiteral("nextjob/")).status, 204);
    }

    void randomSearch_eightWorkers_data() { leaseData(); }
    void randomSearch_eightWorkers()
    {
        QFETCH(double, leaseSeconds);
        Env env(leaseSeconds);
        QVERIFY(env.start());
        const QString e = s("random crowd");
        QCOMPARE(env.http
                     ->put(expPath(e), R"({"status": "RUNNING", "scheduler": {"RandomSearch": {
                              "x": {"uniform": {"low": 0.0, "high": 1.0}}, "k": {"choice": {"values": [1, 2]}}}}})")
                     .status,
                 201);
        const int n = 400;
        QAtomicInt quota(n);
        WorkerPool pool;
        QVERIFY(runWorkers(pool, 8, env.server.root(), env.http->bearer, e, ClaimMode::Quota, &quota));
        checkClaims(env, e, pool, n);
    }

    void pbt_sixWorkers_data() { leaseData(); }
    void pbt_sixWorkers()
    {
        QFETCH(double, leaseSeconds);
        Env env(leaseSeconds);
        QVERIFY(env.start());
        const QString e = s("pbt crowd");
        const int P = 6, G = 4;
        const QByteArray scheduler = R"({"status": "RUNNING", "scheduler": {"PBT": {
            "objective": "max", "qualityResultName": "acc", "numParallel": 6, "maxGenerations": 4,
            "init": {"lr": {"loguniform": {"low": 0.001, "high": 0.1}}},
            "exploit": {"truncate": 0.2},
            "explore": {"lr": {"perturb": {"minFactor": 0.8, "maxFactor": 1.2}}}}}})";
        QCOMPARE(env.http->put(expPath(e), scheduler).status, 201);
        WorkerPool pool;
        QVERIFY(runWorkers(pool, 6, env.server.root(), env.http->bearer, e, ClaimMode::Pbt));
        checkClaims(env, e, pool, P * G);
        if (QTest::currentTestFailed())
            return;

        verifyPbtPopulation(pool, P, G);
        if (QTest::currentTestFailed())
            return;
        const Reply exp = env.http->get(expPath(e));
        QCOMPARE(str(exp.json.toMap(), "status"), s("DONE"));
        QCOMPARE(env.http->get(expPath(e) + QStringLiteral("nextjob/")).status, 204);
    }
};

QTEST_GUILESS_MAIN(TestConcurrency)
#include "tst_concurrency.moc"
