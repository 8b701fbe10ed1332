#include "Client.h"
#include "ExperimentListModel.h"
#include "JobTableModel.h"
#include "Json.h"
#include "TestServer.h"

#include <QAbstractItemModelTester>
#include <QSortFilterProxyModel>
#include <QtTest>

using namespace schedy;
using namespace schedy::test;

// The dashboard's models against a live server: paging, server-side sorting
// and filtering, live updates; every model under QAbstractItemModelTester.
class TestJobTableModel : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> m_server;
    ClientConfig m_config;
    std::unique_ptr<HttpTestClient> m_http;

    QByteArray jobBody(int i, const char *status)
    {
        QCborArray loss;
        for (int e = 0; e < 5; ++e)
            loss.append(1.0 / (e + 1 + i));
        QCborMap body{
            {QStringLiteral("status"), QString::fromLatin1(status)},
            {QStringLiteral("hyperparameters"), QCborMap{{QStringLiteral("lr"), 0.001 * ((i * 37) % 250 + 1)},
                                                         {QStringLiteral("n"), qint64(i % 7)}}},
            {QStringLiteral("results"),
             QCborMap{{QStringLiteral("loss"), loss}, {QStringLiteral("acc"), 0.5 + i / 1000.0}}}};
        return json::write(body);
    }

