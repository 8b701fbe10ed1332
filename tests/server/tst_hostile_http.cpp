// Issue 17, findings 1-3: hostile clients against the guard in front of Qt
// HttpServer, over real sockets to a real server on 127.0.0.1. Timeouts run
// on an injected clock; nothing sleeps.
#include "HttpGuard.h"
#include "Json.h"
#include "RawConnection.h"
#include "TestServer.h"

#include <QRandomGenerator>
#include <QTest>

using namespace schedy;
using namespace schedy::test;

namespace {

const QByteArray LoginBody = R"({"email":"nobody@example.com","token":"x"})";

} // namespace

class TestHostileHttp : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> m_server;
    QByteArray m_bearer;
    qint64 m_now = 1000000; // the guard's clock, in ms

    server::GuardedTcpServer *listener() const { return m_server->server()->http()->listener(); }

    // A request head with `extra` header lines, for POST token/.
    static QByteArray loginHead(const QByteArray &extra)
    {
        return "POST /token/ HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
    }

    // Sends a login request (head from `head`, then `body`) followed by a
    // request for a missing path. The guard and Qt must agree on where the
    // first request ends: the answers are either a refusal by the guard (a
    // 400 or 431, then the connection closes), nothing (Qt refused it and
    // closed), or exactly 403 and 404.
    QString framingProblem(const QByteArray &head, const QByteArray &body)
    {
        RawConnection c(m_server->port());
        if (!c.connected())
            return QStringLiteral("cannot connect");
        c.send(head + body + "GET /nowhere/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        const auto rs = c.responses(2, 3000);
        const bool closed = c.waitClosed(3000);
        if (!closed)
            return QStringLiteral("connection left open (%1 answers)").arg(rs.size());
        // A 400 may also come from the API (a body framed short is no JSON);
        // what must never happen is a connection left hanging or a status
        // that only a body framed differently explains.
        bool expected = true;
        for (const auto &r : rs)
            expected = expected && QList<int>{400, 403, 404, 411, 431}.contains(r.status);
        if (expected)
            return {};
        QStringList statuses;
        for (const auto &r : rs)
            statuses << QString::number(r.status);
        return QStringLiteral("answers %1").arg(statuses.join(QLatin1Char(' ')));
    }

private slots:
    void initTestCase()
    {
        server::ServerOptions options;
        options.limits.maxBodyBytes = 1024 * 1024;
        options.limits.unauthenticatedBodyBytes = 64 * 1024;
        options.limits.maxBodyBytesInFlight = 1536 * 1024;
        options.limits.maxConnectionsPerPeer = 6;
        options.limits.maxConnections = 8;
        m_server = std::make_unique<TestServer>(options);
        QString error;
        QVERIFY2(m_server->start(&error), qPrintable(error));
        listener()->setClock([this] { return m_now; });
        HttpTestClient http(m_server->root());
        QVERIFY(http.login(m_server->addUser(QStringLiteral("me@example.com"))));
        m_bearer = http.bearer;
    }

    void cleanupTestCase() { m_server.reset(); }

    void defaultBodyLimitIsWhatAJobNeeds() { QVERIFY(server::GuardLimits().maxBodyBytes <= 4 * 1024 * 1024); }

    // Finding 1: "Content-Length:" continued on a folded line passed the guard
    // as no body while Qt buffered a GiB.
    void foldedContentLengthIsRefused()
    {
        RawConnection c(m_server->port());
        c.send(loginHead("Content-Length:\r\n 1073741824\r\n"));
        c.send(QByteArray(64 * 1024, 'x'));
        const auto rs = c.responses(1);
        QCOMPARE(rs.size(), 1);
        QCOMPARE(rs[0].status, 400);
        QVERIFY2(rs[0].body.contains("folding"), rs[0].body.constData());
        QVERIFY(c.waitClosed());
    }

    void framingAgreesWithQt_data()
    {
        QTest::addColumn<QByteArray>("head");
        QTest::addColumn<QByteArray>("body");
        const QByteArray n = QByteArray::number(LoginBody.size());
        const QByteArray chunked =
            QByteArray::number(LoginBody.size(), 16) + "\r\n" + LoginBody + "\r\n0\r\n\r\n";
        auto row = [](const char *name, const QByteArray &head, const QByteArray &body) {
            QTest::newRow(name) << head << body;
        };
        row("plain", loginHead("Content-Length: " + n + "\r\n"), LoginBody);
        row("chunked", loginHead("Transfer-Encoding: chunked\r\n"), chunked);
        row("bare LF", QByteArray(loginHead("Content-Length: " + n + "\r\n")).replace("\r\n", "\n"),
            LoginBody);
        row("folded length", loginHead("Content-Length:\r\n " + n + "\r\n"), LoginBody);
        row("folded tab", loginHead("Content-Length: " + n + "\r\n\t5\r\n"), LoginBody);
        row("folded other header", loginHead("Content-Length: " + n + "\r\nX-A: 1\r\n 2\r\n"), LoginBody);
        row("two lengths", loginHead("Content-Length: " + n + "\r\nContent-Length: 5\r\n"), LoginBody);
        row("same length twice", loginHead("Content-Length: " + n + "\r\nContent-Length: " + n + "\r\n"),
            LoginBody);
        row("length list", loginHead("Content-Length: " + n + ", " + n + "\r\n"), LoginBody);
        row("plus sign", loginHead("Content-Length: +" + n + "\r\n"), LoginBody);
        row("hex length", loginHead("Content-Length: 0x" + QByteArray::number(LoginBody.size(), 16) + "\r\n"),
            LoginBody);
        row("space before colon", loginHead("Content-Length : " + n + "\r\n"), LoginBody);
        row("length and chunked", loginHead("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), chunked);
        row("gzip, chunked", loginHead("Transfer-Encoding: gzip, chunked\r\n"), chunked);
        row("chunked twice", loginHead("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
            chunked);
        row("chunk size 0x", loginHead("Transfer-Encoding: chunked\r\n"), "0x" + chunked);
        row("chunk size Z", loginHead("Transfer-Encoding: chunked\r\n"), "Z" + chunked);
        row("chunk no CRLF", loginHead("Transfer-Encoding: chunked\r\n"),
            QByteArray::number(LoginBody.size(), 16) + "\r\n" + LoginBody + "XX0\r\n\r\n");
        row("NUL in value", loginHead(QByteArray("X-A: a\0b\r\nContent-Length: ", 25) + n + "\r\n"),
            LoginBody);
        row("CR in value", loginHead("X-A: a\rb\r\nContent-Length: " + n + "\r\n"), LoginBody);
        row("upgrade",
            loginHead("Connection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: " + n + "\r\n"),
            LoginBody);
        row("huge head", loginHead("X-A: " + QByteArray(70000, 'a') + "\r\nContent-Length: " + n + "\r\n"),
            LoginBody);
        row("no colon", loginHead("Content-Length " + n + "\r\n"), LoginBody);
    }

    // Finding 1: for every head, the guard frames the request as Qt does or refuses it.
    void framingAgreesWithQt()
    {
        QFETCH(QByteArray, head);
        QFETCH(QByteArray, body);
        const QString problem = framingProblem(head, body);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    // Finding 1: random damage to a head (fixed seed, bounded count).
    void framingFuzz()
    {
        QRandomGenerator rng(17);
        const QList<QByteArray> pieces = {" ",
                                          "\t",
                                          "\r",
                                          "\n",
                                          "\r\n",
                                          "\r\n ",
                                          ":",
                                          ",",
                                          "0",
                                          "9",
                                          "+",
                                          "-",
                                          QByteArray(1, '\0'),
                                          "\x7f",
                                          "\xff",
                                          "Content-Length: 3\r\n",
                                          "Transfer-Encoding: chunked\r\n",
                                          "Content-Length: 99\r\n"};
        const QByteArray base = loginHead("Content-Length: " + QByteArray::number(LoginBody.size()) + "\r\n");
        for (int round = 0; round < 150; ++round) {
            QByteArray head = base;
            const int damages = 1 + int(rng.bounded(3));
            for (int d = 0; d < damages; ++d) {
                // Past the request line: damage there only makes Qt drop the connection.
                const int at = 23 + int(rng.bounded(int(head.size()) - 25));
                head.insert(at, pieces[int(rng.bounded(int(pieces.size())))]);
            }
            const QString problem = framingProblem(head, LoginBody);
            QVERIFY2(problem.isEmpty(), qPrintable(problem + QStringLiteral(" for head: ") +
                                                   QString::fromLatin1(head.toPercentEncoding(" :/,"))));
        }
    }

    // Finding 2: a large body without a valid bearer is refused before any of it is read.
    void largeBodyNeedsABearerFirst()
    {
        for (const QByteArray &auth :
             {QByteArray(), QByteArray("Authorization: Bearer forged.token.here\r\n")}) {
            RawConnection c(m_server->port());
            c.send("PUT /experiments/e/jobs/j/ HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth +
                   "Content-Length: 1000000\r\n\r\n");
            const auto rs = c.responses(1);
            QCOMPARE(rs.size(), 1);
            QCOMPARE(rs[0].status, 401);
            QCOMPARE(listener()->bodyBytesInFlight(), 0);
        }
        // With a bearer the same body is taken (and judged by the API).
        RawConnection c(m_server->port());
        c.send("PUT /experiments/e/jobs/j/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + m_bearer +
               "\r\nContent-Length: 1000000\r\n\r\n");
        c.send(QByteArray(1000000, ' '));
        const auto rs = c.responses(1);
        QCOMPARE(rs.size(), 1);
        QCOMPARE(rs[0].status, 400); // no JSON in it
    }

    // Finding 2: bodies in flight across connections are capped (503, retried by clients).
    void bodiesInFlightAreCapped()
    {
        const QByteArray head =
            "PUT /experiments/e/jobs/j/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + m_bearer +
            "\r\nContent-Length: 1000000\r\n\r\n";
        RawConnection first(m_server->port());
        first.send(head + QByteArray(500000, ' '));
        QVERIFY(QTest::qWaitFor([&] { return listener()->bodyBytesInFlight() == 1000000; }, 5000));
        RawConnection second(m_server->port());
        second.send(head);
        const auto rs = second.responses(1);
        QCOMPARE(rs.size(), 1);
        QCOMPARE(rs[0].status, 503);
        QCOMPARE(rs[0].header("Retry-After"), QByteArray("1"));
        first.send(QByteArray(500000, ' '));
        QCOMPARE(first.responses(1).value(0).status, 400);
        QCOMPARE(listener()->bodyBytesInFlight(), 0);
    }

    // Finding 3: silent, half-sent head, half-sent body, idle keep-alive: all closed in time.
    void timeouts()
    {
        RawConnection silent(m_server->port());
        RawConnection halfHead(m_server->port());
        halfHead.send("GET /experiments/ HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        RawConnection halfBody(m_server->port());
        halfBody.send("PUT /experiments/e/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + m_bearer +
                      "\r\nContent-Length: 100\r\n\r\n{");
        RawConnection idle(m_server->port());
        idle.send("GET /experiments/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + m_bearer +
                  "\r\n\r\n");
        QCOMPARE(idle.responses(1).value(0).status, 200);
        QVERIFY(QTest::qWaitFor([&] { return listener()->connectionCount() == 4; }, 5000));

        m_now += 59000;
        listener()->sweep();
        QVERIFY(!silent.waitClosed(200) && !halfHead.closed() && !halfBody.closed() && !idle.closed());
        m_now += 2000; // 61 s: the head and body timeouts (60 s) have passed
        listener()->sweep();
        QVERIFY(silent.waitClosed());
        QVERIFY(halfHead.waitClosed());
        QVERIFY(halfBody.waitClosed());
        QVERIFY(!idle.closed());
        m_now += 15000; // 76 s: the keep-alive timeout (75 s) too
        listener()->sweep();
        QVERIFY(idle.waitClosed());
        QCOMPARE(listener()->bodyBytesInFlight(), 0);
    }

    // Finding 3: at the per-peer cap, connections that never sent a head make
    // room; an established worker keeps being served, and so does a new client.
    void connectionCaps()
    {
        QVERIFY(QTest::qWaitFor([&] { return listener()->connectionCount() == 0; }, 5000));
        const QByteArray get =
            "GET /experiments/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + m_bearer + "\r\n\r\n";
        RawConnection worker(m_server->port());
        worker.send(get);
        QCOMPARE(worker.responses(1).value(0).status, 200);
        std::vector<std::unique_ptr<RawConnection>> silent;
        for (int i = 0; i < 12; ++i)
            silent.push_back(std::make_unique<RawConnection>(m_server->port()));
        QVERIFY(QTest::qWaitFor([&] { return silent.front()->closed(); }, 5000));
        QVERIFY(QTest::qWaitFor([&] { return listener()->connectionCount() <= 6; }, 5000));
        worker.send(get);
        QCOMPARE(worker.responses(2).value(1).status, 200);
        RawConnection newcomer(m_server->port());
        newcomer.send(get);
        QCOMPARE(newcomer.responses(1).value(0).status, 200);
        QVERIFY(listener()->connectionCount() <= 6);
    }
};

QTEST_MAIN(TestHostileHttp)
#include "tst_hostile_http.moc"
