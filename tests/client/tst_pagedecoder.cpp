#include "Codec.h"
#include "Json.h"
#include "PageDecoder.h"

#include <QtTest>

#include <random>

using namespace schedy;

// The direct page decoder must give exactly what json::parse +
// codec::decodeJobPage give, or step aside (nullopt) so that they decide.
class TestPageDecoder : public QObject
{
    Q_OBJECT

    std::mt19937_64 rng{20261128};

    int uniform(int n) { return int(rng() % quint64(n)); }

    QString randomText()
    {
        static const QStringList pieces = {
            QStringLiteral("a"),  QStringLiteral("lr"),  QStringLiteral(" "),  QStringLiteral("/"),
            QStringLiteral("\""), QStringLiteral("\\"),  QStringLiteral("é"),  QStringLiteral("😀"),
            QStringLiteral("\n"), QStringLiteral("%2F"), QStringLiteral("id"), QStringLiteral("\t"),
            QString(QChar(0x01)), QStringLiteral("✓"),   QStringLiteral("x_1")};
        QString s;
        for (int i = uniform(4); i >= 0; --i)
            s += pieces[uniform(int(pieces.size()))];
        return s;
    }

    QCborValue randomValue(int depth)
    {
        switch (uniform(depth > 3 ? 7 : 9)) {
        case 0:
            return qint64(rng() % 2000) - 1000;
        case 1:
            return double(rng() % 100000) / 1000.0;
        case 2:
            return randomText();
        case 3:
            return QCborValue(uniform(2) == 0);
        case 4:
            return QCborValue(QCborValue::Null);
        case 5:
            return uniform(2) ? std::numeric_limits<double>::quiet_NaN()
                              : -std::numeric_limits<double>::infinity();
        case 6:
            return qint64(std::numeric_limits<qint64>::max() - qint64(rng() % 10));
        case 7: {
            QCborArray a;
            for (int i = uniform(4); i > 0; --i)
                a.append(randomValue(depth + 1));
            return a;
        }
        default:
            return randomObject(depth + 1);
        }
    }

    QCborMap randomObject(int depth)
    {
        QCborMap m;
        for (int i = uniform(5); i > 0; --i)
            m.insert(randomText(), randomValue(depth));
        return m;
    }

    // A job document as a map, with the kinds of values servers send (and some they should not).
    QCborMap randomJob()
    {
        QCborMap o;
        QList<QPair<QString, QCborValue>> fields;
        fields.append({QStringLiteral("id"), uniform(20) ? QCborValue(randomText()) : QCborValue(qint64(7))});
        fields.append({QStringLiteral("experiment"), randomText()});
        static const QStringList statuses = {QStringLiteral("QUEUED"),  QStringLiteral("RUNNING"),
                                             QStringLiteral("CRASHED"), QStringLiteral("PRUNED"),
                                             QStringLiteral("DONE"),    QStringLiteral("PAUSED")};
        fields.append({QStringLiteral("status"), statuses[uniform(uniform(10) ? 5 : 6)]});
        const auto objectOrOdd = [&] {
            const int k = uniform(12);
            return k == 0   ? QCborValue(QCborValue::Null)
                   : k == 1 ? QCborValue(QCborArray{1})
                            : QCborValue(randomObject(1));
        };
        if (uniform(8))
            fields.append({QStringLiteral("hyperparameters"), objectOrOdd()});
        if (uniform(8))
            fields.append({QStringLiteral("results"), objectOrOdd()});
        if (uniform(2))
            fields.append({QStringLiteral("createdAt"), uniform(3) ? QCborValue(1.7e9 + uniform(1000) / 7.0)
                                                                   : QCborValue(qint64(1700000000))});
        if (uniform(2))
            fields.append({QStringLiteral("modifiedAt"),
                           uniform(4) ? QCborValue(1.7e9 + uniform(1000) / 3.0) : QCborValue(randomText())});
        if (uniform(3) == 0)
            fields.append({QStringLiteral("generation"),
                           uniform(3) ? QCborValue(qint64(uniform(9))) : QCborValue(2.5)});
        if (uniform(3) == 0)
            fields.append({QStringLiteral("parent"),
                           uniform(3) ? QCborValue(randomText()) : QCborValue(QCborValue::Null)});
        if (uniform(4) == 0)
            fields.append(
                {QStringLiteral("member"), uniform(3) ? QCborValue(randomText()) : QCborValue(qint64(3))});
        if (uniform(4) == 0)
            fields.append({QStringLiteral("quality"), randomValue(2)}); // an extension
        // Section 8's job extensions, sometimes of the wrong type (then ignored).
        if (uniform(5) == 0)
            fields.append(
                {QStringLiteral("gridIndex"), uniform(4) ? QCborValue(qint64(uniform(60))) : randomValue(1)});
        if (uniform(5) == 0) {
            fields.append({QStringLiteral("prunedAt"), qint64(1 + uniform(9))});
            fields.append({QStringLiteral("pruneRule"),
                           uniform(3) ? QCborValue(QStringLiteral("asha")) : randomValue(1)});
            fields.append({QStringLiteral("pruneThreshold"), QCborValue(uniform(100) / 8.0)});
        }
        if (uniform(5) == 0) {
            fields.append({QStringLiteral("lostAt"), QCborValue(1.7e9 + uniform(1000) / 3.0)});
            fields.append({QString::fromLatin1(uniform(2) ? "replacedBy" : "replaces"),
                           uniform(4) ? QCborValue(randomText()) : randomValue(1)});
        }
        if (uniform(6) == 0)
            fields.append({randomText(), randomValue(2)});
        std::shuffle(fields.begin(), fields.end(), rng);
        for (const auto &f : fields)
            o.insert(f.first, f.second);
        return o;
    }

