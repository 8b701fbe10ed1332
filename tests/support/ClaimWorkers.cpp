#include "ClaimWorkers.h"

#include "Json.h"

#include <QEventLoop>
#include <QSet>
#include <QTimer>
#include <QUrl>
#include <QtTest>

namespace schedy::test {

namespace {

QString experimentPath(const QString &name)
{
    return QStringLiteral("experiments/") + enc(name) + QLatin1Char('/');
}

QString field(const QCborMap &doc, const char *key)
{
    return doc.value(QString::fromLatin1(key)).toString();
}

} // namespace

ClaimWorker::ClaimWorker(ClaimWorkerOptions options)
    : m_options(std::move(options))
{}

void ClaimWorker::run()
{
    HttpTestClient http(m_options.root); // created here: its QNetworkAccessManager lives on this thread
    http.bearer = m_options.bearer;
    work(http);
    emit finished();
}

void ClaimWorker::fail(const QString &what, const Reply &r)
{
    errors << QStringLiteral("worker %1 (%2): %3: HTTP %4 %5")
                  .arg(m_options.index)
                  .arg(m_options.root)
                  .arg(what)
                  .arg(r.status)
                  .arg(QString::fromUtf8(r.body.left(200)));
}

bool ClaimWorker::gone(const Reply &r)
{
    serverGone = m_options.endWhenServerGone && r.status == 0;
    return serverGone;
}

void ClaimWorker::acknowledge(const QString &id, const QCborMap &body)
{
    acked.insert(id, body);
    if (m_options.acknowledged)
        m_options.acknowledged->fetchAndAddOrdered(1);
}

void ClaimWorker::work(HttpTestClient &http)
{
    const QString exp = experimentPath(m_options.experiment);
    bool needSlot = true;
    for (int round = 0; round < m_options.maxRounds; ++round) {
        if (m_options.mode == ClaimMode::Quota && needSlot) {
            // One slot per job this worker will complete; the quota is never overrun.
            if (m_options.quota->fetchAndAddOrdered(-1) <= 0)
                return;
            needSlot = false;
        }
        const Reply next = http.get(exp + QStringLiteral("nextjob/"));
        if (gone(next))
            return;
        if (next.status == 204) {
            ++noJob;
            if (m_options.mode == ClaimMode::Drain)
                return;
            if (m_options.mode == ClaimMode::Quota) {
                fail(QStringLiteral("random search answered 204"), next);
                return;
            }
            const Reply e = http.get(exp);
            if (e.status != 200) {
                fail(QStringLiteral("GET experiment"), e);
                return;
            }
            if (field(e.json.toMap(), "status") == QLatin1String("DONE"))
                return;
            // Every member busy: ask again.
            if (m_options.busyPauseMs > 0)
                QThread::msleep(ulong(m_options.busyPauseMs));
            continue;
        }
        if (next.status != 200 || next.header("ETag").isEmpty()) {
            fail(QStringLiteral("nextjob"), next);
            return;
        }
        const QCborMap doc = next.json.toMap();
        const QString id = field(doc, "id");
        if (field(doc, "status") != QLatin1String("QUEUED")) {
            fail(QStringLiteral("nextjob handed out a job that is not QUEUED"), next);
            return;
        }
        const QString jobPath = exp + QStringLiteral("jobs/") + enc(id) + QLatin1Char('/');
        QCborMap body{{QStringLiteral("status"), QStringLiteral("RUNNING")},
                      {QStringLiteral("hyperparameters"), doc.value(QStringLiteral("hyperparameters"))},
                      {QStringLiteral("results"), doc.value(QStringLiteral("results"))}};
        const Reply claim = http.put(jobPath, json::write(body), {{"If-Match", next.header("ETag")}});
        if (gone(claim)) {
            inFlight = SentWrite{id, jobPath, next.header("ETag"), body};
            return;
        }
        if (claim.status == 412) {
            ++preconditionFailures;
            continue;
        }
        if (claim.status != 200 || claim.header("ETag").isEmpty()) {
            fail(QStringLiteral("claim of ") + id, claim);
            return;
        }
        claimed << id;
        acknowledge(id, body);
        if (m_options.mode == ClaimMode::Pbt) {
            handedOut.append({id, field(doc, "member"), doc.value(QStringLiteral("generation")).toInteger(-1),
                              field(doc, "parent")});
        }
        const QList<QCborMap> reports = m_options.reports(m_options.index, doc);
        QByteArray etag = claim.header("ETag");
        for (qsizetype i = 0; i < reports.size(); ++i) {
            const bool last = i + 1 == reports.size();
            if (last)
                body.insert(QStringLiteral("status"), QStringLiteral("DONE"));
            body.insert(QStringLiteral("results"), reports.at(i));
            const Reply put = http.put(jobPath, json::write(body), {{"If-Match", etag}});
            if (gone(put)) {
                inFlight = SentWrite{id, jobPath, etag, body};
                return;
            }
            if (put.status != 200) {
                fail((last ? QStringLiteral("DONE of ") : QStringLiteral("progress report of ")) + id, put);
                return;
            }
            etag = put.header("ETag");
            acknowledge(id, body);
        }
        if (!reports.isEmpty())
            reported.insert(id, reports.last());
        needSlot = true;
    }
    errors << QStringLiteral("worker %1: too many rounds").arg(m_options.index);
}

WorkerPool::~WorkerPool()
{
    stopThreads();
    m_workers.clear(); // after their threads ended
}

void WorkerPool::add(ClaimWorkerOptions options)
{
    auto worker = std::make_unique<ClaimWorker>(std::move(options));
    auto thread = std::make_unique<QThread>();
    worker->moveToThread(thread.get());
    QObject::connect(thread.get(), &QThread::started, worker.get(), &ClaimWorker::run);
    QObject::connect(worker.get(), &ClaimWorker::finished, thread.get(), &QThread::quit);
    m_workers.push_back(std::move(worker));
    m_threads.push_back(std::move(thread));
}

bool WorkerPool::run(int timeoutMs)
{
    start();
    return wait(timeoutMs);
}

void WorkerPool::start()
{
    m_left.storeRelease(int(m_workers.size()));
    for (auto &w : m_workers) {
        QObject::connect(
            w.get(), &ClaimWorker::finished, w.get(), [this] { m_left.fetchAndAddOrdered(-1); },
            Qt::DirectConnection);
    }
    for (auto &t : m_threads)
        t->start();
}

bool WorkerPool::wait(int timeoutMs)
{
    // QTest::qWaitFor runs this thread's event loop (not a sleeping wait), so
    // that an in-process server keeps answering.
    const bool done = QTest::qWaitFor([this] { return m_left.loadAcquire() == 0; }, timeoutMs);
    stopThreads();
    return done;
}

void WorkerPool::stopThreads()
{
    for (auto &t : m_threads) {
        t->quit();
        t->wait();
    }
}

void verifyClaims(const WorkerPool &pool, ClaimTally *tally)
{
    for (size_t w = 0; w < pool.workers().size(); ++w) {
        const ClaimWorker &worker = *pool.workers()[w];
        QVERIFY2(worker.errors.isEmpty(), qPrintable(worker.errors.join(QLatin1Char('\n'))));
        tally->preconditionFailures += worker.preconditionFailures;
        for (const QString &id : worker.claimed) {
            ++tally->claims[id];
            tally->claimedBy.insert(id, int(w));
        }
        for (auto it = worker.reported.begin(); it != worker.reported.end(); ++it)
            tally->reported.insert(it.key(), it.value());
    }
    for (auto it = tally->claims.cbegin(); it != tally->claims.cend(); ++it)
        QVERIFY2(it.value() == 1,
                 qPrintable(QStringLiteral("job %1 claimed %2 times").arg(it.key()).arg(it.value())));
}

void verifyPbtPopulation(const WorkerPool &pool, int population, int generations)
{
    QSet<QPair<QString, qint64>> continued;
    QSet<QString> members;
    int generationZero = 0;
    for (const auto &w : pool.workers()) {
        for (const HandedOut &h : w->handedOut) {
            QVERIFY(h.generation >= 0 && h.generation < generations);
            const auto key = qMakePair(h.member, h.generation);
            QVERIFY2(!continued.contains(key),
                     qPrintable(QStringLiteral("member %1 continued twice into generation %2")
                                    .arg(h.member)
                                    .arg(h.generation)));
            continued.insert(key);
            members.insert(h.member);
            if (h.generation == 0) {
                ++generationZero;
                QCOMPARE(h.member, h.id);
            } else {
                QVERIFY(!h.parent.isEmpty());
            }
        }
    }
    QCOMPARE(generationZero, population);
    QCOMPARE(members.size(), population);
    QCOMPARE(continued.size(), population * generations);
}

std::optional<QList<QCborMap>> listAllJobs(HttpTestClient &http, const QString &experiment)
{
    QList<QCborMap> out;
    QString path = experimentPath(experiment) + QStringLiteral("jobs/");
    for (int page = 0; page < 1000; ++page) {
        const Reply r = http.get(path);
        if (r.status != 200) {
            qWarning("listing %s: HTTP %d", qPrintable(experiment), r.status);
            return std::nullopt;
        }
        const QCborMap m = r.json.toMap();
        for (const QCborValue &v : m.value(QStringLiteral("items")).toArray())
            out.append(v.toMap());
        const QCborValue next = m.value(QStringLiteral("next"));
        if (!next.isString())
            return out;
        path = experimentPath(experiment) + QStringLiteral("jobs/?start=") +
               QString::fromLatin1(QUrl::toPercentEncoding(next.toString()));
    }
    qWarning("listing %s: more than 1000 pages", qPrintable(experiment));
    return std::nullopt;
}

} // namespace schedy::test
