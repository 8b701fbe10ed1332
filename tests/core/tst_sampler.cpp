#include "Json.h"
#include "Sampler.h"
#include "Types.h"

#include <QtTest>

#include <cmath>
#include <limits>

using namespace schedy;

namespace {

constexpr int Draws = 20000;
constexpr quint64 Seed = 20240611;

struct Moments
{
    double mean = 0;
    double variance = 0;
};

Moments moments(const QList<double> &xs)
{
    Moments m;
    for (double x : xs)
        m.mean += x;
    m.mean /= double(xs.size());
    for (double x : xs)
        m.variance += (x - m.mean) * (x - m.mean);
    m.variance /= double(xs.size() - 1);
    return m;
}

// Draws numbers, failing the test (through the returned flag) on a non-double value.
QList<double> drawDoubles(Sampler &s, const Distribution &d, int n, bool *allDoubles)
{
    QList<double> xs;
    xs.reserve(n);
    *allDoubles = true;
    for (int i = 0; i < n; ++i) {
        const QCborValue v = s.sample(d);
        *allDoubles = *allDoubles && v.isDouble();
        xs.append(v.toDouble());
    }
    return xs;
}

// Counts how often each value of a choice is drawn.
QList<int> choiceCounts(Sampler &s, const Distribution &d, int n)
{
    QList<int> counts(d.values.size(), 0);
    for (int i = 0; i < n; ++i) {
        const QCborValue v = s.sample(d);
        qsizetype at = 0;
        while (at < d.values.size() && !(d.values.at(at) == v && d.values.at(at).type() == v.type()))
            ++at;
        if (at == d.values.size())
            return {}; // a value that is not one of the choices
        ++counts[at];
    }
    return counts;
}

QCborMap object(std::initializer_list<std::pair<const char *, QCborValue>> entries)
{
    QCborMap m;
    for (const auto &[k, v] : entries)
        m.insert(QLatin1String(k), v);
    return m;
}

} // namespace

class TestSampler : public QObject
{
    Q_OBJECT
private slots:
    void uniformIsInRangeWithExpectedMoments()
    {
        Sampler s(Seed);
        const double low = 2.0, high = 5.0;
        bool allDoubles = false;
        const QList<double> xs = drawDoubles(s, Distribution::uniform(low, high), Draws, &allDoubles);
        QVERIFY(allDoubles);
        for (double x : xs)
            QVERIFY2(x >= low && x < high, qPrintable(json::formatDouble(x)));
        const Moments m = moments(xs);
        // Mean 3.5 (standard error ~0.006), variance (b-a)^2/12 = 0.75.
        QVERIFY2(std::abs(m.mean - 3.5) < 0.05, qPrintable(json::formatDouble(m.mean)));
        QVERIFY2(std::abs(m.variance - 0.75) < 0.05, qPrintable(json::formatDouble(m.variance)));
        // Both ends of the range are reached, roughly.
        QVERIFY(*std::min_element(xs.begin(), xs.end()) < low + 0.01);
        QVERIFY(*std::max_element(xs.begin(), xs.end()) > high - 0.01);
    }

    void uniformHistogramIsFlat()
    {
        Sampler s(Seed + 1);
        QList<int> bins(10, 0);
        for (int i = 0; i < Draws; ++i) {
            const double x = s.sample(Distribution::uniform(-1, 1)).toDouble();
            ++bins[qBound(0, int((x + 1) / 2 * 10), 9)];
        }
        for (int b : bins)
            QVERIFY2(std::abs(b - Draws / 10) < 300, qPrintable(QString::number(b)));
    }

    void uniformOverAHugeRangeIsNotStuckAtLow()
    {
        // high - low overflows to infinity here.
        const double low = -1e308, high = 1e308;
        Sampler s(Seed);
        int negative = 0, positive = 0;
        for (int i = 0; i < 2000; ++i) {
            const double x = s.sample(Distribution::uniform(low, high)).toDouble();
            QVERIFY2(std::isfinite(x) && x >= low && x < high, qPrintable(json::formatDouble(x)));
            (x < 0 ? negative : positive)++;
        }
        QVERIFY2(negative > 800 && positive > 800,
                 qPrintable(QStringLiteral("%1 / %2").arg(negative).arg(positive)));
    }