    QByteArray randomPage(int jobs)
    {
        QCborArray items;
        for (int i = 0; i < jobs; ++i)
            items.append(randomJob());
        QCborMap page;
        const int shape = uniform(10);
        if (shape != 0)
            page.insert(QStringLiteral("items"), items);
        if (shape != 1) {
            page.insert(QStringLiteral("next"),
                        uniform(2) ? QCborValue(QStringLiteral("c2VxOjEw")) : QCborValue(QCborValue::Null));
        }
        if (shape == 2)
            page.insert(QStringLiteral("total"), qint64(jobs));
        return uniform(4) ? json::write(page) : json::writeIndented(page);
    }

    static QByteArray describe(const Job &j)
    {
        QCborMap m = codec::encode(j);
        m.insert(QStringLiteral("~createdAt"),
                 j.createdAt ? QCborValue(*j.createdAt) : QCborValue(QStringLiteral("-")));
        m.insert(QStringLiteral("~modifiedAt"),
                 j.modifiedAt ? QCborValue(*j.modifiedAt) : QCborValue(QStringLiteral("-")));
        m.insert(QStringLiteral("~generation"),
                 j.generation ? QCborValue(*j.generation) : QCborValue(QStringLiteral("-")));
        m.insert(QStringLiteral("~parent"), j.parent);
        m.insert(QStringLiteral("~member"), j.member);
        return json::write(m);
    }

    // Checks the rule; returns whether the fast path took the text.
    static bool agree(const QByteArray &text)
    {
        const auto fast = detail::decodeJobPageFast(text);
        if (!fast)
            return false;
        json::ParseError pe;
        const QCborValue v = json::parse(text, &pe);
        if (pe.isError()) {
            qWarning("fast path took text json::parse refuses (%s): %s", qPrintable(pe.message),
                     text.left(300).constData());
            return false;
        }
        const auto general = codec::decodeJobPage(v);
        if (!general) {
            qWarning("fast path took a page the codec refuses (%s): %s",
                     qPrintable(general.error().message()), text.left(300).constData());
            return false;
        }
        if (fast->next != general->next || fast->items.size() != general->items.size()) {
            qWarning("next or item count differ: %s", text.left(300).constData());
            return false;
        }
        for (qsizetype i = 0; i < fast->items.size(); ++i) {
            if (describe(fast->items[i]) != describe(general->items[i])) {
                qWarning("item %lld differs:\n fast    %s\n general %s", qlonglong(i),
                         describe(fast->items[i]).constData(), describe(general->items[i]).constData());
                return false;
            }
        }
        return true;
    }

    // agree() or the fast path stepped aside.
    static bool consistent(const QByteArray &text) { return !detail::decodeJobPageFast(text) || agree(text); }

private slots:
    void serverShapedPagesTakeTheFastPath()
    {
        for (int n : {0, 1, 50}) {
            QCborArray items;
            for (int i = 0; i < n; ++i) {
                Job j;
                j.id = QStringLiteral("Ab%1").arg(i);
                j.experiment = QStringLiteral("MNIST é/😀 \"x\"");
                j.status = AllJobStatuses[size_t(i % JobStatusCount)];
                j.hyperparameters = QCborMap{{QStringLiteral("lr"), 0.01 * i},
                                             {QStringLiteral("n"), i},
                                             {QStringLiteral("name"), QStringLiteral("a\\b\"c")}};
                j.results = QCborMap{{QStringLiteral("loss"), QCborArray{0.5, 0.25}}};
                j.createdAt = 1.7e9 + i;
                j.modifiedAt = 1.7e9 + i + 0.5;
                if (i % 2) {
                    j.generation = i;
                    j.parent = QStringLiteral("P%1").arg(i);
                    j.member = QStringLiteral("M");
                }
                if (i % 3 == 0) { // section 8's extensions: the fast path reads them too
                    j.gridIndex = i;
                    j.pruned = PruneInfo{i + 1, PrunerSpec::Kind::Asha, 0.5, 0.25};
                    j.lostAt = 1.7e9 + i;
                    j.replacedBy = QStringLiteral("R%1").arg(i);
                    j.replaces = QStringLiteral("L%1").arg(i);
                }
                // As the server writes jobs, and as the codec encodes them.
                items.append(codec::encode(j));
            }
            for (const QString &next : {QString(), QStringLiteral("WyJzZXE6YXNjIiw1MF0")}) {
                const QByteArray text = json::write(codec::encodePage(items, next));
                QVERIFY2(agree(text), text.left(200).constData());
            }
        }
    }

