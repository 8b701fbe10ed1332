// Issue 17, finding 8: a full disk under SQLite. Writes get 503 + Retry-After
// ("out of disk space"), logged once, the server keeps running, and it recovers
// as soon as space returns, with every acknowledged write kept. The disk is a
// small tmpfs this test mounts (root only: it skips with the reason otherwise).
// And the WAL stays bounded, so that it does not fill a small disk by itself.
#include "Json.h"
#include "TestServer.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMutex>
#include <QMutexLocker>
#include <QTemporaryDir>
#include <QTest>

#include <cerrno>
#include <cstring>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

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

// A job with results of about `size` bytes, told apart by `n`.
QByteArray jobBody(int n, int size)
{
    return json::write(
        QCborMap{{QStringLiteral("status"), QStringLiteral("DONE")},
                 {QStringLiteral("hyperparameters"), QCborMap{{QStringLiteral("n"), n}}},
                 {QStringLiteral("results"),
                  QCborMap{{QStringLiteral("n"), n},
                           {QStringLiteral("log"), QString(size, QLatin1Char('a' + n % 26))}}}});
}

} // namespace

class TestDiskFull : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { previousHandler = qInstallMessageHandler(captureLog); }
    void cleanupTestCase() { qInstallMessageHandler(previousHandler); }

    void fullDiskAnswers503AndRecovers()
    {
        if (::geteuid() != 0)
            QSKIP("needs root, to mount a small tmpfs as the full disk");
        QTemporaryDir mountPoint;
        QVERIFY(mountPoint.isValid());
        const QByteArray where = QFile::encodeName(mountPoint.path());
        if (::mount("tmpfs", where.constData(), "tmpfs", 0, "size=8m") != 0)
            QSKIP(qPrintable(QStringLiteral("cannot mount a tmpfs: %1")
                                 .arg(QString::fromLocal8Bit(std::strerror(errno)))));
        const auto unmount = qScopeGuard([&] { ::umount2(where.constData(), MNT_DETACH); });

        server::ServerOptions o;
        o.lostCheckMs = 0;
        o.databaseUrl = QStringLiteral("sqlite:") + mountPoint.filePath(QStringLiteral("schedy.sqlite3"));
        auto server = std::make_unique<TestServer>(o);
        QString error;
        QVERIFY2(server->start(&error), qPrintable(error));
        const ClientConfig me = server->addUser(QStringLiteral("full@example.com"));
        HttpTestClient http(server->root());
        QVERIFY(http.login(me));
        QCOMPARE(http.put(QStringLiteral("experiments/exp/"), ExperimentBody).status, 201);

        // Fill the disk but for 256 KiB, which the jobs below use up.
        struct statvfs fs = {};
        QCOMPARE(::statvfs(where.constData(), &fs), 0);
        const qint64 fill = qint64(fs.f_bavail) * qint64(fs.f_frsize) - 256 * 1024;
        QFile filler(mountPoint.filePath(QStringLiteral("filler")));
        QVERIFY(filler.open(QIODevice::WriteOnly | QIODevice::Unbuffered));
        const QByteArray block(1 << 16, 'x');
        for (qint64 written = 0, n = 1; written < fill && n > 0; written += n)
            n = filler.write(block.constData(), std::min<qint64>(block.size(), fill - written));
        filler.close();

        // Jobs until the database can grow no more: every one answered is kept.
        QHash<QString, int> acknowledged; // job id -> n
        Reply refused;
        for (int n = 0; n < 4000 && refused.status == 0; ++n) {
            const Reply r = http.post(QStringLiteral("experiments/exp/jobs/"), jobBody(n, 8000));
            if (r.status == 201)
                acknowledged.insert(r.json.toMap().value(QStringLiteral("id")).toString(), n);
            else
                refused = r;
        }
        QCOMPARE(refused.status, 503);
        QVERIFY(!refused.header("Retry-After").isEmpty());
        QVERIFY2(refused.errorText().contains(QLatin1String("out of disk space")), refused.body.constData());
        for (int i = 0; i < 3; ++i)
            QCOMPARE(http.post(QStringLiteral("experiments/exp/jobs/"), jobBody(9000 + i, 8000)).status, 503);
        QCOMPARE(logCount(QStringLiteral("the database is out of disk space (")), 1);
        // Reads still work.
        QCOMPARE(http.get(QStringLiteral("experiments/exp/")).status, 200);

        // Space returns: so does service, at the next request.
        QVERIFY(QFile::remove(filler.fileName()));
        const Reply after = http.post(QStringLiteral("experiments/exp/jobs/"), jobBody(10000, 8000));
        QCOMPARE(after.status, 201);
        acknowledged.insert(after.json.toMap().value(QStringLiteral("id")).toString(), 10000);
        QCOMPARE(logCount(QStringLiteral("the database works again")), 1);

        // Every acknowledged job, now and after a restart.
        for (int pass = 0; pass < 2; ++pass) {
            HttpTestClient reader(server->root());
            QVERIFY(reader.login(me));
            for (auto it = acknowledged.cbegin(); it != acknowledged.cend(); ++it) {
                const Reply j = reader.get(QStringLiteral("experiments/exp/jobs/%1/").arg(it.key()));
                QCOMPARE(j.status, 200);
                QCOMPARE(j.json.toMap()
                             .value(QStringLiteral("results"))
                             .toMap()
                             .value(QStringLiteral("n"))
                             .toInteger(),
                         qint64(it.value()));
            }
            if (pass == 0)
                QVERIFY2(server->restart(&error), qPrintable(error));
        }
        QVERIFY(acknowledged.size() > 2);
        qInfo("%d jobs acknowledged before the disk was full", int(acknowledged.size()) - 1);
        server.reset(); // closed before the tmpfs goes
    }

    // The write-ahead log is checkpointed and cut back as it grows: many jobs
    // later it is still about a megabyte (it reached 4 MiB before, with
    // SQLite's default of a checkpoint every 1,000 pages and no size limit).
    void walStaysBounded()
    {
        if (testingPostgres())
            QSKIP("SQLite only");
        server::ServerOptions o;
        o.lostCheckMs = 0;
        TestServer server(o);
        QString error;
        QVERIFY2(server.start(&error), qPrintable(error));
        const ClientConfig me = server.addUser(QStringLiteral("wal@example.com"));
        HttpTestClient http(server.root());
        QVERIFY(http.login(me));
        QCOMPARE(http.put(QStringLiteral("experiments/exp/"), ExperimentBody).status, 201);
        const QString wal = server.databasePath() + QStringLiteral("-wal");
        qint64 largest = 0;
        for (int n = 0; n < 1500; ++n) {
            QCOMPARE(http.post(QStringLiteral("experiments/exp/jobs/"), jobBody(n, 1000)).status, 201);
            largest = std::max(largest, QFileInfo(wal).size());
        }
        qInfo("largest WAL: %lld bytes", largest);
        QVERIFY2(largest <= 1536 * 1024, qPrintable(QStringLiteral("the WAL grew to %1 bytes").arg(largest)));
    }
};

QTEST_GUILESS_MAIN(TestDiskFull)
#include "tst_diskfull.moc"
