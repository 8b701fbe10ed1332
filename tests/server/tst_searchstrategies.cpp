#include "ClaimWorkers.h"
#include "Json.h"
#include "Sampler.h"
#include "SearchSpace.h"
#include "SobolSampler.h"
#include "TestServer.h"
#include "TpeSampler.h"

#include <QSet>
#include <QtTest>

#include <cmath>
#include <memory>

using namespace schedy;
using namespace schedy::test;

// The samplers of docs/protocol.md section 8.1 through HTTP, on both backends:
// how the `sampler` key is stored and checked, a grid handed out exactly once
// (16 concurrent workers; a CRASHED point again; 204 and DONE at the end),
// Sobol indices once each, TPE fed by DONE jobs (manual ones too) and
// repeating itself for a seed and a fixed order of events.
namespace {

QString expPath(const QString &name)
{
    return QStringLiteral("experiments/") + enc(name) + QLatin1Char('/');
}
QCborMap docOf(const Reply &r)
{
    return r.json.toMap();
}
QCborMap hpOf(const QCborMap &doc)
{
    return doc.value(QStringLiteral("hyperparameters")).toMap();
}

const QByteArray GridSpace = R"({"RandomSearch": {
    "lr": {"loguniform": {"low": 0.001, "high": 0.1}},
    "layers": {"choice": {"values": [1, 2, 3, 4]}},
    "act": {"const": "relu"}}})";

class Env
{
public:
    Env()
        : m_server(options())
    {}
    bool start()
    {
        if (!m_server.start())
            return false;
        http = std::make_unique<HttpTestClient>(m_server.root());
        return http->login(m_server.addUser(QStringLiteral("search@example.com")));
    }
    QString root() const { return m_server.root(); }
    Reply put(const QString &name, const QByteArray &body) { return http->put(expPath(name), body); }
    Reply nextJob(const QString &name) { return http->get(expPath(name) + QStringLiteral("nextjob/")); }
    // Claims a handed-out job and finishes it with `status` and `results`.
    bool finish(const QString &name, const Reply &handed, const char *status, const QCborMap &results)
    {
        const QCborMap doc = docOf(handed);
        const QString path = expPath(name) + QStringLiteral("jobs/") +
                             enc(doc.value(QStringLiteral("id")).toString()) + QLatin1Char('/');
        QCborMap body{{QStringLiteral("status"), QStringLiteral("RUNNING")},
                      {QStringLiteral("hyperparameters"), hpOf(doc)},
                      {QStringLiteral("results"), QCborMap()}};
        const Reply claimed = http->put(path, json::write(body), {{"If-Match", handed.header("ETag")}});
        if (claimed.status != 200)
            return false;
        body.insert(QStringLiteral("status"), QString::fromLatin1(status));
        body.insert(QStringLiteral("results"), results);
        return http->put(path, json::write(body), {{"If-Match", claimed.header("ETag")}}).status == 200;
    }
    std::unique_ptr<HttpTestClient> http;

private:
    static server::ServerOptions options()
    {
        server::ServerOptions o;
        o.leaseSeconds = 0; // a QUEUED job is handed out again until claimed: deterministic order
        return o;
    }
    TestServer m_server;
};

double branin(const QCborMap &hp)
{
    const double x = hp.value(QStringLiteral("x")).toDouble(), y = hp.value(QStringLiteral("y")).toDouble();
    const double b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, t = 1 / (8 * M_PI);
    return std::pow(y - b * x * x + c * x - 6, 2) + 10 * (1 - t) * std::cos(x) + 10;
}

} // namespace

