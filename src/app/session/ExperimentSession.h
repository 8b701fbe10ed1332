#pragma once

#include "ClientError.h"
#include "ConditionalSave.h"
#include "Reachability.h"
#include "SessionBackend.h"
#include "Types.h"

#include <QObject>
#include <QPointer>

#include <memory>

namespace schedy {

class JobTableModel;

// How an experiment's definition `sent` is read and written for the conditional save
// (Pause/Resume and the experiment editor); replies go to `context`.
ConditionalSave<Experiment>::Steps experimentSaveSteps(std::shared_ptr<SessionBackend> backend,
                                                       QObject *context, const Experiment &sent);
// The same for a job (the job editor).
ConditionalSave<Job>::Steps jobSaveSteps(std::shared_ptr<SessionBackend> backend, QObject *context,
                                         const QString &experiment, const QString &id, const JobWrite &sent);
// A job's writable content, as the job editor sends it and compares versions.
JobWrite writeOf(const Job &job);

// One open experiment, the single source of truth for its page: the experiment as last read,
// its job model, refreshes, and the writes made from the page (Pause/Resume, deletions,
// requeues). Views render it and send it intents; it is Widgets-free and talks to the server
// only through a SessionBackend, so its tests use a fake one.
class ExperimentSession : public QObject
{
    Q_OBJECT
public:
    explicit ExperimentSession(QObject *parent = nullptr);
    ~ExperimentSession() override;

    // Shared with the window, so that the whole window has one connection state.
    void setReachability(Reachability *reachability);
    Reachability *reachability() const { return m_reachability; }

    // Shows `experiment` (e.g. from the listing) and starts its job listing when the backend has
    // a client; a fake backend leaves the model to be given values.
    void open(std::shared_ptr<SessionBackend> backend, const Experiment &experiment);
    const Experiment &experiment() const { return m_experiment; }
    SessionBackend *backend() const { return m_backend.get(); }
    std::shared_ptr<SessionBackend> sharedBackend() const { return m_backend; }
    JobTableModel *jobs() const { return m_jobs; }

    // Reads the experiment again and shows it; `then` says whether it could (it may be gone).
    void reread(QObject *context, std::function<void(bool ok)> then);
    // Reads the experiment and the jobs changed since the last refresh; one at a time.
    void refresh();
    bool isRefreshing() const { return m_refreshing; }

    // Pause/Resume, with the conditional save: a change made meanwhile is reported with
    // statusConflict() and the session then holds the current version.
    void setStatus(ExperimentStatus wanted);
    bool isSavingStatus() const { return m_savingStatus; }
    // A version saved by an editor: shown, keeping the job counts the save does not return.
    void acceptSaved(const Experiment &experiment);
    // A job saved or queued by an editor; the counts follow with a refresh.
    void acceptJob(const Job &job);
    void deleteExperiment();
    void deleteJobs(const QList<QString> &ids);
    // Queues new jobs with these jobs' hyperparameters.
    void requeue(const QList<Job> &jobs);

Q_SIGNALS:
    void experimentChanged(const schedy::Experiment &experiment);
    void deleted(const QString &name);
    void failed(const QString &what, const schedy::ClientError &error);
    void refreshed();
    void notice(const QString &message);
    void savingStatusChanged(bool saving);
    // The server answers again, or stopped answering: the counts and
    // statuses shown are only the last known ones meanwhile.
    void reachabilityChanged(bool reachable);
    // Someone else changed the experiment meanwhile: nothing was saved, `current` is shown now.
    void statusConflict(const schedy::Experiment &shown, const schedy::Experiment &current,
                        schedy::ExperimentStatus wanted, const QStringList &changes);

private:
    void show(Experiment e);
    // An outage goes to the connection state; other errors are reported.
    void report(const QString &what, const ClientError &error);
    void endStatusSave();

    std::shared_ptr<SessionBackend> m_backend;
    QPointer<Reachability> m_reachability;
    Reachability *m_ownReachability;
    Experiment m_experiment;
    JobTableModel *m_jobs;
    bool m_refreshing = false;
    bool m_savingStatus = false;
    quint64 m_generation = 0; // bumped by open(): replies for an experiment shown before are dropped
};

} // namespace schedy
