#include "Codec.h"
#include "Json.h"
#include "Types.h"

#include <QStringList>
#include <QtTest>

using namespace schedy;

Q_DECLARE_METATYPE(schedy::Distribution)
Q_DECLARE_METATYPE(schedy::Scheduler)
Q_DECLARE_METATYPE(schedy::Job)

namespace {

// Parses text that the test itself provides; a failure is a bug in the test data.
#define PARSE_JSON(var, text)                                                                                \
    QCborValue var;                                                                                          \
    do {                                                                                                     \
        json::ParseError pe_;                                                                                \
        var = json::parse(text, &pe_);                                                                       \
        QVERIFY2(!pe_.isError(), qPrintable(pe_.message));                                                   \
    } while (false)

// The same value with every object's keys sorted, so that two documents can be
// compared as JSON ("equivalent") while numbers still keep their identity.
QCborValue sortedKeys(const QCborValue &v)
{
    if (v.isArray()) {
        QCborArray out;
        for (const QCborValue &item : v.toArray())
            out.append(sortedKeys(item));
        return out;
    }
    if (v.isMap()) {
        const QCborMap in = v.toMap();
        QStringList keys;
        for (auto it = in.begin(); it != in.end(); ++it)
            keys.append(it.key().toString());
        keys.sort();
        QCborMap out;
        for (const QString &k : keys)
            out.insert(k, sortedKeys(in.value(k)));
        return out;
    }
    return v;
}

QByteArray canonical(const QCborValue &v)
{
    return json::write(sortedKeys(v));
}

QStringList keysOf(const QCborMap &m)
{
    QStringList keys;
    for (auto it = m.begin(); it != m.end(); ++it)
        keys.append(it.key().toString());
    return keys;
}

QCborMap object(std::initializer_list<std::pair<const char *, QCborValue>> entries)
{
    QCborMap m;
    for (const auto &[k, v] : entries)
        m.insert(QLatin1String(k), v);
    return m;
}

QByteArray protocolExample(int n)
{
    // docs/protocol.md section 7, verbatim.
    switch (n) {
    case 1:
        return R"({"status": "RUNNING", "scheduler": {"Manual": null}})";
    case 2:
        return R"({"name": "MinimizeRandom", "status": "RUNNING", "scheduler": {"RandomSearch": {
  "x": {"normal": {"mean": 0.0, "std": 5.0}},
  "lr": {"loguniform": {"low": 1e-06, "high": 0.1}},
  "dropout": {"uniform": {"low": 0.0, "high": 0.8}},
  "layers": {"choice": {"values": [1, 2, 3, 4, 5]}},
  "activation": {"choice": {"values": ["relu", "tanh"], "weights": [3.0, 1.0]}},
  "optimizer": {"const": {"name": "sgd", "momentum": 0.9}}}}})";
    case 3:
        return R"({"name": "MNIST with PBT", "status": "RUNNING", "scheduler": {"PBT": {
  "objective": "max", "qualityResultName": "max_accuracy",
  "numParallel": 20,
  "init": {"num_filters": {"choice": {"values": [2, 4, 8, 16, 32, 64, 128, 256]}},
           "learning_rate": {"loguniform": {"low": 1e-08, "high": 1.0}},
           "dropout_rate": {"uniform": {"low": 0.0, "high": 0.8}}},
  "exploit": {"truncate": 0.2},
  "explore": {"learning_rate": {"perturb": {"minFactor": 0.8, "maxFactor": 1.2}},
              "dropout_rate": {"perturb": {"minFactor": 0.8, "maxFactor": 1.2}}},
  "maxGenerations": 10, "max_generations": 10}}})";
    case 4:
        return R"({"id": "Exhn_Q", "experiment": "MNIST with PBT", "status": "RUNNING",
 "hyperparameters": {"num_filters": 32, "learning_rate": 0.0123, "dropout_rate": 0.31},
 "results": {"accuracy": [0.91, 0.95], "max_accuracy": 0.95, "weights_path": "models/7P_Scw.h5"},
 "createdAt": 1795891234.5, "modifiedAt": 1795891290.25, "generation": 3, "parent": "7P_Scw"})";
    case 5:
        return R"({"items": [{"name": "MinimizeManual", "status": "DONE", "scheduler": {"Manual": null}}],
 "next": "c2VxOjEwMA"})";
    }
    return {};
}

PbtSettings fullPbt()
{
    PbtSettings pbt;
    pbt.objective = Objective::Minimize;
    pbt.qualityResultName = QStringLiteral("loss");
    pbt.truncate = 0.25;
    pbt.explore = {Perturb{QStringLiteral("lr"), 0.8, 1.2}, Perturb{QStringLiteral("momentum"), 1.0, 1.0}};
    pbt.init = {NamedDistribution{QStringLiteral("lr"), Distribution::logUniform(1e-5, 0.1)},
                NamedDistribution{QStringLiteral("momentum"), Distribution::uniform(0.5, 0.99)},
                NamedDistribution{QStringLiteral("batch"),
                                  Distribution::choice(QCborArray{16, 32, 64}, {1.0, 2.0, 1.0})}};
    pbt.numParallel = 8;
    pbt.maxGenerations = 5;
    return pbt;
}

Scheduler pbtScheduler(const PbtSettings &pbt)
{
    Scheduler s;
    s.kind = Scheduler::Kind::Pbt;
    s.pbt = pbt;
    return s;
}

Job sampleJob(bool withExtensions)
{
    Job j;
    j.id = QStringLiteral("59Q87A");
    j.experiment = QStringLiteral("MNIST CNN");
    j.status = JobStatus::Done;
    j.hyperparameters = object({{"lr", 0.01}, {"layers", 3}, {"act", QStringLiteral("relu")}});
    j.results = object({{"loss", QCborArray{0.9, 0.5}}, {"acc", 0.97}, {"epochs", 2}});
    if (withExtensions) {
        j.createdAt = 1795891234.5;
        j.modifiedAt = 1795891290.0;
        j.generation = 3;
        j.parent = QStringLiteral("7P_Scw");
        j.member = QStringLiteral("Zq-01x");
    }
    return j;
}

} // namespace

class TestCodec : public QObject
{
    Q_OBJECT
private slots:
    // ---- Distributions -------------------------------------------------------------------------------

    void distributionRoundTripsThroughWireJson_data()
    {
        QTest::addColumn<Distribution>("distribution");
        QTest::addColumn<QByteArray>("wire");
        QTest::newRow("uniform") << Distribution::uniform(0, 0.8)
                                 << QByteArray(R"({"uniform":{"low":0.0,"high":0.8}})");
        QTest::newRow("uniform negative")
            << Distribution::uniform(-3.5, -1) << QByteArray(R"({"uniform":{"low":-3.5,"high":-1.0}})");
        QTest::newRow("loguniform") << Distribution::logUniform(1e-6, 0.1)
                                    << QByteArray(R"({"loguniform":{"low":1e-06,"high":0.1}})");
        QTest::newRow("normal") << Distribution::normal(0, 5)
                                << QByteArray(R"({"normal":{"mean":0.0,"std":5.0}})");
        QTest::newRow("normal std 0")
            << Distribution::normal(2.5, 0) << QByteArray(R"({"normal":{"mean":2.5,"std":0.0}})");
        QTest::newRow("choice ints") << Distribution::choice(QCborArray{1, 2, 3, 4, 5})
                                     << QByteArray(R"({"choice":{"values":[1,2,3,4,5]}})");
        QTest::newRow("choice any json")
            << Distribution::choice(QCborArray{QStringLiteral("relu"), 1.0, QCborValue(QCborValue::Null),
                                               true, QCborArray{1, 2}, object({{"k", 1}})})
            << QByteArray(R"({"choice":{"values":["relu",1.0,null,true,[1,2],{"k":1}]}})");
        QTest::newRow("choice weighted")
            << Distribution::choice(QCborArray{QStringLiteral("relu"), QStringLiteral("tanh")}, {3.0, 1.0})
            << QByteArray(R"({"choice":{"values":["relu","tanh"],"weights":[3.0,1.0]}})");
        QTest::newRow("choice weighted with zero")
            << Distribution::choice(QCborArray{1, 2, 3}, {0.0, 0.5, 2.0})
            << QByteArray(R"({"choice":{"values":[1,2,3],"weights":[0.0,0.5,2.0]}})");
        QTest::newRow("const object")
            << Distribution::constantValue(object({{"name", QStringLiteral("sgd")}, {"momentum", 0.9}}))
            << QByteArray(R"({"const":{"name":"sgd","momentum":0.9}})");
        QTest::newRow("const null") << Distribution::constantValue(QCborValue(QCborValue::Null))
                                    << QByteArray(R"({"const":null})");
        QTest::newRow("const int") << Distribution::constantValue(7) << QByteArray(R"({"const":7})");
        QTest::newRow("const float one")
            << Distribution::constantValue(1.0) << QByteArray(R"({"const":1.0})");
        QTest::newRow("const string")
            << Distribution::constantValue(QStringLiteral("adam")) << QByteArray(R"({"const":"adam"})");
        QTest::newRow("const list") << Distribution::constantValue(QCborArray{1, QStringLiteral("a")})
                                    << QByteArray(R"({"const":[1,"a"]})");
        QTest::newRow("const false") << Distribution::constantValue(false)
                                     << QByteArray(R"({"const":false})");
    }
    void distributionRoundTripsThroughWireJson()
    {
        QFETCH(Distribution, distribution);
        QFETCH(QByteArray, wire);

        const QByteArray text = json::write(codec::encode(distribution));
        QCOMPARE(text, wire);

        PARSE_JSON(parsed, text);
        const auto decoded = codec::decodeDistribution(parsed, QStringLiteral("hp"));
        QVERIFY2(decoded.ok(), qPrintable(decoded.ok() ? QString() : decoded.error().message()));
        QVERIFY(decoded.value() == distribution);
        QCOMPARE(toString(decoded->kind), toString(distribution.kind));
        QCOMPARE(json::write(codec::encode(decoded.value())), wire);
    }

