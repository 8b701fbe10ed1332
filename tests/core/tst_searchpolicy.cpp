// The codec of docs/protocol.md section 8: sampler, pruner, lease, the PUT's
// keep / remove / set, the rules between keys, and the job extensions.
#include "Codec.h"
#include "Json.h"
#include "PolicyText.h"
#include "Types.h"

#include <QtTest>

using namespace schedy;

namespace {

QCborValue parse(const char *text)
{
    json::ParseError pe;
    const QCborValue v = json::parse(QByteArray(text), &pe);
    if (pe.isError())
        qFatal("bad test JSON: %s", qPrintable(pe.message));
    return v;
}

// A RandomSearch over two numeric and two other hyperparameters, plus `extra` keys.
QByteArray randomSearch(const QByteArray &extra)
{
    return R"({"status": "RUNNING", "scheduler": {"RandomSearch": {
        "lr": {"loguniform": {"low": 1e-05, "high": 0.1}},
        "dropout": {"uniform": {"low": 0.0, "high": 0.5}},
        "act": {"choice": {"values": ["relu", "tanh", "gelu"]}},
        "opt": {"const": "sgd"}}})" +
           (extra.isEmpty() ? QByteArray() : ", " + extra) + "}";
}

QString errorOf(const QByteArray &document)
{
    const auto e = codec::decodeExperiment(parse(document.constData()));
    return e ? QString() : e.error().message();
}

} // namespace

