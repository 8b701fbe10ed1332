// `schedy run` when the server stops the job (docs/protocol.md 8.2, 8.3), and
// `schedy add`/`show` with section 8's options: the real binary against the
// scripted FaultServer, which plays a server that prunes and loses jobs (the
// real server's side is tested in tests/server).
#include "ClientConfig.h"
#include "FaultServer.h"
#include "Json.h"
#include "TestServer.h"

#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <memory>

using namespace schedy;
using namespace schedy::test;

namespace {

struct Result
{
    int code = -1;
    QByteArray out;
    QByteArray err;
};

constexpr int ExitJobStopped = 10; // docs/cli.md

} // namespace

class tst_RunStop : public QObject
{
    Q_OBJECT

    std::unique_ptr<FaultServer> m_server;
    QTemporaryDir m_dir;
    QString m_config;

    Result schedy(const QStringList &args)
    {
        QProcess p;
        p.setProgram(QStringLiteral(SCHEDY_BIN));
        p.setArguments(QStringList{QStringLiteral("--config"), m_config, QStringLiteral("--retries"),
                                   QStringLiteral("2")} +
                       args);
        p.start();
        // The server answers from this thread's event loop, which waitForExit runs.
        waitForExit(p, 60000);
        Result r;
        r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        r.out = p.readAllStandardOutput();
        r.err = p.readAllStandardError();
        return r;
    }

private slots:
    void init()
    {
        m_server = std::make_unique<FaultServer>();
        QVERIFY(m_server->listen());
        m_config = m_dir.filePath(QStringLiteral("client.json"));
        QString error;
        QVERIFY2(m_server->config().save(m_config, &error), qPrintable(error));
    }

    void cleanup() { m_server.reset(); }

    void prunedByAReport()
    {
        QVERIFY(schedy({QStringLiteral("add"), QStringLiteral("e"), QStringLiteral("manual")}).code == 0);
        QVERIFY(schedy({QStringLiteral("push"), QStringLiteral("e"), QStringLiteral("-p"),
                        QStringLiteral("x"), QStringLiteral("1")})
                    .code == 0);
        m_server->pruneAtNextReport(QStringLiteral("e"), "J1");
        const Result r = schedy({QStringLiteral("run"), QStringLiteral("--once"), QStringLiteral("e"),
                                 QStringLiteral(SCHEDY_TOY_JOB), QStringLiteral("signal"), m_dir.path()});
        QCOMPARE(r.code, ExitJobStopped);
        // The command got SIGTERM (the toy job writes which signal it got).
        QFile signal(m_dir.filePath(QStringLiteral("signal")));
        QVERIFY(signal.open(QIODevice::ReadOnly));
        QCOMPARE(signal.readAll(), QByteArray::number(SIGTERM));
        // One line says what happened and why.
        QVERIFY2(r.err.contains("schedy: job J1 was pruned by the server at step 3 by the median rule: 0.85, "
                                "worse than 0.61: stopping its command (SIGTERM, SIGKILL after 10 s)\n"),
                 r.err.constData());
        QVERIFY2(!r.err.contains("CRASHED") && !r.err.contains("DONE"), r.err.constData());
        // Claim and the report that was pruned: the job is left PRUNED.
        QCOMPARE(m_server->count("PUT", "/jobs/J1/"), 2);
        const Result shown = schedy({QStringLiteral("show"), QStringLiteral("e"), QStringLiteral("J1")});
        QVERIFY2(shown.out.contains("PRUNED"), shown.out.constData());
        QVERIFY2(shown.out.contains("at step 3 by the median rule"), shown.out.constData());
    }

    void lostByAHeartbeatAndKilledAfterTheGrace()
    {
        // A 1 s lease: heartbeats every 333 ms.
        QVERIFY(schedy({QStringLiteral("add"), QStringLiteral("e"), QStringLiteral("manual"),
                        QStringLiteral("--lease"), QStringLiteral("1")})
                    .code == 0);
        QVERIFY(schedy({QStringLiteral("push"), QStringLiteral("e"), QStringLiteral("-p"),
                        QStringLiteral("x"), QStringLiteral("1")})
                    .code == 0);
        // At the first heartbeat, the server declares the job lost: the next one gets 412.
        int heartbeats = 0;
        connect(m_server.get(), &FaultServer::requestReceived, this, [&](const FaultRequest &request) {
            if (request.path.endsWith("/heartbeat/") && ++heartbeats == 1) {
                m_server->changeJob(QStringLiteral("e"), "J1", "CRASHED",
                                    QStringLiteral("job 'J1' was lost: replaced by J2"),
                                    R"(,"lostAt":1795891290.25,"replacedBy":"J2")");
            }
        });
        // The command ignores SIGTERM: only the SIGKILL after --grace ends it.
        const Result r = schedy({QStringLiteral("run"), QStringLiteral("--once"), QStringLiteral("--grace"),
                                 QStringLiteral("0.2"), QStringLiteral("e"), QStringLiteral(SCHEDY_TOY_JOB),
                                 QStringLiteral("stubborn")});
        QCOMPARE(r.code, ExitJobStopped);
        QVERIFY(heartbeats >= 1);
        QVERIFY2(r.err.contains("schedy: job J1 was declared lost by the server ("), r.err.constData());
        QVERIFY2(r.err.contains("replaced by J2): stopping its command (SIGTERM, SIGKILL after 0.2 s)"),
                 r.err.constData());
        // Claim, the first results: nothing written after the loss.
        QCOMPARE(m_server->count("PUT", "/jobs/J1/"), 2);
        // Every heartbeat carried an ETag of the job as this worker wrote it (claim or report).
        for (const FaultRequest &request : m_server->requests()) {
            if (request.path.endsWith("/heartbeat/"))
                QVERIFY(request.header("If-Match") == "\"J1-2\"" || request.header("If-Match") == "\"J1-3\"");
        }
    }