    void distributionIntegerArgumentsAreReadAsNumbers()
    {
        // The CLI and hand-written documents may use integers for float arguments.
        PARSE_JSON(v, QByteArray(R"({"uniform": {"low": 0, "high": 10}})"));
        const auto d = codec::decodeDistribution(v);
        QVERIFY(d.ok());
        QCOMPARE(d->low, 0.0);
        QCOMPARE(d->high, 10.0);
        PARSE_JSON(w, QByteArray(R"({"choice": {"values": ["a", "b"], "weights": [3, 1]}})"));
        const auto c = codec::decodeDistribution(w);
        QVERIFY(c.ok());
        QCOMPARE(c->weights, (QList<double>{3.0, 1.0}));
        PARSE_JSON(n, QByteArray(R"({"choice": {"values": ["a", "b"], "weights": null}})"));
        const auto nullWeights = codec::decodeDistribution(n);
        QVERIFY(nullWeights.ok());
        QVERIFY(nullWeights->weights.isEmpty());
    }

    void distributionKindNamesMatchTheWire()
    {
        using K = Distribution::Kind;
        const QList<std::pair<K, const char *>> kinds = {{K::Uniform, "uniform"},
                                                         {K::LogUniform, "loguniform"},
                                                         {K::Normal, "normal"},
                                                         {K::Choice, "choice"},
                                                         {K::Const, "const"}};
        for (const auto &[kind, name] : kinds) {
            QCOMPARE(toString(kind), QLatin1String(name));
            QVERIFY(distributionKindFromString(QLatin1String(name)) == std::optional<K>(kind));
        }
        QVERIFY(!distributionKindFromString(QStringLiteral("Uniform")));
        QVERIFY(!distributionKindFromString(QString()));
    }

    // ---- Schedulers ----------------------------------------------------------------------------------

    void schedulerRoundTripsThroughWireJson_data()
    {
        QTest::addColumn<Scheduler>("scheduler");
        QTest::addColumn<QByteArray>("wire");

        QTest::newRow("Manual") << Scheduler{} << QByteArray(R"({"Manual":null})");

        Scheduler emptyRandom;
        emptyRandom.kind = Scheduler::Kind::RandomSearch;
        QTest::newRow("RandomSearch empty") << emptyRandom << QByteArray(R"({"RandomSearch":{}})");

        Scheduler random;
        random.kind = Scheduler::Kind::RandomSearch;
        random.distributions = {
            NamedDistribution{QStringLiteral("z"), Distribution::normal(0, 5)},
            NamedDistribution{QStringLiteral("lr"), Distribution::logUniform(1e-6, 0.1)},
            NamedDistribution{QStringLiteral("a"), Distribution::choice(QCborArray{1, 2})},
            NamedDistribution{QStringLiteral("opt"), Distribution::constantValue(QStringLiteral("sgd"))}};
        QTest::newRow("RandomSearch keeps hyperparameter order")
            << random
            << QByteArray(R"({"RandomSearch":{"z":{"normal":{"mean":0.0,"std":5.0}},)"
                          R"("lr":{"loguniform":{"low":1e-06,"high":0.1}},)"
                          R"("a":{"choice":{"values":[1,2]}},"opt":{"const":"sgd"}}})");

        PbtSettings minimal;
        minimal.objective = Objective::Maximize;
        minimal.qualityResultName = QStringLiteral("acc");
        minimal.truncate = 0.2;
        QTest::newRow("PBT minimal")
            << pbtScheduler(minimal)
            << QByteArray(
                   R"({"PBT":{"objective":"max","qualityResultName":"acc","exploit":{"truncate":0.2}}})");

        QTest::newRow("PBT full")
            << pbtScheduler(fullPbt())
            << QByteArray(
                   R"({"PBT":{"objective":"min","qualityResultName":"loss","exploit":{"truncate":0.25},)"
                   R"("explore":{"lr":{"perturb":{"minFactor":0.8,"maxFactor":1.2}},)"
                   R"("momentum":{"perturb":{"minFactor":1.0,"maxFactor":1.0}}},)"
                   R"("init":{"lr":{"loguniform":{"low":1e-05,"high":0.1}},)"
                   R"("momentum":{"uniform":{"low":0.5,"high":0.99}},)"
                   R"("batch":{"choice":{"values":[16,32,64],"weights":[1.0,2.0,1.0]}}},)"
                   R"("numParallel":8,"maxGenerations":5,"max_generations":5}})");

        PbtSettings onlyGenerations = minimal;
        onlyGenerations.maxGenerations = 1;
        QTest::newRow("PBT maxGenerations 1")
            << pbtScheduler(onlyGenerations)
            << QByteArray(R"({"PBT":{"objective":"max","qualityResultName":"acc","exploit":{"truncate":0.2},)"
                          R"("maxGenerations":1,"max_generations":1}})");

        PbtSettings onlyParallel = minimal;
        onlyParallel.numParallel = 1;
        onlyParallel.truncate = 0.5;
        QTest::newRow("PBT numParallel 1, truncate 0.5")
            << pbtScheduler(onlyParallel)
            << QByteArray(R"({"PBT":{"objective":"max","qualityResultName":"acc","exploit":{"truncate":0.5},)"
                          R"("numParallel":1}})");
    }
    void schedulerRoundTripsThroughWireJson()
    {
        QFETCH(Scheduler, scheduler);
        QFETCH(QByteArray, wire);

        const QByteArray text = json::write(codec::encode(scheduler));
        QCOMPARE(text, wire);

        PARSE_JSON(parsed, text);
        const auto decoded = codec::decodeScheduler(parsed);
        QVERIFY2(decoded.ok(), qPrintable(decoded.ok() ? QString() : decoded.error().message()));
        QVERIFY(decoded.value() == scheduler);
        QCOMPARE(toString(decoded->kind), toString(scheduler.kind));
        if (scheduler.kind == Scheduler::Kind::Pbt) {
            QCOMPARE(decoded->pbt.maxGenerations, scheduler.pbt.maxGenerations);
            QCOMPARE(decoded->pbt.numParallel, scheduler.pbt.numParallel);
        }
        QCOMPARE(json::write(codec::encode(decoded.value())), wire);
    }

    void schedulerKindNamesMatchTheWire()
    {
        QCOMPARE(toString(Scheduler::Kind::Manual), QStringLiteral("Manual"));
        QCOMPARE(toString(Scheduler::Kind::RandomSearch), QStringLiteral("RandomSearch"));
        QCOMPARE(toString(Scheduler::Kind::Pbt), QStringLiteral("PBT"));
    }

    void pbtWritesBothGenerationKeysOnlyWhenSet()
    {
        PbtSettings pbt = fullPbt();
        QCborMap m = codec::encode(pbt);
        QCOMPARE(m.value(QStringLiteral("maxGenerations")), QCborValue(5));
        QCOMPARE(m.value(QStringLiteral("max_generations")), QCborValue(5));
        QVERIFY(m.value(QStringLiteral("maxGenerations")).isInteger());

        pbt.maxGenerations.reset();
        m = codec::encode(pbt);
        QVERIFY(!m.contains(QStringLiteral("maxGenerations")));
        QVERIFY(!m.contains(QStringLiteral("max_generations")));

        pbt.numParallel.reset();
        pbt.explore.clear();
        pbt.init.clear();
        m = codec::encode(pbt);
        QCOMPARE(keysOf(m), (QStringList{QStringLiteral("objective"), QStringLiteral("qualityResultName"),
                                         QStringLiteral("exploit")}));
    }