    void jobsWithTheSameKeysShareATemplate()
    {
        // Same keys in the same order (the template path), with values of every
        // kind; then other keys, the old keys again, a repeated key, an empty map.
        const QByteArray text =
            "{\"items\":["
            R"({"id":"a","experiment":"e","status":"DONE","hyperparameters":{"lr":0.1,"opt":"adam","n":3},"results":{"loss":[1,2]}},)"
            R"({"id":"b","experiment":"e","status":"DONE","hyperparameters":{"lr":"high","opt":null,"n":{"x":[true]}},"results":{"loss":NaN}},)"
            R"({"id":"c","experiment":"e","status":"DONE","hyperparameters":{"opt":"sgd","lr":0.3,"n":4},"results":{"loss":-Infinity}},)"
            R"({"id":"d","experiment":"e","status":"DONE","hyperparameters":{"lr":0.4,"opt":"x","n":5,"extra":1},"results":{"acc":9223372036854775807}},)"
            R"({"id":"e","experiment":"e","status":"DONE","hyperparameters":{"lr":0.4,"opt":"x","n":5,"extra":2},"results":{"acc":1}},)"
            R"({"id":"f","experiment":"e","status":"DONE","hyperparameters":{"lr":0.5,"lr":0.6,"n":6},"results":{}},)"
            R"({"id":"g","experiment":"e","status":"DONE","hyperparameters":{"lr":0.5,"opt":"z","n":7},"results":{"l\u006fss":2}},)"
            R"({"id":"h","experiment":"e","status":"DONE","hyperparameters":{"lr":0.7,"opt":"é","n":8},"results":null})"
            "],\"next\":null}";
        QVERIFY(detail::decodeJobPageFast(text).has_value());
        QVERIFY(agree(text));
        // Each job owns its maps: changing one changes no other.
        Page<Job> page = *detail::decodeJobPageFast(text);
        page.items[0].hyperparameters[QStringLiteral("lr")] = 9.0;
        QCOMPARE(page.items[1].hyperparameters.value(QStringLiteral("lr")).toString(),
                 QStringLiteral("high"));
        QCOMPARE(page.items[2].hyperparameters.value(QStringLiteral("lr")).toDouble(), 0.3);
        QCOMPARE(page.items[6].hyperparameters.value(QStringLiteral("opt")).toString(), QStringLiteral("z"));
        QCOMPARE(page.items[5].hyperparameters.size(), 2);
        QCOMPARE(page.items[5].hyperparameters.value(QStringLiteral("lr")).toDouble(), 0.6);
    }

    void randomPagesAgree()
    {
        int taken = 0;
        for (int i = 0; i < 1500; ++i) {
            const QByteArray text = randomPage(uniform(6));
            QVERIFY2(consistent(text), text.constData());
            taken += detail::decodeJobPageFast(text).has_value() ? 1 : 0;
        }
        QVERIFY(taken > 200); // the comparison did happen, often
    }

    void mutatedPagesAgree()
    {
        static const QByteArray inserts[] = {"\"",
                                             "\\",
                                             ",",
                                             "{",
                                             "}",
                                             "[",
                                             "]",
                                             ":",
                                             "1",
                                             "null",
                                             "\"id\":\"x\",",
                                             "\"status\":\"DONE\",",
                                             " ",
                                             "\x01",
                                             "\xff",
                                             "\"hyperparameters\":[],"};
        int taken = 0;
        for (int i = 0; i < 3000; ++i) {
            QByteArray text = randomPage(1 + uniform(3));
            const int at = uniform(int(text.size()));
            switch (uniform(3)) {
            case 0:
                text.remove(at, 1 + uniform(3));
                break;
            case 1:
                text.insert(at, inserts[uniform(int(std::size(inserts)))]);
                break;
            default:
                text[at] = char(rng() % 128);
                break;
            }
            QVERIFY2(consistent(text), text.constData());
            taken += detail::decodeJobPageFast(text).has_value() ? 1 : 0;
        }
        QVERIFY(taken > 100);
    }

