#include "GridSampler.h"
#include "Sampler.h"
#include "SearchSpace.h"
#include "SobolSampler.h"
#include "TpeSampler.h"

#include <QtTest>

#include <cmath>

using namespace schedy;
using namespace schedy::server;

// Unit tests of the samplers of docs/protocol.md section 8.1 (pure functions, no
// database): grid order and exhaustion, Sobol's first points against Joe and
// Kuo's published ones, TPE's split, kernel widths and choice on tiny
// histories worked out by hand.
namespace {

NamedDistribution named(const QString &name, const Distribution &d)
{
    NamedDistribution nd;
    nd.name = name;
    nd.distribution = d;
    return nd;
}

TpeObservation observation(JobStatus status, const QCborMap &hp, std::optional<double> value = std::nullopt,
                           qint64 steps = 0)
{
    TpeObservation o;
    o.status = status;
    o.hyperparameters = hp;
    o.value = value;
    o.steps = steps;
    return o;
}

TpeObservation doneAt(double x, double value)
{
    return observation(JobStatus::Done, QCborMap{{QStringLiteral("x"), x}}, value);
}

} // namespace

class TestSamplers : public QObject
{
    Q_OBJECT

private slots:
    void normalQuantileMatchesTables()
    {
        QVERIFY(std::abs(normalQuantile(0.975) - 1.959963984540054) < 1e-13);
        QVERIFY(std::abs(normalQuantile(0.25) + 0.6744897501960817) < 1e-13);
        QVERIFY(std::abs(normalQuantile(1e-10) + 6.361340902404056) < 1e-11);
        QVERIFY(std::abs(normalQuantile(1 - 1e-10) - 6.361340889697422) < 1e-5); // 1 - 1e-10 is inexact
        QCOMPARE(normalQuantile(0.5), 0.0);
    }

    void gridAxes()
    {
        auto axis = [](const Distribution &d, qint64 n) {
            QList<double> out;
            for (const QCborValue &v : Grid::axis(d, n))
                out << v.toDouble();
            return out;
        };
        QCOMPARE(axis(Distribution::uniform(0, 1), 3), (QList<double>{0, 0.5, 1}));
        QCOMPARE(axis(Distribution::uniform(2, 4), 1), (QList<double>{3})); // one point: the middle
        const QList<double> log = axis(Distribution::logUniform(1e-4, 1), 3);
        QCOMPARE(log.size(), 3);
        QCOMPARE(log[0], 1e-4);
        QVERIFY(std::abs(log[1] - 1e-2) < 1e-15);
        QCOMPARE(log[2], 1.0);
        const QList<double> normal = axis(Distribution::normal(10, 2), 2); // quantiles 1/4 and 3/4
        QVERIFY(std::abs(normal[0] - (10 - 2 * 0.6744897501960817)) < 1e-12);
        QVERIFY(std::abs(normal[1] - (10 + 2 * 0.6744897501960817)) < 1e-12);
        // A choice gives its values whatever its weights.
        QCOMPARE(Grid::axis(Distribution::choice({QStringLiteral("a"), 7}, {9, 1}), 5).size(), 2);
    }

    void gridOrderAndSize()
    {
        const Distributions ds{named(QStringLiteral("a"), Distribution::choice({1, 2, 3})),
                               named(QStringLiteral("b"), Distribution::uniform(0, 1)),
                               named(QStringLiteral("c"), Distribution::constantValue(QStringLiteral("x")))};
        const Grid grid(ds, {{QStringLiteral("b"), 3}});
        QCOMPARE(grid.size(), 9);
        // The first hyperparameter varies slowest.
        const QCborMap p0 = grid.point(0), p1 = grid.point(1), p5 = grid.point(5), p8 = grid.point(8);
        QCOMPARE(p0.value(QStringLiteral("a")).toInteger(), 1);
        QCOMPARE(p0.value(QStringLiteral("b")).toDouble(), 0.0);
        QCOMPARE(p0.value(QStringLiteral("c")).toString(), QStringLiteral("x"));
        QCOMPARE(p1.value(QStringLiteral("a")).toInteger(), 1);
        QCOMPARE(p1.value(QStringLiteral("b")).toDouble(), 0.5);
        QCOMPARE(p5.value(QStringLiteral("a")).toInteger(), 2);
        QCOMPARE(p5.value(QStringLiteral("b")).toDouble(), 1.0);
        QCOMPARE(p8.value(QStringLiteral("a")).toInteger(), 3);
        QCOMPARE(p8.value(QStringLiteral("b")).toDouble(), 1.0);
        QCOMPARE(p0.keys().first().toString(), QStringLiteral("a")); // the experiment's order
        // Every point differs.
        QSet<QByteArray> seen;
        for (qint64 i = 0; i < grid.size(); ++i)
            seen.insert(QCborValue(grid.point(i)).toCbor());
        QCOMPARE(seen.size(), 9);
    }

