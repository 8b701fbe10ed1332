#include "LoginLimiter.h"

#include <algorithm>
#include <cmath>

namespace schedy::server {

LoginLimiter::Bucket &LoginLimiter::refilled(const QByteArray &key, qint64 nowMs)
{
    // Full buckets are forgotten, so the table holds only keys that failed
    // recently; it is also bounded against a flood of distinct keys.
    if (m_buckets.size() > 100000) {
        for (auto it = m_buckets.begin(); it != m_buckets.end();) {
            if (it->tokens + double(nowMs - it->at) / double(m_refillMs) >= m_burst)
                it = m_buckets.erase(it);
            else
                ++it;
        }
    }
    auto it = m_buckets.find(key);
    if (it == m_buckets.end())
        it = m_buckets.insert(key, Bucket{double(m_burst), nowMs});
    Bucket &b = *it;
    if (nowMs > b.at) {
        b.tokens = std::min<double>(m_burst, b.tokens + double(nowMs - b.at) / double(m_refillMs));
        b.at = nowMs;
    }
    return b;
}

qint64 LoginLimiter::retryAfter(const QByteArray &key, qint64 nowMs)
{
    const auto it = m_buckets.constFind(key);
    if (it == m_buckets.constEnd())
        return 0;
    const Bucket &b = refilled(key, nowMs);
    if (b.tokens >= 1)
        return 0;
    const double waitMs = (1 - b.tokens) * double(m_refillMs);
    return std::max<qint64>(1, qint64(std::ceil(waitMs / 1000)));
}

void LoginLimiter::failed(const QByteArray &key, qint64 nowMs)
{
    Bucket &b = refilled(key, nowMs);
    b.tokens = std::max(0.0, b.tokens - 1);
}

} // namespace schedy::server
