#pragma once

#include "BlockingClient.h"
#include "Results.h"

#include <QEventLoop>
#include <QObject>
#include <QPointer>
#include <QProcess>

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
};

// `schedy run`: asks for a job, claims it, runs the command with the job's
// hyperparameters, passes its output through while reading results blocks
// (reported at once while the job runs), and marks the job DONE or CRASHED.
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
    enum class Outcome { Done, Failed, Interrupted, Abandoned, Error };
    std::optional<Job> claim(int *exitCode);
    Outcome runJob(Job job, int *exitCode);
    bool pause(double seconds);
    void reportSoon();
    void reportFinished();
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
    QString m_abandonReason;
};

} // namespace schedy::cli