    void addAndShowSectionEight()
    {
        const Result added = schedy({QStringLiteral("add"),
                                     QStringLiteral("s"),
                                     QStringLiteral("random"),
                                     QStringLiteral("lr"),
                                     QStringLiteral("loguniform"),
                                     QStringLiteral(R"({"low": 1e-5, "high": 0.1})"),
                                     QStringLiteral("act"),
                                     QStringLiteral("choice"),
                                     QStringLiteral(R"({"values": ["relu", "tanh"]})"),
                                     QStringLiteral("--sampler"),
                                     QStringLiteral("tpe"),
                                     QStringLiteral("--result"),
                                     QStringLiteral("loss"),
                                     QStringLiteral("--direction"),
                                     QStringLiteral("minimize"),
                                     QStringLiteral("--seed"),
                                     QStringLiteral("3"),
                                     QStringLiteral("--pruner"),
                                     QStringLiteral("asha"),
                                     QStringLiteral("--lease"),
                                     QStringLiteral("600"),
                                     QStringLiteral("--lease-retries"),
                                     QStringLiteral("2")});
        QVERIFY2(added.code == 0, added.err.constData());
        const QCborMap sent = json::parse(m_server->requests().last().body).toMap();
        QCOMPARE(json::write(sent.value(QStringLiteral("sampler"))),
                 QByteArray(R"({"kind":"tpe","result":"loss","direction":"minimize","seed":3})"));
        QCOMPARE(json::write(sent.value(QStringLiteral("pruner"))),
                 QByteArray(R"({"kind":"asha","result":"loss","direction":"minimize"})"));
        QCOMPARE(json::write(sent.value(QStringLiteral("lease"))),
                 QByteArray(R"({"seconds":600,"retries":2})"));
        const Result shown = schedy({QStringLiteral("show"), QStringLiteral("s")});
        QVERIFY2(shown.out.contains("TPE on loss (minimize), 10 startup jobs, 24 candidates, seed 3"),
                 shown.out.constData());
        QVERIFY2(
            shown.out.contains("ASHA on loss (minimize), rungs at steps 1, 4, 16..., keeps the best 1/4"),
            shown.out.constData());
        QVERIFY2(shown.out.contains("600 s, 2 retries"), shown.out.constData());

        const Result grid = schedy({QStringLiteral("add"), QStringLiteral("g"), QStringLiteral("random"),
                                    QStringLiteral("lr"), QStringLiteral("uniform"),
                                    QStringLiteral(R"({"low": 0, "high": 1})"),
                                    QStringLiteral("--grid-steps"), QStringLiteral("lr=5")});
        QVERIFY2(grid.code == 0, grid.err.constData());
        QVERIFY2(schedy({QStringLiteral("show"), QStringLiteral("g")}).out.contains("grid, 5 points"),
                 "the grid's size");
    }

    void addRefusesWhatTheServerWould_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        const QStringList random{QStringLiteral("add"),     QStringLiteral("x"),
                                 QStringLiteral("random"),  QStringLiteral("lr"),
                                 QStringLiteral("uniform"), QStringLiteral(R"({"low": 0, "high": 1})")};
        QTest::newRow("tpe without result")
            << (random + QStringList{QStringLiteral("--sampler"), QStringLiteral("tpe")})
            << QStringLiteral("--sampler tpe needs --result");
        QTest::newRow("grid without steps")
            << (random + QStringList{QStringLiteral("--sampler"), QStringLiteral("grid")})
            << QStringLiteral("argument --grid-steps: the uniform hyperparameter "
                              "\"lr\" needs a number of points (--grid-steps NAME=N)");
        QTest::newRow("unknown sampler")
            << (random + QStringList{QStringLiteral("--sampler"), QStringLiteral("cma")})
            << QStringLiteral("argument --sampler: unknown sampler \"cma\"");
        QTest::newRow("seed on a grid")
            << (random + QStringList{QStringLiteral("--grid-steps"), QStringLiteral("lr=3"),
                                     QStringLiteral("--seed"), QStringLiteral("1")})
            << QStringLiteral("argument --seed: does not apply to --sampler grid");
        QTest::newRow("sampler on manual")
            << QStringList{QStringLiteral("add"), QStringLiteral("x"), QStringLiteral("manual"),
                           QStringLiteral("--sampler"), QStringLiteral("sobol")}
            << QStringLiteral(
                   "argument --sampler: only a RandomSearch has a sampler, not a Manual experiment");
        QTest::newRow("lease zero") << (random + QStringList{QStringLiteral("--lease"), QStringLiteral("0")})
                                    << QStringLiteral("argument --lease: must be greater than 0");
        QTest::newRow("eta 1") << (random + QStringList{QStringLiteral("--pruner"), QStringLiteral("asha"),
                                                        QStringLiteral("--result"), QStringLiteral("loss"),
                                                        QStringLiteral("--direction"), QStringLiteral("max"),
                                                        QStringLiteral("--reduction-factor"),
                                                        QStringLiteral("1")})
                               << QStringLiteral("argument --reduction-factor: must be at least 2");
    }
    void addRefusesWhatTheServerWould()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        const Result r = schedy(args);
        QCOMPARE(r.code, 2);
        QVERIFY2(QString::fromUtf8(r.err).contains(message), r.err.constData());
        QCOMPARE(m_server->count("PUT", "/experiments/x/"), 0); // nothing sent
    }
};

QTEST_GUILESS_MAIN(tst_RunStop)
#include "tst_runstop.moc"
