#include "Json.h"
#include "TestServer.h"

#include <QSet>
#include <QUrl>
#include <QtTest>

#include <cmath>
#include <memory>

using namespace schedy;
using namespace schedy::test;

// The schedulers through HTTP (docs/protocol.md section 5): what nextjob hands out,
// and how workers claim and report jobs. Tests that need a deterministic
// hand-out order run with leaseSeconds = 0 (a QUEUED job is handed out again
// until it is claimed).
namespace {

QString s(const char *text)
{
    return QString::fromUtf8(text);
}

QString expPath(const QString &name)
{
    return QStringLiteral("experiments/") + enc(name) + QLatin1Char('/');
}
QString jobPath(const QString &name, const QString &id)
{
    return expPath(name) + QStringLiteral("jobs/") + enc(id) + QLatin1Char('/');
}

QCborMap mapOf(const QByteArray &jsonText)
{
    return json::parse(jsonText).toMap();
}

QString idOf(const Reply &r)
{
    return r.json.toMap().value(QStringLiteral("id")).toString();
}
QString statusOf(const Reply &r)
{
    return r.json.toMap().value(QStringLiteral("status")).toString();
}
QCborMap field(const QCborMap &doc, const char *key)
{
    return doc.value(QString::fromLatin1(key)).toMap();
}
QCborMap hpOf(const QCborMap &doc)
{
    return field(doc, "hyperparameters");
}
QCborMap resultsOf(const QCborMap &doc)
{
    return field(doc, "results");
}
qint64 generationOf(const QCborMap &doc)
{
    return doc.value(QStringLiteral("generation")).toInteger(-1);
}
QString str(const QCborMap &doc, const char *key)
{
    return doc.value(QString::fromLatin1(key)).toString();
}

// One user, one server, one client.
class Env
{
public:
    explicit Env(double leaseSeconds)
        : m_server(options(leaseSeconds))
    {}
    bool start()
    {
        if (!m_server.start())
            return false;
        m_http = std::make_unique<HttpTestClient>(m_server.root());
        return m_http->login(m_server.addUser(QStringLiteral("worker@example.com")));
    }
    HttpTestClient &http() { return *m_http; }

    Reply createExperiment(const QString &name, const QByteArray &scheduler, const char *status = "RUNNING")
    {
        return m_http->put(expPath(name),
                           "{\"status\": \"" + QByteArray(status) + "\", \"scheduler\": " + scheduler + '}');
    }
    Reply setStatus(const QString &name, const QByteArray &scheduler, const char *status)
    {
        return createExperiment(name, scheduler, status);
    }
    Reply experiment(const QString &name) { return m_http->get(expPath(name)); }
    Reply nextJob(const QString &name) { return m_http->get(expPath(name) + QStringLiteral("nextjob/")); }
    Reply post(const QString &name, const QByteArray &body)
    {
        return m_http->post(expPath(name) + QStringLiteral("jobs/"), body);
    }
    Reply job(const QString &name, const QString &id) { return m_http->get(jobPath(name, id)); }
    // PUT with If-Match, as the worker does.
    Reply put(const QString &name, const QString &id, const QByteArray &etag, const QString &status,
              const QCborMap &hyperparameters, const QCborMap &results)
    {
        const QCborMap body{{QStringLiteral("status"), status},
                            {QStringLiteral("hyperparameters"), hyperparameters},
                            {QStringLiteral("results"), results}};
        return m_http->put(jobPath(name, id), json::write(body), {{"If-Match", etag}});
    }
    // The claim of a handed-out job: status RUNNING, fields echoed.
    Reply claim(const QString &name, const Reply &handed)
    {
        const QCborMap doc = handed.json.toMap();
        return put(name, idOf(handed), handed.header("ETag"), QStringLiteral("RUNNING"), hpOf(doc),
                   resultsOf(doc));
    }
    // Every job of an experiment, oldest first, across pages.
    QList<QCborMap> jobs(const QString &name, bool *ok)
    {
        QList<QCborMap> out;
        QString path = expPath(name) + QStringLiteral("jobs/");
        *ok = false;
        for (int page = 0; page < 1000; ++page) {
            const Reply r = m_http->get(path);
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
            path = expPath(name) + QStringLiteral("jobs/?start=") +
                   QString::fromLatin1(QUrl::toPercentEncoding(next.toString()));
        }
        return out;
    }

private:
    static server::ServerOptions options(double leaseSeconds)
    {
        server::ServerOptions o;
        o.leaseSeconds = leaseSeconds;
        return o;
    }
    TestServer m_server;
    std::unique_ptr<HttpTestClient> m_http;
};

// A worker that takes one job: nextjob, claim, report. Used through the macros below.
struct Taken
{
    Reply handed;  // nextjob's answer
    Reply claimed; // the claim's answer
    QCborMap doc() const { return handed.json.toMap(); }
    QString id() const { return idOf(handed); }
    QByteArray etag() const { return claimed.header("ETag"); }
};

} // namespace