    void uniformOverTheNarrowestRangeGivesLow()
    {
        const double low = 1.0, high = std::nextafter(1.0, 2.0);
        Sampler s(Seed);
        for (int i = 0; i < 1000; ++i)
            QCOMPARE(s.sample(Distribution::uniform(low, high)).toDouble(), low);
    }

    void logUniformLogIsUniform()
    {
        Sampler s(Seed);
        const double a = 1e-6, b = 0.1;
        bool allDoubles = false;
        const QList<double> xs = drawDoubles(s, Distribution::logUniform(a, b), Draws, &allDoubles);
        QVERIFY(allDoubles);
        QList<double> logs;
        for (double x : xs) {
            QVERIFY2(x >= a && x < b, qPrintable(json::formatDouble(x)));
            logs.append(std::log(x));
        }
        const double la = std::log(a), lb = std::log(b);
        const Moments m = moments(logs);
        const double width = lb - la;
        QVERIFY2(std::abs(m.mean - (la + lb) / 2) < 0.02 * width, qPrintable(json::formatDouble(m.mean)));
        QVERIFY2(std::abs(m.variance - width * width / 12) < 0.05 * width * width / 12,
                 qPrintable(json::formatDouble(m.variance)));
        // Every decade gets about a fifth of the draws (a plain uniform would put ~90% in the last one).
        QList<int> decades(5, 0);
        for (double l : logs)
            ++decades[qBound(0, int((l - la) / width * 5), 4)];
        for (int d : decades)
            QVERIFY2(std::abs(d - Draws / 5) < 400, qPrintable(QString::number(d)));
    }

    void logUniformOverTinyValuesStaysInRange()
    {
        Sampler s(Seed);
        const double a = 1e-300, b = 1e-299;
        for (int i = 0; i < 2000; ++i) {
            const double x = s.sample(Distribution::logUniform(a, b)).toDouble();
            QVERIFY2(x >= a && x < b, qPrintable(json::formatDouble(x)));
        }
    }

    void normalHasExpectedMeanAndStd()
    {
        Sampler s(Seed);
        const double mean = 3.0, std = 2.0;
        bool allDoubles = false;
        const QList<double> xs = drawDoubles(s, Distribution::normal(mean, std), Draws, &allDoubles);
        QVERIFY(allDoubles);
        const Moments m = moments(xs);
        QVERIFY2(std::abs(m.mean - mean) < 0.1, qPrintable(json::formatDouble(m.mean)));
        QVERIFY2(std::abs(std::sqrt(m.variance) - std) < 0.1,
                 qPrintable(json::formatDouble(std::sqrt(m.variance))));
        int withinOne = 0, below = 0;
        for (double x : xs) {
            QVERIFY(std::isfinite(x));
            withinOne += std::abs(x - mean) < std ? 1 : 0;
            below += x < mean ? 1 : 0;
        }
        QVERIFY2(std::abs(double(withinOne) / Draws - 0.6827) < 0.02, qPrintable(QString::number(withinOne)));
        QVERIFY2(std::abs(double(below) / Draws - 0.5) < 0.02, qPrintable(QString::number(below)));
    }

    void normalWithStdZeroGivesTheMean()
    {
        Sampler s(Seed);
        for (double mean : {0.0, -7.25, 1e10}) {
            for (int i = 0; i < 100; ++i) {
                const QCborValue v = s.sample(Distribution::normal(mean, 0));
                QVERIFY(v.isDouble());
                QCOMPARE(v.toDouble(), mean);
            }
        }
    }

    void choiceWithoutWeightsIsRoughlyEven()
    {
        Sampler s(Seed);
        const Distribution d =
            Distribution::choice(QCborArray{1, QStringLiteral("two"), 3.0, QCborValue(QCborValue::Null)});
        const QList<int> counts = choiceCounts(s, d, Draws);
        QCOMPARE(counts.size(), 4);
        for (int c : counts)
            QVERIFY2(std::abs(c - Draws / 4) < 400, qPrintable(QString::number(c)));
    }

