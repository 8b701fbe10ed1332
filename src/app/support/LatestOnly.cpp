#include "LatestOnly.h"

namespace schedy {

LatestOnly::LatestOnly(const QString &threadName, QThread::Priority priority, QObject *parent)
    : QObject(parent)
    , m_priority(priority)
{
    m_thread.setObjectName(threadName);
}

LatestOnly::~LatestOnly()
{
    cancel();
    if (m_context) {
        // Queued work left behind is skipped as stale; running work returns
        // (sooner if it polls its ticket) and its delivery dies with us.
        m_thread.quit();
        m_thread.wait();
        delete m_context;
    }
}

void LatestOnly::cancel()
{
    m_latest.store(++m_requested, std::memory_order_release);
    m_busy = false;
}

void LatestOnly::start()
{
    if (m_context)
        return;
    m_context = new QObject;
    m_context->moveToThread(&m_thread);
    m_thread.start(m_priority);
}

} // namespace schedy
