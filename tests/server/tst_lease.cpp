#include "scheduling/Lease.h"

#include <QtTest>

using namespace schedy;
using namespace schedy::server::scheduling;

// Lost workers (docs/protocol.md 8.3) on hand-made RUNNING jobs: which are lost at a
// given time, and which get a replacement along a chain of at most `retries`.
namespace {

LeaseSpec lease(qint64 seconds, qint64 retries)
{
    LeaseSpec l;
    l.seconds = seconds;
    l.retries = retries;
    return l;
}

LeasedJob running(qint64 seq, double aliveAt, qint64 retry = 0)
{
    LeasedJob j;
    j.seq = seq;
    j.id = QStringLiteral("J%1").arg(seq);
    j.aliveAt = aliveAt;
    j.retry = retry;
    return j;
}

QList<qint64> seqs(const QList<Loss> &losses)
{
    QList<qint64> out;
    for (const Loss &l : losses)
        out << l.seq;
    return out;
}

} // namespace

class TestLease : public QObject
{
    Q_OBJECT

private slots:
    void lostAfterMoreThanTheLease()
    {
        QVERIFY(!isLost(100, 130, 30)); // exactly S old: still alive
        QVERIFY(isLost(100, 130.001, 30));
        QVERIFY(!isLost(100, 90, 30)); // a write "after" now (another process's clock): alive
    }

    void expireOldestFirst()
    {
        const LeaseSpec s = lease(30, 1);
        const QList<LeasedJob> jobs{running(1, 100), running(2, 50), running(3, 125), running(4, 50)};
        QCOMPARE(seqs(expire(jobs, s, Scheduler::Kind::RandomSearch, 150)), (QList<qint64>{2, 4, 1}));
        QVERIFY(expire(jobs, s, Scheduler::Kind::RandomSearch, 80).isEmpty());
        QCOMPARE(seqs(expire(jobs, s, Scheduler::Kind::Manual, 81)), (QList<qint64>{2, 4}));
    }

    void replacementsAlongAChain()
    {
        // retries 2: the original and its first replacement are replaced, the second is not.
        const LeaseSpec s = lease(10, 2);
        const QList<LeasedJob> jobs{running(1, 0, 0), running(2, 0, 1), running(3, 0, 2)};
        const QList<Loss> losses = expire(jobs, s, Scheduler::Kind::Manual, 100);
        QCOMPARE(losses.size(), 3);
        QVERIFY(losses[0].replace);
        QCOMPARE(losses[0].retry, 1);
        QVERIFY(losses[1].replace);
        QCOMPARE(losses[1].retry, 2);
        QVERIFY(!losses[2].replace);
        // retries 0: lost jobs are only marked CRASHED.
        for (const Loss &l : expire(jobs, lease(10, 0), Scheduler::Kind::RandomSearch, 100))
            QVERIFY(!l.replace);
    }

    void pbtGivesTheMemberBackInsteadOfReplacing()
    {
        const QList<Loss> losses =
            expire({running(1, 0), running(2, 95)}, lease(10, 5), Scheduler::Kind::Pbt, 100);
        QCOMPARE(seqs(losses), QList<qint64>{1});
        QVERIFY(!losses[0].replace);
    }

    // Issue 17, finding 11: the reference is followed through steps (back and
    // forward, reported by resync()), drift is absorbed without going back, and
    // a reference that does not answer leaves the monotonic clock in charge.
    void anchoredClockFollowsStepsAndAbsorbsDrift()
    {
        double reference = 1000, steady = 10;
        bool answers = true;
        AnchoredClock clock(
            [&]() -> std::optional<double> {
                if (!answers)
                    return std::nullopt;
                return reference;
            },
            [&] { return steady; });
        QCOMPARE(clock(), 1000.0);
        steady += 2;
        QCOMPARE(clock(), 1002.0); // between readings: the monotonic clock
        reference = 500;           // the reference's wall clock is set back; not read yet
        QCOMPARE(clock(), 1002.0);
        // Drift: the reference 0.5 s behind the prediction is absorbed, never going back.
        reference = 1001.5;
        QCOMPARE(clock.resync(), 0.0);
        QCOMPARE(clock(), 1002.0);
        steady += 1;
        QCOMPARE(clock(), 1002.5);
        // A step back of an hour is followed and reported.
        reference = 1002.5 - 3600;
        QCOMPARE(clock.resync(), -3600.0);
        QCOMPARE(clock(), 1002.5 - 3600);
        steady += 5;
        QCOMPARE(clock(), 1007.5 - 3600);
        // Forward too.
        reference = 1007.5 + 3600;
        QCOMPARE(clock.resync(), 7200.0);
        QCOMPARE(clock(), 1007.5 + 3600);
        // No answer: no step, the monotonic clock carries on.
        answers = false;
        steady += 1;
        QCOMPARE(clock.resync(), 0.0);
        QCOMPARE(clock(), 1008.5 + 3600);
    }
};

QTEST_APPLESS_MAIN(TestLease)
#include "tst_lease.moc"
