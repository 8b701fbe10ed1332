// Hyperparameter importance (PED-ANOVA): hand-made data where the answer is
// known, a case computed by hand, and the input taken from jobs.
#include "ChartFixtures.h"
#include "Importance.h"

#include <QtTest>

#include <random>

using namespace schedy;
using namespace schedy::charts;

namespace {

// Portable uniform draws in [0, 1): std::uniform_real_distribution is not the
// same across standard libraries, mt19937's raw output is.
class Draws
{
public:
    explicit Draws(unsigned seed)
        : m_engine(seed)
    {}
    double next() { return double(m_engine()) / 4294967296.0; }

private:
    std::mt19937 m_engine;
};

ImportanceParameter numeric(const QString &name, double low, double high,
                            ImportanceScale scale = ImportanceScale::Linear)
{
    ImportanceParameter p;
    p.name = name;
    p.scale = scale;
    p.low = low;
    p.high = high;
    return p;
}

ImportanceParameter category(const QString &name, int count)
{
    ImportanceParameter p;
    p.name = name;
    p.scale = ImportanceScale::Category;
    p.categoryCount = count;
    return p;
}

double shareOf(const QList<ParameterImportance> &list, const QString &name)
{
    for (const ParameterImportance &p : list) {
        if (p.name == name)
            return p.importance;
    }
    return -1;
}

double total(const QList<ParameterImportance> &list)
{
    double sum = 0;
    for (const ParameterImportance &p : list)
        sum += p.importance;
    return sum;
}

} // namespace

class TestImportance : public QObject
{
    Q_OBJECT

private slots:
    // The result is x; y is noise: x takes nearly all of the importance,
    // whichever way the result is optimised.
    void oneNumericDriverAndNoise_data()
    {
        QTest::addColumn<int>("objective");
        QTest::newRow("minimize") << int(Objective::Minimize);
        QTest::newRow("maximize") << int(Objective::Maximize);
    }
    void oneNumericDriverAndNoise()
    {
        QFETCH(int, objective);
        Draws draws(7);
        ImportanceInput in;
        in.objective = Objective(objective);
        ImportanceParameter x = numeric(QStringLiteral("x"), -5, 5);
        ImportanceParameter y = numeric(QStringLiteral("y"), 0, 1);
        for (int i = 0; i < 300; ++i) {
            x.values.append(-5 + 10 * draws.next());
            y.values.append(draws.next());
            in.results.append(x.values.last());
        }
        in.parameters = {y, x};
        const QList<ParameterImportance> shares = pedAnovaImportance(in);
        QCOMPARE(shares.size(), 2);
        QCOMPARE(shares.first().name, QStringLiteral("x")); // sorted, largest first
        QVERIFY2(shareOf(shares, QStringLiteral("x")) > 0.9,
                 qPrintable(QString::number(shares[0].importance)));
        QVERIFY(shareOf(shares, QStringLiteral("y")) < 0.1);
        QVERIFY(qAbs(total(shares) - 1) < 1e-9);
    }

    // A choice decides the result, a log-uniform learning rate is noise.
    void categoryDriverAndLogNoise()
    {
        Draws draws(11);
        ImportanceInput in;
        ImportanceParameter optimizer = category(QStringLiteral("optimizer"), 4);
        ImportanceParameter lr = numeric(QStringLiteral("lr"), 1e-6, 1, ImportanceScale::Log);
        for (int i = 0; i < 200; ++i) {
            const int c = int(draws.next() * 4);
            optimizer.values.append(c);
            lr.values.append(std::pow(10.0, -6 * draws.next()));
            in.results.append((c == 2 ? 0.0 : 1.0) + 0.05 * draws.next());
        }
        in.parameters = {lr, optimizer};
        const QList<ParameterImportance> shares = pedAnovaImportance(in);
        // Optuna's categorical kernel is wide (the prior spreads over four
        // choices), so 20 good jobs give the choice 0.83 here, not ~1.
        QCOMPARE(shares.first().name, QStringLiteral("optimizer"));
        QVERIFY(shareOf(shares, QStringLiteral("optimizer")) > 0.75);
        QVERIFY(shareOf(shares, QStringLiteral("lr")) < 0.25);
    }

    // Only a narrow band of learning rates, in log scale, gives good results:
    // on a log grid the good jobs stand out; the dropout is noise.
    void logScaleDriver()
    {
        Draws draws(3);
        ImportanceInput in;
        ImportanceParameter lr = numeric(QStringLiteral("lr"), 1e-6, 1, ImportanceScale::Log);
        ImportanceParameter dropout = numeric(QStringLiteral("dropout"), 0, 0.8);
        for (int i = 0; i < 200; ++i) {
            const double exponent = -6 * draws.next();
            lr.values.append(std::pow(10.0, exponent));
            dropout.values.append(0.8 * draws.next());
            in.results.append(std::abs(exponent + 3) + 0.1 * draws.next());
        }
        in.parameters = {dropout, lr};
        const QList<ParameterImportance> shares = pedAnovaImportance(in);
        QVERIFY(shareOf(shares, QStringLiteral("lr")) > 0.9);
    }

