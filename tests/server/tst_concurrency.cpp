#include "Json.h"
#include "TestServer.h"

#include <QAtomicInt>
#include <QSet>
#include <QThread>
#include <QUrl>
#include <QtTest>

#include <memory>

using namespace schedy;
using namespace schedy::test;

// Workers on their own threads (each with its own QNetworkAccessManager and
// event loop) against the in-process server on the main thread: nextjob ->
// claim (PUT RUNNING, If-Match; on 412 ask again) -> PUT DONE. No job may be
// claimed twice (PROTOCOL.md section 5).
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

enum class Mode {
    Drain, // until nextjob answers 204
    Quota, // until the shared quota of DONE jobs is used up
    Pbt    // until the experiment is DONE
};

struct HandedOut
{
    QString id;
    QString member;
    qint64 generation = -1;
    QString parent;
};

class Worker : public QObject
{
    Q_OBJECT
public:
    Worker(int index, QString root, QByteArray bearer, QString experiment, Mode mode, QAtomicInt *quota)
        : m_index(index)
        , m_root(std::move(root))
        , m_bearer(std::move(bearer))
        , m_experiment(std::move(experiment))
        , m_mode(mode)
        , m_quota(quota)
    {}

    // Read by the main thread once the thread has finished.
    QStringList claimed;          // ids this worker moved to RUNNING
    QList<HandedOut> handedOut;   // claimed PBT jobs, as handed out
    int preconditionFailures = 0; // 412 on a claim
    int noJob = 0;                // 204 answers
    QStringList errors;

public slots:
    void run()
    {
        HttpTestClient http(m_root); // created here: its QNetworkAccessManager lives on this thread
        http.bearer = m_bearer;
        work(http);
        emit finished();
    }

signals:
    void finished();

private:
    void fail(const QString &what, const Reply &r)
    {
        errors << QStringLiteral("worker %1: %2: HTTP %3 %4")
                      .arg(m_index)
                      .arg(what)
                      .arg(r.status)
                      .arg(QString::fromUtf8(r.body.left(200)));
    }

    void work(HttpTestClient &http)
    {
        const QString exp = expPath(m_experiment);
        bool needSlot = true;
        for (int round = 0; round < 200000; ++round) {
            if (m_mode == Mode::Quota && needSlot) {
                // One slot per job this worker will complete; the quota is never overrun.
                if (m_quota->fetchAndAddOrdered(-1) <= 0)
                    return;
                needSlot = false;
            }
            const Reply next = http.get(exp + QStringLiteral("nextjob/"));
            if (next.status == 204) {
                ++noJob;
                if (m_mode == Mode::Drain)
                    return;
                if (m_mode == Mode::Quota) {
                    fail(QStringLiteral("random search answered 204"), next);
                    return;
                }
                const Reply e = http.get(exp);
                if (e.status != 200) {
                    fail(QStringLiteral("GET experiment"), e);
                    return;
                }
                if (str(e.json.toMap(), "status") == QLatin1String("DONE"))
                    return;
                continue; // every member busy: ask again
            }
            if (next.status != 200 || next.header("ETag").isEmpty()) {
                fail(QStringLiteral("nextjob"), next);
                return;
            }
            const QCborMap doc = next.json.toMap();
            const QString id = str(doc, "id");
            if (str(doc, "status") != QLatin1String("QUEUED")) {
                fail(QStringLiteral("nextjob handed out a job that is not QUEUED"), next);
                return;
            }
            const QString jobPath = exp + QStringLiteral("jobs/") + enc(id) + QLatin1Char('/');
            QCborMap body{{QStringLiteral("status"), QStringLiteral("RUNNING")},
                          {QStringLiteral("hyperparameters"), doc.value(QStringLiteral("hyperparameters"))},
                          {QStringLiteral("results"), doc.value(QStringLiteral("results"))}};
            const Reply claim = http.put(jobPath, json::write(body), {{"If-Match", next.header("ETag")}});
            if (claim.status == 412) {
                ++preconditionFailures;
                continue;
            }
            if (claim.status != 200 || claim.header("ETag").isEmpty()) {
                fail(QStringLiteral("claim of ") + id, claim);
                return;
            }
            claimed << id;
            if (m_mode == Mode::Pbt) {
                handedOut.append({id, str(doc, "member"),
                                  doc.value(QStringLiteral("generation")).toInteger(-1), str(doc, "parent")});
            }
            QCborMap results = doc.value(QStringLiteral("results")).toMap();
            results.insert(QStringLiteral("worker"), m_index);
            results.insert(QStringLiteral("acc"), double(qHash(id) % 1000) / 1000.0);
            body.insert(QStringLiteral("status"), QStringLiteral("DONE"));
            body.insert(QStringLiteral("results"), results);
            const Reply done = http.put(jobPath, json::write(body), {{"If-Match", claim.header("ETag")}});
            if (done.status != 200) {
                fail(QStringLiteral("DONE of ") + id, done);
                return;
            }
            needSlot = true;
        }
        errors << QStringLiteral("worker %1: too many rounds").arg(m_index);
    }

    int m_index;
    QString m_root;
    QByteArray m_bearer;
    QString m_experiment;
    Mode m_mode;
    QAtomicInt *m_quota;
};

// Counts finished workers on the main thread.
class Collector : public QObject
{
    Q_OBJECT
public:
    explicit Collector(int expected)
        : m_expected(expected)
    {}
public slots:
    void workerFinished()
    {
        if (++m_finished == m_expected)
            emit allFinished();
    }
signals:
    void allFinished();

private:
    int m_expected;
    int m_finished = 0;
};

