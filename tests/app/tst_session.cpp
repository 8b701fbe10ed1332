#include "ConditionalSave.h"
#include "DocumentChanges.h"
#include "ExperimentSession.h"
#include "FakeBackend.h"
#include "JobTableModel.h"
#include "Reachability.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QtTest>

using namespace schedy;

// The session layer without a server: a fake backend with ETags, If-Match and outages.
class TestSession : public QObject
{
    Q_OBJECT

    static Experiment experiment(const QString &name, ExperimentStatus status = ExperimentStatus::Running)
    {
        Experiment e;
        e.name = name;
        e.status = status;
        e.scheduler.kind = Scheduler::Kind::Manual;
        JobCounts counts;
        counts[JobStatus::Running] = 2;
        e.jobCounts = counts;
        return e;
    }
    static Job job(const QString &id, JobStatus status)
    {
        Job j;
        j.id = id;
        j.experiment = QStringLiteral("alpha");
        j.status = status;
        j.createdAt = 1000;
        j.modifiedAt = 1000;
        return j;
    }
    using Save = ConditionalSave<Experiment>;
    static Save::Outcome saveStatus(FakeBackend &backend, QObject *context, const Experiment &shown,
                                    ExperimentStatus wanted, bool deliberately = false)
    {
        std::shared_ptr<SessionBackend> shared(&backend, [](SessionBackend *) {});
        Experiment sent = definitionOf(shown);
        sent.status = wanted;
        Save::Outcome outcome;
        bool done = false;
        auto steps = experimentSaveSteps(shared, context, sent);
        auto finish = [&](const Save::Outcome &o) {
            outcome = o;
            done = true;
        };
        if (deliberately)
            Save::saveOver(shown, steps, finish);
        else
            Save::save(shown, steps, finish);
        backend.flush();
        if (!done)
            qWarning("the save did not finish");
        return outcome;
    }

private slots:
    void conditionalSaveWritesOverTheVersionShown()
    {
        FakeBackend backend;
        QObject context;
        backend.change(experiment(QStringLiteral("alpha")));
        const Experiment shown = backend.experiments.value(QStringLiteral("alpha"));
        const auto o = saveStatus(backend, &context, shown, ExperimentStatus::Done);
        QCOMPARE(int(o.kind), int(Save::Outcome::Kind::Saved));
        QCOMPARE(backend.log, QStringList{QStringLiteral("write alpha If-Match v1")});
        QCOMPARE(int(o.value.status), int(ExperimentStatus::Done));
        QCOMPARE(o.value.etag, QByteArray("v2"));
    }

    void conditionalSaveReadsFirstWithoutAnETag()
    {
        FakeBackend backend;
        QObject context;
        backend.change(experiment(QStringLiteral("alpha")));
        Experiment fromListing = experiment(QStringLiteral("alpha"));
        QVERIFY(fromListing.etag.isEmpty());
        // Unchanged since: saved over the version read, with its ETag.
        auto o = saveStatus(backend, &context, fromListing, ExperimentStatus::Done);
        QCOMPARE(int(o.kind), int(Save::Outcome::Kind::Saved));
        QCOMPARE(backend.log,
                 (QStringList{QStringLiteral("read alpha"), QStringLiteral("write alpha If-Match v1")}));

        // Changed since what was shown: a conflict found by reading; nothing is written.
        backend.log.clear();
        o = saveStatus(backend, &context, fromListing, ExperimentStatus::Done);
        QCOMPARE(int(o.kind), int(Save::Outcome::Kind::Conflict));
        QVERIFY(!o.refused);
        QCOMPARE(backend.log, QStringList{QStringLiteral("read alpha")});
        QCOMPARE(o.changes, QStringList{QStringLiteral("status: \"RUNNING\" → \"DONE\"")});
    }

