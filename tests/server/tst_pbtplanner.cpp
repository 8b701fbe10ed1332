#include "PbtPlanner.h"
#include "Sampler.h"

#include <QSet>
#include <QtTest>

#include <cmath>

using namespace schedy;
using namespace schedy::server;

// Unit tests of the PBT decision logic (docs/protocol.md section 5, rules 2-7) on
// hand-made populations. Rule 1 (oldest QUEUED first) and the explore step
// being applied only on exploit live in the store: tst_scheduling covers them.
namespace {

using Kind = PbtDecision::Kind;

PbtJob job(qint64 seq, const QString &id, JobStatus status, qint64 generation = 0, const QString &member = {},
           const QString &predecessor = {}, std::optional<double> quality = std::nullopt, double readyAt = 0)
{
    PbtJob j;
    j.seq = seq;
    j.id = id;
    j.status = status;
    j.generation = generation;
    j.member = member.isEmpty() ? id : member;
    j.predecessor = predecessor;
    j.quality = quality;
    j.readyAt = readyAt;
    return j;
}

// A DONE generation-0 member with a quality, ready at `readyAt`.
PbtJob done0(qint64 seq, const QString &id, double quality, double readyAt)
{
    return job(seq, id, JobStatus::Done, 0, id, {}, quality, readyAt);
}

PbtSettings settings(qint64 population, std::optional<qint64> maxGenerations = std::nullopt,
                     double truncate = 0.2, Objective objective = Objective::Maximize)
{
    PbtSettings s;
    s.objective = objective;
    s.qualityResultName = QStringLiteral("q");
    s.truncate = truncate;
    s.numParallel = population;
    s.maxGenerations = maxGenerations;
    return s;
}

QString name(int i)
{
    return QStringLiteral("m%1").arg(i, 3, 10, QLatin1Char('0'));
}

// n DONE generation-0 lineages m000..m(n-1); m000 has the best quality for
// `objective`, m(n-1) the worst. The member of index `pickedIndex` became
// ready first, so it is the one picked.
QList<PbtJob> ranked(int n, int pickedIndex, Objective objective)
{
    QList<PbtJob> jobs;
    for (int i = 0; i < n; ++i) {
        const double quality = objective == Objective::Maximize ? double(n - i) : double(i);
        jobs.append(done0(i + 1, name(i), quality, i == pickedIndex ? 1.0 : 100.0 + i));
    }
    return jobs;
}

// The sources chosen for the picked job over many seeds.
QMap<QString, int> sources(const QList<PbtJob> &jobs, const PbtSettings &s, const QString &expectedPicked,
                           int seeds = 300)
{
    QMap<QString, int> seen;
    for (int seed = 1; seed <= seeds; ++seed) {
        Sampler sampler{quint64(seed)};
        const PbtDecision d = planPbt(jobs, s, sampler);
        if (d.kind != Kind::Continue || d.picked != expectedPicked)
            return {{QStringLiteral("<unexpected decision>"), seed}};
        ++seen[d.source];
    }
    return seen;
}

QSet<QString> names(int from, int to)
{
    QSet<QString> out;
    for (int i = from; i < to; ++i)
        out.insert(name(i));
    return out;
}

} // namespace

class TestPbtPlanner : public QObject
{
    Q_OBJECT
private slots:
    // Rule 2: generation-0 jobs are created until numParallel exist, crashed ones not counted.
    void rule2_fillsPopulation()
    {
        Sampler sampler{1};
        const PbtSettings s = settings(4);
        QCOMPARE(planPbt({}, s, sampler).kind, Kind::CreateInitial);

        QList<PbtJob> jobs{job(1, QStringLiteral("a"), JobStatus::Queued),
                           job(2, QStringLiteral("b"), JobStatus::Running),
                           done0(3, QStringLiteral("c"), 1.0, 10)};
        QCOMPARE(planPbt(jobs, s, sampler).kind, Kind::CreateInitial);

        // A continued job is not a new member.
        jobs.append(
            job(4, QStringLiteral("c1"), JobStatus::Running, 1, QStringLiteral("c"), QStringLiteral("c")));
        QCOMPARE(planPbt(jobs, s, sampler).kind, Kind::CreateInitial);

        // A crashed generation-0 job leaves its place to a new one.
        jobs.append(job(5, QStringLiteral("d"), JobStatus::Crashed));
        QCOMPARE(planPbt(jobs, s, sampler).kind, Kind::CreateInitial);

        // DONE and PRUNED members count.
        jobs.append(job(6, QStringLiteral("e"), JobStatus::Pruned));
        const PbtDecision full = planPbt(jobs, s, sampler);
        QVERIFY(full.kind != Kind::CreateInitial);
        QCOMPARE(full.kind, Kind::Wait); // c is being continued, the rest is busy or pruned
    }

