#pragma once

#include "ClientError.h"
#include "ConnectionManager.h"

#include <QMainWindow>
#include <QTimer>

#include <functional>
#include <memory>

namespace Ui {
class MainWindow;
}
class QLabel;
class QSortFilterProxyModel;
class QSpinBox;

namespace schedy {

class ExperimentListModel;
class ElidingLabel;
class ExperimentView;
class Reachability;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(ConnectionManager *connections, QWidget *parent = nullptr);
    ~MainWindow() override;

    ExperimentListModel *experimentModel() const { return m_experiments; }
    ExperimentView *experimentPage() const { return m_page; }
    // Selects an experiment by name (as a click would).
    bool selectExperiment(const QString &name);
    QString bannerText() const;
    // The connection as the status bar says it ("Unreachable since 14:02:11 — retrying").
    QString connectionText() const;
    Reachability *reachability() const { return m_reachability; }
    bool isBannerVisible() const;
    // The title of the page shown when no experiment is (empty when one is shown).
    QString emptyPageTitle() const;
    void refresh();
    void setAutoRefresh(bool on, int seconds);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void onClientChanged(Client *client);
    void onConnectionState(ConnectionManager::State state, const QString &message);
    // The one place the connection is shown: the dot and the text in the status bar.
    void showConnection();
    void onExperimentSelected();
    void updateEmptyPage();
    void showBanner(const QString &message, std::function<void()> retry = {});
    void reportFailure(const QString &what, const ClientError &error);
    void hideBanner();
    void showConnectDialog();
    void showWorkerSetup();
    void newExperiment();
    void showCreatedExperiment(const Experiment &experiment);
    void exportCsv();
    void restoreSettings();
    void saveSettings();
    QString settingsScope(const QString &experiment) const;

    std::unique_ptr<Ui::MainWindow> m_ui;
    ConnectionManager *m_connections;
    ExperimentListModel *m_experiments;
    QSortFilterProxyModel *m_proxy;
    ExperimentView *m_page;
    Reachability *m_reachability; // whether the server answers, for the list and the page alike
    QLabel *m_connectionDot;
    ElidingLabel *m_connectionLabel; // a long URL or error must not widen the window
    QSpinBox *m_interval;
    QTimer m_autoRefresh;
    std::function<void()> m_bannerRetry;
    QString m_pendingSelection;
    bool m_listed = false; // the first listing of this connection arrived
};

} // namespace schedy