    void gridDecisions()
    {
        using K = GridDecision::Kind;
        QCOMPARE(decideGrid(3, {}).index, 0);
        // A CRASHED point is handed out again, before fresh ones.
        GridDecision d =
            decideGrid(4, {{0, JobStatus::Done}, {1, JobStatus::Crashed}, {2, JobStatus::Running}});
        QCOMPARE(d.kind, K::Create);
        QCOMPARE(d.index, 1);
        // ... but not when another job holds it already.
        d = decideGrid(
            4,
            {{0, JobStatus::Done}, {1, JobStatus::Crashed}, {1, JobStatus::Queued}, {2, JobStatus::Pruned}});
        QCOMPARE(d.index, 3);
        // All held, some still running: wait; all DONE or PRUNED: finished.
        QCOMPARE(decideGrid(2, {{0, JobStatus::Done}, {1, JobStatus::Running}}).kind, K::Wait);
        QCOMPARE(decideGrid(2, {{1, JobStatus::Pruned}, {0, JobStatus::Crashed}, {0, JobStatus::Done}}).kind,
                 K::Finish);
        // A deleted job's point is missing: handed out again.
        QCOMPARE(decideGrid(3, {{0, JobStatus::Done}, {2, JobStatus::Done}}).index, 1);
    }

    void sobolFirstPointsArePublished()
    {
        // Joe and Kuo's generator (Gray-code order) with new-joe-kuo-6.21201, first 3 dimensions.
        const double expected[8][3] = {{0, 0, 0},
                                       {0.5, 0.5, 0.5},
                                       {0.75, 0.25, 0.25},
                                       {0.25, 0.75, 0.75},
                                       {0.375, 0.375, 0.625},
                                       {0.875, 0.875, 0.125},
                                       {0.625, 0.125, 0.875},
                                       {0.125, 0.625, 0.375}};
        for (int i = 0; i < 8; ++i) {
            const QList<quint32> x = sobolIntegers(quint64(i), 3);
            for (int d = 0; d < 3; ++d)
                QCOMPARE(double(x[d]) * 0x1.0p-32, expected[i][d]);
        }
    }

    void sobolDirectionNumbersOfHigherDimensions()
    {
        // Point 1 is 1/2 in every dimension; point 2 is v_2 ^ v_1 (Gray code 3): for
        // dimension d its m_2 (from the table) decides it: 1 gives 1/4, 3 gives 3/4 ^ 1/2.
        const QList<quint32> p1 = sobolIntegers(1, SobolDimensions);
        for (quint32 v : p1)
            QCOMPARE(v, quint32(1) << 31);
        // Point 3 (Gray code 2) is v_2 = m_2 / 4: d = 6 has m_2 = 1, d = 7 has m_2 = 3.
        const QList<quint32> p3 = sobolIntegers(3, 7);
        QCOMPARE(double(p3[5]) * 0x1.0p-32, 0.25);
        QCOMPARE(double(p3[6]) * 0x1.0p-32, 0.75);
        // Point 4 (Gray code 6) is v_2 ^ v_3 = 3/4 ^ m_3/8: d = 13 (m_3 = 5), d = 14
        // (m_3 = 3), d = 21 (m_3 = 7).
        const QList<quint32> p4 = sobolIntegers(4, 21);
        QCOMPARE(double(p4[12]) * 0x1.0p-32, 0.375);
        QCOMPARE(double(p4[13]) * 0x1.0p-32, 0.625);
        QCOMPARE(double(p4[20]) * 0x1.0p-32, 0.125);
    }

