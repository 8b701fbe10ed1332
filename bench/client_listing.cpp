// The client's overhead when listing a large experiment (docs/performance.md,
// "Client listing overhead").
//
//     schedy-bench-client-listing [--jobs 100000] [--page 1000] [--rounds 5] [--server PATH]
//                                 [--db-dir DIR]
//
// Fills a temporary SQLite database through the server library (one user, one
// Manual experiment, N jobs with 10 hyperparameters and 10 results each;
// with --db-dir, a database left there by an earlier run is used again),
// starts the real schedy-server on a free port of 127.0.0.1, and then times,
// alternately and several rounds each:
//   (a) listing every job through libschedy, pages of --page jobs, each job
//       decoded into a schedy::Job value:
//       (a1) Client::allJobs(), which asks for the next page while it decodes one;
//       (a2) JobFetcher, one page on demand (what a model's fetchMore() does),
//            the next fetchMore() called as soon as a page arrives;
//   (b) a bare loop of the same HTTP GETs on one QNetworkAccessManager that
//       only reads the bodies (the page URLs are collected beforehand).
// It prints the best and median wall time of each, the overhead of (a) over
// (b) (best against best, median against median, and the median of the
// overheads of the rounds, each round timing all three back to back), the CPU
// time this process (the client side) spent on each, and the load average,
// since other processes on the machine skew every figure.

#include "Client.h"
#include "ClientConfig.h"
#include "Codec.h"
#include "JobFetcher.h"
#include "Json.h"
#include "PageDecoder.h"
#include "Server.h"
#include "SqlStore.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTextStream>
#include <QThread>
#include <QUrl>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <random>

using namespace schedy;

