// The EDF and timeline charts' data, from hand-made jobs.
#include "ChartFixtures.h"
#include "Timeline.h"

#include <QtTest>

using namespace schedy;
using namespace schedy::charts;

namespace {

Job timed(const QString &id, JobStatus status, double created, double modified, const QCborMap &results = {})
{
    return test::makeJob(id, status, {}, results, modified, created);
}

QCborMap loss(double v)
{
    return QCborMap{{QStringLiteral("loss"), v}};
}

} // namespace

class TestTimeline : public QObject
{
    Q_OBJECT

private slots:
    void edfOfDoneJobs()
    {
        const QCborMap curve{{QStringLiteral("loss"), QCborArray{9.0, 4.0}}};
        const JobListSource source({timed(QStringLiteral("a"), JobStatus::Done, 1, 2, loss(3)),
                                    timed(QStringLiteral("b"), JobStatus::Done, 1, 2, loss(1)),
                                    timed(QStringLiteral("c"), JobStatus::Done, 1, 2, loss(2)),
                                    timed(QStringLiteral("d"), JobStatus::Done, 1, 2, loss(2)),
                                    timed(QStringLiteral("e"), JobStatus::Done, 1, 2, curve),
                                    timed(QStringLiteral("f"), JobStatus::Running, 1, 2, loss(0)),
                                    timed(QStringLiteral("g"), JobStatus::Done, 1, 2)});
        const EdfData data = edf(source, resultField(QStringLiteral("loss")));
        const QList<QPointF> expected{{1, 0.2}, {2, 0.6}, {3, 0.8}, {4, 1.0}};
        QCOMPARE(data.steps, expected); // the curve counts by its last point; ties make one step
        QCOMPARE(data.skipped, 1);
        QCOMPARE(data.min(), 1.0);
        QCOMPARE(data.max(), 4.0);
        QVERIFY(edf(source, resultField(QStringLiteral("nothing"))).steps.isEmpty());
    }

    void timelineLanesConcurrencyAndGaps()
    {
        const JobListSource source({
            timed(QStringLiteral("a"), JobStatus::Done, 100, 200),
            timed(QStringLiteral("b"), JobStatus::Done, 150, 250),
            timed(QStringLiteral("c"), JobStatus::Crashed, 210, 260),
            timed(QStringLiteral("d"), JobStatus::Done, 400, 500),
            timed(QStringLiteral("e"), JobStatus::Queued, 450, 450), // waits: no concurrency
            timed(QStringLiteral("f"), JobStatus::Running, 480, 490),
            timed(QStringLiteral("g"), JobStatus::Done, 700, 700), // no time at all
        });
        const TimelineData data = timeline(source, 600, 60);
        QCOMPARE(data.bars.size(), 7);
        QStringList ids;
        QList<int> lanes;
        for (const TimelineBar &bar : data.bars) {
            ids.append(bar.id);
            lanes.append(bar.lane);
        }
        QCOMPARE(ids, (QStringList{QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c"),
                                   QStringLiteral("d"), QStringLiteral("e"), QStringLiteral("f"),
                                   QStringLiteral("g")}));
        QCOMPARE(lanes, (QList<int>{0, 1, 0, 0, 1, 2, 0}));
        QCOMPARE(data.laneCount, 3);
        QCOMPARE(data.bars[4].end, 600.0); // still queued, and running: until now
        QCOMPARE(data.bars[5].end, 600.0);
        QCOMPARE(data.bars[3].end, 500.0);
        const QList<QPointF> steps{{100, 1}, {150, 2}, {200, 1}, {210, 2}, {250, 1}, {260, 0},
                                   {400, 1}, {480, 2}, {500, 1}, {600, 0}, {700, 0}};
        QCOMPARE(data.concurrency, steps);
        QCOMPARE(data.peakConcurrency, 2);
        QCOMPARE(data.idleGaps.size(), 2);
        QCOMPARE(data.idleGaps[0].start, 260.0);
        QCOMPARE(data.idleGaps[0].end, 400.0);
        QCOMPARE(data.idleGaps[1].start, 600.0);
        QCOMPARE(data.idleGaps[1].end, 700.0);
        QCOMPARE(data.crashed, 1);
        QCOMPARE(data.start, 100.0);
        QCOMPARE(data.end, 700.0);

        // Shorter pauses than minGap are no gaps.
        QCOMPARE(timeline(source, 600, 150).idleGaps.size(), 0);
    }

    void jobsWithoutTimesAreLeftOut()
    {
        Job untimed = timed(QStringLiteral("x"), JobStatus::Done, 0, 0);
        untimed.createdAt.reset();
        untimed.modifiedAt.reset();
        const TimelineData data = timeline(JobListSource({untimed}), 10);
        QVERIFY(data.bars.isEmpty());
        QCOMPARE(data.laneCount, 0);
        QVERIFY(std::isnan(data.start));
    }
};

QTEST_GUILESS_MAIN(TestTimeline)
#include "tst_timeline.moc"
