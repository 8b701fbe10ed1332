// Opens an experiment of 100k jobs (10 hyperparameters, 10 results) in the
// dashboard's experiment view on the embedded local server and prints: time
// until the first rows show, time to scroll to the end, UI-thread time of a
// refresh in which 100 jobs changed, and peak memory (docs/performance.md).
#include "Client.h"
#include "ExperimentView.h"
#include "JobTableModel.h"
#include "Json.h"
#include "LocalServer.h"
#include "Server.h"
#include "SqlStore.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>

#include <cstdio>

using namespace schedy;

namespace {

long peakRssKb()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith("VmHWM:"))
            return line.mid(6).trimmed().split(' ').value(0).toLong();
    }
    return -1;
}

void waitFor(const std::function<bool()> &done, int timeoutMs = 600000)
{
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < timeoutMs)
        QCoreApplication::processEvents(QEventLoop::AllEvents | QEventLoop::WaitForMoreEvents, 50);
}

QCborMap values(const char *prefix, int n, int seed)
{
    QCborMap m;
    for (int i = 0; i < n; ++i)
        m.insert(QString::fromLatin1(prefix) + QString::number(i),
                 (seed * 7919 + i * 104729) % 100000 / 1000.0);
    return m;
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("schedy-bench"));
    const int jobs = argc > 1 ? QByteArray(argv[1]).toInt() : 100000;
    QTemporaryDir dir;

    // Populate the embedded server's database directly (fast), then start it.
    std::fprintf(stderr, "populating %d jobs...\n", jobs);
    {
        server::SqlStore store(QStringLiteral("sqlite:") + dir.path() + QStringLiteral("/local.sqlite3"));
        QString error;
        if (!store.open(&error))
            qFatal("%s", qPrintable(error));
        auto user = server::addUser(store, QStringLiteral("local@schedy.localhost"), {},
                                    QStringLiteral("http://x/"), &error);
        const qint64 userId = store.userByEmail(QStringLiteral("local@schedy.localhost")).value.id;
        Experiment e;
        e.name = QStringLiteral("big");
        e.scheduler.kind = Scheduler::Kind::Manual;
        store.putExperiment(userId, e, true);
        for (int i = 0; i < jobs; ++i) {
            JobWrite w;
            w.status = i % 50 == 0 ? JobStatus::Running : JobStatus::Done;
            w.hyperparameters = values("hp", 10, i);
            w.results = values("result", 10, i + 1);
            store.createJob(userId, QStringLiteral("big"), w);
        }
    }
    LocalServer local;
    QSignalSpy started(&local, &LocalServer::started);
    local.start(dir.path(), 0);
    waitFor([&] { return started.count() > 0; });
    const ClientConfig config = local.config();
    Client client(config);
    { // log in before timing, as the dashboard does when it connects
        auto *login = client.login();
        QSignalSpy done(login, &CallBase::finished);
        waitFor([&] { return done.count() > 0; });
    }
    const long baseKb = peakRssKb();

    ExperimentView view;
    view.resize(1400, 900);
    view.show();
    QCoreApplication::processEvents();
    auto *table = view.findChild<QTableView *>(QStringLiteral("jobView"));
    JobTableModel *model = view.jobModel();
    Experiment e;
    e.name = QStringLiteral("big");

    QElapsedTimer t;
    t.start();
    view.setExperiment(&client, e, QStringLiteral("bench"));
    waitFor([&] { return model->rowCount() > 0; });
    table->viewport()->repaint();
    const double firstRows = t.nsecsElapsed() / 1e6;

    t.restart();
    while (!model->isComplete()) {
        table->scrollToBottom();
        QCoreApplication::processEvents();
        if (model->canFetchMore({}))
            waitFor([&] { return !model->isFetching(); });
    }
    table->scrollToBottom();
    table->viewport()->repaint();
    const double scrollEnd = t.nsecsElapsed() / 1e6;
    const int loaded = model->rowCount();

    // 100 jobs change on the server; time what the refresh costs the UI thread.
    {
        server::SqlStore store(QStringLiteral("sqlite:") + dir.path() + QStringLiteral("/local.sqlite3"));
        QString error;
        store.open(&error);
        const qint64 userId = store.userByEmail(QStringLiteral("local@schedy.localhost")).value.id;
        for (int i = 0; i < 100; ++i) {
            const QString id = model->rowAt(i * 997 % loaded).id;
            JobWrite w;
            w.status = JobStatus::Done;
            w.hyperparameters = values("hp", 10, i);
            w.results = values("result", 10, i + 7);
            store.putJob(userId, QStringLiteral("big"), id, w, server::Condition::None, {});
        }
    }
    auto *changes = client.changesSince(QStringLiteral("big"), model->latestModification());
    changes->setAutoDelete(false);
    QSignalSpy changed(changes, &CallBase::finished);
    waitFor([&] { return changed.count() > 0; });
    const auto items = changes->value().items;
    delete changes;
    QElapsedTimer ui;
    ui.start();
    model->applyChanges(items); // what refresh() does with the answer
    table->viewport()->repaint();
    const double refreshUi = ui.nsecsElapsed() / 1e6;

    std::printf("jobs                         %d (10 hyperparameters, 10 results)\n", loaded);
    std::printf("first rows shown             %.0f ms\n", firstRows);
    std::printf("scroll to the end            %.0f ms\n", scrollEnd);
    std::printf("refresh, %lld changed: UI    %.1f ms\n", static_cast<long long>(items.size()), refreshUi);
    std::printf("peak memory (VmHWM)          %.0f MB (%.0f MB before opening)\n", peakRssKb() / 1024.0,
                baseKb / 1024.0);
    local.stop();
    return 0;
}