class TestSearchStrategies : public QObject
{
    Q_OBJECT

private slots:
    void samplerKeyIsKeptRemovedAndChecked()
    {
        Env env;
        QVERIFY(env.start());
        const QString name = QStringLiteral("keys");
        Reply r = env.put(name, R"({"status": "RUNNING", "scheduler": )" + GridSpace +
                                    R"(, "sampler": {"kind": "grid", "steps": {"lr": 3}}})");
        QCOMPARE(r.status, 201);
        QCOMPARE(docOf(r).value(QStringLiteral("sampler")).toMap().value(QStringLiteral("kind")).toString(),
                 QStringLiteral("grid"));
        // A PUT without the key (the original client writing the experiment back) keeps it.
        r = env.put(name, R"({"status": "DONE", "scheduler": )" + GridSpace + "}");
        QCOMPARE(r.status, 200);
        QCOMPARE(docOf(env.http->get(expPath(name)))
                     .value(QStringLiteral("sampler"))
                     .toMap()
                     .value(QStringLiteral("steps")),
                 QCborValue(QCborMap{{QStringLiteral("lr"), 3}}));
        // Bad values: 400 naming the key, nothing applied.
        const QByteArray before = env.http->get(expPath(name)).body;
        struct Bad
        {
            QByteArray body;
            const char *mentions;
        };
        const Bad bad[] = {
            {R"({"status": "RUNNING", "scheduler": )" + GridSpace + R"(, "sampler": {"kind": "cmaes"}})",
             "sampler"},
            {R"({"status": "RUNNING", "scheduler": )" + GridSpace + R"(, "sampler": {"kind": "grid"}})",
             "sampler"},
            {R"({"status": "RUNNING", "scheduler": )" + GridSpace + R"(, "sampler": {"kind": "tpe"}})",
             "sampler"},
            {R"({"status": "RUNNING", "scheduler": {"Manual": null}, "sampler": {"kind": "sobol"}})",
             "sampler"},
            // The kept grid does not fit a scheduler without its hyperparameter's steps.
            {R"({"status": "RUNNING", "scheduler": {"RandomSearch": {"z": {"uniform": {"low": 0, "high": 1}}}}})",
             "sampler"},
            // Nor does any sampler fit PBT.
            {R"({"status": "RUNNING", "scheduler": {"PBT": {"objective": "max", "qualityResultName": "acc",
                "init": {"lr": {"uniform": {"low": 0, "high": 1}}}, "exploit": {"truncate": 0.2},
                "explore": {}}}})",
             "sampler"},
        };
        for (const Bad &b : bad) {
            r = env.put(name, b.body);
            QCOMPARE(r.status, 400);
            QVERIFY2(r.errorText().contains(QLatin1String(b.mentions)), qPrintable(r.errorText()));
        }
        QCOMPARE(env.http->get(expPath(name)).body, before);
        // null removes it.
        r = env.put(name, R"({"status": "RUNNING", "scheduler": )" + GridSpace + R"(, "sampler": null})");
        QCOMPARE(r.status, 200);
        QVERIFY(!docOf(r).contains(QStringLiteral("sampler")));
        // A listing shows the key too.
        QCOMPARE(env.put(name, R"({"status": "RUNNING", "scheduler": )" + GridSpace +
                                   R"(, "sampler": {"kind": "sobol", "seed": 3}})")
                     .status,
                 200);
        const QCborArray items =
            docOf(env.http->get(QStringLiteral("experiments/"))).value(QStringLiteral("items")).toArray();
        QCOMPARE(items.size(), 1);
        QCOMPARE(items.at(0)
                     .toMap()
                     .value(QStringLiteral("sampler"))
                     .toMap()
                     .value(QStringLiteral("seed"))
                     .toInteger(),
                 3);
    }

    void gridHandsOutEveryPointOnce()
    {
        Env env;
        QVERIFY(env.start());
        const QString name = QStringLiteral("grid");
        QCOMPARE(env.put(name, R"({"status": "RUNNING", "scheduler": )" + GridSpace +
                                   R"(, "sampler": {"kind": "grid", "steps": {"lr": 3}}})")
                     .status,
                 201);
        // A manual job is handed out first and carries no grid index.
        QCOMPARE(env.http->post(expPath(name) + QStringLiteral("jobs/"), R"({"hyperparameters": {"lr": 1}})")
                     .status,
                 201);
        Reply manual = env.nextJob(name);
        QVERIFY(!docOf(manual).contains(QStringLiteral("gridIndex")));
        QVERIFY(env.finish(name, manual, "DONE", {}));
        // 3 x 4 points, in order; point 4 crashes and comes back before any fresh one.
        QSet<QByteArray> points;
        QList<qint64> order;
        for (int i = 0; i < 13; ++i) {
            const Reply r = env.nextJob(name);
            QCOMPARE(r.status, 200);
            const QCborMap doc = docOf(r);
            const qint64 index = doc.value(QStringLiteral("gridIndex")).toInteger(-1);
            order << index;
            const QCborMap hp = hpOf(doc);
            QCOMPARE(hp.value(QStringLiteral("act")).toString(), QStringLiteral("relu"));
            if (index == 4 && !points.contains("crashed")) {
                points.insert("crashed");
                QVERIFY(env.finish(name, r, "CRASHED", {}));
                continue;
            }
            points.insert(QCborValue(hp).toCbor());
            QVERIFY(env.finish(name, r, "DONE", {{QStringLiteral("loss"), double(index)}}));
        }
        QCOMPARE(order, (QList<qint64>{0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9, 10, 11}));
        QCOMPARE(points.size(), 13); // 12 distinct points and the marker
        // Every point has a DONE job: 204, and the experiment is DONE.
        QCOMPARE(env.nextJob(name).status, 204);
        QCOMPARE(docOf(env.http->get(expPath(name))).value(QStringLiteral("status")).toString(),
                 QStringLiteral("DONE"));
    }

    void gridExactWithConcurrentWorkers()
    {
        Env env;
        QVERIFY(env.start());
        const QString name = QStringLiteral("grid workers");
        QCOMPARE(env.put(name, R"({"status": "RUNNING", "scheduler": {"RandomSearch": {
                     "x": {"uniform": {"low": -5, "high": 10}}, "y": {"uniform": {"low": 0, "high": 15}},
                     "k": {"choice": {"values": ["a", "b"]}}}},
                     "sampler": {"kind": "grid", "steps": {"x": 10, "y": 10}}})")
                     .status,
                 201);
        constexpr int Points = 200;
        WorkerPool pool;
        for (int i = 0; i < 16; ++i) {
            ClaimWorkerOptions o;
            o.index = i;
            o.root = env.root();
            o.bearer = env.http->bearer;
            o.experiment = name;
            o.mode = ClaimMode::Pbt; // until the experiment is DONE
            o.reports = [](int, const QCborMap &job) {
                return QList<QCborMap>{{{QStringLiteral("loss"), branin(hpOf(job))}}};
            };
            o.busyPauseMs = 2;
            pool.add(std::move(o));
        }
        QVERIFY2(pool.run(300000), "the workers did not finish in time");
        ClaimTally tally;
        verifyClaims(pool, &tally);
        if (QTest::currentTestFailed())
            return;
        const auto jobs = listAllJobs(*env.http, name);
        QVERIFY(jobs);
        QCOMPARE(jobs->size(), Points); // zero duplicates
        QSet<qint64> indices;
        for (const QCborMap &j : *jobs) {
            QCOMPARE(j.value(QStringLiteral("status")).toString(), QStringLiteral("DONE"));
            indices.insert(j.value(QStringLiteral("gridIndex")).toInteger(-1));
        }
        QCOMPARE(indices.size(), Points); // zero missing
        QVERIFY(!indices.contains(-1));
        QCOMPARE(docOf(env.http->get(expPath(name))).value(QStringLiteral("status")).toString(),
                 QStringLiteral("DONE"));
    }

    void sobolIndicesOnce()
    {
        Env env;
        QVERIFY(env.start());
        const QString name = QStringLiteral("sobol");
        const QByteArray space = R"({"RandomSearch": {"x": {"uniform": {"low": 0, "high": 1}},
            "z": {"normal": {"mean": 1, "std": 2}}, "c": {"choice": {"values": ["a", "b"], "weights": [3, 1]}}}})";
        QCOMPARE(env.put(name, R"({"status": "RUNNING", "scheduler": )" + space +
                                   R"(, "sampler": {"kind": "sobol", "seed": 11}})")
                     .status,
                 201);
        Distributions ds;
        for (const auto &[n, d] :
             {std::pair{"x", Distribution::uniform(0, 1)}, std::pair{"z", Distribution::normal(1, 2)},
              std::pair{"c", Distribution::choice({QStringLiteral("a"), QStringLiteral("b")}, {3, 1})}}) {
            NamedDistribution nd;
            nd.name = QString::fromLatin1(n);
            nd.distribution = d;
            ds << nd;
        }
        QSet<int> cells;
        for (int i = 0; i < 16; ++i) {
            const Reply r = env.nextJob(name);
            QCOMPARE(r.status, 200);
            const QCborMap hp = hpOf(docOf(r));
            // Point i of the scrambled sequence, whichever order the server wrote the keys in.
            const QCborMap expected = server::sobolPoint(ds, quint64(i), 11);
            for (const char *key : {"x", "z", "c"})
                QCOMPARE(hp.value(QLatin1String(key)), expected.value(QLatin1String(key)));
            cells.insert(int(hp.value(QStringLiteral("x")).toDouble() * 16));
            QVERIFY(env.finish(name, r, i % 3 ? "DONE" : "CRASHED", {}));
        }
        QCOMPARE(cells.size(), 16); // stratified: one point per sixteenth
    }

    void tpeRepeatsForASeedAndLearnsFromManualJobs()
    {
        Env env;
        QVERIFY(env.start());
        const QByteArray space = R"({"RandomSearch": {"x": {"uniform": {"low": -5, "high": 10}},
            "y": {"uniform": {"low": 0, "high": 15}}}})";
        auto run = [&](const QString &name, QList<QCborMap> *handed) {
            QCOMPARE(
                env.put(name, R"({"status": "RUNNING", "scheduler": )" + space +
                                  R"(, "sampler": {"kind": "tpe", "result": "loss", "direction": "minimize",
                                          "seed": 42, "startupJobs": 5}})")
                    .status,
                201);
            for (int i = 0; i < 20; ++i) {
                const Reply r = env.nextJob(name);
                QCOMPARE(r.status, 200);
                const QCborMap hp = hpOf(docOf(r));
                handed->append(hp);
                // A list result counts by its last value.
                QVERIFY(
                    env.finish(name, r, "DONE", {{QStringLiteral("loss"), QCborArray{100.0, branin(hp)}}}));
            }
        };
        QList<QCborMap> a, b;
        run(QStringLiteral("tpe a"), &a);
        run(QStringLiteral("tpe b"), &b);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(a, b);
        QCOMPARE(QSet<QByteArray>({QCborValue(a[0]).toCbor(), QCborValue(a[19]).toCbor()}).size(), 2);

        // A manual job is handed out first, and once DONE it is what TPE learns from.
        const QString name = QStringLiteral("tpe manual");
        QCOMPARE(env.put(name, R"({"status": "RUNNING", "scheduler": )" + space +
                                   R"(, "sampler": {"kind": "tpe", "result": "loss", "direction": "maximize",
                                      "seed": 5, "startupJobs": 1}})")
                     .status,
                 201);
        QCOMPARE(
            env.http
                ->post(expPath(name) + QStringLiteral("jobs/"), R"({"hyperparameters": {"x": 2, "y": 3}})")
                .status,
            201);
        const Reply manual = env.nextJob(name);
        QCOMPARE(hpOf(docOf(manual)).value(QStringLiteral("x")).toInteger(), 2);
        QVERIFY(env.finish(name, manual, "DONE", {{QStringLiteral("loss"), 7.0}}));
        const Reply next = env.nextJob(name);
        QCOMPARE(next.status, 200);
        Distributions ds;
        for (const char *n : {"x", "y"}) {
            NamedDistribution nd;
            nd.name = QString::fromLatin1(n);
            nd.distribution = n[0] == 'x' ? Distribution::uniform(-5, 10) : Distribution::uniform(0, 15);
            ds << nd;
        }
        server::TpeObservation seen;
        seen.status = JobStatus::Done;
        seen.hyperparameters = {{QStringLiteral("x"), 2}, {QStringLiteral("y"), 3}};
        seen.value = 7.0;
        seen.steps = 1;
        server::TpeSettings settings;
        settings.startupJobs = 1;
        settings.minimize = false;
        Sampler rng(server::mixSeed(5, 1));
        const QCborMap expected = server::suggestTpe(ds, {seen}, settings, rng);
        QCOMPARE(hpOf(docOf(next)).value(QStringLiteral("x")), expected.value(QStringLiteral("x")));
        QCOMPARE(hpOf(docOf(next)).value(QStringLiteral("y")), expected.value(QStringLiteral("y")));
    }
};

QTEST_GUILESS_MAIN(TestSearchStrategies)
#include "tst_searchstrategies.moc"