    void pbtAcceptsEitherGenerationKeyAlone_data()
    {
        QTest::addColumn<QByteArray>("members");
        QTest::newRow("camelCase only (what the Python client sends)")
            << QByteArray(R"("maxGenerations": 4)");
        QTest::newRow("snake_case only") << QByteArray(R"("max_generations": 4)");
        QTest::newRow("both equal") << QByteArray(R"("maxGenerations": 4, "max_generations": 4)");
        QTest::newRow("integral float") << QByteArray(R"("maxGenerations": 4.0, "max_generations": 4)");
    }
    void pbtAcceptsEitherGenerationKeyAlone()
    {
        QFETCH(QByteArray, members);
        PARSE_JSON(
            v, QByteArray(
                   R"({"objective": "min", "qualityResultName": "loss", "exploit": {"truncate": 0.2}, )") +
                   members + '}');
        const auto pbt = codec::decodePbt(v, QStringLiteral("PBT"));
        QVERIFY2(pbt.ok(), qPrintable(pbt.ok() ? QString() : pbt.error().message()));
        QCOMPARE(pbt->maxGenerations, std::optional<qint64>(4));
        const QCborMap out = codec::encode(pbt.value());
        QCOMPARE(out.value(QStringLiteral("maxGenerations")), QCborValue(4));
        QCOMPARE(out.value(QStringLiteral("max_generations")), QCborValue(4));
    }

    void pbtOptionalMembersMayBeNull()
    {
        PARSE_JSON(
            v, QByteArray(R"({"objective": "max", "qualityResultName": "acc", "exploit": {"truncate": 0.2},
            "explore": null, "init": null, "numParallel": null, "maxGenerations": null, "max_generations": null})"));
        const auto pbt = codec::decodePbt(v, QStringLiteral("PBT"));
        QVERIFY2(pbt.ok(), qPrintable(pbt.ok() ? QString() : pbt.error().message()));
        QVERIFY(pbt->explore.isEmpty());
        QVERIFY(pbt->init.isEmpty());
        QVERIFY(!pbt->numParallel);
        QVERIFY(!pbt->maxGenerations);
        QCOMPARE(pbt->population(), PbtSettings::DefaultPopulation);
    }

