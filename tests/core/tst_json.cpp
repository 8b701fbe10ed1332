#include "Json.h"

#include <QtTest>

using namespace schedy;

class TestJson : public QObject
{
    Q_OBJECT
private slots:
    void numbersKeepIdentity_data()
    {
        QTest::addColumn<QByteArray>("in");
        QTest::addColumn<QByteArray>("out");
        QTest::newRow("int") << QByteArray("1") << QByteArray("1");
        QTest::newRow("float one") << QByteArray("1.0") << QByteArray("1.0");
        QTest::newRow("big int") << QByteArray("9007199254740993") << QByteArray("9007199254740993");
        QTest::newRow("int64 max") << QByteArray("9223372036854775807") << QByteArray("9223372036854775807");
        QTest::newRow("int64 min") << QByteArray("-9223372036854775808")
                                   << QByteArray("-9223372036854775808");
        // Beyond 64 bits Python still sends exact integers: a uint64 seed must not round.
        QTest::newRow("int64 max + 1")
            << QByteArray("9223372036854775808") << QByteArray("9223372036854775808");
        QTest::newRow("uint64 max") << QByteArray("18446744073709551615")
                                    << QByteArray("18446744073709551615");
        QTest::newRow("2^64") << QByteArray("18446744073709551616") << QByteArray("18446744073709551616");
        QTest::newRow("int64 min - 1")
            << QByteArray("-9223372036854775809") << QByteArray("-9223372036854775809");
        QTest::newRow("-2^64") << QByteArray("-18446744073709551616") << QByteArray("-18446744073709551616");
        QTest::newRow("40 digits") << QByteArray("1234567890123456789012345678901234567890")
                                   << QByteArray("1234567890123456789012345678901234567890");
        QTest::newRow("1e9 limbs") << QByteArray("100000000000000000000000000001000000000")
                                   << QByteArray("100000000000000000000000000001000000000");
        QTest::newRow("big in object") << QByteArray("{\"seed\": 18446744073709551557, \"lr\": 0.1}")
                                       << QByteArray("{\"seed\":18446744073709551557,\"lr\":0.1}");
        QTest::newRow("tenth") << QByteArray("0.1") << QByteArray("0.1");
        QTest::newRow("small") << QByteArray("1e-06") << QByteArray("1e-06");
        QTest::newRow("large float") << QByteArray("1e20") << QByteArray("1e+20");
        QTest::newRow("python fixed 1e-4") << QByteArray("0.0001") << QByteArray("0.0001");
        QTest::newRow("python sci 1e-5") << QByteArray("0.00001") << QByteArray("1e-05");
        QTest::newRow("python fixed 1e15") << QByteArray("1e15") << QByteArray("1000000000000000.0");
        QTest::newRow("python sci 1e16") << QByteArray("1e16") << QByteArray("1e+16");
        QTest::newRow("python 123.456") << QByteArray("123.456") << QByteArray("123.456");
        QTest::newRow("python 1.5e-7") << QByteArray("1.5e-7") << QByteArray("1.5e-07");
        QTest::newRow("python big mantissa")
            << QByteArray("123456789012345680.0") << QByteArray("1.2345678901234568e+17");
        QTest::newRow("python negative") << QByteArray("-2.5e-300") << QByteArray("-2.5e-300");
        QTest::newRow("python 100000.0") << QByteArray("100000.0") << QByteArray("100000.0");
        QTest::newRow("neg zero") << QByteArray("-0.0") << QByteArray("-0.0");
        QTest::newRow("nan") << QByteArray("NaN") << QByteArray("NaN");
        QTest::newRow("inf") << QByteArray("-Infinity") << QByteArray("-Infinity");
        QTest::newRow("true") << QByteArray("true") << QByteArray("true");
        QTest::newRow("list") << QByteArray("[1, 2.5, \"x\", null]") << QByteArray("[1,2.5,\"x\",null]");
        QTest::newRow("nested int in object")
            << QByteArray("{\"a\": {\"b\": 3}}") << QByteArray("{\"a\":{\"b\":3}}");
        QTest::newRow("float in object") << QByteArray("{\"a\": 3.0}") << QByteArray("{\"a\":3.0}");
        QTest::newRow("surrogates") << QByteArray("\"\\ud83d\\ude00\"") << QByteArray("\"\xf0\x9f\x98\x80\"");
        QTest::newRow("escapes") << QByteArray("\"a\\\"b\\\\c\\n\\u0001\"")
                                 << QByteArray("\"a\\\"b\\\\c\\n\\u0001\"");
    }
    void numbersKeepIdentity()
    {
        QFETCH(QByteArray, in);
        QFETCH(QByteArray, out);
        json::ParseError e;
        const QCborValue v = json::parse(in, &e);
        QVERIFY2(!e.isError(), qPrintable(e.message));
        QCOMPARE(json::write(v), out);
    }

    void rejectsMalformed_data()
    {
        QTest::addColumn<QByteArray>("in");
        QTest::newRow("empty") << QByteArray("");
        QTest::newRow("trailing") << QByteArray("{} x");
        QTest::newRow("unterminated") << QByteArray("{\"a\": \"b");
        QTest::newRow("single quotes") << QByteArray("{'a': 1}");
        QTest::newRow("trailing comma") << QByteArray("[1,]");
        QTest::newRow("leading zero ok, dot missing digits") << QByteArray("1.");
        QTest::newRow("control char") << QByteArray("\"a\x01\"");
        QTest::newRow("bad escape") << QByteArray("\"\\x\"");
    }
    void rejectsMalformed()
    {
        QFETCH(QByteArray, in);
        json::ParseError e;
        json::parse(in, &e);
        QVERIFY(e.isError());
        QVERIFY(!e.message.isEmpty());
    }

    void bigIntegersAreExactButNoNumbers()
    {
        const QCborValue big = json::parse("18446744073709551615");
        QVERIFY(!json::isInteger(big));
        QVERIFY(!json::isNumber(big)); // nothing computes with it, so nothing rounds it
        QCOMPARE(json::toDouble(big), 18446744073709551615.0);
        qint64 i = 0;
        QVERIFY(!json::toInteger(big, &i));
        QCOMPARE(json::toDouble(json::parse("-18446744073709551616")), -18446744073709551616.0);
        // Equal texts, equal values; different digits, different values.
        QCOMPARE(json::parse("[18446744073709551615]"), json::parse("[18446744073709551615]"));
        QVERIFY(json::parse("18446744073709551615") != json::parse("18446744073709551614"));
        QCOMPARE(json::writeIndented(json::parse("{\"a\":[99999999999999999999]}")),
                 QByteArray("{\n  \"a\": [\n    99999999999999999999\n  ]\n}"));
    }

    void integerDetection()
    {
        QVERIFY(json::isInteger(json::parse("3")));
        QVERIFY(!json::isInteger(json::parse("3.0")));
        QVERIFY(json::isInteger(QCborValue(qint64(5))));
        QVERIFY(!json::isInteger(QCborValue(5.0)));
        QCborMap o;
        o.insert(QStringLiteral("x"), 5.0);
        o.insert(QStringLiteral("y"), qint64(5));
        QCOMPARE(json::write(o), QByteArray("{\"x\":5.0,\"y\":5}"));
        // Keys keep their order, as Python dicts do.
        QCOMPARE(json::write(json::parse("{\"b\":1,\"a\":2}")), QByteArray("{\"b\":1,\"a\":2}"));
    }
};

QTEST_GUILESS_MAIN(TestJson)
#include "tst_json.moc"
