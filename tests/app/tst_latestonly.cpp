// LatestOnly, the dashboard's one idiom for background work: the worker is
// held on a semaphore so that every interleaving is forced, never timed.
#include "LatestOnly.h"

#include <QSemaphore>
#include <QtTest>

#include <atomic>
#include <memory>

using namespace schedy;

class TestLatestOnly : public QObject
{
    Q_OBJECT

private slots:
    void deliversOnTheOwnersThread()
    {
        LatestOnly worker(QStringLiteral("test"));
        QThread *ranOn = nullptr;
        QThread *deliveredOn = nullptr;
        int value = 0;
        worker.submit(
            [&ranOn](const LatestOnly::Ticket &) {
                ranOn = QThread::currentThread();
                return 42;
            },
            [&](int v) {
                deliveredOn = QThread::currentThread();
                value = v;
            });
        QVERIFY(worker.isBusy());
        QTRY_COMPARE(value, 42);
        QVERIFY(ranOn && ranOn != QThread::currentThread());
        QCOMPARE(deliveredOn, QThread::currentThread());
        QVERIFY(!worker.isBusy());
    }

    // While the first request runs, three more come: the two in between are
    // skipped unstarted, the first's result is dropped, the last delivered.
    void onlyTheNewestIsDelivered()
    {
        LatestOnly worker(QStringLiteral("test"));
        QSemaphore entered, release;
        std::atomic<int> started{0};
        QList<int> delivered;
        auto submit = [&](int n) {
            worker.submit(
                [&, n](const LatestOnly::Ticket &) {
                    started.fetch_add(1);
                    if (n == 1) {
                        entered.release();
                        release.acquire();
                    }
                    return n;
                },
                [&](int v) { delivered.append(v); });
        };
        submit(1);
        entered.acquire(); // the first runs
        submit(2);
        submit(3);
        submit(4);
        release.release();
        QTRY_COMPARE(delivered, QList<int>{4});
        QCOMPARE(started.load(), 2); // 1 and 4
        QCOMPARE(worker.skippedCount(), 2);
        QTRY_COMPARE(worker.discardedCount(), 1);
    }

    // Running work sees its ticket go stale and can stop early; a cancelled
    // request is never delivered.
    void cancelMakesRunningWorkStale()
    {
        LatestOnly worker(QStringLiteral("test"));
        QSemaphore entered, release;
        std::atomic<bool> sawStale{false};
        bool delivered = false;
        worker.submit(
            [&](const LatestOnly::Ticket &ticket) {
                entered.release();
                release.acquire();
                sawStale = ticket.stale();
                return 0;
            },
            [&](int) { delivered = true; });
        entered.acquire();
        worker.cancel();
        QVERIFY(!worker.isBusy());
        release.release();
        QTRY_COMPARE(worker.discardedCount(), 1);
        QVERIFY(sawStale.load());
        QVERIFY(!delivered);
    }

    // Destroying it while work runs waits for the work and delivers nothing
    // (the delivery would reach a dead owner).
    void destroyedWhileWorking()
    {
        QSemaphore entered;
        std::atomic<bool> sawStale{false};
        auto delivered = std::make_shared<bool>(false);
        {
            LatestOnly worker(QStringLiteral("test"));
            worker.submit(
                [&](const LatestOnly::Ticket &ticket) {
                    entered.release();
                    // Spins until the destructor's cancel: it must not wait for us first.
                    while (!ticket.stale())
                        QThread::yieldCurrentThread();
                    sawStale = true;
                    return 1;
                },
                [delivered](int) { *delivered = true; });
            entered.acquire();
        }
        QVERIFY(sawStale.load());
        QCoreApplication::processEvents();
        QVERIFY(!*delivered);
    }

    // Move-only results and work that captures big values by value.
    void moveOnlyResult()
    {
        LatestOnly worker(QStringLiteral("test"));
        std::shared_ptr<int> got;
        worker.submit([](const LatestOnly::Ticket &) { return std::make_shared<int>(7); },
                      [&](std::shared_ptr<int> p) { got = std::move(p); });
        QTRY_VERIFY(got);
        QCOMPARE(*got, 7);
    }
};

QTEST_GUILESS_MAIN(TestLatestOnly)
#include "tst_latestonly.moc"