    void rule2_defaultPopulation()
    {
        Sampler sampler{1};
        PbtSettings s = settings(1);
        s.numParallel.reset();
        QCOMPARE(s.population(), PbtSettings::DefaultPopulation);
        QList<PbtJob> jobs;
        for (int i = 0; i < PbtSettings::DefaultPopulation - 1; ++i)
            jobs.append(job(i + 1, name(i), JobStatus::Running));
        QCOMPARE(planPbt(jobs, s, sampler).kind, Kind::CreateInitial);
        jobs.append(job(100, name(99), JobStatus::Running));
        QCOMPARE(planPbt(jobs, s, sampler).kind, Kind::Wait);
    }

    // Rule 3: the DONE job that became ready first is continued, whatever its insertion order.
    void rule3_readyFirst()
    {
        Sampler sampler{7};
        const PbtSettings s = settings(4, std::nullopt, 0.25);
        // Equal qualities (d ranks last by insertion order and is exploited): exploiting never
        // changes which member is continued.
        QList<PbtJob> jobs{done0(1, QStringLiteral("a"), 0.5, 40), done0(2, QStringLiteral("b"), 0.5, 10),
                           done0(3, QStringLiteral("c"), 0.5, 30), done0(4, QStringLiteral("d"), 0.5, 20)};
        QStringList order;
        for (int round = 0; round < 4; ++round) {
            const PbtDecision d = planPbt(jobs, s, sampler);
            QCOMPARE(d.kind, Kind::Continue);
            QCOMPARE(d.generation, 1);
            QCOMPARE(d.member, d.picked);
            order << d.picked;
            // Being continued: not picked again.
            jobs.append(
                job(10 + round, d.picked + QStringLiteral("1"), JobStatus::Running, 1, d.picked, d.picked));
        }
        QCOMPARE(order, (QStringList{QStringLiteral("b"), QStringLiteral("d"), QStringLiteral("c"),
                                     QStringLiteral("a")}));
        QCOMPARE(planPbt(jobs, s, sampler).kind, Kind::Wait);

        // Same readiness: the older job first.
        const QList<PbtJob> tie{done0(1, QStringLiteral("x"), 0.5, 5), done0(2, QStringLiteral("y"), 0.5, 5)};
        QCOMPARE(planPbt(tie, settings(2), sampler).picked, QStringLiteral("x"));
    }

    void rule3_needsNumericQuality()
    {
        Sampler sampler{3};
        QList<PbtJob> jobs{job(1, QStringLiteral("a"), JobStatus::Done, 0, {}, {}, std::nullopt, 1),
                           job(2, QStringLiteral("b"), JobStatus::Done, 0, {}, {}, std::nullopt, 2),
                           done0(3, QStringLiteral("c"), 0.1, 3)};
        PbtDecision d = planPbt(jobs, settings(3), sampler);
        QCOMPARE(d.kind, Kind::Continue);
        QCOMPARE(d.picked, QStringLiteral("c"));
        QCOMPARE(d.source, QStringLiteral("c")); // the only ranked lineage

        // c being continued, a and b are never picked.
        jobs.append(
            job(4, QStringLiteral("c1"), JobStatus::Running, 1, QStringLiteral("c"), QStringLiteral("c")));
        QCOMPARE(planPbt(jobs, settings(3), sampler).kind, Kind::Wait);
        jobs.last().status = JobStatus::Done; // c1 DONE without a quality either
        QCOMPARE(planPbt(jobs, settings(3), sampler).kind, Kind::Wait);
        QCOMPARE(planPbt(jobs, settings(3, 10), sampler).kind, Kind::Finished);

        // qualityOf: finite numbers only.
        const QCborMap results{{QStringLiteral("i"), 3},
                               {QStringLiteral("d"), -0.5},
                               {QStringLiteral("nan"), std::nan("")},
                               {QStringLiteral("inf"), qInf()},
                               {QStringLiteral("s"), QStringLiteral("0.9")},
                               {QStringLiteral("b"), true},
                               {QStringLiteral("curve"), QCborArray{0.1, 0.2}},
                               {QStringLiteral("null"), QCborValue(QCborValue::Null)}};
        QCOMPARE(qualityOf(results, QStringLiteral("i")), std::optional<double>(3.0));
        QCOMPARE(qualityOf(results, QStringLiteral("d")), std::optional<double>(-0.5));
        for (const char *bad : {"nan", "inf", "s", "b", "curve", "null", "missing"})
            QVERIFY2(!qualityOf(results, QString::fromLatin1(bad)), bad);
    }

