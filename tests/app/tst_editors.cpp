// The editors offline: every distribution kind and every PBT setting goes
// form -> core value -> wire JSON -> form unchanged; typing into the editors
// produces the expected JSON and the expected validation messages; every wire
// example of docs/protocol.md loads into them.
#include "Codec.h"
#include "DistributionEditor.h"
#include "DistributionPreview.h"
#include "EditorSupport.h"
#include "EditorTestSupport.h"
#include "ExperimentDialog.h"
#include "JobDialog.h"
#include "Json.h"
#include "LeaseEditor.h"
#include "PbtSettingsEditor.h"
#include "PrunerEditor.h"
#include "SamplerEditor.h"
#include "SchedulerJsonView.h"
#include "ValueMapEditor.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QCompleter>
#include <QLabel>
#include <QLayout>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QToolButton>
#include <QtTest>

using namespace schedy;
using namespace schedy::test;

namespace {

// What the form shows for every row: name, kind, and the inputs of that kind.
QStringList snapshot(DistributionEditor &editor)
{
    QStringList out;
    for (int row = 0; row < editor.rowCount(); ++row) {
        editor.setCurrentRow(row);
        const auto *combo = find<QComboBox>(&editor, QStringLiteral("kindCombo"));
        out << find<QLineEdit>(&editor, QStringLiteral("nameEdit"))->text() << combo->currentText();
        switch (Kind(combo->currentData().toInt())) {
        case Kind::Uniform:
        case Kind::LogUniform:
            out << find<QLineEdit>(&editor, QStringLiteral("lowEdit"))->text()
                << find<QLineEdit>(&editor, QStringLiteral("highEdit"))->text();
            break;
        case Kind::Normal:
            out << find<QLineEdit>(&editor, QStringLiteral("meanEdit"))->text()
                << find<QLineEdit>(&editor, QStringLiteral("stdEdit"))->text();
            break;
        case Kind::Choice: {
            const bool weighted = find<QCheckBox>(&editor, QStringLiteral("weightedCheck"))->isChecked();
            out << (weighted ? QStringLiteral("weighted") : QStringLiteral("unweighted"));
            for (int i = 0; editor.findChild<QLineEdit *>(QStringLiteral("choiceValue%1").arg(i)); ++i) {
                out << find<QLineEdit>(&editor, QStringLiteral("choiceValue%1").arg(i))->text();
                if (weighted)
                    out << find<QLineEdit>(&editor, QStringLiteral("choiceWeight%1").arg(i))->text();
            }
            break;
        }
        case Kind::Const:
            out << find<QPlainTextEdit>(&editor, QStringLiteral("constEdit"))->toPlainText();
            break;
        }
    }
    return out;
}

QStringList snapshot(PbtSettingsEditor &editor)
{
    QStringList out;
    out << find<QComboBox>(&editor, QStringLiteral("objectiveCombo"))->currentText()
        << find<QComboBox>(&editor, QStringLiteral("qualityCombo"))->currentText()
        << find<QLineEdit>(&editor, QStringLiteral("truncateEdit"))->text()
        << find<QSpinBox>(&editor, QStringLiteral("populationSpin"))->text()
        << find<QSpinBox>(&editor, QStringLiteral("generationsSpin"))->text();
    for (int i = 0; i < editor.exploreRowCount(); ++i) {
        out << editor.findChildren<QLineEdit *>(QStringLiteral("exploreName%1").arg(i)).value(0)->text()
            << editor.findChildren<QLineEdit *>(QStringLiteral("exploreMin%1").arg(i)).value(0)->text()
            << editor.findChildren<QLineEdit *>(QStringLiteral("exploreMax%1").arg(i)).value(0)->text();
    }
    out += snapshot(*editor.initEditor());
    return out;
}

// docs/protocol.md section 7, verbatim (the documents that carry a scheduler).
const char *const ManualExample = R"({"status": "RUNNING", "scheduler": {"Manual": null}})";
const char *const RandomExample =
    R"({"name": "MinimizeRandom", "status": "RUNNING", "scheduler": {"RandomSearch": {
  "x": {"normal": {"mean": 0.0, "std": 5.0}},
  "lr": {"loguniform": {"low": 1e-06, "high": 0.1}},
  "dropout": {"uniform": {"low": 0.0, "high": 0.8}},
  "layers": {"choice": {"values": [1, 2, 3, 4, 5]}},
  "activation": {"choice": {"values": ["relu", "tanh"], "weights": [3.0, 1.0]}},
  "optimizer": {"const": {"name": "sgd", "momentum": 0.9}}}}})";
const char *const PbtExample = R"({"name": "MNIST with PBT", "status": "RUNNING", "scheduler": {"PBT": {
  "objective": "max", "qualityResultName": "max_accuracy",
  "numParallel": 20,
  "init": {"num_filters": {"choice": {"values": [2, 4, 8, 16, 32, 64, 128, 256]}},
           "learning_rate": {"loguniform": {"low": 1e-08, "high": 1.0}},
           "dropout_rate": {"uniform": {"low": 0.0, "high": 0.8}}},
  "exploit": {"truncate": 0.2},
  "explore": {"learning_rate": {"perturb": {"minFactor": 0.8, "maxFactor": 1.2}},
              "dropout_rate": {"perturb": {"minFactor": 0.8, "maxFactor": 1.2}}},
  "maxGenerations": 10, "max_generations": 10}}})";
const char *const JobExample = R"({"id": "Exhn_Q", "experiment": "MNIST with PBT", "status": "RUNNING",
 "hyperparameters": {"num_filters": 32, "learning_rate": 0.0123, "dropout_rate": 0.31},
 "results": {"accuracy": [0.91, 0.95], "max_accuracy": 0.95, "weights_path": "models/7P_Scw.h5"},
 "createdAt": 1795891234.5, "modifiedAt": 1795891290.25, "generation": 3, "parent": "7P_Scw"})";
const char *const PageExample =
    R"({"items": [{"name": "MinimizeManual", "status": "DONE", "scheduler": {"Manual": null}}],
 "next": "c2VxOjEwMA"})";

Experiment decodeExperiment(const char *text)
{
    const auto e = codec::decodeExperiment(parse(text));
    if (!e)
        qFatal("example does not decode: %s", qPrintable(e.ok() ? QString() : e.error().message()));
    return e.value();
}

} // namespace

class TestEditors : public QObject
{
    Q_OBJECT

private slots:
    // ---- Round trips: form -> core value -> wire JSON -> form -----------------------------------------

