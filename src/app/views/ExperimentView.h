#pragma once

#include "ClientError.h"
#include "Types.h"

#include <QAbstractButton>
#include <QLabel>
#include <QPointer>
#include <QSet>
#include <QTimer>
#include <QWidget>

#include <functional>
#include <memory>
#include <optional>

namespace Ui {
class ExperimentView;
}
class QMenu;
class QPushButton;
class QToolButton;

namespace schedy {

class Client;
class ExperimentSession;
class JobDialog;
class JobTableModel;
class Reachability;
class SessionBackend;
namespace charts {
class ChartsPanel;
}

// A label that elides its text when narrow (full text in the tooltip)
// instead of making its layout wider; the experiment's name in the header.
class ElidingLabel : public QLabel
{
public:
    using QLabel::QLabel;
    // By default as small as the minimum: the header's name takes the room the buttons leave,
    // never theirs. A status message asks for its whole text and is elided only when narrow.
    void setWantsFullWidth(bool on)
    {
        m_wantsFullWidth = on;
        updateGeometry();
    }
    QSize sizeHint() const override { return m_wantsFullWidth ? QLabel::sizeHint() : minimumSizeHint(); }
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    bool m_wantsFullWidth = false;
};

// The header's buttons in one row that moves the least important ones into a
// "More" menu when narrow, instead of making the window wider.
class ActionBar : public QWidget
{
    Q_OBJECT
public:
    explicit ActionBar(QWidget *parent = nullptr);
    // Buttons in the order shown (children of the bar). A rank of 0 never
    // overflows; a higher rank overflows before a lower one.
    void addButton(QAbstractButton *button, int overflowRank);
    QPushButton *moreButton() const { return m_more; }
    // The buttons that are in the "More" menu now.
    QList<QAbstractButton *> overflowed() const;
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    bool event(QEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    struct Entry
    {
        QAbstractButton *button;
        int rank;
        QAction *action; // in the "More" menu
    };
    int widthOf(const QList<bool> &shown, bool withMore) const;
    // The width with the buttons up to this rank shown (and "More" when others are not).
    int widthKeeping(int maxRank) const;
    void arrange();
    void syncMenu();

    QList<Entry> m_entries;
    QPushButton *m_more;
    QMenu *m_menu;
    bool m_arranging = false;
};

// A count of jobs in one status that is also the status filter ("● 12 crashed"):
// click shows only that status, Ctrl+click adds it to the statuses shown.
class StatusCountButton : public QAbstractButton
{
    Q_OBJECT
public:
    StatusCountButton(JobStatus status, QWidget *parent = nullptr);
    JobStatus status() const { return m_status; }
    qint64 count() const { return m_count; }
    void setCount(qint64 count);
    // Said after the status: " · 2 lost" on the crashed count.
    void setDetail(const QString &detail);
    QString detail() const { return m_detail; }
    // Another status is filtered and this one is not: drawn faint.
    void setDimmed(bool dimmed);
    bool isDimmed() const { return m_dimmed; }
    // The modifiers of the click (or key) that last activated the button.
    Qt::KeyboardModifiers clickModifiers() const { return m_clickModifiers; }
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override { return sizeHint(); }

protected:
    void paintEvent(QPaintEvent *event) override;
    void focusInEvent(QFocusEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void keyReleaseEvent(QKeyEvent *event) override;

private:
    QString label() const;

    JobStatus m_status;
    qint64 m_count = 0;
    QString m_detail;
    bool m_dimmed = false;
    bool m_focusRing = false; // focus from the keyboard, not from a click
    Qt::KeyboardModifiers m_clickModifiers;
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
    // The same over any backend (tests give a fake one).
    void open(std::shared_ptr<SessionBackend> backend, const Experiment &experiment,
              const QString &settingsScope);
    QString totalText() const; // "65 jobs", "12 of 65 match"
    const Experiment &experiment() const;
    JobTableModel *jobModel() const { return m_model; }
    // The page renders this session and sends it what the user asks for.
    ExperimentSession *session() const { return m_session; }
    QList<QString> selectedJobIds() const;
    // Visible columns, for CSV export.
    QList<int> visibleColumns() const;
    // Fetches what changed since the last refresh; a burst of refreshes is one request.
    void refresh();
    bool isRefreshing() const;
    void saveLayout();
    QWidget *chartsHost() const; // the tab where charts live
    charts::ChartsPanel *chartsPanel() const { return m_charts; }
    // Why the job table is empty (no jobs, none matching, failed); empty when it is not.
    QString placeholderText() const;
    void clearFilters();
    // Shows only these statuses (none: all), as the counts above the table do.
    void setStatusFilter(const QList<JobStatus> &statuses);
    void focusSearch(); // Ctrl+F
    // Selects the job and shows its details; one not loaded (a filter hides it, a later page)
    // is looked up by its id (the filters give way) and selected when it arrives.
    void selectJob(const QString &id);
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
    void resizeEvent(QResizeEvent *event) override;

private:
    Client *client() const; // for the editors, which save through it
    void showExperiment(const Experiment &e);
    void fitHeader(); // the kind goes first when narrow: the name matters more
    void showDetails();
    void togglePause();
    // The session found a change made meanwhile (Pause/Resume): said in the strip above the table.
    void showChangedMeanwhile(const Experiment &shown, const Experiment &current, ExperimentStatus wanted,
                              QStringList changes);
    void hideChangedMeanwhile();
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
    // The width the rows first..last need in a column (capped, but never for ids).
    int contentWidth(int column, int first, int last) const;
    // Widens the fitted columns that rows first..last do not fit in.
    void growColumns(int first, int last);
    void updateTotal();
    void updateCounts();
    void updatePlaceholders();
    void countClicked(StatusCountButton *button);
    void syncCountButtons(); // checked, faint and tooltips from the model's filter

    std::unique_ptr<Ui::ExperimentView> m_ui;
    ExperimentSession *m_session;
    JobTableModel *m_model; // the session's

    QString m_settingsScope;
    QList<StatusCountButton *> m_countButtons;
    QTimer m_searchDebounce;
    QStringList m_hiddenColumns; // column keys
    bool m_layoutRestored = false;
    QTimer m_fitColumns;
    QSet<QString> m_sizedColumns;  // column keys given a width (saved, fixed or by the user)
    QSet<QString> m_fittedColumns; // column keys fitted to their rows: they grow as rows come
    QString m_keepSelected;        // the job selected before the listing restarted (a sort)
    bool m_fittingColumns = false;
    QLabel *m_jobPlaceholder = nullptr;
    QLabel *m_detailsPlaceholder = nullptr;
    bool m_jobsFailed = false;
    bool m_readingForEdit = false;
    charts::ChartsPanel *m_charts = nullptr;
};

} // namespace schedy