private slots:
    void init()
    {
        m_server = std::make_unique<TestServer>();
        QVERIFY(m_server->start());
        m_config = m_server->addUser(QStringLiteral("models@example.com"));
        m_http = std::make_unique<HttpTestClient>(m_server->root());
        QVERIFY(m_http->login(m_config));
        QCOMPARE(m_http
                     ->put(QStringLiteral("experiments/mnist/"),
                           R"({"status":"RUNNING","scheduler":{"Manual":null}})")
                     .status,
                 201);
        for (int i = 0; i < 250; ++i)
            QCOMPARE(m_http
                         ->post(QStringLiteral("experiments/mnist/jobs/"),
                                jobBody(i, i % 5 == 0 ? "RUNNING" : "DONE"))
                         .status,
                     201);
    }
    void cleanup()
    {
        m_http.reset();
        m_server.reset();
    }

    void pagesOnDemand()
    {
        Client client(m_config);
        JobTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy pages(&model, &JobTableModel::pageLoaded);
        model.setSource(&client, QStringLiteral("mnist"), 100);
        QVERIFY(model.canFetchMore({}));
        model.fetchMore({});
        QVERIFY(pages.wait(10000));
        QCOMPARE(model.rowCount(), 100);
        QCOMPARE(model.totalCount(), 250);
        QVERIFY(model.canFetchMore({}));
        // Columns: the fixed ones, then hyperparameters, then results, in order of appearance.
        QStringList keys;
        for (const auto &k : model.columnKeys())
            keys << k.key();
        QCOMPARE(keys, (QStringList{QStringLiteral("id"), QStringLiteral("status"),
                                    QStringLiteral("createdAt"), QStringLiteral("modifiedAt"),
                                    QStringLiteral("hyperparameters.lr"), QStringLiteral("hyperparameters.n"),
                                    QStringLiteral("results.loss"), QStringLiteral("results.acc")}));
        // Newest first by default.
        QVERIFY(model.rowAt(0).createdAt >= model.rowAt(99).createdAt);
        while (model.canFetchMore({})) {
            model.fetchMore({});
            QVERIFY(pages.wait(10000));
        }
        QCOMPARE(model.rowCount(), 250);
        QVERIFY(model.isComplete());
        QSet<QString> ids;
        for (int r = 0; r < model.rowCount(); ++r)
            ids.insert(model.rowAt(r).id);
        QCOMPARE(ids.size(), 250);
        // A curve shows its last value and length, and exposes its points.
        const int loss = model.columnOf({JobTableModel::ColumnSource::Result, QStringLiteral("loss")});
        const QModelIndex cell = model.index(0, loss);
        QVERIFY(cell.data().toString().endsWith(QStringLiteral("(5)")));
        QCOMPARE(cell.data(JobTableModel::CurveRole).value<QList<double>>().size(), 5);
        QCOMPARE(int(cell.data(Qt::TextAlignmentRole).toInt() & Qt::AlignRight), int(Qt::AlignRight));
    }

    void sortsOnTheServer()
    {
        Client client(m_config);
        JobTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy pages(&model, &JobTableModel::pageLoaded);
        model.setSource(&client, QStringLiteral("mnist"), 100);
        model.fetchMore({});
        QVERIFY(pages.wait(10000));
        const int lr = model.columnOf({JobTableModel::ColumnSource::Hyperparameter, QStringLiteral("lr")});
        QVERIFY(lr > 0);
        model.sort(lr, Qt::AscendingOrder);
        QCOMPARE(model.rowCount(), 0); // restarted
        model.fetchMore({});
        QVERIFY(pages.wait(10000));
        QCOMPARE(model.rowCount(), 100);
        for (int r = 1; r < model.rowCount(); ++r)
            QVERIFY(model.index(r - 1, lr).data(JobTableModel::NumberRole).toDouble() <=
                    model.index(r, lr).data(JobTableModel::NumberRole).toDouble());
        // The smallest learning rate of all 250 jobs is on the first page.
        QCOMPARE(model.index(0, lr).data(JobTableModel::NumberRole).toDouble(), 0.001);
        model.sort(lr, Qt::DescendingOrder);
        model.fetchMore({});
        QVERIFY(pages.wait(10000));
        QCOMPARE(model.index(0, lr).data(JobTableModel::NumberRole).toDouble(), 0.25);
    }

    void filtersOnTheServer()
    {
        Client client(m_config);
        JobTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy pages(&model, &JobTableModel::pageLoaded);
        model.setSource(&client, QStringLiteral("mnist"), 500);
        model.setStatusFilter({JobStatus::Running});
        model.fetchMore({});
        QVERIFY(pages.wait(10000));
        QCOMPARE(model.rowCount(), 50);
        QCOMPARE(model.totalCount(), 50);
        for (int r = 0; r < model.rowCount(); ++r)
            QCOMPARE(int(model.rowAt(r).status), int(JobStatus::Running));
        const QString someId = model.rowAt(7).id;
        model.setIdFilter(someId);
        model.fetchMore({});
        QVERIFY(pages.wait(10000));
        QVERIFY(model.rowCount() >= 1);
        QCOMPARE(model.rowAt(0).id, someId);
    }

    void snapshotStaysAsTaken()
    {
        // No server: appends in creation order, as the chart bench fills it.
        JobTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.sort(JobTableModel::CreatedColumn, Qt::AscendingOrder);
        auto job = [](int i, double acc) {
            Job j;
            j.id = QStringLiteral("j%1").arg(i);
            j.status = JobStatus::Done;
            j.createdAt = 100 + i;
            j.hyperparameters = QCborMap{{QStringLiteral("lr"), 0.1 * i}};
            j.results = QCborMap{{QStringLiteral("acc"), acc}};
            return j;
        };
        model.applyChanges({job(1, 0.5), job(2, 0.6)});
        const JobTableModel::Snapshot snap = model.snapshot();
        QCOMPARE(snap.rows.size(), 2);
        QCOMPARE(snap.columnSlots.size(), model.columnCount() - JobTableModel::FixedColumnCount);
        for (int c = JobTableModel::FixedColumnCount; c < model.columnCount(); ++c) {
            const int slot = snap.columnSlots[c - JobTableModel::FixedColumnCount];
            QVERIFY(snap.slotKeys[slot] == model.columnKey(c));
            QCOMPARE(snap.rows[1].values.value(slot), model.value(1, c));
        }

        // Later changes (an update in place, a new job, a new column) leave it alone.
        Job changed = job(1, 0.9);
        changed.results.insert(QStringLiteral("loss"), 0.1);
        model.applyChanges({changed, job(3, 0.7)});
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(snap.rows.size(), 2);
        const int acc = model.columnOf({JobTableModel::ColumnSource::Result, QStringLiteral("acc")});
        const int accSlot = snap.columnSlots[acc - JobTableModel::FixedColumnCount];
        QCOMPARE(snap.rows[0].values.value(accSlot).toDouble(), 0.5);
        QCOMPARE(model.value(0, acc).toDouble(), 0.9);
        QCOMPARE(snap.slotKeys.size(), 2);
        QCOMPARE(model.snapshot().slotKeys.size(), 3);
    }

    void prunedAndLostJobsSayWhy()
    {
        // No server: a pruned job, a lost one and its replacement, as the live refresh brings them.
        JobTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.sort(JobTableModel::CreatedColumn, Qt::AscendingOrder);
        auto job = [](const char *id, JobStatus status, double createdAt) {
            Job j;
            j.id = QString::fromLatin1(id);
            j.status = status;
            j.createdAt = createdAt;
            j.results = QCborMap{{QStringLiteral("loss"), QCborArray{0.9, 0.8}}};
            return j;
        };
        Job pruned = job("p", JobStatus::Pruned, 1);
        pruned.pruned = PruneInfo{2, PrunerSpec::Kind::Median, 0.8, 0.5};
        Job lost = job("l", JobStatus::Crashed, 2);
        lost.lostAt = 1765154490.0; // 2025-12-08 00:41:30 UTC
        lost.replacedBy = QStringLiteral("r");
        Job replacement = job("r", JobStatus::Queued, 3);
        replacement.replaces = QStringLiteral("l");
        const Job plain = job("d", JobStatus::Crashed, 4);
        model.applyChanges({pruned, lost, replacement, plain});
        QCOMPARE(model.rowCount(), 4);

        auto status = [&model](int row, int role) {
            return model.data(model.index(row, JobTableModel::StatusColumn), role);
        };
        // Pruned: the step in the table, the rule and values in the tooltip and role.
        QCOMPARE(status(0, Qt::DisplayRole).toString(), QStringLiteral("Pruned · step 2"));
        QCOMPARE(status(0, JobTableModel::PrunedAtRole).toLongLong(), 2);
        QCOMPARE(status(0, JobTableModel::PruneReasonRole).toString(),
                 QStringLiteral("at step 2 by the median rule: 0.8, worse than 0.5"));
        QVERIFY(status(0, Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("median rule: 0.8, worse than 0.5")));
        QVERIFY(!status(0, JobTableModel::LostAtRole).isValid());
        // Lost: when, and by whom it was replaced, both ways.
        QCOMPARE(status(1, Qt::DisplayRole).toString(), QStringLiteral("Crashed · lost"));
        QCOMPARE(status(1, JobTableModel::LostAtRole).toDouble(), 1765154490.0);
        QCOMPARE(status(1, JobTableModel::ReplacedByRole).toString(), QStringLiteral("r"));
        QVERIFY(status(1, Qt::ToolTipRole).toString().contains(QStringLiteral("2025-12-08 00:41:30 UTC")));
        QVERIFY(status(1, Qt::ToolTipRole).toString().contains(QStringLiteral("replaced by r")));
        QVERIFY(!status(1, JobTableModel::PrunedAtRole).isValid());
        QCOMPARE(status(2, JobTableModel::ReplacesRole).toString(), QStringLiteral("l"));
        QCOMPARE(status(2, Qt::DisplayRole).toString(), QStringLiteral("Queued"));
        QVERIFY(status(2, Qt::ToolTipRole).toString().contains(QStringLiteral("Replaces the lost job l")));
        // A crash that is not a loss stays a plain crash.
        QCOMPARE(status(3, Qt::DisplayRole).toString(), QStringLiteral("Crashed"));
        QVERIFY(!status(3, Qt::ToolTipRole).isValid());
        QVERIFY(!status(3, JobTableModel::ReplacedByRole).isValid());
        // The job as the details show it keeps all of it.
        QCOMPARE(model.job(0).pruned, pruned.pruned);
        QCOMPARE(model.job(1).lostAt, lost.lostAt);
        QCOMPARE(model.job(1).replacedBy, QStringLiteral("r"));
        QCOMPARE(model.job(2).replaces, QStringLiteral("l"));
        QVERIFY(!model.job(3).pruned && !model.job(3).lostAt);

        // The replacement runs, the lost job's row updates in place: the links stay.
        replacement.status = JobStatus::Running;
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.applyChanges({replacement});
        QCOMPARE(changed.size(), 1);
        QCOMPARE(status(2, Qt::DisplayRole).toString(), QStringLiteral("Running"));
        QCOMPARE(status(2, JobTableModel::ReplacesRole).toString(), QStringLiteral("l"));

        // The experiment list says how many crashed jobs were lost.
        ExperimentListModel experiments;
        QAbstractItemModelTester listTester(&experiments,
                                            QAbstractItemModelTester::FailureReportingMode::QtTest);
        Experiment e;
        e.name = QStringLiteral("leased");
        e.jobCounts = JobCounts{};
        (*e.jobCounts)[JobStatus::Crashed] = 3;
        e.jobCounts->lost = 2;
        experiments.upsert(e);
        const QModelIndex crashed = experiments.index(0, ExperimentListModel::CrashedColumn);
        QCOMPARE(crashed.data().toLongLong(), 3);
        QVERIFY(crashed.data(Qt::ToolTipRole).toString().startsWith(QStringLiteral("2 of them lost")));
        e.jobCounts->lost = 0;
        experiments.upsert(e);
        QVERIFY(!experiments.index(0, ExperimentListModel::CrashedColumn).data(Qt::ToolTipRole).isValid());
    }

    void liveUpdatesInPlace()
    {
        Client client(m_config);
        JobTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy pages(&model, &JobTableModel::pageLoaded);
        model.setSource(&client, QStringLiteral("mnist"), 1000);
        model.fetchMore({});
        QVERIFY(pages.wait(10000));
        QCOMPARE(model.rowCount(), 100); // a small first page, then full ones
        model.fetchMore({});
        QVERIFY(pages.wait(10000));
        QCOMPARE(model.rowCount(), 250);
        QVERIFY(model.isComplete());
        const double since = model.latestModification();

        // A worker reports on a running job, another job appears.
        const int row = 10;
        const QString id = model.rowAt(row).id;
        Reply current = m_http->get(QStringLiteral("experiments/mnist/jobs/%1/").arg(id));
        QCOMPARE(current.status, 200);
        QCOMPARE(m_http
                     ->put(QStringLiteral("experiments/mnist/jobs/%1/").arg(id),
                           R"({"status":"DONE","hyperparameters":{"lr":0.5,"n":1},"results":{"acc":0.99}})",
                           {{"If-Match", current.header("ETag")}})
                     .status,
                 200);
        const Reply added = m_http->post(QStringLiteral("experiments/mnist/jobs/"), jobBody(999, "QUEUED"));
        QCOMPARE(added.status, 201);

        auto *changes = client.changesSince(QStringLiteral("mnist"), since);
        QSignalSpy done(changes, &CallBase::finished);
        QVERIFY(done.wait(10000));
        QVERIFY(changes->ok());
        // modifiedSince is inclusive: the last job seen may come again (merged idempotently).
        QVERIFY(changes->value().items.size() >= 2 && changes->value().items.size() <= 3);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        model.applyChanges(changes->value().items);
        QCOMPARE(reset.count(), 0);    // no reset: scroll and selection survive
        QCOMPARE(inserted.count(), 1); // the new job, on top (newest first)
        QVERIFY(changed.count() >= 1);
        QCOMPARE(model.rowCount(), 251);
        QCOMPARE(model.rowAt(0).id, added.json.toMap().value(QStringLiteral("id")).toString());
        const int updated = model.rowOf(id);
        QCOMPARE(updated, row + 1); // same place, shifted by the insert above it
        const int acc = model.columnOf({JobTableModel::ColumnSource::Result, QStringLiteral("acc")});
        QCOMPARE(model.index(updated, acc).data(JobTableModel::NumberRole).toDouble(), 0.99);
        QCOMPARE(int(model.rowAt(updated).status), int(JobStatus::Done));
        QVERIFY(model.latestModification() > since);

        // A filter drops a job that stops matching.
        model.setStatusFilter({JobStatus::Queued});
        model.fetchMore({});
        QVERIFY(pages.wait(10000));
        QCOMPARE(model.rowCount(), 1);
        const QString queued = model.rowAt(0).id;
        Reply q = m_http->get(QStringLiteral("experiments/mnist/jobs/%1/").arg(queued));
        QCOMPARE(m_http
                     ->put(QStringLiteral("experiments/mnist/jobs/%1/").arg(queued),
                           R"({"status":"RUNNING"})", {{"If-Match", q.header("ETag")}})
                     .status,
                 200);
        auto *more = client.changesSince(QStringLiteral("mnist"), model.latestModification());
        QSignalSpy moreDone(more, &CallBase::finished);
        QVERIFY(moreDone.wait(10000));
        model.applyChanges(more->value().items);
        QCOMPARE(model.rowCount(), 0);
    }

    void experimentListMerges()
    {
        Client client(m_config);
        ExperimentListModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setFilterCaseSensitivity(Qt::CaseInsensitive);
        QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy loaded(&model, &ExperimentListModel::loaded);
        model.setClient(&client);
        model.fetchMore({});
        QVERIFY(loaded.wait(10000));
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.index(0, ExperimentListModel::JobsColumn).data().toLongLong(), 250);
        QCOMPARE(model.index(0, ExperimentListModel::RunningColumn).data().toLongLong(), 50);

        QCOMPARE(m_http
                     ->put(QStringLiteral("experiments/cifar/"),
                           R"({"status":"DONE","scheduler":{"Manual":null}})")
                     .status,
                 201);
        model.refresh();
        QVERIFY(loaded.wait(10000));
        QCOMPARE(model.rowCount(), 2);
        proxy.setFilterFixedString(QStringLiteral("CIF"));
        QCOMPARE(proxy.rowCount(), 1);
        QCOMPARE(proxy.index(0, 0).data(ExperimentListModel::NameRole).toString(), QStringLiteral("cifar"));

        QCOMPARE(m_http->del(QStringLiteral("experiments/mnist/")).status, 204);
        model.refresh();
        QVERIFY(loaded.wait(10000));
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.rowAt(0).name, QStringLiteral("cifar"));
    }
};

QTEST_MAIN(TestJobTableModel)
#include "tst_jobtablemodel.moc"