namespace {

QTextStream &out()
{
    static QTextStream s(stdout);
    return s;
}

[[noreturn]] void fail(const QString &message)
{
    out() << "error: " << message << Qt::endl;
    std::exit(1);
}

quint16 freePort()
{
    QTcpServer s;
    s.listen(QHostAddress::LocalHost, 0);
    return s.serverPort();
}

// 10 hyperparameters and 10 results of the kinds people store: floats,
// integers, a string, a short curve.
JobWrite makeJob(std::mt19937_64 &rng, int i)
{
    std::uniform_real_distribution<double> u(0.0, 1.0);
    JobWrite w;
    w.status = i % 10 == 0 ? JobStatus::Crashed : JobStatus::Done;
    w.hyperparameters = QCborMap{
        {QStringLiteral("learning_rate"), std::pow(10.0, -6.0 * u(rng))},
        {QStringLiteral("dropout"), 0.8 * u(rng)},
        {QStringLiteral("momentum"), 0.5 + 0.49 * u(rng)},
        {QStringLiteral("weight_decay"), std::pow(10.0, -8.0 * u(rng))},
        {QStringLiteral("num_layers"), qint64(1 + i % 8)},
        {QStringLiteral("num_filters"), qint64(8 << (i % 6))},
        {QStringLiteral("batch_size"), qint64(32 << (i % 4))},
        {QStringLiteral("activation"), i % 3 == 0 ? QStringLiteral("relu") : QStringLiteral("tanh")},
        {QStringLiteral("warmup"), u(rng) < 0.5},
        {QStringLiteral("seed"), qint64(rng() % 100000)},
    };
    QCborArray curve;
    for (int e = 0; e < 5; ++e)
        curve.append(1.0 / (e + 1) + 0.1 * u(rng));
    w.results = QCborMap{
        {QStringLiteral("loss"), curve},
        {QStringLiteral("val_loss"), 0.5 * u(rng)},
        {QStringLiteral("accuracy"), u(rng)},
        {QStringLiteral("val_accuracy"), u(rng)},
        {QStringLiteral("max_accuracy"), u(rng)},
        {QStringLiteral("epochs"), qint64(1 + i % 50)},
        {QStringLiteral("train_seconds"), 3600.0 * u(rng)},
        {QStringLiteral("params"), qint64(rng() % 10000000)},
        {QStringLiteral("checkpoint"), QStringLiteral("models/job-%1.h5").arg(i)},
        {QStringLiteral("converged"), u(rng) < 0.7},
    };
    return w;
}

struct Fixture
{
    QTemporaryDir tmp;
    QString dir; // the temporary directory, or --db-dir
    QString databaseUrl;
    ClientConfig config; // root filled in once the server runs
    QString experiment = QStringLiteral("bench 100k");
};

void populate(Fixture &f, int jobs)
{
    const QString db = f.dir + QStringLiteral("/bench-%1.sqlite3").arg(jobs);
    const QString saved = f.dir + QStringLiteral("/bench-%1.json").arg(jobs);
    f.databaseUrl = QStringLiteral("sqlite:") + db;
    QString error;
    if (QFile::exists(db) && QFile::exists(saved)) {
        const auto config = ClientConfig::load(saved, &error);
        if (!config)
            fail(error);
        f.config = *config;
        out() << "using the " << jobs << " jobs of " << db << Qt::endl;
        return;
    }
    QFile::remove(db);
    server::SqlStore store(f.databaseUrl);
    if (!store.open(&error))
        fail(error);
    auto config = server::addUser(store, QStringLiteral("bench@example.com"), {},
                                  QStringLiteral("http://127.0.0.1/"), &error);
    if (!config)
        fail(error);
    f.config = *config;
    const auto user = store.userByEmail(f.config.email);
    Experiment e;
    e.name = f.experiment;
    e.status = ExperimentStatus::Done;
    if (!user.ok() || !store.putExperiment(user.value.id, e, true).ok())
        fail(QStringLiteral("cannot create the experiment"));
    std::mt19937_64 rng(42);
    QElapsedTimer t;
    t.start();
    for (int i = 0; i < jobs; ++i) {
        const auto r = store.createJob(user.value.id, f.experiment, makeJob(rng, i));
        if (!r.ok())
            fail(QStringLiteral("createJob: ") + r.message);
    }
    out() << "inserted " << jobs << " jobs in " << t.elapsed() / 1000.0 << " s" << Qt::endl;
    if (!f.config.save(saved, &error))
        fail(error);
}

class ServerProcess
{
public:
    ~ServerProcess()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.terminate();
            if (!m_process.waitForFinished(20000))
                m_process.kill();
        }
    }
    QString start(const QString &binary, const QString &databaseUrl)
    {
        const quint16 port = freePort();
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_process.start(binary, {QStringLiteral("--database"), databaseUrl, QStringLiteral("serve"),
                                 QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(port),
                                 QStringLiteral("--quiet")});
        if (!m_process.waitForStarted(10000))
            fail(binary + QStringLiteral(": ") + m_process.errorString());
        for (int attempt = 0; attempt < 200; ++attempt) {
            QTcpSocket probe;
            probe.connectToHost(QHostAddress::LocalHost, port);
            if (probe.waitForConnected(100))
                return QStringLiteral("http://127.0.0.1:%1/").arg(port);
            if (m_process.state() == QProcess::NotRunning)
                break;
            m_process.waitForFinished(50); // a bounded wait on the process itself
        }
        fail(QStringLiteral("the server did not start"));
    }

private:
    QProcess m_process;
};

// CPU seconds of this process (all its threads) since it started.
double cpuSeconds()
{
    return double(std::clock()) / CLOCKS_PER_SEC;
}

double checksumOf(const QList<Job> &jobs)
{
    double sum = 0; // uses the decoded values, so that nothing can be skipped
    for (const Job &j : jobs)
        sum += j.hyperparameters.value(QStringLiteral("dropout")).toDouble();
    return sum;
}

