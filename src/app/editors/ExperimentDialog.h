#pragma once

#include "ClientError.h"
#include "Types.h"

#include <QDialog>
#include <QPointer>

#include <memory>

namespace Ui {
class ExperimentDialog;
}
class QPlainTextEdit;
class QPushButton;

namespace schedy {

class Client;
class DistributionEditor;
class LeaseEditor;
class PrunerEditor;
class SamplerEditor;
class PbtSettingsEditor;
class SchedulerJsonView;

// Creates an experiment, edits one, or duplicates one's definition under a
// new name: name, scheduler kind, status, and the scheduler's definition in a
// form and as raw JSON kept in step. An edit is a PUT with If-Match of the
// ETag of the version the dialog showed (fetched first when it came without
// one): a change someone made meanwhile makes the server refuse the save
// (412); it is shown beside what the user typed, and the user reloads it or
// overwrites it deliberately.
class ExperimentDialog : public QDialog
{
    Q_OBJECT
public:
    enum class Mode { Create, Edit, Duplicate };

    ExperimentDialog(Client *client, Mode mode, QWidget *parent = nullptr);
    ~ExperimentDialog() override;

    Mode mode() const { return m_mode; }
    // Create: a template (may be empty). Edit: the experiment as the user saw it, the base
    // against which changes by others are detected; its etag (from a GET) guards the save.
    // Duplicate: the source (its name gets " copy").
    void setExperiment(const Experiment &experiment);
    // What the dialog would save.
    Experiment experiment() const;
    // Edit: the version the dialog started from (its etag guards the save).
    const Experiment &baseExperiment() const { return m_base; }
    // Result names the jobs already report, offered as PBT's quality result.
    void setResultNameSuggestions(const QStringList &names);

    bool canSave() const;
    // Problems that keep Save disabled, one line each.
    QStringList problems() const;
    // The problems shown in red: those of fields the user touched, or all after a try to save.
    QStringList shownProblems() const;
    bool isBusy() const { return m_busy; }
    // The user changed the form since it was filled: closing it then asks first.
    bool hasTypedChanges() const;
    bool hasConflict() const;
    QStringList conflictChanges() const { return m_conflict; }
    QString message() const;
    // The server's document after a successful save.
    const Experiment &savedExperiment() const { return m_saved; }

    QPushButton *saveButton() const { return m_saveButton; }
    DistributionEditor *distributionEditor() const;
    PbtSettingsEditor *pbtEditor() const;
    SchedulerJsonView *jsonView() const;
    SamplerEditor *samplerEditor() const;
    PrunerEditor *prunerEditor() const;
    LeaseEditor *leaseEditor() const;

public Q_SLOTS:
    void save();
    // Save with problems (Enter, or a click on the disabled button): shows every problem and
    // moves the focus to the first field at fault.
    void revealProblems();
    // After a conflict: take the server's version / save ours over it.
    void reloadTheirs();
    void overwrite();

Q_SIGNALS:
    void saved(const schedy::Experiment &experiment);

public Q_SLOTS:
    // Esc, Cancel or the close button: asks before dropping what was typed.
    void reject() override;

protected:
    void showEvent(QShowEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    QString nameProblem() const;
    QString policyProblem() const;
    void addPolicyEditors();
    void onPolicyEdited();
    void updatePolicyContext();
    Scheduler::Kind kind() const;
    Scheduler formScheduler() const;
    bool formValid() const;
    QStringList formErrors() const;
    void setForm(const Scheduler &scheduler);
    void showKind(Scheduler::Kind kind);
    void onKindChanged();
    void onFormEdited();
    void onJsonEdited(const Scheduler &scheduler);
    void updateState();
    void onUserEdited();
    void setBusy(bool busy, const QString &message = {});
    void setMessage(const QString &message, bool error = false);
    void create(const Experiment &experiment);
    // Saves `experiment` over `base` with the conditional save (deliberately: after a conflict).
    void saveOver(const Experiment &base, const Experiment &experiment, bool deliberately);
    void showConflict(const Experiment &server, bool refused);
    void finishSave(const Experiment &saved);
    void fail(const QString &what, const ClientError &error);

    std::unique_ptr<Ui::ExperimentDialog> m_ui;
    QPointer<Client> m_client;
    Mode m_mode;
    QPushButton *m_saveButton;
    Experiment m_base;   // Edit: what the user started from
    Experiment m_server; // Edit, after a conflict: the server's current version
    Experiment m_saved;
    SamplerEditor *m_sampler = nullptr;
    PrunerEditor *m_pruner = nullptr;
    LeaseEditor *m_lease = nullptr;
    QPlainTextEdit *m_policyJson = nullptr;
    std::optional<Scheduler> m_policyScheduler; // what the policy editors were last told
    QStringList m_conflict;
    QString m_takenName; // refused by the server as existing
    bool m_busy = false;
    bool m_syncing = false;
    QString m_status; // what the footer says (busy, failure), instead of the problems
    bool m_statusIsError = false;
    QByteArray m_pristine; // the form as filled, before the user typed
};

} // namespace schedy
