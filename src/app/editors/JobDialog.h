#pragma once

#include "ClientError.h"
#include "Types.h"

#include <QDialog>
#include <QPointer>

#include <memory>

namespace Ui {
class JobDialog;
}
class QPushButton;

namespace schedy {

class Client;
class ValueMapEditor;

// Queues a job by hand (hyperparameters pre-filled with the experiment's
// names, typed where the distribution tells the type), duplicates one as a
// new job, or edits one's status, hyperparameters and results. An edit is a
// PUT with If-Match of the job's ETag, fetched when the dialog opens: a job
// that someone changed meanwhile is shown, never overwritten silently.
class JobDialog : public QDialog
{
    Q_OBJECT
public:
    enum class Mode { Queue, Duplicate, Edit };

    JobDialog(Client *client, const Experiment &experiment, Mode mode, QWidget *parent = nullptr);
    ~JobDialog() override;

    Mode mode() const { return m_mode; }
    // Names seen in the experiment's jobs (for manual experiments, the only source of names).
    void setKnownNames(const QStringList &hyperparameters, const QStringList &results);
    // Duplicate: the source of the hyperparameters. Edit: the job to edit, fetched again for its ETag.
    void setJob(const Job &job);
    JobWrite jobWrite() const;

    bool canSave() const;
    QStringList problems() const;
    bool isBusy() const { return m_busy; }
    // The user changed the form since it was filled: closing it then asks first.
    bool hasTypedChanges() const;
    bool hasConflict() const { return !m_conflict.isEmpty(); }
    QStringList conflictChanges() const { return m_conflict; }
    QString message() const;
    QByteArray etag() const { return m_base.etag; }
    const Job &savedJob() const { return m_saved; }

    QPushButton *saveButton() const { return m_saveButton; }
    ValueMapEditor *hyperparameterEditor() const;
    ValueMapEditor *resultEditor() const;

public Q_SLOTS:
    void save();
    void drawValues();
    void reloadTheirs();
    void overwrite();

    // Esc, Cancel or the close button: asks before dropping what was typed.
    void reject() override;

Q_SIGNALS:
    void saved(const schedy::Job &job);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void load();
    void showJob(const Job &job);
    // Saves the form over `base` with the conditional save (deliberately: after a conflict).
    void put(const Job &base, bool deliberately);
    void showConflict(const Job &server, QStringList changes);
    void updateState();
    void onUserEdited();
    void setBusy(bool busy, const QString &message = {});
    void setMessage(const QString &message, bool error = false);
    void fail(const QString &what, const ClientError &error);

    std::unique_ptr<Ui::JobDialog> m_ui;
    QPointer<Client> m_client;
    Experiment m_experiment;
    Mode m_mode;
    QPushButton *m_saveButton;
    Distributions m_distributions; // what the scheduler draws from (random search, PBT init)
    QStringList m_knownResults;
    QByteArray m_pristine; // the form as filled, before the user typed
    Job m_base;            // Edit: the job as loaded (with its ETag)
    Job m_server;          // after a conflict: the job as it is now
    Job m_saved;
    QStringList m_conflict;
    QString m_status;
    bool m_statusIsError = false;
    bool m_busy = false;
    bool m_loaded = true; // Edit: false until the job (and its ETag) arrived
};

} // namespace schedy