    // Rule 3: a job is continued only while generation + 1 < maxGenerations.
    void rule3_maxGenerations()
    {
        Sampler sampler{5};
        const QList<PbtJob> jobs{done0(1, QStringLiteral("a"), 1.0, 1),
                                 job(2, QStringLiteral("a1"), JobStatus::Done, 1, QStringLiteral("a"),
                                     QStringLiteral("a"), 1.0, 2),
                                 job(3, QStringLiteral("a2"), JobStatus::Done, 2, QStringLiteral("a"),
                                     QStringLiteral("a1"), 1.0, 3),
                                 done0(4, QStringLiteral("b"), 1.0, 4),
                                 job(5, QStringLiteral("b1"), JobStatus::Done, 1, QStringLiteral("b"),
                                     QStringLiteral("b"), 1.0, 5)};
        // max 3: a2 (generation 2) is final; b1 can still be continued into generation 2.
        PbtDecision d = planPbt(jobs, settings(2, 3, 0.5), sampler);
        QCOMPARE(d.kind, Kind::Continue);
        QCOMPARE(d.picked, QStringLiteral("b1"));
        QCOMPARE(d.generation, 2);
        // max 2: every lineage is at its last generation.
        QCOMPARE(planPbt(jobs, settings(2, 2, 0.5), sampler).kind, Kind::Finished);
        // max 1: generation-0 jobs are never continued.
        const QList<PbtJob> zero{done0(1, QStringLiteral("a"), 1.0, 1)};
        QCOMPARE(planPbt(zero, settings(1, 1), sampler).kind, Kind::Finished);
        // No limit: a2 is ready first.
        d = planPbt(jobs, settings(2, std::nullopt, 0.5), sampler);
        QCOMPARE(d.picked, QStringLiteral("a2"));
        QCOMPARE(d.generation, 3);
    }

    // Rule 4: k = max(1, floor(n p)); the worst k take a source among the best k.
    void rule4_exploit_data()
    {
        QTest::addColumn<int>("n");
        QTest::addColumn<double>("p");
        QTest::addColumn<int>("objective");
        QTest::addColumn<int>("k");
        QTest::newRow("n10 p0.2 max") << 10 << 0.2 << int(Objective::Maximize) << 2;
        QTest::newRow("n10 p0.2 min") << 10 << 0.2 << int(Objective::Minimize) << 2;
        QTest::newRow("n10 p0.5 max") << 10 << 0.5 << int(Objective::Maximize) << 5;
        QTest::newRow("n7 p0.3 min") << 7 << 0.3 << int(Objective::Minimize) << 2;
        QTest::newRow("n4 p0.2 max (k=1)") << 4 << 0.2 << int(Objective::Maximize) << 1;
        QTest::newRow("n2 p0.5 min") << 2 << 0.5 << int(Objective::Minimize) << 1;
        // n p is 28.999999999999996 in floating point: the user means 29.
        QTest::newRow("n100 p0.29 max") << 100 << 0.29 << int(Objective::Maximize) << 29;
        QTest::newRow("n180 p0.35 min") << 180 << 0.35 << int(Objective::Minimize) << 63;
    }
    void rule4_exploit()
    {
        QFETCH(int, n);
        QFETCH(double, p);
        QFETCH(int, objective);
        QFETCH(int, k);
        const Objective o = Objective(objective);
        const PbtSettings s = settings(n, std::nullopt, p, o);
        const QSet<QString> best = names(0, k);

        // Each of the worst k, when picked, copies one of the best k, and not always the same one.
        for (const int picked : {n - 1, n - k}) {
            const QMap<QString, int> seen = sources(ranked(n, picked, o), s, name(picked));
            QVERIFY2(!seen.contains(QStringLiteral("<unexpected decision>")), qPrintable(name(picked)));
            for (auto it = seen.begin(); it != seen.end(); ++it)
                QVERIFY2(best.contains(it.key()),
                         qPrintable(it.key() + QStringLiteral(" is not among the best")));
            if (k > 1)
                QVERIFY2(seen.size() > 1, "the source never varies");
        }

        // Everyone else continues from itself.
        for (const int picked : {0, n - k - 1}) {
            if (picked < 0 || picked >= n - k)
                continue;
            const QMap<QString, int> seen = sources(ranked(n, picked, o), s, name(picked), 50);
            QCOMPARE(seen.keys(), QList<QString>{name(picked)});
        }
    }