    void scrambledSobolKeepsStratification()
    {
        // A linear scramble with a digital shift keeps the (0, m, 1)-net property: the
        // first 64 points put one coordinate in each of 64 equal cells, in every dimension.
        for (quint64 seed : {1ULL, 2ULL, 12345ULL}) {
            QList<QSet<int>> cells(5);
            for (quint64 i = 0; i < 64; ++i) {
                const QList<quint32> x = scrambledSobolIntegers(i, 5, seed);
                for (int d = 0; d < 5; ++d)
                    cells[d].insert(int(x[d] >> 26));
            }
            for (int d = 0; d < 5; ++d)
                QCOMPARE(cells[d].size(), 64);
        }
        QCOMPARE(scrambledSobolIntegers(3, 4, 7), scrambledSobolIntegers(3, 4, 7));
        QVERIFY(scrambledSobolIntegers(3, 4, 7) != scrambledSobolIntegers(3, 4, 8));
        QVERIFY(scrambledSobolIntegers(0, 4, 7) != QList<quint32>(4, 0));
    }

    void sobolMapsThroughDistributions()
    {
        const Distributions ds{
            named(QStringLiteral("lr"), Distribution::logUniform(1e-5, 1e-1)),
            named(QStringLiteral("k"), Distribution::constantValue(3)),
            named(QStringLiteral("act"),
                  Distribution::choice({QStringLiteral("relu"), QStringLiteral("tanh")}, {3, 1})),
            named(QStringLiteral("z"), Distribution::normal(0, 1))};
        int relu = 0;
        int zBelow = 0;
        for (quint64 i = 0; i < 256; ++i) {
            const QCborMap hp = sobolPoint(ds, i, 99);
            const double lr = hp.value(QStringLiteral("lr")).toDouble();
            QVERIFY(lr >= 1e-5 && lr < 1e-1);
            QCOMPARE(hp.value(QStringLiteral("k")).toInteger(), 3);
            relu += hp.value(QStringLiteral("act")).toString() == QLatin1String("relu");
            zBelow += hp.value(QStringLiteral("z")).toDouble() < -0.6744897501960817;
            QVERIFY(std::isfinite(hp.value(QStringLiteral("z")).toDouble()));
        }
        QCOMPARE(relu, 192);  // weights 3:1, stratified exactly
        QCOMPARE(zBelow, 64); // the lower quartile
    }

    void tpeGammaAndWeights()
    {
        QCOMPARE(tpeGamma(1), 1);
        QCOMPARE(tpeGamma(10), 1);
        QCOMPARE(tpeGamma(11), 2);
        QCOMPARE(tpeGamma(250), 25);
        QCOMPARE(tpeGamma(5000), 25);
        QCOMPARE(tpeWeights(3), (std::vector<double>{1, 1, 1}));
        const std::vector<double> w = tpeWeights(30); // linspace(1/30, 1, 5) then 25 ones
        QCOMPARE(w.size(), size_t(30));
        QVERIFY(std::abs(w[0] - 1.0 / 30) < 1e-15);
        QVERIFY(std::abs(w[1] - (1.0 / 30 + (1 - 1.0 / 30) / 4)) < 1e-15);
        QCOMPARE(w[4], 1.0);
        QCOMPARE(w[29], 1.0);
    }