    // Three jobs, two categorical parameters: the divergences worked out by
    // hand from Optuna's kernels (0.0343848 and 0.0230179).
    void handComputedCategories()
    {
        ImportanceInput in;
        ImportanceParameter a = category(QStringLiteral("a"), 2);
        ImportanceParameter b = category(QStringLiteral("b"), 2);
        a.values = {0, 0, 1};
        b.values = {0, 1, 1};
        in.results = {1, 2, 3};
        in.parameters = {a, b};
        const QList<ParameterImportance> shares = pedAnovaImportance(in);
        QVERIFY(qAbs(shareOf(shares, QStringLiteral("a")) - 0.5990099) < 1e-6);
        QVERIFY(qAbs(shareOf(shares, QStringLiteral("b")) - 0.4009901) < 1e-6);
    }

    void identicalParametersShareEqually()
    {
        Draws draws(5);
        ImportanceInput in;
        ImportanceParameter u = numeric(QStringLiteral("u"), 0, 1);
        for (int i = 0; i < 50; ++i) {
            u.values.append(draws.next());
            in.results.append(u.values.last() * u.values.last());
        }
        ImportanceParameter v = u;
        v.name = QStringLiteral("v");
        in.parameters = {u, v};
        const QList<ParameterImportance> shares = pedAnovaImportance(in);
        QVERIFY(qAbs(shareOf(shares, QStringLiteral("u")) - 0.5) < 1e-12);
        QVERIFY(qAbs(shareOf(shares, QStringLiteral("v")) - 0.5) < 1e-12);
    }

    // A single possible value gets 0; with two jobs or fewer, equal shares.
    void singleValuesAndTooFewJobs()
    {
        ImportanceInput in;
        ImportanceParameter fixed = numeric(QStringLiteral("fixed"), 1, 1);
        ImportanceParameter one = category(QStringLiteral("one"), 1);
        ImportanceParameter x = numeric(QStringLiteral("x"), 0, 1);
        ImportanceParameter y = numeric(QStringLiteral("y"), 0, 1);
        fixed.values = {1, 1};
        one.values = {0, 0};
        x.values = {0.1, 0.9};
        y.values = {0.5, 0.2};
        in.results = {1, 2};
        in.parameters = {fixed, one, x, y};
        QList<ParameterImportance> shares = pedAnovaImportance(in);
        QCOMPARE(shares.size(), 4);
        QCOMPARE(shareOf(shares, QStringLiteral("fixed")), 0.0);
        QCOMPARE(shareOf(shares, QStringLiteral("one")), 0.0);
        QCOMPARE(shareOf(shares, QStringLiteral("x")), 0.5);
        QCOMPARE(shareOf(shares, QStringLiteral("y")), 0.5);

        in.parameters = {fixed};
        shares = pedAnovaImportance(in);
        QCOMPARE(shares.size(), 1);
        QCOMPARE(shares.first().importance, 0.0);
    }

    // From jobs: DONE jobs with a numeric result only (a curve by its last
    // point), scales and bounds from the experiment, consts left out,
    // choices as categories in the experiment's order.
    void inputFromJobs()
    {
        const Experiment experiment = test::randomSearchExperiment();
        const JobListSource source(test::randomSearchJobs(25, 3, 2));
        int skipped = -1;
        const ImportanceInput in =
            importanceInput(source, experiment, QStringLiteral("loss"), Objective::Minimize, &skipped);
        QCOMPARE(in.results.size(), 25);
        QCOMPARE(skipped, 0);
        QStringList names;
        for (const ImportanceParameter &p : in.parameters) {
            names.append(p.name);
            QCOMPARE(p.values.size(), 25);
        }
        QVERIFY(!names.contains(QStringLiteral("batch_size")));
        QVERIFY(names.contains(QStringLiteral("learning_rate")));
        for (const ImportanceParameter &p : in.parameters) {
            if (p.name == QStringLiteral("learning_rate")) {
                QCOMPARE(p.scale, ImportanceScale::Log);
                QCOMPARE(p.low, 1e-5);
                QCOMPARE(p.high, 0.3);
            } else if (p.name == QStringLiteral("dropout")) {
                QCOMPARE(p.scale, ImportanceScale::Linear);
                QCOMPARE(p.low, 0.0);
                QCOMPARE(p.high, 0.7);
            } else if (p.name == QStringLiteral("optimizer")) {
                QCOMPARE(p.scale, ImportanceScale::Category);
                QCOMPARE(p.categoryCount, 3);
                QCOMPARE(p.values.first(), 0.0); // job 0 used "adam", the first choice
            } else if (p.name == QStringLiteral("layers")) {
                QCOMPARE(p.scale, ImportanceScale::Category);
                QCOMPARE(p.categoryCount, 5);
            }
        }
        const ImportanceData data =
            importance(source, experiment, QStringLiteral("loss"), Objective::Minimize);
        QCOMPARE(data.jobs, 25);
        QCOMPARE(data.importances.size(), 4);
        QVERIFY(qAbs(total(data.importances) - 1) < 1e-9);
    }
};

QTEST_GUILESS_MAIN(TestImportance)
#include "tst_importance.moc"
