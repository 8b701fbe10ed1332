// `schedy run` against the real schedy-server binary on 127.0.0.1 (docs/protocol.md
// 8.2, 8.3), on SQLite and PostgreSQL: a worker killed with SIGKILL (its node lost)
// loses its job after the lease, and another worker finishes the replacement; a
// job the median rule prunes stops its command, and `run` exits 10. Nothing
// sleeps: the test waits on the server's state, with generous timeouts.
#include "ClientConfig.h"
#include "Json.h"
#include "Server.h"
#include "SqlStore.h"
#include "TestServer.h"

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <memory>
#include <signal.h>
#include <unistd.h>

using namespace schedy;
using namespace schedy::test;

namespace {

constexpr int ExitJobStopped = 10; // docs/cli.md

QString expPath(const QString &name)
{
    return QStringLiteral("experiments/") + enc(name) + QLatin1Char('/');
}
QString jobPath(const QString &exp, const QString &id)
{
    return expPath(exp) + QStringLiteral("jobs/") + enc(id) + QLatin1Char('/');
}
QString str(const QCborMap &doc, const char *key)
{
    return doc.value(QString::fromLatin1(key)).toString();
}

} // namespace

class tst_RunLost : public QObject
{
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir; // per test: a fresh SQLite database
    std::unique_ptr<PostgresDatabase> m_postgres;
    std::unique_ptr<ServerProcess> m_server;
    QString m_root;
    QString m_config;
    std::unique_ptr<HttpTestClient> m_http;
    std::vector<std::unique_ptr<QProcess>> m_workers;

    // A `schedy run` in a process group of its own, as on a node of its own:
    // killing the group kills the worker and its training command at once.
    QProcess *startWorker(const QStringList &args)
    {
        auto p = std::make_unique<QProcess>();
        p->setProgram(QStringLiteral(SCHEDY_BIN));
        p->setArguments(QStringList{QStringLiteral("--config"), m_config} + args);
        p->setChildProcessModifier([] { ::setpgid(0, 0); });
        p->start();
        m_workers.push_back(std::move(p));
        return m_workers.back().get();
    }

