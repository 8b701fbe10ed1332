#include "ClientConfig.h"
#include "SaveFile.h"

#include <QtTest>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <thread>

using namespace schedy;

// QSaveFile renames a temporary file over its target. Over /dev/null that
// replaced the machine's /dev/null with a plain file (it happened here, run
// as root). A FIFO stands in for the device: it is a special file too, and
// replacing it harms nobody.
class TestSaveFile : public QObject
{
    Q_OBJECT

    static bool isFifo(const QString &path)
    {
        struct stat st = {};
        return ::stat(QFile::encodeName(path).constData(), &st) == 0 && S_ISFIFO(st.st_mode);
    }

    // Reads everything written to the FIFO on a thread (opening a FIFO to write
    // blocks until someone reads it). Should the FIFO be replaced instead of
    // written, the reader is released through a second link to it, so that a
    // regression fails the test rather than hanging it.
    struct FifoReader
    {
        QString path;
        QString spare;
        QByteArray received;
        std::thread thread;
        explicit FifoReader(const QString &fifo)
            : path(fifo)
            , spare(fifo + QStringLiteral(".link"))
        {
            ::link(QFile::encodeName(path).constData(), QFile::encodeName(spare).constData());
            thread = std::thread([this] {
                QFile f(path);
                if (f.open(QIODevice::ReadOnly))
                    received = f.readAll();
            });
        }
        QByteArray wait()
        {
            if (!isFifo(path)) {
                const int fd = ::open(QFile::encodeName(spare).constData(), O_WRONLY | O_NONBLOCK);
                if (fd >= 0)
                    ::close(fd);
            }
            thread.join();
            return received;
        }
    };

private slots:
    void regularFilesAreReplacedWhole()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("out.json"));
        QString error;
        QVERIFY(SaveFile::write(path, "first", &error));
        QVERIFY(SaveFile::write(path, "second", &error, QFileDevice::ReadOwner | QFileDevice::WriteOwner));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("second"));
        QCOMPARE(QFileInfo(path).permissions() & (QFileDevice::ReadGroup | QFileDevice::ReadOther),
                 QFileDevice::Permissions());

        SaveFile cancelled(path);
        QVERIFY(cancelled.open());
        cancelled.write("half");
        cancelled.cancelWriting();
        QVERIFY(!cancelled.commit());
        f.close();
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("second")); // the old content, whole
    }

    void specialFilesAreWrittenNotReplaced()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("fifo"));
        QCOMPARE(::mkfifo(QFile::encodeName(path).constData(), 0600), 0);
        QVERIFY(SaveFile::isSpecialFile(path));
        QVERIFY(!SaveFile::isSpecialFile(dir.path()));
        QVERIFY(!SaveFile::isSpecialFile(dir.filePath(QStringLiteral("missing"))));

        FifoReader reader(path);
        QString error;
        QVERIFY2(SaveFile::write(path, "through the pipe", &error), qPrintable(error));
        QCOMPARE(reader.wait(), QByteArray("through the pipe"));
        QVERIFY(isFifo(path));
    }

    void clientConfigToAFifo()
    {
        // `schedy gen-token --output /dev/stdout` and the like.
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("fifo"));
        QCOMPARE(::mkfifo(QFile::encodeName(path).constData(), 0600), 0);
        ClientConfig config;
        config.root = QStringLiteral("http://127.0.0.1:1/");
        config.email = QStringLiteral("a@example.com");
        config.token = QStringLiteral("secret");
        FifoReader reader(path);
        QString error;
        QVERIFY2(config.save(path, &error), qPrintable(error));
        QVERIFY(reader.wait().contains("a@example.com"));
        QVERIFY(isFifo(path));
    }

    void devNullIsWrittenDirectly()
    {
        if (!QFileInfo::exists(QStringLiteral("/dev/null")))
            QSKIP("no /dev/null");
        // Only looked at: should the fix regress, writing to it here would break the machine.
        QVERIFY(SaveFile::isSpecialFile(QStringLiteral("/dev/null")));
        QVERIFY(SaveFile(QStringLiteral("/dev/null")).isDirect());
    }
};

QTEST_GUILESS_MAIN(TestSaveFile)
#include "tst_savefile.moc"