    void choiceKeepsValueTypes()
    {
        Sampler s(Seed);
        const Distribution ints = Distribution::choice(QCborArray{1, 2, 3});
        const Distribution floats = Distribution::choice(QCborArray{1.0, 2.0});
        const Distribution objects = Distribution::choice(QCborArray{object({{"k", 1}})});
        for (int i = 0; i < 200; ++i) {
            QVERIFY(s.sample(ints).isInteger());
            QVERIFY(s.sample(floats).isDouble());
        }
        QCOMPARE(json::write(s.sample(objects)), QByteArray(R"({"k":1})"));
    }

    void choiceWithWeightsThreeToOne()
    {
        Sampler s(Seed);
        const Distribution d =
            Distribution::choice(QCborArray{QStringLiteral("relu"), QStringLiteral("tanh")}, {3.0, 1.0});
        const QList<int> counts = choiceCounts(s, d, Draws);
        QCOMPARE(counts.size(), 2);
        QCOMPARE(counts[0] + counts[1], Draws);
        const double share = double(counts[0]) / Draws;
        QVERIFY2(std::abs(share - 0.75) < 0.02, qPrintable(json::formatDouble(share)));
    }

    void choiceNeverDrawsAZeroWeight_data()
    {
        QTest::addColumn<QList<double>>("weights");
        QTest::newRow("zero first") << QList<double>{0, 1, 1};
        QTest::newRow("zero middle") << QList<double>{1, 0, 1};
        QTest::newRow("zero last") << QList<double>{1, 1, 0};
        QTest::newRow("only the middle") << QList<double>{0, 2.5, 0};
        QTest::newRow("only the last") << QList<double>{0, 0, 1e-9};
        QTest::newRow("tiny next to huge") << QList<double>{1e-300, 0, 1e300};
    }
    void choiceNeverDrawsAZeroWeight()
    {
        QFETCH(QList<double>, weights);
        Sampler s(Seed);
        const Distribution d = Distribution::choice(QCborArray{0, 1, 2}, weights);
        const QList<int> counts = choiceCounts(s, d, Draws);
        QCOMPARE(counts.size(), 3);
        QList<int> positive;
        for (int i = 0; i < 3; ++i) {
            if (weights[i] == 0)
                QCOMPARE(counts[i], 0);
            else
                positive.append(i);
        }
        if (positive.size() == 2 && weights[positive[0]] == weights[positive[1]]) {
            for (int i : positive) // two equal weights share the draws
                QVERIFY2(std::abs(counts[i] - Draws / 2) < 400, qPrintable(QString::number(counts[i])));
        }
        if (positive.size() == 1)
            QCOMPARE(counts[positive[0]], Draws);
    }

    void constReturnsTheValue_data()
    {
        QTest::addColumn<QCborValue>("value");
        QTest::newRow("integer") << QCborValue(42);
        QTest::newRow("float") << QCborValue(1.0);
        QTest::newRow("string") << QCborValue(QStringLiteral("sgd"));
        QTest::newRow("boolean") << QCborValue(false);
        QTest::newRow("null") << QCborValue(QCborValue::Null);
        QTest::newRow("object") << QCborValue(
            object({{"name", QStringLiteral("sgd")}, {"momentum", 0.9}, {"nested", QCborArray{1}}}));
        QTest::newRow("list") << QCborValue(QCborArray{1, 2.5, QStringLiteral("x")});
    }
    void constReturnsTheValue()
    {
        QFETCH(QCborValue, value);
        Sampler s(Seed);
        for (int i = 0; i < 10; ++i) {
            const QCborValue v = s.sample(Distribution::constantValue(value));
            QCOMPARE(v.type(), value.type());
            QCOMPARE(json::write(v), json::write(value));
        }
    }

