#pragma once

#include "TestServer.h"

#include <QAtomicInt>
#include <QCborMap>
#include <QHash>
#include <QList>
#include <QObject>
#include <QStringList>
#include <QThread>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

// Test support for many workers at once: each ClaimWorker runs on its own
// thread with its own HttpTestClient (so its own QNetworkAccessManager and
// event loop) and loops nextjob -> claim (PUT RUNNING, If-Match; on 412 ask
// again) -> reports -> PUT DONE, as docs/protocol.md section 5 describes. The
// server may be in this process: WorkerPool::run() keeps the main thread's
// event loop running while it waits.
namespace schedy::test {

enum class ClaimMode {
    Drain, // until nextjob answers 204
    Quota, // until the shared quota of DONE jobs is used up
    Pbt    // until the experiment is DONE
};

// A claimed PBT job, as nextjob handed it out.
struct HandedOut
{
    QString id;
    QString member;
    qint64 generation = -1;
    QString parent;
};

// The results a worker reports for a job it claimed (the nextjob document), in
// order: all but the last while the job is RUNNING, the last with DONE. Called
// on the worker's thread.
using ReportPlan = std::function<QList<QCborMap>(int worker, const QCborMap &job)>;

struct ClaimWorkerOptions
{
    int index = 0; // the worker's number, in its messages
    QString root;
    QByteArray bearer;
    QString experiment;
    ClaimMode mode = ClaimMode::Drain;
    QAtomicInt *quota = nullptr; // Quota: DONE jobs left to make, shared by the workers
    ReportPlan reports;          // at least one report per job
    int maxRounds = 100000;      // then the worker gives up with an error
    int busyPauseMs = 0;         // Pbt, every member busy: pause before asking again
    // Kill tests: a request without an HTTP answer (the server was killed) ends the
    // worker quietly, keeping the write it had sent in `inFlight`.
    bool endWhenServerGone = false;
    QAtomicInt *acknowledged = nullptr; // counts the writes answered 200, across workers
};

// A job write as a worker sent it.
struct SentWrite
{
    QString id;
    QString path;
    QByteArray ifMatch;
    QCborMap body; // status, hyperparameters, results
};

class ClaimWorker : public QObject
{
    Q_OBJECT
public:
    explicit ClaimWorker(ClaimWorkerOptions options);

    // Read by the main thread once the thread has finished.
    QStringList claimed;               // ids this worker moved to RUNNING
    QHash<QString, QCborMap> reported; // id -> the results of its final report
    QList<HandedOut> handedOut;        // claimed PBT jobs, as handed out
    int preconditionFailures = 0;      // 412 on a claim
    int noJob = 0;                     // 204 answers
    QStringList errors;
    QHash<QString, QCborMap> acked;    // id -> the body of its last write answered 200
    std::optional<SentWrite> inFlight; // endWhenServerGone: the write that got no answer
    bool serverGone = false;

public slots:
    void run();

signals:
    void finished();

private:
    void fail(const QString &what, const Reply &r);
    bool gone(const Reply &r);
    void acknowledge(const QString &id, const QCborMap &body);
    void work(HttpTestClient &http);

    ClaimWorkerOptions m_options;
};

// Workers and their threads; the threads are stopped and joined before the
// workers go.
class WorkerPool
{
public:
    WorkerPool() = default;
    WorkerPool(const WorkerPool &) = delete;
    WorkerPool &operator=(const WorkerPool &) = delete;
    ~WorkerPool();

    void add(ClaimWorkerOptions options);
    // Starts every worker and waits until all of them are finished; false on timeout.
    bool run(int timeoutMs);
    // run() in two steps, to act on the server while the workers work: start()
    // returns at once, wait() until every worker finished (false on timeout).
    void start();
    bool wait(int timeoutMs);
    const std::vector<std::unique_ptr<ClaimWorker>> &workers() const { return m_workers; }

private:
    void stopThreads();

    std::vector<std::unique_ptr<QThread>> m_threads;
    std::vector<std::unique_ptr<ClaimWorker>> m_workers;
    QAtomicInt m_left;
};

// What the workers of a pool did, added up.
struct ClaimTally
{
    QHash<QString, int> claims;        // id -> how often it was claimed
    QHash<QString, int> claimedBy;     // id -> the index of the worker that claimed it
    QHash<QString, QCborMap> reported; // id -> the results of its final report
    int preconditionFailures = 0;
};

// The checks below fail the running test with QVERIFY/QCOMPARE and return;
// callers check QTest::currentTestFailed() before going on.

// No worker had an error and no job was claimed twice.
void verifyClaims(const WorkerPool &pool, ClaimTally *tally);
// The PBT population handed out is exact: `population` members, each
// continued once into each of `generations` generations.
void verifyPbtPopulation(const WorkerPool &pool, int population, int generations);

// Every job of an experiment as its document, page by page; nullopt (with a
// warning) when a page cannot be read.
std::optional<QList<QCborMap>> listAllJobs(HttpTestClient &http, const QString &experiment);

} // namespace schedy::test
