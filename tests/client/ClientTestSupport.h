#pragma once

#include "Client.h"

#include <QSignalSpy>
#include <QStringList>
#include <QtTest>

#include <memory>

// What the libschedy suites (tst_client, tst_faults) share: waiting for a call
// without a nested event loop of our own, and checking how it ended.

// Readable failure messages for error kinds.
namespace QTest {
template <> inline char *toString(const schedy::ClientError::Kind &kind)
{
    return qstrdup(schedy::ClientError::kindName(kind).toUtf8().constData());
}
} // namespace QTest

namespace schedy::test {

// Waits at most `timeoutMs` for a call and takes ownership of it (no
// auto-delete), so that its outcome can be read afterwards.
template <typename T> std::unique_ptr<Call<T>> awaitCall(Call<T> *call, int timeoutMs)
{
    call->setAutoDelete(false);
    std::unique_ptr<Call<T>> owned(call);
    if (!call->isFinished()) {
        QSignalSpy spy(call, &CallBase::finished);
        spy.wait(timeoutMs);
    }
    return owned;
}

// Retries that are over in a moment, for tests; the rest is the default policy.
inline RetryPolicy quickRetries(int maxAttempts, int timeoutMs)
{
    RetryPolicy p;
    p.maxAttempts = maxAttempts;
    p.baseDelay = 0.01;
    p.maxDelay = 0.05;
    p.timeoutMs = timeoutMs;
    return p;
}

inline QString describe(const CallBase &call)
{
    return call.error().toString();
}

inline QStringList idsOf(const QList<Job> &jobs)
{
    QStringList ids;
    for (const Job &j : jobs)
        ids << j.id;
    return ids;
}

} // namespace schedy::test

#define VERIFY_OK(call) QVERIFY2((call)->ok(), qPrintable(schedy::test::describe(*(call))))
// The call is finished with an error of kind `k` and HTTP status `status` (0: no HTTP answer).
#define VERIFY_FAILED(call, k, status)                                                                       \
    do {                                                                                                     \
        QVERIFY((call)->isFinished());                                                                       \
        QCOMPARE((call)->error().kind, k);                                                                   \
        QCOMPARE((call)->error().httpStatus, status);                                                        \
    } while (false)
