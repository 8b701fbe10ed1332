#include "Runner.h"

#include "Common.h"
#include "Json.h"
#include "PolicyText.h"

#include <QProcessEnvironment>
#include <QTimer>

#include <csignal>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

namespace schedy::cli {

namespace {
constexpr int MaxClaimAttempts = 100;
constexpr int MaxFinalAttempts = 5;
} // namespace

Runner::Runner(Client *client, RunOptions options)
    : m_client(client)
    , m_blocking(client)
    , m_options(std::move(options))
{}

void Runner::note(const QString &message) const
{
    if (!m_options.quiet)
        writeErr(QStringLiteral("schedy: ") + message + QLatin1Char('\n'));
}

int Runner::fail(const ClientError &error, const QString &context) const
{
    return failWith(exitCodeFor(error), context + describe(error));
}

void Runner::interrupt(int signal)
{
    ++m_signals;
    if (m_signal == 0)
        m_signal = signal;
    if (m_process && m_process->state() != QProcess::NotRunning) {
        // The first signal is passed on to the command; another one kills it.
        stopCommand(m_signals == 1 ? signal : SIGKILL);
    } else if (m_signals > 1 && !m_loop) {
        // Asked twice while a request is in flight: leave at once.
        std::fflush(stdout);
        ::_exit(128 + m_signal);
    }
    if (m_loop && (!m_process || m_process->state() == QProcess::NotRunning))
        m_loop->quit();
}

void Runner::stopCommand(int signal)
{
    if (!m_process || m_process->state() == QProcess::NotRunning)
        return;
    ++m_signalsToCommand;
    const pid_t pid = pid_t(m_process->processId());
    if (pid <= 0)
        return;
    // The command runs in its own process group: signal all of it (a shell
    // wrapper's children too), or the process alone if the group is not made yet.
    if (::kill(-pid, signal) != 0)
        ::kill(pid, signal);
}

bool Runner::pause(double seconds)
{
    if (m_signal)
        return false;
    QEventLoop loop;
    m_loop = &loop;
    QTimer::singleShot(int(seconds * 1000), &loop, &QEventLoop::quit);
    loop.exec();
    m_loop = nullptr;
    return m_signal == 0;
}

std::optional<Job> Runner::claim(int *exitCode)
{
    const QString &exp = m_options.experiment;
    for (int attempt = 0; attempt < MaxClaimAttempts;) {
        if (m_signal) {
            *exitCode = 128 + m_signal;
            return std::nullopt;
        }
        auto next = m_blocking.nextJob(exp);
        if (!next) {
            const ClientError e = m_blocking.lastError();
            if (e.kind != ClientError::Kind::NoJob) {
                *exitCode = fail(e, QStringLiteral("cannot get a job of \"%1\": ").arg(exp));
                return std::nullopt;
            }
            if (!m_options.wait) {
                note(QStringLiteral("no job left in \"%1\"").arg(exp));
                *exitCode = ExitOk;
                return std::nullopt;
            }
            // Waiting for work: stop for good once the experiment is DONE.
            auto experiment = m_blocking.experiment(exp);
            if (!experiment) {
                *exitCode = fail(m_blocking.lastError(), QStringLiteral("cannot read \"%1\": ").arg(exp));
                return std::nullopt;
            }
            if (experiment->status == ExperimentStatus::Done) {
                note(QStringLiteral("experiment \"%1\" is DONE").arg(exp));
                *exitCode = ExitOk;
                return std::nullopt;
            }
            if (!pause(*m_options.wait)) {
                *exitCode = 128 + m_signal;
                return std::nullopt;
            }
            continue;
        }
        ++attempt;
        JobWrite w;
        w.status = JobStatus::Running;
        w.hyperparameters = next->hyperparameters;
        w.results = next->results;
        auto claimed = m_blocking.putJob(exp, next->id, w, WriteCondition::IfMatch, next->etag);
        if (!claimed) {
            if (m_blocking.lastError().kind == ClientError::Kind::UnsafeUpdate)
                continue; // another worker was first
            *exitCode = fail(m_blocking.lastError(), QStringLiteral("cannot claim job %1: ").arg(next->id));
            return std::nullopt;
        }
        if (m_signal) {
            // Interrupted before the command started: hand the job back.
            w.status = JobStatus::Queued;
            m_blocking.putJob(exp, claimed->id, w, WriteCondition::IfMatch, claimed->etag);
            *exitCode = 128 + m_signal;
            return std::nullopt;
        }
        return claimed;
    }
    *exitCode =
        failWith(ExitConflict, QStringLiteral("gave up claiming a job of \"%1\": other workers kept taking "
                                              "them first")
                                   .arg(exp));
    return std::nullopt;
}

int Runner::exec()
{
    int jobs = 0;
    for (;;) {
        if (m_options.maxJobs > 0 && jobs >= m_options.maxJobs)
            return ExitOk;
        int exitCode = ExitOk;
        auto job = claim(&exitCode);
        if (!job)
            return exitCode;
        ++jobs;
        const Outcome outcome = runJob(*job, &exitCode);
        switch (outcome) {
        case Outcome::Interrupted:
        case Outcome::Error:
            return exitCode;
        case Outcome::Failed:
            if (!m_options.ignoreErrors)
                return ExitJobFailed;
            break;
        case Outcome::Done:
        case Outcome::Abandoned:
            break;
        case Outcome::Stopped:
            // A pruned search prunes: the worker goes on, and says so only when it ends here.
            if (m_options.once || (m_options.maxJobs > 0 && jobs >= m_options.maxJobs))
                return ExitJobStopped;
            break;
        }
        if (m_signal)
            return 128 + m_signal;
        if (m_options.once)
            return ExitOk;
    }
}

void Runner::reportSoon()
{
    // One write of the job at a time: a heartbeat in flight carries the ETag a report would replace.
    if (m_reportBusy || m_heartbeatBusy) {
        m_reportPending = true;
        return;
    }
    if (!m_scanner || m_abandoned)
        return;
    m_reportBusy = true;
    m_reportPending = false;
    JobWrite w;
    w.status = JobStatus::Running;
    w.hyperparameters = m_job.hyperparameters;
    w.results = m_scanner->results();
    auto *call = m_client->putJob(m_job.experiment, m_job.id, w, WriteCondition::IfMatch, m_job.etag);
    connect(call, &CallBase::finished, this, [this, call] {
        if (call->ok()) {
            m_job.etag = call->value().etag;
            if (call->value().status == JobStatus::Pruned) // by the server, in this very write
                abandon(&call->value(), {});
            reportFinished();
            return;
        }
        if (call->error().kind != ClientError::Kind::UnsafeUpdate) {
            note(QStringLiteral("job %1: intermediate results not sent: %2")
                     .arg(m_job.id, describe(call->error())));
            reportFinished();
            return;
        }
        inspectJob(); // someone else changed the job: look at it
    });
}

void Runner::heartbeat()
{
    if (m_heartbeatBusy || m_reportBusy || m_abandoned)
        return; // a report keeps the job alive as well
    m_heartbeatBusy = true;
    const QByteArray sent = m_job.etag;
    auto *call = m_client->heartbeat(m_job.experiment, m_job.id, sent);
    connect(call, &CallBase::finished, this, [this, call, sent] {
        m_heartbeatBusy = false;
        const ClientError &e = call->error();
        if (e.httpStatus == 412 || e.httpStatus == 404) {
            if (sent == m_job.etag)
                inspectJob(); // pruned, lost, edited or deleted: look at it
            else
                reportFinished();
            return;
        }
        if (e.isError())
            note(QStringLiteral("job %1: heartbeat not sent: %2").arg(m_job.id, describe(e)));
        reportFinished(); // sends a report that waited for it
    });
}

// The job's ETag did not match: find out what became of it. Still RUNNING (say, a
// person edited its results): go on with the new ETag. Otherwise stop the command.
void Runner::inspectJob()
{
    m_reportBusy = true;
    auto *get = m_client->job(m_job.experiment, m_job.id);
    connect(get, &CallBase::finished, this, [this, get] {
        if (get->ok() && get->value().status == JobStatus::Running) {
            m_job.etag = get->value().etag;
            m_reportPending = true;
        } else {
            abandon(get->ok() ? &get->value() : nullptr, get->ok() ? QString() : describe(get->error()));
        }
        reportFinished();
    });
}

// Stops the command of a job that is no longer ours; `current` is the job as it is now.
void Runner::abandon(const Job *current, const QString &reason)
{
    if (m_abandoned)
        return;
    m_abandoned = true;
    if (m_heartbeat)
        m_heartbeat->stop();
    const QString stopping =
        QStringLiteral(": stopping its command (SIGTERM, SIGKILL after %1 s)").arg(m_options.grace);
    // The server's pruner says why (prunedAt...); a job set PRUNED by a person was changed elsewhere.
    if (current && current->status == JobStatus::Pruned && current->pruned) {
        m_stoppedByServer = true;
        m_abandonReason = QStringLiteral("PRUNED");
        note(QStringLiteral("job %1 was pruned by the server%2%3")
                 .arg(m_job.id, current->pruned ? QLatin1Char(' ') + describe(*current->pruned) : QString(),
                      stopping));
    } else if (current && current->status == JobStatus::Crashed && current->lostAt) {
        m_stoppedByServer = true;
        m_abandonReason = QStringLiteral("lost");
        note(QStringLiteral("job %1 was declared lost by the server (%2)%3")
                 .arg(m_job.id, describeLoss(*current), stopping));
    } else {
        m_abandonReason = current ? QStringLiteral("it is now %1").arg(toString(current->status)) : reason;
        note(QStringLiteral("job %1 was changed elsewhere (%2)%3").arg(m_job.id, m_abandonReason, stopping));
    }
    stopCommand(SIGTERM);
    if (m_grace && m_process && m_process->state() != QProcess::NotRunning)
        m_grace->start(int(m_options.grace * 1000));
}

void Runner::reportFinished()
{
    m_reportBusy = false;
    if (m_heartbeatBusy)
        return; // its end asks for the pending report
    if (m_reportPending && !m_abandoned && m_process && m_process->state() != QProcess::NotRunning) {
        reportSoon();
        return;
    }
    if (m_loop && (!m_process || m_process->state() == QProcess::NotRunning))
        m_loop->quit();
}

Runner::Outcome Runner::runJob(Job job, int *exitCode)
{
    m_job = job;
    m_abandoned = false;
    m_stoppedByServer = false;
    m_abandonReason.clear();
    m_reportPending = false;
    m_signalsToCommand = 0;
    const QString &exp = m_options.experiment;

    JobContext context{exp, job.id, job.hyperparameters, job.results};
    QStringList args;
    for (const QString &a : std::as_const(m_options.command))
        args << expandFormatters(a, context);
    note(QStringLiteral("job %1 started").arg(job.id));

    QProcess process;
    process.setProgram(args.first());
    process.setArguments(args.mid(1));
    process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    process.setStandardInputFile(QProcess::nullDevice());
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("SCHEDY_EXPERIMENT"), exp);
    env.insert(QStringLiteral("SCHEDY_JOB_ID"), job.id);
    env.insert(QStringLiteral("SCHEDY_HYPERPARAMETERS"), QString::fromUtf8(json::write(job.hyperparameters)));
    env.insert(QStringLiteral("SCHEDY_RESULTS"), QString::fromUtf8(json::write(job.results)));
    if (!m_options.configPath.isEmpty())
        env.insert(QStringLiteral("SCHEDY_CONFIG"), m_options.configPath);
    // Python buffers its output into a pipe: results would only arrive at the end.
    if (!env.contains(QStringLiteral("PYTHONUNBUFFERED")))
        env.insert(QStringLiteral("PYTHONUNBUFFERED"), QStringLiteral("1"));
    process.setProcessEnvironment(env);
    process.setChildProcessModifier([] {
        ::setpgid(0, 0); // signals reach it through us only
#ifdef __linux__
        ::prctl(PR_SET_PDEATHSIG, SIGTERM); // and it does not outlive us
#endif
    });

