// Issue 17, finding 6: a database that fails is never "not found" or "wrong
// credentials". Every request that needs the database answers 503 with
// Retry-After (which every client retries) while it fails, the outage is logged
// once with its cause, and everything works again as soon as the database does.
//
// PostgreSQL fails for real: the server's connections are terminated and the
// database refuses new ones, as while it restarts. SQLite cannot be made to fail
// a read under an open WAL connection (every connection holds a shared lock, so
// no other can take an exclusive one), so there every statement fails with an
// injected SQLITE_IOERR (SqlStore::setInjectedFailure), which goes through the
// same classification as a real one; disk full is real in tst_diskfull.
#include "Json.h"
#include "TestServer.h"

#include <QMutex>
#include <QMutexLocker>
#include <QSqlError>
#include <QTest>
#include <QUrl>

using namespace schedy;
using namespace schedy::test;

namespace {

QMutex logMutex;
QStringList logLines;
QtMessageHandler previousHandler = nullptr;

void captureLog(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    {
        QMutexLocker lock(&logMutex);
        logLines << message;
    }
    if (previousHandler)
        previousHandler(type, context, message);
}

int logCount(const QString &part)
{
    QMutexLocker lock(&logMutex);
    int n = 0;
    for (const QString &line : std::as_const(logLines))
        n += line.contains(part) ? 1 : 0;
    return n;
}

const QByteArray ExperimentBody = R"({"status": "RUNNING", "scheduler": {"Manual": null}})";

} // namespace

class TestDbFailure : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> m_server;
    ClientConfig m_me;

    QString databaseName() const { return QUrl(m_server->databaseUrl()).path().mid(1); }

    // The database fails from now on.
    bool breakDatabase(QString *error)
    {
        if (!testingPostgres()) {
            m_server->server()->store()->setInjectedFailure(
                QSqlError(QStringLiteral("disk I/O error (injected by tst_dbfailure)"),
                          QStringLiteral("disk I/O error"), QSqlError::StatementError, QStringLiteral("10")));
            return true;
        }
        // The server's connection is gone (pg_terminate_backend waits until it is)
        // and a new one is refused until repairDatabase().
        const QString db = databaseName();
        return postgresAdminExec(QStringLiteral("ALTER DATABASE \"%1\" ALLOW_CONNECTIONS false").arg(db),
                                 error) &&
               postgresAdminExec(
                   QStringLiteral("SELECT pg_terminate_backend(pid, 30000) FROM pg_stat_activity "
                                  "WHERE datname = '%1' AND pid <> pg_backend_pid()")
                       .arg(db),
                   error);
    }

    bool repairDatabase(QString *error)
    {
        if (!testingPostgres()) {
            m_server->server()->store()->setInjectedFailure(std::nullopt);
            return true;
        }
        return postgresAdminExec(
            QStringLiteral("ALTER DATABASE \"%1\" ALLOW_CONNECTIONS true").arg(databaseName()), error);
    }

    static QByteArray loginBody(const QString &email, const QString &secret)
    {
        return json::write(QCborMap{{QStringLiteral("email"), email}, {QStringLiteral("token"), secret}});
    }

