#include "Json.h"
#include "scheduling/Pruner.h"

#include <QtTest>

#include <cmath>
#include <limits>

using namespace schedy;
using namespace schedy::server::scheduling;

// The pruning rules on hand-made curves: the step at which a job reporting one
// value per step is stopped, against Optuna 3.1's MedianPruner and
// SuccessiveHalvingPruner worked by hand (their sources, read side by side).
namespace {

constexpr double NaN = std::numeric_limits<double>::quiet_NaN();

PrunerSpec medianRule(qint64 startup = 0, qint64 warmup = 0, Objective d = Objective::Minimize)
{
    PrunerSpec s;
    s.kind = PrunerSpec::Kind::Median;
    s.result = QStringLiteral("loss");
    s.direction = d;
    s.startupJobs = startup;
    s.warmupSteps = warmup;
    return s;
}

PrunerSpec ashaRule(qint64 minSteps = 1, qint64 eta = 2, Objective d = Objective::Minimize)
{
    PrunerSpec s;
    s.kind = PrunerSpec::Kind::Asha;
    s.result = QStringLiteral("loss");
    s.direction = d;
    s.minSteps = minSteps;
    s.reductionFactor = eta;
    return s;
}

// Reports `curve` one value at a time, as a worker does; the step at which the
// job is stopped (0: it ran to the end). Its rung values join `o`, as the store
// records them.
qint64 stopStep(const PrunerSpec &s, const QList<double> &curve, CurveObservations &o,
                std::optional<PruneVerdict> *reason = nullptr)
{
    for (qint64 k = 1; k <= curve.size(); ++k) {
        const PruneOutcome out = evaluatePrune(s, curve.mid(0, k), k - 1, o);
        if (out.failed)
            return -1;
        o.rungRecords << out.records;
        if (out.pruned) {
            if (reason)
                *reason = out.pruned;
            return k;
        }
    }
    return 0;
}

// A store whose reads fail.
class Failing final : public PruneObservations
{
public:
    std::optional<qint64> doneJobs() override { return std::nullopt; }
    std::optional<double> doneMedianAt(qint64) override { return std::nullopt; }
    std::optional<RungStanding> rungStanding(qint64, double, bool) override { return std::nullopt; }
    std::optional<double> rungValue(qint64, qint64, bool) override { return std::nullopt; }
};

} // namespace

class TestPruner : public QObject
{
    Q_OBJECT

private slots:
    void medianOfValues()
    {
        QCOMPARE(medianOf({3, 1, 2}), 2.0);
        QCOMPARE(medianOf({4, 1, 3, 2}), 2.5);
        QCOMPARE(medianOf({NaN, 5, 1}), 3.0); // numpy's nanpercentile
        QVERIFY(std::isnan(medianOf({})));
        QVERIFY(std::isnan(medianOf({NaN})));
    }

    void medianStopsAtTheStepItFallsBehind()
    {
        CurveObservations o;
        o.doneCurves = {{1.0, 0.8, 0.6, 0.4}, {1.0, 0.7, 0.5, 0.3}, {1.0, 0.9, 0.7, 0.5}};
        // Medians per step: 1.0, 0.8, 0.6, 0.4. The best so far 0.9 passes step 1 (1.0)
        // and is worse than 0.8 at step 2.
        std::optional<PruneVerdict> why;
        QCOMPARE(stopStep(medianRule(), {0.9, 0.85, 0.5, 0.1}, o, &why), 2);
        QVERIFY(why);
        QVERIFY(why->reason.rule == PrunerSpec::Kind::Median);
        QCOMPARE(why->reason.step, 2);
        QCOMPARE(why->reason.value.value_or(-1), 0.85);
        QCOMPARE(why->reason.threshold.value_or(-1), 0.8);
        QCOMPARE(why->compared, 3);
        QVERIFY(why->describe().contains(QStringLiteral("median")));
        // Equal to the median is not worse: it goes on.
        QCOMPARE(stopStep(medianRule(), {1.0, 0.8, 0.6, 0.4}, o), 0);
        // The best so far counts, not the last value: a bad last step after a good one survives.
        QCOMPARE(stopStep(medianRule(), {0.5, 0.9, 0.9, 0.9}, o), 4);
        QCOMPARE(stopStep(medianRule(), {0.5, 0.9, 0.55, 0.9}, o), 4); // 0.5 > 0.4 at step 4
        QCOMPARE(stopStep(medianRule(), {0.3, 0.9, 0.9, 0.9}, o), 0);
    }

    void medianMaximizes()
    {
        CurveObservations o;
        o.doneCurves = {{0.1, 0.5, 0.9}, {0.2, 0.6, 0.8}};
        // Medians 0.15, 0.55, 0.85: 0.4 by step 2 is below 0.55.
        QCOMPARE(stopStep(medianRule(0, 0, Objective::Maximize), {0.2, 0.4, 0.99}, o), 2);
        QCOMPARE(stopStep(medianRule(0, 0, Objective::Maximize), {0.2, 0.6, 0.86}, o), 0);
    }