    void conditionalSaveReportsA412AsTheirVersion()
    {
        FakeBackend backend;
        QObject context;
        backend.change(experiment(QStringLiteral("alpha")));
        const Experiment shown = backend.experiments.value(QStringLiteral("alpha"));
        backend.change(experiment(QStringLiteral("alpha"), ExperimentStatus::Done)); // someone else
        auto o = saveStatus(backend, &context, shown, ExperimentStatus::Done);
        QCOMPARE(int(o.kind), int(Save::Outcome::Kind::Conflict));
        QVERIFY(o.refused);
        QCOMPARE(o.value.etag, QByteArray("v2"));
        QCOMPARE(backend.log,
                 (QStringList{QStringLiteral("write alpha If-Match v1"), QStringLiteral("read alpha")}));
        // Deliberately over theirs, and only over theirs.
        backend.log.clear();
        o = saveStatus(backend, &context, o.value, ExperimentStatus::Running, true);
        QCOMPARE(int(o.kind), int(Save::Outcome::Kind::Saved));
        QCOMPARE(backend.log, QStringList{QStringLiteral("write alpha If-Match v2")});

        // Deleted meanwhile: gone, not a conflict.
        backend.experiments.remove(QStringLiteral("alpha"));
        o = saveStatus(backend, &context, o.value, ExperimentStatus::Done);
        QCOMPARE(int(o.kind), int(Save::Outcome::Kind::Gone));
    }

    void conditionalSaveOfAJob()
    {
        FakeBackend backend;
        QObject context;
        backend.changeJob(job(QStringLiteral("j1"), JobStatus::Running));
        const Job loaded = backend.jobs.value(QStringLiteral("j1"));
        Job theirs = loaded;
        theirs.status = JobStatus::Done;
        backend.changeJob(theirs);
        std::shared_ptr<SessionBackend> shared(&backend, [](SessionBackend *) {});
        JobWrite mine;
        mine.status = JobStatus::Crashed;
        ConditionalSave<Job>::Outcome outcome;
        ConditionalSave<Job>::save(loaded,
                                   jobSaveSteps(shared, &context, QStringLiteral("alpha"), loaded.id, mine),
                                   [&](const ConditionalSave<Job>::Outcome &o) { outcome = o; });
        backend.flush();
        QCOMPARE(int(outcome.kind), int(ConditionalSave<Job>::Outcome::Kind::Conflict));
        QCOMPARE(outcome.changes, QStringList{QStringLiteral("status: \"RUNNING\" → \"DONE\"")});
        QCOMPARE(int(backend.jobs.value(QStringLiteral("j1")).status), int(JobStatus::Done));
    }

    void repliesForAGoneContextAreDropped()
    {
        FakeBackend backend;
        backend.change(experiment(QStringLiteral("alpha")));
        bool called = false;
        {
            QObject context;
            backend.readExperiment(&context, QStringLiteral("alpha"),
                                   [&](const ClientError &, const Experiment &) { called = true; });
        }
        backend.flush();
        QVERIFY(!called);
    }