private slots:
    void initTestCase()
    {
        previousHandler = qInstallMessageHandler(captureLog);
        server::ServerOptions o;
        o.lostCheckMs = 0;           // no background query during the outage
        o.passwordIterations = 1000; // the hash is not what is tested
        m_server = std::make_unique<TestServer>(o);
        QString error;
        QVERIFY2(m_server->start(&error), qPrintable(error));
        m_me = m_server->addUser(QStringLiteral("me@example.com"), QStringLiteral("my password"));
    }

    void cleanupTestCase()
    {
        QString error;
        if (m_server && testingPostgres())
            repairDatabase(&error); // so that the test database can be dropped
        m_server.reset();
        qInstallMessageHandler(previousHandler);
    }

    void failedDatabaseAnswers503()
    {
        HttpTestClient http(m_server->root());
        QVERIFY(http.login(m_me));
        Reply r = http.put(QStringLiteral("experiments/exp/"), ExperimentBody);
        QCOMPARE(r.status, 201);
        const QByteArray experimentEtag = r.header("ETag");
        r = http.post(QStringLiteral("experiments/exp/jobs/"), R"({"hyperparameters": {"x": 1}})");
        QCOMPARE(r.status, 201);
        const QString job = r.json.toMap().value(QStringLiteral("id")).toString();
        const QByteArray jobEtag = r.header("ETag");
        const QString jobPath = QStringLiteral("experiments/exp/jobs/%1/").arg(job);
        const QString before = m_server->dumpTables();

        QString error;
        QVERIFY2(breakDatabase(&error), qPrintable(error));
        struct Case
        {
            const char *what; // and what it answered before the fix
            QByteArray method;
            QString path;
            QByteArray body;
            QHash<QByteArray, QByteArray> headers;
        };
        const QList<Case> cases = {
            {"API token login (was 403)",
             "POST",
             QStringLiteral("token/"),
             loginBody(m_me.email, m_me.token),
             {}},
            {"password login (was 403)",
             "POST",
             QStringLiteral("passauth/"),
             loginBody(m_me.email, QStringLiteral("my password")),
             {}},
            {"login of an unknown email (was 403)",
             "POST",
             QStringLiteral("token/"),
             loginBody(QStringLiteral("nobody@example.com"), QStringLiteral("x")),
             {}},
            {"token reset (was 401)", "POST", QStringLiteral("resettoken/"), {}, {}},
            {"experiment listing", "GET", QStringLiteral("experiments/"), {}, {}},
            {"experiment (was 404)", "GET", QStringLiteral("experiments/exp/"), {}, {}},
            {"missing experiment (was 404)", "GET", QStringLiteral("experiments/missing/"), {}, {}},
            {"experiment save with If-Match (was 412)",
             "PUT",
             QStringLiteral("experiments/exp/"),
             ExperimentBody,
             {{"If-Match", experimentEtag}}},
            {"job listing (was 404)", "GET", QStringLiteral("experiments/exp/jobs/"), {}, {}},
            {"job (was 404)", "GET", jobPath, {}, {}},
            {"nextjob (was 404)", "GET", QStringLiteral("experiments/exp/nextjob/"), {}, {}},
            {"claim (was 404)",
             "PUT",
             jobPath,
             R"({"status": "RUNNING", "hyperparameters": {"x": 1}})",
             {{"If-Match", jobEtag}}},
            {"heartbeat (was 404)",
             "POST",
             jobPath + QStringLiteral("heartbeat/"),
             {},
             {{"If-Match", jobEtag}}},
            {"new job (was 404)", "POST", QStringLiteral("experiments/exp/jobs/"), "{}", {}},
            {"job delete (was 204: gone)", "DELETE", jobPath, {}, {}},
            {"experiment delete (was 204: gone)", "DELETE", QStringLiteral("experiments/exp/"), {}, {}},
        };
        for (const Case &c : cases) {
            const Reply a = http.request(c.method, c.path, c.body, c.headers);
            QVERIFY2(
                a.status == 503,
                qPrintable(
                    QStringLiteral("%1: %2 %3").arg(QLatin1String(c.what)).arg(a.status).arg(a.errorText())));
            QVERIFY2(!a.header("Retry-After").isEmpty(), c.what);
            QVERIFY2(a.errorText().contains(QLatin1String("database is unavailable")),
                     qPrintable(a.errorText()));
        }
        // Said once, with its cause, however many requests it failed.
        QCOMPARE(logCount(QStringLiteral("the database is unavailable (")), 1);
        QVERIFY(logCount(QStringLiteral("connection was lost")) <= 1);

        QVERIFY2(repairDatabase(&error), qPrintable(error));
        QCOMPARE(http.get(QStringLiteral("experiments/exp/")).status, 200);
        QCOMPARE(logCount(QStringLiteral("the database works again")), 1);
        // Nothing of what was refused was applied.
        QCOMPARE(m_server->dumpTables(), before);
        HttpTestClient again(m_server->root());
        QVERIFY(again.login(m_me));
        QCOMPARE(again.get(jobPath).header("ETag"), jobEtag);
        QCOMPARE(again.get(QStringLiteral("experiments/missing/")).status, 404);
    }
};

QTEST_GUILESS_MAIN(TestDbFailure)
#include "tst_dbfailure.moc"