// Hands out the next job of `exp` and claims it; fails the test otherwise.
#define TAKE(env, exp, taken)                                                                                \
    do {                                                                                                     \
        (taken).handed = (env).nextJob(exp);                                                                 \
        QCOMPARE((taken).handed.status, 200);                                                                \
        QCOMPARE(statusOf((taken).handed), QStringLiteral("QUEUED"));                                        \
        QVERIFY(!(taken).handed.header("ETag").isEmpty());                                                   \
        (taken).claimed = (env).claim(exp, (taken).handed);                                                  \
        QCOMPARE((taken).claimed.status, 200);                                                               \
        QCOMPARE(statusOf((taken).claimed), QStringLiteral("RUNNING"));                                      \
    } while (false)

// Reports a claimed job with a status and results (hyperparameters echoed).
#define REPORT(env, exp, taken, jobStatus, jobResults)                                                       \
    do {                                                                                                     \
        const Reply reported_ = (env).put(exp, (taken).id(), (taken).etag(), QStringLiteral(jobStatus),      \
                                          hpOf((taken).doc()), jobResults);                                  \
        QCOMPARE(reported_.status, 200);                                                                     \
    } while (false)

namespace {

const QByteArray ManualScheduler = R"({"Manual": null})";

// PBT parameters as the original client sends them.
QByteArray pbtScheduler(const char *objective, double truncate, std::optional<int> numParallel,
                        std::optional<int> maxGenerations, const QByteArray &init, const QByteArray &explore)
{
    QByteArray p =
        "{\"PBT\": {\"objective\": \"" + QByteArray(objective) + "\", \"qualityResultName\": \"acc\"";
    if (numParallel)
        p += ", \"numParallel\": " + QByteArray::number(*numParallel);
    if (!init.isEmpty())
        p += ", \"init\": " + init;
    p += ", \"exploit\": {\"truncate\": " + QByteArray::number(truncate) + '}';
    if (!explore.isEmpty())
        p += ", \"explore\": " + explore;
    if (maxGenerations)
        p += ", \"maxGenerations\": " + QByteArray::number(*maxGenerations);
    return p + "}}";
}

QCborMap acc(const QCborValue &value)
{
    return QCborMap{{QStringLiteral("acc"), value}};
}

} // namespace

class TestScheduling : public QObject
{
    Q_OBJECT
private slots:
    // ---- Manual --------------------------------------------------------------------------

    void manual_oldestQueuedAndClaim()
    {
        Env env(0);
        QVERIFY(env.start());
        const QString e = s("manual");
        QCOMPARE(env.createExperiment(e, ManualScheduler).status, 201);
        QCOMPARE(env.nextJob(e).status, 204); // no job at all

        QStringList ids;
        for (const char *status : {"DONE", "QUEUED", "RUNNING", "QUEUED", "CRASHED", "PRUNED", "QUEUED"}) {
            const Reply r =
                env.post(e, "{\"status\": \"" + QByteArray(status) +
                                "\", \"hyperparameters\": {\"i\": " + QByteArray::number(ids.size()) + "}}");
            QCOMPARE(r.status, 201);
            ids << idOf(r);
        }

        // The oldest QUEUED job, handed out as stored (status QUEUED, same ETag), again until claimed.
        const Reply first = env.nextJob(e);
        QCOMPARE(first.status, 200);
        QCOMPARE(idOf(first), ids[1]);
        QCOMPARE(statusOf(first), s("QUEUED"));
        QCOMPARE(hpOf(first.json.toMap()), mapOf(R"({"i": 1})"));
        const QByteArray etag = first.header("ETag");
        QVERIFY(!etag.isEmpty());
        const Reply stored = env.job(e, ids[1]);
        QCOMPARE(stored.status, 200);
        QCOMPARE(statusOf(stored), s("QUEUED"));
        QCOMPARE(stored.header("ETag"), etag);
        const Reply again = env.nextJob(e);
        QCOMPARE(idOf(again), ids[1]);
        QCOMPARE(again.header("ETag"), etag);

        // Claim with If-Match: the ETag moves; the same ETag a second time is refused.
        const Reply claimed = env.claim(e, first);
        QCOMPARE(claimed.status, 200);
        QCOMPARE(statusOf(claimed), s("RUNNING"));
        QVERIFY(!claimed.header("ETag").isEmpty());
        QVERIFY(claimed.header("ETag") != etag);
        const Reply second = env.claim(e, again);
        QCOMPARE(second.status, 412);
        QCOMPARE(statusOf(env.job(e, ids[1])), s("RUNNING"));

        // The next QUEUED jobs, in order; RUNNING, DONE, CRASHED and PRUNED jobs never.
        Taken t;
        TAKE(env, e, t);
        QCOMPARE(t.id(), ids[3]);
        TAKE(env, e, t);
        QCOMPARE(t.id(), ids[6]);
        QCOMPARE(env.nextJob(e).status, 204);

        // A new QUEUED job is handed out at once.
        const Reply added = env.post(e, "{}");
        QCOMPARE(added.status, 201);
        QCOMPARE(idOf(env.nextJob(e)), idOf(added));

        QCOMPARE(env.nextJob(s("no such experiment")).status, 404);
    }