struct Pool
{
    std::vector<std::unique_ptr<QThread>> threads;
    std::vector<std::unique_ptr<Worker>> workers;
    ~Pool()
    {
        for (auto &t : threads) {
            t->quit();
            t->wait();
        }
        workers.clear(); // after their threads ended
    }
};

// Runs `count` workers until all of them are finished; false on timeout.
bool runWorkers(Pool &pool, int count, const QString &root, const QByteArray &bearer,
                const QString &experiment, Mode mode, QAtomicInt *quota = nullptr)
{
    Collector collector(count);
    QSignalSpy all(&collector, &Collector::allFinished);
    for (int i = 0; i < count; ++i) {
        auto worker = std::make_unique<Worker>(i, root, bearer, experiment, mode, quota);
        auto thread = std::make_unique<QThread>();
        worker->moveToThread(thread.get());
        QObject::connect(thread.get(), &QThread::started, worker.get(), &Worker::run);
        QObject::connect(worker.get(), &Worker::finished, thread.get(), &QThread::quit);
        QObject::connect(worker.get(), &Worker::finished, &collector, &Collector::workerFinished,
                         Qt::QueuedConnection);
        pool.workers.push_back(std::move(worker));
        pool.threads.push_back(std::move(thread));
    }
    for (auto &t : pool.threads)
        t->start();
    // The server answers from this thread's event loop while we wait.
    const bool finished = all.count() > 0 || all.wait(120000);
    for (auto &t : pool.threads) {
        t->quit();
        t->wait();
    }
    return finished;
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
    QList<QCborMap> jobs(const QString &experiment, bool *ok)
    {
        QList<QCborMap> out;
        QString path = expPath(experiment) + QStringLiteral("jobs/");
        *ok = false;
        for (int page = 0; page < 1000; ++page) {
            const Reply r = http->get(path);
            if (r.status != 200)
                return out;
            const QCborMap m = r.json.toMap();
            for (const QCborValue &v : m.value(QStringLiteral("items")).toArray())
                out.append(v.toMap());
            const QCborValue next = m.value(QStringLiteral("next"));
            if (!next.isString()) {
                *ok = true;
                return out;
            }
            path = expPath(experiment) + QStringLiteral("jobs/?start=") +
                   QString::fromLatin1(QUrl::toPercentEncoding(next.toString()));
        }
        return out;
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
    void checkClaims(Env &env, const QString &experiment, const Pool &pool, int expected)
    {
        QHash<QString, int> claims;
        int preconditionFailures = 0;
        for (const auto &w : pool.workers) {
            QVERIFY2(w->errors.isEmpty(), qPrintable(w->errors.join(QLatin1Char('\n'))));
            preconditionFailures += w->preconditionFailures;
            for (const QString &id : w->claimed)
                ++claims[id];
        }
        qInfo("%lld jobs claimed, %d claims refused with 412", qint64(claims.size()), preconditionFailures);
        for (auto it = claims.begin(); it != claims.end(); ++it)
            QVERIFY2(it.value() == 1,
                     qPrintable(QStringLiteral("job %1 claimed %2 times").arg(it.key()).arg(it.value())));
        QCOMPARE(claims.size(), expected);

        bool ok = false;
        const QList<QCborMap> all = env.jobs(experiment, &ok);
        QVERIFY(ok);
        QCOMPARE(all.size(), expected);
        for (const QCborMap &j : all) {
            const QString id = str(j, "id");
            QCOMPARE(str(j, "status"), s("DONE")); // none left QUEUED or RUNNING
            QVERIFY2(claims.contains(id), qPrintable(id));
            const qint64 worker =
                j.value(QStringLiteral("results")).toMap().value(QStringLiteral("worker")).toInteger(-1);
            QVERIFY(worker >= 0 && worker < qint64(pool.workers.size()));
            QCOMPARE(pool.workers[size_t(worker)]->claimed.contains(id), true);
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
        Pool pool;
        QVERIFY(runWorkers(pool, 8, env.server.root(), env.http->bearer, e, Mode::Drain));
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
        Pool pool;
        QVERIFY(runWorkers(pool, 8, env.server.root(), env.http->bearer, e, Mode::Quota, &quota));
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
        Pool pool;
        QVERIFY(runWorkers(pool, 6, env.server.root(), env.http->bearer, e, Mode::Pbt));
        checkClaims(env, e, pool, P * G);
        if (QTest::currentTestFailed())
            return;

        QSet<QPair<QString, qint64>> continued;
        QSet<QString> members;
        int generationZero = 0;
        for (const auto &w : pool.workers) {
            for (const HandedOut &h : w->handedOut) {
                QVERIFY(h.generation >= 0 && h.generation < G);
                const auto key = qMakePair(h.member, h.generation);
                QVERIFY2(!continued.contains(key), qPrintable(QStringLiteral("member %1 continued twice into "
                                                                             "generation %2")
                                                                  .arg(h.member)
                                                                  .arg(h.generation)));
                continued.insert(key);
                members.insert(h.member);
                if (h.generation == 0) {
                    ++generationZero;
                    QCOMPARE(h.member, h.id);
                } else {
                    QVERIFY(!h.parent.isEmpty());
                }
            }
        }
        QCOMPARE(generationZero, P);
        QCOMPARE(members.size(), P);
        QCOMPARE(continued.size(), P * G);
        const Reply exp = env.http->get(expPath(e));
        QCOMPARE(str(exp.json.toMap(), "status"), s("DONE"));
        QCOMPARE(env.http->get(expPath(e) + QStringLiteral("nextjob/")).status, 204);
    }
};

QTEST_GUILESS_MAIN(TestConcurrency)
#include "tst_concurrency.moc"