    QCborMap job(const QString &exp, const QString &id) { return m_http->get(jobPath(exp, id)).json.toMap(); }

private slots:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        QString url;
        if (testingPostgres()) {
            m_postgres = std::make_unique<PostgresDatabase>();
            QVERIFY2(m_postgres->ok(), qPrintable(m_postgres->error()));
            url = m_postgres->url();
        } else {
            url = QStringLiteral("sqlite:") + m_dir->filePath(QStringLiteral("schedy.sqlite3"));
        }
        // Lost jobs are looked for every 50 ms, not every few seconds.
        m_server = std::make_unique<ServerProcess>(url);
        m_server->launch(
            freePort(), {QStringLiteral("--quiet"), QStringLiteral("--lost-check-ms"), QStringLiteral("50")});
        QString error;
        QVERIFY2(m_server->waitUntilReady(&error), qPrintable(error));
        m_root = QStringLiteral("http://127.0.0.1:%1/").arg(m_server->port());
        {
            server::SqlStore store(url);
            QVERIFY2(store.open(&error), qPrintable(error));
            const auto config =
                server::addUser(store, QStringLiteral("runlost@example.com"), {}, m_root, &error);
            QVERIFY2(config, qPrintable(error));
            m_config = m_dir->filePath(QStringLiteral("client.json"));
            QVERIFY2(config->save(m_config, &error), qPrintable(error));
            m_http = std::make_unique<HttpTestClient>(m_root);
            QVERIFY(m_http->login(*config));
        }
    }

    void cleanup()
    {
        for (auto &w : m_workers) {
            if (w->state() != QProcess::NotRunning) {
                ::kill(-pid_t(w->processId()), SIGKILL);
                waitForExit(*w, 30000);
            }
        }
        m_workers.clear();
        m_http.reset();
        if (m_server)
            QVERIFY2(m_server->stop(), m_server->output().constData());
        m_server.reset();
        m_postgres.reset();
    }

    void aKilledWorkersJobIsFinishedByAnother()
    {
        const QString exp = QStringLiteral("killed");
        // A 1 s lease: the worker heartbeats every 333 ms while it lives.
        QCOMPARE(m_http
                     ->put(expPath(exp), R"({"status": "RUNNING", "scheduler": {"Manual": null}, )"
                                         R"("lease": {"seconds": 1, "retries": 1}})")
                     .status,
                 201);
        const Reply posted =
            m_http->post(expPath(exp) + QStringLiteral("jobs/"), R"({"hyperparameters": {"x": 3}})");
        QCOMPARE(posted.status, 201);
        const QString lostId = str(posted.json.toMap(), "id");

        QProcess *doomed =
            startWorker({QStringLiteral("run"), QStringLiteral("--once"), exp, QStringLiteral(SCHEDY_TOY_JOB),
                         QStringLiteral("curve"), m_dir->path()});
        // Its command runs and has reported once.
        QTRY_VERIFY_WITH_TIMEOUT(
            job(exp, lostId).value(QStringLiteral("results")).toMap().contains(QStringLiteral("loss")),
            60000);
        QCOMPARE(str(job(exp, lostId), "status"), QStringLiteral("RUNNING"));
        // The node dies: the worker and its command, without a word to the server.
        QCOMPARE(::kill(-pid_t(doomed->processId()), SIGKILL), 0);
        QVERIFY(waitForExit(*doomed, 30000));
        QCOMPARE(doomed->exitStatus(), QProcess::CrashExit);

        // Within the lease and a check, the server declares it lost and queues a replacement.
        QTRY_COMPARE_WITH_TIMEOUT(str(job(exp, lostId), "status"), QStringLiteral("CRASHED"), 60000);
        const QCborMap lost = job(exp, lostId);
        QVERIFY(lost.value(QStringLiteral("lostAt")).isDouble());
        const QString replacement = str(lost, "replacedBy");
        QVERIFY(!replacement.isEmpty());
        QCOMPARE(m_http->get(expPath(exp)).json.toMap().value(QStringLiteral("lostJobs")).toInteger(), 1);

        // Another worker takes the replacement first and finishes it.
        QProcess *other =
            startWorker({QStringLiteral("run"), QStringLiteral("--once"), exp, QStringLiteral(SCHEDY_TOY_JOB),
                         QStringLiteral("succeed"), QStringLiteral("%h"), QStringLiteral("%j")});
        QVERIFY(waitForExit(*other, 120000));
        const QByteArray err = other->readAllStandardError();
        QCOMPARE(other->exitStatus(), QProcess::NormalExit);
        QVERIFY2(other->exitCode() == 0, err.constData());
        QVERIFY2(err.contains(QByteArray("schedy: job " + replacement.toUtf8() + " DONE")), err.constData());
        const QCborMap done = job(exp, replacement);
        QCOMPARE(str(done, "status"), QStringLiteral("DONE"));
        QCOMPARE(str(done, "replaces"), lostId);
        QCOMPARE(done.value(QStringLiteral("hyperparameters")).toMap(),
                 lost.value(QStringLiteral("hyperparameters")).toMap());
        QCOMPARE(done.value(QStringLiteral("results")).toMap().value(QStringLiteral("loss")).toDouble(), 4.0);
        // The lost job stays lost.
        QCOMPARE(str(job(exp, lostId), "status"), QStringLiteral("CRASHED"));
    }

    void aPrunedJobStopsItsCommand()
    {
        const QString exp = QStringLiteral("pruned");
        QCOMPARE(m_http
                     ->put(expPath(exp), R"({"status": "RUNNING", "scheduler": {"Manual": null}, )"
                                         R"("pruner": {"kind": "median", "result": "loss", )"
                                         R"("direction": "minimize", "startupJobs": 1}})")
                     .status,
                 201);
        // One DONE job to compare with: 0.1 at step 1.
        QCOMPARE(
            m_http
                ->post(expPath(exp) + QStringLiteral("jobs/"),
                       R"({"status": "DONE", "hyperparameters": {"x": 1}, "results": {"loss": [0.1, 0.05]}})")
                .status,
            201);
        const Reply posted =
            m_http->post(expPath(exp) + QStringLiteral("jobs/"), R"({"hyperparameters": {"x": 2}})");
        QCOMPARE(posted.status, 201);
        const QString id = str(posted.json.toMap(), "id");

        // Its first report (loss [0.9]) is worse than the median: pruned at step 1.
        QProcess *worker =
            startWorker({QStringLiteral("run"), QStringLiteral("--once"), exp, QStringLiteral(SCHEDY_TOY_JOB),
                         QStringLiteral("curve"), m_dir->path()});
        QVERIFY(waitForExit(*worker, 120000));
        const QByteArray err = worker->readAllStandardError();
        QCOMPARE(worker->exitStatus(), QProcess::NormalExit);
        QVERIFY2(worker->exitCode() == ExitJobStopped, err.constData());
        QVERIFY2(err.contains(QByteArray(
                     "schedy: job " + id.toUtf8() +
                     " was pruned by the server at step 1 by the median rule: 0.9, worse than 0.1")),
                 err.constData());
        // The command was asked to stop with SIGTERM (the toy job writes what it got).
        QFile signal(m_dir->filePath(QStringLiteral("signal")));
        QVERIFY(signal.open(QIODevice::ReadOnly));
        QCOMPARE(signal.readAll(), QByteArray::number(SIGTERM));

        const QCborMap pruned = job(exp, id);
        QCOMPARE(str(pruned, "status"), QStringLiteral("PRUNED"));
        QCOMPARE(pruned.value(QStringLiteral("prunedAt")).toInteger(), 1);
        QCOMPARE(str(pruned, "pruneRule"), QStringLiteral("median"));
        QCOMPARE(pruned.value(QStringLiteral("pruneValue")).toDouble(), 0.9);
        QCOMPARE(pruned.value(QStringLiteral("pruneThreshold")).toDouble(), 0.1);
        // Its results are those of the report that was pruned: nothing was written after.
        QCOMPARE(json::write(pruned.value(QStringLiteral("results"))),
                 QByteArray(R"({"epoch":1,"loss":[0.9]})"));
    }
};

QTEST_GUILESS_MAIN(tst_RunLost)
#include "tst_runlost.moc"