    void tpeSplit()
    {
        const QCborMap hp{{QStringLiteral("x"), 0.5}};
        const QList<TpeObservation> obs{
            observation(JobStatus::Done, hp, 3.0),         // 0
            observation(JobStatus::Done, hp, 1.0),         // 1
            observation(JobStatus::Running, hp),           // 2: the constant liar
            observation(JobStatus::Pruned, hp, -100.0, 2), // 3: pruned, never better than DONE
            observation(JobStatus::Done, hp),              // 4: no result: ignored
            observation(JobStatus::Crashed, hp, 0.0),      // 5: ignored
            observation(JobStatus::Done, hp, 2.0),         // 6
        };
        TpeSplit s = splitObservations(obs, true);
        QCOMPARE(s.n, 4);
        QCOMPARE(s.below, (QList<qsizetype>{1}));
        QCOMPARE(s.above, (QList<qsizetype>{0, 2, 3, 6}));
        s = splitObservations(obs, false); // maximize: 3.0 is best
        QCOMPARE(s.below, (QList<qsizetype>{0}));

        // Eleven DONE: gamma 2. PRUNED ones only fill the good group after every DONE job,
        // the longer curve first.
        QList<TpeObservation> few{observation(JobStatus::Pruned, hp, 5.0, 3),
                                  observation(JobStatus::Pruned, hp, 1.0, 1)};
        few << observation(JobStatus::Done, hp, 9.0);
        for (int i = 0; i < 18; ++i)
            few << observation(JobStatus::Pruned, hp, 0.0, 2);
        s = splitObservations(few, true); // n = 21: gamma 3 = the DONE job, then two of steps 3 and 2
        QCOMPARE(s.n, 21);
        QCOMPARE(s.below, (QList<qsizetype>{0, 2, 3}));
    }

    void tpeKernelWidthsAndPrior()
    {
        const Distributions space{named(QStringLiteral("x"), Distribution::uniform(0, 1))};
        // One observation: sigma0 = 0.2 * 1^(-1/5) = 0.2, clipped up to 1 / min(100, 1 + 2).
        ParzenEstimator one(space, {{0.2}});
        QCOMPARE(one.kernel(0).mus, (std::vector<double>{0.2, 0.5}));
        QVERIFY(std::abs(one.kernel(0).sigmas[0] - 1.0 / 3) < 1e-15);
        QCOMPARE(one.kernel(0).sigmas[1], 1.0); // the prior: the whole range
        QCOMPARE(one.weights(), (std::vector<double>{0.5, 0.5}));
        // Ten: 0.2 * 10^(-1/5) = 0.1261914689, above the clip 1/12.
        std::vector<std::vector<double>> ten;
        for (int i = 0; i < 10; ++i)
            ten.push_back({0.05 + 0.1 * i});
        ParzenEstimator many(space, ten);
        QVERIFY(std::abs(many.kernel(0).sigmas[3] - 0.2 * std::pow(10.0, -0.2)) < 1e-12);
        // Log density of one kernel mixture at 0.2: N(0.2; 0.2, 1/3) truncated to [0, 1],
        // and N(0.2; 0.5, 1) truncated, averaged.
        auto truncated = [](double x, double mu, double sigma) {
            const double phi = std::exp(-0.5 * std::pow((x - mu) / sigma, 2)) / std::sqrt(2 * M_PI) / sigma;
            const double mass = normalCdf((1 - mu) / sigma) - normalCdf((0 - mu) / sigma);
            return phi / mass;
        };
        const double expected = std::log(0.5 * truncated(0.2, 0.2, 1.0 / 3) + 0.5 * truncated(0.2, 0.5, 1));
        QVERIFY(std::abs(one.logPdf({0.2}) - expected) < 1e-12);
    }

    void tpeLogScaleAndNormal()
    {
        const Distributions space{named(QStringLiteral("lr"), Distribution::logUniform(1e-4, 1)),
                                  named(QStringLiteral("z"), Distribution::normal(10, 2))};
        const auto x =
            ParzenEstimator::internal(space, {{QStringLiteral("lr"), 1e-2}, {QStringLiteral("z"), 13}});
        QVERIFY(x);
        QVERIFY(std::abs((*x)[0] - std::log(1e-2)) < 1e-15);
        QCOMPARE((*x)[1], 1.5);
        ParzenEstimator e(space, {*x});
        QCOMPARE(e.kernel(0).sigmas[1], std::log(1.0) - std::log(1e-4)); // prior: the log range
        QCOMPARE(e.kernel(1).mus[1], 0.0); // normal: its own prior, N(mean, std)
        QCOMPARE(e.kernel(1).sigmas[1], 1.0);
        // Values the distribution cannot produce leave the job out.
        QVERIFY(!ParzenEstimator::internal(space, {{QStringLiteral("lr"), 0}, {QStringLiteral("z"), 1}}));
        QVERIFY(!ParzenEstimator::internal(space, {{QStringLiteral("z"), 1}}));
    }

