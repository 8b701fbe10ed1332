#pragma once

#include "ClientError.h"
#include "Types.h"

#include <QLabel>
#include <QPointer>
#include <QSet>
#include <QTimer>
#include <QWidget>

#include <memory>
#include <optional>

namespace Ui {
class ExperimentView;
}
class QToolButton;

namespace schedy {

class Client;
class JobDialog;
class JobTableModel;
namespace charts {
class ChartsPanel;
}

// A label that elides its text when narrow (full text in the tooltip)
// instead of making its layout wider; the experiment's name in the header.
class ElidingLabel : public QLabel
{
public:
    using QLabel::QLabel;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;
};

// One experiment: header with counts and actions, the job table (paged,
// sorted and filtered by the server) and the details of the selected job.
class ExperimentView : public QWidget
{
    Q_OBJECT
public:
    explicit ExperimentView(QWidget *parent = nullptr);
    ~ExperimentView() override;

    void setExperiment(Client *client, const Experiment &experiment, const QString &settingsScope);
    const Experiment &experiment() const { return m_experiment; }
    JobTableModel *jobModel() const { return m_model; }
    QList<QString> selectedJobIds() const;
    // Visible columns, for CSV export.
    QList<int> visibleColumns() const;
    // Fetches what changed since the last refresh; a burst of refreshes is one request.
    void refresh();
    bool isRefreshing() const { return m_refreshing; }
    void saveLayout();
    QWidget *chartsHost() const; // the tab where charts live
    charts::ChartsPanel *chartsPanel() const { return m_charts; }
    // Why the job table is empty (no jobs, none matching, failed); empty when it is not.
    QString placeholderText() const;
    void clearFilters();
    void focusSearch(); // Ctrl+F
    // The strip that says someone else changed the experiment meanwhile (empty when hidden).
    QString changedMeanwhileText() const;

Q_SIGNALS:
    void experimentChanged(const schedy::Experiment &experiment);
    void experimentDeleted(const QString &name);
    // A new experiment made here (Duplicate…): the window lists and selects it.
    void experimentCreated(const schedy::Experiment &experiment);
    void failed(const QString &what, const schedy::ClientError &error);
    void refreshed();
    // A short confirmation for the status bar ("Copied …", "Queued …").
    void notice(const QString &message);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void showExperiment(const Experiment &e);
    void showDetails();
    void togglePause();
    // Pause/Resume with If-Match of the version shown (read first when the page has no ETag);
    // a 412 reloads the experiment and says so in the strip above the table.
    void saveStatus(const Experiment &base, ExperimentStatus wanted);
    void reloadChanged(const Experiment &shown, ExperimentStatus wanted);
    void showChangedMeanwhile(const Experiment &shown, const Experiment &current, ExperimentStatus wanted);
    void hideChangedMeanwhile();
    static QStringList definitionChanges(const Experiment &before, const Experiment &after);
    void openEditDialog();
    void deleteExperiment();
    void deleteSelectedJobs();
    void requeueSelectedJobs();
    void buildColumnsMenu();
    // Editors (src/app/editors): the experiment's definition, duplicates, jobs by hand.
    void setUpEditors();
    void editExperiment();
    void duplicateExperiment();
    void queueJob();
    void duplicateSelectedJob();
    void editSelectedJob();
    void openJobDialog(JobDialog *dialog);
    std::optional<Job> currentJob() const;
    void restoreLayout();
    void updateTotal();
    void updatePlaceholders();

    std::unique_ptr<Ui::ExperimentView> m_ui;
    QPointer<Client> m_client;
    Experiment m_experiment;
    JobTableModel *m_model;
    QString m_settingsScope;
    QList<QLabel *> m_countLabels;
    QList<QToolButton *> m_statusButtons;
    QTimer m_searchDebounce;
    QStringList m_hiddenColumns; // column keys
    bool m_refreshing = false;
    bool m_layoutRestored = false;
    QTimer m_fitColumns;
    QSet<QString> m_sizedColumns; // column keys given a width (saved, fitted or by the user)
    bool m_fittingColumns = false;
    QLabel *m_jobPlaceholder = nullptr;
    QLabel *m_detailsPlaceholder = nullptr;
    bool m_jobsFailed = false;
    bool m_savingStatus = false;
    bool m_readingForEdit = false;
    charts::ChartsPanel *m_charts = nullptr;
};

} // namespace schedy
