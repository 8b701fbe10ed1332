#pragma once

#include <QByteArray>
#include <QHash>

namespace schedy::server {

// Failed password logins, counted per key (an email, a peer address) in a
// token bucket: `burst` failures at once, then one more every `refillMs`.
// Checked before the expensive hash, so that a flood of wrong passwords costs
// a hash lookup per request once its bucket is empty. Times come from the
// caller (a monotonic clock in milliseconds), so that tests can move them.
class LoginLimiter
{
public:
    LoginLimiter(int burst, qint64 refillMs)
        : m_burst(burst)
        , m_refillMs(refillMs)
    {}

    // 0 when a login with this key may be tried now; otherwise the seconds to wait.
    qint64 retryAfter(const QByteArray &key, qint64 nowMs);
    void failed(const QByteArray &key, qint64 nowMs);

private:
    struct Bucket
    {
        double tokens = 0;
        qint64 at = 0;
    };
    Bucket &refilled(const QByteArray &key, qint64 nowMs);

    int m_burst;
    qint64 m_refillMs;
    QHash<QByteArray, Bucket> m_buckets;
};

} // namespace schedy::server