// (a1) Every job through Client::allJobs, decoded.
double listAll(Client &client, const QString &experiment, int pageSize, qint64 expected)
{
    JobListQuery q;
    q.limit = pageSize;
    QElapsedTimer t;
    t.start();
    auto *call = client.allJobs(experiment, q);
    call->setAutoDelete(false);
    QEventLoop loop;
    QObject::connect(call, &CallBase::finished, &loop, &QEventLoop::quit);
    loop.exec();
    const double seconds = t.nsecsElapsed() / 1e9;
    if (!call->ok())
        fail(QStringLiteral("allJobs: ") + call->error().toString());
    if (call->value().items.size() != expected || checksumOf(call->value().items) <= 0)
        fail(QStringLiteral("allJobs returned %1 jobs, expected %2")
                 .arg(call->value().items.size())
                 .arg(expected));
    delete call;
    return seconds;
}

// (a2) Every job through the client's fetcher, decoded.
double listWithFetcher(Client &client, const QString &experiment, int pageSize, qint64 expected)
{
    JobListQuery q;
    q.limit = pageSize;
    JobFetcher fetcher(&client, experiment, q);
    QEventLoop loop;
    qint64 count = 0;
    double checksum = 0;
    QString error;
    QObject::connect(&fetcher, &JobFetcher::pageFetched, &loop, [&](const QList<Job> &jobs, bool atEnd) {
        count += jobs.size();
        checksum += checksumOf(jobs);
        if (atEnd)
            loop.quit();
        else
            fetcher.fetchMore();
    });
    QObject::connect(&fetcher, &JobFetcher::failed, &loop, [&](const ClientError &e) {
        error = e.toString();
        loop.quit();
    });
    QElapsedTimer t;
    t.start();
    fetcher.fetchMore();
    loop.exec();
    const double seconds = t.nsecsElapsed() / 1e9;
    if (!error.isEmpty())
        fail(QStringLiteral("fetcher listing: ") + error);
    if (count != expected || checksum <= 0)
        fail(QStringLiteral("fetcher listing returned %1 jobs, expected %2").arg(count).arg(expected));
    return seconds;
}

// (b) The same GETs, bodies read and dropped.
double listBare(QNetworkAccessManager &nam, const QList<QUrl> &urls, const QByteArray &bearer, qint64 *bytes)
{
    QEventLoop loop;
    qsizetype index = 0;
    QString error;
    *bytes = 0;
    std::function<void()> next = [&] {
        QNetworkRequest request(urls[index]);
        request.setRawHeader("Authorization", "Bearer " + bearer);
        QNetworkReply *reply = nam.get(request);
        QObject::connect(reply, &QNetworkReply::finished, &loop, [&, reply] {
            reply->deleteLater();
            const QByteArray body = reply->readAll();
            *bytes += body.size();
            if (reply->error() != QNetworkReply::NoError) {
                error = reply->errorString();
                loop.quit();
            } else if (++index == urls.size()) {
                loop.quit();
            } else {
                next();
            }
        });
    };
    QElapsedTimer t;
    t.start();
    next();
    loop.exec();
    const double seconds = t.nsecsElapsed() / 1e9;
    if (!error.isEmpty())
        fail(QStringLiteral("bare listing: ") + error);
    return seconds;
}