    void medianWaitsForStartupJobsAndWarmup()
    {
        CurveObservations o;
        o.doneCurves = {{0.1, 0.1, 0.1}, {0.1, 0.1, 0.1}};
        const QList<double> bad{0.9, 0.9, 0.9};
        QCOMPARE(stopStep(medianRule(3), bad, o), 0);    // 2 DONE < startupJobs 3
        QCOMPARE(stopStep(medianRule(2), bad, o), 1);    // 2 DONE: it may start
        QCOMPARE(stopStep(medianRule(2, 1), bad, o), 2); // Optuna's step 0 < warmup 1: not at step 1
        QCOMPARE(stopStep(medianRule(2, 2), bad, o), 3);
        QCOMPARE(stopStep(medianRule(2, 3), bad, o), 0);
        o.doneCurves.clear(); // none DONE at all: never, even with startupJobs 0
        QCOMPARE(stopStep(medianRule(0), bad, o), 0);
    }

    void medianOnlyWhereDoneJobsReached()
    {
        CurveObservations o;
        o.doneCurves = {{0.5}, {0.5, 0.1}};
        // At step 3 no DONE job has a value: no median, no pruning (n_min_trials 1).
        QCOMPARE(stopStep(medianRule(), {0.5, 0.2, 0.05}, o), 2); // step 2 median is 0.1
        QCOMPARE(stopStep(medianRule(), {0.5, 0.1, 9.0}, o), 0);
    }

    void medianNaN()
    {
        CurveObservations o;
        o.doneCurves = {{0.5, 0.5}, {NaN, 0.5}};
        QCOMPARE(stopStep(medianRule(), {0.6, 0.4}, o), 1); // median at step 1 is 0.5 (NaN ignored)
        std::optional<PruneVerdict> why;
        QCOMPARE(stopStep(medianRule(), {NaN, NaN}, o, &why), 1); // only NaN so far: Optuna prunes
        QVERIFY(!why->reason.threshold && !why->reason.value);
        QCOMPARE(stopStep(medianRule(), {0.4, NaN}, o), 0); // nanmin of {0.4, NaN} is 0.4
    }

    void medianLooksOnlyWhenTheCurveGrows()
    {
        CurveObservations o;
        o.doneCurves = {{0.1, 0.1}};
        QVERIFY(!evaluatePrune(medianRule(), {0.9, 0.9}, 2, o).pruned); // same length
        QVERIFY(!evaluatePrune(medianRule(), {0.9}, 2, o).pruned);      // shorter
        // Grown by two at once: judged at its last step.
        const PruneOutcome out = evaluatePrune(medianRule(), {0.9, 0.9}, 0, o);
        QVERIFY(out.pruned);
        QCOMPARE(out.pruned->reason.step, 2);
    }

    void rungs()
    {
        QCOMPARE(rungSteps(ashaRule(1, 4), 64), (QList<qint64>{1, 4, 16, 64}));
        QCOMPARE(rungSteps(ashaRule(1, 4), 63), (QList<qint64>{1, 4, 16}));
        QCOMPARE(rungSteps(ashaRule(3, 2), 30), (QList<qint64>{3, 6, 12, 24}));
        QCOMPARE(rungSteps(ashaRule(3, 2), 2), QList<qint64>{});
        QCOMPARE(rungSteps(ashaRule(1, 2), std::numeric_limits<qint64>::max()).size(), 63);
    }

    void ashaFirstJobsOnlyTheBestContinues()
    {
        // eta 2: while fewer than 2 values are at a rung, index n // 2 - 1 is 0 for n = 2
        // and for n = 1 Optuna still takes index 0: only the best so far goes on.
        CurveObservations o;
        const PrunerSpec s = ashaRule(1, 2);
        QCOMPARE(stopStep(s, {0.5, 0.4, 0.3, 0.2}, o), 0); // alone at every rung
        QCOMPARE(o.rungRecords, (QList<RungRecord>{{1, 0.5}, {2, 0.4}, {4, 0.2}}));
        std::optional<PruneVerdict> why;
        // Second job: 0.6 at rung 1 against {0.5}: n = 2, index 0, one better: stopped at step 1.
        QCOMPARE(stopStep(s, {0.6, 0.1, 0.1, 0.1}, o, &why), 1);
        QVERIFY(why->reason.rule == PrunerSpec::Kind::Asha);
        QCOMPARE(why->rungStep, 1);
        QCOMPARE(why->reason.threshold.value_or(-1), 0.5);
        QCOMPARE(why->compared, 1);
        QVERIFY(why->describe().contains(QStringLiteral("ASHA")));
        // Its value stays recorded at the rung (Optuna records before it decides).
        QCOMPARE(o.rungRecords.last(), (RungRecord{1, 0.6}));
        // Third: 0.55 at rung 1 among {0.5, 0.6}: n = 3, index 0, 0.5 better: stopped.
        QCOMPARE(stopStep(s, {0.55, 0.1}, o), 1);
        // Fourth: 0.45 beats them all at rung 1; at rung 2, 0.41 against {0.4}: stopped at 2.
        QCOMPARE(stopStep(s, {0.45, 0.41, 0.1, 0.1}, o), 2);
        // Fifth: rung 1 has {0.5, 0.6, 0.55, 0.45} + 0.52: n = 5, index 1 (0.5): 2 better.
        QCOMPARE(stopStep(s, {0.52, 0.3}, o), 1);
        // Sixth: n = 6, index 2, only 0.45 better (0.5 ties): continues; best at rungs 2 and 4.
        QCOMPARE(stopStep(s, {0.5, 0.39, 0.3, 0.1}, o), 0);
        // Seventh: passes rungs 1 and 2, but 0.3 at rung 4 loses to 0.2 and 0.1.
        QCOMPARE(stopStep(s, {0.4, 0.38, 0.3, 0.3}, o), 4);
    }

