#pragma once

#include "BlockingClient.h"
#include "Results.h"

#include <QEventLoop>
#include <QObject>
#include <QPointer>
#include <QProcess>
#include <QTimer>

#include <optional>

namespace schedy::cli {

struct RunOptions
{
    QString experiment;
    QStringList command;
    QString configPath; // passed to the command as SCHEDY_CONFIG
    bool once = false;  // at most one job
    bool allowEmptyResults = false;
    bool ignoreErrors = false;  // a failed job does not stop the worker
    std::optional<double> wait; // seconds between asks when there is no job
    int maxJobs = 0;            // 0: no limit
    bool quiet = false;
    double grace = 10; // seconds between SIGTERM and SIGKILL when the job is stopped for us
};

// `schedy run`: asks for a job, claims it, runs the command with the job's
// hyperparameters, passes its output through while reading results blocks
// (reported at once while the job runs), and marks the job DONE or CRASHED.
// While the experiment has a lease it heartbeats every third of it; when the
// server prunes the job or declares it lost (docs/protocol.md 8.2, 8.3), the
// command is stopped (SIGTERM, SIGKILL after the grace period) and the job is
// left as the server made it.
class Runner : public QObject
{
    Q_OBJECT
public:
    Runner(Client *client, RunOptions options);
    // Runs jobs until there is none (or the limits); returns the exit code.
    int exec();
    // SIGINT/SIGTERM: forwarded to the command; the job ends CRASHED.
    void interrupt(int signal);

private:
    enum class Outcome { Done, Failed, Interrupted, Abandoned, Stopped, Error };
    std::optional<Job> claim(int *exitCode);
    Outcome runJob(Job job, int *exitCode);
    bool pause(double seconds);
    void reportSoon();
    void reportFinished();
    void heartbeat();
    void inspectJob();
    void abandon(const Job *current, const QString &reason);
    void stopCommand(int signal);
    void note(const QString &message) const;
    int fail(const ClientError &error, const QString &context) const;

    Client *m_client;
    BlockingClient m_blocking;
    RunOptions m_options;
    int m_signal = 0;
    int m_signals = 0; // signals received
    int m_signalsToCommand = 0;
    QPointer<QEventLoop> m_loop; // the wait in progress, ended by a signal
    // The job being run.
    QProcess *m_process = nullptr;
    ResultsScanner *m_scanner = nullptr;
    Job m_job;
    bool m_reportBusy = false;
    bool m_reportPending = false;
    bool m_abandoned = false;
    bool m_stoppedByServer = false; // pruned or lost: exit status ExitJobStopped
    QString m_abandonReason;
    bool m_heartbeatBusy = false;
    QTimer *m_heartbeat = nullptr; // while a job with a lease runs
    QTimer *m_grace = nullptr;     // SIGKILL when the command outlives the grace period
};

} // namespace schedy::cli