    // With leases, concurrent askers get different jobs first; when every QUEUED job is
    // leased the oldest is handed out again, and the ETag decides who claims it.
    void manual_leases()
    {
        Env env(3600);
        QVERIFY(env.start());
        const QString e = s("leased");
        QCOMPARE(env.createExperiment(e, ManualScheduler).status, 201);
        const QString a = idOf(env.post(e, "{}"));
        const QString b = idOf(env.post(e, "{}"));
        const Reply r1 = env.nextJob(e);
        const Reply r2 = env.nextJob(e);
        const Reply r3 = env.nextJob(e);
        QCOMPARE(idOf(r1), a);
        QCOMPARE(idOf(r2), b);
        QCOMPARE(idOf(r3), a);
        QCOMPARE(statusOf(env.job(e, a)), s("QUEUED"));
        QCOMPARE(env.claim(e, r3).status, 200);
        QCOMPARE(env.claim(e, r1).status, 412);
        QCOMPARE(idOf(env.nextJob(e)), b);
        QCOMPARE(env.claim(e, r2).status, 200);
        QCOMPARE(env.nextJob(e).status, 204);
    }

    // An experiment with status DONE hands out nothing, and resumes when RUNNING again.
    void paused_experiment()
    {
        Env env(0);
        QVERIFY(env.start());
        const QString e = s("paused");
        QCOMPARE(env.createExperiment(e, ManualScheduler).status, 201);
        const QString a = idOf(env.post(e, "{}"));
        QCOMPARE(env.setStatus(e, ManualScheduler, "DONE").status, 200);
        QCOMPARE(env.nextJob(e).status, 204);
        QCOMPARE(statusOf(env.job(e, a)), s("QUEUED"));
        QCOMPARE(env.setStatus(e, ManualScheduler, "RUNNING").status, 200);
        QCOMPARE(idOf(env.nextJob(e)), a);

        // Random search and PBT create nothing while paused.
        const QByteArray random = R"({"RandomSearch": {"x": {"uniform": {"low": 0.0, "high": 1.0}}}})";
        const QByteArray pbt = pbtScheduler("max", 0.2, 2, 3, {}, {});
        for (const auto &[name, scheduler] :
             {std::pair(s("paused random"), random), std::pair(s("paused pbt"), pbt)}) {
            QCOMPARE(env.createExperiment(name, scheduler, "DONE").status, 201);
            QCOMPARE(env.nextJob(name).status, 204);
            bool ok = false;
            QVERIFY(env.jobs(name, &ok).isEmpty());
            QVERIFY(ok);
            QCOMPARE(env.setStatus(name, scheduler, "RUNNING").status, 200);
            QCOMPARE(env.nextJob(name).status, 200);
        }
    }

    // ---- RandomSearch --------------------------------------------------------------------