    void validBoundaryValuesAreAccepted_data()
    {
        QTest::addColumn<QByteArray>("scheduler");
        QTest::newRow("truncate 0.5") << QByteArray(
            R"({"PBT": {"objective": "min", "qualityResultName": "l", "exploit": {"truncate": 0.5}}})");
        QTest::newRow("truncate tiny") << QByteArray(
            R"({"PBT": {"objective": "min", "qualityResultName": "l", "exploit": {"truncate": 1e-9}}})");
        QTest::newRow("perturb minFactor == maxFactor") << QByteArray(
            R"({"PBT": {"objective": "min", "qualityResultName": "l", "exploit": {"truncate": 0.2},
                "explore": {"x": {"perturb": {"minFactor": 1.0, "maxFactor": 1.0}}}}})");
        QTest::newRow("numParallel 1 and integral float maxGenerations") << QByteArray(
            R"({"PBT": {"objective": "min", "qualityResultName": "l", "exploit": {"truncate": 0.2},
                "numParallel": 1, "maxGenerations": 2.0}})");
        QTest::newRow("std 0") << QByteArray(R"({"RandomSearch": {"x": {"normal": {"mean": 1, "std": 0}}}})");
        QTest::newRow("loguniform tiny low")
            << QByteArray(R"({"RandomSearch": {"x": {"loguniform": {"low": 1e-300, "high": 1e-299}}}})");
        QTest::newRow("weights with some zeros")
            << QByteArray(R"({"RandomSearch": {"x": {"choice": {"values": [1, 2], "weights": [0, 1e-9]}}}})");
        QTest::newRow("one choice value")
            << QByteArray(R"({"RandomSearch": {"x": {"choice": {"values": [null]}}}})");
        QTest::newRow("Manual null") << QByteArray(R"({"Manual": null})");
        QTest::newRow("unicode hyperparameter name")
            << QByteArray(R"({"RandomSearch": {"\u00e9t\u00e9 \ud83d\ude00": {"const": 1}}})");
    }
    void validBoundaryValuesAreAccepted()
    {
        QFETCH(QByteArray, scheduler);
        PARSE_JSON(v, scheduler);
        const auto s = codec::decodeScheduler(v);
        QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().message()));
        // What was accepted must also be written back in a form that is accepted again.
        const auto again = codec::decodeScheduler(codec::encode(s.value()));
        QVERIFY(again.ok());
        QVERIFY(again.value() == s.value());
    }

    // ---- Experiments ---------------------------------------------------------------------------------

    void experimentWithExtensionsRoundTrips()
    {
        Experiment e;
        e.name = QStringLiteral("a/b \"quoted\" \u00e9");
        e.status = ExperimentStatus::Done;
        e.scheduler = pbtScheduler(fullPbt());
        e.createdAt = 1795891234.5;
        e.modifiedAt = 1795891290.0;
        JobCounts counts;
        counts[JobStatus::Queued] = 1;
        counts[JobStatus::Running] = 2;
        counts[JobStatus::Crashed] = 3;
        counts[JobStatus::Pruned] = 4;
        counts[JobStatus::Done] = 5;
        e.jobCounts = counts;

        const QByteArray text = json::write(codec::encode(e));
        PARSE_JSON(v, text);
        QCOMPARE(keysOf(v.toMap()), (QStringList{QStringLiteral("name"), QStringLiteral("status"),
                                                 QStringLiteral("scheduler"), QStringLiteral("createdAt"),
                                                 QStringLiteral("modifiedAt"), QStringLiteral("jobCounts")}));
        QCOMPARE(json::write(v.toMap().value(QStringLiteral("jobCounts"))),
                 QByteArray(R"({"QUEUED":1,"RUNNING":2,"CRASHED":3,"PRUNED":4,"DONE":5})"));

        const auto d = codec::decodeExperiment(v);
        QVERIFY2(d.ok(), qPrintable(d.ok() ? QString() : d.error().message()));
        QCOMPARE(d->name, e.name);
        QCOMPARE(toString(d->status), toString(e.status));
        QVERIFY(d->scheduler == e.scheduler);
        QCOMPARE(d->createdAt, e.createdAt);
        QCOMPARE(d->modifiedAt, e.modifiedAt);
        QVERIFY(d->jobCounts.has_value());
        QVERIFY(*d->jobCounts == counts);
        QCOMPARE(d->jobCounts->total(), qint64(15));
        QCOMPARE(json::write(codec::encode(d.value())), text);

        // Lost jobs (section 8.3) beside the counts, only when there are some.
        e.jobCounts->lost = 2;
        const QCborMap withLost = codec::encode(e);
        QCOMPARE(withLost.value(QStringLiteral("lostJobs")).toInteger(), 2);
        QCOMPARE(withLost.value(QStringLiteral("jobCounts")).toMap().size(), 5);
        const auto back = codec::decodeExperiment(withLost);
        QVERIFY(back.ok());
        QCOMPARE(back->jobCounts->lost, 2);
        QCOMPARE(back->jobCounts->total(), qint64(15));
        QCOMPARE(codec::decodeExperiment(v)->jobCounts->lost, 0);
    }

    void experimentWithoutExtensionsHasOnlyProtocolKeys()
    {
        Experiment e;
        e.name = QStringLiteral("MinimizeManual");
        e.status = ExperimentStatus::Running;
        QCOMPARE(json::write(codec::encode(e)),
                 QByteArray(R"({"name":"MinimizeManual","status":"RUNNING","scheduler":{"Manual":null}})"));
    }

    void experimentPutBodyNeedsOnlyTheScheduler()
    {
        // The Python client's PUT body has no name; status may be left out by other clients.
        PARSE_JSON(v, QByteArray(R"({"scheduler": {"Manual": null}})"));
        const auto e = codec::decodeExperiment(v);
        QVERIFY(e.ok());
        QVERIFY(e->name.isEmpty());
        QCOMPARE(toString(e->status), toString(ExperimentStatus::Running));
        QVERIFY(!e->createdAt && !e->modifiedAt && !e->jobCounts);

        PARSE_JSON(done, QByteArray(R"({"status": "DONE", "scheduler": {"Manual": null}, "extra": [1]})"));
        const auto d = codec::decodeExperiment(done);
        QVERIFY(d.ok());
        QCOMPARE(toString(d->status), toString(ExperimentStatus::Done));
    }

    void experimentStatusNames()
    {
        QCOMPARE(toString(ExperimentStatus::Running), QStringLiteral("RUNNING"));
        QCOMPARE(toString(ExperimentStatus::Done), QStringLiteral("DONE"));
        QVERIFY(experimentStatusFromString(QStringLiteral("DONE")) == std::optional(ExperimentStatus::Done));
        QVERIFY(!experimentStatusFromString(QStringLiteral("running")));
    }

    // ---- docs/protocol.md section 7 -----------------------------------------------------------------------

    void protocolExamplesDecodeAndReencode_data()
    {
        QTest::addColumn<int>("example");
        QTest::addColumn<QString>("kind");
        QTest::addColumn<bool>("sameKeyOrder");
        QTest::newRow("1 Manual PUT body") << 1 << QStringLiteral("experiment") << true;
        QTest::newRow("2 RandomSearch") << 2 << QStringLiteral("experiment") << true;
        QTest::newRow("3 PBT") << 3 << QStringLiteral("experiment") << false;
        QTest::newRow("4 job with extensions") << 4 << QStringLiteral("job") << true;
        QTest::newRow("5 page of experiments") << 5 << QStringLiteral("experimentPage") << true;
    }
    void protocolExamplesDecodeAndReencode()
    {
        QFETCH(int, example);
        QFETCH(QString, kind);
        QFETCH(bool, sameKeyOrder);

        PARSE_JSON(original, protocolExample(example));
        QCborValue reencoded;
        if (kind == QLatin1String("experiment")) {
            const auto e = codec::decodeExperiment(original);
            QVERIFY2(e.ok(), qPrintable(e.ok() ? QString() : e.error().message()));
            reencoded = codec::encode(e.value());
        } else if (kind == QLatin1String("job")) {
            const auto j = codec::decodeJob(original);
            QVERIFY2(j.ok(), qPrintable(j.ok() ? QString() : j.error().message()));
            reencoded = codec::encode(j.value());
        } else {
            const auto page = codec::decodeExperimentPage(original);
            QVERIFY2(page.ok(), qPrintable(page.ok() ? QString() : page.error().message()));
            QCborArray items;
            for (const Experiment &e : page->items)
                items.append(codec::encode(e));
            reencoded = codec::encodePage(items, page->next);
        }
        QCOMPARE(canonical(reencoded), canonical(original));
        if (sameKeyOrder)
            QCOMPARE(json::write(reencoded), json::write(original));
    }

    void protocolExampleManualIsNull()
    {
        PARSE_JSON(v, protocolExample(1));
        const auto e = codec::decodeExperiment(v);
        QVERIFY(e.ok());
        QCOMPARE(toString(e->scheduler.kind), toString(Scheduler::Kind::Manual));
        const QCborValue manual = codec::encode(e.value())
                                      .value(QStringLiteral("scheduler"))
                                      .toMap()
                                      .value(QStringLiteral("Manual"));
        QVERIFY(manual.isNull());
        QVERIFY(!manual.isUndefined());
    }

    void protocolExampleRandomSearchValues()
    {
        PARSE_JSON(v, protocolExample(2));
        const auto e = codec::decodeExperiment(v);
        QVERIFY(e.ok());
        QCOMPARE(e->name, QStringLiteral("MinimizeRandom"));
        const Distributions &ds = e->scheduler.distributions;
        QStringList names;
        for (const NamedDistribution &nd : ds)
            names.append(nd.name);
        QCOMPARE(names, (QStringList{QStringLiteral("x"), QStringLiteral("lr"), QStringLiteral("dropout"),
                                     QStringLiteral("layers"), QStringLiteral("activation"),
                                     QStringLiteral("optimizer")}));
        QVERIFY(ds[0].distribution == Distribution::normal(0, 5));
        QVERIFY(ds[1].distribution == Distribution::logUniform(1e-6, 0.1));
        QVERIFY(ds[2].distribution == Distribution::uniform(0, 0.8));
        QVERIFY(ds[3].distribution == Distribution::choice(QCborArray{1, 2, 3, 4, 5}));
        QVERIFY(ds[3].distribution.values.at(0).isInteger());
        QVERIFY(ds[4].distribution ==
                Distribution::choice(QCborArray{QStringLiteral("relu"), QStringLiteral("tanh")}, {3, 1}));
        QVERIFY(ds[5].distribution ==
                Distribution::constantValue(object({{"name", QStringLiteral("sgd")}, {"momentum", 0.9}})));
    }

    void protocolExamplePbtValues()
    {
        PARSE_JSON(v, protocolExample(3));
        const auto e = codec::decodeExperiment(v);
        QVERIFY(e.ok());
        QCOMPARE(toString(e->scheduler.kind), toString(Scheduler::Kind::Pbt));
        const PbtSettings &pbt = e->scheduler.pbt;
        QCOMPARE(pbt.objective, Objective::Maximize);
        QCOMPARE(pbt.qualityResultName, QStringLiteral("max_accuracy"));
        QCOMPARE(pbt.numParallel, std::optional<qint64>(20));
        QCOMPARE(pbt.population(), qint64(20));
        QCOMPARE(pbt.maxGenerations, std::optional<qint64>(10));
        QCOMPARE(pbt.truncate, 0.2);
        QCOMPARE(pbt.init.size(), 3);
        QCOMPARE(pbt.init[0].name, QStringLiteral("num_filters"));
        QCOMPARE(pbt.explore.size(), 2);
        QVERIFY(pbt.explore[0] == (Perturb{QStringLiteral("learning_rate"), 0.8, 1.2}));
        QVERIFY(pbt.explore[1] == (Perturb{QStringLiteral("dropout_rate"), 0.8, 1.2}));

        const QCborMap params = codec::encode(e.value())
                                    .value(QStringLiteral("scheduler"))
                                    .toMap()
                                    .value(QStringLiteral("PBT"))
                                    .toMap();
        QCOMPARE(params.value(QStringLiteral("maxGenerations")), QCborValue(10));
        QCOMPARE(params.value(QStringLiteral("max_generations")), QCborValue(10));
    }

    void protocolExampleJobAndPageValues()
    {
        PARSE_JSON(job, protocolExample(4));
        const auto j = codec::decodeJob(job);
        QVERIFY(j.ok());
        QCOMPARE(j->id, QStringLiteral("Exhn_Q"));
        QCOMPARE(j->experiment, QStringLiteral("MNIST with PBT"));
        QCOMPARE(toString(j->status), toString(JobStatus::Running));
        QVERIFY(j->hyperparameters.value(QStringLiteral("num_filters")).isInteger());
        QCOMPARE(keysOf(j->results), (QStringList{QStringLiteral("accuracy"), QStringLiteral("max_accuracy"),
                                                  QStringLiteral("weights_path")}));
        QCOMPARE(j->createdAt, std::optional<double>(1795891234.5));
        QCOMPARE(j->modifiedAt, std::optional<double>(1795891290.25));
        QCOMPARE(j->generation, std::optional<qint64>(3));
        QCOMPARE(j->parent, QStringLiteral("7P_Scw"));
        QVERIFY(j->member.isEmpty());

        PARSE_JSON(page, protocolExample(5));
        const auto p = codec::decodeExperimentPage(page);
        QVERIFY(p.ok());
        QCOMPARE(p->items.size(), 1);
        QCOMPARE(p->items[0].name, QStringLiteral("MinimizeManual"));
        QCOMPARE(toString(p->items[0].status), toString(ExperimentStatus::Done));
        QCOMPARE(p->next, QStringLiteral("c2VxOjEwMA"));
    }

    // ---- Invalid documents ---------------------------------------------------------------------------

    void invalidDocumentsNameTheField_data()
    {
        // kind: what the document is decoded as. "distribution", "randomSearch" and "pbt" rows are
        // wrapped in an experiment, so that their paths are the full ones a server reports.
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QByteArray>("doc");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("reason");

        const QString exp = QStringLiteral("experiment");
        const QString dist = QStringLiteral("distribution");
        const QString rs = QStringLiteral("randomSearch");
        const QString pbt = QStringLiteral("pbt");
        const QString job = QStringLiteral("job");
        const QString post = QStringLiteral("jobPost");
        const QString put = QStringLiteral("jobPut");
        const QString expPage = QStringLiteral("experimentPage");
        const QString jobPage = QStringLiteral("jobPage");
        const QString x = QStringLiteral("scheduler.RandomSearch.x");
        const QString p = QStringLiteral("scheduler.PBT");
        // A valid PBT head followed by extra members.
        auto pbtWith = [](const char *members) -> QByteArray {
            return QByteArray(
                       R"({"objective": "max", "qualityResultName": "acc", "exploit": {"truncate": 0.2}, )") +
                   members + '}';
        };
        auto row = [](const char *name, const QString &kind, const QByteArray &doc, const QString &path,
                      const char *reason) {
            QTest::newRow(name) << kind << doc << path << QString::fromUtf8(reason);
        };

        // Experiment documents.
        row("experiment not an object", exp, "[1]", QString(), "must be an experiment object, not a list");
        row("experiment name not a string", exp, R"({"name": 5, "scheduler": {"Manual": null}})",
            QStringLiteral("name"), "must be a string, not a number");
        row("experiment status not a string", exp, R"({"status": 1, "scheduler": {"Manual": null}})",
            QStringLiteral("status"), "not a number");
        row("experiment status unknown", exp, R"({"status": "PAUSED", "scheduler": {"Manual": null}})",
            QStringLiteral("status"), R"(must be "RUNNING" or "DONE")");
        row("experiment status lower case", exp, R"({"status": "running", "scheduler": {"Manual": null}})",
            QStringLiteral("status"), R"(must be "RUNNING" or "DONE")");
        row("scheduler missing", exp, R"({"status": "RUNNING"})", QStringLiteral("scheduler"), "is required");
        row("scheduler a string", exp, R"({"scheduler": "Manual"})", QStringLiteral("scheduler"),
            "not a string");
        row("scheduler empty object", exp, R"({"scheduler": {}})", QStringLiteral("scheduler"),
            "must have exactly one key naming the scheduler, not 0");
        row("scheduler two keys", exp, R"({"scheduler": {"Manual": null, "RandomSearch": {}}})",
            QStringLiteral("scheduler"), "must have exactly one key naming the scheduler, not 2");
        row("scheduler unknown", exp, R"({"scheduler": {"GridSearch": {}}})",
            QStringLiteral("scheduler.GridSearch"), "unknown scheduler");
        row("scheduler wrong case", exp, R"({"scheduler": {"pbt": {}}})", QStringLiteral("scheduler.pbt"),
            "unknown scheduler");
        row("Manual with arguments", exp, R"({"scheduler": {"Manual": {"x": 1}}})",
            QStringLiteral("scheduler.Manual"), "must be null, not an object");
        row("Manual with a number", exp, R"({"scheduler": {"Manual": 0}})",
            QStringLiteral("scheduler.Manual"), "must be null, not a number");
        row("RandomSearch a list", exp, R"({"scheduler": {"RandomSearch": [1]}})",
            QStringLiteral("scheduler.RandomSearch"), "not a list");
        row("RandomSearch null", exp, R"({"scheduler": {"RandomSearch": null}})",
            QStringLiteral("scheduler.RandomSearch"), "not null");
        row("hyperparameter name empty", rs, R"({"": {"const": 1}})",
            QStringLiteral("scheduler.RandomSearch"), "hyperparameter names must not be empty");

        // Distributions.
        row("distribution unknown", dist, R"({"gaussian": {"mean": 0, "std": 1}})",
            x + QStringLiteral(".gaussian"), "unknown distribution");
        row("distribution two keys", dist, R"({"uniform": {"low": 0, "high": 1}, "const": 1})", x,
            "must have exactly one key naming the distribution, not 2");
        row("distribution a number", dist, "3", x, "not a number");
        row("distribution arguments a list", dist, R"({"uniform": [0, 1]})", x + QStringLiteral(".uniform"),
            "must be an object of arguments, not a list");
        row("uniform low missing", dist, R"({"uniform": {"high": 1}})", x + QStringLiteral(".uniform.low"),
            "is required");
        row("uniform low a string", dist, R"({"uniform": {"low": "0", "high": 1}})",
            x + QStringLiteral(".uniform.low"), "must be a number, not a string");
        row("uniform high a boolean", dist, R"({"uniform": {"low": 0, "high": true}})",
            x + QStringLiteral(".uniform.high"), "must be a number, not a boolean");
        row("uniform low equals high", dist, R"({"uniform": {"low": 1.0, "high": 1.0}})",
            x + QStringLiteral(".uniform.low"), "must be less than high");
        row("uniform low above high", dist, R"({"uniform": {"low": 2, "high": 1}})",
            x + QStringLiteral(".uniform.low"), "must be less than high");
        row("uniform low NaN", dist, R"({"uniform": {"low": NaN, "high": 1}})",
            x + QStringLiteral(".uniform.low"), "must be finite");
        row("uniform high Infinity", dist, R"({"uniform": {"low": 0, "high": Infinity}})",
            x + QStringLiteral(".uniform.high"), "must be finite");
        row("uniform unknown argument", dist, R"({"uniform": {"low": 0, "high": 1, "step": 0.1}})",
            x + QStringLiteral(".uniform.step"), "unknown key");
        row("loguniform low 0", dist, R"({"loguniform": {"low": 0, "high": 1}})",
            x + QStringLiteral(".loguniform.low"), "must be greater than 0");
        row("loguniform low negative", dist, R"({"loguniform": {"low": -1e-3, "high": 1}})",
            x + QStringLiteral(".loguniform.low"), "must be greater than 0");
        row("loguniform both negative", dist, R"({"loguniform": {"low": -2, "high": -1}})",
            x + QStringLiteral(".loguniform.low"), "must be greater than 0");
        row("loguniform low equals high", dist, R"({"loguniform": {"low": 0.5, "high": 0.5}})",
            x + QStringLiteral(".loguniform.low"), "must be less than high");
        row("normal std negative", dist, R"({"normal": {"mean": 0, "std": -0.1}})",
            x + QStringLiteral(".normal.std"), "must be at least 0");
        row("normal mean missing", dist, R"({"normal": {"std": 1}})", x + QStringLiteral(".normal.mean"),
            "is required");
        row("normal std null", dist, R"({"normal": {"mean": 0, "std": null}})",
            x + QStringLiteral(".normal.std"), "must be a number, not null");
        row("normal uses low/high", dist, R"({"normal": {"low": 0, "high": 1}})",
            x + QStringLiteral(".normal.low"), "unknown key");
        row("choice values empty", dist, R"({"choice": {"values": []}})",
            x + QStringLiteral(".choice.values"), "must not be empty");
        row("choice values missing", dist, R"({"choice": {"weights": [1]}})",
            x + QStringLiteral(".choice.values"), "is required");
        row("choice values an object", dist, R"({"choice": {"values": {"a": 1}}})",
            x + QStringLiteral(".choice.values"), "must be a list, not an object");
        row("choice weights too short", dist, R"({"choice": {"values": [1, 2, 3], "weights": [1, 2]}})",
            x + QStringLiteral(".choice.weights"), "must have as many entries as values (3, not 2)");
        row("choice weights too long", dist, R"({"choice": {"values": [1], "weights": [1, 2]}})",
            x + QStringLiteral(".choice.weights"), "must have as many entries as values (1, not 2)");
        row("choice weights empty", dist, R"({"choice": {"values": [1], "weights": []}})",
            x + QStringLiteral(".choice.weights"), "must have as many entries as values (1, not 0)");
        row("choice weight negative", dist, R"({"choice": {"values": [1, 2], "weights": [1, -1]}})",
            x + QStringLiteral(".choice.weights[1]"), "at least 0");
        row("choice weights all zero", dist, R"({"choice": {"values": [1, 2], "weights": [0, 0.0]}})",
            x + QStringLiteral(".choice.weights"), "must not all be 0");
        row("choice weight a string", dist, R"({"choice": {"values": [1, 2], "weights": ["1", 1]}})",
            x + QStringLiteral(".choice.weights[0]"), "must be a number, not a string");
        row("choice weight null", dist, R"({"choice": {"values": [1, 2], "weights": [1, null]}})",
            x + QStringLiteral(".choice.weights[1]"), "must be a number, not null");
        row("choice weight Infinity", dist, R"({"choice": {"values": [1, 2], "weights": [1, Infinity]}})",
            x + QStringLiteral(".choice.weights[1]"), "finite");
        row("choice weights a number", dist, R"({"choice": {"values": [1, 2], "weights": 1}})",
            x + QStringLiteral(".choice.weights"), "must be a list of numbers, not a number");

        // PBT.
        row("PBT null", exp, R"({"scheduler": {"PBT": null}})", p,
            "must be an object of PBT settings, not null");
        row("PBT objective missing", pbt, R"({"qualityResultName": "acc", "exploit": {"truncate": 0.2}})",
            p + QStringLiteral(".objective"), "is required");
        row("PBT objective unknown", pbt,
            R"({"objective": "maximize", "qualityResultName": "acc", "exploit": {"truncate": 0.2}})",
            p + QStringLiteral(".objective"), R"(must be "min" or "max")");
        row("PBT qualityResultName a number", pbt,
            R"({"objective": "max", "qualityResultName": 1, "exploit": {"truncate": 0.2}})",
            p + QStringLiteral(".qualityResultName"), "must be a string, not a number");
        row("PBT qualityResultName empty", pbt,
            R"({"objective": "max", "qualityResultName": "", "exploit": {"truncate": 0.2}})",
            p + QStringLiteral(".qualityResultName"), "must not be empty");
        row("PBT exploit missing", pbt, R"({"objective": "max", "qualityResultName": "acc"})",
            p + QStringLiteral(".exploit"), "is required");
        row("PBT exploit unknown strategy", pbt,
            R"({"objective": "max", "qualityResultName": "acc", "exploit": {"bottom": 0.2}})",
            p + QStringLiteral(".exploit.bottom"), "unknown exploit strategy");
        row("PBT truncate 0", pbt,
            R"({"objective": "max", "qualityResultName": "acc", "exploit": {"truncate": 0}})",
            p + QStringLiteral(".exploit.truncate"), "must be in (0, 0.5]");
        row("PBT truncate above 0.5", pbt,
            R"({"objective": "max", "qualityResultName": "acc", "exploit": {"truncate": 0.50001}})",
            p + QStringLiteral(".exploit.truncate"), "must be in (0, 0.5]");
        row("PBT truncate negative", pbt,
            R"({"objective": "max", "qualityResultName": "acc", "exploit": {"truncate": -0.2}})",
            p + QStringLiteral(".exploit.truncate"), "must be in (0, 0.5]");
        row("PBT truncate NaN", pbt,
            R"({"objective": "max", "qualityResultName": "acc", "exploit": {"truncate": NaN}})",
            p + QStringLiteral(".exploit.truncate"), "must be in (0, 0.5]");
        row("PBT truncate a string", pbt,
            R"({"objective": "max", "qualityResultName": "acc", "exploit": {"truncate": "0.2"}})",
            p + QStringLiteral(".exploit.truncate"), "must be a number, not a string");
        row("PBT truncate an object", pbt,
            R"({"objective": "max", "qualityResultName": "acc", "exploit": {"truncate": {"p": 0.2}}})",
            p + QStringLiteral(".exploit.truncate"), "must be a number, not an object");
        row("PBT perturb minFactor 0", pbt,
            pbtWith(R"("explore": {"lr": {"perturb": {"minFactor": 0, "maxFactor": 1.2}}})"),
            p + QStringLiteral(".explore.lr.perturb.minFactor"), "must be greater than 0");
        row("PBT perturb minFactor negative", pbt,
            pbtWith(R"("explore": {"lr": {"perturb": {"minFactor": -0.5, "maxFactor": 1.2}}})"),
            p + QStringLiteral(".explore.lr.perturb.minFactor"), "must be greater than 0");
        row("PBT perturb minFactor above maxFactor", pbt,
            pbtWith(R"("explore": {"lr": {"perturb": {"minFactor": 1.3, "maxFactor": 1.2}}})"),
            p + QStringLiteral(".explore.lr.perturb.maxFactor"), "must be at least minFactor");
        row("PBT perturb maxFactor missing", pbt,
            pbtWith(R"("explore": {"lr": {"perturb": {"minFactor": 0.8}}})"),
            p + QStringLiteral(".explore.lr.perturb.maxFactor"), "is required");
        row("PBT perturb unknown key", pbt,
            pbtWith(R"("explore": {"lr": {"perturb": {"minFactor": 0.8, "maxFactor": 1.2, "factor": 2}}})"),
            p + QStringLiteral(".explore.lr.perturb.factor"), "unknown key");
        row("PBT perturb a number", pbt, pbtWith(R"("explore": {"lr": {"perturb": 1.2}})"),
            p + QStringLiteral(".explore.lr.perturb"), "must be an object, not a number");
        row("PBT explore unknown strategy", pbt, pbtWith(R"("explore": {"lr": {"resample": {}}})"),
            p + QStringLiteral(".explore.lr.resample"), "unknown explore strategy");
        row("PBT explore a list", pbt, pbtWith(R"("explore": ["lr"])"), p + QStringLiteral(".explore"),
            "must be an object, not a list");
        row("PBT init bad distribution", pbt,
            pbtWith(R"("init": {"lr": {"loguniform": {"low": 0.0, "high": 1.0}}})"),
            p + QStringLiteral(".init.lr.loguniform.low"), "must be greater than 0");
        row("PBT init a string", pbt, pbtWith(R"("init": "uniform")"), p + QStringLiteral(".init"),
            "not a string");
        row("PBT numParallel 0", pbt, pbtWith(R"("numParallel": 0)"), p + QStringLiteral(".numParallel"),
            "must be at least 1");
        row("PBT numParallel negative", pbt, pbtWith(R"("numParallel": -4)"),
            p + QStringLiteral(".numParallel"), "must be at least 1");
        row("PBT numParallel 1.5", pbt, pbtWith(R"("numParallel": 1.5)"), p + QStringLiteral(".numParallel"),
            "must be an integer, not 1.5");
        row("PBT numParallel a string", pbt, pbtWith(R"("numParallel": "4")"),
            p + QStringLiteral(".numParallel"), "must be an integer, not a string");
        row("PBT numParallel a boolean", pbt, pbtWith(R"("numParallel": true)"),
            p + QStringLiteral(".numParallel"), "must be an integer, not a boolean");
        row("PBT numParallel huge float", pbt, pbtWith(R"("numParallel": 1e300)"),
            p + QStringLiteral(".numParallel"), "must be an integer");
        row("PBT maxGenerations 0", pbt, pbtWith(R"("maxGenerations": 0)"),
            p + QStringLiteral(".maxGenerations"), "must be at least 1");
        row("PBT maxGenerations differs from max_generations", pbt,
            pbtWith(R"("maxGenerations": 10, "max_generations": 5)"), p + QStringLiteral(".max_generations"),
            "must equal maxGenerations");
        row("PBT max_generations 2.5", pbt, pbtWith(R"("max_generations": 2.5)"),
            p + QStringLiteral(".max_generations"), "must be an integer, not 2.5");
        row("PBT unknown key", pbt, pbtWith(R"("population": 10)"), p + QStringLiteral(".population"),
            "unknown key");
        row("PBT snake_case numParallel", pbt, pbtWith(R"("num_parallel": 10)"),
            p + QStringLiteral(".num_parallel"), "unknown key");

        // Jobs.
        row("job not an object", job, R"("DONE")", QString(), "must be a job object, not a string");
        row("job status unknown", job, R"({"id": "a", "experiment": "e", "status": "FINISHED"})",
            QStringLiteral("status"), R"(unknown job status "FINISHED")");
        row("job status lower case", job, R"({"id": "a", "experiment": "e", "status": "done"})",
            QStringLiteral("status"), "unknown job status");
        row("job status missing", job, R"({"id": "a", "experiment": "e"})", QStringLiteral("status"),
            "is required");
        row("job status a number", job, R"({"id": "a", "experiment": "e", "status": 3})",
            QStringLiteral("status"), "must be a job status, not a number");
        row("job id a number", job, R"({"id": 5, "experiment": "e", "status": "DONE"})", QStringLiteral("id"),
            "must be a string, not a number");
        row("job id missing", job, R"({"experiment": "e", "status": "DONE"})", QStringLiteral("id"),
            "is required");
        row("job experiment null", job, R"({"id": "a", "experiment": null, "status": "DONE"})",
            QStringLiteral("experiment"), "must be a string, not null");
        row("job hyperparameters a list", job,
            R"({"id": "a", "experiment": "e", "status": "DONE", "hyperparameters": [1]})",
            QStringLiteral("hyperparameters"), "must be an object, not a list");
        row("job results a number", job,
            R"({"id": "a", "experiment": "e", "status": "DONE", "results": 0.5})", QStringLiteral("results"),
            "must be an object, not a number");
        row("POST body not an object", post, "[]", QString(), "must be a job object, not a list");
        row("POST status unknown", post, R"({"status": "STARTED"})", QStringLiteral("status"),
            "unknown job status");
        row("POST hyperparameters a string", post, R"({"hyperparameters": "lr=0.1"})",
            QStringLiteral("hyperparameters"), "must be an object, not a string");
        row("POST results a list", post, R"({"results": [1, 2]})", QStringLiteral("results"),
            "must be an object, not a list");
        row("PUT body without status", put, R"({"hyperparameters": {"lr": 0.1}})", QStringLiteral("status"),
            "is required");
        row("PUT status null", put, R"({"status": null})", QStringLiteral("status"), "not null");

        // Pages.
        row("page not an object", expPage, "[]", QString(), "must be a page object, not a list");
        row("page items missing", expPage, R"({"next": null})", QStringLiteral("items"), "is required");
        row("page items an object", expPage, R"({"items": {}, "next": null})", QStringLiteral("items"),
            "must be a list, not an object");
        row("page next a number", expPage, R"({"items": [], "next": 100})", QStringLiteral("next"),
            "must be a string or null, not a number");
        row("page second experiment bad status", expPage,
            R"({"items": [{"name": "a", "status": "DONE", "scheduler": {"Manual": null}},
                          {"name": "b", "status": "PAUSED", "scheduler": {"Manual": null}}], "next": null})",
            QStringLiteral("items[1].status"), R"(must be "RUNNING" or "DONE")");
        row("page experiment bad truncate", expPage,
            R"({"items": [{"name": "a", "status": "DONE", "scheduler": {"PBT": {"objective": "max",
                "qualityResultName": "acc", "exploit": {"truncate": 0.9}}}}]})",
            QStringLiteral("items[0].scheduler.PBT.exploit.truncate"), "must be in (0, 0.5]");
        row("page item not an object", expPage, R"({"items": [null]})", QStringLiteral("items[0]"),
            "must be an experiment object, not null");
        row("job page item bad status", jobPage,
            R"({"items": [{"id": "a", "experiment": "e", "status": "DONE"},
                          {"id": "b", "experiment": "e", "status": "LOST"}], "next": "x"})",
            QStringLiteral("items[1].status"), "unknown job status");
        row("job page item not an object", jobPage, R"({"items": ["a"], "next": null})",
            QStringLiteral("items[0]"), "must be a job object, not a string");
        row("job page item hyperparameters a list", jobPage,
            R"({"items": [{"id": "a", "experiment": "e", "status": "DONE", "hyperparameters": []}]})",
            QStringLiteral("items[0].hyperparameters"), "must be an object, not a list");
    }
    void invalidDocumentsNameTheField()
    {
        QFETCH(QString, kind);
        QFETCH(QByteArray, doc);
        QFETCH(QString, path);
        QFETCH(QString, reason);

        QByteArray text = doc;
        if (kind == QLatin1String("distribution"))
            text = R"({"status": "RUNNING", "scheduler": {"RandomSearch": {"x": )" + doc + "}}}";
        else if (kind == QLatin1String("randomSearch"))
            text = R"({"status": "RUNNING", "scheduler": {"RandomSearch": )" + doc + "}}";
        else if (kind == QLatin1String("pbt"))
            text = R"({"status": "RUNNING", "scheduler": {"PBT": )" + doc + "}}";
        PARSE_JSON(v, text);

        std::optional<DecodeError> error;
        auto check = [&](const auto &decoded) {
            if (!decoded.ok())
                error = decoded.error();
        };
        if (kind == QLatin1String("job"))
            check(codec::decodeJob(v));
        else if (kind == QLatin1String("jobPost"))
            check(codec::decodeJobWrite(v, false));
        else if (kind == QLatin1String("jobPut"))
            check(codec::decodeJobWrite(v, true));
        else if (kind == QLatin1String("experimentPage"))
            check(codec::decodeExperimentPage(v));
        else if (kind == QLatin1String("jobPage"))
            check(codec::decodeJobPage(v));
        else
            check(codec::decodeExperiment(v));

        QVERIFY2(error.has_value(), "the document was accepted");
        QCOMPARE(error->path, path);
        QVERIFY2(
            error->reason.contains(reason),
            qPrintable(QStringLiteral("reason \"%1\" does not contain \"%2\"").arg(error->reason, reason)));
        const QString expectedMessage =
            path.isEmpty() ? error->reason : path + QStringLiteral(": ") + error->reason;
        QCOMPARE(error->message(), expectedMessage);
    }

    void directDecodersUseTheGivenPath()
    {
        PARSE_JSON(d, QByteArray(R"({"uniform": {"low": 1, "high": 0}})"));
        const auto dist = codec::decodeDistribution(d, QStringLiteral("init.lr"));
        QVERIFY(!dist.ok());
        QCOMPARE(dist.error().message(), QStringLiteral("init.lr.uniform.low: must be less than high"));

        const auto noPath = codec::decodeDistribution(d);
        QVERIFY(!noPath.ok());
        QCOMPARE(noPath.error().path, QStringLiteral("uniform.low"));

        PARSE_JSON(s, QByteArray(R"({"Random": {}})"));
        const auto sched = codec::decodeScheduler(s, QStringLiteral("body.scheduler"));
        QVERIFY(!sched.ok());
        QCOMPARE(sched.error().path, QStringLiteral("body.scheduler.Random"));
    }

    void malformedJsonIsReportedAsSuch()
    {
        const auto bad = codec::parseJson("{\"status\": \"DONE\",}");
        QVERIFY(!bad.ok());
        QVERIFY(bad.error().path.isEmpty());
        QVERIFY2(bad.error().reason.startsWith(QStringLiteral("malformed JSON at byte ")),
                 qPrintable(bad.error().reason));

        const auto good = codec::parseJson("{\"loss\": NaN, \"n\": 1}");
        QVERIFY(good.ok());
        QVERIFY(std::isnan(good->toMap().value(QStringLiteral("loss")).toDouble()));
        QVERIFY(good->toMap().value(QStringLiteral("n")).isInteger());
    }

    // ---- Jobs ----------------------------------------------------------------------------------------

    void jobStatusNamesRoundTrip()
    {
        const QStringList names{QStringLiteral("QUEUED"), QStringLiteral("RUNNING"),
                                QStringLiteral("CRASHED"), QStringLiteral("PRUNED"), QStringLiteral("DONE")};
        QCOMPARE(int(AllJobStatuses.size()), names.size());
        for (int i = 0; i < JobStatusCount; ++i) {
            QCOMPARE(toString(AllJobStatuses[size_t(i)]), names[i]);
            QVERIFY(jobStatusFromString(names[i]) == std::optional(AllJobStatuses[size_t(i)]));
        }
        QVERIFY(!jobStatusFromString(QStringLiteral("queued")));
    }

    void jobWithExtensionsRoundTrips_data()
    {
        QTest::addColumn<Job>("job");
        QTest::addColumn<QStringList>("keys");
        const QStringList base{QStringLiteral("id"), QStringLiteral("experiment"), QStringLiteral("status"),
                               QStringLiteral("hyperparameters"), QStringLiteral("results")};
        QTest::newRow("no extensions") << sampleJob(false) << base;
        QTest::newRow("all extensions")
            << sampleJob(true)
            << base + QStringList{QStringLiteral("createdAt"), QStringLiteral("modifiedAt"),
                                  QStringLiteral("generation"), QStringLiteral("parent"),
                                  QStringLiteral("member")};
        Job generationZero = sampleJob(false);
        generationZero.generation = 0;
        generationZero.member = QStringLiteral("self");
        QTest::newRow("generation 0 is kept")
            << generationZero << base + QStringList{QStringLiteral("generation"), QStringLiteral("member")};
        Job createdOnly = sampleJob(false);
        createdOnly.createdAt = 1700000000.0;
        createdOnly.status = JobStatus::Crashed;
        QTest::newRow("createdAt only, integral")
            << createdOnly << base + QStringList{QStringLiteral("createdAt")};
    }
    void jobWithExtensionsRoundTrips()
    {
        QFETCH(Job, job);
        QFETCH(QStringList, keys);

        const QCborMap encoded = codec::encode(job);
        QCOMPARE(keysOf(encoded), keys);
        const QByteArray text = json::write(encoded);
        PARSE_JSON(v, text);
        const auto d = codec::decodeJob(v);
        QVERIFY2(d.ok(), qPrintable(d.ok() ? QString() : d.error().message()));
        QCOMPARE(d->id, job.id);
        QCOMPARE(d->experiment, job.experiment);
        QCOMPARE(toString(d->status), toString(job.status));
        QCOMPARE(d->hyperparameters, job.hyperparameters);
        QCOMPARE(d->results, job.results);
        QCOMPARE(d->createdAt, job.createdAt);
        QCOMPARE(d->modifiedAt, job.modifiedAt);
        QCOMPARE(d->generation, job.generation);
        QCOMPARE(d->parent, job.parent);
        QCOMPARE(d->member, job.member);
        QCOMPARE(json::write(codec::encode(d.value())), text);
    }

    void jobValuesKeepTheirIdentity()
    {
        PARSE_JSON(v, QByteArray(R"({"id": "a", "experiment": "e", "status": "DONE",
            "hyperparameters": {"n": 32, "f": 32.0, "b": true, "s": "32", "l": [1, 2.0], "o": {"z": 1, "a": 2}},
            "results": {"loss": NaN, "best": -Infinity, "big": 9007199254740993}})"));
        const auto j = codec::decodeJob(v);
        QVERIFY(j.ok());
        QCOMPARE(json::write(codec::encode(j.value())),
                 QByteArray(
                     R"({"id":"a","experiment":"e","status":"DONE",)"
                     R"("hyperparameters":{"n":32,"f":32.0,"b":true,"s":"32","l":[1,2.0],"o":{"z":1,"a":2}},)"
                     R"("results":{"loss":NaN,"best":-Infinity,"big":9007199254740993}})"));
    }

    void jobMissingOrNullMapsAreEmpty()
    {
        PARSE_JSON(
            v, QByteArray(R"({"id": "a", "experiment": "e", "status": "QUEUED", "hyperparameters": null})"));
        const auto j = codec::decodeJob(v);
        QVERIFY(j.ok());
        QVERIFY(j->hyperparameters.isEmpty());
        QVERIFY(j->results.isEmpty());
        QVERIFY(!j->createdAt && !j->modifiedAt && !j->generation);
        QVERIFY(j->parent.isEmpty() && j->member.isEmpty());
        QCOMPARE(
            json::write(codec::encode(j.value())),
            QByteArray(R"({"id":"a","experiment":"e","status":"QUEUED","hyperparameters":{},"results":{}})"));
    }

    void jobWriteBodies()
    {
        // POST: everything optional, status defaults to QUEUED.
        PARSE_JSON(empty, QByteArray("{}"));
        const auto post = codec::decodeJobWrite(empty, false);
        QVERIFY(post.ok());
        QCOMPARE(toString(post->status), toString(JobStatus::Queued));
        QVERIFY(post->hyperparameters.isEmpty() && post->results.isEmpty());

        // PUT as the Python client sends it: empty maps are omitted.
        PARSE_JSON(put, QByteArray(R"({"status": "RUNNING"})"));
        const auto p = codec::decodeJobWrite(put, true);
        QVERIFY(p.ok());
        QCOMPARE(toString(p->status), toString(JobStatus::Running));
        QVERIFY(p->hyperparameters.isEmpty() && p->results.isEmpty());

        JobWrite w;
        w.status = JobStatus::Pruned;
        w.hyperparameters = object({{"lr", 0.1}});
        w.results = object({{"loss", QCborArray{1.0, 0.5}}});
        const QByteArray text = json::write(codec::encode(w));
        QCOMPARE(
            text,
            QByteArray(R"({"status":"PRUNED","hyperparameters":{"lr":0.1},"results":{"loss":[1.0,0.5]}})"));
        PARSE_JSON(back, text);
        const auto d = codec::decodeJobWrite(back, true);
        QVERIFY(d.ok());
        QCOMPARE(toString(d->status), toString(w.status));
        QCOMPARE(d->hyperparameters, w.hyperparameters);
        QCOMPARE(d->results, w.results);
    }

    void jobExtensionsOfTheWrongTypeAreIgnored()
    {
        // Extensions are ours; a client must not fail on a document from a different server version.
        PARSE_JSON(v, QByteArray(R"({"id": "a", "experiment": "e", "status": "DONE",
            "createdAt": "yesterday", "generation": null, "parent": 7, "quality": 0.5})"));
        const auto j = codec::decodeJob(v);
        QVERIFY(j.ok());
        QVERIFY(!j->createdAt);
        QVERIFY(!j->generation);
        QVERIFY(j->parent.isEmpty());
    }

    void writeJobDocumentEqualsEncode_data()
    {
        QTest::addColumn<Job>("job");
        QTest::newRow("plain") << sampleJob(false);
        QTest::newRow("all extensions") << sampleJob(true);

        Job empty;
        empty.id = QStringLiteral("x");
        empty.experiment = QStringLiteral("e");
        QTest::newRow("empty maps") << empty;

        Job odd = sampleJob(true);
        odd.id = QStringLiteral("id-_~");
        odd.experiment = QStringLiteral("a/b \"q\" \\ \u00e9 \U0001F600 tab\t nl\n");
        odd.parent = QStringLiteral("p\"arent");
        odd.generation = 0;
        odd.createdAt = 1700000000.0;
        odd.modifiedAt = 0.1;
        odd.status = JobStatus::Pruned;
        odd.results = object({{"loss", std::numeric_limits<double>::quiet_NaN()},
                              {"one", 1.0},
                              {"nested", object({{"k", QCborArray{QCborValue(QCborValue::Null), false}}})}});
        QTest::newRow("escapes, generation 0, NaN") << odd;

        Job big = sampleJob(true);
        big.generation = std::numeric_limits<qint64>::max();
        big.createdAt = 1e20;
        big.member.clear();
        QTest::newRow("large numbers, no member") << big;
    }
    void writeJobDocumentEqualsEncode()
    {
        QFETCH(Job, job);
        const QByteArray expected = json::write(codec::encode(job));
        QCOMPARE(codec::writeJobDocument(job, json::write(job.hyperparameters), json::write(job.results)),
                 expected);
        if (job.hyperparameters.isEmpty() && job.results.isEmpty())
            QCOMPARE(codec::writeJobDocument(job, QByteArray(), QByteArray()), expected);
        // And it is a valid job document.
        PARSE_JSON(v,
                   codec::writeJobDocument(job, json::write(job.hyperparameters), json::write(job.results)));
        QVERIFY(codec::decodeJob(v).ok());
    }

    void pageEncoding()
    {
        QCOMPARE(json::write(codec::encodePage(QCborArray{1}, QString())),
                 QByteArray(R"({"items":[1],"next":null})"));
        QCOMPARE(json::write(codec::encodePage(QCborArray{}, QStringLiteral("c2VxOjEwMA"))),
                 QByteArray(R"({"items":[],"next":"c2VxOjEwMA"})"));

        PARSE_JSON(v, QByteArray(R"({"items": [{"id": "a", "experiment": "e", "status": "DONE"}]})"));
        const auto page = codec::decodeJobPage(v);
        QVERIFY(page.ok());
        QCOMPARE(page->items.size(), 1);
        QCOMPARE(toString(page->items[0].status), toString(JobStatus::Done));
        QVERIFY(page->next.isEmpty()); // a missing next means the last page
    }

    // ---- Names ---------------------------------------------------------------------------------------

    void checkNameRules_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("error"); // empty: valid

        const QString emoji = QStringLiteral("\U0001F600");
        QTest::newRow("simple") << QStringLiteral("MNIST CNN") << QString();
        QTest::newRow("slash allowed") << QStringLiteral("a/b") << QString();
        QTest::newRow("percent and plus allowed") << QStringLiteral("a%2Fb+c?d#e") << QString();
        QTest::newRow("three dots allowed") << QStringLiteral("...") << QString();
        QTest::newRow("dot prefix allowed") << QStringLiteral(".hidden") << QString();
        QTest::newRow("space only allowed") << QStringLiteral(" ") << QString();
        QTest::newRow("non-ASCII allowed") << QStringLiteral("\u00e9t\u00e9 \u6771\u4eac") << QString();
        QTest::newRow("empty") << QString() << QStringLiteral("name must not be empty");
        QTest::newRow("dot") << QStringLiteral(".") << QStringLiteral("name must not be '.' or '..'");
        QTest::newRow("dot dot") << QStringLiteral("..") << QStringLiteral("name must not be '.' or '..'");
        QTest::newRow("tab") << QStringLiteral("a\tb")
                             << QStringLiteral("name must not contain control characters");
        QTest::newRow("newline") << QStringLiteral("a\n")
                                 << QStringLiteral("name must not contain control characters");
        QTest::newRow("NUL") << QString(QChar(0))
                             << QStringLiteral("name must not contain control characters");
        QTest::newRow("escape") << QStringLiteral("\x1b[31m")
                                << QStringLiteral("name must not contain control characters");
        QTest::newRow("DEL") << QStringLiteral("a\x7f")
                             << QStringLiteral("name must not contain control characters");
        QTest::newRow("C1 control") << QStringLiteral("a\u0085b")
                                    << QStringLiteral("name must not contain control characters");
        QTest::newRow("200 characters") << QString(200, QLatin1Char('x')) << QString();
        QTest::newRow("201 characters")
            << QString(201, QLatin1Char('x')) << QStringLiteral("name is longer than 200 characters");
        QTest::newRow("200 emoji count once each") << emoji.repeated(200) << QString();
        QTest::newRow("201 emoji") << emoji.repeated(201)
                                   << QStringLiteral("name is longer than 200 characters");
        QTest::newRow("199 letters and one emoji") << QString(199, QLatin1Char('x')) + emoji << QString();
        QTest::newRow("200 letters and one emoji")
            << QString(200, QLatin1Char('x')) + emoji << QStringLiteral("name is longer than 200 characters");
        QTest::newRow("200 accented letters") << QStringLiteral("\u00e9").repeated(200) << QString();
        QTest::newRow("leading BOM") << QStringLiteral("\uFEFFsecret")
                                     << QStringLiteral("name must not start with a byte-order mark (U+FEFF)");
        QTest::newRow("inner BOM") << QStringLiteral("a\uFEFFb") << QString();
    }
    void checkNameRules()
    {
        QFETCH(QString, name);
        QFETCH(QString, error);
        QCOMPARE(checkName(name), error);
    }

    void checkNameUsesTheGivenWord()
    {
        QCOMPARE(checkName(QString(), QStringLiteral("experiment name")),
                 QStringLiteral("experiment name must not be empty"));
        QCOMPARE(checkName(QStringLiteral(".."), QStringLiteral("job id")),
                 QStringLiteral("job id must not be '.' or '..'"));
        QCOMPARE(MaxNameLength, 200);
    }
};

QTEST_GUILESS_MAIN(TestCodec)
#include "tst_codec.moc"