    void sessionRefreshGivesTheModelValues()
    {
        auto backend = std::make_shared<FakeBackend>();
        backend->change(experiment(QStringLiteral("alpha")));
        ExperimentSession session;
        QAbstractItemModelTester tester(session.jobs(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        session.open(backend, experiment(QStringLiteral("alpha")));
        backend->changed = {job(QStringLiteral("j1"), JobStatus::Running),
                            job(QStringLiteral("j2"), JobStatus::Done)};
        QSignalSpy refreshed(&session, &ExperimentSession::refreshed);
        session.refresh();
        QVERIFY(session.isRefreshing());
        session.refresh(); // a burst is one request
        backend->flush();
        QCOMPARE(refreshed.count(), 1);
        QCOMPARE(backend->log.count(QStringLiteral("changes")), 1);
        QCOMPARE(session.jobs()->rowCount(), 2);
        QCOMPARE(session.experiment().etag, QByteArray("v1"));
    }

    void anOutageIsOneStateUntilTheServerAnswers()
    {
        auto backend = std::make_shared<FakeBackend>();
        backend->change(experiment(QStringLiteral("alpha")));
        ExperimentSession session;
        QDateTime now = QDateTime(QDate(2026, 12, 8), QTime(14, 2, 11));
        session.reachability()->setClock([&now] { return now; });
        session.open(backend, experiment(QStringLiteral("alpha")));
        backend->changed = {job(QStringLiteral("j1"), JobStatus::Running)};
        session.refresh();
        backend->flush();
        const QModelIndex status = session.jobs()->index(0, JobTableModel::StatusColumn);
        QCOMPARE(status.data().toString(), QStringLiteral("Running"));

        QSignalSpy failed(&session, &ExperimentSession::failed);
        backend->outage = true;
        session.refresh();
        backend->flush();
        now = now.addSecs(5);
        session.refresh(); // retrying: the outage keeps its start
        backend->flush();
        QCOMPARE(failed.count(), 0); // no error per request
        QVERIFY(!session.reachability()->isReachable());
        QCOMPARE(session.reachability()->text(), QStringLiteral("Unreachable since 14:02:11 — retrying"));
        // A running job is only known to have been running.
        QCOMPARE(status.data().toString(), QStringLiteral("Running?"));
        QVERIFY(status.data(JobTableModel::StaleRole).toBool());

        backend->outage = false;
        session.refresh();
        backend->flush();
        QVERIFY(session.reachability()->isReachable());
        QCOMPARE(status.data().toString(), QStringLiteral("Running"));
    }

    void pauseMeetsAChangeMadeMeanwhile()
    {
        auto backend = std::make_shared<FakeBackend>();
        backend->change(experiment(QStringLiteral("alpha")));
        ExperimentSession session;
        session.open(backend, backend->experiments.value(QStringLiteral("alpha")));
        Experiment theirs = experiment(QStringLiteral("alpha"));
        theirs.scheduler.kind = Scheduler::Kind::RandomSearch;
        backend->change(theirs);
        QSignalSpy conflict(&session, &ExperimentSession::statusConflict);
        QSignalSpy saving(&session, &ExperimentSession::savingStatusChanged);
        session.setStatus(ExperimentStatus::Done);
        QVERIFY(session.isSavingStatus());
        backend->flush();
        QVERIFY(!session.isSavingStatus());
        QCOMPARE(saving.count(), 2);
        QCOMPARE(conflict.count(), 1);
        // The session holds their version (with the counts it knew), nothing was paused.
        QCOMPARE(session.experiment().etag, QByteArray("v2"));
        QCOMPARE(int(session.experiment().status), int(ExperimentStatus::Running));
        QVERIFY(session.experiment().jobCounts.has_value());
        // Again, over their version: saved.
        QSignalSpy notice(&session, &ExperimentSession::notice);
        session.setStatus(ExperimentStatus::Done);
        backend->flush();
        QCOMPARE(int(session.experiment().status), int(ExperimentStatus::Done));
        QCOMPARE(notice.value(0).value(0).toString(), QStringLiteral("Paused alpha"));
    }

    void anotherExperimentDropsTheRepliesOfTheFirst()
    {
        auto backend = std::make_shared<FakeBackend>();
        backend->change(experiment(QStringLiteral("alpha")));
        backend->change(experiment(QStringLiteral("beta")));
        ExperimentSession session;
        session.open(backend, experiment(QStringLiteral("alpha")));
        backend->changed = {job(QStringLiteral("j1"), JobStatus::Running)};
        session.refresh();
        session.open(backend, experiment(QStringLiteral("beta")));
        backend->flush();
        QCOMPARE(session.experiment().name, QStringLiteral("beta"));
        QCOMPARE(session.jobs()->rowCount(), 0);
        QVERIFY(!session.isRefreshing());
    }

    void writesFromThePage()
    {
        auto backend = std::make_shared<FakeBackend>();
        backend->change(experiment(QStringLiteral("alpha")));
        backend->changeJob(job(QStringLiteral("j1"), JobStatus::Done));
        ExperimentSession session;
        session.open(backend, experiment(QStringLiteral("alpha")));
        session.jobs()->applyChanges({backend->jobs.value(QStringLiteral("j1"))});
        session.requeue({backend->jobs.value(QStringLiteral("j1"))});
        backend->flush();
        QCOMPARE(session.jobs()->rowCount(), 2);
        session.deleteJobs({QStringLiteral("j1")});
        backend->flush();
        QCOMPARE(session.jobs()->rowCount(), 1);
        QSignalSpy deleted(&session, &ExperimentSession::deleted);
        session.deleteExperiment();
        backend->flush();
        QCOMPARE(deleted.count(), 1);
        QVERIFY(!backend->experiments.contains(QStringLiteral("alpha")));
    }
};

QTEST_MAIN(TestSession)
#include "tst_session.moc"