    void ashaTopFractionContinuesAtARung()
    {
        // eta 4, minSteps 2: rungs at 2, 8, 32. Eight jobs reached rung 2 with values 1..8.
        CurveObservations o;
        for (int v = 1; v <= 8; ++v)
            o.rungRecords.append({2, double(v)});
        const PrunerSpec s = ashaRule(2, 4);
        // Ninth: n = 9, index 1: the two best (1, 2) and values tying 2 go on.
        QCOMPARE(stopStep(s, {9.0, 2.0, 2.0}, o), 0);
        std::optional<PruneVerdict> why;
        QCOMPARE(stopStep(s, {0.0, 2.5, 0.0}, o, &why), 2); // not judged at step 1: no rung there
        QCOMPARE(why->reason.threshold.value_or(-1), 2.0);
        QCOMPARE(why->compared, 9);
        QCOMPARE(why->reason.value.value_or(-1), 2.5);
        // Maximizing, the same values rank the other way.
        CurveObservations m;
        for (int v = 1; v <= 8; ++v)
            m.rungRecords.append({2, double(v)});
        QCOMPARE(stopStep(ashaRule(2, 4, Objective::Maximize), {0.0, 7.0}, m), 0);
        QCOMPARE(stopStep(ashaRule(2, 4, Objective::Maximize), {0.0, 6.5}, m), 2);
    }

    void ashaJudgesEveryRungReachedInOneWrite()
    {
        CurveObservations o;
        o.rungRecords = {{1, 0.5}, {2, 0.1}};
        // Grown from 0 to 4 values at once: rung 1 passes (0.4 < 0.5), rung 2 fails
        // (0.3 against 0.1), and rung 4 is never looked at.
        const PruneOutcome out = evaluatePrune(ashaRule(1, 2), {0.4, 0.3, 0.2, 0.0}, 0, o);
        QVERIFY(out.pruned);
        QCOMPARE(out.pruned->rungStep, 2);
        QCOMPARE(out.pruned->reason.step, 4);
        QCOMPARE(out.records, (QList<RungRecord>{{1, 0.4}, {2, 0.3}}));
        // Rungs already passed by an earlier write are not judged again.
        const PruneOutcome later = evaluatePrune(ashaRule(1, 2), {0.9, 0.9, 0.9}, 2, o);
        QVERIFY(!later.pruned);
        QVERIFY(later.records.isEmpty());
    }

    void ashaNaNIsStoppedUnrecorded()
    {
        CurveObservations o;
        const PruneOutcome out = evaluatePrune(ashaRule(1, 2), {NaN}, 0, o);
        QVERIFY(out.pruned);
        QVERIFY(out.records.isEmpty());
    }

    void databaseErrorsDecideNothing()
    {
        Failing f;
        QVERIFY(evaluatePrune(medianRule(), {1.0}, 0, f).failed);
        QVERIFY(evaluatePrune(ashaRule(), {1.0}, 0, f).failed);
        QVERIFY(!evaluatePrune(ashaRule(), {1.0}, 0, f).pruned);
    }

    void curves()
    {
        const auto parse = [](const char *text) {
            return json::parse(QByteArray(text)).toMap();
        };
        QCOMPARE(curveOf(parse(R"({"loss": [1, 0.5, 2]})"), QStringLiteral("loss")),
                 (QList<double>{1, 0.5, 2}));
        const auto withNull = curveOf(parse(R"({"loss": [1, null, NaN]})"), QStringLiteral("loss"));
        QVERIFY(withNull && withNull->size() == 3 && std::isnan(withNull->at(1)) &&
                std::isnan(withNull->at(2)));
        QVERIFY(!curveOf(parse(R"({"loss": 0.5})"), QStringLiteral("loss")));
        QVERIFY(!curveOf(parse(R"({"loss": [1, "x"]})"), QStringLiteral("loss")));
        QVERIFY(!curveOf(parse(R"({"acc": [1]})"), QStringLiteral("loss")));
        QCOMPARE(curveOf(parse(R"({"loss": []})"), QStringLiteral("loss")), QList<double>{});
    }
};

QTEST_APPLESS_MAIN(TestPruner)
#include "tst_pruner.moc"
