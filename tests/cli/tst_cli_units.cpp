// Units of the command line: Python's text forms, tabulate's formats (the
// expected strings come from tabulate 0.8.9 and Python 3.11), the argument
// parser and the results reader of `schedy run`.
#include "ArgParser.h"
#include "Json.h"
#include "PyFormat.h"
#include "Results.h"
#include "Table.h"

#include <QTest>

#include <cmath>

using namespace schedy;
using namespace schedy::cli;

namespace {
QCborValue j(const char *text)
{
    return json::parse(text);
}
QList<QCborValue> row(std::initializer_list<const char *> cells)
{
    QList<QCborValue> r;
    for (const char *c : cells)
        r << (c ? j(c) : QCborValue());
    return r;
}
} // namespace

class tst_CliUnits : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void floatRepr_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<QString>("repr");
        QTest::addColumn<QString>("g");
        QTest::newRow("0.1") << 0.1 << "0.1"
                             << "0.1";
        QTest::newRow("1e-05") << 1e-05 << "1e-05"
                               << "1e-05";
        QTest::newRow("0.0001") << 0.0001 << "0.0001"
                                << "0.0001";
        QTest::newRow("1e16") << 1e16 << "1e+16"
                              << "1e+16";
        QTest::newRow("1e15") << 1e15 << "1000000000000000.0"
                              << "1e+15";
        QTest::newRow("big") << 123456789012345680.0 << "1.2345678901234568e+17"
                             << "1.23457e+17";
        QTest::newRow("1.5e-07") << 1.5e-07 << "1.5e-07"
                                 << "1.5e-07";
        QTest::newRow("-2.5") << -2.5 << "-2.5"
                              << "-2.5";
        QTest::newRow("1e100") << 1e100 << "1e+100"
                               << "1e+100";
        QTest::newRow("denormal") << 5e-324 << "5e-324"
                                  << "4.94066e-324";
        QTest::newRow("max") << 1.7976931348623157e308 << "1.7976931348623157e+308"
                             << "1.79769e+308";
        QTest::newRow("100") << 100.0 << "100.0"
                             << "100";
        QTest::newRow("nan") << double(NAN) << "nan"
                             << "nan";
        QTest::newRow("-inf") << -double(INFINITY) << "-inf"
                              << "-inf";
    }
    void floatRepr()
    {
        QFETCH(double, value);
        QFETCH(QString, repr);
        QFETCH(QString, g);
        QCOMPARE(py::floatRepr(value), repr);
        QCOMPARE(py::formatG(value), g);
    }

    void reprAndDumps()
    {
        QCOMPARE(py::stringRepr(QStringLiteral("it's")), QStringLiteral("\"it's\""));
        QCOMPARE(py::stringRepr(QStringLiteral("a\"b")), QStringLiteral("'a\"b'"));
        QCOMPARE(py::stringRepr(QStringLiteral("both ' and \"")), QStringLiteral("'both \\' and \"'"));
        QCOMPARE(py::stringRepr(QString::fromUtf8("tab\tnl\n\x01\x7f é \u200b \U0001F600")),
                 QString::fromUtf8("'tab\\tnl\\n\\x01\\x7f é \\u200b \U0001F600'"));
        QCOMPARE(py::str(j(R"({"k": 1, "l": [1.0, "x", null, true]})")),
                 QStringLiteral("{'k': 1, 'l': [1.0, 'x', None, True]}"));
        QCOMPARE(py::str(j(R"("raw text")")), QStringLiteral("raw text"));
        QCOMPARE(
            py::jsonDumps(j(R"({"a": [1, 2.0, "é😀", null, true, NaN, Infinity], "b\n": {}})")),
            QStringLiteral(R"({"a": [1, 2.0, "\u00e9\ud83d\ude00", null, true, NaN, Infinity], "b\n": {}})"));
    }

    void pythonNumbers_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("isInt");
        QTest::addColumn<bool>("isFloat");
        const struct
        {
            const char *t;
            bool i, f;
        } cases[] = {{"1_000", true, true},      {"1__0", false, false},       {"_1", false, false},
                     {"1_", false, false},       {" 12 ", true, true},         {"+5", true, true},
                     {"-", false, false},        {"", false, false},           {"\u0661\u0662", true, true},
                     {"1.5", false, true},       {".5", false, true},          {"5.", false, true},
                     {".", false, false},        {"1e5", false, true},         {"1e", false, false},
                     {"e5", false, false},       {"1_0.5_5e1_0", false, true}, {"nan", false, true},
                     {"-Infinity", false, true}, {"infinit", false, false},    {"0x10", false, false}};
        for (const auto &c : cases)
            QTest::newRow(c.t) << QString::fromUtf8(c.t) << c.i << c.f;
    }
    void pythonNumbers()
    {
        QFETCH(QString, text);
        QFETCH(bool, isInt);
        QFETCH(bool, isFloat);
        QCOMPARE(py::parsesAsInt(text), isInt);
        QCOMPARE(py::parsesAsFloat(text), isFloat);
    }

    void tabulate_data()
    {
        QTest::addColumn<QList<QList<QCborValue>>>("rows");
        QTest::addColumn<QStringList>("headers");
        QTest::addColumn<QString>("psql");
        QTest::addColumn<QString>("plain");
        QTest::newRow("mixed")
            << QList<QList<QCborValue>>{row({"1", "\"a\"", "1.5", nullptr, "true"}),
                                        row({"22", "\"bbb\"", "\"3\"", "\"x\"", "false"}),
                                        row({nullptr, "\"  pad \"", "1e-07", "2", nullptr})}
            << QStringList{QStringLiteral("n"), QStringLiteral("text"), QStringLiteral("num"),
                           QStringLiteral("mix"), QStringLiteral("flag")}
            << QStringLiteral(
                   "+-----+--------+-------+-------+--------+\n|   n | text   |   num | mix   | flag   |\n|"
                   "-----+--------+-------+-------+--------|\n|   1 | a      | 1.5   |       | True   |\n|  "
                   "22 | bbb    | 3     | x     | False  |\n|     | pad    | 1e-07 | 2     |        |\n+--"
                   "---+--------+-------+-------+--------+")
            << QStringLiteral(" 1  a    1.5       True\n22  bbb  3      x  False\n    pad  1e-07  2");
        QTest::newRow("numeric strings")
            << QList<QList<QCborValue>>{row({"\"123\"", "\"1_000\"", "\"12e3\"", "\"inf\""}),
                                        row({"\"-4\"", "\" 5 \"", "\"nan\"", "\"NaN\""}),
                                        row({"\"0x1\"", "\"1e999\"", "\"Infinity\"", "\"+inf\""})}
            << QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c"), QStringLiteral("d")}
            << QStringLiteral(
                   "+-----+-------+----------+------+\n| a   | b     | c        | d    |\n|-----+-------+--"
                   "--------+------|\n| 123 | 1_000 | 12e3     | inf  |\n| -4  | 5     | nan      | NaN  |"
                   "\n| 0x1 | 1e999 | Infinity | +inf |\n+-----+-------+----------+------+")
            << QStringLiteral(
                   "123  1_000  12e3      inf\n-4   5      nan       NaN\n0x1  1e999  Infinity  +inf");
        QTest::newRow("floats")
            << QList<QList<QCborValue>>{row({"0.1", "123456789.0", "1e16"}),
                                        row({"-0.0001", "1234567.0", "5.0"})}
            << QStringList{QStringLiteral("x"), QStringLiteral("longer name"), QStringLiteral("y")}
            << QStringLiteral(
                   "+---------+---------------+-------+\n|       x |   longer name |     y |\n|---------+--"
                   "-------------+-------|\n|  0.1    |   1.23457e+08 | 1e+16 |\n| -0.0001 |   1.23457e+06"
                   " | 5     |\n+---------+---------------+-------+")
            << QStringLiteral(" 0.1     1.23457e+08  1e+16\n-0.0001  1.23457e+06  5");
    }
    void tabulate()
    {
        QFETCH(QList<QList<QCborValue>>, rows);
        QFETCH(QStringList, headers);
        QFETCH(QString, psql);
        QFETCH(QString, plain);
        QCOMPARE(cli::tabulate(rows, headers, TableFormat::Psql), psql);
        QCOMPARE(cli::tabulate(rows, {}, TableFormat::Plain), plain);
        QCOMPARE(cli::tabulate({}, {}, TableFormat::Psql), QString());
    }

    void headerNamesAndFields()
    {
        TableData t;
        t.addRow({{{QStringLiteral("schedy"), QStringLiteral("id")}, QStringLiteral("a")},
                  {{QStringLiteral("schedy"), QStringLiteral("status")}, QStringLiteral("DONE")},
                  {{QStringLiteral("hyperparameter"), QStringLiteral("status")}, 1},
                  {{QStringLiteral("hyperparameter"), QStringLiteral("lr")}, 0.5}});
        t.addRow({{{QStringLiteral("schedy"), QStringLiteral("id")}, QStringLiteral("b")},
                  {{QStringLiteral("result"), QStringLiteral("loss")}, 2}});
        QCOMPARE(t.headerNames(), (QStringList{QStringLiteral("id"), QStringLiteral("schedy.status"),
                                               QStringLiteral("hyperparameter.status"), QStringLiteral("lr"),
                                               QStringLiteral("loss")}));
        QCOMPARE(t.sort({QStringLiteral("status")}, false),
                 QStringLiteral("Field \"status\" not found or ambiguous."));
        QCOMPARE(t.sort({QStringLiteral("lr")}, true), QString());
        QCOMPARE(t.rows().first().first().toString(), QStringLiteral("a"));
        QCOMPARE(t.sort({QStringLiteral("result.loss")}, false), QString());
        QCOMPARE(t.rows().first().first().toString(), QStringLiteral("b")); // missing values last
        QCOMPARE(t.filterFields({QStringLiteral("hyperparameter.status"), QStringLiteral("id")}), QString());
        QCOMPARE(t.headerNames(), (QStringList{QStringLiteral("status"), QStringLiteral("id")}));
        QCOMPARE(t.paragraphs(), QStringLiteral("id: b\n\nstatus: 1\nid: a\n"));
    }

    void argParser()
    {
        ArgParser p({{QStringLiteral("-t"), QStringLiteral("--table"), OptionSpec::Kind::Flag},
                     {QStringLiteral("-d"), QString(), OptionSpec::Kind::Flag},
                     {QStringLiteral("-s"), QStringLiteral("--sort"), OptionSpec::Kind::Append},
                     {QStringLiteral("-p"), QString(), OptionSpec::Kind::Values},
                     {QString(), QStringLiteral("--format"), OptionSpec::Kind::Value}});
        QString error;
        QVERIFY(p.parse(
            QString(QStringLiteral("E -td -sfoo --sort=bar -p a -1 b -0.5e-3 --format=csv --format json "
                                   "-- -x"))
                .split(QLatin1Char(' ')),
            &error));
        QVERIFY(p.isSet(QStringLiteral("--table")));
        QVERIFY(p.isSet(QStringLiteral("-d")));
        QCOMPARE(p.values(QStringLiteral("--sort")),
                 (QStringList{QStringLiteral("foo"), QStringLiteral("bar")}));
        QCOMPARE(p.values(QStringLiteral("-p")),
                 (QStringList{QStringLiteral("a"), QStringLiteral("-1"), QStringLiteral("b"),
                              QStringLiteral("-0.5e-3")}));
        QCOMPARE(p.value(QStringLiteral("--format")), QStringLiteral("json"));
        QCOMPARE(p.positionals(), (QStringList{QStringLiteral("E"), QStringLiteral("-x")}));
        ArgParser q({{QString(), QStringLiteral("--once"), OptionSpec::Kind::Flag}});
        q.setRawTailAfter(1);
        QVERIFY(q.parse(QString(QStringLiteral("--once E python train.py --once -x")).split(QLatin1Char(' ')),
                        &error));
        QCOMPARE(q.positionals(), QStringList{QStringLiteral("E")});
        QCOMPARE(q.rest(), QString(QStringLiteral("python train.py --once -x")).split(QLatin1Char(' ')));
        ArgParser r({});
        QVERIFY(!r.parse({QStringLiteral("--nope")}, &error));
        QCOMPARE(error, QStringLiteral("unrecognized argument: --nope"));
    }

    void resultsScanner()
    {
        ResultsScanner s;
        s.setInitialResults(j(R"({"path": "a.h5", "loss": 9})").toMap());
        int blocks = 0;
        s.onBlock = [&] {
            ++blocks;
        };
        s.feed("noise\n--- RESULTS ---\n{\"loss\": 0.5, \"acc\": [0.1]}\r\n  acc: [0.1, 0.2]\n");
        QCOMPARE(blocks, 0);
        s.feed("\n--- END RES");
        s.feed(
            "ULTS ---\nloss: nan\n--- RESULTS ---\nloss: 0.25\nok: True\nnothing: None\n--- END RESULTS ---");
        QCOMPARE(blocks, 1);
        s.finish();
        QCOMPARE(blocks, 2);
        QVERIFY(s.problems().isEmpty());
        QCOMPARE(json::write(s.results()),
                 QByteArray(R"({"path":"a.h5","loss":0.25,"acc":[0.1,0.2],"ok":true,"nothing":null})"));

        ResultsScanner bad;
        bad.feed("--- RESULTS ---\npath: models/x\n{broken\nloss: 1\n--- END RESULTS ---\n--- RESULTS "
                 "---\nx: 1\n");
        bad.finish();
        QCOMPARE(bad.problems().size(), 3);
        QVERIFY(bad.problems().at(0).startsWith(
            QStringLiteral("output line 2: the value of \"path\" is not JSON")));
        QVERIFY(bad.problems().at(1).startsWith(QStringLiteral("output line 3: not a JSON object")));
        QVERIFY(bad.problems().at(2).contains(QStringLiteral("ended inside a results block")));
        QCOMPARE(json::write(bad.results()), QByteArray(R"({"loss":1})"));
    }

    void formatters()
    {
        const JobContext job{QStringLiteral("My exp"), QStringLiteral("AbC_12"),
                             j(R"({"lr": 0.5, "n": 3})").toMap(), j(R"({"ckpt": "x"})").toMap()};
        QCOMPARE(expandFormatters(QStringLiteral("%e/%j.%%h=%h r=%r"), job),
                 QStringLiteral("My exp/AbC_12.%h={\"lr\":0.5,\"n\":3} r={\"ckpt\":\"x\"}"));
        QCOMPARE(checkFormatters({QStringLiteral("a%%b"), QStringLiteral("%e%j%h%r")}), QString());
        QVERIFY(checkFormatters({QStringLiteral("50%")}).contains(QStringLiteral("lone %")));
        QVERIFY(checkFormatters({QStringLiteral("%d")}).contains(QStringLiteral("unknown formatter %d")));
    }
};

QTEST_GUILESS_MAIN(tst_CliUnits)
#include "tst_cli_units.moc"
