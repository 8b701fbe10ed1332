#pragma once

#include "ClientConfig.h"
#include "ClientError.h"

#include <QByteArray>
#include <QString>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>

class QEventLoop;
class QThread;

namespace schedy {

// Keeps a RUNNING job's lease alive (docs/protocol.md 8.3) from a thread of its own
// while the training code runs in the caller's: a heartbeat every `intervalMs`
// with the ETag the worker holds, through a Client of that thread. A write of
// the job goes through exclusive(), so that no heartbeat carries an ETag that
// a report in flight is about to replace (the server would answer 412). Its
// wait for a heartbeat in flight runs the caller's event loop, so a server in
// the caller's thread (a test's) still answers.
class Heartbeat
{
public:
    Heartbeat(const ClientConfig &config, QString experiment, QString id, QByteArray etag, int intervalMs);
    ~Heartbeat(); // stops the thread and waits for it

    // Runs `write` (a report of the job) with heartbeats held off; `write`
    // returns the job's new ETag, or an empty one when nothing changed.
    void exclusive(const std::function<QByteArray()> &write);
    // Why the heartbeats stopped: a 412 (pruned, lost, edited) or a 404 (deleted).
    std::optional<ClientError> stopped() const;
    int sent() const;

private:
    void run(const ClientConfig &config);

    const QString m_experiment;
    const QString m_id;
    const int m_intervalMs;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    QByteArray m_etag;
    bool m_quit = false;
    bool m_writing = false;         // a report is in flight: no heartbeat starts
    bool m_beating = false;         // a heartbeat is in flight: a report waits
    QEventLoop *m_waiter = nullptr; // the report's wait, ended when the heartbeat is back
    int m_sent = 0;
    std::optional<ClientError> m_stopped;
    std::unique_ptr<QThread> m_thread;
};

} // namespace schedy