    // The member of an exploited job stays its own; only the latest DONE job of a lineage is ranked.
    void rule4_latestOfLineage()
    {
        const PbtSettings s = settings(3, std::nullopt, 0.5); // n = 3: k = 1
        QList<PbtJob> jobs{
            // Lineage a: excellent at generation 0, worst now.
            done0(1, QStringLiteral("a"), 100.0, 1),
            job(2, QStringLiteral("a1"), JobStatus::Done, 1, QStringLiteral("a"), QStringLiteral("a"), 0.0,
                5),
            done0(3, QStringLiteral("b"), 2.0, 2),
            job(4, QStringLiteral("b1"), JobStatus::Running, 1, QStringLiteral("b"), QStringLiteral("b")),
            done0(5, QStringLiteral("c"), 1.0, 3),
            job(6, QStringLiteral("c1"), JobStatus::Running, 1, QStringLiteral("c"), QStringLiteral("c"))};
        for (int seed = 1; seed <= 20; ++seed) {
            Sampler sampler{quint64(seed)};
            const PbtDecision d = planPbt(jobs, s, sampler);
            QCOMPARE(d.kind, Kind::Continue);
            QCOMPARE(d.picked, QStringLiteral("a1"));
            QCOMPARE(d.source, QStringLiteral("b")); // best latest: b (2.0), not a's old 100.0
            QCOMPARE(d.member, QStringLiteral("a"));
            QCOMPARE(d.generation, 2);
        }

        // A single ranked lineage is its own source.
        const QList<PbtJob> alone{done0(1, QStringLiteral("z"), -3.0, 1)};
        for (int seed = 1; seed <= 10; ++seed) {
            Sampler sampler{quint64(seed)};
            QCOMPARE(planPbt(alone, settings(1), sampler).source, QStringLiteral("z"));
        }
    }

    // The explore step: a factor in [min, max); integers stay integers; the rest is untouched.
    void explore_perturb()
    {
        const QCborMap hp{{QStringLiteral("lr"), 0.01},
                          {QStringLiteral("layers"), 40},
                          {QStringLiteral("name"), QStringLiteral("resnet")},
                          {QStringLiteral("flag"), true},
                          {QStringLiteral("list"), QCborArray{1, 2}},
                          {QStringLiteral("fixed"), 0.5},
                          {QStringLiteral("null"), QCborValue(QCborValue::Null)}};
        const QList<Perturb> explore{
            {QStringLiteral("lr"), 0.5, 2.0},    {QStringLiteral("layers"), 0.8, 1.2},
            {QStringLiteral("name"), 0.5, 2.0},  {QStringLiteral("flag"), 0.5, 2.0},
            {QStringLiteral("list"), 0.5, 2.0},  {QStringLiteral("null"), 0.5, 2.0},
            {QStringLiteral("absent"), 0.5, 2.0}};
        QSet<double> lrs;
        QSet<qint64> layers;
        for (int seed = 1; seed <= 500; ++seed) {
            Sampler sampler{quint64(seed)};
            const QCborMap out = perturb(hp, explore, sampler);
            QCOMPARE(out.keys(), hp.keys()); // same keys, same order, nothing added
            const QCborValue lr = out.value(QStringLiteral("lr"));
            QVERIFY(lr.isDouble());
            const double factor = lr.toDouble() / 0.01;
            QVERIFY2(factor >= 0.5 - 1e-12 && factor < 2.0 + 1e-12, qPrintable(QString::number(factor)));
            lrs.insert(lr.toDouble());
            const QCborValue l = out.value(QStringLiteral("layers"));
            QVERIFY2(l.isInteger(), "an integer hyperparameter became a float");
            QVERIFY(l.toInteger() >= 32 && l.toInteger() <= 48);
            layers.insert(l.toInteger());
            for (const char *same : {"name", "flag", "list", "fixed", "null"})
                QCOMPARE(out.value(QString::fromLatin1(same)), hp.value(QString::fromLatin1(same)));
        }
        QVERIFY(lrs.size() > 400);    // the factor is drawn, not fixed
        QVERIFY(layers.size() >= 10); // 32..47 reachable
        double lowest = 1;
        double highest = 0;
        for (double v : lrs) {
            lowest = std::min(lowest, v);
            highest = std::max(highest, v);
        }
        QVERIFY(lowest < 0.0055 && highest > 0.019); // spread over [0.005, 0.02)

        // Equal factors: an exact multiplication.
        Sampler sampler{1};
        const QCborMap fixed =
            perturb(hp, {{QStringLiteral("lr"), 3.0, 3.0}, {QStringLiteral("layers"), 0.5, 0.5}}, sampler);
        QCOMPARE(fixed.value(QStringLiteral("lr")).toDouble(), 0.01 * 3.0);
        QCOMPARE(fixed.value(QStringLiteral("layers")), QCborValue(20));
        // Nothing to explore: unchanged.
        QCOMPARE(perturb(hp, {}, sampler), hp);
    }