    // The lease as it is now: read per job, so that one set meanwhile is honoured.
    std::optional<LeaseSpec> lease;
    if (auto experiment = m_blocking.experiment(exp))
        lease = experiment->lease;
    QTimer heartbeatTimer;
    connect(&heartbeatTimer, &QTimer::timeout, this, &Runner::heartbeat);
    m_heartbeat = &heartbeatTimer;
    QTimer graceTimer;
    graceTimer.setSingleShot(true);
    connect(&graceTimer, &QTimer::timeout, this, [this] { stopCommand(SIGKILL); });
    m_grace = &graceTimer;

    ResultsScanner scanner;
    scanner.setInitialResults(job.results);
    scanner.onBlock = [this] {
        if (m_process && m_process->state() != QProcess::NotRunning)
            reportSoon();
    };
    scanner.onProblem = [this](const QString &message) {
        note(QStringLiteral("job %1: %2").arg(m_job.id, message));
    };
    m_scanner = &scanner;
    m_process = &process;

    bool startFailed = false;
    QString startError;
    QEventLoop loop;
    connect(&process, &QProcess::readyReadStandardOutput, this, [&] {
        const QByteArray data = process.readAllStandardOutput();
        writeOutBytes(data);
        scanner.feed(data);
    });
    connect(&process, &QProcess::finished, &loop, &QEventLoop::quit);
    connect(&process, &QProcess::errorOccurred, &loop, [&](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart) {
            startFailed = true;
            startError = process.errorString();
            loop.quit();
        }
    });
    process.start();
    if (process.processId() > 0)
        ::setpgid(pid_t(process.processId()), pid_t(process.processId()));
    if (lease)
        heartbeatTimer.start(int(lease->heartbeatIntervalMs()));
    m_loop = &loop;
    if (m_signal)
        stopCommand(m_signal);
    if (!startFailed && process.state() != QProcess::NotRunning)
        loop.exec();
    else if (process.state() == QProcess::NotRunning && !startFailed &&
             process.error() == QProcess::FailedToStart) {
        startFailed = true;
        startError = process.errorString();
    }
    const QByteArray last = process.readAllStandardOutput();
    writeOutBytes(last);
    scanner.feed(last);
    scanner.finish();
    m_process = nullptr;
    heartbeatTimer.stop();
    graceTimer.stop();

    // Let the last intermediate report finish: the final one needs its ETag.
    while (m_reportBusy || m_heartbeatBusy) {
        QEventLoop idle;
        m_loop = &idle;
        idle.exec();
    }
    m_loop = nullptr;
    m_scanner = nullptr;
    m_heartbeat = nullptr;
    m_grace = nullptr;

    if (m_stoppedByServer) {
        *exitCode = ExitJobStopped;
        return Outcome::Stopped;
    }
    if (m_abandoned) {
        note(QStringLiteral("job %1 left as it is (%2)").arg(job.id, m_abandonReason));
        return Outcome::Abandoned;
    }

    QString failure;
    if (m_signal)
        failure = QStringLiteral("interrupted by %1")
                      .arg(m_signal == SIGINT ? QStringLiteral("SIGINT") : QStringLiteral("SIGTERM"));
    else if (startFailed)
        failure = QStringLiteral("cannot run %1: %2").arg(args.first(), startError);
    else if (process.exitStatus() == QProcess::CrashExit)
        failure = QStringLiteral("the command was killed by a signal");
    else if (process.exitCode() != 0)
        failure = QStringLiteral("the command exited with code %1").arg(process.exitCode());
    else if (!scanner.problems().isEmpty())
        failure = QStringLiteral("its results could not all be read (see above)");
    else if (scanner.blockCount() == 0 && !m_options.allowEmptyResults)
        failure = QStringLiteral("the command printed no results block (\"%1\" ... \"%2\"); "
                                 "use --allow-empty-results if that is expected")
                      .arg(ResultsScanner::BeginMarker, ResultsScanner::EndMarker);

    JobWrite w;
    w.status = failure.isEmpty() ? JobStatus::Done : JobStatus::Crashed;
    w.hyperparameters = job.hyperparameters;
    w.results = scanner.results();
    for (int attempt = 0;; ++attempt) {
        auto written = m_blocking.putJob(exp, job.id, w, WriteCondition::IfMatch, m_job.etag);
        if (written)
            break;
        const ClientError e = m_blocking.lastError();
        if (e.kind != ClientError::Kind::UnsafeUpdate || attempt + 1 >= MaxFinalAttempts) {
            *exitCode = fail(e, QStringLiteral("cannot mark job %1 %2: ").arg(job.id, toString(w.status)));
            return Outcome::Error;
        }
        auto current = m_blocking.job(exp, job.id);
        if (!current || current->status != JobStatus::Running) {
            note(QStringLiteral("job %1 was changed elsewhere (%2); left as it is")
                     .arg(job.id, current ? QStringLiteral("it is now %1").arg(toString(current->status))
                                          : describe(m_blocking.lastError())));
            return m_signal ? Outcome::Interrupted : Outcome::Abandoned;
        }
        m_job.etag = current->etag;
    }
    if (m_signal) {
        note(QStringLiteral("job %1 CRASHED: %2").arg(job.id, failure));
        *exitCode = 128 + m_signal;
        return Outcome::Interrupted;
    }
    if (!failure.isEmpty()) {
        note(QStringLiteral("job %1 CRASHED: %2").arg(job.id, failure));
        return Outcome::Failed;
    }
    note(QStringLiteral("job %1 DONE").arg(job.id));
    return Outcome::Done;
}

} // namespace schedy::cli
