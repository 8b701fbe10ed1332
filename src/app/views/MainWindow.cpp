#include "MainWindow.h"
#include "ValueFormat.h"

#include "ConnectionDialog.h"
#include "CsvExporter.h"
#include "ExperimentDialog.h"
#include "ExperimentListModel.h"
#include "ExperimentSession.h"
#include "ExperimentView.h"
#include "JobTableModel.h"
#include "LocalServer.h"
#include "Reachability.h"
#include "WorkerSetupDialog.h"
#include "ui_MainWindow.h"

#include <QCloseEvent>
#include <QFileDialog>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QProgressDialog>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSpinBox>

namespace schedy {

MainWindow::MainWindow(ConnectionManager *connections, QWidget *parent)
    : QMainWindow(parent)
    , m_ui(std::make_unique<Ui::MainWindow>())
    , m_connections(connections)
    , m_experiments(new ExperimentListModel(this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_page(new ExperimentView(this))
    , m_reachability(new Reachability(this))
{
    m_ui->setupUi(this);
    m_ui->banner->hide();
    m_ui->banner->setAutoFillBackground(true);
    QPalette bannerPalette = m_ui->banner->palette();
    bannerPalette.setColor(QPalette::Window, QColor(0xfd, 0xec, 0xea));
    bannerPalette.setColor(QPalette::WindowText, QColor(0x8a, 0x1c, 0x1c));
    m_ui->banner->setPalette(bannerPalette);
    m_ui->pages->addWidget(m_page);

    m_proxy->setSourceModel(m_experiments);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(ExperimentListModel::NameColumn);
    m_proxy->setSortRole(ExperimentListModel::SortRole);
    m_proxy->setSortCaseSensitivity(Qt::CaseInsensitive);
    QTableView *list = m_ui->experimentView;
    list->setModel(m_proxy);
    list->setTabKeyNavigation(false); // Tab leaves the list; arrows move within it
    list->verticalHeader()->hide();
    list->verticalHeader()->setDefaultSectionSize(list->fontMetrics().height() + 8);
    list->horizontalHeader()->setStretchLastSection(false);
    list->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    list->horizontalHeader()->setSectionResizeMode(ExperimentListModel::NameColumn, QHeaderView::Stretch);
    list->sortByColumn(ExperimentListModel::NameColumn, Qt::AscendingOrder);
    // The name matters most in a narrow panel; the counts are in the experiment view.
    for (int c : {ExperimentListModel::KindColumn, ExperimentListModel::DoneColumn,
                  ExperimentListModel::CrashedColumn, ExperimentListModel::PrunedColumn,
                  ExperimentListModel::QueuedColumn})
        list->setColumnHidden(c, true);
    connect(m_ui->experimentFilter, &QLineEdit::textChanged, m_proxy,
            &QSortFilterProxyModel::setFilterFixedString);
    connect(list->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &MainWindow::onExperimentSelected);
    connect(m_experiments, &ExperimentListModel::loadFailed, this,
            [this](const ClientError &e) { reportFailure(tr("Loading the experiments"), e); });
    connect(m_experiments, &ExperimentListModel::loaded, this, [this] {
        if (!m_pendingSelection.isEmpty())
            selectExperiment(m_pendingSelection);
        // The whole list is here: a last experiment deleted since must not block the selection forever.
        m_pendingSelection.clear();
        if (!m_ui->experimentView->selectionModel()->hasSelection() && m_proxy->rowCount() > 0)
            m_ui->experimentView->selectRow(0);
    });
    connect(m_experiments, &QAbstractItemModel::rowsInserted, this, [this] {
        if (!m_pendingSelection.isEmpty() && selectExperiment(m_pendingSelection))
            m_pendingSelection.clear();
    });

    connect(m_page, &ExperimentView::experimentChanged, m_experiments, &ExperimentListModel::upsert);
    connect(m_page, &ExperimentView::experimentDeleted, this, [this](const QString &name) {
        m_experiments->remove(name);
        if (m_page->experiment().name == name)
            m_ui->pages->setCurrentWidget(m_ui->emptyPage);
        statusBar()->showMessage(tr("Deleted %1").arg(name), 5000);
    });
    connect(m_page, &ExperimentView::failed, this, &MainWindow::reportFailure);
    connect(m_page, &ExperimentView::notice, this,
            [this](const QString &message) { statusBar()->showMessage(message, 5000); });
    // An outage is a state, not a stream of errors: the status bar says it until the server
    // answers again, and no banner comes and goes (moving the page under the pointer).
    m_page->session()->setReachability(m_reachability);
    connect(m_reachability, &Reachability::changed, this, &MainWindow::showConnection);
    connect(m_experiments, &ExperimentListModel::loaded, m_reachability, &Reachability::reportReached);

    // Toolbar: the auto-refresh interval beside its toggle.
    m_interval = new QSpinBox(this);
    m_interval->setRange(1, 3600);
    m_interval->setSuffix(tr(" s"));
    m_interval->setToolTip(tr("Auto-refresh interval"));
    m_ui->toolBar->addWidget(m_interval);
    connect(m_interval, &QSpinBox::valueChanged, this,
            [this](int s) { m_autoRefresh.setInterval(s * 1000); });
    connect(&m_autoRefresh, &QTimer::timeout, this, &MainWindow::refresh);
    connect(m_ui->actionAutoRefresh, &QAction::toggled, this, [this](bool on) {
        if (on)
            m_autoRefresh.start(m_interval->value() * 1000);
        else
            m_autoRefresh.stop();
    });
    connect(m_ui->actionRefresh, &QAction::triggered, this, &MainWindow::refresh);
    connect(m_ui->actionConnect, &QAction::triggered, this, &MainWindow::showConnectDialog);
    connect(m_ui->actionWorkerConfig, &QAction::triggered, this, &MainWindow::showWorkerSetup);
    connect(m_ui->actionExportCsv, &QAction::triggered, this, &MainWindow::exportCsv);
    connect(m_ui->actionQuit, &QAction::triggered, this, &QWidget::close);
    connect(m_ui->actionAbout, &QAction::triggered, this, [this] {
        QMessageBox::about(
            this, tr("About Schedy"),
            tr("<b>Schedy</b> %1<br>Hyperparameter search: server, dashboard and command line.")
                .arg(QCoreApplication::applicationVersion()));
    });
    connect(m_ui->actionNewExperiment, &QAction::triggered, this, &MainWindow::newExperiment);
    connect(m_page, &ExperimentView::experimentCreated, this, &MainWindow::showCreatedExperiment);
    connect(m_ui->actionFilterExperiments, &QAction::triggered, this, [this] {
        m_ui->experimentFilter->setFocus(Qt::ShortcutFocusReason);
        m_ui->experimentFilter->selectAll();
    });
    connect(m_ui->actionSearchJobs, &QAction::triggered, this, [this] {
        if (m_ui->pages->currentWidget() == m_page)
            m_page->focusSearch();
    });
    // Toolbar buttons say their shortcut: hovering is how people learn them.
    for (QAction *a : m_ui->toolBar->actions()) {
        if (!a->shortcut().isEmpty() && !a->toolTip().isEmpty())
            a->setToolTip(QStringLiteral("%1 (%2)").arg(a->toolTip(),
                                                        a->shortcut().toString(QKeySequence::NativeText)));
    }
    m_ui->experimentFilter->setToolTip(tr("Show experiments whose name contains this text (Ctrl+L)"));

    // The empty page says what to do next, with the buttons to do it.
    QFont emptyTitle = m_ui->emptyTitle->font();
    emptyTitle.setPointSizeF(emptyTitle.pointSizeF() * 1.35);
    emptyTitle.setBold(true);
    m_ui->emptyTitle->setFont(emptyTitle);
    connect(m_ui->emptyNewButton, &QPushButton::clicked, this, &MainWindow::newExperiment);
    connect(m_ui->emptyWorkerButton, &QPushButton::clicked, this, &MainWindow::showWorkerSetup);
    connect(m_ui->emptyConnectButton, &QPushButton::clicked, this, &MainWindow::showConnectDialog);
    connect(m_ui->bannerConnect, &QPushButton::clicked, this, &MainWindow::showConnectDialog);
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_proxy, signal, this, &MainWindow::updateEmptyPage);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &MainWindow::updateEmptyPage);
    connect(m_experiments, &ExperimentListModel::loaded, this, [this] {
        m_listed = true;
        updateEmptyPage();
    });
    updateEmptyPage();

    connect(m_ui->bannerClose, &QToolButton::clicked, this, &MainWindow::hideBanner);
    connect(m_ui->bannerRetry, &QPushButton::clicked, this, [this] {
        hideBanner();
        if (m_bannerRetry)
            m_bannerRetry();
    });

    m_connectionDot = new QLabel(this);
    m_connectionDot->setTextFormat(Qt::RichText);
    statusBar()->addPermanentWidget(m_connectionDot);
    m_connectionLabel = new ElidingLabel(this);
    m_connectionLabel->setObjectName(QStringLiteral("connectionLabel"));
    m_connectionLabel->setTextFormat(Qt::PlainText);
    m_connectionLabel->setWantsFullWidth(true);
    statusBar()->addPermanentWidget(m_connectionLabel);
    connect(m_connections, &ConnectionManager::clientChanged, this, &MainWindow::onClientChanged);
    connect(m_connections, &ConnectionManager::stateChanged, this, &MainWindow::onConnectionState);
    restoreSettings();
}

MainWindow::~MainWindow() = default;

QString MainWindow::settingsScope(const QString &experiment) const
{
    const QString root =
        m_connections->current().local ? QStringLiteral("local") : m_connections->current().config.root;
    return QStringLiteral("columns/") + QString::fromLatin1(QUrl::toPercentEncoding(root)) +
           QLatin1Char('/') + QString::fromLatin1(QUrl::toPercentEncoding(experiment));
}

void MainWindow::onClientChanged(Client *)
{
    // Nothing is fetched until the login succeeded (see onConnectionState).
    m_ui->pages->setCurrentWidget(m_ui->emptyPage);
    m_listed = false;
    m_experiments->setClient(nullptr);
    updateEmptyPage();
}

void MainWindow::updateEmptyPage()
{
    using S = ConnectionManager::State;
    const S state = m_connections->state();
    const bool connected = state == S::Connected;
    QString title;
    QString text;
    if (state == S::Starting || state == S::Connecting) {
        title = tr("Connecting…");
        text = state == S::Starting
                   ? tr("Starting the local server on this computer.")
                   : tr("Signing in to %1.").arg(m_connections->current().config.root.toHtmlEscaped());
    } else if (!connected) {
        title = tr("Not connected");
        text = tr("The dashboard cannot reach its server, or the server refused the credentials. "
                  "Check the connection, or switch to the local server.");
    } else if (!m_listed) {
        title = tr("Loading experiments…");
    } else if (m_experiments->rowCount() == 0) {
        title = tr("No experiments yet");
        text = tr(
            "Create one here, or start workers: they create their experiment when they first ask for a job. "
            "<i>Worker setup</i> shows the config they need.");
    } else if (m_proxy->rowCount() == 0) {
        title = tr("No experiment matches the filter");
        text = tr("Clear the filter above the list to see all %1.")
                   .arg(format::count(m_experiments->rowCount(), tr("experiment")));
    } else {
        title = tr("Select an experiment");
        text = tr("Pick one on the left to see its jobs and charts.");
    }
    m_ui->emptyTitle->setText(title);
    m_ui->emptyText->setText(text);
    m_ui->emptyText->setVisible(!text.isEmpty());
    m_ui->emptyNewButton->setVisible(connected && m_listed && m_experiments->rowCount() == 0);
    m_ui->emptyWorkerButton->setVisible(connected && m_listed && m_experiments->rowCount() == 0);
    m_ui->emptyConnectButton->setVisible(state == S::Unreachable || state == S::CredentialsRefused);
}

QString MainWindow::emptyPageTitle() const
{
    return m_ui->pages->currentWidget() == m_ui->emptyPage ? m_ui->emptyTitle->text() : QString();
}

void MainWindow::onConnectionState(ConnectionManager::State state, const QString &message)
{
    using S = ConnectionManager::State;
    if (state != S::Connected)
        m_reachability->reportReached(); // the connection's own state says it now
    showConnection();
    const QString profile = m_connections->current().name;
    setWindowTitle(profile.isEmpty() ? tr("Schedy") : tr("%1 — Schedy").arg(profile));
    if (state == S::Connected) {
        hideBanner();
        if (m_experiments->client() != m_connections->client()) {
            m_experiments->setClient(m_connections->client());
            m_experiments->fetchMore({});
        }
    } else if (state == S::Unreachable || state == S::CredentialsRefused) {
        showBanner(message, [this] { m_connections->retry(); });
    }
    updateEmptyPage();
}

void MainWindow::onExperimentSelected()
{
    const QModelIndexList rows = m_ui->experimentView->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return;
    const QString name = rows.first().data(ExperimentListModel::NameRole).toString();
    if (m_ui->pages->currentWidget() == m_page && m_page->experiment().name == name)
        return;
    const auto e = m_experiments->experiment(name);
    if (!e)
        return;
    m_page->setExperiment(m_connections->client(), *e, settingsScope(name));
    m_ui->pages->setCurrentWidget(m_page);
    QSettings().setValue(QStringLiteral("lastExperiment"), name);
}

bool MainWindow::selectExperiment(const QString &name)
{
    const int row = m_experiments->rowOf(name);
    if (row < 0)
        return false;
    const QModelIndex index = m_proxy->mapFromSource(m_experiments->index(row, 0));
    if (!index.isValid())
        return false;
    m_ui->experimentView->selectRow(index.row());
    m_ui->experimentView->scrollTo(index);
    return true;
}

void MainWindow::refresh()
{
    if (m_connections->state() != ConnectionManager::State::Connected) {
        if (m_connections->state() != ConnectionManager::State::Connecting &&
            m_connections->state() != ConnectionManager::State::Starting)
            m_connections->retry();
        return;
    }
    m_experiments->refresh();
    if (m_ui->pages->currentWidget() == m_page)
        m_page->refresh();
}

void MainWindow::setAutoRefresh(bool on, int seconds)
{
    m_interval->setValue(seconds);
    m_ui->actionAutoRefresh->setChecked(on);
}

void MainWindow::showBanner(const QString &message, std::function<void()> retry)
{
    m_ui->bannerText->setText(message);
    m_bannerRetry = std::move(retry);
    m_ui->bannerRetry->setVisible(bool(m_bannerRetry));
    // Connection trouble is fixed in the connection settings, not by retrying alone.
    const auto state = m_connections->state();
    m_ui->bannerConnect->setVisible(state == ConnectionManager::State::Unreachable ||
                                    state == ConnectionManager::State::CredentialsRefused);
    m_ui->banner->show();
}

void MainWindow::hideBanner()
{
    m_ui->banner->hide();
    m_bannerRetry = nullptr;
}

void MainWindow::showConnection()
{
    using S = ConnectionManager::State;
    const S state = m_connections->state();
    const bool outage = state == S::Connected && !m_reachability->isReachable();
    QString dot;
    if (state == S::Connected && !outage)
        dot = QStringLiteral("<span style='color:#2e8b3e'>●</span>");
    else if (state == S::Starting || state == S::Connecting)
        dot = QStringLiteral("<span style='color:#e08a00'>●</span>");
    else
        dot = QStringLiteral("<span style='color:#d32f2f'>●</span>");
    m_connectionDot->setText(dot);
    m_connectionLabel->setText(outage ? m_reachability->text() : m_connections->stateMessage());
    m_connectionLabel->setToolTip(outage ? m_reachability->reason() : QString());
}

QString MainWindow::connectionText() const
{
    return m_connectionLabel->text();
}

QString MainWindow::bannerText() const
{
    return m_ui->bannerText->text();
}
bool MainWindow::isBannerVisible() const
{
    return !m_ui->banner->isHidden();
}

void MainWindow::reportFailure(const QString &what, const ClientError &error)
{
    if (error.kind == ClientError::Kind::Aborted)
        return;
    // The server does not answer: the status bar says so until it does; no banner per request.
    if (m_connections->state() == ConnectionManager::State::Connected && m_reachability->report(error))
        return;
    // The last good data stays on screen; the banner says what failed.
    showBanner(tr("%1 failed: %2").arg(what, error.toString()), [this] { refresh(); });
}

void MainWindow::showConnectDialog()
{
    ConnectionDialog dialog(m_connections, this);
    dialog.exec();
}

void MainWindow::showWorkerSetup()
{
    WorkerSetupDialog dialog(m_connections->current(), this);
    dialog.exec();
}

void MainWindow::newExperiment()
{
    Client *client = m_connections->client();
    if (!client || m_connections->state() != ConnectionManager::State::Connected) {
        statusBar()->showMessage(tr("Connect to a server first."), 5000);
        return;
    }
    auto *dialog = new ExperimentDialog(client, ExperimentDialog::Mode::Create, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ExperimentDialog::saved, this, &MainWindow::showCreatedExperiment);
    dialog->open();
}

void MainWindow::showCreatedExperiment(const Experiment &experiment)
{
    m_experiments->upsert(experiment);
    if (!selectExperiment(experiment.name))
        m_pendingSelection = experiment.name;
    statusBar()->showMessage(tr("Created %1").arg(experiment.name), 5000);
}

void MainWindow::exportCsv()
{
    if (m_ui->pages->currentWidget() != m_page || !m_connections->client())
        return;
    const QString name = m_page->experiment().name;
    QString suggested = name;
    suggested.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]+")), QStringLiteral("_"));
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export jobs as CSV"), suggested + QStringLiteral(".csv"), tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return;
    JobTableModel *model = m_page->jobModel();
    QList<JobTableModel::ColumnKey> columns;
    for (int c : m_page->visibleColumns())
        columns.append(model->columnKey(c));
    auto *exporter = new CsvExporter(m_connections->client(), name, model->query(), columns, path, this);
    auto *progress = new QProgressDialog(tr("Exporting %1…").arg(name), tr("Cancel"), 0, 0, this);
    progress->setWindowModality(Qt::NonModal);
    progress->setMinimumDuration(300);
    connect(exporter, &CsvExporter::progress, progress, [progress](qint64 done, qint64 total) {
        if (total > 0) {
            progress->setMaximum(int(std::min<qint64>(total, INT_MAX)));
            progress->setValue(int(std::min<qint64>(done, INT_MAX)));
        }
    });
    connect(progress, &QProgressDialog::canceled, exporter, &CsvExporter::cancel);
    connect(exporter, &CsvExporter::finished, this,
            [this, exporter, progress, path](bool ok, const QString &error) {
                progress->close();
                progress->deleteLater();
                exporter->deleteLater();
                if (ok)
                    statusBar()->showMessage(tr("Exported to %1").arg(path), 8000);
                else if (!error.isEmpty())
                    showBanner(tr("Export failed: %1").arg(error));
            });
    exporter->start();
}

void MainWindow::restoreSettings()
{
    QSettings s;
    restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray());
    m_ui->mainSplitter->restoreState(s.value(QStringLiteral("window/mainSplitter")).toByteArray());
    if (s.value(QStringLiteral("window/mainSplitter")).isNull())
        m_ui->mainSplitter->setSizes({360, 920});
    m_interval->setValue(s.value(QStringLiteral("refresh/interval"), 5).toInt());
    m_ui->actionAutoRefresh->setChecked(s.value(QStringLiteral("refresh/auto"), true).toBool());
    m_pendingSelection = s.value(QStringLiteral("lastExperiment")).toString();
}

void MainWindow::saveSettings()
{
    QSettings s;
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/mainSplitter"), m_ui->mainSplitter->saveState());
    s.setValue(QStringLiteral("refresh/interval"), m_interval->value());
    s.setValue(QStringLiteral("refresh/auto"), m_ui->actionAutoRefresh->isChecked());
    m_page->saveLayout();
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    saveSettings();
    event->accept();
}

} // namespace schedy
