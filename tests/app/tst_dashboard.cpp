#include "ConnectionDialog.h"
#include "ConnectionManager.h"
#include "ExperimentDialog.h"
#include "ExperimentListModel.h"
#include "ExperimentView.h"
#include "JobDialog.h"
#include "JobTableModel.h"
#include "Json.h"
#include "LocalServer.h"
#include "MainWindow.h"
#include "TestServer.h"

#include <QAbstractItemModelTester>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QRadioButton>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

using namespace schedy;
using namespace schedy::test;

// The real window, offscreen, against real servers.
class TestDashboard : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    static bool onlyOwnerMayRead(const QString &path)
    {
        const auto p = QFile::permissions(path);
        const auto others = QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ExeGroup |
                            QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther;
        return (p & QFileDevice::ReadOwner) && (p & QFileDevice::WriteOwner) && !(p & others);
    }

    // Counts the modal dialogs opened while `action` runs (closing each), so
    // a shortcut that opens a message box does not block the test.
    static int modalsDuring(const std::function<void()> &action)
    {
        int opened = 0;
        QTimer closer;
        closer.setInterval(10);
        QObject::connect(&closer, &QTimer::timeout, [&opened] {
            if (QWidget *modal = QApplication::activeModalWidget()) {
                ++opened;
                modal->close();
            }
        });
        closer.start();
        action(); // a shortcut's message box runs its own loop in here, where the closer counts it
        return opened;
    }

    void isolate(ConnectionManager &cm, const QString &name)
    {
        const QString base = m_dir.path() + QLatin1Char('/') + name;
        cm.setStorage(base + QStringLiteral("/dashboard.ini"), base + QStringLiteral("/secrets.json"),
                      base + QStringLiteral("/data"));
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("schedy-tests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_dashboard"));
        QVERIFY(m_dir.isValid());
    }

    void embeddedServerOnFirstStart()
    {
        // Nothing configured: the dashboard starts its own server and connects.
        ConnectionManager cm;
        isolate(cm, QStringLiteral("first"));
        QCOMPARE(cm.lastProfile(), ConnectionProfile::localName());
        cm.connectTo(cm.lastProfile());
        QTRY_COMPARE_WITH_TIMEOUT(cm.state(), ConnectionManager::State::Connected, 20000);
        const QString configPath = m_dir.path() + QStringLiteral("/first/data/local-client.json");
        QVERIFY(QFile::exists(configPath));
        QVERIFY(onlyOwnerMayRead(configPath));
        const ClientConfig first = cm.localServer()->config();
        QVERIFY(first.root.startsWith(QLatin1String("http://127.0.0.1:")));

        // The embedded server serves workers: a worker's request works with that config.
        HttpTestClient worker(first.root);
        QVERIFY(worker.login(first));
        QCOMPARE(worker.put(QStringLiteral("experiments/local/"), R"({"scheduler":{"Manual":null}})").status,
                 201);
        cm.localServer()->stop();

        // Second start: the same user and data.
        ConnectionManager again;
        isolate(again, QStringLiteral("first"));
        again.connectTo(ConnectionProfile::localName());
        QTRY_COMPARE_WITH_TIMEOUT(again.state(), ConnectionManager::State::Connected, 20000);
        QCOMPARE(again.localServer()->config().email, first.email);
        QCOMPARE(again.localServer()->config().token, first.token);
        HttpTestClient worker2(again.localServer()->config().root);
        QVERIFY(worker2.login(again.localServer()->config()));
        QCOMPARE(worker2.get(QStringLiteral("experiments/local/")).status, 200);
    }

    void profilesKeepSecretsPrivate()
    {
        ConnectionManager cm;
        isolate(cm, QStringLiteral("profiles"));
        ConnectionProfile p;
        p.name = QStringLiteral("lab");
        p.config.root = QStringLiteral("https://schedy.lab.example/");
        p.config.email = QStringLiteral("me@lab.example");
        p.config.token = QStringLiteral("s3cret");
        QString error;
        QVERIFY2(cm.saveProfile(p, &error), qPrintable(error));
        const auto profiles = cm.profiles();
        QCOMPARE(profiles.size(), 2);
        QCOMPARE(profiles[1].config.token, QStringLiteral("s3cret"));
        const QString secrets = m_dir.path() + QStringLiteral("/profiles/secrets.json");
        QVERIFY(onlyOwnerMayRead(secrets));
        QFile ini(m_dir.path() + QStringLiteral("/profiles/dashboard.ini"));
        QVERIFY(ini.open(QIODevice::ReadOnly));
        QVERIFY(!ini.readAll().contains("s3cret")); // the settings file holds no secret
        QVERIFY(cm.removeProfile(QStringLiteral("lab")));
        QCOMPARE(cm.profiles().size(), 1);
    }

    void browsesAndRefreshes()
    {
        TestServer server;
        QVERIFY(server.start());
        const ClientConfig config = server.addUser(QStringLiteral("gui@example.com"));
        HttpTestClient http(server.root());
        QVERIFY(http.login(config));
        QCOMPARE(http.put(QStringLiteral("experiments/alpha/"), R"({"scheduler":{"Manual":null}})").status,
                 201);
        QCOMPARE(http.put(QStringLiteral("experiments/beta%20search/"),
                          R"({"scheduler":{"RandomSearch":{"lr":{"loguniform":{"low":0.0001,"high":0.1}}}}})")
                     .status,
                 201);
        for (int i = 0; i < 30; ++i)
            QCOMPARE(http.get(QStringLiteral("experiments/beta%20search/nextjob/")).status, 200);

        ConnectionManager cm;
        isolate(cm, QStringLiteral("browse"));
        MainWindow window(&cm);
        window.setAutoRefresh(false, 5);
        window.resize(1200, 800);
        window.show();
        ConnectionProfile profile;
        profile.name = QStringLiteral("test server");
        profile.config = config;
        cm.connectWith(profile);
        QTRY_COMPARE_WITH_TIMEOUT(cm.state(), ConnectionManager::State::Connected, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(window.experimentModel()->rowCount(), 2, 10000);

        QVERIFY(window.selectExperiment(QStringLiteral("beta search")));
        ExperimentView *view = window.experimentPage();
        QCOMPARE(view->experiment().name, QStringLiteral("beta search"));
        auto *table = view->findChild<QTableView *>(QStringLiteral("jobView"));
        QVERIFY(table);
        QTRY_COMPARE_WITH_TIMEOUT(table->model()->rowCount(), 30, 10000);
        QVERIFY(table->isVisible());
        const int lr =
            view->jobModel()->columnOf({JobTableModel::ColumnSource::Hyperparameter, QStringLiteral("lr")});
        QVERIFY(lr >= JobTableModel::FixedColumnCount);

        // Select a job, let a worker finish it, refresh: the row updates in place,
        // the selection stays, a new job appears.
        table->selectRow(5);
        const QString selectedId = view->selectedJobIds().value(0);
        QVERIFY(!selectedId.isEmpty());
        Reply job = http.get(QStringLiteral("experiments/beta%20search/jobs/%1/").arg(selectedId));
        QCOMPARE(
            http.put(QStringLiteral("experiments/beta%20search/jobs/%1/").arg(selectedId),
                     R"({"status":"DONE","hyperparameters":{"lr":0.01},"results":{"loss":[0.9,0.5,0.2]}})",
                     {{"If-Match", job.header("ETag")}})
                .status,
            200);
        QCOMPARE(http.get(QStringLiteral("experiments/beta%20search/nextjob/")).status, 200);
        window.refresh();
        QTRY_COMPARE_WITH_TIMEOUT(table->model()->rowCount(), 31, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(view->selectedJobIds().value(0), selectedId, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(int(view->jobModel()->rowAt(view->jobModel()->rowOf(selectedId)).status),
                                  int(JobStatus::Done), 10000);
        QVERIFY(!window.isBannerVisible());

        // Job keys act on the job table only: Del in the experiment list offers no job deletion.
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        auto *list = window.findChild<QTableView *>(QStringLiteral("experimentView"));
        QVERIFY(list);
        list->setFocus();
        QCOMPARE(modalsDuring([&] { QTest::keyClick(list, Qt::Key_Delete); }), 0);
        table->setFocus();
        table->selectRow(0);
        QCOMPARE(modalsDuring([&] { QTest::keyClick(table, Qt::Key_Delete); }), 1); // asks, and was cancelled
        QCOMPARE(table->model()->rowCount(), 31);

        // Enter on a job edits it.
        QVERIFY(!window.findChild<JobDialog *>());
        QTest::keyClick(table, Qt::Key_Return);
        QTRY_VERIFY(window.findChild<JobDialog *>());
        QVERIFY(window.findChild<JobDialog *>()->isVisible());
        window.findChild<JobDialog *>()->reject();
    }

    void emptyStatesAndColumnWidths()
    {
        TestServer server;
        QVERIFY(server.start());
        const ClientConfig config = server.addUser(QStringLiteral("empty@example.com"));
        HttpTestClient http(server.root());
        QVERIFY(http.login(config));

        ConnectionManager cm;
        isolate(cm, QStringLiteral("empty"));
        MainWindow window(&cm);
        window.setAutoRefresh(false, 5);
        window.resize(1200, 800);
        window.show();
        ConnectionProfile profile;
        profile.name = QStringLiteral("empty server");
        profile.config = config;
        cm.connectWith(profile);
        // A server without experiments says so, and offers what to do next.
        QTRY_COMPARE_WITH_TIMEOUT(window.emptyPageTitle(), QStringLiteral("No experiments yet"), 10000);
        auto *newButton = window.findChild<QPushButton *>(QStringLiteral("emptyNewButton"));
        QVERIFY(newButton && newButton->isVisible());
        QVERIFY(window.findChild<QPushButton *>(QStringLiteral("emptyWorkerButton"))->isVisible());

        QCOMPARE(http.put(QStringLiteral("experiments/fresh/"),
                          R"({"scheduler":{"RandomSearch":{"lr":{"loguniform":{"low":0.0001,"high":0.1}}}}})")
                     .status,
                 201);
        window.refresh();
        QTRY_COMPARE_WITH_TIMEOUT(window.experimentModel()->rowCount(), 1, 10000);
        QTRY_VERIFY(window.emptyPageTitle().isEmpty()); // the experiment is selected
        ExperimentView *view = window.experimentPage();
        QTRY_VERIFY_WITH_TIMEOUT(view->placeholderText().contains(QStringLiteral("No jobs yet")), 10000);
        auto *details = view->findChild<QLabel *>(QStringLiteral("detailsPlaceholder"));
        QVERIFY(details && details->isVisible());
        QVERIFY(!view->findChild<QPushButton *>(QStringLiteral("copyJsonButton"))->isEnabled());

        // The first page was empty: columns are fitted when the first job arrives, not to the header.
        QCOMPARE(http.get(QStringLiteral("experiments/fresh/nextjob/")).status, 200);
        window.refresh();
        auto *table = view->findChild<QTableView *>(QStringLiteral("jobView"));
        QTRY_COMPARE_WITH_TIMEOUT(table->model()->rowCount(), 1, 10000);
        QTRY_VERIFY(view->placeholderText().isEmpty());
        const QString id = table->model()->index(0, JobTableModel::IdColumn).data().toString();
        QTRY_VERIFY(table->columnWidth(JobTableModel::IdColumn) > table->fontMetrics().horizontalAdvance(id));
        QVERIFY(table->columnWidth(JobTableModel::StatusColumn) >
                table->fontMetrics().horizontalAdvance(QStringLiteral("Running")) +
                    20); // the dot, the widest status

        // Searching for what is not there says so and offers the way back.
        auto *search = view->findChild<QLineEdit *>(QStringLiteral("idSearch"));
        QTest::keyClicks(search, QStringLiteral("no-such-id"));
        QTRY_VERIFY_WITH_TIMEOUT(view->placeholderText().contains(QStringLiteral("No jobs match")), 10000);
        view->clearFilters();
        QTRY_COMPARE_WITH_TIMEOUT(table->model()->rowCount(), 1, 10000);
        QVERIFY(search->text().isEmpty());
        QTRY_VERIFY(view->placeholderText().isEmpty());

        // Selecting the job fills the details and enables copying.
        table->selectRow(0);
        QVERIFY(!details->isVisible());
        QVERIFY(view->findChild<QPushButton *>(QStringLiteral("copyJsonButton"))->isEnabled());

        // A long name is elided in the header, not widening the window.
        const int before = window.minimumSizeHint().width();
        const QString longName = QStringLiteral("a very long experiment name ").repeated(6).trimmed();
        QCOMPARE(http.put(QStringLiteral("experiments/%1/")
                              .arg(QString::fromLatin1(QUrl::toPercentEncoding(longName))),
                          R"({"scheduler":{"Manual":null}})")
                     .status,
                 201);
        window.refresh();
        QTRY_COMPARE_WITH_TIMEOUT(window.experimentModel()->rowCount(), 2, 10000);
        QVERIFY(window.selectExperiment(longName));
        QCOMPARE(view->experiment().name, longName);
        QCOMPARE(window.minimumSizeHint().width(), before);
        // Half of a 1366 px laptop screen: the header's secondary actions go into "More".
        QVERIFY2(window.minimumSizeHint().width() <= 680,
                 qPrintable(QString::number(window.minimumSizeHint().width())));
    }

    // UX review 2026-11-29, left: the window did not fit half a 1366 px screen. Narrow, Edit…,
    // Duplicate… and Delete… go into a "More" menu that still does what the buttons did.
    void narrowWindowMovesActionsIntoMore()
    {
        TestServer server;
        QVERIFY(server.start());
        const ClientConfig config = server.addUser(QStringLiteral("narrow@example.com"));
        HttpTestClient http(server.root());
        QVERIFY(http.login(config));
        QCOMPARE(http.put(QStringLiteral("experiments/narrow%20random%20search/"),
                          R"({"scheduler":{"Manual":null}})")
                     .status,
                 201);

        ConnectionManager cm;
        isolate(cm, QStringLiteral("narrow"));
        MainWindow window(&cm);
        window.setAutoRefresh(false, 5);
        window.resize(1200, 800);
        window.show();
        ConnectionProfile profile;
        profile.name = QStringLiteral("narrow server");
        profile.config = config;
        cm.connectWith(profile);
        QTRY_COMPARE_WITH_TIMEOUT(window.experimentModel()->rowCount(), 1, 10000);
        QVERIFY(window.selectExperiment(QStringLiteral("narrow random search")));
        ExperimentView *view = window.experimentPage();
        QTRY_COMPARE(view->experiment().name, QStringLiteral("narrow random search"));
        auto *bar = view->findChild<ActionBar *>(QStringLiteral("headerActions"));
        QVERIFY(bar);
        auto *more = bar->moreButton();
        auto *edit = view->findChild<QPushButton *>(QStringLiteral("editButton"));
        auto *remove = view->findChild<QPushButton *>(QStringLiteral("deleteButton"));
        auto *queue = view->findChild<QPushButton *>(QStringLiteral("queueButton"));
        auto *pause = view->findChild<QPushButton *>(QStringLiteral("pauseButton"));

        // Wide: all five buttons, no "More".
        QTRY_VERIFY(bar->overflowed().isEmpty());
        QVERIFY(edit->isVisible() && remove->isVisible());
        QVERIFY(!more->isVisible());

        // Half a laptop screen: the window fits, Queue and Pause stay, the rest is in "More".
        QVERIFY2(window.minimumSizeHint().width() <= 680,
                 qPrintable(QString::number(window.minimumSizeHint().width())));
        window.resize(680, 700);
        QTRY_COMPARE(window.width(), 680);
        QTRY_VERIFY(more->isVisible());
        QVERIFY(!bar->overflowed().isEmpty());
        QVERIFY(bar->overflowed().contains(remove));
        QVERIFY(queue->isVisible() && pause->isVisible());
        // The kind goes before the name is squeezed (the name matters more).
        auto *kind = view->findChild<QLabel *>(QStringLiteral("kindLabel"));
        QVERIFY(!kind->isVisible());
        for (QWidget *w :
             {static_cast<QWidget *>(queue), static_cast<QWidget *>(pause), static_cast<QWidget *>(more)}) {
            // Nothing is cut off at the right edge.
            const QRect r(w->mapTo(&window, QPoint(0, 0)), w->size());
            QVERIFY2(window.rect().contains(r), qPrintable(w->objectName()));
        }
        QVERIFY(more->toolTip().contains(QStringLiteral("Delete…")));
        // The menu lists what overflowed, and its entries act as the buttons did.
        QAction *deleteAction = nullptr;
        for (QAction *a : more->menu()->actions()) {
            if (a->isVisible() && a->text() == QStringLiteral("Delete…"))
                deleteAction = a;
        }
        QVERIFY(deleteAction);
        QCOMPARE(modalsDuring([&] { deleteAction->trigger(); }), 1); // asks, and was cancelled
        QCOMPARE(window.experimentModel()->rowCount(), 1);

        // Pause becomes Resume (a wider text): still there, still fitting.
        pause->click();
        QTRY_COMPARE_WITH_TIMEOUT(pause->text(), QStringLiteral("Resume"), 10000);
        QTRY_VERIFY(window.rect().contains(QRect(more->mapTo(&window, QPoint(0, 0)), more->size())));
        QVERIFY(pause->isVisible());

        // Wide again: the buttons come back.
        window.resize(1200, 800);
        QTRY_VERIFY(bar->overflowed().isEmpty());
        QVERIFY(edit->isVisible() && remove->isVisible() && !more->isVisible());
        QVERIFY(kind->isVisible());
    }

    // UX review 2026-11-29, left: the counts above the table are the status filter. A click shows
    // only that status (on the server), again shows all, Ctrl+click combines; checked is visible.
    void countsFilterTheJobs()
    {
        TestServer server;
        QVERIFY(server.start());
        const ClientConfig config = server.addUser(QStringLiteral("counts@example.com"));
        HttpTestClient http(server.root());
        QVERIFY(http.login(config));
        QCOMPARE(http.put(QStringLiteral("experiments/counted/"), R"({"scheduler":{"Manual":null}})").status,
                 201);
        QCOMPARE(http.put(QStringLiteral("experiments/zother/"), R"({"scheduler":{"Manual":null}})").status,
                 201);
        const QList<QByteArray> statuses = {"DONE",    "DONE",   "DONE",   "RUNNING",
                                            "RUNNING", "QUEUED", "CRASHED"};
        for (const QByteArray &status : statuses) {
            QCOMPARE(http.post(QStringLiteral("experiments/counted/jobs/"),
                               R"({"status":")" + status + R"(","hyperparameters":{"x":1}})")
                         .status,
                     201);
        }

        ConnectionManager cm;
        isolate(cm, QStringLiteral("counts"));
        MainWindow window(&cm);
        window.setAutoRefresh(false, 5);
        window.resize(1200, 800);
        window.show();
        ConnectionProfile profile;
        profile.name = QStringLiteral("counts server");
        profile.config = config;
        cm.connectWith(profile);
        QTRY_COMPARE_WITH_TIMEOUT(window.experimentModel()->rowCount(), 2, 10000);
        QVERIFY(window.selectExperiment(QStringLiteral("counted")));
        ExperimentView *view = window.experimentPage();
        QAbstractItemModelTester tester(view->jobModel(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        JobTableModel *model = view->jobModel();
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 7, 10000);

        auto *done = view->findChild<StatusCountButton *>(QStringLiteral("countDone"));
        auto *crashed = view->findChild<StatusCountButton *>(QStringLiteral("countCrashed"));
        auto *running = view->findChild<StatusCountButton *>(QStringLiteral("countRunning"));
        QVERIFY(done && crashed && running);
        QTRY_COMPARE(done->count(), 3);
        QCOMPARE(crashed->count(), 1);
        QCOMPARE(done->text(), QStringLiteral("3 done"));
        QVERIFY(crashed->isVisible());
        QCOMPARE(crashed->focusPolicy(), Qt::StrongFocus); // reachable with Tab
        QCOMPARE(crashed->toolTip().left(23), QStringLiteral("Show only crashed jobs "));
        // Nothing else filters by status: the counts replaced the toggles.
        QCOMPARE(view->findChildren<StatusCountButton *>().size(), 5);
        const QImage plain = crashed->grab().toImage();
        auto *table = view->findChild<QTableView *>(QStringLiteral("jobView"));
        table->selectRow(0); // a job the filter will hide
        auto *copyJson = view->findChild<QPushButton *>(QStringLiteral("copyJsonButton"));
        QVERIFY(copyJson->isEnabled());

        // A click: only crashed jobs, filtered by the server (the header says so too).
        QTest::mouseClick(crashed, Qt::LeftButton);
        QVERIFY(model->statusFilter() == QList<JobStatus>{JobStatus::Crashed});
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, 10000);
        QTRY_COMPARE(model->totalCount(), 1);
        QCOMPARE(int(model->rowAt(0).status), int(JobStatus::Crashed));
        QVERIFY(crashed->isChecked());
        QVERIFY(!done->isChecked() && done->isDimmed());
        QVERIFY(!crashed->isDimmed());
        QVERIFY(crashed->toolTip().contains(QStringLiteral("click to show all jobs")));
        // The details do not go on showing a job the table no longer has.
        QVERIFY(view->selectedJobIds().isEmpty());
        QVERIFY(!copyJson->isEnabled());
        QVERIFY(view->findChild<QLabel *>(QStringLiteral("detailsPlaceholder"))->isVisible());
        QVERIFY(
            view->findChild<QLabel *>(QStringLiteral("totalLabel"))->text().contains(QStringLiteral("of 7")));
        // Checked must be plain to see: a clearly different picture, not a faint frame.
        const QImage checked = crashed->grab().toImage();
        QCOMPARE(checked.size(), plain.size());
        int differing = 0;
        for (int y = 0; y < plain.height(); ++y) {
            for (int x = 0; x < plain.width(); ++x) {
                const QColor a = plain.pixelColor(x, y);
                const QColor b = checked.pixelColor(x, y);
                if (std::abs(a.red() - b.red()) + std::abs(a.green() - b.green()) +
                        std::abs(a.blue() - b.blue()) >
                    24)
                    ++differing;
            }
        }
        QVERIFY2(differing * 2 > plain.width() * plain.height(), qPrintable(QString::number(differing)));

        // Again: all jobs.
        QTest::mouseClick(crashed, Qt::LeftButton);
        QVERIFY(model->statusFilter().isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 7, 10000);
        QVERIFY(!crashed->isChecked() && !done->isDimmed());

        // A click on another count switches to it; Ctrl+click adds one.
        QTest::mouseClick(crashed, Qt::LeftButton);
        QTest::mouseClick(done, Qt::LeftButton);
        QVERIFY(model->statusFilter() == QList<JobStatus>{JobStatus::Done});
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 3, 10000);
        QVERIFY(!crashed->isChecked() && crashed->isDimmed());
        QTest::mouseClick(running, Qt::LeftButton, Qt::ControlModifier);
        QVERIFY(model->statusFilter() == (QList<JobStatus>{JobStatus::Done, JobStatus::Running}));
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 5, 10000);
        QVERIFY(done->isChecked() && running->isChecked() && crashed->isDimmed());
        QTest::mouseClick(done, Qt::LeftButton, Qt::ControlModifier); // and removes it
        QVERIFY(model->statusFilter() == QList<JobStatus>{JobStatus::Running});
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 10000);

        // Tab walks from the header's buttons over the counts to the tabs and the search box.
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        view->findChild<QPushButton *>(QStringLiteral("pauseButton"))->setFocus(Qt::MouseFocusReason);
        QStringList walked;
        for (int i = 0; i < 8; ++i) {
            QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
            walked.append(QApplication::focusWidget()->objectName());
        }
        QCOMPARE(walked, (QStringList{QStringLiteral("deleteButton"), QStringLiteral("countDone"),
                                      QStringLiteral("countRunning"), QStringLiteral("countQueued"),
                                      QStringLiteral("countCrashed"), QStringLiteral("countPruned"),
                                      QStringLiteral("qt_tabwidget_tabbar"), QStringLiteral("idSearch")}));

        // From the keyboard: Space on a count.
        crashed->setFocus(Qt::TabFocusReason);
        QTest::keyClick(crashed, Qt::Key_Space);
        QVERIFY(model->statusFilter() == QList<JobStatus>{JobStatus::Crashed});
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, 10000);
        QTest::keyClick(crashed, Qt::Key_Space);
        QVERIFY(model->statusFilter().isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 7, 10000);

        // "Show all jobs" (empty-state link, clearFilters) unchecks the counts.
        QTest::mouseClick(crashed, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, 10000);
        view->clearFilters();
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 7, 10000);
        QVERIFY(!crashed->isChecked() && !done->isDimmed());

        // Live counts stay clickable and right; another experiment starts unfiltered.
        QTest::mouseClick(crashed, Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 1, 10000);
        QCOMPARE(http.post(QStringLiteral("experiments/counted/jobs/"),
                           R"({"status":"CRASHED","hyperparameters":{"x":2}})")
                     .status,
                 201);
        window.refresh();
        QTRY_COMPARE_WITH_TIMEOUT(crashed->count(), 2, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), 2, 10000);
        QVERIFY(crashed->isChecked());
        QVERIFY(window.selectExperiment(QStringLiteral("zother")));
        QTRY_COMPARE(view->experiment().name, QStringLiteral("zother"));
        QVERIFY(model->statusFilter().isEmpty());
        QVERIFY(!crashed->isChecked() && !crashed->isDimmed());
    }

    // Pause/Resume saves with If-Match of the version the page shows; a change made meanwhile is
    // reloaded and said plainly, never overwritten. Edit… reads the experiment first when the page
    // has no ETag, so the dialog starts from the current version and its ETag.
    void experimentWritesUseTheETag()
    {
        TestServer server;
        QVERIFY(server.start());
        const ClientConfig config = server.addUser(QStringLiteral("etag@example.com"));
        HttpTestClient http(server.root());
        QVERIFY(http.login(config));
        QCOMPARE(http.put(QStringLiteral("experiments/guarded/"), R"({"scheduler":{"Manual":null}})").status,
                 201);

        ConnectionManager cm;
        isolate(cm, QStringLiteral("etag"));
        MainWindow window(&cm);
        window.setAutoRefresh(false, 5);
        window.resize(1200, 800);
        window.show();
        ConnectionProfile profile;
        profile.name = QStringLiteral("etag server");
        profile.config = config;
        cm.connectWith(profile);
        QTRY_COMPARE_WITH_TIMEOUT(window.experimentModel()->rowCount(), 1, 10000);
        QVERIFY(window.selectExperiment(QStringLiteral("guarded")));
        ExperimentView *view = window.experimentPage();
        QTRY_COMPARE(view->experiment().name, QStringLiteral("guarded"));
        auto *pause = view->findChild<QPushButton *>(QStringLiteral("pauseButton"));
        QCOMPARE(pause->text(), QStringLiteral("Pause"));

        // From the listing (no ETag): read, then saved with If-Match.
        QVERIFY(view->experiment().etag.isEmpty());
        pause->click();
        QTRY_COMPARE_WITH_TIMEOUT(int(view->experiment().status), int(ExperimentStatus::Done), 10000);
        QVERIFY(!view->experiment().etag.isEmpty());
        QVERIFY(http.get(QStringLiteral("experiments/guarded/")).body.contains("\"DONE\""));
        QVERIFY(view->changedMeanwhileText().isEmpty());

        // Someone else changes the scheduler; the page still shows the version it saved.
        QCOMPARE(
            http.put(
                    QStringLiteral("experiments/guarded/"),
                    R"({"status":"DONE","scheduler":{"RandomSearch":{"lr":{"uniform":{"low":0.0,"high":1.0}}}}})")
                .status,
            200);
        QTRY_VERIFY(pause->isEnabled());
        QCOMPARE(pause->text(), QStringLiteral("Resume"));
        pause->click();
        // 412: nothing saved, their version reloaded and said so; the resume can be made again.
        QTRY_VERIFY_WITH_TIMEOUT(
            view->changedMeanwhileText().contains(QStringLiteral("Someone else changed")), 10000);
        QVERIFY(view->changedMeanwhileText().contains(QStringLiteral("not resumed")));
        QVERIFY(view->changedMeanwhileText().contains(QStringLiteral("RandomSearch")));
        Reply after = http.get(QStringLiteral("experiments/guarded/"));
        QVERIFY(after.body.contains("\"DONE\""));
        QVERIFY(after.body.contains("RandomSearch")); // their change was not overwritten
        QCOMPARE(int(view->experiment().scheduler.kind), int(Scheduler::Kind::RandomSearch));
        QCOMPARE(view->experiment().etag, after.header("ETag"));
        auto *again = view->findChild<QPushButton *>(QStringLiteral("changedRetry"));
        QVERIFY(again->isVisible());
        QCOMPARE(again->text(), QStringLiteral("Resume now"));
        again->click();
        QTRY_COMPARE_WITH_TIMEOUT(int(view->experiment().status), int(ExperimentStatus::Running), 10000);
        after = http.get(QStringLiteral("experiments/guarded/"));
        QVERIFY(after.body.contains("\"RUNNING\""));
        QVERIFY(after.body.contains("RandomSearch"));
        QVERIFY(view->changedMeanwhileText().isEmpty());

        // Edit… on a page shown from the listing: the experiment is read first, so the dialog
        // starts from the current version, with its ETag.
        QCOMPARE(http.put(QStringLiteral("experiments/other/"), R"({"scheduler":{"Manual":null}})").status,
                 201);
        window.refresh();
        QTRY_COMPARE_WITH_TIMEOUT(window.experimentModel()->rowCount(), 2, 10000);
        QVERIFY(window.selectExperiment(QStringLiteral("other")));
        QTRY_COMPARE(view->experiment().name, QStringLiteral("other"));
        QVERIFY(view->experiment().etag.isEmpty());
        QCOMPARE(http.put(QStringLiteral("experiments/other/"),
                          R"({"status":"DONE","scheduler":{"RandomSearch":{"x":{"const":{"value":1}}}}})")
                     .status,
                 200);
        view->findChild<QPushButton *>(QStringLiteral("editButton"))->click();
        ExperimentDialog *dialog = nullptr;
        QTRY_VERIFY_WITH_TIMEOUT((dialog = view->findChild<ExperimentDialog *>()) != nullptr, 10000);
        QCOMPARE(dialog->baseExperiment().etag,
                 http.get(QStringLiteral("experiments/other/")).header("ETag"));
        QCOMPARE(int(dialog->experiment().scheduler.kind), int(Scheduler::Kind::RandomSearch));
        QCOMPARE(int(dialog->experiment().status), int(ExperimentStatus::Done));
        QCOMPARE(int(view->experiment().scheduler.kind), int(Scheduler::Kind::RandomSearch)); // the page too
        dialog->reject();
    }

    // Answers the next message box with `button` once it opens (while `action` runs its loop).
    static QString answerBox(QMessageBox::StandardButton button, const std::function<void()> &action)
    {
        QString text;
        QTimer poll;
        poll.setInterval(10);
        QObject::connect(&poll, &QTimer::timeout, [&] {
            if (auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget())) {
                text = box->text();
                poll.stop();
                box->button(button)->click();
            }
        });
        poll.start();
        action();
        return text;
    }

    // UX review 2026-11-29: the local entry shows its real URL and user, read-only, and offers no
    // import; typed input is kept per entry when another one is clicked; a failed save says what
    // is wrong next to each field and focuses the first.
    void connectionDialogKeepsDraftsAndPointsAtFields()
    {
        ConnectionManager cm;
        isolate(cm, QStringLiteral("dialog"));
        cm.connectTo(ConnectionProfile::localName());
        QTRY_COMPARE_WITH_TIMEOUT(cm.state(), ConnectionManager::State::Connected, 20000);
        ConnectionProfile lab;
        lab.name = QStringLiteral("lab");
        lab.config.root = QStringLiteral("https://schedy.lab.example/");
        lab.config.email = QStringLiteral("me@lab.example");
        lab.config.token = QStringLiteral("t0ken");
        QString error;
        QVERIFY2(cm.saveProfile(lab, &error), qPrintable(error));

        ConnectionDialog dialog(&cm);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowActive(&dialog));
        auto *list = dialog.findChild<QListWidget *>(QStringLiteral("profiles"));
        auto *name = dialog.findChild<QLineEdit *>(QStringLiteral("name"));
        auto *root = dialog.findChild<QLineEdit *>(QStringLiteral("root"));
        auto *email = dialog.findChild<QLineEdit *>(QStringLiteral("email"));
        auto *secret = dialog.findChild<QLineEdit *>(QStringLiteral("secret"));
        auto *import = dialog.findChild<QPushButton *>(QStringLiteral("importButton"));
        auto *save = dialog.findChild<QPushButton *>(QStringLiteral("connectButton"));
        auto errorOf = [&dialog](const char *label) {
            auto *l = dialog.findChild<QLabel *>(QString::fromLatin1(label));
            return l->isHidden() ? QString() : l->text();
        };

        // The local server: its real URL and user, read-only; no import there, and the tooltip says why.
        QCOMPARE(list->currentRow(), 0);
        QCOMPARE(root->text(), cm.localServer()->config().root);
        QCOMPARE(email->text(), cm.localServer()->config().email);
        QVERIFY(root->text().startsWith(QLatin1String("http://127.0.0.1:")));
        QVERIFY(root->isReadOnly() && email->isReadOnly() && name->isReadOnly());
        QVERIFY(!import->isEnabled());
        QVERIFY(import->toolTip().contains(QStringLiteral("local server")));

        // An untouched new connection has nothing to keep: it leaves the list when another is shown.
        QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("addButton")), Qt::LeftButton);
        QCOMPARE(list->count(), 3);
        QCOMPARE(list->currentRow(), 2);
        list->setCurrentRow(1);
        QCOMPARE(list->count(), 2);
        QVERIFY(dialog.draftNames().isEmpty());

        // A new connection, half typed, survives a click on another entry and back.
        QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("addButton")), Qt::LeftButton);
        QVERIFY(!root->isReadOnly());
        QVERIFY(import->isEnabled());
        QVERIFY(root->text().isEmpty());
        QTest::keyClicks(name, QStringLiteral("cluster"));
        QTest::keyClicks(root, QStringLiteral("https://schedy.cluster.example/"));
        QCOMPARE(list->count(), 3);
        QCOMPARE(list->item(2)->text(), QStringLiteral("cluster (new)"));
        list->setCurrentRow(0);
        QCOMPARE(root->text(), cm.localServer()->config().root);
        QCOMPARE(dialog.draftNames(), QStringList{QString()});
        list->setCurrentRow(2);
        QCOMPARE(name->text(), QStringLiteral("cluster"));
        QCOMPARE(root->text(), QStringLiteral("https://schedy.cluster.example/"));
        // New goes back to it rather than wiping it.
        list->setCurrentRow(1);
        QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("addButton")), Qt::LeftButton);
        QCOMPARE(list->currentRow(), 2);
        QCOMPARE(name->text(), QStringLiteral("cluster"));

        // A failed save: every problem next to its field, the focus on the first.
        QTest::mouseClick(save, Qt::LeftButton);
        QVERIFY(dialog.isVisible());
        QCOMPARE(errorOf("emailError"), QStringLiteral("Enter the email of your account."));
        QCOMPARE(errorOf("secretError"), QStringLiteral("Enter your API token."));
        QCOMPARE(errorOf("nameError"), QString());
        QCOMPARE(QApplication::focusWidget(), email);
        QTest::keyClicks(email, QStringLiteral("me@cluster.example"));
        QCOMPARE(errorOf("emailError"), QString()); // gone once the field is edited
        // A name taken by another connection.
        name->selectAll();
        QTest::keyClicks(name, QStringLiteral("lab"));
        QTest::keyClicks(secret, QStringLiteral("s3cret"));
        QTest::mouseClick(save, Qt::LeftButton);
        QVERIFY(errorOf("nameError").contains(QStringLiteral("Another connection is called lab")));
        QCOMPARE(QApplication::focusWidget(), name);
        QCOMPARE(cm.profiles().size(), 2); // nothing saved
        QCOMPARE(cm.profiles().at(1).config.root, lab.config.root);

        // Unsaved changes to a saved connection are kept too, and the list marks them.
        list->setCurrentRow(1);
        QCOMPARE(email->text(), lab.config.email);
        email->selectAll();
        QTest::keyClicks(email, QStringLiteral("other@lab.example"));
        list->setCurrentRow(0);
        QCOMPARE(list->item(1)->text(), QStringLiteral("lab •"));
        list->setCurrentRow(1);
        QCOMPARE(email->text(), QStringLiteral("other@lab.example"));
        QCOMPARE(dialog.draftNames(), (QStringList{QString(), QStringLiteral("lab")}));

        // Closing with drafts asks; Cancel keeps the dialog and what was typed.
        const QString asked = answerBox(QMessageBox::Cancel, [&] { dialog.reject(); });
        QVERIFY(asked.contains(QStringLiteral("Discard")));
        QVERIFY(dialog.isVisible());
        QCOMPARE(email->text(), QStringLiteral("other@lab.example"));
        answerBox(QMessageBox::Discard, [&] { dialog.reject(); });
        QVERIFY(!dialog.isVisible());
        QCOMPARE(dialog.result(), int(QDialog::Rejected));
        cm.localServer()->stop();
    }

    // A refused password is said next to the password; a saved rename leaves no copy behind.
    void connectionDialogSavesAgainstARealServer()
    {
        TestServer server;
        QVERIFY(server.start());
        const ClientConfig config = server.addUser(QStringLiteral("pw@example.com"), QStringLiteral("right"));
        ConnectionManager cm;
        isolate(cm, QStringLiteral("dialog-save"));
        ConnectionProfile old;
        old.name = QStringLiteral("old name");
        old.config = config;
        QString error;
        QVERIFY2(cm.saveProfile(old, &error), qPrintable(error));

        ConnectionDialog dialog(&cm);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowActive(&dialog));
        auto *list = dialog.findChild<QListWidget *>(QStringLiteral("profiles"));
        auto *name = dialog.findChild<QLineEdit *>(QStringLiteral("name"));
        auto *secret = dialog.findChild<QLineEdit *>(QStringLiteral("secret"));
        auto *save = dialog.findChild<QPushButton *>(QStringLiteral("connectButton"));
        auto *secretError = dialog.findChild<QLabel *>(QStringLiteral("secretError"));
        list->setCurrentRow(1);
        dialog.findChild<QRadioButton *>(QStringLiteral("usePassword"))->click();
        secret->selectAll();
        QTest::keyClicks(secret, QStringLiteral("wrong"));
        QTest::mouseClick(save, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!secretError->isHidden(), 20000);
        QVERIFY2(secretError->text().contains(QStringLiteral("refused")), qPrintable(secretError->text()));
        QCOMPARE(QApplication::focusWidget(), secret);
        QVERIFY(dialog.isVisible());

        // Renamed and saved with the right password: one profile, under the new name, connected.
        secret->selectAll();
        QTest::keyClicks(secret, QStringLiteral("right"));
        name->selectAll();
        QTest::keyClicks(name, QStringLiteral("new name"));
        QTest::mouseClick(save, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!dialog.isVisible(), 20000);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        const auto profiles = cm.profiles();
        QCOMPARE(profiles.size(), 2);
        QCOMPARE(profiles[1].name, QStringLiteral("new name"));
        QTRY_COMPARE_WITH_TIMEOUT(cm.state(), ConnectionManager::State::Connected, 20000);
        QCOMPARE(cm.current().name, QStringLiteral("new name"));
    }

    // Issue 15, defect 1: a server that went away was "Connected" with a green dot while an
    // error banner came and went, moving the page under the pointer. One state, in one place.
    void anOutageIsOneStateAndThePageStaysPut()
    {
        TestServer server;
        QVERIFY(server.start());
        const ClientConfig config = server.addUser(QStringLiteral("outage@example.com"));
        HttpTestClient http(server.root());
        QVERIFY(http.login(config));
        QCOMPARE(http.put(QStringLiteral("experiments/search/"),
                          R"({"scheduler":{"RandomSearch":{"lr":{"uniform":{"low":0,"high":1}}}}})")
                     .status,
                 201);
        const Reply next = http.get(QStringLiteral("experiments/search/nextjob/"));
        QCOMPARE(next.status, 200);
        const QString id = json::parse(next.body).toMap().value(QStringLiteral("id")).toString();
        const Reply job = http.get(QStringLiteral("experiments/search/jobs/%1/").arg(id));
        QCOMPARE(http.put(QStringLiteral("experiments/search/jobs/%1/").arg(id),
                          R"({"status":"RUNNING","hyperparameters":{"lr":0.5}})",
                          {{"If-Match", job.header("ETag")}})
                     .status,
                 200); // a worker's job

        ConnectionManager cm;
        isolate(cm, QStringLiteral("outage"));
        MainWindow window(&cm);
        window.setAutoRefresh(false, 5);
        window.resize(1200, 800);
        window.show();
        ConnectionProfile profile;
        profile.name = QStringLiteral("going away");
        profile.config = config;
        cm.connectWith(profile);
        QTRY_COMPARE_WITH_TIMEOUT(cm.state(), ConnectionManager::State::Connected, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(window.selectExperiment(QStringLiteral("search")), 10000);
        ExperimentView *view = window.experimentPage();
        QTRY_COMPARE_WITH_TIMEOUT(view->jobModel()->rowCount(), 1, 10000);
        const QModelIndex status = view->jobModel()->index(0, JobTableModel::StatusColumn);
        QCOMPARE(status.data().toString(), QStringLiteral("Running"));
        QVERIFY(window.connectionText().startsWith(QStringLiteral("Connected")));
        const QPoint pageAt = view->mapTo(&window, QPoint(0, 0));

        server.stop();
        window.refresh();
        QTRY_VERIFY_WITH_TIMEOUT(window.connectionText().startsWith(QStringLiteral("Unreachable since ")),
                                 20000);
        QVERIFY(window.connectionText().endsWith(QStringLiteral(" — retrying")));
        QVERIFY(!window.isBannerVisible());
        QCOMPARE(view->mapTo(&window, QPoint(0, 0)), pageAt);
        // A running job is only known to have been running.
        QCOMPARE(status.data().toString(), QStringLiteral("Running?"));
        // Retrying keeps the one state: the time it began, no banner.
        const QString since = window.connectionText();
        QTRY_VERIFY_WITH_TIMEOUT(!view->isRefreshing(), 20000);
        window.refresh();
        QTRY_VERIFY_WITH_TIMEOUT(!view->isRefreshing(), 20000);
        QCOMPARE(window.connectionText(), since);
        QVERIFY(!window.isBannerVisible());
        QCOMPARE(view->mapTo(&window, QPoint(0, 0)), pageAt);

        // Recovery (the server answers again) is tested with the fake backend in tst_session.
    }

    void unreachableShowsBannerAndKeepsWindowResponsive()
    {
        ConnectionManager cm;
        isolate(cm, QStringLiteral("unreachable"));
        MainWindow window(&cm);
        window.setAutoRefresh(false, 5);
        window.show();
        ConnectionProfile profile;
        profile.name = QStringLiteral("nowhere");
        // Behind a reverse proxy, as servers often are: a long URL in every message.
        profile.config.root =
            QStringLiteral("http://127.0.0.1:%1/team-ml/hyperparameter-search/schedy/").arg(freePort());
        profile.config.email = QStringLiteral("x@example.com");
        profile.config.token = QStringLiteral("t");
        cm.connectWith(profile);
        QTRY_COMPARE_WITH_TIMEOUT(cm.state(), ConnectionManager::State::Unreachable, 30000);
        QVERIFY(window.isBannerVisible());
        QVERIFY(window.bannerText().contains(QStringLiteral("Cannot reach")));
        // The long message in the status bar is elided, and does not widen the window.
        QVERIFY2(window.minimumSizeHint().width() <= 680,
                 qPrintable(QString::number(window.minimumSizeHint().width())));
        // The banner is a strip above the content, not half the window; it leads to the settings.
        window.resize(1200, 800);
        QTRY_VERIFY(window.findChild<QFrame *>(QStringLiteral("banner"))->height() < 80);
        QVERIFY(window.findChild<QPushButton *>(QStringLiteral("bannerRetry"))->width() < 300);
        QVERIFY(window.findChild<QPushButton *>(QStringLiteral("bannerConnect"))->isVisible());
        QCOMPARE(window.emptyPageTitle(), QStringLiteral("Not connected"));

        TestServer server;
        QVERIFY(server.start());
        const ClientConfig config = server.addUser(QStringLiteral("refused@example.com"));
        ConnectionProfile wrong;
        wrong.name = QStringLiteral("wrong token");
        wrong.config = config;
        wrong.config.token = QStringLiteral("not-the-token");
        cm.connectWith(wrong);
        QTRY_COMPARE_WITH_TIMEOUT(cm.state(), ConnectionManager::State::CredentialsRefused, 10000);
        QVERIFY(window.bannerText().contains(QStringLiteral("refused")));
    }
};

QTEST_MAIN(TestDashboard)
#include "tst_dashboard.moc"