double median(QList<double> v)
{
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// One authenticated GET, waited for; the body, or "" with the error in *error.
QByteArray getBody(QNetworkAccessManager &nam, const QUrl &url, const QByteArray &bearer,
                   QString *error = nullptr)
{
    QNetworkRequest request(url);
    request.setRawHeader("Authorization", "Bearer " + bearer);
    QNetworkReply *reply = nam.get(request);
    QEventLoop loop;
    QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    loop.exec();
    reply->deleteLater();
    if (reply->error() != QNetworkReply::NoError && error)
        *error = reply->errorString();
    return reply->readAll();
}

// CPU time of decoding one page, without the network: the fast path the
// client takes, and the general one (json::parse + the codec) it falls back to.
void timeDecoding(QNetworkAccessManager &nam, const QUrl &url, const QByteArray &bearer)
{
    const QByteArray body = getBody(nam, url, bearer);
    const auto perPage = [](int n, const std::function<qsizetype()> &decode) {
        QList<double> ms;
        for (int i = 0; i < n; ++i) {
            QElapsedTimer t;
            t.start();
            if (decode() <= 0)
                fail(QStringLiteral("a page decoded to nothing"));
            ms.append(t.nsecsElapsed() / 1e6);
        }
        return median(ms);
    };
    const double fast = perPage(40, [&] {
        const auto page = detail::decodeJobPageFast(body);
        return page ? page->items.size() : 0;
    });
    const double general = perPage(15, [&] {
        const auto page = codec::decodeJobPage(json::parse(body));
        return page ? page.value().items.size() : 0;
    });
    out() << Qt::fixed;
    out().setRealNumberPrecision(2);
    out() << "decoding one page (" << body.size() / 1000 << " KB), median: " << fast << " ms directly, "
          << general << " ms through json::parse + codec" << Qt::endl;
}

// The page URLs, in the order a listing fetches them (untimed).
QList<QUrl> collectPageUrls(QNetworkAccessManager &nam, const QString &root, const QString &experiment,
                            int pageSize, const QByteArray &bearer)
{
    const QString base =
        root + QStringLiteral("experiments/") + Client::encodeSegment(experiment) + QStringLiteral("/jobs/");
    QList<QUrl> urls{QUrl::fromEncoded((base + QStringLiteral("?limit=%1").arg(pageSize)).toUtf8())};
    for (;;) {
        QString error;
        const QCborValue page = json::parse(getBody(nam, urls.last(), bearer, &error));
        if (!error.isEmpty())
            fail(error);
        const QString cursor = page.toMap().value(QStringLiteral("next")).toString();
        if (cursor.isEmpty())
            return urls;
        urls.append(QUrl::fromEncoded((base + QStringLiteral("?start=%1&limit=%2")
                                                  .arg(QString::fromLatin1(QUrl::toPercentEncoding(cursor)))
                                                  .arg(pageSize))
                                          .toUtf8()));
    }
}

QString loadAverage()
{
    QFile f(QStringLiteral("/proc/loadavg"));
    return f.open(QIODevice::ReadOnly) ? QString::fromLatin1(f.readAll().split(' ').mid(0, 3).join(' '))
                                       : QStringLiteral("unknown");
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Times listing a large experiment through libschedy."));
    parser.addHelpOption();
    const QCommandLineOption jobsOption(QStringLiteral("jobs"), QStringLiteral("Jobs in the experiment."),
                                        QStringLiteral("n"), QStringLiteral("100000"));
    const QCommandLineOption pageOption(QStringLiteral("page"), QStringLiteral("Jobs per page."),
                                        QStringLiteral("n"), QStringLiteral("1000"));
    const QCommandLineOption roundsOption(QStringLiteral("rounds"), QStringLiteral("Timed rounds of each."),
                                          QStringLiteral("n"), QStringLiteral("5"));
    const QCommandLineOption dirOption(QStringLiteral("db-dir"),
                                       QStringLiteral("Keep the database here and use it again next time."),
                                       QStringLiteral("dir"));
    const QCommandLineOption serverOption(QStringLiteral("server"),
                                          QStringLiteral("The schedy-server binary."), QStringLiteral("path"),
                                          QStringLiteral(SCHEDY_SERVER_BIN));
    parser.addOptions({jobsOption, pageOption, roundsOption, serverOption, dirOption});
    parser.process(app);
    const int jobs = parser.value(jobsOption).toInt();
    const int pageSize = parser.value(pageOption).toInt();
    const int rounds = parser.value(roundsOption).toInt();
    if (jobs < 1 || pageSize < 1 || pageSize > 10000 || rounds < 1)
        fail(QStringLiteral("--jobs, --page (up to 10000) and --rounds must be positive"));

    Fixture f;
    f.dir = parser.isSet(dirOption) ? parser.value(dirOption) : f.tmp.path();
    if (!QDir().mkpath(f.dir))
        fail(QStringLiteral("cannot create ") + f.dir);
    populate(f, jobs);
    ServerProcess server;
    f.config.root = server.start(parser.value(serverOption), f.databaseUrl);
    out() << "load average before: " << loadAverage() << Qt::endl;
    out() << "server at " << f.config.root << ", " << QThread::idealThreadCount() << " cores" << Qt::endl;

    Client client(f.config);
    {
        QEventLoop loop;
        auto *login = client.login();
        QObject::connect(login, &CallBase::finished, &loop, &QEventLoop::quit);
        loop.exec();
        if (client.bearer().isEmpty())
            fail(QStringLiteral("login failed"));
    }
    QNetworkAccessManager nam;
    nam.setAutoDeleteReplies(false);
    const QList<QUrl> urls = collectPageUrls(nam, f.config.root, f.experiment, pageSize, client.bearer());
    out() << urls.size() << " pages of up to " << pageSize << " jobs" << Qt::endl;
    timeDecoding(nam, urls.first(), client.bearer());

    // Warm-up of each (server caches, connections), then alternate rounds.
    qint64 bytes = 0;
    listBare(nam, urls, client.bearer(), &bytes);
    listAll(client, f.experiment, pageSize, jobs);
    listWithFetcher(client, f.experiment, pageSize, jobs);
    QList<double> bare;
    QList<double> all;
    QList<double> fetcher;
    double cpuBare = 0;
    double cpuAll = 0;
    double cpuFetcher = 0;
    for (int r = 0; r < rounds; ++r) {
        double c = cpuSeconds();
        bare.append(listBare(nam, urls, client.bearer(), &bytes));
        cpuBare += cpuSeconds() - c;
        c = cpuSeconds();
        all.append(listAll(client, f.experiment, pageSize, jobs));
        cpuAll += cpuSeconds() - c;
        c = cpuSeconds();
        fetcher.append(listWithFetcher(client, f.experiment, pageSize, jobs));
        cpuFetcher += cpuSeconds() - c;
        out() << "round " << r + 1 << ": bare " << bare.last() << " s, allJobs " << all.last()
              << " s, JobFetcher " << fetcher.last() << " s" << Qt::endl;
    }
    const auto best = [](const QList<double> &v) {
        return *std::min_element(v.begin(), v.end());
    };
    const auto roundOverhead = [&](const QList<double> &v) {
        QList<double> ratios;
        for (int r = 0; r < rounds; ++r)
            ratios.append(100.0 * (v[r] / bare[r] - 1.0));
        return median(ratios);
    };
    const auto line = [&](const char *name, const QList<double> &v, double cpu) {
        out().setRealNumberPrecision(3);
        out() << name << "best " << best(v) << " s, median " << median(v) << " s, client CPU " << cpu / rounds
              << " s";
        if (&v != &bare) {
            out().setRealNumberPrecision(1);
            out() << ", overhead best " << 100.0 * (best(v) / best(bare) - 1.0) << " %, median "
                  << 100.0 * (median(v) / median(bare) - 1.0) << " %, per round (median) " << roundOverhead(v)
                  << " %";
        }
        out() << Qt::endl;
    };
    out() << Qt::fixed;
    out().setRealNumberPrecision(1);
    out() << "bodies: " << bytes / 1e6 << " MB a listing, " << urls.size() << " requests" << Qt::endl;
    line("(b)  bare loop:       ", bare, cpuBare);
    line("(a1) Client::allJobs: ", all, cpuAll);
    line("(a2) JobFetcher:      ", fetcher, cpuFetcher);
    out() << "load average after: " << loadAverage() << Qt::endl;
    return 0;
}