    void stepsAsideWhereTheGeneralPathDecides_data()
    {
        QTest::addColumn<QByteArray>("text");
        const QByteArray job = R"({"id":"a","experiment":"e","status":"DONE"})";
        QTest::newRow("repeated id") << QByteArray(
            R"({"items":[{"id":1,"id":"a","experiment":"e","status":"DONE"}],"next":null})");
        QTest::newRow("repeated items") << QByteArray(R"({"items":[],"items":[)" + job + R"(]})");
        QTest::newRow("escaped key") << QByteArray(
            "{\"items\":[{\"\\u0069d\":\"a\",\"experiment\":\"e\",\"status\":\"DONE\"}]}");
        QTest::newRow("escaped status")
            << QByteArray("{\"items\":[{\"id\":\"a\",\"experiment\":\"e\",\"status\":\"DON\\u0045\"}]}");
        QTest::newRow("unknown status")
            << QByteArray(R"({"items":[{"id":"a","experiment":"e","status":"PAUSED"}]})");
        QTest::newRow("hyperparameters list")
            << QByteArray(R"({"items":[{"id":"a","experiment":"e","status":"DONE","hyperparameters":[1]}]})");
        QTest::newRow("missing id") << QByteArray(R"({"items":[{"experiment":"e","status":"DONE"}]})");
        QTest::newRow("no items") << QByteArray(R"({"next":null})");
        QTest::newRow("next number") << QByteArray(R"({"items":[],"next":3})");
        QTest::newRow("trailing text") << QByteArray(R"({"items":[]} x)");
        QTest::newRow("not an object") << QByteArray(R"([])");
        QTest::newRow("bad json inside")
            << QByteArray(R"({"items":[{"id":"a","experiment":"e","status":"DONE","results":{"x":tru}}]})");
    }

    void stepsAsideWhereTheGeneralPathDecides()
    {
        QFETCH(QByteArray, text);
        QVERIFY(!detail::decodeJobPageFast(text));
    }

    void takesWhatTheGeneralPathTakes_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("escaped strings")
            << QByteArray("{\"items\":[{\"id\":\"a\\\"b\",\"experiment\":\"\\ud83d\\ude00/"
                          "x\",\"status\":\"DONE\",\"parent\":\"p\\n\"}],\"next\":\"c\\u0041\"}");
        QTest::newRow("null objects") << QByteArray(
            R"({"items":[{"id":"a","experiment":"e","status":"QUEUED","hyperparameters":null,"results":null}],"next":null})");
        QTest::newRow("odd extensions") << QByteArray(
            R"({"items":[{"id":"a","experiment":"e","status":"DONE","createdAt":"soon","generation":2.0,"member":5,"x":{"y":[NaN,-Infinity]}}],"total":1})");
        QTest::newRow("experiments change") << QByteArray(
            R"({"items":[{"id":"a","experiment":"e","status":"DONE"},{"id":"b","experiment":"f","status":"DONE"},)"
            R"({"id":"c","experiment":"e","status":"DONE"},{"id":"d","experiment":"","status":"DONE"},)"
            R"({"id":"e","experiment":"e","status":"DONE"}]})");
        QTest::newRow("spaces") << QByteArray(" {\n \"next\" : null ,\r\n \"items\" :\t[ ] } \n");
        QTest::newRow("invalid utf-8")
            << QByteArray("{\"items\":[{\"id\":\"a\xff\",\"experiment\":\"\xc3\",\"status\":\"DONE\"}]}");
    }

    void takesWhatTheGeneralPathTakes()
    {
        QFETCH(QByteArray, text);
        QVERIFY(agree(text));
    }

    void nestingLimitIsTheSame()
    {
        // json::parse refuses values nested more than 256 deep; the fast path must
        // draw the line at the same place (hyperparameters sit at depth 3).
        for (int extra : {250, 252, 253, 254, 255}) {
            const QByteArray nested = QByteArray(extra, '[') + QByteArray(extra, ']');
            const QByteArray text =
                R"({"items":[{"id":"a","experiment":"e","status":"DONE","results":{"deep":)" + nested +
                R"(}}]})";
            json::ParseError pe;
            json::parse(text, &pe);
            QCOMPARE(detail::decodeJobPageFast(text).has_value(), !pe.isError());
            QVERIFY(consistent(text));
        }
    }
};

QTEST_GUILESS_MAIN(TestPageDecoder)
#include "tst_pagedecoder.moc"
