// Issue 17, "done means": the server killed (SIGKILL) under load loses no
// acknowledged write. Workers run claim -> progress -> DONE cycles against a
// schedy-server process; once they have had a random number of writes
// acknowledged, the process is killed, started again on the same database, and
// every acknowledged write is read back. The write each worker had in flight is
// sent again as its client would: it succeeds whether or not its first attempt
// had committed (finding 7), except a write to RUNNING, which gets 412 when it
// had been made.
// Several rounds; waits are on conditions, never on time.
#include "ClaimWorkers.h"
#include "Json.h"
#include "SqlStore.h"

#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

using namespace schedy;
using namespace schedy::test;

namespace {

constexpr int Rounds = 10;
constexpr int Workers = 4;
const QString ExperimentName = QStringLiteral("killed");

// Two progress reports and a final one, different for every job.
QList<QCborMap> reportsFor(int worker, const QCborMap &job)
{
    const double x =
        job.value(QStringLiteral("hyperparameters")).toMap().value(QStringLiteral("lr")).toDouble();
    return {QCborMap{{QStringLiteral("step"), 1}, {QStringLiteral("loss"), x}},
            QCborMap{{QStringLiteral("step"), 2}, {QStringLiteral("loss"), x / 2}},
            QCborMap{{QStringLiteral("loss"), x / 4}, {QStringLiteral("worker"), worker}}};
}

bool sameState(const QCborMap &stored, const QCborMap &sent)
{
    for (const char *key : {"status", "hyperparameters", "results"}) {
        const QString k = QString::fromLatin1(key);
        if (json::write(stored.value(k)) != json::write(sent.value(k)))
            return false;
    }
    return true;
}

} // namespace

class TestKill : public QObject
{
    Q_OBJECT

private slots:
    void acknowledgedWritesSurviveSigkill()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        std::unique_ptr<PostgresDatabase> pg;
        QString url = QStringLiteral("sqlite:") + dir.filePath(QStringLiteral("kill.sqlite3"));
        if (testingPostgres()) {
            pg = std::make_unique<PostgresDatabase>();
            QVERIFY2(pg->ok(), qPrintable(pg->error()));
            url = pg->url();
        }
        ClientConfig config;
        {
            server::SqlStore store(url);
            QString error;
            QVERIFY2(store.open(&error), qPrintable(error));
            const auto added = server::addUser(store, QStringLiteral("kill@example.com"), {}, {}, &error);
            QVERIFY2(added, qPrintable(error));
            config = *added;
        }

        ServerProcess server(url);
        QString error;
        QVERIFY2(server.start(freePort(), &error), qPrintable(error));
        QString root = QStringLiteral("http://127.0.0.1:%1/").arg(server.port());
        {
            HttpTestClient http(root);
            QVERIFY(http.login(config));
            QCOMPARE(
                http.put(
                        QStringLiteral("experiments/%1/").arg(ExperimentName),
                        R"({"status": "RUNNING", "scheduler": {"RandomSearch": {"lr": {"uniform": {"low": 0.0, "high": 1.0}}}}})")
                    .status,
                201);
        }

        QRandomGenerator rng(17);
        QHash<QString, QCborMap> acked; // every job: its last write answered 200
        int totalAcked = 0, resent = 0;
        for (int round = 0; round < Rounds; ++round) {
            HttpTestClient http(root);
            QVERIFY(http.login(config));
            QAtomicInt count, quota(1 << 30);
            WorkerPool pool;
            for (int w = 0; w < Workers; ++w) {
                ClaimWorkerOptions o;
                o.index = w;
                o.root = root;
                o.bearer = http.bearer;
                o.experiment = ExperimentName;
                o.mode = ClaimMode::Quota;
                o.quota = &quota;
                o.reports = reportsFor;
                o.endWhenServerGone = true;
                o.acknowledged = &count;
                pool.add(o);
            }
            const int target = 10 + int(rng.bounded(60));
            pool.start();
            QVERIFY2(QTest::qWaitFor([&] { return count.loadAcquire() >= target; }, 120000),
                     qPrintable(QStringLiteral("round %1: %2 of %3 writes acknowledged")
                                    .arg(round)
                                    .arg(count.loadAcquire())
                                    .arg(target)));
            server.process().kill(); // SIGKILL, while the workers keep writing
            QVERIFY(waitForExit(server.process(), 60000));
            QVERIFY(pool.wait(120000));
            totalAcked += count.loadAcquire();

            QList<SentWrite> inFlight;
            for (const auto &worker : pool.workers()) {
                QVERIFY2(worker->errors.isEmpty(), qPrintable(worker->errors.join(QLatin1Char('\n'))));
                QVERIFY(worker->serverGone);
                for (auto it = worker->acked.cbegin(); it != worker->acked.cend(); ++it)
                    acked.insert(it.key(), it.value());
                if (worker->inFlight)
                    inFlight << *worker->inFlight;
            }

            QVERIFY2(server.start(freePort(), &error), qPrintable(error));
            root = QStringLiteral("http://127.0.0.1:%1/").arg(server.port());
            HttpTestClient after(root);
            QVERIFY(after.login(config));
            auto jobs = listAllJobs(after, ExperimentName);
            QVERIFY(jobs);
            QHash<QString, QCborMap> stored;
            for (const QCborMap &j : *jobs)
                stored.insert(j.value(QStringLiteral("id")).toString(), j);

            // Every acknowledged write is there, or the one sent after it (its answer lost).
            for (auto it = acked.cbegin(); it != acked.cend(); ++it) {
                QVERIFY2(stored.contains(it.key()),
                         qPrintable(QStringLiteral("job %1 is gone").arg(it.key())));
                const QCborMap &now = stored[it.key()];
                bool later = false;
                for (const SentWrite &w : std::as_const(inFlight))
                    later = later || (w.id == it.key() && sameState(now, w.body));
                QVERIFY2(sameState(now, it.value()) || later,
                         qPrintable(QStringLiteral("round %1, job %2: stored %3, acknowledged %4")
                                        .arg(round)
                                        .arg(it.key(), QString::fromUtf8(json::write(now)),
                                             QString::fromUtf8(json::write(it.value())))));
            }

            // The writes whose answers were lost, sent again by their workers.
            for (const SentWrite &w : std::as_const(inFlight)) {
                const Reply r = after.put(w.path, json::write(w.body), {{"If-Match", w.ifMatch}});
                const bool running =
                    w.body.value(QStringLiteral("status")).toString() == QLatin1String("RUNNING");
                if (running && r.status == 412) {
                    // A write to RUNNING cannot be told from a rival's claim: 412 when it had been made.
                    QVERIFY2(sameState(stored[w.id], w.body), qPrintable(w.id));
                    acked.insert(w.id, w.body);
                    continue;
                }
                QVERIFY2(r.status == 200, qPrintable(QStringLiteral("resent write of %1: HTTP %2 %3")
                                                         .arg(w.id)
                                                         .arg(r.status)
                                                         .arg(QString::fromUtf8(r.body))));
                QVERIFY(sameState(r.json.toMap(), w.body));
                acked.insert(w.id, w.body);
                ++resent;
            }
        }
        qInfo("%d rounds: %d writes acknowledged, %d jobs checked, %d lost answers resent", Rounds,
              totalAcked, int(acked.size()), resent);
        QVERIFY(server.stop());
    }
};

QTEST_GUILESS_MAIN(TestKill)
#include "tst_killtest.moc"
