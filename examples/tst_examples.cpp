// The example programs against the real server (in-process, temporary
// SQLite): the samples of docs/libschedy.md (schedy-example-guide) and the
// toy training program (schedy-example-worker).
#include "BlockingClient.h"
#include "TestServer.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace schedy;
using namespace schedy::test;

namespace {

struct Result
{
    int code = -1;
    QByteArray out;
    QByteArray err;
};

// Runs a program to its end; the server answers it meanwhile.
Result run(const QString &program, const QStringList &args)
{
    QProcess p;
    p.start(program, args);
    if (!waitForExit(p, 120000)) {
        p.kill();
        p.waitForFinished();
    }
    Result r;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

} // namespace

class TestExamples : public QObject
{
    Q_OBJECT

    TestServer m_server;
    QTemporaryDir m_dir;

    QString saveConfig(const ClientConfig &config, const QString &name)
    {
        const QString path = m_dir.filePath(name);
        QString error;
        if (!config.save(path, &error))
            qWarning("%s", qPrintable(error));
        return path;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(m_server.start());
    }

    void guideSamples()
    {
        const QString password = QStringLiteral("guide pw");
        const ClientConfig original = m_server.addUser(QStringLiteral("guide@example.com"), password);
        const QString path = saveConfig(original, QStringLiteral("guide.json"));
        const Result r = run(QStringLiteral(SCHEDY_GUIDE_BIN),
                             {QStringLiteral("--config"), path, QStringLiteral("--password"), password,
                              QStringLiteral("guide")});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY2(r.err.contains("trained 4 job(s)"), r.err.constData());
        QVERIFY2(r.err.contains("5 finished job(s), page by page"), r.err.constData());
        QVERIFY2(r.err.contains("5 job(s) mirrored"), r.err.constData());

        // The gen-token sample saved a new token, and the old one stopped working.
        QString error;
        const auto saved = ClientConfig::load(path, &error);
        QVERIFY2(saved, qPrintable(error));
        QVERIFY(saved->token != original.token);
        QCOMPARE(int(saved->tokenType), int(ClientConfig::TokenType::ApiToken));
        BlockingClient fresh(*saved);
        QVERIFY(fresh.login());
        BlockingClient stale(original);
        QVERIFY(!stale.login());
        QCOMPARE(int(stale.lastError().kind), int(ClientError::Kind::Authentication));
        // Every job of the experiment ended DONE.
        const auto jobs = fresh.allJobs(QStringLiteral("guide"));
        QVERIFY(jobs);
        QCOMPARE(jobs->size(), 5);
        for (const Job &j : *jobs)
            QCOMPARE(toString(j.status), toString(JobStatus::Done));
    }

    void minimizeWorker()
    {
        const QString path =
            saveConfig(m_server.addUser(QStringLiteral("worker@example.com")), QStringLiteral("worker.json"));
        const Result r = run(QStringLiteral(SCHEDY_WORKER_BIN),
                             {QStringLiteral("--config"), path, QStringLiteral("--create"),
                              QStringLiteral("--jobs"), QStringLiteral("3"), QStringLiteral("toy")});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY2(r.out.contains("job(s) done"), r.out.constData());
    }
};

QTEST_GUILESS_MAIN(TestExamples)
#include "tst_examples.moc"