    void tpeCategoricalKernelUsesChoiceWeights()
    {
        const Distributions space{
            named(QStringLiteral("c"),
                  Distribution::choice({QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")},
                                       {2, 1, 1}))};
        // One observation "b": 3 * (0.5, 0.25, 0.25) / 2 + (0, 1, 0), normalised.
        ParzenEstimator e(space, {{1.0}});
        const auto &p = e.kernel(0).probabilities;
        QVERIFY(std::abs(p[0][0] - 0.3) < 1e-15);
        QVERIFY(std::abs(p[0][1] - 0.55) < 1e-15);
        QVERIFY(std::abs(p[0][2] - 0.15) < 1e-15);
        QCOMPARE(p[1], (std::vector<double>{0.5, 0.25, 0.25})); // the prior row
    }

    void tpeChoosesTheGoodChoice()
    {
        // Ten DONE: gamma 1... use eleven so that the good group holds the two "a" jobs.
        const Distributions space{
            named(QStringLiteral("c"), Distribution::choice({QStringLiteral("a"), QStringLiteral("b")}))};
        QList<TpeObservation> obs;
        obs << observation(JobStatus::Done, {{QStringLiteral("c"), QStringLiteral("a")}}, 0.0)
            << observation(JobStatus::Done, {{QStringLiteral("c"), QStringLiteral("a")}}, 1.0);
        for (int i = 0; i < 9; ++i)
            obs << observation(JobStatus::Done, {{QStringLiteral("c"), QStringLiteral("b")}}, 10.0 + i);
        // l(a) = 0.7, g(a) = 0.136 against l(b) = 0.3, g(b) = 0.864 (by hand): "a" wins
        // whenever one of the 24 candidates is "a".
        for (quint64 seed = 0; seed < 20; ++seed) {
            Sampler rng(seed);
            QCOMPARE(suggestTpe(space, obs, TpeSettings{}, rng).value(QStringLiteral("c")).toString(),
                     QStringLiteral("a"));
        }
    }

    void tpeStartsRandomAndIsDeterministic()
    {
        const Distributions space{
            named(QStringLiteral("x"), Distribution::uniform(-5, 5)),
            named(QStringLiteral("k"), Distribution::constantValue(QStringLiteral("k")))};
        QList<TpeObservation> obs;
        for (int i = 0; i < 9; ++i)
            obs << doneAt(i - 4.0, std::pow(i - 4.0 - 1.5, 2));
        // Nine DONE, startupJobs 10: a random draw, exactly what the random sampler gives.
        Sampler a(5), b(5);
        QCOMPARE(suggestTpe(space, obs, TpeSettings{}, a), b.sample(space));
        obs << doneAt(1.4, 0.01);
        Sampler c(5), d(5), e(6);
        const QCborMap first = suggestTpe(space, obs, TpeSettings{}, c);
        QCOMPARE(suggestTpe(space, obs, TpeSettings{}, d), first);
        QVERIFY(suggestTpe(space, obs, TpeSettings{}, e) != first);
        QCOMPARE(first.value(QStringLiteral("k")).toString(), QStringLiteral("k")); // const untouched
        // Drawn near the best observation (1.4), the only one in the good group.
        const double x = first.value(QStringLiteral("x")).toDouble();
        QVERIFY2(std::abs(x - 1.4) < 3, qPrintable(QString::number(x)));
    }
};

QTEST_GUILESS_MAIN(TestSamplers)
#include "tst_samplers.moc"
