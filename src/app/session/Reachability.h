#pragma once

#include "ClientError.h"

#include <QDateTime>
#include <QObject>

#include <functional>

namespace schedy {

// Whether the server answers, as one state for the whole window: "Unreachable since 14:02:11 —
// retrying" from the first failed request until one succeeds, instead of an error per request.
// The clock is injected so that tests say when the outage began.
class Reachability : public QObject
{
    Q_OBJECT
public:
    using Clock = std::function<QDateTime()>;
    explicit Reachability(QObject *parent = nullptr);
    void setClock(Clock clock) { m_clock = std::move(clock); }

    // An error that means the server did not answer (network, timeout, 5xx after the retries).
    static bool isOutage(const ClientError &error);
    // Records the outage and returns true for such an error; other errors are the caller's to show.
    bool report(const ClientError &error);
    void reportReached();

    bool isReachable() const { return !m_since.isValid(); }
    QDateTime unreachableSince() const { return m_since; }
    QString reason() const { return m_reason; }
    // "Unreachable since 14:02:11 — retrying"; empty while reachable.
    QString text() const;

Q_SIGNALS:
    void changed(bool reachable);

private:
    Clock m_clock;
    QDateTime m_since;
    QString m_reason;
};

} // namespace schedy