    void randomSearch_queuedFirstThenSampled()
    {
        Env env(0);
        QVERIFY(env.start());
        const QString e = s("random");
        const QByteArray scheduler = R"({"RandomSearch": {
            "u": {"uniform": {"low": 2.0, "high": 3.0}},
            "lu": {"loguniform": {"low": 0.001, "high": 0.1}},
            "nrm": {"normal": {"mean": 5.0, "std": 1.0}},
            "c": {"choice": {"values": [1, 2, 3]}},
            "w": {"choice": {"values": ["relu", "tanh", "sigmoid"], "weights": [1.0, 0.0, 3.0]}},
            "k": {"const": {"a": [1, "x"]}}}})";
        QCOMPARE(env.createExperiment(e, scheduler).status, 201);
        const QString q1 = idOf(env.post(e, R"({"hyperparameters": {"u": 100}})"));
        const QString q2 = idOf(env.post(e, R"({"hyperparameters": {"u": 200}})"));

        Taken t;
        TAKE(env, e, t);
        QCOMPARE(t.id(), q1);
        QCOMPARE(hpOf(t.doc()), mapOf(R"({"u": 100})"));
        TAKE(env, e, t);
        QCOMPARE(t.id(), q2);

        QSet<QString> ids{q1, q2};
        QSet<qint64> choices;
        QSet<QString> words;
        double uMin = 3, uMax = 2, nrmSum = 0;
        const int n = 150;
        for (int i = 0; i < n; ++i) {
            TAKE(env, e, t);
            QVERIFY2(!ids.contains(t.id()), "a sampled job reused an id");
            ids.insert(t.id());
            const QCborMap hp = hpOf(t.doc());
            QCOMPARE(hp.size(), 6);
            QCOMPARE(hp.keys().first().toString(), s("u")); // the distributions' order
            const QCborValue u = hp.value(s("u"));
            QVERIFY(u.isDouble() && u.toDouble() >= 2.0 && u.toDouble() < 3.0);
            uMin = std::min(uMin, u.toDouble());
            uMax = std::max(uMax, u.toDouble());
            const QCborValue lu = hp.value(s("lu"));
            QVERIFY(lu.isDouble() && lu.toDouble() >= 0.001 && lu.toDouble() < 0.1);
            const QCborValue nrm = hp.value(s("nrm"));
            QVERIFY(nrm.isDouble() && std::isfinite(nrm.toDouble()));
            nrmSum += nrm.toDouble();
            const QCborValue c = hp.value(s("c"));
            QVERIFY2(c.isInteger(), "a choice of integers gave a non-integer");
            QVERIFY(c.toInteger() >= 1 && c.toInteger() <= 3);
            choices.insert(c.toInteger());
            words.insert(hp.value(s("w")).toString());
            QCOMPARE(hp.value(s("k")), json::parse(R"({"a": [1, "x"]})"));
            QVERIFY(resultsOf(t.doc()).isEmpty());
            // Stored before it was handed out; the claim above moved it to RUNNING.
            QCOMPARE(statusOf(env.job(e, t.id())), s("RUNNING"));
        }
        QVERIFY(uMin < 2.2 && uMax > 2.8);
        QVERIFY(std::abs(nrmSum / n - 5.0) < 0.5);
        QCOMPARE(choices, (QSet<qint64>{1, 2, 3}));
        QCOMPARE(words, (QSet<QString>{s("relu"), s("sigmoid")})); // weight 0: never
        bool ok = false;
        QCOMPARE(env.jobs(e, &ok).size(), n + 2);
        QVERIFY(ok);

        // A QUEUED job added later goes first again.
        const QString q3 = idOf(env.post(e, "{}"));
        QCOMPARE(idOf(env.nextJob(e)), q3);
    }

    // ---- PBT -----------------------------------------------------------------------------

    // P = 4 members, G = 5 generations, nothing crashes: P G jobs, then DONE.
    void pbt_endToEnd()
    {
        Env env(5);
        QVERIFY(env.start());
        const QString e = s("pbt");
        const int P = 4, G = 5;
        const QByteArray scheduler = pbtScheduler(
            "max", 0.25, P, G,
            R"({"lr": {"loguniform": {"low": 0.0001, "high": 0.1}}, "n": {"choice": {"values": [8, 16, 32]}},
                "opt": {"const": "sgd"}, "fixed": {"uniform": {"low": 0.0, "high": 1.0}}})",
            R"({"lr": {"perturb": {"minFactor": 0.5, "maxFactor": 2.0}},
                "n": {"perturb": {"minFactor": 0.5, "maxFactor": 2.0}},
                "opt": {"perturb": {"minFactor": 0.5, "maxFactor": 2.0}}})");
        QCOMPARE(env.createExperiment(e, scheduler).status, 201);
        const QCborMap params = field(field(env.experiment(e).json.toMap(), "scheduler"), "PBT");
        QCOMPARE(params.value(s("max_generations")), QCborValue(G));
        QCOMPARE(params.value(s("maxGenerations")), QCborValue(G));

        // The worker: quality depends on the member only, so the last member is always the worst
        // (k = max(1, floor(4 * 0.25)) = 1) and the first one the best.
        QHash<QString, QCborMap> handed; // id -> the document nextjob gave
        QHash<QString, int> memberIndex; // member -> order of its generation-0 job
        int taken = 0;
        for (;; ++taken) {
            QVERIFY2(taken <= P * G, "more jobs than P * G");
            const Reply r = env.nextJob(e);
            if (r.status == 204)
                break;
            Taken t;
            t.handed = r;
            QCOMPARE(r.status, 200);
            QCOMPARE(statusOf(r), s("QUEUED"));
            handed.insert(t.id(), t.doc());
            t.claimed = env.claim(e, r);
            QCOMPARE(t.claimed.status, 200);
            const QString member = str(t.doc(), "member");
            if (generationOf(t.doc()) == 0)
                memberIndex.insert(member, memberIndex.size());
            QVERIFY(memberIndex.contains(member));
            QCborMap results = resultsOf(t.doc());
            results.insert(s("acc"), 1.0 - 0.1 * memberIndex.value(member));
            results.insert(s("ckpt"), QString(s("models/") + t.id() + s(".pt")));
            results.insert(s("steps"), results.value(s("steps")).toInteger(0) + 1);
            REPORT(env, e, t, "DONE", results);
        }
        QCOMPARE(taken, P * G);
        QCOMPARE(env.experiment(e).json.toMap().value(s("status")).toString(), s("DONE"));
        QCOMPARE(env.nextJob(e).status, 204);

        bool ok = false;
        const QList<QCborMap> all = env.jobs(e, &ok);
        QVERIFY(ok);
        QCOMPARE(all.size(), P * G);
        QHash<QString, QCborMap> byId;
        QHash<QPair<QString, qint64>, QString> byMemberGeneration;
        for (const QCborMap &j : all) {
            const QString id = str(j, "id");
            QCOMPARE(str(j, "status"), s("DONE"));
            byId.insert(id, j);
            const auto key = qMakePair(str(j, "member"), generationOf(j));
            QVERIFY2(!byMemberGeneration.contains(key), "a (member, generation) pair appears twice");
            byMemberGeneration.insert(key, id);
            QVERIFY(generationOf(j) >= 0 && generationOf(j) < G);
        }
        QCOMPARE(memberIndex.size(), P);
        QCOMPARE(byMemberGeneration.size(), P * G); // so every pair appears exactly once

        int exploited = 0;
        for (const QCborMap &j : all) {
            const QString id = str(j, "id");
            const QString member = str(j, "member");
            const qint64 generation = generationOf(j);
            const QCborMap hp = hpOf(j);
            QVERIFY2(hp.value(s("n")).isInteger(), "an integer hyperparameter became a float");
            QCOMPARE(hp.value(s("opt")), QCborValue(s("sgd")));
            if (generation == 0) {
                QCOMPARE(member, id);
                QVERIFY(str(j, "parent").isEmpty());
                QCOMPARE(resultsOf(j).value(s("steps")), QCborValue(1));
                continue;
            }
            const QString parentId = str(j, "parent");
            QVERIFY2(byId.contains(parentId), "a child without its parent");
            const QCborMap parent = byId.value(parentId);
            const QCborMap previous = byId.value(byMemberGeneration.value(qMakePair(member, generation - 1)));
            // Results (the checkpoint) are the parent's, as handed out.
            QCOMPARE(resultsOf(handed.value(id)), resultsOf(parent));
            QCOMPARE(resultsOf(handed.value(id)).value(s("ckpt")).toString(),
                     s("models/") + parentId + s(".pt"));
            QCOMPARE(hpOf(handed.value(id)), hp);
            if (str(parent, "member") == member) {
                // Continued from itself: the previous generation of the member, unchanged.
                QCOMPARE(parentId, str(previous, "id"));
                QCOMPARE(generation, generationOf(parent) + 1);
                QCOMPARE(hp, hpOf(parent));
                QVERIFY2(memberIndex.value(member) != P - 1, "the worst member was not exploited");
            } else {
                // Exploited: the worst member copies the best one, explored values perturbed.
                ++exploited;
                QCOMPARE(memberIndex.value(member), P - 1);
                QCOMPARE(memberIndex.value(str(parent, "member")), 0);
                const QCborMap from = hpOf(parent);
                const double lrFactor = hp.value(s("lr")).toDouble() / from.value(s("lr")).toDouble();
                QVERIFY2(lrFactor >= 0.5 - 1e-9 && lrFactor < 2.0 + 1e-9,
                         qPrintable(QString::number(lrFactor)));
                QVERIFY(hp.value(s("lr")) != from.value(s("lr")));
                const qint64 n0 = from.value(s("n")).toInteger();
                const qint64 n1 = hp.value(s("n")).toInteger();
                QVERIFY2(n1 >= std::llround(n0 * 0.5) && n1 <= 2 * n0, qPrintable(QString::number(n1)));
                QCOMPARE(hp.value(s("fixed")), from.value(s("fixed"))); // not explored
                // Its generation follows its own member's, not the source's.
                QCOMPARE(generation, generationOf(previous) + 1);
            }
        }
        QCOMPARE(exploited, G - 1);
    }

    // Rule 1: QUEUED jobs go first, also in PBT experiments.
    void pbt_rule1_queuedFirst()
    {
        Env env(0);
        QVERIFY(env.start());
        const QString e = s("pbt1");
        QCOMPARE(env.createExperiment(e, pbtScheduler("max", 0.5, 2, std::nullopt, {}, {})).status, 201);
        const QString a = idOf(env.post(e, R"({"hyperparameters": {"x": 1}})"));
        const Reply first = env.nextJob(e);
        QCOMPARE(idOf(first), a);
        QCOMPARE(generationOf(first.json.toMap()), 0); // a posted job is a generation-0 member
        QCOMPARE(str(first.json.toMap(), "member"), a);
        QCOMPARE(idOf(env.nextJob(e)), a); // until claimed (no lease)
        QCOMPARE(env.claim(e, first).status, 200);
        Taken b;
        TAKE(env, e, b);
        QVERIFY(b.id() != a);
        QCOMPARE(env.nextJob(e).status, 204); // both members busy

        REPORT(env, e, b, "DONE", acc(0.5));
        const QString c = idOf(env.post(e, R"({"hyperparameters": {"x": 3}})"));
        Taken t;
        TAKE(env, e, t);
        QCOMPARE(t.id(), c); // before continuing b
        TAKE(env, e, t);
        QCOMPARE(str(t.doc(), "member"), b.id());
        QCOMPARE(generationOf(t.doc()), 1);
    }

    // Rule 2: generation-0 jobs up to numParallel, crashed ones replaced.
    void pbt_rule2_population()
    {
        Env env(0);
        QVERIFY(env.start());
        const QString e = s("pbt2");
        const QByteArray init =
            R"({"x": {"uniform": {"low": 10.0, "high": 20.0}}, "k": {"choice": {"values": [4, 5]}}})";
        QCOMPARE(env.createExperiment(e, pbtScheduler("min", 0.2, 3, std::nullopt, init, {})).status, 201);
        QList<Taken> members;
        for (int i = 0; i < 3; ++i) {
            Taken t;
            TAKE(env, e, t);
            QCOMPARE(generationOf(t.doc()), 0);
            QCOMPARE(str(t.doc(), "member"), t.id());
            QVERIFY(str(t.doc(), "parent").isEmpty());
            const QCborMap hp = hpOf(t.doc());
            QVERIFY(hp.value(s("x")).toDouble() >= 10.0 && hp.value(s("x")).toDouble() < 20.0);
            QVERIFY(hp.value(s("k")).isInteger());
            members.append(t);
        }
        QCOMPARE(env.nextJob(e).status, 204);
        REPORT(env, e, members[1], "CRASHED", QCborMap{});
        Taken replacement;
        TAKE(env, e, replacement);
        QCOMPARE(generationOf(replacement.doc()), 0);
        QCOMPARE(str(replacement.doc(), "member"), replacement.id());
        QCOMPARE(env.nextJob(e).status, 204);
        bool ok = false;
        QCOMPARE(env.jobs(e, &ok).size(), 4);

        // Without numParallel: a population of 10.
        const QString d = s("pbt2-default");
        QCOMPARE(
            env.createExperiment(d, pbtScheduler("min", 0.2, std::nullopt, std::nullopt, init, {})).status,
            201);
        for (int i = 0; i < 10; ++i) {
            Taken t;
            TAKE(env, d, t);
            QCOMPARE(generationOf(t.doc()), 0);
        }
        QCOMPARE(env.nextJob(d).status, 204);
    }

    // Rule 3: the member ready first is continued; DONE jobs without a numeric quality never are.
    void pbt_rule3_readyOrderAndQuality()
    {
        Env env(0);
        QVERIFY(env.start());
        const QString e = s("pbt3");
        QCOMPARE(env.createExperiment(e, pbtScheduler("max", 0.2, 3, std::nullopt, {}, {})).status, 201);
        Taken a, b, c;
        TAKE(env, e, a);
        TAKE(env, e, b);
        TAKE(env, e, c);
        REPORT(env, e, c, "DONE", acc(0.5));
        REPORT(env, e, a, "DONE", acc(s("high"))); // not a number
        REPORT(env, e, b, "DONE", acc(1));         // integers are numbers

        Taken c1, b1;
        TAKE(env, e, c1);
        QCOMPARE(str(c1.doc(), "member"), c.id());
        QCOMPARE(generationOf(c1.doc()), 1);
        TAKE(env, e, b1);
        QCOMPARE(str(b1.doc(), "member"), b.id());
        QCOMPARE(env.nextJob(e).status, 204); // a is never picked; the others are busy
        QCOMPARE(env.experiment(e).json.toMap().value(s("status")).toString(), s("RUNNING"));

        REPORT(env, e, b1, "DONE", acc(2.0));
        REPORT(env, e, c1, "DONE", acc(3.0));
        Taken next;
        TAKE(env, e, next);
        QCOMPARE(str(next.doc(), "member"), b.id());
        QCOMPARE(generationOf(next.doc()), 2);
        TAKE(env, e, next);
        QCOMPARE(str(next.doc(), "member"), c.id());
        QCOMPARE(env.nextJob(e).status, 204); // no maxGenerations: never finished
    }

    // Rules 3 and 7: maxGenerations bounds the lineages; the experiment becomes DONE when
    // nothing is left, not before; raising the limit resumes it.
    void pbt_rule7_maxGenerations()
    {
        Env env(0);
        QVERIFY(env.start());
        const QString e = s("pbt7");
        QCOMPARE(env.createExperiment(e, pbtScheduler("max", 0.5, 2, 2, {}, {})).status, 201);
        Taken a, b, a1, b1;
        TAKE(env, e, a);
        TAKE(env, e, b);
        REPORT(env, e, a, "DONE", acc(1.0));
        REPORT(env, e, b, "DONE", acc(1.0));
        TAKE(env, e, a1);
        TAKE(env, e, b1);
        QCOMPARE(generationOf(b1.doc()), 1);
        REPORT(env, e, a1, "DONE", acc(1.0));
        QCOMPARE(env.nextJob(e).status, 204); // b1 still running: wait
        QCOMPARE(env.experiment(e).json.toMap().value(s("status")).toString(), s("RUNNING"));
        REPORT(env, e, b1, "DONE", acc(1.0));
        // Finished with the last report, not only when a worker asks again.
        QCOMPARE(env.experiment(e).json.toMap().value(s("status")).toString(), s("DONE"));
        QCOMPARE(env.nextJob(e).status, 204);
        QCOMPARE(env.experiment(e).json.toMap().value(s("status")).toString(), s("DONE"));
        bool ok = false;
        QCOMPARE(env.jobs(e, &ok).size(), 4);

        // A third generation.
        QCOMPARE(env.setStatus(e, pbtScheduler("max", 0.5, 2, 3, {}, {}), "RUNNING").status, 200);
        Taken a2;
        TAKE(env, e, a2);
        QCOMPARE(generationOf(a2.doc()), 2);
        QCOMPARE(str(a2.doc(), "member"), a.id());
    }

    // Rules 4 and 5 with a minimized objective and fixed factors: the worse member copies the
    // better one's hyperparameters (perturbed) and results; the better one its own, unchanged.
    void pbt_rule45_exploitExplore()
    {
        Env env(0);
        QVERIFY(env.start());
        const QString e = s("pbt45");
        const QByteArray init = R"({"x": {"const": 1.5}, "k": {"const": 3}, "s": {"const": "keep"}})";
        const QByteArray explore = R"({"x": {"perturb": {"minFactor": 2.0, "maxFactor": 2.0}},
                                       "k": {"perturb": {"minFactor": 2.0, "maxFactor": 2.0}}})";
        QCOMPARE(env.createExperiment(e, pbtScheduler("min", 0.5, 2, std::nullopt, init, explore)).status,
                 201);
        Taken a, b;
        TAKE(env, e, a);
        TAKE(env, e, b);
        const QCborMap aResults{{s("acc"), 0.1}, {s("ckpt"), s("a.pt")}};
        REPORT(env, e, a, "DONE", aResults); // best (min), ready first
        REPORT(env, e, b, "DONE", QCborMap({{s("acc"), 0.9}, {s("ckpt"), s("b.pt")}})); // worst

        Taken a1;
        TAKE(env, e, a1);
        QCOMPARE(str(a1.doc(), "member"), a.id());
        QCOMPARE(str(a1.doc(), "parent"), a.id());
        QCOMPARE(hpOf(a1.doc()), mapOf(R"({"x": 1.5, "k": 3, "s": "keep"})"));
        QCOMPARE(resultsOf(a1.doc()), aResults);

        Taken b1;
        TAKE(env, e, b1);
        QCOMPARE(str(b1.doc(), "member"), b.id());
        QCOMPARE(str(b1.doc(), "parent"), a.id());
        QCOMPARE(generationOf(b1.doc()), 1);
        QCOMPARE(resultsOf(b1.doc()), aResults);
        const QCborMap hp = hpOf(b1.doc());
        QCOMPARE(hp, mapOf(R"({"x": 3.0, "k": 6, "s": "keep"})"));
        QVERIFY(hp.value(s("k")).isInteger());
        QVERIFY(b1.handed.body.contains(R"("hyperparameters":{"x":3.0,"k":6,"s":"keep"})"));
    }

    // Rule 6: a crash gives the job back; the population never shrinks.
    void pbt_rule6_crashes()
    {
        Env env(0);
        QVERIFY(env.start());
        const QString e = s("pbt6");
        const int P = 3, G = 3;
        QCOMPARE(env.createExperiment(e, pbtScheduler("max", 0.34, P, G, {}, {})).status, 201);

        int handedOut = 0, crashes = 0;
        bool crashedGeneration0 = false, crashedGeneration1 = false, crashedLast = false;
        QString retryMember;
        qint64 retryGeneration = -1;
        for (;;) {
            QVERIFY2(handedOut < 30, "too many jobs");
            const Reply r = env.nextJob(e);
            if (r.status == 204)
                break;
            Taken t;
            t.handed = r;
            QCOMPARE(r.status, 200);
            t.claimed = env.claim(e, r);
            QCOMPARE(t.claimed.status, 200);
            ++handedOut;
            const qint64 generation = generationOf(t.doc());
            const QString member = str(t.doc(), "member");
            if (!retryMember.isEmpty()) {
                // The crashed job's predecessor is continued again, right away (it was ready first).
                QCOMPARE(member, retryMember);
                QCOMPARE(generation, retryGeneration);
                retryMember.clear();
            }
            bool crash = false;
            if (generation == 0 && handedOut == 2 && !crashedGeneration0)
                crash = crashedGeneration0 = true;
            else if (generation == 1 && !crashedGeneration1)
                crash = crashedGeneration1 = true;
            else if (generation == G - 1 && !crashedLast)
                crash = crashedLast = true;
            if (crash) {
                ++crashes;
                REPORT(env, e, t, "CRASHED", QCborMap{});
                if (generation > 0) {
                    retryMember = member;
                    retryGeneration = generation;
                }
                continue;
            }
            REPORT(env, e, t, "DONE", acc(double(handedOut)));
        }
        QCOMPARE(crashes, 3);
        QCOMPARE(handedOut, P * G + crashes);
        QCOMPARE(env.experiment(e).json.toMap().value(s("status")).toString(), s("DONE"));

        bool ok = false;
        const QList<QCborMap> all = env.jobs(e, &ok);
        QVERIFY(ok);
        QSet<QPair<QString, qint64>> done;
        int doneCount = 0;
        for (const QCborMap &j : all) {
            if (str(j, "status") != s("DONE"))
                continue;
            ++doneCount;
            done.insert(qMakePair(str(j, "member"), generationOf(j)));
        }
        QCOMPARE(doneCount, P * G);
        QCOMPARE(done.size(), P * G); // every member reached every generation once
    }
};

QTEST_GUILESS_MAIN(TestScheduling)
#include "tst_scheduling.moc"
