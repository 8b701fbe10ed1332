// Issue 17, findings 4, 5, 11 (bearers) and 12: logins under attack, bearer
// lifetimes, exact names. Real sockets to a real server on 127.0.0.1; clocks
// are injected, nothing sleeps.
#include "Auth.h"
#include "Json.h"
#include "RawConnection.h"
#include "Server.h"
#include "SqlStore.h"
#include "TestServer.h"

#include <QDateTime>
#include <QScopeGuard>
#include <QSemaphore>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

#include <tuple>

using namespace schedy;
using namespace schedy::test;

class TestHostileAuth : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> m_server;
    ClientConfig m_me;
    qint64 m_monotonic = 5000000;

    server::Api *api() const { return m_server->server()->api(); }
    server::HttpServer *http() const { return m_server->server()->http(); }

    Reply passauth(const QString &email, const QString &password)
    {
        HttpTestClient c(m_server->root());
        return c.post(
            QStringLiteral("passauth/"),
            json::write(QCborMap{{QStringLiteral("email"), email}, {QStringLiteral("token"), password}}));
    }

private slots:
    void initTestCase()
    {
        m_server = std::make_unique<TestServer>();
        QString error;
        QVERIFY2(m_server->start(&error), qPrintable(error));
        m_me = m_server->addUser(QStringLiteral("me@example.com"), QStringLiteral("my password"));
        m_server->addUser(QStringLiteral("tokenonly@example.com"));
        api()->setMonotonicClock([this] { return m_monotonic; });
    }

    void cleanupTestCase() { m_server.reset(); }

    void init() { m_monotonic += 3600 * 1000; } // every test starts with full failure budgets

    // Finding 4: a password being hashed does not hold up other requests.
    void hashingDoesNotBlockRequests()
    {
        QSemaphore release;
        const auto restore =
            qScopeGuard([this] { http()->setPasswordChecker(&server::PasswordCheck::check); });
        http()->setPasswordChecker([&release](const server::PasswordCheck &c) {
            release.tryAcquire(1, 20000); // held until the other request is answered
            return c.check();
        });
        RawConnection login(m_server->port());
        const QByteArray body = R"({"email":"me@example.com","token":"wrong"})";
        login.send("POST /passauth/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                   QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QVERIFY(QTest::qWaitFor([&] { return http()->pendingChecks() == 1; }, 5000));
        HttpTestClient worker(m_server->root());
        QVERIFY(worker.login(m_me));
        QCOMPARE(worker.get(QStringLiteral("experiments/")).status, 200);
        QVERIFY(login.responses(1, 100).isEmpty());
        release.release();
        QCOMPARE(login.responses(1, 60000).value(0).status, 403); // the hash runs at a low priority
    }

    // Finding 4: failed password logins are limited per email, then per peer, with 429 + Retry-After.
    void failedLoginsAreRateLimited()
    {
        // The limits are what is tested here, not the hash: skip its cost.
        const auto restore =
            qScopeGuard([this] { http()->setPasswordChecker(&server::PasswordCheck::check); });
        http()->setPasswordChecker(
            [](const server::PasswordCheck &) { return server::PasswordCheck::Result{}; });
        for (int i = 0; i < server::Api::EmailBurst; ++i)
            QCOMPARE(passauth(m_me.email, QStringLiteral("guess %1").arg(i)).status, 403);
        Reply r = passauth(m_me.email, QStringLiteral("another guess"));
        QCOMPARE(r.status, 429);
        const int wait = r.header("Retry-After").toInt();
        QVERIFY2(wait >= 1 && wait <= server::Api::EmailRefillMs / 1000, r.header("Retry-After").constData());
        QCOMPARE(passauth(m_me.email.toUpper(), QStringLiteral("x")).status, 429); // emails are case-blind
        // An API token login is not limited by password failures.
        HttpTestClient tokenClient(m_server->root());
        QVERIFY(tokenClient.login(m_me));
        m_monotonic += server::Api::EmailRefillMs;
        QCOMPARE(passauth(m_me.email, QStringLiteral("after the wait")).status, 403);
        QCOMPARE(passauth(m_me.email, QStringLiteral("too soon")).status, 429);

        // Per peer: many emails from one address.
        m_monotonic += 3600 * 1000;
        int refused = 0;
        for (int i = 0; i < server::Api::PeerBurst + 1; ++i)
            refused += passauth(QStringLiteral("u%1@example.com").arg(i), QStringLiteral("x")).status == 429;
        QCOMPARE(refused, 1);
    }

    // Finding 5: an unknown email, a user without a password and a wrong
    // password cost the same PBKDF2 work as a right one.
    void sameWorkForEveryEmail()
    {
        auto work = [&](const QString &email, const QString &password, int status) {
            const qint64 before = server::pbkdf2IterationsRun();
            const Reply r = passauth(email, password);
            if (r.status != status)
                qWarning() << r.status << r.body;
            return r.status == status ? server::pbkdf2IterationsRun() - before : -1;
        };
        const qint64 right = work(m_me.email, QStringLiteral("my password"), 200);
        QCOMPARE(right, qint64(TestServer::PasswordIterations)); // the server's count
        QCOMPARE(work(m_me.email, QStringLiteral("wrong"), 403), right);
        QCOMPARE(work(QStringLiteral("nobody@example.com"), QStringLiteral("my password"), 403), right);
        QCOMPARE(work(QStringLiteral("tokenonly@example.com"), QStringLiteral("my password"), 403), right);
    }

    // Finding 4: OWASP's iteration count, and older hashes are upgraded at login
    // (here to the test server's count; tst_api's user-add test sees 600,000
    // in a hash made by schedy-server).
    void oldHashesAreUpgradedOnLogin()
    {
        QCOMPARE(server::DefaultPasswordIterations, 600000);
        QCOMPARE(server::ServerOptions().passwordIterations, 600000);
        QVERIFY(
            m_server->server()
                ->store()
                ->addUser(QStringLiteral("old@example.com"),
                          server::hashPassword(QStringLiteral("old pw"), TestServer::PasswordIterations / 10),
                          server::hashApiToken(QStringLiteral("t")))
                .ok());
        QCOMPARE(passauth(QStringLiteral("old@example.com"), QStringLiteral("old pw")).status, 200);
        const auto user = m_server->server()->store()->userByEmail(QStringLiteral("old@example.com"));
        QVERIFY(user.ok());
        QCOMPARE(server::passwordIterations(user.value.passwordHash), TestServer::PasswordIterations);
        QCOMPARE(passauth(QStringLiteral("old@example.com"), QStringLiteral("old pw")).status, 200);
    }

    // Finding 11: a bearer issued while the clock was ahead, or one claiming a
    // long life, lives no longer than the lifetime from its issue time.
    void bearerLifetimeIsBoundedByIssueTime()
    {
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        HttpTestClient ahead(m_server->root());
        api()->setClock([now] { return now + 365 * 86400; });
        QVERIFY(ahead.login(m_me));
        api()->setClock([] { return QDateTime::currentSecsSinceEpoch(); });
        const Reply r = ahead.get(QStringLiteral("experiments/"));
        QCOMPARE(r.status, 401);

        const server::TokenSigner longLived(m_server->server()->store()->secret(), 365 * 86400);
        HttpTestClient forged(m_server->root());
        forged.bearer = longLived.issue(1, m_me.email, now - 2 * 3600, nullptr);
        QCOMPARE(forged.get(QStringLiteral("experiments/")).status, 401);
        forged.bearer = longLived.issue(1, m_me.email, now - 60, nullptr);
        QCOMPARE(forged.get(QStringLiteral("experiments/")).status, 200); // within an hour of its issue
    }

    // Finding 10: a token reset revokes at once every bearer issued before it,
    // by API token or password, and the old bearer cannot reset again.
    void tokenResetRevokesEarlierBearers()
    {
        const ClientConfig user = m_server->addUser(QStringLiteral("reset@example.com"));
        const auto restore =
            qScopeGuard([this] { http()->setPasswordChecker(&server::PasswordCheck::check); });
        HttpTestClient byToken(m_server->root()), second(m_server->root());
        QVERIFY(byToken.login(user));
        QVERIFY(second.login(user));
        QCOMPARE(byToken.get(QStringLiteral("experiments/")).status, 200);
        QCOMPARE(second.get(QStringLiteral("experiments/")).status, 200);

        const Reply reset = byToken.post(QStringLiteral("resettoken/"));
        QCOMPARE(reset.status, 200);
        const QString newToken = reset.json.toMap().value(QStringLiteral("token")).toString();
        QVERIFY(!newToken.isEmpty());
        for (HttpTestClient *old : {&byToken, &second}) {
            const Reply r = old->get(QStringLiteral("experiments/"));
            QCOMPARE(r.status, 401);
            QVERIFY2(r.errorText().contains(QLatin1String("revoked")), r.body.constData());
            // Nor can it mint a token of its own, which would revoke the new one.
            QCOMPARE(old->post(QStringLiteral("resettoken/")).status, 401);
            // Nor send a body larger than what an unauthenticated request may.
            QCOMPARE(old->put(QStringLiteral("experiments/x/"), QByteArray(100 * 1024, ' ')).status, 401);
        }
        ClientConfig renewed = user;
        renewed.token = newToken;
        QVERIFY(!byToken.login(user)); // the old API token is gone too
        HttpTestClient fresh(m_server->root());
        QVERIFY(fresh.login(renewed));
        QCOMPARE(fresh.get(QStringLiteral("experiments/")).status, 200);

        // `schedy-server user reset-token` (the administrator's way) revokes the same way.
        QString error;
        const auto admin =
            server::resetUserToken(*m_server->server()->store(), user.email, m_server->root(), &error);
        QVERIFY2(admin, qPrintable(error));
        QCOMPARE(fresh.get(QStringLiteral("experiments/")).status, 401);
        QVERIFY(!fresh.login(renewed));
        HttpTestClient afterAdmin(m_server->root());
        QVERIFY(afterAdmin.login(*admin));
        QCOMPARE(afterAdmin.get(QStringLiteral("experiments/")).status, 200);
        // Other users' bearers are untouched.
        HttpTestClient other(m_server->root());
        QVERIFY(other.login(m_me));
        QCOMPARE(other.get(QStringLiteral("experiments/")).status, 200);
    }

    // Finding 10: a bearer of a user removed from the database is refused.
    void bearerOfAGoneUserIsRefused()
    {
        const ClientConfig user = m_server->addUser(QStringLiteral("gone@example.com"));
        HttpTestClient c(m_server->root());
        QVERIFY(c.login(user));
        QSqlQuery q(m_server->server()->store()->database());
        QVERIFY(q.prepare(QStringLiteral("DELETE FROM users WHERE email = ?")));
        q.addBindValue(user.email);
        QVERIFY2(q.exec(), qPrintable(q.lastError().text()));
        const Reply r = c.get(QStringLiteral("experiments/"));
        QCOMPARE(r.status, 401);
        QVERIFY2(r.errorText().contains(QLatin1String("no longer exists")), r.body.constData());
    }

    // One request with the target exactly as given (a client's QUrl could
    // rewrite it), authenticated by `bearer`.
    RawConnection::Response raw(const QByteArray &bearer, const QByteArray &method, const QByteArray &target,
                                const QByteArray &body = {}, const QByteArray &headers = {})
    {
        RawConnection c(m_server->port());
        c.send(method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + bearer +
               "\r\n" + headers + "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        return c.responses(1, 20000).value(0);
    }
    static QCborMap map(const RawConnection::Response &r) { return json::parse(r.body).toMap(); }

    // Finding 12: a name with a leading byte-order mark never reaches another
    // name: Qt's drivers drop a leading U+FEFF, so such names are refused.
    void namesAreDecodedExactly()
    {
        HttpTestClient c(m_server->root());
        QVERIFY(c.login(m_me));
        const QByteArray running = R"({"status":"RUNNING","scheduler":{"Manual":null}})";
        const QByteArray done = R"({"status":"DONE","scheduler":{"Manual":null}})";
        QCOMPARE(raw(c.bearer, "PUT", "/experiments/secret/", running).status, 201);
        QCOMPARE(raw(c.bearer, "PUT", "/experiments/secret/jobs/j/", R"({"status":"QUEUED"})").status, 201);
        // Percent-encoded or as raw UTF-8 bytes in the target, by every method.
        for (const QByteArray &bom : {QByteArray("%EF%BB%BF"), QByteArray("\xEF\xBB\xBF")}) {
            const QByteArray exp = "/experiments/" + bom + "secret/";
            for (const auto &[method, target, body] :
                 {std::tuple<QByteArray, QByteArray, QByteArray>{"PUT", exp, done},
                  {"GET", exp, {}},
                  {"DELETE", exp, {}},
                  {"GET", exp + "jobs/", {}},
                  {"POST", exp + "jobs/", R"({"status":"QUEUED"})"},
                  {"GET", exp + "nextjob/", {}},
                  {"PUT", "/experiments/secret/jobs/" + bom + "j/", R"({"status":"DONE"})"},
                  {"GET", "/experiments/secret/jobs/" + bom + "j/", {}},
                  {"DELETE", "/experiments/secret/jobs/" + bom + "j/", {}}}) {
                const auto r = raw(c.bearer, method, target, body);
                QVERIFY2(r.status == 400, QByteArray(method + ' ' + target).constData());
                QVERIFY2(map(r)
                             .value(QStringLiteral("error"))
                             .toString()
                             .contains(QLatin1String("byte-order mark")),
                         r.body.constData());
            }
        }
        const QCborMap secret = map(raw(c.bearer, "GET", "/experiments/secret/"));
        QCOMPARE(secret.value(QStringLiteral("status")).toString(), QStringLiteral("RUNNING"));
        const QCborMap job = map(raw(c.bearer, "GET", "/experiments/secret/jobs/j/"));
        QCOMPARE(job.value(QStringLiteral("status")).toString(), QStringLiteral("QUEUED"));
        QCOMPARE(map(raw(c.bearer, "GET", "/experiments/secret/jobs/"))
                     .value(QStringLiteral("items"))
                     .toArray()
                     .size(),
                 1);
        // A mark inside a name is an ordinary character, kept exactly.
        const auto inner = raw(c.bearer, "PUT", "/experiments/se%EF%BB%BFcret/", done);
        QCOMPARE(inner.status, 201);
        QCOMPARE(map(inner).value(QStringLiteral("name")).toString(), QStringLiteral("se\uFEFFcret"));
    }

    // Finding 12: client-chosen job ids stay safe as file names: no path
    // separator, no '.' or '..' (free-form otherwise, docs/protocol.md).
    void unsafeJobIdsAreRefused()
    {
        HttpTestClient c(m_server->root());
        QVERIFY(c.login(m_me));
        QCOMPARE(
            raw(c.bearer, "PUT", "/experiments/ids/", R"({"status":"RUNNING","scheduler":{"Manual":null}})")
                .status,
            201);
        for (const char *id :
             {"..%2Fx", "a%2Fb", "%2Fetc", "a%5Cb", "..%5Cx", "%2E%2E", "%2E", "a%0Ab", "%EF%BB%BFa"}) {
            for (const QByteArray &condition : {QByteArray("If-None-Match: *\r\n"), QByteArray()}) {
                const auto r = raw(c.bearer, "PUT", "/experiments/ids/jobs/" + QByteArray(id) + '/',
                                   R"({"status":"QUEUED"})", condition);
                QVERIFY2(r.status == 400, id);
                QVERIFY2(!map(r).value(QStringLiteral("error")).toString().isEmpty(), id);
            }
        }
        // Everything else is the client's choice, kept exactly.
        QStringList kept;
        for (const char *id : {"Ok_id-1", "a%20b", "x.y", "%C3%A9", "a%EF%BB%BF", "a"}) {
            const auto r = raw(c.bearer, "PUT", "/experiments/ids/jobs/" + QByteArray(id) + '/',
                               R"({"status":"QUEUED"})", "If-None-Match: *\r\n");
            QVERIFY2(r.status == 201, id);
            kept << map(r).value(QStringLiteral("id")).toString();
        }
        QCOMPARE(kept,
                 QStringList({QStringLiteral("Ok_id-1"), QStringLiteral("a b"), QStringLiteral("x.y"),
                              QStringLiteral("\u00e9"), QStringLiteral("a\uFEFF"), QStringLiteral("a")}));
        QCOMPARE(map(raw(c.bearer, "GET", "/experiments/ids/jobs/"))
                     .value(QStringLiteral("items"))
                     .toArray()
                     .size(),
                 6);
    }
};

QTEST_MAIN(TestHostileAuth)
#include "tst_hostile_auth.moc"
