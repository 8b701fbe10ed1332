#include "ConnectionManager.h"
#include "ExperimentListModel.h"
#include "ExperimentView.h"
#include "JobDialog.h"
#include "JobTableModel.h"
#include "Json.h"
#include "LocalServer.h"
#include "MainWindow.h"
#include "TestServer.h"

#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
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
        // About 830 px today: the header's buttons and the charts panel set it.
        QVERIFY2(window.minimumSizeHint().width() <= 880,
                 qPrintable(QString::number(window.minimumSizeHint().width())));
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
        profile.config.root = QStringLiteral("http://127.0.0.1:%1/").arg(freePort());
        profile.config.email = QStringLiteral("x@example.com");
        profile.config.token = QStringLiteral("t");
        cm.connectWith(profile);
        QTRY_COMPARE_WITH_TIMEOUT(cm.state(), ConnectionManager::State::Unreachable, 30000);
        QVERIFY(window.isBannerVisible());
        QVERIFY(window.bannerText().contains(QStringLiteral("Cannot reach")));
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