    // Rule 6: a crashed child gives its predecessor back.
    void rule6_crashGivesPredecessorBack()
    {
        Sampler sampler{11};
        const PbtSettings s = settings(2, 5, 0.5);
        QList<PbtJob> jobs{
            done0(1, QStringLiteral("a"), 1.0, 1), done0(2, QStringLiteral("b"), 2.0, 2),
            job(3, QStringLiteral("a1"), JobStatus::Running, 1, QStringLiteral("a"), QStringLiteral("a")),
            job(4, QStringLiteral("b1"), JobStatus::Running, 1, QStringLiteral("b"), QStringLiteral("b"))};
        QCOMPARE(planPbt(jobs, s, sampler).kind, Kind::Wait);

        jobs[2].status = JobStatus::Crashed;
        PbtDecision d = planPbt(jobs, s, sampler);
        QCOMPARE(d.kind, Kind::Continue);
        QCOMPARE(d.picked, QStringLiteral("a"));
        QCOMPARE(d.member, QStringLiteral("a"));
        QCOMPARE(d.generation, 1);

        // Crashing again and again: still given back.
        jobs.append(
            job(5, QStringLiteral("a1b"), JobStatus::Crashed, 1, QStringLiteral("a"), QStringLiteral("a")));
        QCOMPARE(planPbt(jobs, s, sampler).picked, QStringLiteral("a"));

        // A retry that is running or done holds it again.
        jobs.append(
            job(6, QStringLiteral("a1c"), JobStatus::Running, 1, QStringLiteral("a"), QStringLiteral("a")));
        QCOMPARE(planPbt(jobs, s, sampler).kind, Kind::Wait);
        jobs.last().status = JobStatus::Done;
        jobs.last().quality = 3.0;
        jobs.last().readyAt = 10;
        d = planPbt(jobs, s, sampler);
        QCOMPARE(d.picked, QStringLiteral("a1c"));
        QCOMPARE(d.generation, 2);

        // A crashed generation-0 job is not a member to continue.
        const QList<PbtJob> crashed0{job(1, QStringLiteral("x"), JobStatus::Crashed)};
        QCOMPARE(planPbt(crashed0, settings(1, 3), sampler).kind, Kind::CreateInitial);
    }

    // Rule 7: Finished only with maxGenerations and nothing queued, running or continuable.
    void rule7_finishedOrWait()
    {
        Sampler sampler{13};
        QList<PbtJob> jobs{done0(1, QStringLiteral("a"), 1.0, 1), done0(2, QStringLiteral("b"), 2.0, 2),
                           job(3, QStringLiteral("a1"), JobStatus::Done, 1, QStringLiteral("a"),
                               QStringLiteral("a"), 1.5, 3),
                           job(4, QStringLiteral("b1"), JobStatus::Done, 1, QStringLiteral("b"),
                               QStringLiteral("b"), 2.5, 4)};
        QCOMPARE(planPbt(jobs, settings(2, 2), sampler).kind, Kind::Finished);
        // Without a limit the population goes on.
        QCOMPARE(planPbt(jobs, settings(2), sampler).kind, Kind::Continue);

        for (JobStatus busy : {JobStatus::Queued, JobStatus::Running}) {
            QList<PbtJob> withBusy = jobs;
            withBusy[3].status = busy;
            withBusy[3].quality.reset();
            QCOMPARE(planPbt(withBusy, settings(2, 2), sampler).kind, Kind::Wait);
        }
        // A crashed last-generation job gives back a job that can still continue.
        QList<PbtJob> crashed = jobs;
        crashed[3].status = JobStatus::Crashed;
        crashed[3].quality.reset();
        const PbtDecision d = planPbt(crashed, settings(2, 2), sampler);
        QCOMPARE(d.kind, Kind::Continue);
        QCOMPARE(d.picked, QStringLiteral("b"));
        // Crashed and pruned jobs are not busy.
        QList<PbtJob> pruned = jobs;
        pruned.append(
            job(5, QStringLiteral("z"), JobStatus::Pruned, 1, QStringLiteral("b"), QStringLiteral("b1")));
        QCOMPARE(planPbt(pruned, settings(2, 2), sampler).kind, Kind::Finished);
    }
};

QTEST_GUILESS_MAIN(TestPbtPlanner)
#include "tst_pbtplanner.moc"
