#include "ChartsPanel.h"
#include "ExperimentListModel.h"
#include "ExperimentSession.h"
#include "ExperimentView.h"
#include "FakeBackend.h"
#include "JobTableModel.h"
#include "Reachability.h"
#include "ValueFormat.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QHeaderView>
#include <QLineEdit>
#include <QMessageBox>
#include <QScrollBar>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

using namespace schedy;

// The experiment page over a fake backend: what a new user hit (issue 15), without a server.
class TestExperimentPage : public QObject
{
    Q_OBJECT

    static Experiment experiment(const QString &name, Scheduler::Kind kind = Scheduler::Kind::RandomSearch)
    {
        Experiment e;
        e.name = name;
        e.scheduler.kind = kind;
        e.jobCounts = JobCounts{};
        return e;
    }
    static Job job(int n, JobStatus status = JobStatus::Done, const QCborMap &results = {})
    {
        Job j;
        j.id = QStringLiteral("HCG3%1XQ7P2M9").arg(n, 4, 10, QLatin1Char('0'));
        j.experiment = QStringLiteral("alpha");
        j.status = status;
        j.createdAt = 1000 + n;
        j.modifiedAt = 1000 + n;
        j.hyperparameters = QCborMap{{QStringLiteral("lr"), 0.01}};
        j.results = results;
        return j;
    }
    struct Page
    {
        std::shared_ptr<FakeBackend> backend = std::make_shared<FakeBackend>();
        ExperimentView view;
        QTableView *table = nullptr;
        explicit Page(const Experiment &e = experiment(QStringLiteral("alpha")))
        {
            backend->change(e);
            view.resize(1200, 700);
            view.show();
            view.open(backend, e, QStringLiteral("test/") + e.name);
            table = view.findChild<QTableView *>(QStringLiteral("jobView"));
        }
        void refresh(const QList<Job> &changed)
        {
            backend->changed = changed;
            view.refresh();
            backend->flush();
            QCoreApplication::processEvents(); // the deferred column fitting
        }
    };

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("schedy-tests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_experimentpage"));
    }

    // Defect 2: "61 jobs" over 65 rows — the count lagged one refresh behind.
    void theCountFollowsTheRows()
    {
        Page page;
        page.refresh({job(1), job(2), job(3)});
        QCOMPARE(page.table->model()->rowCount(), 3);
        QCOMPARE(page.view.totalText(), QStringLiteral("3 jobs"));
        page.refresh({job(4)});
        QCOMPARE(page.view.totalText(), QStringLiteral("4 jobs"));
    }

    // Defect 4: Tab walked the table's cells; it must leave the table.
    void tabLeavesTheTable()
    {
        Page page;
        page.refresh({job(1), job(2)});
        page.view.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&page.view));
        page.table->setFocus();
        page.table->setCurrentIndex(page.table->model()->index(0, 0));
        QVERIFY(page.table->hasFocus());
        QTest::keyClick(page.table, Qt::Key_Tab);
        QVERIFY(!page.table->hasFocus());
        QCOMPARE(page.table->currentIndex().column(), 0); // not walked to the next cell
    }

    // Defect 6: widths were fitted to the first rows only ("0.518…"); ids never truncate.
    void columnsGrowForLaterRows()
    {
        Page page;
        page.refresh({job(1, JobStatus::Done, {{QStringLiteral("loss"), 0.5}})});
        auto *model = page.view.jobModel();
        const int loss = model->columnOf({JobTableModel::ColumnSource::Result, QStringLiteral("loss")});
        QVERIFY(loss > 0);
        page.refresh({job(2, JobStatus::Done, {{QStringLiteral("loss"), 0.518234}}),
                      job(3, JobStatus::Done, {{QStringLiteral("loss"), -1234.56789}})});
        const int row = model->rowOf(job(3).id);
        const QString text = model->index(row, loss).data().toString();
        QCOMPARE(text, QStringLiteral("-1234.57"));
        QVERIFY2(page.table->columnWidth(loss) >= page.table->fontMetrics().horizontalAdvance(text) + 8,
                 qPrintable(QString::number(page.table->columnWidth(loss))));
        QVERIFY(page.table->columnWidth(JobTableModel::IdColumn) >=
                page.table->fontMetrics().horizontalAdvance(job(3).id) + 8);
    }

    // Defect 6: the id column stays visible when the table scrolls sideways.
    void theIdStaysInViewWhenScrollingSideways()
    {
        Page page;
        QCborMap results;
        for (int i = 0; i < 40; ++i)
            results.insert(QStringLiteral("metric_%1").arg(i), 0.123456 * i);
        page.refresh({job(1, JobStatus::Done, results)});
        auto *frozen = page.table->findChild<QTableView *>(QStringLiteral("frozenIdColumn"));
        QVERIFY(frozen);
        QVERIFY(!frozen->isVisible()); // the table shows the ids itself
        QScrollBar *bar = page.table->horizontalScrollBar();
        QVERIFY(bar->maximum() > 0);
        bar->setValue(bar->maximum());
        QVERIFY(frozen->isVisible());
        QCOMPARE(frozen->columnWidth(0), page.table->columnWidth(JobTableModel::IdColumn));
        const QRect cell = frozen->visualRect(frozen->model()->index(0, JobTableModel::IdColumn));
        QVERIFY(frozen->viewport()->rect().contains(cell));
        QVERIFY(cell.width() >= page.table->fontMetrics().horizontalAdvance(job(1).id));
        bar->setValue(0);
        QVERIFY(!frozen->isVisible());
    }

    // Defect 9: Esc clears the id search at once.
    void escClearsTheSearch()
    {
        Page page;
        auto *search = page.view.findChild<QLineEdit *>(QStringLiteral("idSearch"));
        page.view.focusSearch();
        QTest::keyClicks(search, QStringLiteral("HCG"));
        QTest::keyClick(search, Qt::Key_Escape);
        QVERIFY(search->text().isEmpty());
        QVERIFY(page.view.jobModel()->query().idContains.isEmpty());
    }

    // Defect 9: a paused search is "Paused", not "Done"; a finished one is "Done".
    void pausedIsNotDone()
    {
        Experiment paused = experiment(QStringLiteral("search"));
        paused.status = ExperimentStatus::Done;
        QCOMPARE(format::experimentStatusLabel(paused), QStringLiteral("Paused"));
        Experiment pbt = experiment(QStringLiteral("pbt"), Scheduler::Kind::Pbt);
        pbt.status = ExperimentStatus::Done;
        QCOMPARE(format::experimentStatusLabel(pbt), QStringLiteral("Done"));
        pbt.jobCounts->byStatus[size_t(JobStatus::Queued)] = 2;
        QCOMPARE(format::experimentStatusLabel(pbt), QStringLiteral("Paused"));
        ExperimentListModel list;
        QAbstractItemModelTester tester(&list, QAbstractItemModelTester::FailureReportingMode::QtTest);
        list.upsert(paused);
        QCOMPARE(list.index(0, ExperimentListModel::StatusColumn).data().toString(),
                 QStringLiteral("Paused"));
    }

    // Defect 8: on a random search the lineage chart was offered with an empty axis.
    void lineageIsOfferedForPbtOnly()
    {
        auto lineageOffered = [](Page &page) {
            auto *combo = page.view.chartsPanel()->findChild<QComboBox *>(QStringLiteral("chartCombo"));
            const int row = combo->findData(int(charts::ChartsPanel::Chart::Lineage));
            return qobject_cast<QStandardItemModel *>(combo->model())->item(row)->isEnabled();
        };
        Page search;
        QVERIFY(!lineageOffered(search));
        Page pbt(experiment(QStringLiteral("pbt"), Scheduler::Kind::Pbt));
        QVERIFY(lineageOffered(pbt));
    }

    // Defect 9: sorting dropped the selected job.
    void sortingKeepsTheSelectedJob()
    {
        Page page;
        page.refresh({job(1), job(2), job(3)});
        const QString id = job(2).id;
        page.table->selectRow(page.view.jobModel()->rowOf(id));
        QCOMPARE(page.view.selectedJobIds(), QList<QString>{id});
        page.table->sortByColumn(JobTableModel::IdColumn, Qt::AscendingOrder); // restarts the listing
        QCOMPARE(page.table->model()->rowCount(), 0);
        page.refresh({job(1), job(2), job(3)}); // the fake's listing: the same jobs again
        QCOMPARE(page.view.selectedJobIds(), QList<QString>{id});
    }

    // Issue 15, defect 1: while the server does not answer, the running count
    // is only the last known one and says so; it is a plain count again once
    // the server answers.
    void runningCountIsLastKnownDuringAnOutage()
    {
        Experiment e = experiment(QStringLiteral("alpha"));
        (*e.jobCounts)[JobStatus::Running] = 3;
        Page page(e);
        Reachability reachability;
        reachability.setClock([] { return QDateTime(QDate(2026, 12, 8), QTime(14, 2, 11)); });
        page.view.session()->setReachability(&reachability);
        StatusCountButton *running = nullptr;
        for (StatusCountButton *b : page.view.findChildren<StatusCountButton *>())
            if (b->status() == JobStatus::Running)
                running = b;
        QVERIFY(running);
        QCOMPARE(running->text(), QStringLiteral("3 running"));

        ClientError outage;
        outage.kind = ClientError::Kind::Network;
        QVERIFY(reachability.report(outage));
        QCOMPARE(running->text(), QStringLiteral("3 running?"));
        QVERIFY2(running->toolTip().contains(QStringLiteral("last known count")),
                 qPrintable(running->toolTip()));
        QVERIFY(running->toolTip().contains(QLocale().toString(QTime(14, 2, 11), QLocale::LongFormat)));

        reachability.reportReached();
        QCOMPARE(running->text(), QStringLiteral("3 running"));
        QVERIFY(!running->toolTip().contains(QStringLiteral("last known count")));
        page.view.session()->setReachability(nullptr);
    }

    // Issue 13: why a job was pruned or lost, the replacement chain as links both ways, lost in the counts.
    void prunedLostAndReplacedJobs()
    {
        Experiment e = experiment(QStringLiteral("alpha"));
        (*e.jobCounts)[JobStatus::Crashed] = 2;
        (*e.jobCounts)[JobStatus::Queued] = 1;
        (*e.jobCounts)[JobStatus::Pruned] = 1;
        e.jobCounts->lost = 1;
        e.pruner = PrunerSpec{};
        Page page(e);
        Job lost = job(1, JobStatus::Crashed);
        lost.lostAt = 1765154490.0;
        Job replacement = job(2, JobStatus::Queued);
        lost.replacedBy = replacement.id;
        replacement.replaces = lost.id;
        Job pruned = job(3, JobStatus::Pruned);
        pruned.pruned = PruneInfo{4, PrunerSpec::Kind::Asha, 0.9, 0.5};
        page.refresh({lost, replacement, pruned});
        QCOMPARE(page.table->model()->rowCount(), 3);
        // With a pruner, the status column has room for why a job stopped.
        QVERIFY(page.table->columnWidth(JobTableModel::StatusColumn) >
                page.table->fontMetrics().horizontalAdvance(QStringLiteral("Pruned · step 9999")));

        auto *crashed = page.view.findChild<StatusCountButton *>(QStringLiteral("countCrashed"));
        QVERIFY(crashed);
        QCOMPARE(crashed->text(), QStringLiteral("2 crashed · 1 lost"));
        QCOMPARE(page.view.findChild<StatusCountButton *>(QStringLiteral("countPruned"))->text(),
                 QStringLiteral("1 pruned"));

        auto *tree = page.view.findChild<QTreeWidget *>(QStringLiteral("detailsTree"));
        QVERIFY(tree);
        auto detail = [tree](const QString &name) -> QTreeWidgetItem * {
            const auto found = tree->findItems(name, Qt::MatchExactly | Qt::MatchRecursive, 0);
            return found.isEmpty() ? nullptr : found.first();
        };
        auto follow = [tree](QTreeWidgetItem *item) {
            tree->setFocus();
            tree->setCurrentItem(item, 1);
            QTest::keyClick(tree, Qt::Key_Return); // itemActivated, as Enter or a double-click
            QCoreApplication::processEvents();     // the selection follows from the event loop
        };
        page.view.selectJob(pruned.id);
        QCOMPARE(page.view.selectedJobIds(), QList<QString>{pruned.id});
        QVERIFY(detail(QStringLiteral("pruned")));
        QCOMPARE(detail(QStringLiteral("pruned"))->text(1),
                 QStringLiteral("at step 4 by the asha rule: 0.9, worse than 0.5"));
        QVERIFY(!detail(QStringLiteral("lost")));

        page.view.selectJob(lost.id);
        QVERIFY(detail(QStringLiteral("lost")));
        QVERIFY(
            detail(QStringLiteral("lost"))->text(1).contains(QStringLiteral("silent longer than the lease")));
        QTreeWidgetItem *link = detail(QStringLiteral("replaced by"));
        QVERIFY(link);
        QCOMPARE(link->text(1), replacement.id);
        follow(link);
        QCOMPARE(page.view.selectedJobIds(), QList<QString>{replacement.id});
        link = detail(QStringLiteral("replaces"));
        QVERIFY(link);
        QCOMPARE(link->text(1), lost.id);
        QVERIFY(!detail(QStringLiteral("replaced by")));

        // The lost job is not loaded (only queued jobs are shown): the link looks it up by id.
        page.view.setStatusFilter({JobStatus::Queued});
        page.refresh({lost, replacement, pruned});
        QCOMPARE(page.table->model()->rowCount(), 1);
        page.view.selectJob(replacement.id);
        follow(detail(QStringLiteral("replaces")));
        QVERIFY(page.view.jobModel()->statusFilter().isEmpty());
        QCOMPARE(page.view.jobModel()->query().idContains, lost.id);
        page.refresh({lost, replacement, pruned});
        QCOMPARE(page.table->model()->rowCount(), 1);
        QCOMPARE(page.view.selectedJobIds(), QList<QString>{lost.id});
        QCOMPARE(detail(QStringLiteral("replaced by"))->text(1), replacement.id);

        // No loss: no detail on the count.
        e.jobCounts->lost = 0;
        page.backend->change(e);
        page.view.refresh();
        page.backend->flush();
        QCOMPARE(crashed->text(), QStringLiteral("2 crashed"));
    }

    // Defect 9: plain plurals, and a chart export is confirmed like the other actions.
    void plainWordsAndConfirmations()
    {
        QCOMPARE(format::count(1, QStringLiteral("exploit step")), QStringLiteral("1 exploit step"));
        QCOMPARE(format::jobs(84), QStringLiteral("84 jobs"));
        QCOMPARE(format::jobs(0), QStringLiteral("0 jobs"));
        Page page;
        page.refresh({job(1, JobStatus::Done, {{QStringLiteral("loss"), 0.5}})});
        QSignalSpy notice(&page.view, &ExperimentView::notice);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("chart.png"));
        QVERIFY(page.view.chartsPanel()->exportPng(path));
        QCOMPARE(notice.count(), 1);
        QVERIFY(notice.value(0).value(0).toString().contains(path));
    }
};

QTEST_MAIN(TestExperimentPage)
#include "tst_experimentpage.moc"
