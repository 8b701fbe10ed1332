#include "Heartbeat.h"

#include "BlockingClient.h"

#include <QEventLoop>
#include <QThread>

#include <chrono>

namespace schedy {

Heartbeat::Heartbeat(const ClientConfig &config, QString experiment, QString id, QByteArray etag,
                     int intervalMs)
    : m_experiment(std::move(experiment))
    , m_id(std::move(id))
    , m_intervalMs(std::max(1, intervalMs))
    , m_etag(std::move(etag))
{
    m_thread.reset(QThread::create([this, config] { run(config); }));
    m_thread->start();
}

Heartbeat::~Heartbeat()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_quit = true;
    }
    m_wake.notify_all();
    m_thread->wait();
}

void Heartbeat::exclusive(const std::function<QByteArray()> &write)
{
    {
        std::unique_lock<std::mutex> lock(m_mutex);
        m_writing = true;
        if (m_beating) {
            QEventLoop loop;
            m_waiter = &loop;
            lock.unlock();
            loop.exec();
            lock.lock();
            m_waiter = nullptr;
        }
    }
    const QByteArray etag = write();
    std::lock_guard<std::mutex> lock(m_mutex);
    if (!etag.isEmpty())
        m_etag = etag;
    m_writing = false;
}

std::optional<ClientError> Heartbeat::stopped() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_stopped;
}

int Heartbeat::sent() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_sent;
}

void Heartbeat::run(const ClientConfig &config)
{
    // This thread's own client: a Client belongs to the thread that made it.
    Client client(config);
    RetryPolicy policy = client.retryPolicy();
    // A heartbeat that cannot get through is sent again at the next beat, not
    // retried for minutes while reports wait for it.
    policy.maxAttempts = 2;
    policy.timeoutMs = std::min(policy.timeoutMs, std::max(1000, m_intervalMs));
    client.setRetryPolicy(policy);
    BlockingClient blocking(&client);

    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
        if (m_wake.wait_for(lock, std::chrono::milliseconds(m_intervalMs), [this] { return m_quit; }))
            return;
        if (m_writing)
            continue; // the report keeps the job alive as well
        m_beating = true;
        const QByteArray etag = m_etag;
        lock.unlock();
        const bool ok = blocking.heartbeat(m_experiment, m_id, etag);
        lock.lock();
        m_beating = false;
        if (m_waiter)
            QMetaObject::invokeMethod(m_waiter, &QEventLoop::quit, Qt::QueuedConnection);
        if (ok) {
            ++m_sent;
            continue;
        }
        const ClientError &e = blocking.lastError();
        if ((e.httpStatus == 412 || e.httpStatus == 404) && etag == m_etag) {
            m_stopped = e;
            return;
        }
        // Anything else (the server unreachable a while): the next beat tries again.
    }
}

} // namespace schedy