class TestSearchPolicy : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void samplersRoundTrip_data()
    {
        QTest::addColumn<QByteArray>("sampler");
        QTest::newRow("random") << QByteArray(R"({"kind":"random"})");
        QTest::newRow("grid") << QByteArray(R"({"kind":"grid","steps":{"dropout":3,"lr":5}})");
        QTest::newRow("sobol") << QByteArray(R"({"kind":"sobol"})");
        QTest::newRow("sobol seeded") << QByteArray(R"({"kind":"sobol","seed":3})");
        QTest::newRow("tpe") << QByteArray(R"({"kind":"tpe","result":"loss","direction":"minimize"})");
        QTest::newRow("tpe full") << QByteArray(
            R"({"kind":"tpe","result":"acc","direction":"maximize","startupJobs":0,"candidates":48,"seed":7})");
    }
    void samplersRoundTrip()
    {
        QFETCH(QByteArray, sampler);
        const auto e = codec::decodeExperiment(parse(randomSearch("\"sampler\": " + sampler).constData()));
        QVERIFY2(e.ok(), qPrintable(e ? QString() : e.error().message()));
        QVERIFY(e->sampler);
        QCOMPARE(json::write(codec::encode(*e->sampler)), sampler);
        QCOMPARE(json::write(codec::encode(e.value()).value(QStringLiteral("sampler"))), sampler);
        // And back again to the same value.
        const auto again = codec::decodeExperiment(codec::encode(e.value()));
        QVERIFY(again.ok());
        QCOMPARE(again->sampler, e->sampler);
    }

    void samplerValues()
    {
        const auto e = codec::decodeExperiment(
            parse(randomSearch(
                      R"("sampler": {"kind": "tpe", "result": "loss", "direction": "maximize", "seed": 3})")
                      .constData()));
        QVERIFY(e.ok());
        QVERIFY(e->sampler->kind == SamplerSpec::Kind::Tpe);
        QCOMPARE(e->sampler->result, QStringLiteral("loss"));
        QCOMPARE(e->sampler->direction, Objective::Maximize);
        QCOMPARE(e->sampler->seed, std::optional<qint64>(3));
        QCOMPARE(e->sampler->tpeStartupJobs(), 10);
        QCOMPARE(e->sampler->tpeCandidates(), 24);
    }

    void prunersAndLeasesRoundTrip_data()
    {
        QTest::addColumn<QByteArray>("key");
        QTest::addColumn<QByteArray>("value");
        QTest::newRow("median") << QByteArray("pruner")
                                << QByteArray(R"({"kind":"median","result":"loss","direction":"minimize"})");
        QTest::newRow("median full") << QByteArray("pruner")
                                     << QByteArray(
                                            R"({"kind":"median","result":"loss","direction":"minimize",)"
                                            R"("startupJobs":5,"warmupSteps":2})");
        QTest::newRow("asha") << QByteArray("pruner")
                              << QByteArray(R"({"kind":"asha","result":"acc","direction":"maximize",)"
                                            R"("minSteps":2,"reductionFactor":3})");
        QTest::newRow("lease") << QByteArray("lease") << QByteArray(R"({"seconds":600})");
        QTest::newRow("lease retries") << QByteArray("lease") << QByteArray(R"({"seconds":60,"retries":0})");
    }
    void prunersAndLeasesRoundTrip()
    {
        QFETCH(QByteArray, key);
        QFETCH(QByteArray, value);
        const auto e = codec::decodeExperiment(parse(randomSearch('"' + key + "\": " + value).constData()));
        QVERIFY2(e.ok(), qPrintable(e ? QString() : e.error().message()));
        QCOMPARE(json::write(codec::encode(e.value()).value(QString::fromLatin1(key))), value);
        const auto again = codec::decodeExperiment(codec::encode(e.value()));
        QVERIFY(again.ok());
        QCOMPARE(again->pruner, e->pruner);
        QCOMPARE(again->lease, e->lease);
    }

    void defaults()
    {
        const auto e = codec::decodeExperiment(
            parse(randomSearch(R"("pruner": {"kind": "asha", "result": "loss", "direction": "minimize"},
                            "lease": {"seconds": 90}, "sampler": null)")
                      .constData()));
        QVERIFY(e.ok());
        QVERIFY(!e->sampler);
        QCOMPARE(e->pruner->ashaMinSteps(), 1);
        QCOMPARE(e->pruner->ashaReductionFactor(), 4);
        QCOMPARE(e->pruner->medianStartupJobs(), 5);
        QCOMPARE(e->pruner->medianWarmupSteps(), 0);
        QCOMPARE(e->lease->seconds, 90);
        QCOMPARE(e->lease->effectiveRetries(), 1);
        QCOMPARE(e->lease->heartbeatIntervalMs(), 30000);
        // Absent keys are not written back.
        const QCborMap written = codec::encode(e.value());
        QVERIFY(!written.contains(QStringLiteral("sampler")));
        QCOMPARE(json::write(written.value(QStringLiteral("lease"))), QByteArray(R"({"seconds":90})"));
    }

    // 400-quality messages: the key at fault and what is wrong with it.
    void badValues_data()
    {
        QTest::addColumn<QByteArray>("extra");
        QTest::addColumn<QString>("message");
        const auto row = [](const char *name, const char *extra, const char *message) {
            QTest::newRow(name) << QByteArray(extra) << QString::fromUtf8(message);
        };
        row("sampler not an object", R"("sampler": "tpe")",
            "sampler: must be an object with a \"kind\" (random, grid, sobol or tpe), not a string");
        row("sampler without kind", R"("sampler": {})", "sampler.kind: is required");
        row("unknown sampler", R"("sampler": {"kind": "cmaes"})",
            "sampler.kind: unknown sampler \"cmaes\" (expected random, grid, sobol or tpe)");
        row("tpe without result", R"("sampler": {"kind": "tpe", "direction": "minimize"})",
            "sampler.result: is required");
        row("tpe empty result", R"("sampler": {"kind": "tpe", "result": "", "direction": "minimize"})",
            "sampler.result: must not be empty");
        row("tpe without direction", R"("sampler": {"kind": "tpe", "result": "loss"})",
            "sampler.direction: is required");
        row("tpe bad direction", R"("sampler": {"kind": "tpe", "result": "loss", "direction": "min"})",
            "sampler.direction: must be \"minimize\" or \"maximize\", not \"min\"");
        row("tpe zero candidates",
            R"("sampler": {"kind": "tpe", "result": "loss", "direction": "minimize", "candidates": 0})",
            "sampler.candidates: must be at least 1");
        row("tpe fractional startup",
            R"("sampler": {"kind": "tpe", "result": "loss", "direction": "minimize", "startupJobs": 2.5})",
            "sampler.startupJobs: must be an integer, not 2.5");
        row("negative seed", R"("sampler": {"kind": "sobol", "seed": -1})",
            "sampler.seed: must be at least 0");
        row("unknown key", R"("sampler": {"kind": "sobol", "steps": {}})", "sampler.steps: unknown key");
        row("random with result", R"("sampler": {"kind": "random", "result": "loss"})",
            "sampler.result: unknown key");
        row("grid without steps", R"("sampler": {"kind": "grid"})",
            "sampler.steps: the loguniform hyperparameter \"lr\" needs a number of points");
        row("grid missing one", R"("sampler": {"kind": "grid", "steps": {"lr": 4}})",
            "sampler.steps: the uniform hyperparameter \"dropout\" needs a number of points");
        row("grid zero steps", R"("sampler": {"kind": "grid", "steps": {"lr": 0, "dropout": 2}})",
            "sampler.steps.lr: must be at least 1");
        row("grid steps of a choice",
            R"("sampler": {"kind": "grid", "steps": {"lr": 2, "dropout": 2, "act": 2}})",
            "sampler.steps.act: is a choice: its values are the grid's points, it takes no steps");
        row("grid steps of nothing",
            R"("sampler": {"kind": "grid", "steps": {"lr": 2, "dropout": 2, "lx": 2}})",
            "sampler.steps.lx: is not a hyperparameter of the scheduler");
        row("grid too large", R"("sampler": {"kind": "grid", "steps": {"lr": 10000, "dropout": 10000}})",
            "sampler.steps: the grid has more than 10000000 points");
        row("pruner unknown", R"("pruner": {"kind": "hyperband", "result": "loss", "direction": "minimize"})",
            "pruner.kind: unknown pruner \"hyperband\" (expected median or asha)");
        row("pruner without result", R"("pruner": {"kind": "median", "direction": "minimize"})",
            "pruner.result: is required");
        row("median with asha key",
            R"("pruner": {"kind": "median", "result": "loss", "direction": "minimize", "minSteps": 2})",
            "pruner.minSteps: unknown key");
        row("asha eta 1",
            R"("pruner": {"kind": "asha", "result": "loss", "direction": "minimize", "reductionFactor": 1})",
            "pruner.reductionFactor: must be at least 2");
        row("asha min steps 0",
            R"("pruner": {"kind": "asha", "result": "loss", "direction": "minimize", "minSteps": 0})",
            "pruner.minSteps: must be at least 1");
        row("negative warmup",
            R"("pruner": {"kind": "median", "result": "loss", "direction": "minimize", "warmupSteps": -1})",
            "pruner.warmupSteps: must be at least 0");
        row("lease zero", R"("lease": {"seconds": 0})", "lease.seconds: must be greater than 0");
        row("lease negative", R"("lease": {"seconds": -5})", "lease.seconds: must be greater than 0");
        row("lease fraction", R"("lease": {"seconds": 1.5})",
            "lease.seconds: must be a whole number of seconds");
        row("lease text", R"("lease": {"seconds": "600"})",
            "lease.seconds: must be a number of seconds, not a string");
        row("lease missing", R"("lease": {"retries": 2})", "lease.seconds: is required");
        row("lease huge", R"("lease": {"seconds": 1e12})",
            "lease.seconds: must be at most 31536000 (a year)");
        row("lease retries", R"("lease": {"seconds": 60, "retries": -1})",
            "lease.retries: must be at least 0");
        row("lease unknown key", R"("lease": {"seconds": 60, "grace": 1})", "lease.grace: unknown key");
        row("lease not an object", R"("lease": 600)",
            "lease: must be an object {\"seconds\": S, \"retries\": N}, not a number");
    }
    void badValues()
    {
        QFETCH(QByteArray, extra);
        QFETCH(QString, message);
        QCOMPARE(errorOf(randomSearch(extra)), message);
        // The same in a PUT body.
        const auto u = codec::decodeExperimentUpdate(parse(randomSearch(extra).constData()));
        QVERIFY(!u.ok());
        QCOMPARE(u.error().message(), message);
    }

    void keysThatDoNotFitTheScheduler()
    {
        const QByteArray tpe = R"("sampler": {"kind": "tpe", "result": "loss", "direction": "minimize"})";
        const QByteArray median =
            R"("pruner": {"kind": "median", "result": "loss", "direction": "minimize"})";
        const QByteArray manual = R"({"status": "RUNNING", "scheduler": {"Manual": null}, )";
        const QByteArray pbt = R"({"scheduler": {"PBT": {"objective": "min", "qualityResultName": "loss",
            "exploit": {"truncate": 0.2}}}, )";
        QCOMPARE(errorOf(manual + tpe + "}"),
                 QStringLiteral("sampler: only a RandomSearch has a sampler, not a Manual experiment "
                                "(\"sampler\": null removes it)"));
        QCOMPARE(errorOf(manual + R"("sampler": {"kind": "random"}})"),
                 QStringLiteral("sampler: only a RandomSearch has a sampler, not a Manual experiment "
                                "(\"sampler\": null removes it)"));
        QCOMPARE(errorOf(pbt + tpe + "}"), QStringLiteral("sampler: only a RandomSearch has a sampler, not a "
                                                          "PBT experiment (\"sampler\": null removes it)"));
        QCOMPARE(
            errorOf(pbt + median + "}"),
            QStringLiteral("pruner: a PBT experiment cannot have a pruner (\"pruner\": null removes it)"));
        // What fits: a pruner on Manual, a lease on every scheduler, null everywhere.
        QCOMPARE(errorOf(manual + median + R"(, "lease": {"seconds": 60}})"), QString());
        QCOMPARE(errorOf(pbt + R"("lease": {"seconds": 60, "retries": 3}, "sampler": null, "pruner": null})"),
                 QString());
        // A grid of choices and constants only needs no steps.
        QCOMPARE(errorOf(R"({"scheduler": {"RandomSearch": {"a": {"choice": {"values": [1, 2]}}}},
                             "sampler": {"kind": "grid"}})"),
                 QString());
    }

    void putTellsKeepRemoveAndSet()
    {
        const auto u = codec::decodeExperimentUpdate(
            parse(randomSearch(R"("sampler": {"kind": "sobol", "seed": 1}, "pruner": null)").constData()));
        QVERIFY(u.ok());
        QCOMPARE(u->sampler.action, KeyUpdate<SamplerSpec>::Action::Set);
        QVERIFY(u->sampler.value->kind == SamplerSpec::Kind::Sobol);
        QCOMPARE(u->pruner.action, KeyUpdate<PrunerSpec>::Action::Remove);
        QCOMPARE(u->lease.action, KeyUpdate<LeaseSpec>::Action::Keep);

        Experiment stored;
        stored.scheduler = u->experiment.scheduler;
        stored.pruner = PrunerSpec{};
        stored.pruner->result = QStringLiteral("loss");
        stored.lease = LeaseSpec{120, 2};
        const Experiment merged = u->applyTo(&stored);
        QCOMPARE(merged.sampler, u->sampler.value); // set
        QVERIFY(!merged.pruner);                    // removed
        QCOMPARE(merged.lease, stored.lease);       // kept
        QCOMPARE(codec::checkPolicies(merged).has_value(), false);

        // Creating: kept keys stay unset.
        const Experiment created = u->applyTo(nullptr);
        QVERIFY(!created.lease);
        QVERIFY(created.sampler);
    }

    void keptSamplerIsCheckedAgainstANewScheduler()
    {
        // An original client switches a TPE search to Manual without naming the sampler.
        const auto u = codec::decodeExperimentUpdate(parse(R"({"scheduler": {"Manual": null}})"));
        QVERIFY(u.ok());
        Experiment stored;
        stored.scheduler.kind = Scheduler::Kind::RandomSearch;
        stored.sampler = SamplerSpec{};
        stored.sampler->kind = SamplerSpec::Kind::Tpe;
        const auto problem = codec::checkPolicies(u->applyTo(&stored));
        QVERIFY(problem);
        QCOMPARE(problem->path, QStringLiteral("sampler"));
        // A kept grid whose scheduler gains a numeric hyperparameter.
        const auto grown = codec::decodeExperimentUpdate(parse(randomSearch({}).constData()));
        QVERIFY(grown.ok());
        Experiment grid;
        grid.scheduler = grown->experiment.scheduler;
        grid.sampler = SamplerSpec{};
        grid.sampler->kind = SamplerSpec::Kind::Grid;
        grid.sampler->steps = {{QStringLiteral("lr"), 3}};
        const auto missing = codec::checkPolicies(grown->applyTo(&grid));
        QVERIFY(missing);
        QCOMPARE(
            missing->message(),
            QStringLiteral("sampler.steps: the uniform hyperparameter \"dropout\" needs a number of points"));
    }

    void replacementWritesEveryKey()
    {
        Experiment e;
        e.scheduler.kind = Scheduler::Kind::RandomSearch;
        e.lease = LeaseSpec{30, std::nullopt};
        const QCborMap body = codec::encodeReplacement(e);
        QVERIFY(body.value(QStringLiteral("sampler")).isNull());
        QVERIFY(body.value(QStringLiteral("pruner")).isNull());
        QCOMPARE(json::write(body.value(QStringLiteral("lease"))), QByteArray(R"({"seconds":30})"));
        const auto u = codec::decodeExperimentUpdate(body);
        QVERIFY(u.ok());
        QCOMPARE(u->sampler.action, KeyUpdate<SamplerSpec>::Action::Remove);
        QCOMPARE(u->lease.action, KeyUpdate<LeaseSpec>::Action::Set);
        // The response form leaves unset keys out.
        QVERIFY(!codec::encode(e).contains(QStringLiteral("sampler")));
    }

    void gridSize()
    {
        const auto e = codec::decodeExperiment(parse(
            randomSearch(R"("sampler": {"kind": "grid", "steps": {"lr": 5, "dropout": 4}})").constData()));
        QVERIFY(e.ok());
        QCOMPARE(schedy::gridSize(e->scheduler, *e->sampler), std::optional<qint64>(5 * 4 * 3 * 1));
        SamplerSpec noSteps;
        noSteps.kind = SamplerSpec::Kind::Grid;
        QCOMPARE(schedy::gridSize(e->scheduler, noSteps), std::nullopt);
        SamplerSpec huge = *e->sampler;
        huge.steps = {{QStringLiteral("lr"), MaxGridPoints}, {QStringLiteral("dropout"), MaxGridPoints}};
        QCOMPARE(schedy::gridSize(e->scheduler, huge), std::optional<qint64>(MaxGridPoints + 1));
    }

    void jobExtensions()
    {
        const QCborValue v = parse(R"({"id": "a", "experiment": "e", "status": "PRUNED",
            "hyperparameters": {}, "results": {"loss": [0.9, 0.8, 0.85]},
            "gridIndex": 17, "prunedAt": 3, "pruneRule": "asha", "pruneValue": 0.85, "pruneThreshold": 0.61,
            "lostAt": 1795891290.25, "replacedBy": "b", "replaces": "z"})");
        const auto j = codec::decodeJob(v);
        QVERIFY(j.ok());
        QCOMPARE(j->gridIndex, std::optional<qint64>(17));
        QVERIFY(j->pruned);
        QCOMPARE(j->pruned->step, 3);
        QVERIFY(j->pruned->rule == PrunerSpec::Kind::Asha);
        QCOMPARE(j->pruned->value, std::optional<double>(0.85));
        QCOMPARE(j->pruned->threshold, std::optional<double>(0.61));
        QCOMPARE(j->lostAt, std::optional<double>(1795891290.25));
        QCOMPARE(j->replacedBy, QStringLiteral("b"));
        QCOMPARE(j->replaces, QStringLiteral("z"));
        // Written back as read, by both writers of the server.
        const QByteArray encoded = json::write(codec::encode(j.value()));
        QCOMPARE(encoded, json::write(v));
        QCOMPARE(codec::writeJobDocument(j.value(), "{}", json::write(j->results)), encoded);
    }

    void inWords()
    {
        const auto e = codec::decodeExperiment(
            parse(randomSearch(R"("sampler": {"kind": "grid", "steps": {"lr": 5, "dropout": 4}},
                            "pruner": {"kind": "asha", "result": "loss", "direction": "minimize"},
                            "lease": {"seconds": 600}, "jobCounts": {"DONE": 30, "PRUNED": 7, "RUNNING": 4})")
                      .constData()));
        QVERIFY(e.ok());
        QCOMPARE(headline(e.value()), QStringLiteral("grid: 37 of 60 points, ASHA, lease 600 s"));
        QCOMPARE(describe(*e->sampler, e->scheduler), QStringLiteral("grid, 60 points"));
        QCOMPARE(describe(*e->pruner),
                 QStringLiteral("ASHA on loss (minimize), rungs at steps 1, 4, 16..., keeps the best 1/4"));
        QCOMPARE(describe(*e->lease), QStringLiteral("600 s, 1 retry"));
        QCOMPARE(describe(PruneInfo{3, PrunerSpec::Kind::Median, 0.85, 0.61}),
                 QStringLiteral("at step 3 by the median rule: 0.85, worse than 0.61"));
        Experiment plain;
        QCOMPARE(headline(plain), QString());
    }

    void jobExtensionsOfTheWrongTypeAreIgnored()
    {
        const auto j = codec::decodeJob(parse(R"({"id": "a", "experiment": "e", "status": "DONE",
            "gridIndex": "x", "pruneRule": "later", "lostAt": null, "replacedBy": 3})"));
        QVERIFY(j.ok());
        QVERIFY(!j->gridIndex);
        QVERIFY(!j->pruned);
        QVERIFY(!j->lostAt);
        QVERIFY(j->replacedBy.isEmpty());
    }
};

QTEST_APPLESS_MAIN(TestSearchPolicy)
#include "tst_searchpolicy.moc"