    void distributionRoundTrip_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("kind");
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QStringList>("weights");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("uniform") << S("dropout") << int(Kind::Uniform) << L({"0.0", "0.8"}) << QStringList{}
                                 << QByteArray(R"({"dropout":{"uniform":{"low":0.0,"high":0.8}}})");
        QTest::newRow("uniform negative")
            << S("shift") << int(Kind::Uniform) << L({"-5.0", "5.0"}) << QStringList{}
            << QByteArray(R"({"shift":{"uniform":{"low":-5.0,"high":5.0}}})");
        QTest::newRow("loguniform") << S("lr") << int(Kind::LogUniform) << L({"1e-06", "0.1"})
                                    << QStringList{}
                                    << QByteArray(R"({"lr":{"loguniform":{"low":1e-06,"high":0.1}}})");
        QTest::newRow("normal") << S("x") << int(Kind::Normal) << L({"0.0", "5.0"}) << QStringList{}
                                << QByteArray(R"({"x":{"normal":{"mean":0.0,"std":5.0}}})");
        QTest::newRow("normal std 0") << S("fixed") << int(Kind::Normal) << L({"3.5", "0.0"}) << QStringList{}
                                      << QByteArray(R"({"fixed":{"normal":{"mean":3.5,"std":0.0}}})");
        QTest::newRow("choice") << S("layers") << int(Kind::Choice) << L({"1", "2", "3"}) << QStringList{}
                                << QByteArray(R"({"layers":{"choice":{"values":[1,2,3]}}})");
        QTest::newRow("choice weighted")
            << S("activation") << int(Kind::Choice) << L({"\"relu\"", "\"tanh\""}) << L({"3.0", "1.0"})
            << QByteArray(R"({"activation":{"choice":{"values":["relu","tanh"],)"
                          R"("weights":[3.0,1.0]}}})");
        QTest::newRow("choice of any JSON")
            << S("mixed") << int(Kind::Choice) << L({"[1,2]", "{\"k\":null}", "true", "2.5", "\"é\""})
            << QStringList{}
            << QByteArray(R"({"mixed":{"choice":{"values":[[1,2],{"k":null},true,2.5,"é"]}}})");
        QTest::newRow("choice weight zero")
            << S("w") << int(Kind::Choice) << L({"1", "2"}) << L({"0.0", "2.0"})
            << QByteArray(R"({"w":{"choice":{"values":[1,2],"weights":[0.0,2.0]}}})");
        QTest::newRow("const object")
            << S("optimizer") << int(Kind::Const) << L({R"({"name":"sgd","momentum":0.9})"}) << QStringList{}
            << QByteArray(R"({"optimizer":{"const":{"name":"sgd","momentum":0.9}}})");
        QTest::newRow("const string") << S("opt") << int(Kind::Const) << L({"\"adam\""}) << QStringList{}
                                      << QByteArray(R"({"opt":{"const":"adam"}})");
        QTest::newRow("const null") << S("none") << int(Kind::Const) << L({"null"}) << QStringList{}
                                    << QByteArray(R"({"none":{"const":null}})");
    }

    void distributionRoundTrip()
    {
        QFETCH(QString, name);
        QFETCH(int, kind);
        QFETCH(QStringList, args);
        QFETCH(QStringList, weights);
        QFETCH(QByteArray, expected);

        DistributionEditor form;
        form.show();
        fill(form, name, Kind(kind), args, weights);
        QVERIFY2(form.isValid(), qPrintable(form.errors({}).join(QLatin1Char('\n'))));
        const Distributions value = form.distributions();
        QCOMPARE(value.size(), 1);
        QCOMPARE(int(value.first().distribution.kind), kind);
        const QByteArray text = wire(value);
        QCOMPARE(text, expected);

        const auto decoded = codec::decodeDistributions(parse(text));
        QVERIFY2(decoded.ok(), qPrintable(decoded.ok() ? QString() : decoded.error().message()));
        QCOMPARE(decoded.value(), value);
        DistributionEditor back;
        back.setDistributions(decoded.value());
        QVERIFY(back.isValid());
        QCOMPARE(back.distributions(), value);
        QCOMPARE(snapshot(back), snapshot(form));
    }

    void severalDistributionsKeepTheirOrder()
    {
        DistributionEditor form;
        form.show();
        fill(form, QStringLiteral("b"), Kind::Uniform, {QStringLiteral("0.0"), QStringLiteral("1.0")});
        fill(form, QStringLiteral("a"), Kind::Normal, {QStringLiteral("1.0"), QStringLiteral("2.0")});
        fill(form, QStringLiteral("c"), Kind::Const, {QStringLiteral("3")});
        QCOMPARE(
            wire(form.distributions()),
            QByteArray(R"({"b":{"uniform":{"low":0.0,"high":1.0}},"a":{"normal":{"mean":1.0,"std":2.0}},)"
                       R"("c":{"const":3}})"));
        // Reorder: c up twice, then rename a.
        click(find<QToolButton>(&form, QStringLiteral("upButton")));
        click(find<QToolButton>(&form, QStringLiteral("upButton")));
        QCOMPARE(form.names(), (L({"c", "b", "a"})));
        form.setCurrentRow(2);
        retype(find<QLineEdit>(&form, QStringLiteral("nameEdit")), QStringLiteral("alpha"));
        QCOMPARE(form.names(), (L({"c", "b", "alpha"})));
        // Remove b.
        form.setCurrentRow(1);
        click(find<QPushButton>(&form, QStringLiteral("removeButton")));
        QCOMPARE(wire(form.distributions()),
                 QByteArray(R"({"c":{"const":3},"alpha":{"normal":{"mean":1.0,"std":2.0}}})"));
        DistributionEditor back;
        back.setDistributions(codec::decodeDistributions(parse(wire(form.distributions()))).value());
        QCOMPARE(snapshot(back), snapshot(form));
    }

    void pbtRoundTrip_data()
    {
        QTest::addColumn<QString>("setting");
        QTest::addColumn<QByteArray>("expected"); // a fragment of the wire JSON
        QTest::newRow("objective min") << S("objective min") << QByteArray(R"("objective":"min")");
        QTest::newRow("objective max") << S("objective max") << QByteArray(R"("objective":"max")");
        QTest::newRow("quality") << S("quality") << QByteArray(R"("qualityResultName":"max_accuracy")");
        QTest::newRow("truncate") << S("truncate") << QByteArray(R"("exploit":{"truncate":0.25})");
        QTest::newRow("truncate max") << S("truncate 0.5") << QByteArray(R"("exploit":{"truncate":0.5})");
        QTest::newRow("explore") << S("explore")
                                 << QByteArray(
                                        R"("explore":{"lr":{"perturb":{"minFactor":0.8,"maxFactor":1.2}},)"
                                        R"("dropout":{"perturb":{"minFactor":0.5,"maxFactor":0.5}}})");
        QTest::newRow("population") << S("population") << QByteArray(R"("numParallel":20)");
        QTest::newRow("population default") << S("population default") << QByteArray();
        QTest::newRow("generations") << S("generations")
                                     << QByteArray(R"("maxGenerations":10,"max_generations":10)");
        QTest::newRow("generations unlimited") << S("generations unlimited") << QByteArray();
        QTest::newRow("init") << S("init")
                              << QByteArray(R"("init":{"lr":{"loguniform":{"low":1e-08,"high":1.0}},)"
                                            R"("filters":{"choice":{"values":[16,32,64]}}})");
    }

    void pbtRoundTrip()
    {
        QFETCH(QString, setting);
        QFETCH(QByteArray, expected);
        PbtSettingsEditor form;
        form.show();
        retype(find<QComboBox>(&form, QStringLiteral("qualityCombo"))->lineEdit(),
               QStringLiteral("max_accuracy"));
        if (setting == QLatin1String("objective min"))
            choose(find<QComboBox>(&form, QStringLiteral("objectiveCombo")), int(Objective::Minimize));
        if (setting == QLatin1String("objective max")) {
            choose(find<QComboBox>(&form, QStringLiteral("objectiveCombo")), int(Objective::Minimize));
            choose(find<QComboBox>(&form, QStringLiteral("objectiveCombo")), int(Objective::Maximize));
        }
        if (setting == QLatin1String("truncate"))
            retype(find<QLineEdit>(&form, QStringLiteral("truncateEdit")), QStringLiteral("0.25"));
        if (setting == QLatin1String("truncate 0.5"))
            retype(find<QLineEdit>(&form, QStringLiteral("truncateEdit")), QStringLiteral("0.5"));
        if (setting == QLatin1String("explore")) {
            auto *add = find<QPushButton>(&form, QStringLiteral("addExploreButton"));
            click(add);
            retype(find<QLineEdit>(&form, QStringLiteral("exploreName0")), QStringLiteral("lr"));
            click(add);
            retype(find<QLineEdit>(&form, QStringLiteral("exploreName1")), QStringLiteral("dropout"));
            retype(find<QLineEdit>(&form, QStringLiteral("exploreMin1")), QStringLiteral("0.5"));
            retype(find<QLineEdit>(&form, QStringLiteral("exploreMax1")), QStringLiteral("0.5"));
        }
        if (setting == QLatin1String("population"))
            retype(find<QSpinBox>(&form, QStringLiteral("populationSpin")), QStringLiteral("20"));
        if (setting == QLatin1String("generations"))
            retype(find<QSpinBox>(&form, QStringLiteral("generationsSpin")), QStringLiteral("10"));
        if (setting == QLatin1String("init")) {
            fill(*form.initEditor(), QStringLiteral("lr"), Kind::LogUniform,
                 {QStringLiteral("1e-08"), QStringLiteral("1.0")});
            fill(*form.initEditor(), QStringLiteral("filters"), Kind::Choice,
                 {QStringLiteral("16"), QStringLiteral("32"), QStringLiteral("64")});
        }
        QVERIFY2(form.isValid(), qPrintable(form.errors().join(QLatin1Char('\n'))));
        const PbtSettings value = form.settings();
        const QByteArray text = json::write(codec::encode(value));
        if (!expected.isEmpty())
            QVERIFY2(text.contains(expected), text.constData());
        if (setting == QLatin1String("population default"))
            QVERIFY(!text.contains("numParallel"));
        if (setting == QLatin1String("generations unlimited"))
            QVERIFY(!text.contains("axGenerations") && !text.contains("max_generations"));

        const auto decoded = codec::decodePbt(parse(text));
        QVERIFY2(decoded.ok(), qPrintable(decoded.ok() ? QString() : decoded.error().message()));
        QCOMPARE(decoded.value(), value);
        PbtSettingsEditor back;
        back.setSettings(decoded.value());
        QVERIFY(back.isValid());
        QCOMPARE(back.settings(), value);
        QCOMPARE(snapshot(back), snapshot(form));
    }

    // ---- Typing: the JSON produced and the messages next to the fields --------------------------------

    void distributionMessages()
    {
        DistributionEditor form;
        form.show();
        fill(form, QStringLiteral("lr"), Kind::LogUniform, {QStringLiteral("0"), QStringLiteral("0.1")});
        QCOMPARE(errorText(&form, QStringLiteral("lowError")), QStringLiteral("must be greater than 0"));
        QVERIFY(editors::isMarkedInvalid(find<QLineEdit>(&form, QStringLiteral("lowEdit"))));
        QVERIFY(!form.isValid());
        // Named as the form labels the field; only the JSON tab speaks in wire paths.
        QCOMPARE(form.errors({QStringLiteral("RandomSearch")}),
                 QStringList{QStringLiteral("lr, low: must be greater than 0")});
        QVERIFY(!form.preview()->chart()->title().isEmpty());
        QCOMPARE(form.preview()->histogram().shape, Histogram::Shape::Empty);

        retype(find<QLineEdit>(&form, QStringLiteral("lowEdit")), QStringLiteral("0.5"));
        QCOMPARE(errorText(&form, QStringLiteral("lowError")), QStringLiteral("must be less than high"));
        retype(find<QLineEdit>(&form, QStringLiteral("lowEdit")), QStringLiteral("abc"));
        QCOMPARE(errorText(&form, QStringLiteral("lowError")), QStringLiteral("must be a number"));
        retype(find<QLineEdit>(&form, QStringLiteral("lowEdit")), QString());
        QCOMPARE(errorText(&form, QStringLiteral("lowError")), QStringLiteral("enter a number"));
        retype(find<QLineEdit>(&form, QStringLiteral("lowEdit")), QStringLiteral("1e-3"));
        QCOMPARE(errorText(&form, QStringLiteral("lowError")), QString());
        QVERIFY(!editors::isMarkedInvalid(find<QLineEdit>(&form, QStringLiteral("lowEdit"))));
        QVERIFY(form.isValid());
        QCOMPARE(wire(form.distributions()), QByteArray(R"({"lr":{"loguniform":{"low":0.001,"high":0.1}}})"));

        // The same numbers are fine for a uniform.
        choose(find<QComboBox>(&form, QStringLiteral("kindCombo")), int(Kind::Uniform));
        QVERIFY(form.isValid());
        retype(find<QLineEdit>(&form, QStringLiteral("highEdit")), QStringLiteral("inf"));
        QCOMPARE(errorText(&form, QStringLiteral("highError")), QStringLiteral("must be finite"));

        // Normal: std >= 0.
        choose(find<QComboBox>(&form, QStringLiteral("kindCombo")), int(Kind::Normal));
        retype(find<QLineEdit>(&form, QStringLiteral("stdEdit")), QStringLiteral("-1"));
        QCOMPARE(errorText(&form, QStringLiteral("stdError")), QStringLiteral("must be at least 0"));
        retype(find<QLineEdit>(&form, QStringLiteral("stdEdit")), QStringLiteral("0"));
        QVERIFY(form.isValid());

        // Names: checkName's rules, and unique.
        auto *name = find<QLineEdit>(&form, QStringLiteral("nameEdit"));
        retype(name, QString());
        QCOMPARE(errorText(&form, QStringLiteral("nameError")), QStringLiteral("name must not be empty"));
        retype(name, QStringLiteral(".."));
        QCOMPARE(errorText(&form, QStringLiteral("nameError")),
                 QStringLiteral("name must not be '.' or '..'"));
        name->setText(QStringLiteral("tab\there")); // pasted
        QCOMPARE(errorText(&form, QStringLiteral("nameError")),
                 QStringLiteral("name must not contain control characters"));
        retype(name, QStringLiteral("lr"));
        fill(form, QStringLiteral("lr"), Kind::Uniform, {QStringLiteral("0.0"), QStringLiteral("1.0")});
        QCOMPARE(errorText(&form, QStringLiteral("nameError")),
                 QStringLiteral("another hyperparameter has this name"));
        QVERIFY(!form.isValid());
        retype(name, QStringLiteral("lr2"));
        QVERIFY(form.isValid());
    }

    // The footers name a field as the form labels it, from its wire path split into keys.
    void fieldLabels()
    {
        QCOMPARE(editors::fieldLabel(L({"PBT", "qualityResultName"})), QStringLiteral("Quality result"));
        QCOMPARE(editors::fieldLabel(L({"PBT", "exploit", "truncate"})),
                 QStringLiteral("Truncate proportion"));
        QCOMPARE(editors::fieldLabel(L({"PBT", "explore", "lr"})), QStringLiteral("Explore lr"));
        QCOMPARE(editors::fieldLabel(L({"PBT", "explore", "lr", "minFactor"})),
                 QStringLiteral("Explore lr, min factor"));
        QCOMPARE(editors::fieldLabel(L({"PBT", "init", "lr", "low"})),
                 QStringLiteral("Initial distribution of lr, low"));
        // A name with dots stays one name.
        QCOMPARE(editors::fieldLabel(L({"RandomSearch", "model.lr", "std"})),
                 QStringLiteral("model.lr, std. deviation"));
        QCOMPARE(editors::fieldLabel(L({"RandomSearch", "act", "values[0]"})),
                 QStringLiteral("act, value 1"));
        QCOMPARE(editors::fieldLabel(L({"RandomSearch", "c", "const"})), QStringLiteral("c, value"));
        QCOMPARE(editors::fieldProblem(L({"results", "loss"}), QStringLiteral("not JSON")),
                 QStringLiteral("Results, loss: not JSON"));
        // Anything unknown keeps its wire path rather than lose information.
        QCOMPARE(editors::fieldLabel(L({"PBT", "exploit", "other"})), QStringLiteral("PBT.exploit.other"));
    }

    void choiceMessages()
    {
        DistributionEditor form;
        form.show();
        fill(form, QStringLiteral("activation"), Kind::Choice, {QStringLiteral("relu")});
        QCOMPARE(
            form.errors({QStringLiteral("RandomSearch")}),
            QStringList{QStringLiteral("activation, value 1: not JSON: write text in quotes, \"relu\"")});
        QVERIFY(
            errorText(&form, QStringLiteral("choiceError")).contains(QLatin1String("write text in quotes")));
        QVERIFY(editors::isMarkedInvalid(find<QLineEdit>(&form, QStringLiteral("choiceValue0"))));
        retype(find<QLineEdit>(&form, QStringLiteral("choiceValue0")), QStringLiteral("\"relu\""));
        QVERIFY(form.isValid());
        retype(find<QLineEdit>(&form, QStringLiteral("choiceValue0")), QStringLiteral("[1,"));
        QVERIFY(
            errorText(&form, QStringLiteral("choiceError")).startsWith(QLatin1String("value 1: not JSON")));
        retype(find<QLineEdit>(&form, QStringLiteral("choiceValue0")), QStringLiteral("\"relu\""));

        // Weights: as many as values (one per row), >= 0, not all 0.
        click(find<QPushButton>(&form, QStringLiteral("addValueButton")));
        retype(find<QLineEdit>(&form, QStringLiteral("choiceValue1")), QStringLiteral("\"tanh\""));
        click(find<QCheckBox>(&form, QStringLiteral("weightedCheck")));
        QCOMPARE(wire(form.distributions()),
                 QByteArray(R"({"activation":{"choice":{"values":["relu","tanh"],"weights":[1.0,1.0]}}})"));
        retype(find<QLineEdit>(&form, QStringLiteral("choiceWeight1")), QStringLiteral("-1"));
        QCOMPARE(find<QLineEdit>(&form, QStringLiteral("choiceWeight1"))->toolTip(),
                 QStringLiteral("must be a finite number of at least 0"));
        QVERIFY(errorText(&form, QStringLiteral("choiceError"))
                    .contains(QLatin1String("weight 2: must be a finite")));
        QCOMPARE(form.errors({QStringLiteral("RandomSearch")}),
                 QStringList{QStringLiteral("activation, weight 2: must be a finite number of at least 0")});
        retype(find<QLineEdit>(&form, QStringLiteral("choiceWeight0")), QStringLiteral("0"));
        retype(find<QLineEdit>(&form, QStringLiteral("choiceWeight1")), QStringLiteral("0"));
        QCOMPARE(errorText(&form, QStringLiteral("choiceError")),
                 QStringLiteral("weights must not all be 0"));
        QVERIFY(!form.isValid());
        retype(find<QLineEdit>(&form, QStringLiteral("choiceWeight0")), QStringLiteral("3"));
        QVERIFY(form.isValid());
        QCOMPARE(wire(form.distributions()),
                 QByteArray(R"({"activation":{"choice":{"values":["relu","tanh"],"weights":[3.0,0.0]}}})"));
        click(find<QCheckBox>(&form, QStringLiteral("weightedCheck"))); // weights off again
        QCOMPARE(wire(form.distributions()),
                 QByteArray(R"({"activation":{"choice":{"values":["relu","tanh"]}}})"));

        // No values at all.
        click(find<QToolButton>(&form, QStringLiteral("choiceRemove1")));
        click(find<QToolButton>(&form, QStringLiteral("choiceRemove0")));
        QCOMPARE(errorText(&form, QStringLiteral("choiceError")), QStringLiteral("values must not be empty"));

        // A constant takes any JSON, and only JSON.
        choose(find<QComboBox>(&form, QStringLiteral("kindCombo")), int(Kind::Const));
        retype(find<QPlainTextEdit>(&form, QStringLiteral("constEdit")), QStringLiteral("{\"k\": "));
        QVERIFY(errorText(&form, QStringLiteral("constError")).startsWith(QLatin1String("not JSON")));
        retype(find<QPlainTextEdit>(&form, QStringLiteral("constEdit")), QStringLiteral("{\"k\": 1}"));
        QCOMPARE(wire(form.distributions()), QByteArray(R"({"activation":{"const":{"k":1}}})"));
    }

    void pbtMessages()
    {
        PbtSettingsEditor form;
        form.show();
        // A fresh form is incomplete, not wrong: nothing in red until the field is edited.
        QCOMPARE(errorText(&form, QStringLiteral("qualityError")), QString());
        QVERIFY(!form.isValid());
        QVERIFY(form.shownErrors().isEmpty());
        auto *qualityEdit = find<QComboBox>(&form, QStringLiteral("qualityCombo"))->lineEdit();
        QTest::keyClicks(qualityEdit, QStringLiteral("x"));
        retype(qualityEdit, QString());
        QCOMPARE(errorText(&form, QStringLiteral("qualityError")), QStringLiteral("must not be empty"));
        QCOMPARE(form.shownErrors(), QStringList{QStringLiteral("Quality result: must not be empty")});
        form.setResultNameSuggestions({QStringLiteral("accuracy"), QStringLiteral("loss")});
        auto *quality = find<QComboBox>(&form, QStringLiteral("qualityCombo"));
        QCOMPARE(quality->count(), 2); // what the jobs report is offered
        quality->setCurrentIndex(1);
        QCOMPARE(form.settings().qualityResultName, QStringLiteral("loss"));
        retype(quality->lineEdit(), QStringLiteral("val_loss")); // and anything else can be typed
        QCOMPARE(form.settings().qualityResultName, QStringLiteral("val_loss"));
        QCOMPARE(errorText(&form, QStringLiteral("qualityError")), QString());

        auto *truncate = find<QLineEdit>(&form, QStringLiteral("truncateEdit"));
        for (const char *bad : {"0", "0.7", "-0.1"}) {
            retype(truncate, QString::fromLatin1(bad));
            QCOMPARE(errorText(&form, QStringLiteral("truncateError")),
                     QStringLiteral("must be in (0, 0.5]"));
        }
        QCOMPARE(form.errors(), QStringList{QStringLiteral("Truncate proportion: must be in (0, 0.5]")});
        retype(truncate, QStringLiteral("x"));
        QCOMPARE(errorText(&form, QStringLiteral("truncateError")), QStringLiteral("must be a number"));
        retype(truncate, QStringLiteral("0.3"));
        QVERIFY(form.isValid());

        click(find<QPushButton>(&form, QStringLiteral("addExploreButton")));
        QVERIFY(!form.isValid()); // a new row waits for its name, without a message yet
        QCOMPARE(errorText(&form, QStringLiteral("exploreError")), QString());
        QVERIFY(!editors::isMarkedInvalid(find<QLineEdit>(&form, QStringLiteral("exploreName0"))));
        QTest::keyClicks(find<QLineEdit>(&form, QStringLiteral("exploreName0")), QStringLiteral("l"));
        retype(find<QLineEdit>(&form, QStringLiteral("exploreName0")), QString());
        QVERIFY(errorText(&form, QStringLiteral("exploreError"))
                    .contains(QLatin1String("enter a hyperparameter name")));
        retype(find<QLineEdit>(&form, QStringLiteral("exploreName0")), QStringLiteral("lr"));
        retype(find<QLineEdit>(&form, QStringLiteral("exploreMin0")), QStringLiteral("0"));
        QCOMPARE(find<QLineEdit>(&form, QStringLiteral("exploreMin0"))->toolTip(),
                 QStringLiteral("must be greater than 0"));
        QCOMPARE(errorText(&form, QStringLiteral("exploreError")),
                 QStringLiteral("lr: min factor must be greater than 0"));
        QCOMPARE(form.errors(),
                 QStringList{QStringLiteral("Explore lr, min factor: must be greater than 0")});
        retype(find<QLineEdit>(&form, QStringLiteral("exploreMin0")), QStringLiteral("1.5"));
        QCOMPARE(errorText(&form, QStringLiteral("exploreError")),
                 QStringLiteral("lr: max factor must be at least minFactor"));
        QCOMPARE(form.errors(),
                 QStringList{QStringLiteral("Explore lr, max factor: must be at least minFactor")});
        retype(find<QLineEdit>(&form, QStringLiteral("exploreMax0")), QStringLiteral("2"));
        QVERIFY(form.isValid());
        click(find<QPushButton>(&form, QStringLiteral("addExploreButton")));
        retype(find<QLineEdit>(&form, QStringLiteral("exploreName1")), QStringLiteral("lr"));
        QCOMPARE(errorText(&form, QStringLiteral("exploreError")), QStringLiteral("lr: listed twice"));
        click(find<QToolButton>(&form, QStringLiteral("exploreRemove1")));
        QVERIFY(form.isValid());

        // Population and generations are optional integers >= 1.
        QCOMPARE(find<QSpinBox>(&form, QStringLiteral("populationSpin"))->text(),
                 QStringLiteral("default (10)"));
        QCOMPARE(find<QSpinBox>(&form, QStringLiteral("generationsSpin"))->text(),
                 QStringLiteral("unlimited"));
        retype(find<QSpinBox>(&form, QStringLiteral("populationSpin")), QStringLiteral("8"));
        retype(find<QSpinBox>(&form, QStringLiteral("generationsSpin")), QStringLiteral("5"));
        QCOMPARE(find<QLabel>(&form, QStringLiteral("generationsHint"))->text(),
                 QStringLiteral("8 × 5 = 40 jobs when nothing crashes"));
        QCOMPARE(
            json::write(codec::encode(form.settings())),
            QByteArray(R"({"objective":"max","qualityResultName":"val_loss","exploit":{"truncate":0.3},)"
                       R"("explore":{"lr":{"perturb":{"minFactor":1.5,"maxFactor":2.0}}},"numParallel":8,)"
                       R"("maxGenerations":5,"max_generations":5})"));

        // Initial distributions: the distribution editor's problems are PBT's.
        fill(*form.initEditor(), QStringLiteral("lr"), Kind::LogUniform,
             {QStringLiteral("-1"), QStringLiteral("1")});
        QCOMPARE(form.errors(),
                 QStringList{QStringLiteral("Initial distribution of lr, low: must be greater than 0")});
    }

    void previewDrawsSamples()
    {
        DistributionEditor form;
        form.resize(900, 500);
        form.show();
        fill(form, QStringLiteral("lr"), Kind::LogUniform, {QStringLiteral("1e-06"), QStringLiteral("0.1")});
        DistributionPreview *preview = form.preview();
        QVERIFY(preview->isLogScale());
        QVERIFY(!preview->showsBars());
        const Histogram &h = preview->histogram();
        QCOMPARE(h.shape, Histogram::Shape::Continuous);
        QVERIFY(h.logScale);
        QCOMPARE(h.edges.first(), 1e-06);
        QCOMPARE(std::accumulate(h.counts.begin(), h.counts.end(), 0.0), double(h.samples));
        // Log-uniform: every log-spaced bin gets about the same share.
        for (double c : h.counts)
            QVERIFY2(c > h.samples / h.counts.size() * 0.6, qPrintable(QString::number(c)));

        choose(find<QComboBox>(&form, QStringLiteral("kindCombo")), int(Kind::Uniform));
        QVERIFY(!preview->isLogScale());
        QVERIFY(!preview->showsBars());

        choose(find<QComboBox>(&form, QStringLiteral("kindCombo")), int(Kind::Choice));
        retype(find<QLineEdit>(&form, QStringLiteral("choiceValue0")), QStringLiteral("\"relu\""));
        click(find<QPushButton>(&form, QStringLiteral("addValueButton")));
        retype(find<QLineEdit>(&form, QStringLiteral("choiceValue1")), QStringLiteral("\"tanh\""));
        click(find<QCheckBox>(&form, QStringLiteral("weightedCheck")));
        retype(find<QLineEdit>(&form, QStringLiteral("choiceWeight0")), QStringLiteral("3"));
        QVERIFY(preview->showsBars());
        QCOMPARE(preview->histogram().categories, (L({"\"relu\"", "\"tanh\""})));
        const QList<double> counts = preview->histogram().counts;
        QCOMPARE(counts[0] + counts[1], double(preview->histogram().samples));
        const double ratio = counts[0] / counts[1];
        QVERIFY2(ratio > 2.6 && ratio < 3.4, qPrintable(QString::number(ratio)));

        choose(find<QComboBox>(&form, QStringLiteral("kindCombo")), int(Kind::Const));
        retype(find<QPlainTextEdit>(&form, QStringLiteral("constEdit")), QStringLiteral("\"sgd\""));
        QVERIFY(preview->showsBars());
        QCOMPARE(preview->histogram().categories, QStringList{QStringLiteral("\"sgd\"")});

        choose(find<QComboBox>(&form, QStringLiteral("kindCombo")), int(Kind::Normal));
        retype(find<QLineEdit>(&form, QStringLiteral("meanEdit")), QStringLiteral("0"));
        retype(find<QLineEdit>(&form, QStringLiteral("stdEdit")), QStringLiteral("1"));
        QVERIFY(!preview->showsBars());
        const Histogram &n = preview->histogram();
        // Most samples within one standard deviation of the mean sit in the middle bins.
        const qsizetype mid = n.counts.size() / 2;
        QVERIFY(n.counts[mid] > n.counts.first() && n.counts[mid] > n.counts.last());
    }

    void dialogJsonFollowsTheForm()
    {
        ExperimentDialog dialog(nullptr, ExperimentDialog::Mode::Create);
        dialog.show();
        retype(find<QLineEdit>(&dialog, QStringLiteral("nameEdit")), QStringLiteral("MinimizeRandom"));
        choose(find<QComboBox>(&dialog, QStringLiteral("kindCombo")), int(Scheduler::Kind::RandomSearch));
        SchedulerJsonView *json = dialog.jsonView();
        QCOMPARE(json::write(parse(json->text().toUtf8())), QByteArray(R"({"RandomSearch":{}})"));
        fill(*dialog.distributionEditor(), QStringLiteral("lr"), Kind::LogUniform,
             {QStringLiteral("1e-06"), QStringLiteral("0.1")});
        QCOMPARE(json::write(parse(json->text().toUtf8())),
                 QByteArray(R"({"RandomSearch":{"lr":{"loguniform":{"low":1e-06,"high":0.1}}}})"));
        // An invalid form leaves the JSON at the last valid state, says so, and blocks saving.
        retype(find<QLineEdit>(dialog.distributionEditor(), QStringLiteral("lowEdit")), QStringLiteral("-1"));
        QCOMPARE(json::write(parse(json->text().toUtf8())),
                 QByteArray(R"({"RandomSearch":{"lr":{"loguniform":{"low":1e-06,"high":0.1}}}})"));
        QVERIFY(!errorText(json, QStringLiteral("noteError")).isEmpty());
        QCOMPARE(dialog.problems(), QStringList{QStringLiteral("lr, low: must be greater than 0")});
        QVERIFY(!dialog.saveButton()->isEnabled());
        QCOMPARE(dialog.message(), QStringLiteral("lr, low: must be greater than 0"));
        retype(find<QLineEdit>(dialog.distributionEditor(), QStringLiteral("lowEdit")),
               QStringLiteral("1e-05"));
        QVERIFY(dialog.problems().isEmpty());
        QCOMPARE(errorText(json, QStringLiteral("noteError")), QString());
        QCOMPARE(json::write(parse(json->text().toUtf8())),
                 QByteArray(R"({"RandomSearch":{"lr":{"loguniform":{"low":1e-05,"high":0.1}}}})"));

        // Switching to PBT carries the distributions over as the initial population.
        choose(find<QComboBox>(&dialog, QStringLiteral("kindCombo")), int(Scheduler::Kind::Pbt));
        QCOMPARE(dialog.pbtEditor()->initEditor()->names(), QStringList{QStringLiteral("lr")});
        QCOMPARE(dialog.problems(), QStringList{QStringLiteral("Quality result: must not be empty")});
        QCOMPARE(dialog.saveButton()->toolTip(),
                 QStringLiteral("To create it, first:\nQuality result: must not be empty"));
        retype(find<QComboBox>(dialog.pbtEditor(), QStringLiteral("qualityCombo"))->lineEdit(),
               QStringLiteral("acc"));
        QCOMPARE(
            json::write(parse(json->text().toUtf8())),
            QByteArray(R"({"PBT":{"objective":"max","qualityResultName":"acc","exploit":{"truncate":0.2},)"
                       R"("init":{"lr":{"loguniform":{"low":1e-05,"high":0.1}}}}})"));
        choose(find<QComboBox>(&dialog, QStringLiteral("kindCombo")), int(Scheduler::Kind::Manual));
        QCOMPARE(json::write(parse(json->text().toUtf8())), QByteArray(R"({"Manual":null})"));
        QCOMPARE(codec::encode(dialog.experiment()),
                 QCborMap({{QStringLiteral("name"), QStringLiteral("MinimizeRandom")},
                           {QStringLiteral("status"), QStringLiteral("RUNNING")},
                           {QStringLiteral("scheduler"),
                            QCborMap{{QStringLiteral("Manual"), QCborValue(nullptr)}}}}));
    }

    void dialogFormFollowsTheJson()
    {
        ExperimentDialog dialog(nullptr, ExperimentDialog::Mode::Create);
        dialog.show();
        retype(find<QLineEdit>(&dialog, QStringLiteral("nameEdit")), QStringLiteral("typed"));
        find<QTabWidget>(&dialog, QStringLiteral("tabs"))->setCurrentIndex(1);
        auto *text = find<QPlainTextEdit>(dialog.jsonView(), QStringLiteral("jsonEdit"));
        retype(
            text,
            QStringLiteral(
                R"({"RandomSearch": {"a": {"uniform": {"low": 1, "high": 2}}, "b": {"choice": {"values": [true, "x"]}}}})"));
        QVERIFY(dialog.jsonView()->isValid());
        QCOMPARE(find<QComboBox>(&dialog, QStringLiteral("kindCombo"))->currentData().toInt(),
                 int(Scheduler::Kind::RandomSearch));
        QCOMPARE(dialog.distributionEditor()->names(), (L({"a", "b"})));
        dialog.distributionEditor()->setCurrentRow(0);
        QCOMPARE(find<QLineEdit>(dialog.distributionEditor(), QStringLiteral("lowEdit"))->text(),
                 QStringLiteral("1.0"));
        QCOMPARE(
            json::write(codec::encode(dialog.experiment().scheduler)),
            QByteArray(
                R"({"RandomSearch":{"a":{"uniform":{"low":1.0,"high":2.0}},"b":{"choice":{"values":[true,"x"]}}}})"));
        // The typed text stays as typed (no rewrite under the cursor).
        QVERIFY(text->toPlainText().contains(QLatin1String("\"low\": 1,")));
        QVERIFY(dialog.problems().isEmpty());

        // Codec errors name the field; syntax errors the line and column; saving is blocked either way.
        retype(text, QStringLiteral(R"({"RandomSearch": {"a": {"loguniform": {"low": 0, "high": 2}}}})"));
        QCOMPARE(dialog.jsonView()->error(),
                 QStringLiteral("scheduler.RandomSearch.a.loguniform.low: must be greater than 0"));
        QCOMPARE(dialog.problems(),
                 QStringList{QStringLiteral(
                     "JSON: scheduler.RandomSearch.a.loguniform.low: must be greater than 0")});
        QVERIFY(!errorText(dialog.jsonView(), QStringLiteral("jsonError")).isEmpty());
        QCOMPARE(dialog.distributionEditor()->names(), (L({"a", "b"}))); // the form keeps the last valid
        retype(text, QStringLiteral("{\"PBT\":\n  {\"objective\": \"max\",,}}"));
        QVERIFY2(dialog.jsonView()->error().startsWith(QLatin1String("line 2, column 23: ")),
                 qPrintable(dialog.jsonView()->error()));
        retype(text, QStringLiteral(R"({"Grid": {}})"));
        QCOMPARE(dialog.jsonView()->error(),
                 QStringLiteral("scheduler.Grid: unknown scheduler (expected Manual, RandomSearch or PBT)"));
        QVERIFY(!dialog.saveButton()->isEnabled());
        QVERIFY(find<QTabWidget>(&dialog, QStringLiteral("tabs"))->tabText(1).contains(QStringLiteral("⚠")));

        // A form edit takes over again and rewrites the text.
        choose(find<QComboBox>(&dialog, QStringLiteral("kindCombo")), int(Scheduler::Kind::Manual));
        QVERIFY(dialog.jsonView()->isValid());
        QCOMPARE(json::write(parse(text->toPlainText().toUtf8())), QByteArray(R"({"Manual":null})"));

        // A PBT definition typed as JSON fills the PBT editor.
        retype(text,
               QString::fromUtf8(json::write(parse(PbtExample).toMap().value(QStringLiteral("scheduler")))));
        QVERIFY(dialog.jsonView()->isValid());
        QCOMPARE(dialog.experiment().scheduler, decodeExperiment(PbtExample).scheduler);
        QCOMPARE(find<QLineEdit>(dialog.pbtEditor(), QStringLiteral("truncateEdit"))->text(),
                 QStringLiteral("0.2"));
    }

    // At 1280x800 (the smallest screen the docs promise) the PBT form and
    // its distribution preview fit without clipping: the dialog's minimum
    // size leaves room for a title bar and a panel, and the preview is
    // given at least its minimum height.
    void pbtDialogFitsSmallScreen()
    {
        ExperimentDialog dialog(nullptr, ExperimentDialog::Mode::Edit);
        dialog.setExperiment(decodeExperiment(PbtExample));
        dialog.pbtEditor()->initEditor()->setCurrentRow(1);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        const QSize minimum = dialog.minimumSizeHint();
        QVERIFY2(minimum.height() <= 740, qPrintable(QString::number(minimum.height())));
        QVERIFY2(minimum.width() <= 1240, qPrintable(QString::number(minimum.width())));
        dialog.resize(1240, 740);
        dialog.layout()->activate();
        auto *preview = dialog.pbtEditor()->initEditor()->findChild<QWidget *>(QStringLiteral("preview"));
        QVERIFY(preview);
        QTRY_VERIFY(preview->height() >= preview->minimumHeight());
    }

    void experimentNameMessages()
    {
        ExperimentDialog dialog(nullptr, ExperimentDialog::Mode::Create);
        dialog.show();
        auto *name = find<QLineEdit>(&dialog, QStringLiteral("nameEdit"));
        // Nothing typed yet: no message, until the name is typed in and emptied again.
        QCOMPARE(errorText(&dialog, QStringLiteral("nameError")), QString());
        QTest::keyClicks(name, QStringLiteral("x"));
        retype(name, QString());
        QCOMPARE(errorText(&dialog, QStringLiteral("nameError")), QStringLiteral("name must not be empty"));
        QTest::keyClicks(name, QStringLiteral("."));
        QCOMPARE(errorText(&dialog, QStringLiteral("nameError")),
                 QStringLiteral("name must not be '.' or '..'"));
        QTest::keyClicks(name, QStringLiteral("."));
        QCOMPARE(errorText(&dialog, QStringLiteral("nameError")),
                 QStringLiteral("name must not be '.' or '..'"));
        QTest::keyClicks(name, QStringLiteral("."));
        QCOMPARE(errorText(&dialog, QStringLiteral("nameError")), QString()); // "..." is a fine name
        name->setText(QStringLiteral("bell\u0007"));
        QCOMPARE(errorText(&dialog, QStringLiteral("nameError")),
                 QStringLiteral("name must not contain control characters"));
        retype(name, QString(201, QLatin1Char('n')));
        QCOMPARE(errorText(&dialog, QStringLiteral("nameError")),
                 QStringLiteral("name is longer than 200 characters"));
        retype(name, QStringLiteral("MNIST CNN / ünïcode ✓"));
        QCOMPARE(errorText(&dialog, QStringLiteral("nameError")), QString());
        QVERIFY(dialog.problems().isEmpty());
        // Without a client nothing can be saved, and the dialog says why.
        QVERIFY(!dialog.saveButton()->isEnabled());
        QCOMPARE(dialog.message(), QStringLiteral("Not connected to a server."));
    }

    // UX review 2026-11-29: a fresh dialog is not a list of mistakes. Messages appear once a field
    // was edited or the user tried to save; meanwhile Save is disabled and its tooltip says why.
    void freshDialogShowsNoProblemsUntilTouchedOrSaved()
    {
        ExperimentDialog dialog(nullptr, ExperimentDialog::Mode::Create);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        auto *name = find<QLineEdit>(&dialog, QStringLiteral("nameEdit"));
        QCOMPARE(errorText(&dialog, QStringLiteral("nameError")), QString());
        QVERIFY(!editors::isMarkedInvalid(name));
        QVERIFY(dialog.shownProblems().isEmpty());
        QVERIFY(!dialog.message().contains(QLatin1String("name")));
        QCOMPARE(dialog.problems(), QStringList{QStringLiteral("name: name must not be empty")});
        QVERIFY(!dialog.saveButton()->isEnabled());
        QVERIFY(dialog.saveButton()->toolTip().contains(QLatin1String("name must not be empty")));

        // PBT: the quality result is empty, the form incomplete, nothing red.
        choose(find<QComboBox>(&dialog, QStringLiteral("kindCombo")), int(Scheduler::Kind::Pbt));
        QCOMPARE(errorText(dialog.pbtEditor(), QStringLiteral("qualityError")), QString());
        QVERIFY(dialog.problems().contains(QStringLiteral("Quality result: must not be empty")));
        QVERIFY(dialog.shownProblems().isEmpty());

        // Random search: a new hyperparameter switched to constant or choice has empty inputs, not errors.
        choose(find<QComboBox>(&dialog, QStringLiteral("kindCombo")), int(Scheduler::Kind::RandomSearch));
        DistributionEditor *distributions = dialog.distributionEditor();
        click(find<QPushButton>(distributions, QStringLiteral("addButton")));
        choose(find<QComboBox>(distributions, QStringLiteral("kindCombo")), int(Kind::Const));
        QCOMPARE(errorText(distributions, QStringLiteral("constError")), QString());
        QVERIFY(!distributions->isValid());
        choose(find<QComboBox>(distributions, QStringLiteral("kindCombo")), int(Kind::Choice));
        QCOMPARE(errorText(distributions, QStringLiteral("choiceError")), QString());
        QVERIFY(!editors::isMarkedInvalid(find<QLineEdit>(distributions, QStringLiteral("choiceValue0"))));
        auto *table = find<QTableWidget>(distributions, QStringLiteral("table"));
        QVERIFY(table->item(0, 1)->text().startsWith(QLatin1String("incomplete")));
        QVERIFY(table->item(0, 0)->icon().isNull()); // no warning sign
        QVERIFY(dialog.shownProblems().isEmpty());
        QCOMPARE(dialog.problems().size(), 2); // the name and the choice value
        // A filled-in value that is wrong is shown at once, as before.
        choose(find<QComboBox>(distributions, QStringLiteral("kindCombo")), int(Kind::LogUniform));
        QCOMPARE(errorText(distributions, QStringLiteral("lowError")),
                 QStringLiteral("must be greater than 0"));

        // Enter while Save is disabled is a try to save: every problem shows, the focus goes to the name.
        dialog.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&dialog));
        find<QComboBox>(&dialog, QStringLiteral("kindCombo"))->setFocus();
        QTest::keyClick(find<QComboBox>(&dialog, QStringLiteral("kindCombo")), Qt::Key_Return);
        QCOMPARE(errorText(&dialog, QStringLiteral("nameError")), QStringLiteral("name must not be empty"));
        QVERIFY(editors::isMarkedInvalid(name));
        QCOMPARE(QApplication::focusWidget(), name);
        QVERIFY(dialog.message().contains(QLatin1String("name: name must not be empty")));
    }

    void clickOnDisabledSaveRevealsProblems()
    {
        ExperimentDialog dialog(nullptr, ExperimentDialog::Mode::Create);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowActive(&dialog));
        retype(find<QLineEdit>(&dialog, QStringLiteral("nameEdit")), QStringLiteral("fine"));
        choose(find<QComboBox>(&dialog, QStringLiteral("kindCombo")), int(Scheduler::Kind::Pbt));
        QCOMPARE(errorText(dialog.pbtEditor(), QStringLiteral("qualityError")), QString());
        QVERIFY(!dialog.saveButton()->isEnabled());
        QTest::mouseClick(dialog.saveButton(), Qt::LeftButton);
        QCOMPARE(errorText(dialog.pbtEditor(), QStringLiteral("qualityError")),
                 QStringLiteral("must not be empty"));
        auto *quality = find<QComboBox>(dialog.pbtEditor(), QStringLiteral("qualityCombo"))->lineEdit();
        QVERIFY(editors::isMarkedInvalid(quality));
        QCOMPARE(QApplication::focusWidget(), quality->parentWidget()); // the editable combo
    }

    void freshJobDialogShowsNoProblems()
    {
        // The job dialog had no such problem: empty rows are simply not sent. Kept that way.
        JobDialog dialog(nullptr, decodeExperiment(RandomExample), JobDialog::Mode::Queue);
        dialog.show();
        click(find<QPushButton>(dialog.resultEditor(), QStringLiteral("addButton")));
        QVERIFY(dialog.problems().isEmpty());
        QCOMPARE(dialog.message(), QStringLiteral("Not connected to a server."));
    }

    // Issue 15, defect 7: explore accepted a hyperparameter of text, whose factor the server ignores.
    void exploreRefusesTextAndCompletesWhatWasTyped()
    {
        PbtSettingsEditor editor;
        PbtSettings s;
        s.qualityResultName = QStringLiteral("accuracy");
        s.init = {{QStringLiteral("lr"), Distribution::logUniform(1e-4, 1e-1)},
                  {QStringLiteral("optimizer"),
                   Distribution::choice({QStringLiteral("adam"), QStringLiteral("sgd")})},
                  {QStringLiteral("layers"), Distribution::choice({2, 3, 4})}};
        s.explore = {{QStringLiteral("lr"), 0.8, 1.2}, {QStringLiteral("layers"), 0.8, 1.2}};
        editor.setSettings(s);
        QVERIFY2(editor.errors().isEmpty(), qPrintable(editor.errors().join(QLatin1Char('\n'))));
        s.explore.append({QStringLiteral("optimizer"), 0.8, 1.2});
        editor.setSettings(s);
        QCOMPARE(editor.errors().size(), 1);
        QVERIFY(editor.errors().first().contains(QLatin1String("not numbers")));

        auto *name = find<QLineEdit>(&editor, QStringLiteral("exploreName0"));
        QCompleter *completer = name->completer();
        QVERIFY(completer);
        completer->setCompletionPrefix(QStringLiteral("ay"));
        QStringList offered;
        for (int i = 0; completer->setCurrentRow(i); ++i)
            offered.append(completer->currentCompletion());
        QCOMPARE(offered, QStringList{QStringLiteral("layers")});
    }

    // Issue 15, defect 3: Esc or Cancel dropped a whole typed form without asking.
    static QString answerDiscard(const QString &button, const std::function<void()> &action)
    {
        QString asked;
        QTimer::singleShot(0, [&] {
            auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
            if (!box)
                return;
            asked = box->text();
            for (QAbstractButton *b : box->buttons()) {
                if (b->text() == button)
                    b->click();
            }
        });
        action();
        return asked;
    }

    void escAsksBeforeDroppingWhatWasTyped()
    {
        {
            // Untouched: closes at once.
            ExperimentDialog dialog(nullptr, ExperimentDialog::Mode::Create);
            dialog.show();
            QVERIFY(QTest::qWaitForWindowActive(&dialog));
            QCOMPARE(
                answerDiscard(QStringLiteral("Discard"), [&] { QTest::keyClick(&dialog, Qt::Key_Escape); }),
                QString());
            QVERIFY(!dialog.isVisible());
        }
        ExperimentDialog dialog(nullptr, ExperimentDialog::Mode::Create);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowActive(&dialog));
        retype(find<QLineEdit>(&dialog, QStringLiteral("nameEdit")), QStringLiteral("typed by hand"));
        QVERIFY(dialog.hasTypedChanges());
        const QString asked =
            answerDiscard(QStringLiteral("Keep editing"), [&] { QTest::keyClick(&dialog, Qt::Key_Escape); });
        QCOMPARE(asked, QStringLiteral("Discard the experiment you typed?"));
        QVERIFY(dialog.isVisible());
        QCOMPARE(find<QLineEdit>(&dialog, QStringLiteral("nameEdit"))->text(),
                 QStringLiteral("typed by hand"));
        answerDiscard(QStringLiteral("Discard"), [&] { dialog.reject(); }); // Cancel
        QVERIFY(!dialog.isVisible());

        JobDialog job(nullptr, decodeExperiment(RandomExample), JobDialog::Mode::Queue);
        job.show();
        QVERIFY(QTest::qWaitForWindowActive(&job));
        QVERIFY(!job.hasTypedChanges());
        choose(find<QComboBox>(&job, QStringLiteral("statusCombo")), int(JobStatus::Done));
        QVERIFY(job.hasTypedChanges());
        QCOMPARE(answerDiscard(QStringLiteral("Keep editing"), [&] { job.reject(); }),
                 QStringLiteral("Discard the job you typed?"));
        QVERIFY(job.isVisible());
    }

    // ---- Every wire example of docs/protocol.md loads into the editors ----------------------------------

    void protocolExamplesLoad_data()
    {
        QTest::addColumn<QByteArray>("document");
        QTest::newRow("manual") << QByteArray(ManualExample);
        QTest::newRow("random search") << QByteArray(RandomExample);
        QTest::newRow("pbt") << QByteArray(PbtExample);
        const QCborArray items = parse(PageExample).toMap().value(QStringLiteral("items")).toArray();
        QTest::newRow("page item") << json::write(items.at(0));
    }

    void protocolExamplesLoad()
    {
        QFETCH(QByteArray, document);
        const auto decoded = codec::decodeExperiment(parse(document));
        QVERIFY2(decoded.ok(), qPrintable(decoded.ok() ? QString() : decoded.error().message()));
        const Experiment e = decoded.value();
        for (auto mode : {ExperimentDialog::Mode::Edit, ExperimentDialog::Mode::Duplicate}) {
            ExperimentDialog dialog(nullptr, mode);
            dialog.setExperiment(e);
            // A document without a name (a PUT body) needs one typed before a duplicate can be created.
            const QStringList expected = mode == ExperimentDialog::Mode::Duplicate && e.name.isEmpty()
                                             ? QStringList{QStringLiteral("name: name must not be empty")}
                                             : QStringList{};
            QCOMPARE(dialog.problems(), expected);
            QCOMPARE(dialog.experiment().scheduler, e.scheduler);
            QCOMPARE(int(dialog.experiment().status), int(e.status));
            // The JSON view shows the same definition, as the codec writes it.
            const auto shown = codec::decodeScheduler(parse(dialog.jsonView()->text().toUtf8()));
            QVERIFY(shown.ok());
            QCOMPARE(shown.value(), e.scheduler);
            if (mode == ExperimentDialog::Mode::Edit)
                QCOMPARE(dialog.experiment().name, e.name);
            else if (!e.name.isEmpty())
                QCOMPARE(dialog.experiment().name, e.name + QStringLiteral(" copy"));
        }
        // Its distributions, one editor each.
        Distributions ds =
            e.scheduler.kind == Scheduler::Kind::Pbt ? e.scheduler.pbt.init : e.scheduler.distributions;
        DistributionEditor editor;
        editor.setDistributions(ds);
        QCOMPARE(editor.distributions(), ds);
        if (e.scheduler.kind == Scheduler::Kind::Pbt) {
            PbtSettingsEditor pbt;
            pbt.setSettings(e.scheduler.pbt);
            QCOMPARE(pbt.settings(), e.scheduler.pbt);
            QCOMPARE(pbt.exploreRowCount(), 2);
        }
    }

    void protocolDistributionTableLoads_data()
    {
        // docs/protocol.md section 3, the distribution table (with arguments filled in).
        QTest::addColumn<QByteArray>("document");
        QTest::newRow("uniform") << QByteArray(R"({"uniform": {"low": -1, "high": 1}})");
        QTest::newRow("loguniform") << QByteArray(R"({"loguniform": {"low": 0.001, "high": 10}})");
        QTest::newRow("normal") << QByteArray(R"({"normal": {"mean": 0, "std": 0}})");
        QTest::newRow("choice") << QByteArray(
            R"({"choice": {"values": [1, "a", null, [2]], "weights": [1, 0, 2, 0.5]}})");
        QTest::newRow("const") << QByteArray(R"({"const": {"k": 1}})");
    }

    void protocolDistributionTableLoads()
    {
        QFETCH(QByteArray, document);
        const auto d = codec::decodeDistribution(parse(document), QStringLiteral("hp"));
        QVERIFY2(d.ok(), qPrintable(d.ok() ? QString() : d.error().message()));
        DistributionEditor editor;
        editor.setDistributions({{QStringLiteral("hp"), d.value()}});
        QVERIFY(editor.isValid());
        QCOMPARE(editor.distributions().first().distribution, d.value());
    }

    void protocolJobLoadsIntoTheJobDialog()
    {
        const Experiment experiment = decodeExperiment(PbtExample);
        const auto job = codec::decodeJob(parse(JobExample));
        QVERIFY(job.ok());
        JobDialog dialog(nullptr, experiment, JobDialog::Mode::Queue);
        dialog.setJob(job.value());
        QVERIFY(dialog.problems().isEmpty());
        const JobWrite w = dialog.jobWrite();
        QCOMPARE(int(w.status), int(JobStatus::Running));
        QCOMPARE(w.hyperparameters, job->hyperparameters);
        QCOMPARE(w.results, job->results);
        QCOMPARE(
            json::write(codec::encode(w)),
            QByteArray(R"({"status":"RUNNING","hyperparameters":{"num_filters":32,"learning_rate":0.0123,)"
                       R"("dropout_rate":0.31},"results":{"accuracy":[0.91,0.95],"max_accuracy":0.95,)"
                       R"("weights_path":"models/7P_Scw.h5"}})"));

        JobDialog duplicate(nullptr, experiment, JobDialog::Mode::Duplicate);
        duplicate.setJob(job.value());
        QCOMPARE(int(duplicate.jobWrite().status), int(JobStatus::Queued));
        QCOMPARE(duplicate.jobWrite().hyperparameters, job->hyperparameters);
        QVERIFY(duplicate.jobWrite().results.isEmpty());
    }

    // ---- The job dialog: names pre-filled, typed inputs -------------------------------------------------

    void jobDialogTypedInputs()
    {
        const Experiment experiment = decodeExperiment(RandomExample);
        JobDialog dialog(nullptr, experiment, JobDialog::Mode::Queue);
        dialog.show();
        ValueMapEditor *hp = dialog.hyperparameterEditor();
        QCOMPARE(hp->rowCount(), 6);
        QStringList names;
        for (int i = 0; i < hp->rowCount(); ++i)
            names.append(hp->nameInput(i)->text());
        QCOMPARE(names, (L({"x", "lr", "dropout", "layers", "activation", "optimizer"})));
        QVERIFY(hp->values().isEmpty()); // nothing sent until typed
        QCOMPARE(hp->note(1), QStringLiteral("not set; a number, log-uniform in [1e-06, 0.1)"));

        const int x = hp->rowOf(QStringLiteral("x"));
        retype(hp->valueInput(x), QStringLiteral("abc"));
        QCOMPARE(hp->note(x), QStringLiteral("not JSON: write text in quotes, \"abc\""));
        retype(hp->valueInput(x), QStringLiteral("\"abc\""));
        QCOMPARE(hp->note(x), QStringLiteral("must be a number"));
        QCOMPARE(dialog.problems(), QStringList{QStringLiteral("Hyperparameters, x: must be a number")});
        QVERIFY(editors::isMarkedInvalid(hp->valueInput(x)));
        retype(hp->valueInput(x), QStringLiteral("0.5"));
        QCOMPARE(hp->note(x), QStringLiteral("a number, normal around 0.0 (std 5.0)"));
        const int lr = hp->rowOf(QStringLiteral("lr"));
        retype(hp->valueInput(lr), QStringLiteral("1"));
        QVERIFY(hp->note(lr).startsWith(QLatin1String("outside [1e-06, 0.1)")));
        QVERIFY(dialog.problems().isEmpty()); // allowed: a hint, not an error
        // A choice offers its values.
        const int layers = hp->rowOf(QStringLiteral("layers"));
        auto *combo = qobject_cast<QComboBox *>(hp->valueInput(layers)->parentWidget());
        QVERIFY(combo);
        QCOMPARE(combo->count(), 5);
        QCOMPARE(hp->note(layers), QStringLiteral("not set; one of 5 values")); // not "5 value(s)"
        combo->setCurrentIndex(2);
        const int activation = hp->rowOf(QStringLiteral("activation"));
        retype(hp->valueInput(activation), QStringLiteral("\"gelu\""));
        QCOMPARE(hp->note(activation), QStringLiteral("not one of the choices: allowed"));
        // Results: optional, any JSON.
        ValueMapEditor *results = dialog.resultEditor();
        click(find<QPushButton>(results, QStringLiteral("addButton")));
        retype(results->valueInput(0), QStringLiteral("[0.9, 0.5]"));
        QCOMPARE(dialog.problems(), QStringList{QStringLiteral("Results, row 1: enter a name")});
        retype(results->nameInput(0), QStringLiteral("loss"));
        QVERIFY(dialog.problems().isEmpty());
        choose(find<QComboBox>(&dialog, QStringLiteral("statusCombo")), int(JobStatus::Done));
        QCOMPARE(json::write(codec::encode(dialog.jobWrite())),
                 QByteArray(
                     R"({"status":"DONE","hyperparameters":{"x":0.5,"lr":1,"layers":3,"activation":"gelu"},)"
                     R"("results":{"loss":[0.9,0.5]}})"));
        // Draw fills every hyperparameter with what the scheduler would draw.
        dialog.drawValues();
        const QCborMap drawn = dialog.jobWrite().hyperparameters;
        QCOMPARE(drawn.size(), 6);
        QVERIFY(drawn.value(QStringLiteral("lr")).toDouble() >= 1e-06 &&
                drawn.value(QStringLiteral("lr")).toDouble() < 0.1);
        QCOMPARE(drawn.value(QStringLiteral("optimizer")), parse(R"({"name":"sgd","momentum":0.9})"));
    }

    void describeChangesNamesTheFields()
    {
        const QStringList changes = editors::describeChanges(
            parse(
                R"({"status":"RUNNING","scheduler":{"RandomSearch":{"lr":{"uniform":{"low":0.0,"high":1.0}},"x":{"const":1}}}})"),
            parse(
                R"({"status":"DONE","scheduler":{"RandomSearch":{"lr":{"uniform":{"low":0.5,"high":1}},"y":{"const":2}}}})"));
        QCOMPARE(changes,
                 (QStringList{QStringLiteral("status: \"RUNNING\" → \"DONE\""),
                              QStringLiteral("scheduler.RandomSearch.lr.uniform.low: 0.0 → 0.5"),
                              QStringLiteral("scheduler.RandomSearch.x: removed (was {\"const\":1})"),
                              QStringLiteral("scheduler.RandomSearch.y: added {\"const\":2}")}));
    }

    // The Strategy tab: what an experiment has loads into the sections and comes back unchanged.
    void strategySectionsRoundTrip()
    {
        ExperimentDialog dialog(nullptr, ExperimentDialog::Mode::Edit);
        const auto decoded = codec::decodeExperiment(parse(R"({"name": "x", "status": "RUNNING",
            "scheduler": {"RandomSearch": {"lr": {"loguniform": {"low": 1e-05, "high": 0.1}},
                                           "act": {"choice": {"values": ["relu", "tanh", "gelu"]}}}},
            "sampler": {"kind": "tpe", "result": "loss", "direction": "maximize", "candidates": 48, "seed": 7},
            "pruner": {"kind": "asha", "result": "curve", "direction": "minimize", "reductionFactor": 3},
            "lease": {"seconds": 90, "retries": 0}})"));
        QVERIFY(decoded.ok());
        dialog.setExperiment(decoded.value());
        Experiment out = dialog.experiment();
        QCOMPARE(json::write(codec::encode(*out.sampler)), json::write(codec::encode(*decoded->sampler)));
        // A grid's steps come back as they were, not as the rows had them before.
        Experiment grid = decoded.value();
        grid.scheduler.distributions.append({QStringLiteral("d"), Distribution::uniform(0, 1)});
        grid.sampler = SamplerSpec{};
        grid.sampler->kind = SamplerSpec::Kind::Grid;
        grid.sampler->steps = {{QStringLiteral("lr"), 7}, {QStringLiteral("d"), 2}};
        dialog.setExperiment(grid);
        QVERIFY(dialog.experiment().sampler == grid.sampler);
        QCOMPARE(dialog.samplerEditor()->gridText(), QStringLiteral("42 points"));
        dialog.setExperiment(decoded.value());
        out = dialog.experiment();
        QCOMPARE(json::write(codec::encode(*out.pruner)), json::write(codec::encode(*decoded->pruner)));
        QCOMPARE(json::write(codec::encode(*out.lease)), json::write(codec::encode(*decoded->lease)));
        QVERIFY(dialog.problems().isEmpty());
        // The JSON tab shows them.
        const auto *json = find<QPlainTextEdit>(&dialog, QStringLiteral("policyJson"));
        QVERIFY(json->toPlainText().contains(QLatin1String("\"candidates\": 48")));
        QVERIFY(json->toPlainText().contains(QLatin1String("\"seconds\": 90")));
    }

    void gridStepsFollowTheHyperparameters()
    {
        ExperimentDialog dialog(nullptr, ExperimentDialog::Mode::Create);
        dialog.setExperiment([] {
            Experiment e;
            e.name = QStringLiteral("g");
            e.scheduler.kind = Scheduler::Kind::RandomSearch;
            e.scheduler.distributions = {{QStringLiteral("lr"), Distribution::uniform(0, 1)},
                                         {QStringLiteral("act"), Distribution::choice({1, 2, 3})}};
            return e;
        }());
        SamplerEditor *sampler = dialog.samplerEditor();
        choose(find<QComboBox>(sampler, QStringLiteral("samplerKind")), int(SamplerSpec::Kind::Grid));
        // A row per numeric hyperparameter, 5 points each to begin with; a choice gives its values.
        const auto *table = find<QTableWidget>(sampler, QStringLiteral("gridSteps"));
        QCOMPARE(table->rowCount(), 1);
        QCOMPARE(sampler->gridText(), QStringLiteral("15 points"));
        qobject_cast<QSpinBox *>(table->cellWidget(0, 1))->setValue(20);
        QCOMPARE(sampler->gridText(), QStringLiteral("60 points"));
        QCOMPARE(dialog.experiment().sampler->steps.value(QStringLiteral("lr")), 20);
        // A new numeric hyperparameter gets a row too; the steps typed so far stay.
        dialog.distributionEditor()->setDistributions(
            {{QStringLiteral("lr"), Distribution::uniform(0, 1)},
             {QStringLiteral("d"), Distribution::normal(0, 1)},
             {QStringLiteral("act"), Distribution::choice({1, 2, 3})}});
        Q_EMIT dialog.distributionEditor()->edited(); // as typing there does
        QCOMPARE(table->rowCount(), 2);
        QCOMPARE(sampler->gridText(), QStringLiteral("300 points"));
        QVERIFY(dialog.problems().isEmpty());
    }

    void strategyValidation()
    {
        ExperimentDialog dialog(nullptr, ExperimentDialog::Mode::Create);
        Experiment e;
        e.name = QStringLiteral("x");
        e.scheduler.kind = Scheduler::Kind::RandomSearch;
        e.scheduler.distributions = {{QStringLiteral("lr"), Distribution::uniform(0, 1)}};
        dialog.setExperiment(e);
        QVERIFY(dialog.problems().isEmpty());
        choose(find<QComboBox>(dialog.samplerEditor(), QStringLiteral("samplerKind")),
               int(SamplerSpec::Kind::Tpe));
        QCOMPARE(dialog.problems(),
                 QStringList{QStringLiteral("Search strategy: TPE needs the result it learns from")});
        QCOMPARE(dialog.shownProblems(), dialog.problems());
        QVERIFY(!dialog.canSave());
        find<QComboBox>(dialog.samplerEditor(), QStringLiteral("resultCombo"))
            ->setEditText(QStringLiteral("loss"));
        QVERIFY(dialog.problems().isEmpty());
        choose(find<QComboBox>(dialog.prunerEditor(), QStringLiteral("prunerKind")),
               int(PrunerSpec::Kind::Median));
        QCOMPARE(dialog.problems(),
                 QStringList{QStringLiteral(
                     "Early stopping: name the curve it watches (a result reported as a list)")});
        find<QComboBox>(dialog.prunerEditor(), QStringLiteral("resultCombo"))
            ->setEditText(QStringLiteral("loss"));
        QVERIFY(dialog.problems().isEmpty());
        QVERIFY(dialog.experiment().pruner->kind == PrunerSpec::Kind::Median);
        find<QCheckBox>(dialog.leaseEditor(), QStringLiteral("leaseEnabled"))->setChecked(true);
        find<QSpinBox>(dialog.leaseEditor(), QStringLiteral("leaseSeconds"))->setValue(120);
        QVERIFY(dialog.experiment().lease == std::optional<LeaseSpec>(LeaseSpec{120, std::nullopt}));

        // PBT: no sampler, no pruner (the sections are disabled); the lease stays.
        choose(find<QComboBox>(&dialog, QStringLiteral("kindCombo")), int(Scheduler::Kind::Pbt));
        QVERIFY(!dialog.samplerEditor()->isEnabled());
        QVERIFY(!dialog.prunerEditor()->isEnabled());
        QVERIFY(!dialog.experiment().sampler);
        QVERIFY(!dialog.experiment().pruner);
        QVERIFY(dialog.experiment().lease);
        // Manual: a pruner, no sampler.
        choose(find<QComboBox>(&dialog, QStringLiteral("kindCombo")), int(Scheduler::Kind::Manual));
        QVERIFY(!dialog.experiment().sampler);
        QVERIFY(dialog.experiment().pruner);
    }
};

QTEST_MAIN(TestEditors)
#include "tst_editors.moc"