    void sameSeedGivesTheSameSequence()
    {
        const Distributions ds = {
            NamedDistribution{QStringLiteral("u"), Distribution::uniform(0, 1)},
            NamedDistribution{QStringLiteral("l"), Distribution::logUniform(1e-5, 1)},
            NamedDistribution{QStringLiteral("n"), Distribution::normal(0, 1)},
            NamedDistribution{QStringLiteral("c"), Distribution::choice(QCborArray{1, 2, 3, 4, 5, 6, 7})},
            NamedDistribution{QStringLiteral("w"), Distribution::choice(QCborArray{1, 2}, {1, 3})}};
        Sampler a(12345), b(12345), c(12346);
        QList<QByteArray> fromA, fromC;
        for (int i = 0; i < 200; ++i) {
            const QByteArray x = json::write(a.sample(ds));
            QCOMPARE(x, json::write(b.sample(ds)));
            fromA.append(x);
            fromC.append(json::write(c.sample(ds)));
        }
        QVERIFY(fromA != fromC);

        Sampler d(99), e(99);
        for (int i = 0; i < 100; ++i) {
            QCOMPARE(d.next(), e.next());
            QCOMPARE(d.uniform01(), e.uniform01());
            QCOMPARE(d.index(17), e.index(17));
        }
    }

    void unseededSamplersDiffer()
    {
        Sampler a, b;
        bool differ = false;
        for (int i = 0; i < 4 && !differ; ++i)
            differ = a.next() != b.next();
        QVERIFY(differ);
    }

    void sampleOfDistributionsKeepsNamesAndOrder()
    {
        const Distributions ds = {
            NamedDistribution{QStringLiteral("z"), Distribution::constantValue(1)},
            NamedDistribution{QStringLiteral("a"), Distribution::uniform(0, 1)},
            NamedDistribution{QStringLiteral("m"), Distribution::choice(QCborArray{QStringLiteral("x")})}};
        Sampler s(Seed);
        const QCborMap m = s.sample(ds);
        QCOMPARE(m.size(), 3);
        QStringList keys;
        for (auto it = m.begin(); it != m.end(); ++it)
            keys.append(it.key().toString());
        QCOMPARE(keys, (QStringList{QStringLiteral("z"), QStringLiteral("a"), QStringLiteral("m")}));
        QCOMPARE(m.value(QStringLiteral("z")), QCborValue(1));
        QCOMPARE(m.value(QStringLiteral("m")), QCborValue(QStringLiteral("x")));
        QVERIFY(s.sample(Distributions{}).isEmpty());
    }

    void indexIsInRange_data()
    {
        QTest::addColumn<qsizetype>("n");
        QTest::newRow("1") << qsizetype(1);
        QTest::newRow("2") << qsizetype(2);
        QTest::newRow("3") << qsizetype(3);
        QTest::newRow("7") << qsizetype(7);
        QTest::newRow("1000") << qsizetype(1000);
        QTest::newRow("2^40") << (qsizetype(1) << 40);
    }
    void indexIsInRange()
    {
        QFETCH(qsizetype, n);
        Sampler s(Seed);
        QList<int> hits(n <= 10 ? int(n) : 0, 0); // only small ranges are checked for evenness
        for (int i = 0; i < Draws; ++i) {
            const qsizetype k = s.index(n);
            QVERIFY2(k >= 0 && k < n, qPrintable(QString::number(k)));
            if (n <= 10)
                ++hits[int(k)];
        }
        for (int h : hits) // every index of a small range is reached about equally
            QVERIFY2(std::abs(h - Draws / int(hits.size())) < Draws / int(hits.size()) / 5 + 50,
                     qPrintable(QString::number(h)));
    }

    void uniform01IsInUnitInterval()
    {
        Sampler s(Seed);
        double sum = 0;
        for (int i = 0; i < Draws; ++i) {
            const double u = s.uniform01();
            QVERIFY(u >= 0.0 && u < 1.0);
            sum += u;
        }
        QVERIFY(std::abs(sum / Draws - 0.5) < 0.02);
        const double x = s.uniform(10, 20);
        QVERIFY(x >= 10 && x < 20);
    }
};

QTEST_GUILESS_MAIN(TestSampler)
#include "tst_sampler.moc"
