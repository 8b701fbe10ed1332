#pragma once

#include <QMetaObject>
#include <QObject>
#include <QThread>

#include <atomic>
#include <type_traits>
#include <utility>

namespace schedy {

// The dashboard's one idiom for work off the UI thread where only the newest
// request matters (chart preparation, the parallel-coordinates layer, the
// embedded server's start). Work runs on one background thread, in order:
// a request overtaken by a newer submit() or by cancel() before it starts is
// skipped unstarted; running work may poll Ticket::stale() to stop early;
// a result reaches its `deliver` on the owner's thread only if it is still
// the newest. Work gets nothing but its captured values and the ticket: it
// must not touch the owner, which may be gone. The destructor cancels, lets
// running work return and waits for it: declare a LatestOnly after the
// members its deliveries use, so that it is destroyed first.
class LatestOnly : public QObject
{
    Q_OBJECT
public:
    class Ticket
    {
    public:
        quint64 id() const { return m_id; }
        // True once a newer request or cancel() came: the result would be dropped.
        bool stale() const { return m_latest->load(std::memory_order_acquire) != m_id; }

    private:
        friend class LatestOnly;
        Ticket(const std::atomic<quint64> *latest, quint64 id)
            : m_latest(latest)
            , m_id(id)
        {}
        const std::atomic<quint64> *m_latest;
        quint64 m_id;
    };

    explicit LatestOnly(const QString &threadName, QThread::Priority priority = QThread::InheritPriority,
                        QObject *parent = nullptr);
    ~LatestOnly() override;

    // Owner's thread. `work(const Ticket &)` returns a value (copyable, or
    // at least movable); `deliver(value)` is called with it on this object's
    // thread if no newer request came meanwhile. Returns the request's id.
    template <typename Work, typename Deliver> quint64 submit(Work work, Deliver deliver)
    {
        using Result = std::decay_t<std::invoke_result_t<Work &, const Ticket &>>;
        const quint64 id = ++m_requested;
        m_latest.store(id, std::memory_order_release);
        m_busy = true;
        start();
        QMetaObject::invokeMethod(
            m_context,
            [this, id, work = std::move(work), deliver = std::move(deliver)]() mutable {
                const Ticket ticket(&m_latest, id);
                if (ticket.stale()) {
                    m_skipped.fetch_add(1, std::memory_order_acq_rel);
                    return;
                }
                Result result = work(ticket);
                QMetaObject::invokeMethod(
                    this,
                    [this, id, deliver = std::move(deliver), result = std::move(result)]() mutable {
                        if (id != m_requested) {
                            ++m_discarded;
                            return;
                        }
                        m_busy = false;
                        deliver(std::move(result));
                    },
                    Qt::QueuedConnection);
            },
            Qt::QueuedConnection);
        return id;
    }

    // Owner's thread: whatever was submitted is stale (work in flight sees
    // it through its ticket; its result is dropped).
    void cancel();
    // A request not yet delivered nor cancelled.
    bool isBusy() const { return m_busy; }
    // Requests never started because a newer one came first (any thread).
    int skippedCount() const { return m_skipped.load(std::memory_order_acquire); }
    // Results that arrived after a newer request or cancel() (owner's thread).
    int discardedCount() const { return m_discarded; }

private:
    void start();

    QThread m_thread;
    QObject *m_context = nullptr; // lives in m_thread
    QThread::Priority m_priority;
    quint64 m_requested = 0; // owner's thread
    std::atomic<quint64> m_latest{0};
    std::atomic<int> m_skipped{0};
    int m_discarded = 0;
    bool m_busy = false;
};

} // namespace schedy
