// Every endpoint of docs/protocol.md section 4 over real HTTP, with each condition
// and status code, plus authentication, paging, the listing extensions,
// restarts, the schedy-server binary and the HTTP connection behaviour.
#include "TestServer.h"

#include "Json.h"

#include <QDateTime>
#include <QEventLoop>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QTcpSocket>
#include <QTimer>
#include <QtTest>

#include <cmath>
#include <functional>

using namespace schedy;
using namespace schedy::test;

namespace {

const QByteArray ManualBody = R"({"status": "RUNNING", "scheduler": {"Manual": null}})";

QCborMap obj(const Reply &r)
{
    return r.json.toMap();
}
QCborValue field(const QCborMap &m, const char *key)
{
    return m.value(QLatin1String(key));
}
QString text(const QCborMap &m, const char *key)
{
    return m.value(QLatin1String(key)).toString();
}
QCborMap sub(const QCborMap &m, const char *key)
{
    return m.value(QLatin1String(key)).toMap();
}

QString expPath(const QString &name)
{
    return QStringLiteral("experiments/%1/").arg(enc(name));
}
QString jobsPath(const QString &name)
{
    return expPath(name) + QStringLiteral("jobs/");
}
QString jobPath(const QString &name, const QString &id)
{
    return jobsPath(name) + enc(id) + QLatin1Char('/');
}

QByteArray jobBody(const char *status, const QByteArray &hyperparameters = {}, const QByteArray &results = {})
{
    QByteArray b = QByteArray("{\"status\": \"") + status + '"';
    if (!hyperparameters.isEmpty())
        b += ", \"hyperparameters\": " + hyperparameters;
    if (!results.isEmpty())
        b += ", \"results\": " + results;
    return b + '}';
}

// A raw HTTP/1.1 response read off a socket.
struct RawResponse
{
    int status = 0;
    QHash<QByteArray, QByteArray> headers; // lower-case names
    QByteArray body;
};

// A hand-driven HTTP connection. Waits run the event loop (the in-process
// server lives in this thread), woken by the socket's signals; never sleeps.
class RawConnection
{
public:
    explicit RawConnection(quint16 port) { m_socket.connectToHost(QHostAddress::LocalHost, port); }

    bool waitConnected()
    {
        return waitUntil([this] { return m_socket.state() == QAbstractSocket::ConnectedState; });
    }
    void send(const QByteArray &bytes) { m_socket.write(bytes); }

    // Reads one response framed by Content-Length (none for 204).
    bool readResponse(RawResponse *out)
    {
        return waitUntil([&] { return takeResponse(out); });
    }
    // True once the peer has closed the connection.
    bool waitClosed()
    {
        return waitUntil([this] {
            m_buffer += m_socket.readAll();
            return m_socket.state() == QAbstractSocket::UnconnectedState;
        });
    }
    QByteArray unread() const { return m_buffer; }
    QTcpSocket &socket() { return m_socket; }

private:
    bool takeResponse(RawResponse *out)
    {
        m_buffer += m_socket.readAll();
        const qsizetype headEnd = m_buffer.indexOf("\r\n\r\n");
        if (headEnd < 0)
            return false;
        const QList<QByteArray> lines = m_buffer.left(headEnd).split('\n');
        RawResponse r;
        r.status = lines.value(0).split(' ').value(1).toInt();
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines[i].indexOf(':');
            if (colon > 0)
                r.headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
        }
        const qint64 length = r.headers.value("content-length").toLongLong();
        if (m_buffer.size() < headEnd + 4 + length)
            return false;
        r.body = m_buffer.mid(headEnd + 4, length);
        m_buffer.remove(0, headEnd + 4 + length);
        *out = r;
        return true;
    }

    // `done` is called until it returns true (once), whenever the socket has news.
    bool waitUntil(const std::function<bool()> &done)
    {
        if (done())
            return true;
        bool finished = false;
        QEventLoop loop;
        QTimer timeout;
        timeout.setSingleShot(true);
        QObject::connect(&timeout, &QTimer::timeout, &loop, &QEventLoop::quit);
        auto check = [&] {
            if (!finished && done()) {
                finished = true;
                loop.quit();
            }
        };
        QObject::connect(&m_socket, &QIODevice::readyRead, &loop, check);
        QObject::connect(&m_socket, &QAbstractSocket::stateChanged, &loop, check);
        timeout.start(20000);
        loop.exec();
        if (!finished)
            finished = done();
        return finished;
    }

    QTcpSocket m_socket;
    QByteArray m_buffer;
};

QByteArray rawRequest(const QByteArray &method, const QByteArray &target, const QByteArray &bearer,
                      const QByteArray &extraHeaders = {}, const QByteArray &body = {})
{
    QByteArray r = method + ' ' + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    if (!bearer.isEmpty())
        r += "Authorization: Bearer " + bearer + "\r\n";
    r += extraHeaders;
    if (!body.isEmpty() || method == "PUT" || method == "POST")
        r += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    return r + "\r\n" + body;
}

// quote_plus of Python: what requests does to query values.
QString formEncode(const QString &value)
{
    QByteArray e = QUrl::toPercentEncoding(value, " ");
    e.replace(' ', '+');
    return QString::fromLatin1(e);
}

QString ids(const QList<QCborMap> &jobs)
{
    QStringList out;
    for (const QCborMap &j : jobs)
        out << text(j, "id");
    return out.join(QLatin1Char(','));
}

} // namespace

class TestApi : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestServer> m_server;
    std::unique_ptr<HttpTestClient> m_http;
    ClientConfig m_config;

    void createExperiment(const QString &name, const QByteArray &body = ManualBody)
    {
        const Reply r = m_http->put(expPath(name), body, {{"If-None-Match", "*"}});
        QCOMPARE(r.status, 201);
    }

    QCborMap postJob(const QString &experiment, const QByteArray &body = R"({"status": "QUEUED"})")
    {
        const Reply r = m_http->post(jobsPath(experiment), body);
        if (r.status != 201)
            qWarning("POST job: %d %s", r.status, r.body.constData());
        return r.status == 201 ? obj(r) : QCborMap();
    }

    QCborMap putJob(const QString &experiment, const QString &id, const QByteArray &body,
                    const QHash<QByteArray, QByteArray> &headers = {})
    {
        const Reply r = m_http->put(jobPath(experiment, id), body, headers);
        if (r.status != 200 && r.status != 201)
            qWarning("PUT job: %d %s", r.status, r.body.constData());
        return r.status == 200 || r.status == 201 ? obj(r) : QCborMap();
    }

    // Walks a listing page by page: checks the page shape (only items and
    // next), that no page is empty while next is set, and that only the first
    // page carries X-Total-Count. `between` runs after each page but the last.
    void walk(const QString &path, const QString &params, QList<QCborMap> *items, int *pages = nullptr,
              qint64 *total = nullptr, const std::function<void(int)> &between = {})
    {
        QString cursor;
        for (int page = 0; page < 100000; ++page) {
            QStringList query;
            if (!params.isEmpty())
                query << params;
            if (page > 0)
                query << QStringLiteral("start=") + formEncode(cursor);
            const Reply r = m_http->get(
                path + (query.isEmpty() ? QString() : QLatin1Char('?') + query.join(QLatin1Char('&'))));
            QCOMPARE(r.status, 200);
            const QCborMap m = obj(r);
            QCOMPARE(m.size(), 2);
            QVERIFY(field(m, "items").isArray());
            QVERIFY(m.contains(QStringLiteral("next")));
            if (page == 0) {
                QVERIFY(!r.header("X-Total-Count").isEmpty());
                if (total)
                    *total = r.header("X-Total-Count").toLongLong();
            } else {
                QVERIFY(r.header("X-Total-Count").isEmpty());
            }
            const QCborArray a = field(m, "items").toArray();
            for (const QCborValue &v : a)
                items->append(v.toMap());
            const QCborValue next = field(m, "next");
            if (next.isNull()) {
                if (pages)
                    *pages = page + 1;
                return;
            }
            QVERIFY(next.isString());
            QVERIFY2(!a.isEmpty(), "an empty page with a non-null next");
            cursor = next.toString();
            if (between)
                between(page);
            if (QTest::currentTestFailed())
                return;
        }
        QFAIL("the listing never ended");
    }

    void walkJobs(const QString &experiment, const QString &params, QList<QCborMap> *items)
    {
        walk(jobsPath(experiment), params, items);
    }

private slots:
    void init()
    {
        m_server = std::make_unique<TestServer>();
        QString error;
        QVERIFY2(m_server->start(&error), qPrintable(error));
        m_config = m_server->addUser(QStringLiteral("me@example.com"), QStringLiteral("my password"));
        m_http = std::make_unique<HttpTestClient>(m_server->root());
        QVERIFY(m_http->login(m_config));
    }

    void cleanup()
    {
        m_http.reset();
        m_server.reset();
    }

    // ---- experiments ---------------------------------------------------------------------

    void putExperimentIfNoneMatch()
    {
        Reply r = m_http->put(expPath(QStringLiteral("exp")), ManualBody, {{"If-None-Match", "*"}});
        QCOMPARE(r.status, 201);
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json; charset=utf-8"));
        QCOMPARE(text(obj(r), "name"), QStringLiteral("exp"));
        QCOMPARE(text(obj(r), "status"), QStringLiteral("RUNNING"));
        QVERIFY(field(sub(obj(r), "scheduler"), "Manual").isNull());
        QCOMPARE(sub(obj(r), "scheduler").size(), 1);

        r = m_http->put(expPath(QStringLiteral("exp")),
                        R"({"status": "DONE", "scheduler": {"RandomSearch": {}}})", {{"If-None-Match", "*"}});
        QCOMPARE(r.status, 412);
        QVERIFY2(r.errorText().contains(QLatin1String("already exists")), r.body.constData());

        // The 412 changed nothing.
        r = m_http->get(expPath(QStringLiteral("exp")));
        QCOMPARE(r.status, 200);
        QCOMPARE(text(obj(r), "status"), QStringLiteral("RUNNING"));
        QVERIFY(sub(obj(r), "scheduler").contains(QStringLiteral("Manual")));
    }

    void putExperimentUnconditional()
    {
        Reply r = m_http->put(expPath(QStringLiteral("exp")), ManualBody);
        QCOMPARE(r.status, 201);
        const QCborMap j1 = postJob(QStringLiteral("exp"));
        const QCborMap j2 = postJob(QStringLiteral("exp"), jobBody("DONE", R"({"x": 1})", R"({"y": 2})"));
        QVERIFY(!j1.isEmpty() && !j2.isEmpty());

        const QByteArray replacement =
            R"({"status": "DONE", "scheduler": {"RandomSearch": {"lr": {"uniform": {"low": 0.0, "high": 1.0}}}}})";
        r = m_http->put(expPath(QStringLiteral("exp")), replacement);
        QCOMPARE(r.status, 200);
        QCOMPARE(text(obj(r), "status"), QStringLiteral("DONE"));
        QVERIFY(r.body.contains(R"("scheduler":{"RandomSearch":{"lr":{"uniform":{"low":0.0,"high":1.0}}}})"));

        r = m_http->get(expPath(QStringLiteral("exp")));
        QCOMPARE(r.status, 200);
        QCOMPARE(text(obj(r), "status"), QStringLiteral("DONE"));
        QVERIFY(sub(obj(r), "scheduler").contains(QStringLiteral("RandomSearch")));

        // The jobs were kept, unchanged.
        QList<QCborMap> jobs;
        walkJobs(QStringLiteral("exp"), {}, &jobs);
        QCOMPARE(ids(jobs), text(j1, "id") + QLatin1Char(',') + text(j2, "id"));
        QCOMPARE(text(jobs[1], "status"), QStringLiteral("DONE"));
        QCOMPARE(sub(jobs[1], "results").value(QStringLiteral("y")).toInteger(), 2);

        // A name in the body must agree with the URL; without one the URL names it.
        r = m_http->put(expPath(QStringLiteral("exp")),
                        R"({"name": "exp", "status": "RUNNING", "scheduler": {"Manual": null}})");
        QCOMPARE(r.status, 200);
        QCOMPARE(text(obj(r), "status"), QStringLiteral("RUNNING"));
    }

    void getExperiment()
    {
        Reply r = m_http->get(expPath(QStringLiteral("missing")));
        QCOMPARE(r.status, 404);
        QVERIFY2(r.errorText().contains(QLatin1String("missing")), r.body.constData());

        createExperiment(QStringLiteral("exp"));
        r = m_http->get(expPath(QStringLiteral("exp")));
        QCOMPARE(r.status, 200);
        QCOMPARE(text(obj(r), "name"), QStringLiteral("exp"));
        QCOMPARE(text(obj(r), "status"), QStringLiteral("RUNNING"));
        QVERIFY(json::isNumber(field(obj(r), "createdAt")));
        QVERIFY(json::isNumber(field(obj(r), "modifiedAt")));
        QVERIFY(field(obj(r), "jobCounts").isMap());
    }

    void pbtMaxGenerationsBothKeys()
    {
        const QByteArray pbt = R"({"status": "RUNNING", "scheduler": {"PBT": {"objective": "max",
            "qualityResultName": "acc", "exploit": {"truncate": 0.2}, "maxGenerations": 4}}})";
        createExperiment(QStringLiteral("pbt"), pbt);
        const Reply r = m_http->get(expPath(QStringLiteral("pbt")));
        QCOMPARE(r.status, 200);
        const QCborMap params = sub(sub(obj(r), "scheduler"), "PBT");
        QCOMPARE(params.value(QStringLiteral("maxGenerations")).toInteger(), 4);
        QCOMPARE(params.value(QStringLiteral("max_generations")).toInteger(), 4);
        QCOMPARE(params.value(QStringLiteral("exploit")).toMap().value(QStringLiteral("truncate")).toDouble(),
                 0.2);
    }

    void deleteExperiment()
    {
        createExperiment(QStringLiteral("exp"));
        const QCborMap job = postJob(QStringLiteral("exp"), jobBody("DONE", R"({"a": 1})"));
        QVERIFY(!job.isEmpty());

        Reply r = m_http->del(expPath(QStringLiteral("exp")));
        QCOMPARE(r.status, 204);
        QVERIFY(r.body.isEmpty());
        QCOMPARE(m_http->get(expPath(QStringLiteral("exp"))).status, 404);
        QCOMPARE(m_http->get(jobsPath(QStringLiteral("exp"))).status, 404);
        QCOMPARE(m_http->get(jobPath(QStringLiteral("exp"), text(job, "id"))).status, 404);

        // Its jobs went with it: a new experiment of that name starts empty.
        createExperiment(QStringLiteral("exp"));
        QCOMPARE(m_http->get(jobPath(QStringLiteral("exp"), text(job, "id"))).status, 404);
        QList<QCborMap> jobs;
        walkJobs(QStringLiteral("exp"), {}, &jobs);
        QVERIFY(jobs.isEmpty());
        r = m_http->get(expPath(QStringLiteral("exp")));
        const QCborMap counts = sub(obj(r), "jobCounts");
        for (const char *s : {"QUEUED", "RUNNING", "CRASHED", "PRUNED", "DONE"})
            QCOMPARE(counts.value(QLatin1String(s)).toInteger(), 0);

        // If-Match: * on an existing one deletes it.
        r = m_http->del(expPath(QStringLiteral("exp")), {{"If-Match", "*"}});
        QCOMPARE(r.status, 204);
        // A missing one: 204 without a condition, 412 with If-Match: *.
        r = m_http->del(expPath(QStringLiteral("exp")));
        QCOMPARE(r.status, 204);
        r = m_http->del(expPath(QStringLiteral("exp")), {{"If-Match", "*"}});
        QCOMPARE(r.status, 412);
        QVERIFY2(r.errorText().contains(QLatin1String("exp")), r.body.constData());
    }

    // ---- jobs ----------------------------------------------------------------------------

    void postJob()
    {
        createExperiment(QStringLiteral("exp"));
        Reply r = m_http->post(jobsPath(QStringLiteral("exp")), "{}");
        QCOMPARE(r.status, 201);
        QVERIFY(!r.header("ETag").isEmpty());
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json; charset=utf-8"));
        QCborMap j = obj(r);
        QCOMPARE(text(j, "status"), QStringLiteral("QUEUED"));
        QCOMPARE(text(j, "experiment"), QStringLiteral("exp"));
        QVERIFY(field(j, "hyperparameters").isMap() && sub(j, "hyperparameters").isEmpty());
        QVERIFY(field(j, "results").isMap() && sub(j, "results").isEmpty());
        const QString id = text(j, "id");
        // Short, URL- and file-name-safe, and not a number for float().
        QVERIFY2(QRegularExpression(QStringLiteral("^[A-Za-z0-9_-]{1,32}$")).match(id).hasMatch(),
                 qPrintable(id));
        bool isNumber = false;
        id.toDouble(&isNumber);
        QVERIFY(!isNumber);

        // The same job by GET, with the same ETag.
        const QByteArray etag = r.header("ETag");
        r = m_http->get(jobPath(QStringLiteral("exp"), id));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("ETag"), etag);
        QCOMPARE(text(obj(r), "id"), id);

        // With a status, hyperparameters and results, as the original client sends them.
        r = m_http->post(
            jobsPath(QStringLiteral("exp")),
            R"({"status": "DONE", "hyperparameters": {"lr": 0.1}, "results": {"loss": [0.9, 0.5]}})");
        QCOMPARE(r.status, 201);
        QCOMPARE(text(obj(r), "status"), QStringLiteral("DONE"));
        QVERIFY(r.body.contains(R"("hyperparameters":{"lr":0.1},"results":{"loss":[0.9,0.5]})"));
        QVERIFY(r.header("ETag") != etag);
        QVERIFY(text(obj(r), "id") != id);

        // An experiment that does not exist.
        r = m_http->post(jobsPath(QStringLiteral("nope")), R"({"status": "QUEUED"})");
        QCOMPARE(r.status, 404);
        QVERIFY2(r.errorText().contains(QLatin1String("nope")), r.body.constData());
    }

    void getJob()
    {
        createExperiment(QStringLiteral("exp"));
        Reply r = m_http->get(jobPath(QStringLiteral("exp"), QStringLiteral("nothere")));
        QCOMPARE(r.status, 404);
        QVERIFY2(r.errorText().contains(QLatin1String("nothere")), r.body.constData());
        r = m_http->get(jobPath(QStringLiteral("noexp"), QStringLiteral("nothere")));
        QCOMPARE(r.status, 404);
    }

    void putJobIfMatch()
    {
        createExperiment(QStringLiteral("exp"));
        Reply r = m_http->post(jobsPath(QStringLiteral("exp")), jobBody("QUEUED", R"({"lr": 0.5})"));
        const QString id = text(obj(r), "id");
        const QByteArray etag1 = r.header("ETag");
        QVERIFY(!etag1.isEmpty());

        r = m_http->put(jobPath(QStringLiteral("exp"), id), jobBody("RUNNING", R"({"lr": 0.5})"),
                        {{"If-Match", etag1}});
        QCOMPARE(r.status, 200);
        const QByteArray etag2 = r.header("ETag");
        QVERIFY(!etag2.isEmpty());
        QVERIFY(etag2 != etag1);
        QCOMPARE(text(obj(r), "status"), QStringLiteral("RUNNING"));

        // The old ETag is stale now.
        r = m_http->put(jobPath(QStringLiteral("exp"), id), jobBody("CRASHED"), {{"If-Match", etag1}});
        QCOMPARE(r.status, 412);
        QVERIFY2(r.errorText().contains(QLatin1String("ETag")), r.body.constData());
        // Exact comparison: the same tag without its quotes, or weak, does not match.
        QByteArray unquoted = etag2;
        unquoted.replace('"', "");
        r = m_http->put(jobPath(QStringLiteral("exp"), id), jobBody("CRASHED"), {{"If-Match", unquoted}});
        QCOMPARE(r.status, 412);
        r = m_http->put(jobPath(QStringLiteral("exp"), id), jobBody("CRASHED"), {{"If-Match", "W/" + etag2}});
        QCOMPARE(r.status, 412);

        r = m_http->get(jobPath(QStringLiteral("exp"), id));
        QCOMPARE(text(obj(r), "status"), QStringLiteral("RUNNING"));
        QCOMPARE(r.header("ETag"), etag2);

        // A missing job fails If-Match.
        r = m_http->put(jobPath(QStringLiteral("exp"), QStringLiteral("ghost")), jobBody("RUNNING"),
                        {{"If-Match", etag2}});
        QCOMPARE(r.status, 412);
        QCOMPARE(m_http->get(jobPath(QStringLiteral("exp"), QStringLiteral("ghost"))).status, 404);

        // The current ETag works.
        r = m_http->put(jobPath(QStringLiteral("exp"), id),
                        jobBody("DONE", R"({"lr": 0.5})", R"({"acc": 0.9})"), {{"If-Match", etag2}});
        QCOMPARE(r.status, 200);
        QCOMPARE(text(obj(r), "status"), QStringLiteral("DONE"));
    }

    void putJobIfNoneMatch()
    {
        createExperiment(QStringLiteral("exp"));
        Reply r = m_http->put(jobPath(QStringLiteral("exp"), QStringLiteral("mine")),
                              jobBody("QUEUED", R"({"a": 1})"), {{"If-None-Match", "*"}});
        QCOMPARE(r.status, 201);
        QVERIFY(!r.header("ETag").isEmpty());
        QCOMPARE(text(obj(r), "id"), QStringLiteral("mine"));
        QCOMPARE(text(obj(r), "experiment"), QStringLiteral("exp"));
        const QByteArray etag = r.header("ETag");

        r = m_http->put(jobPath(QStringLiteral("exp"), QStringLiteral("mine")), jobBody("DONE"),
                        {{"If-None-Match", "*"}});
        QCOMPARE(r.status, 412);
        QVERIFY2(r.errorText().contains(QLatin1String("exists")), r.body.constData());

        r = m_http->get(jobPath(QStringLiteral("exp"), QStringLiteral("mine")));
        QCOMPARE(r.status, 200);
        QCOMPARE(text(obj(r), "status"), QStringLiteral("QUEUED"));
        QCOMPARE(r.header("ETag"), etag);

        // A listed job has no ETag; the client's put() then sends If-None-Match: * and must get 412.
        QList<QCborMap> jobs;
        walkJobs(QStringLiteral("exp"), {}, &jobs);
        QCOMPARE(jobs.size(), 1);
        r = m_http->put(jobPath(QStringLiteral("exp"), text(jobs[0], "id")), jobBody("RUNNING"),
                        {{"If-None-Match", "*"}});
        QCOMPARE(r.status, 412);

        // In an experiment that does not exist.
        r = m_http->put(jobPath(QStringLiteral("noexp"), QStringLiteral("mine")), jobBody("QUEUED"),
                        {{"If-None-Match", "*"}});
        QCOMPARE(r.status, 404);
    }

    void putJobUnconditional()
    {
        createExperiment(QStringLiteral("exp"));
        Reply r = m_http->put(jobPath(QStringLiteral("exp"), QStringLiteral("j")),
                              jobBody("RUNNING", R"({"a": 1})"));
        QCOMPARE(r.status, 201);
        const QByteArray etag1 = r.header("ETag");
        QVERIFY(!etag1.isEmpty());
        r = m_http->put(jobPath(QStringLiteral("exp"), QStringLiteral("j")),
                        jobBody("DONE", R"({"a": 2})", R"({"r": 3})"));
        QCOMPARE(r.status, 200);
        QVERIFY(!r.header("ETag").isEmpty());
        QVERIFY(r.header("ETag") != etag1);
        r = m_http->get(jobPath(QStringLiteral("exp"), QStringLiteral("j")));
        QCOMPARE(text(obj(r), "status"), QStringLiteral("DONE"));
        QVERIFY(r.body.contains(R"("hyperparameters":{"a":2},"results":{"r":3})"));
    }

    void putJobMissingFieldsMeanEmpty()
    {
        createExperiment(QStringLiteral("exp"));
        Reply r = m_http->post(jobsPath(QStringLiteral("exp")),
                               jobBody("QUEUED", R"({"lr": 0.1})", R"({"loss": 1.5})"));
        const QString id = text(obj(r), "id");
        r = m_http->put(jobPath(QStringLiteral("exp"), id), R"({"status": "RUNNING"})",
                        {{"If-Match", r.header("ETag")}});
        QCOMPARE(r.status, 200);
        QVERIFY(sub(obj(r), "hyperparameters").isEmpty());
        QVERIFY(sub(obj(r), "results").isEmpty());
        r = m_http->get(jobPath(QStringLiteral("exp"), id));
        QVERIFY(r.body.contains(R"("hyperparameters":{},"results":{})"));

        // Only results given: the hyperparameters become empty, the results replace the old ones.
        r = m_http->put(jobPath(QStringLiteral("exp"), id), R"({"status": "DONE", "results": {"acc": 1}})");
        QCOMPARE(r.status, 200);
        QVERIFY(r.body.contains(R"("hyperparameters":{},"results":{"acc":1})"));
        // null means empty too.
        r = m_http->put(jobPath(QStringLiteral("exp"), id),
                        R"({"status": "DONE", "hyperparameters": null, "results": null})");
        QCOMPARE(r.status, 200);
        QVERIFY(r.body.contains(R"("hyperparameters":{},"results":{})"));
    }

    void everyChangeGivesANewEtag()
    {
        createExperiment(QStringLiteral("exp"));
        QSet<QByteArray> seen;
        Reply r = m_http->put(jobPath(QStringLiteral("exp"), QStringLiteral("j")), jobBody("QUEUED"),
                              {{"If-None-Match", "*"}});
        QCOMPARE(r.status, 201);
        QByteArray etag = r.header("ETag");
        seen.insert(etag);
        // Even a PUT that writes the same content is a change.
        for (const char *status : {"QUEUED", "RUNNING", "RUNNING", "DONE", "DONE"}) {
            r = m_http->put(jobPath(QStringLiteral("exp"), QStringLiteral("j")), jobBody(status),
                            {{"If-Match", etag}});
            QCOMPARE(r.status, 200);
            etag = r.header("ETag");
            QVERIFY2(!seen.contains(etag), etag.constData());
            seen.insert(etag);
            QCOMPARE(m_http->get(jobPath(QStringLiteral("exp"), QStringLiteral("j"))).header("ETag"), etag);
        }
        // Deleted and created again: still a new ETag, and the old one does not match the new job.
        QCOMPARE(m_http->del(jobPath(QStringLiteral("exp"), QStringLiteral("j"))).status, 204);
        r = m_http->put(jobPath(QStringLiteral("exp"), QStringLiteral("j")), jobBody("QUEUED"),
                        {{"If-None-Match", "*"}});
        QCOMPARE(r.status, 201);
        QVERIFY(!seen.contains(r.header("ETag")));
        r = m_http->put(jobPath(QStringLiteral("exp"), QStringLiteral("j")), jobBody("RUNNING"),
                        {{"If-Match", etag}});
        QCOMPARE(r.status, 412);
    }

    void deleteJob()
    {
        createExperiment(QStringLiteral("exp"));
        const QString id = text(postJob(QStringLiteral("exp")), "id");
        const QString other = text(postJob(QStringLiteral("exp")), "id");
        Reply r = m_http->del(jobPath(QStringLiteral("exp"), id));
        QCOMPARE(r.status, 204);
        QVERIFY(r.body.isEmpty());
        QCOMPARE(m_http->get(jobPath(QStringLiteral("exp"), id)).status, 404);
        // Already gone: 204 without a condition, 412 with If-Match: *.
        QCOMPARE(m_http->del(jobPath(QStringLiteral("exp"), id)).status, 204);
        r = m_http->del(jobPath(QStringLiteral("exp"), id), {{"If-Match", "*"}});
        QCOMPARE(r.status, 412);
        QVERIFY2(r.errorText().contains(id), r.body.constData());
        // An existing one with If-Match: *.
        QCOMPARE(m_http->del(jobPath(QStringLiteral("exp"), other), {{"If-Match", "*"}}).status, 204);
        QCOMPARE(m_http->get(jobPath(QStringLiteral("exp"), other)).status, 404);
        const QCborMap counts = sub(obj(m_http->get(expPath(QStringLiteral("exp")))), "jobCounts");
        QCOMPARE(counts.value(QStringLiteral("QUEUED")).toInteger(), 0);
        // A job of an experiment that does not exist is missing as well.
        QCOMPARE(m_http->del(jobPath(QStringLiteral("noexp"), id)).status, 204);
        QCOMPARE(m_http->del(jobPath(QStringLiteral("noexp"), id), {{"If-Match", "*"}}).status, 412);
    }

    void nextJob()
    {
        QCOMPARE(m_http->get(expPath(QStringLiteral("noexp")) + QStringLiteral("nextjob/")).status, 404);
        createExperiment(QStringLiteral("exp"));
        Reply r = m_http->get(expPath(QStringLiteral("exp")) + QStringLiteral("nextjob/"));
        QCOMPARE(r.status, 204);
        QVERIFY(r.body.isEmpty());

        const QCborMap posted = postJob(QStringLiteral("exp"), jobBody("QUEUED", R"({"n": 3})"));
        r = m_http->get(expPath(QStringLiteral("exp")) + QStringLiteral("nextjob/"));
        QCOMPARE(r.status, 200);
        QCOMPARE(text(obj(r), "id"), text(posted, "id"));
        QCOMPARE(text(obj(r), "status"), QStringLiteral("QUEUED"));
        const QByteArray etag = r.header("ETag");
        QVERIFY(!etag.isEmpty());
        // The claim with that ETag works.
        r = m_http->put(jobPath(QStringLiteral("exp"), text(posted, "id")), jobBody("RUNNING", R"({"n": 3})"),
                        {{"If-Match", etag}});
        QCOMPARE(r.status, 200);
        QCOMPARE(m_http->get(expPath(QStringLiteral("exp")) + QStringLiteral("nextjob/")).status, 204);

        // A paused (DONE) experiment hands out nothing.
        postJob(QStringLiteral("exp"));
        QCOMPARE(
            m_http
                ->put(expPath(QStringLiteral("exp")), R"({"status": "DONE", "scheduler": {"Manual": null}})")
                .status,
            200);
        QCOMPARE(m_http->get(expPath(QStringLiteral("exp")) + QStringLiteral("nextjob/")).status, 204);

        // RandomSearch stores what it hands out.
        createExperiment(QStringLiteral("rs"), R"({"status": "RUNNING", "scheduler": {"RandomSearch": {
            "x": {"uniform": {"low": 0.0, "high": 1.0}}, "k": {"const": 7}}}})");
        r = m_http->get(expPath(QStringLiteral("rs")) + QStringLiteral("nextjob/"));
        QCOMPARE(r.status, 200);
        const QString id = text(obj(r), "id");
        QCOMPARE(sub(obj(r), "hyperparameters").value(QStringLiteral("k")).toInteger(), 7);
        QCOMPARE(m_http->get(jobPath(QStringLiteral("rs"), id)).header("ETag"), r.header("ETag"));
    }

    // ---- values and names ------------------------------------------------------------------

    void numbersKeepIdentity()
    {
        createExperiment(QStringLiteral("exp"));
        const QByteArray hp = R"({"f": 1.0, "i": 3, "big": 9007199254740993, "min": -9223372036854775808, )"
                              R"("t": true, "z": 0, "nz": -0.0, "small": 1e-06, "large": 1e+16, "s": "3", )"
                              R"("n": null, "l": [1, 2.5, false], "o": {"k": 1.5e300}})";
        const QByteArray res =
            R"({"loss": NaN, "inf": Infinity, "ninf": -Infinity, "curve": [0.9, NaN, 0.1]})";
        const QByteArray hpOut = R"({"f":1.0,"i":3,"big":9007199254740993,"min":-9223372036854775808,)"
                                 R"("t":true,"z":0,"nz":-0.0,"small":1e-06,"large":1e+16,"s":"3",)"
                                 R"("n":null,"l":[1,2.5,false],"o":{"k":1.5e+300}})";
        const QByteArray resOut = R"({"loss":NaN,"inf":Infinity,"ninf":-Infinity,"curve":[0.9,NaN,0.1]})";
        const QByteArray both = "\"hyperparameters\":" + hpOut + ",\"results\":" + resOut;

        Reply r = m_http->post(jobsPath(QStringLiteral("exp")), jobBody("QUEUED", hp, res));
        QCOMPARE(r.status, 201);
        QVERIFY2(r.body.contains(both), r.body.constData());
        const QString id = text(obj(r), "id");
        const QCborMap h = sub(obj(r), "hyperparameters");
        QVERIFY(h.value(QStringLiteral("f")).isDouble());
        QVERIFY(h.value(QStringLiteral("i")).isInteger());
        QCOMPARE(h.value(QStringLiteral("big")).toInteger(), Q_INT64_C(9007199254740993));
        QVERIFY(h.value(QStringLiteral("t")).isTrue());
        QVERIFY(std::isnan(sub(obj(r), "results").value(QStringLiteral("loss")).toDouble()));

        r = m_http->get(jobPath(QStringLiteral("exp"), id));
        QVERIFY2(r.body.contains(both), r.body.constData());
        r = m_http->get(jobsPath(QStringLiteral("exp")));
        QVERIFY2(r.body.contains(both), r.body.constData());
        r = m_http->get(expPath(QStringLiteral("exp")) + QStringLiteral("nextjob/"));
        QCOMPARE(r.status, 200);
        QVERIFY2(r.body.contains(both), r.body.constData());

        // A worker's final report with a diverged loss is accepted and kept.
        r = m_http->put(jobPath(QStringLiteral("exp"), id), jobBody("DONE", hp, res),
                        {{"If-Match", r.header("ETag")}});
        QCOMPARE(r.status, 200);
        QVERIFY2(r.body.contains(both), r.body.constData());
        r = m_http->get(jobPath(QStringLiteral("exp"), id));
        QVERIFY2(r.body.contains(both), r.body.constData());

        // \u escapes, surrogate pairs included, as Python's json.dumps writes them.
        r = m_http->post(jobsPath(QStringLiteral("exp")),
                         R"({"status": "QUEUED", "hyperparameters": {"s": "\u00e9\ud83d\ude00"}})");
        QCOMPARE(r.status, 201);
        QCOMPARE(sub(obj(r), "hyperparameters").value(QStringLiteral("s")).toString(), QStringLiteral("é😀"));

        // Scheduler arguments keep their types as well.
        createExperiment(QStringLiteral("rs"), R"({"status": "RUNNING", "scheduler": {"RandomSearch": {
            "layers": {"choice": {"values": [1, 2.0, true, "4", null], "weights": [1.0, 2.0, 3.0, 4.0, 5.0]}},
            "opt": {"const": {"name": "sgd", "momentum": 0.9, "n": 1}},
            "none": {"const": null}}}})");
        r = m_http->get(expPath(QStringLiteral("rs")));
        QVERIFY2(
            r.body.contains(
                R"("layers":{"choice":{"values":[1,2.0,true,"4",null],"weights":[1.0,2.0,3.0,4.0,5.0]}})"),
            r.body.constData());
        QVERIFY2(
            r.body.contains(R"("opt":{"const":{"name":"sgd","momentum":0.9,"n":1}},"none":{"const":null})"),
            r.body.constData());
    }

    void keyOrderIsPreserved()
    {
        createExperiment(QStringLiteral("exp"), R"({"status": "RUNNING", "scheduler": {"RandomSearch": {
            "zeta": {"const": 1}, "alpha": {"const": 2}, "mid": {"const": 3}, "beta": {"const": 4}}}})");
        Reply r = m_http->get(expPath(QStringLiteral("exp")));
        QVERIFY2(
            r.body.contains(
                R"({"RandomSearch":{"zeta":{"const":1},"alpha":{"const":2},"mid":{"const":3},"beta":{"const":4}}})"),
            r.body.constData());

        const QByteArray hp = R"({"z": 1, "a": 2, "m": 3, "b": 4, "A": 5, "_": 6, "10": 7, "9": 8})";
        const QByteArray res = R"({"val_loss": [1], "acc": 2, "loss": 3})";
        const QByteArray expected =
            R"("hyperparameters":{"z":1,"a":2,"m":3,"b":4,"A":5,"_":6,"10":7,"9":8},"results":{"val_loss":[1],"acc":2,"loss":3})";
        r = m_http->post(jobsPath(QStringLiteral("exp")), jobBody("QUEUED", hp, res));
        QVERIFY2(r.body.contains(expected), r.body.constData());
        const QString id = text(obj(r), "id");
        QVERIFY(m_http->get(jobPath(QStringLiteral("exp"), id)).body.contains(expected));
        QVERIFY(m_http->get(jobsPath(QStringLiteral("exp"))).body.contains(expected));
        r = m_http->put(jobPath(QStringLiteral("exp"), id), jobBody("DONE", hp, res));
        QVERIFY(r.body.contains(expected));

        // Sampled hyperparameters follow the order of the distributions.
        r = m_http->get(expPath(QStringLiteral("exp")) + QStringLiteral("nextjob/"));
        QCOMPARE(r.status, 200);
        QVERIFY2(r.body.contains(R"("hyperparameters":{"zeta":1,"alpha":2,"mid":3,"beta":4})"),
                 r.body.constData());
    }

    void namesRoundTrip_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("slash") << QStringLiteral("a/b/c");
        QTest::newRow("spaces") << QStringLiteral("MNIST CNN  run 2");
        QTest::newRow("padded") << QStringLiteral(" padded ");
        QTest::newRow("plus") << QStringLiteral("a+b");
        QTest::newRow("percent") << QStringLiteral("100%");
        QTest::newRow("percent-escape-lookalike") << QStringLiteral("%41%2F%20");
        QTest::newRow("query-chars") << QStringLiteral("?x=1&y=2#frag");
        QTest::newRow("sub-delims") << QStringLiteral("a;b,c=d:e@f!$'()*");
        QTest::newRow("quotes-backslash") << QStringLiteral("\"q\" \\ back");
        QTest::newRow("latin") << QStringLiteral("héllo wörld ß");
        QTest::newRow("decomposed") << QStringLiteral("e\u0301");
        QTest::newRow("cjk") << QStringLiteral("日本語の実験");
        QTest::newRow("emoji") << QStringLiteral("😀 emoji 🚀");
        QTest::newRow("dots") << QStringLiteral("...");
        QTest::newRow("hidden") << QStringLiteral(".hidden");
        QTest::newRow("dot-dot-x") << QStringLiteral("..x");
        QTest::newRow("tilde") << QStringLiteral("~user");
        QTest::newRow("200-chars") << QString(200, QLatin1Char('n'));
        QString emoji;
        for (int i = 0; i < 200; ++i)
            emoji += QStringLiteral("😀");
        QTest::newRow("200-emoji") << emoji;
    }

    void namesRoundTrip()
    {
        QFETCH(QString, name);
        Reply r = m_http->put(expPath(name), ManualBody, {{"If-None-Match", "*"}});
        QCOMPARE(r.status, 201);
        QCOMPARE(text(obj(r), "name"), name);
        r = m_http->get(expPath(name));
        QCOMPARE(r.status, 200);
        QCOMPARE(text(obj(r), "name"), name);

        // Only this name, byte for byte: no decoding twice, no normalisation.
        QList<QCborMap> experiments;
        walk(QStringLiteral("experiments/"), {}, &experiments);
        QCOMPARE(experiments.size(), 1);
        QCOMPARE(text(experiments[0], "name"), name);

        r = m_http->post(jobsPath(name), R"({"status": "QUEUED"})");
        QCOMPARE(r.status, 201);
        QCOMPARE(text(obj(r), "experiment"), name);
        const QString generated = text(obj(r), "id");

        // The same text as a client-chosen job id, unless it holds a path separator:
        // job ids are promised safe as file names (docs/protocol.md).
        if (name.contains(QLatin1Char('/')) || name.contains(QLatin1Char('\\'))) {
            r = m_http->put(jobPath(name, name), jobBody("QUEUED"), {{"If-None-Match", "*"}});
            QCOMPARE(r.status, 400);
            QList<QCborMap> jobs;
            walkJobs(name, {}, &jobs);
            QCOMPARE(ids(jobs), generated);
        } else {
            r = m_http->put(jobPath(name, name), jobBody("QUEUED"), {{"If-None-Match", "*"}});
            QCOMPARE(r.status, 201);
            QCOMPARE(text(obj(r), "id"), name);
            QCOMPARE(text(obj(r), "experiment"), name);
            r = m_http->get(jobPath(name, name));
            QCOMPARE(r.status, 200);
            QCOMPARE(text(obj(r), "id"), name);
            r = m_http->put(jobPath(name, name), jobBody("RUNNING"), {{"If-Match", r.header("ETag")}});
            QCOMPARE(r.status, 200);

            QList<QCborMap> jobs;
            walkJobs(name, {}, &jobs);
            QCOMPARE(ids(jobs), generated + QLatin1Char(',') + name);
            for (const QCborMap &j : jobs)
                QCOMPARE(text(j, "experiment"), name);
            QCOMPARE(m_http->del(jobPath(name, name), {{"If-Match", "*"}}).status, 204);
            QCOMPARE(m_http->get(jobPath(name, name)).status, 404);
        }

        r = m_http->get(expPath(name) + QStringLiteral("nextjob/"));
        QCOMPARE(r.status, 200);
        QCOMPARE(text(obj(r), "experiment"), name);

        QCOMPARE(m_http->del(expPath(name), {{"If-Match", "*"}}).status, 204);
        QCOMPARE(m_http->get(expPath(name)).status, 404);
    }

    void composedAndDecomposedAreDistinct()
    {
        createExperiment(QStringLiteral("\u00e9"));
        createExperiment(QStringLiteral("e\u0301"));
        QList<QCborMap> experiments;
        walk(QStringLiteral("experiments/"), {}, &experiments);
        QCOMPARE(experiments.size(), 2);
        QCOMPARE(text(experiments[0], "name"), QStringLiteral("\u00e9"));
        QCOMPARE(text(experiments[1], "name"), QStringLiteral("e\u0301"));
    }

    // ---- authentication --------------------------------------------------------------------

    void tokenLogin()
    {
        const QByteArray body = json::write(
            QCborMap{{QStringLiteral("email"), m_config.email}, {QStringLiteral("token"), m_config.token}});
        HttpTestClient anon(m_server->root());
        Reply r = anon.post(QStringLiteral("token/"), body);
        QCOMPARE(r.status, 200);
        QCOMPARE(obj(r).size(), 2);
        QVERIFY(field(obj(r), "token").isString());
        QVERIFY(json::isNumber(field(obj(r), "expiresAt")));
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        const double expiresAt = json::toDouble(field(obj(r), "expiresAt"));
        QVERIFY(expiresAt > now + 600); // about an hour
        QVERIFY(expiresAt < now + 2 * 86400);

        // The bearer works.
        anon.bearer = text(obj(r), "token").toLatin1();
        QCOMPARE(anon.get(QStringLiteral("experiments/")).status, 200);

        // Wrong credentials: 403.
        auto login = [&](const char *endpoint, const QString &email, const QString &token) {
            HttpTestClient c(m_server->root());
            return c.post(QLatin1String(endpoint), json::write(QCborMap{{QStringLiteral("email"), email},
                                                                        {QStringLiteral("token"), token}}));
        };
        r = login("token/", m_config.email, m_config.token + QLatin1Char('x'));
        QCOMPARE(r.status, 403);
        QVERIFY2(r.errorText().contains(QLatin1String("wrong")), r.body.constData());
        QCOMPARE(login("token/", QStringLiteral("nobody@example.com"), m_config.token).status, 403);
        QCOMPARE(login("token/", m_config.email, QStringLiteral("my password")).status,
                 403); // a password is not a token
        QCOMPARE(login("token/", m_config.email.toUpper(), m_config.token).status, 403);
        QCOMPARE(login("token/", m_config.email, QString()).status, 403);
    }

    void passwordLogin()
    {
        auto login = [&](const QString &email, const QString &password) {
            HttpTestClient c(m_server->root());
            return c.post(
                QStringLiteral("passauth/"),
                json::write(QCborMap{{QStringLiteral("email"), email}, {QStringLiteral("token"), password}}));
        };
        Reply r = login(m_config.email, QStringLiteral("my password"));
        QCOMPARE(r.status, 200);
        QVERIFY(field(obj(r), "token").isString());
        QVERIFY(json::isNumber(field(obj(r), "expiresAt")));
        HttpTestClient c(m_server->root());
        c.bearer = text(obj(r), "token").toLatin1();
        QCOMPARE(c.get(QStringLiteral("experiments/")).status, 200);

        r = login(m_config.email, QStringLiteral("my passwordx"));
        QCOMPARE(r.status, 403);
        QVERIFY2(r.errorText().contains(QLatin1String("password")), r.body.constData());
        QCOMPARE(login(m_config.email, m_config.token).status, 403); // an API token is not a password
        QCOMPARE(login(QStringLiteral("nobody@example.com"), QStringLiteral("my password")).status, 403);
        // A user without a password cannot log in by password, whatever it sends.
        const ClientConfig tokenOnly = m_server->addUser(QStringLiteral("tokenonly@example.com"));
        QCOMPARE(login(tokenOnly.email, QString()).status, 403);
        QCOMPARE(login(tokenOnly.email, tokenOnly.token).status, 403);
    }

    void bearerRequired()
    {
        HttpTestClient c(m_server->root());
        Reply r = c.get(QStringLiteral("experiments/"));
        QCOMPARE(r.status, 401);
        QVERIFY2(r.errorText().contains(QLatin1String("Authorization")), r.body.constData());

        c.bearer = "garbage";
        r = c.get(QStringLiteral("experiments/"));
        QCOMPARE(r.status, 401);
        c.bearer = "a.b.c";
        QCOMPARE(c.get(QStringLiteral("experiments/")).status, 401);

        // Tampered: another user id in the payload, or a changed signature.
        const QList<QByteArray> parts = m_http->bearer.split('.');
        QCOMPARE(parts.size(), 3);
        QByteArray payload = QByteArray::fromBase64(parts[1], QByteArray::Base64UrlEncoding);
        QVERIFY(payload.contains("\"sub\":\"1\""));
        payload.replace("\"sub\":\"1\"", "\"sub\":\"2\"");
        const auto b64 = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
        c.bearer = parts[0] + '.' + payload.toBase64(b64) + '.' + parts[2];
        r = c.get(QStringLiteral("experiments/"));
        QCOMPARE(r.status, 401);
        QVERIFY2(r.errorText().contains(QLatin1String("invalid")), r.body.constData());
        QByteArray signature = parts[2];
        signature[0] = signature[0] == 'A' ? 'B' : 'A';
        c.bearer = parts[0] + '.' + parts[1] + '.' + signature;
        QCOMPARE(c.get(QStringLiteral("experiments/")).status, 401);
        // "alg": "none" with no signature.
        c.bearer = QByteArray(R"({"alg":"none","typ":"JWT"})").toBase64(b64) + '.' + parts[1] + '.';
        QCOMPARE(c.get(QStringLiteral("experiments/")).status, 401);

        // Another scheme.
        HttpTestClient basic(m_server->root());
        r = basic.request("GET", QStringLiteral("experiments/"), {}, {{"Authorization", "Basic bWU6cHc="}});
        QCOMPARE(r.status, 401);

        // Every endpoint but the logins wants the bearer.
        HttpTestClient anon(m_server->root());
        createExperiment(QStringLiteral("exp"));
        QCOMPARE(anon.get(expPath(QStringLiteral("exp"))).status, 401);
        QCOMPARE(anon.put(expPath(QStringLiteral("exp2")), ManualBody).status, 401);
        QCOMPARE(anon.del(expPath(QStringLiteral("exp"))).status, 401);
        QCOMPARE(anon.get(jobsPath(QStringLiteral("exp"))).status, 401);
        QCOMPARE(anon.post(jobsPath(QStringLiteral("exp")), "{}").status, 401);
        QCOMPARE(anon.get(expPath(QStringLiteral("exp")) + QStringLiteral("nextjob/")).status, 401);
        QCOMPARE(anon.get(jobPath(QStringLiteral("exp"), QStringLiteral("x"))).status, 401);
        QCOMPARE(anon.put(jobPath(QStringLiteral("exp"), QStringLiteral("x")), jobBody("QUEUED")).status,
                 401);
        QCOMPARE(anon.del(jobPath(QStringLiteral("exp"), QStringLiteral("x"))).status, 401);
        QCOMPARE(anon.post(QStringLiteral("resettoken/")).status, 401);
        // Nothing was applied.
        QCOMPARE(m_http->get(expPath(QStringLiteral("exp"))).status, 200);
        QCOMPARE(m_http->get(expPath(QStringLiteral("exp2"))).status, 404);
        QCOMPARE(m_http->get(jobsPath(QStringLiteral("exp"))).body,
                 QByteArray(R"({"items":[],"next":null})"));
    }

    void bearerExpires()
    {
        server::Api *api = m_server->server()->api();
        const qint64 now = QDateTime::currentSecsSinceEpoch();
        HttpTestClient anon(m_server->root());
        const Reply login = anon.post(QStringLiteral("token/"),
                                      json::write(QCborMap{{QStringLiteral("email"), m_config.email},
                                                           {QStringLiteral("token"), m_config.token}}));
        QCOMPARE(login.status, 200);
        const qint64 expiresAt = qint64(json::toDouble(field(obj(login), "expiresAt")));
        HttpTestClient c(m_server->root());
        c.bearer = text(obj(login), "token").toLatin1();

        // Valid right up to expiresAt.
        api->setClock([expiresAt] { return expiresAt; });
        QCOMPARE(c.get(QStringLiteral("experiments/")).status, 200);
        // Long after it: 401, naming the reason.
        api->setClock([now] { return now + 86400; });
        Reply r = c.get(QStringLiteral("experiments/"));
        QCOMPARE(r.status, 401);
        QVERIFY2(r.errorText().contains(QLatin1String("expired")), r.body.constData());
        QCOMPARE(c.put(expPath(QStringLiteral("late")), ManualBody).status, 401);
        // A new login then works.
        HttpTestClient fresh(m_server->root());
        QVERIFY(fresh.login(m_config));
        QCOMPARE(fresh.put(expPath(QStringLiteral("late")), ManualBody).status, 201);
        // Back to the real clock the first bearer works again: only time made it fail.
        api->setClock([] { return QDateTime::currentSecsSinceEpoch(); });
        QCOMPARE(c.get(expPath(QStringLiteral("late"))).status, 200);
    }

    void otherUsersExperimentIsMissing()
    {
        const ClientConfig otherConfig = m_server->addUser(QStringLiteral("other@example.com"));
        HttpTestClient other(m_server->root());
        QVERIFY(other.login(otherConfig));
        QCOMPARE(other.put(expPath(QStringLiteral("secret")), ManualBody, {{"If-None-Match", "*"}}).status,
                 201);
        const QCborMap job = [&] {
            const Reply r = other.post(jobsPath(QStringLiteral("secret")), jobBody("QUEUED", R"({"a": 1})"));
            return obj(r);
        }();
        const QString id = text(job, "id");
        const QByteArray etag = other.get(jobPath(QStringLiteral("secret"), id)).header("ETag");

        // Everything I ask about it, and the same questions about a name nobody has.
        auto probe = [&](const QString &name) {
            QList<Reply> replies;
            replies << m_http->get(expPath(name)) << m_http->get(jobsPath(name))
                    << m_http->post(jobsPath(name), "{}")
                    << m_http->get(expPath(name) + QStringLiteral("nextjob/"))
                    << m_http->get(jobPath(name, id))
                    << m_http->put(jobPath(name, id), jobBody("RUNNING"), {{"If-Match", etag}})
                    << m_http->put(jobPath(name, id), jobBody("RUNNING"))
                    << m_http->del(expPath(name), {{"If-Match", "*"}})
                    << m_http->del(jobPath(name, id), {{"If-Match", "*"}});
            return replies;
        };
        const QList<Reply> theirs = probe(QStringLiteral("secret"));
        const QList<Reply> nobodys = probe(QStringLiteral("secreT"));
        QCOMPARE(theirs.size(), nobodys.size());
        for (qsizetype i = 0; i < theirs.size(); ++i) {
            QVERIFY2(theirs[i].status == 404 || theirs[i].status == 412, theirs[i].body.constData());
            QCOMPARE(theirs[i].status, nobodys[i].status);
            QByteArray mine = nobodys[i].body;
            mine.replace("secreT", "secret");
            QCOMPARE(theirs[i].body, mine);
        }
        // Deleting without a condition answers like a missing one and deletes nothing of theirs.
        QCOMPARE(m_http->del(jobPath(QStringLiteral("secret"), id)).status, 204);
        QCOMPARE(m_http->del(expPath(QStringLiteral("secret"))).status, 204);

        // Theirs is untouched and not in my listing.
        Reply r = other.get(jobPath(QStringLiteral("secret"), id));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("ETag"), etag);
        QCOMPARE(text(obj(r), "status"), QStringLiteral("QUEUED"));
        QList<QCborMap> jobs;
        {
            const Reply list = other.get(jobsPath(QStringLiteral("secret")));
            QCOMPARE(list.status, 200);
            QCOMPARE(field(obj(list), "items").toArray().size(), 1);
        }
        r = m_http->get(QStringLiteral("experiments/"));
        QCOMPARE(r.body, QByteArray(R"({"items":[],"next":null})"));
        QCOMPARE(r.header("X-Total-Count"), QByteArray("0"));

        // The same name is free for me and stays separate.
        QCOMPARE(m_http
                     ->put(expPath(QStringLiteral("secret")),
                           R"({"status": "DONE", "scheduler": {"Manual": null}})", {{"If-None-Match", "*"}})
                     .status,
                 201);
        QCOMPARE(text(obj(other.get(expPath(QStringLiteral("secret")))), "status"),
                 QStringLiteral("RUNNING"));
        QCOMPARE(text(obj(m_http->get(expPath(QStringLiteral("secret")))), "status"), QStringLiteral("DONE"));
        walkJobs(QStringLiteral("secret"), {}, &jobs);
        QVERIFY(jobs.isEmpty());
    }

    void resetToken_data()
    {
        QTest::addColumn<bool>("byPassword");
        QTest::newRow("api-token login") << false;
        QTest::newRow("password login") << true;
    }

    void resetToken()
    {
        QFETCH(bool, byPassword);
        HttpTestClient c(m_server->root());
        ClientConfig login = m_config;
        if (byPassword) {
            login.token = QStringLiteral("my password");
            login.tokenType = ClientConfig::TokenType::Password;
        }
        QVERIFY(c.login(login));
        Reply r = c.post(QStringLiteral("resettoken/"));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json; charset=utf-8"));
        const QCborMap m = obj(r);
        QCOMPARE(m.size(), 4);
        QCOMPARE(text(m, "root"), m_server->root());
        QCOMPARE(text(m, "email"), m_config.email);
        QCOMPARE(text(m, "token_type"), QStringLiteral("api_token"));
        QVERIFY(!text(m, "token").isEmpty());
        QVERIFY(text(m, "token") != m_config.token);
        QString error;
        const auto config = ClientConfig::fromJson(r.body, &error);
        QVERIFY2(config, qPrintable(error));

        // The new token logs in, the old one does not.
        HttpTestClient fresh(config->root);
        QVERIFY(fresh.login(*config));
        QCOMPARE(fresh.get(QStringLiteral("experiments/")).status, 200);
        HttpTestClient old(m_server->root());
        r = old.post(QStringLiteral("token/"),
                     json::write(QCborMap{{QStringLiteral("email"), m_config.email},
                                          {QStringLiteral("token"), m_config.token}}));
        QCOMPARE(r.status, 403);
        // The password still works; every bearer issued before the reset is revoked
        // at once (issue 17, finding 10), the one that asked for it included.
        HttpTestClient byPass(m_server->root());
        ClientConfig passwordConfig = m_config;
        passwordConfig.token = QStringLiteral("my password");
        passwordConfig.tokenType = ClientConfig::TokenType::Password;
        QVERIFY(byPass.login(passwordConfig));
        QCOMPARE(byPass.get(QStringLiteral("experiments/")).status, 200);
        QCOMPARE(m_http->get(QStringLiteral("experiments/")).status, 401);
        QCOMPARE(c.get(QStringLiteral("experiments/")).status, 401);
    }

    // ---- paging ---------------------------------------------------------------------------

    void experimentPaging_data()
    {
        QTest::addColumn<int>("count");
        QTest::addColumn<int>("limit");
        QTest::addColumn<int>("pages");
        QTest::newRow("7 by 3") << 7 << 3 << 3;
        QTest::newRow("6 by 3 (exact multiple)") << 6 << 3 << 2;
        QTest::newRow("5 by 1") << 5 << 1 << 5;
        QTest::newRow("4 by 10") << 4 << 10 << 1;
        QTest::newRow("101 by default (100)") << 101 << 0 << 2;
        QTest::newRow("none") << 0 << 2 << 1;
    }

    void experimentPaging()
    {
        QFETCH(int, count);
        QFETCH(int, limit);
        QFETCH(int, pages);
        QStringList names;
        for (int i = 0; i < count; ++i) {
            names << QStringLiteral("exp %1").arg(i);
            createExperiment(names.last());
        }
        QList<QCborMap> items;
        int seenPages = 0;
        qint64 total = -1;
        walk(QStringLiteral("experiments/"), limit ? QStringLiteral("limit=%1").arg(limit) : QString(),
             &items, &seenPages, &total);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(seenPages, pages);
        QCOMPARE(total, qint64(count));
        QStringList seen;
        for (const QCborMap &e : items)
            seen << text(e, "name");
        QCOMPARE(seen, names);
    }

    void jobPaging_data()
    {
        QTest::addColumn<int>("count");
        QTest::addColumn<int>("limit");
        QTest::addColumn<int>("pages");
        QTest::newRow("25 by 4") << 25 << 4 << 7;
        QTest::newRow("24 by 4 (exact multiple)") << 24 << 4 << 6;
        QTest::newRow("3 by 1") << 3 << 1 << 3;
        QTest::newRow("none") << 0 << 5 << 1;
        QTest::newRow("1001 by default (1000)") << 1001 << 0 << 2;
    }

    void jobPaging()
    {
        QFETCH(int, count);
        QFETCH(int, limit);
        QFETCH(int, pages);
        createExperiment(QStringLiteral("exp"));
        QStringList created;
        for (int i = 0; i < count; ++i)
            created << text(postJob(QStringLiteral("exp"),
                                    jobBody("QUEUED", QByteArray("{\"i\": ") + QByteArray::number(i) + '}')),
                            "id");
        QList<QCborMap> items;
        int seenPages = 0;
        qint64 total = -1;
        walk(jobsPath(QStringLiteral("exp")), limit ? QStringLiteral("limit=%1").arg(limit) : QString(),
             &items, &seenPages, &total);
        if (QTest::currentTestFailed())
            return;
        QCOMPARE(seenPages, pages);
        QCOMPARE(total, qint64(count));
        // Oldest first, each once.
        QStringList seen;
        for (const QCborMap &j : items)
            seen << text(j, "id");
        QCOMPARE(seen, created);
    }

    void jobWalkWhileChanging_data()
    {
        QTest::addColumn<QString>("params");
        QTest::newRow("default order") << QStringLiteral("limit=4");
        QTest::newRow("by id") << QStringLiteral("limit=4&sort=id");
        QTest::newRow("by id, descending") << QStringLiteral("limit=3&sort=id&order=desc");
        QTest::newRow("by createdAt, descending") << QStringLiteral("limit=5&sort=createdAt&order=desc");
        QTest::newRow("by status") << QStringLiteral("limit=4&sort=status");
    }

    // Jobs are added, changed and deleted between pages: every job that exists
    // throughout the walk appears exactly once, and nothing appears twice.
    void jobWalkWhileChanging()
    {
        QFETCH(QString, params);
        createExperiment(QStringLiteral("exp"));
        QStringList initial;
        for (int i = 0; i < 30; ++i) {
            const char *status = i % 3 == 0 ? "DONE" : "QUEUED";
            initial << text(postJob(QStringLiteral("exp"),
                                    jobBody(status, QByteArray("{\"i\": ") + QByteArray::number(i) + '}')),
                            "id");
        }
        QSet<QString> deleted, added;
        QSet<QString> seenSoFar;
        QList<QCborMap> items;
        int counter = 0;
        walk(jobsPath(QStringLiteral("exp")), params, &items, nullptr, nullptr, [&](int) {
            for (const QCborMap &j : std::as_const(items))
                seenSoFar.insert(text(j, "id"));
            // Two new jobs.
            for (int k = 0; k < 2; ++k)
                added.insert(text(postJob(QStringLiteral("exp")), "id"));
            // Delete one already seen and one not seen yet.
            for (const QString &id : std::as_const(initial)) {
                if (seenSoFar.contains(id) && !deleted.contains(id)) {
                    QCOMPARE(m_http->del(jobPath(QStringLiteral("exp"), id), {{"If-Match", "*"}}).status,
                             204);
                    deleted.insert(id);
                    break;
                }
            }
            for (auto it = initial.crbegin(); it != initial.crend(); ++it) {
                if (!seenSoFar.contains(*it) && !deleted.contains(*it)) {
                    QCOMPARE(m_http->del(jobPath(QStringLiteral("exp"), *it), {{"If-Match", "*"}}).status,
                             204);
                    deleted.insert(*it);
                    break;
                }
            }
            // Change one not seen yet (results only: its sort keys stay).
            for (const QString &id : std::as_const(initial)) {
                if (!seenSoFar.contains(id) && !deleted.contains(id)) {
                    const Reply r = m_http->get(jobPath(QStringLiteral("exp"), id));
                    QCOMPARE(r.status, 200);
                    const QByteArray status = text(obj(r), "status").toLatin1();
                    const QByteArray hp = json::write(sub(obj(r), "hyperparameters"));
                    QCOMPARE(m_http
                                 ->put(jobPath(QStringLiteral("exp"), id),
                                       jobBody(status.constData(), hp,
                                               QByteArray("{\"c\": ") + QByteArray::number(++counter) + '}'),
                                       {{"If-Match", r.header("ETag")}})
                                 .status,
                             200);
                    break;
                }
            }
        });
        if (QTest::currentTestFailed())
            return;
        QHash<QString, int> count;
        for (const QCborMap &j : std::as_const(items))
            ++count[text(j, "id")];
        for (auto it = count.cbegin(); it != count.cend(); ++it)
            QVERIFY2(it.value() == 1,
                     qPrintable(QStringLiteral("%1 seen %2 times").arg(it.key()).arg(it.value())));
        for (const QString &id : std::as_const(initial)) {
            if (!deleted.contains(id))
                QVERIFY2(count.value(id) == 1, qPrintable(id + QStringLiteral(" was skipped")));
        }
        QVERIFY(deleted.size() >= 4);
        QVERIFY(!added.isEmpty());
    }

    void cursorSurvivesFormEncoding()
    {
        createExperiment(QStringLiteral("exp"));
        for (int i = 0; i < 7; ++i)
            postJob(QStringLiteral("exp"));
        for (const QString &params :
             {QStringLiteral("limit=3"), QStringLiteral("limit=3&sort=hyperparameters.x"),
              QStringLiteral("limit=3&sort=modifiedAt&order=desc")}) {
            Reply r = m_http->get(jobsPath(QStringLiteral("exp")) + QLatin1Char('?') + params);
            QCOMPARE(r.status, 200);
            const QString cursor = text(obj(r), "next");
            QVERIFY(!cursor.isEmpty());
            // URL-safe, so quote_plus leaves it alone.
            QVERIFY2(QRegularExpression(QStringLiteral("^[A-Za-z0-9_-]+$")).match(cursor).hasMatch(),
                     qPrintable(cursor));
            const Reply plain = m_http->get(jobsPath(QStringLiteral("exp")) + QLatin1Char('?') + params +
                                            QStringLiteral("&start=") + cursor);
            QCOMPARE(plain.status, 200);
            QCOMPARE(field(obj(plain), "items").toArray().size(), 3);
            // Every byte percent-encoded, as a form-decoding server must undo.
            QString everyByte;
            for (const char c : cursor.toLatin1())
                everyByte += QStringLiteral("%%1").arg(uint(uchar(c)), 2, 16, QLatin1Char('0')).toUpper();
            const Reply encoded = m_http->get(jobsPath(QStringLiteral("exp")) + QStringLiteral("?start=") +
                                              everyByte + QLatin1Char('&') + params);
            QCOMPARE(encoded.status, 200);
            QCOMPARE(encoded.body, plain.body);
            const Reply quotePlus = m_http->get(jobsPath(QStringLiteral("exp")) + QLatin1Char('?') + params +
                                                QStringLiteral("&start=") + formEncode(cursor));
            QCOMPARE(quotePlus.body, plain.body);
        }
        // The experiment listing's cursor too.
        createExperiment(QStringLiteral("exp2"));
        Reply r = m_http->get(QStringLiteral("experiments/?limit=1"));
        const QString cursor = text(obj(r), "next");
        QVERIFY(!cursor.isEmpty());
        QString everyByte;
        for (const char c : cursor.toLatin1())
            everyByte += QStringLiteral("%%1").arg(uint(uchar(c)), 2, 16, QLatin1Char('0'));
        r = m_http->get(QStringLiteral("experiments/?limit=1&start=") + everyByte);
        QCOMPARE(r.status, 200);
        QCOMPARE(text(field(obj(r), "items").toArray().at(0).toMap(), "name"), QStringLiteral("exp2"));
    }

    // ---- listing extensions ------------------------------------------------------------------

    void statusFilter()
    {
        createExperiment(QStringLiteral("exp"));
        QStringList queuedOrDone, running;
        const char *statuses[] = {"QUEUED", "DONE", "RUNNING", "CRASHED", "QUEUED",
                                  "PRUNED", "DONE", "RUNNING", "DONE"};
        for (const char *s : statuses) {
            const QString id = text(postJob(QStringLiteral("exp"), jobBody(s)), "id");
            if (qstrcmp(s, "QUEUED") == 0 || qstrcmp(s, "DONE") == 0)
                queuedOrDone << id;
            if (qstrcmp(s, "RUNNING") == 0)
                running << id;
        }
        QList<QCborMap> items;
        qint64 total = -1;
        walk(jobsPath(QStringLiteral("exp")), QStringLiteral("status=QUEUED,DONE&limit=2"), &items, nullptr,
             &total);
        QCOMPARE(ids(items), queuedOrDone.join(QLatin1Char(',')));
        QCOMPARE(total, qint64(queuedOrDone.size()));
        for (const QCborMap &j : std::as_const(items))
            QVERIFY(text(j, "status") == QLatin1String("QUEUED") ||
                    text(j, "status") == QLatin1String("DONE"));
        items.clear();
        walk(jobsPath(QStringLiteral("exp")), QStringLiteral("status=RUNNING"), &items, nullptr, &total);
        QCOMPARE(ids(items), running.join(QLatin1Char(',')));
        QCOMPARE(total, 2);
        // %2C as the form encoder writes the comma.
        const Reply r =
            m_http->get(jobsPath(QStringLiteral("exp")) + QStringLiteral("?status=QUEUED%2CDONE"));
        QCOMPARE(r.header("X-Total-Count"), QByteArray::number(queuedOrDone.size()));
    }

    void sorting_data()
    {
        QTest::addColumn<QString>("sort");
        QTest::addColumn<QString>("ascending");  // expected ids, ascending
        QTest::addColumn<QString>("descending"); // expected ids, descending
        // Jobs (in creation order): c, a, e, b, d, f; see sorting().
        QTest::newRow("createdAt") << QStringLiteral("createdAt") << QStringLiteral("j-c,j-a,j-e,j-b,j-d,j-f")
                                   << QStringLiteral("j-f,j-d,j-b,j-e,j-a,j-c");
        QTest::newRow("default") << QString() << QStringLiteral("j-c,j-a,j-e,j-b,j-d,j-f")
                                 << QStringLiteral("j-f,j-d,j-b,j-e,j-a,j-c");
        QTest::newRow("id") << QStringLiteral("id") << QStringLiteral("j-a,j-b,j-c,j-d,j-e,j-f")
                            << QStringLiteral("j-f,j-e,j-d,j-c,j-b,j-a");
        // Statuses in their lifecycle order QUEUED, RUNNING, CRASHED, PRUNED, DONE; ties by creation.
        QTest::newRow("status") << QStringLiteral("status") << QStringLiteral("j-c,j-e,j-b,j-d,j-a,j-f")
                                << QStringLiteral("j-f,j-a,j-d,j-b,j-e,j-c");
        // Modified after creation in the order e, b, c.
        QTest::newRow("modifiedAt") << QStringLiteral("modifiedAt")
                                    << QStringLiteral("j-a,j-d,j-f,j-e,j-b,j-c")
                                    << QStringLiteral("j-c,j-b,j-e,j-f,j-d,j-a");
        // Numbers of both kinds; the job without the value comes last either way.
        QTest::newRow("hyperparameter")
            << QStringLiteral("hyperparameters.lr") << QStringLiteral("j-d,j-a,j-f,j-c,j-e,j-b")
            << QStringLiteral("j-e,j-c,j-f,j-a,j-d,j-b");
        // A curve sorts by its last value (a NaN earlier in a curve does not matter).
        QTest::newRow("list-valued result")
            << QStringLiteral("results.loss") << QStringLiteral("j-f,j-a,j-e,j-c,j-d,j-b")
            << QStringLiteral("j-d,j-c,j-e,j-a,j-f,j-b");
        // Strings; jobs without the value come last, among themselves in the listing's direction.
        QTest::newRow("string hyperparameter")
            << QStringLiteral("hyperparameters.act") << QStringLiteral("j-e,j-c,j-a,j-b,j-d,j-f")
            << QStringLiteral("j-a,j-c,j-e,j-f,j-d,j-b");
    }

    void sorting()
    {
        QFETCH(QString, sort);
        QFETCH(QString, ascending);
        QFETCH(QString, descending);
        createExperiment(QStringLiteral("exp"));
        struct Spec
        {
            const char *id, *status;
            QByteArray hp, results;
        };
        const Spec specs[] = {
            {"j-c", "QUEUED", R"({"lr": 0.5, "act": "relu"})", R"({"loss": [0.9, 0.3]})"},
            {"j-a", "DONE", R"({"lr": 0.1, "act": "tanh"})", R"({"loss": [0.8, 0.6, 0.1], "acc": NaN})"},
            {"j-e", "RUNNING", R"({"lr": 1, "act": "elu"})", R"({"loss": 0.2})"},
            {"j-b", "CRASHED", R"({})", R"({})"},
            {"j-d", "PRUNED", R"({"lr": 0.01})", R"({"loss": [0.5]})"},
            {"j-f", "DONE", R"({"lr": 0.3})", R"({"loss": [NaN, 0.05], "other": Infinity})"},
        };
        for (const Spec &s : specs) {
            QCOMPARE(m_http
                         ->put(jobPath(QStringLiteral("exp"), QLatin1String(s.id)),
                               jobBody(s.status, s.hp, s.results), {{"If-None-Match", "*"}})
                         .status,
                     201);
        }
        for (const char *id : {"j-e", "j-b", "j-c"}) {
            for (const Spec &s : specs) {
                if (qstrcmp(s.id, id) == 0)
                    QCOMPARE(m_http
                                 ->put(jobPath(QStringLiteral("exp"), QLatin1String(id)),
                                       jobBody(s.status, s.hp, s.results))
                                 .status,
                             200);
            }
        }
        for (const int limit : {2, 4, 100}) {
            for (const bool desc : {false, true}) {
                QString params = QStringLiteral("limit=%1").arg(limit);
                if (!sort.isEmpty())
                    params += QStringLiteral("&sort=") + formEncode(sort);
                if (desc)
                    params += QStringLiteral("&order=desc");
                QList<QCborMap> items;
                walkJobs(QStringLiteral("exp"), params, &items);
                if (QTest::currentTestFailed())
                    return;
                QVERIFY2(ids(items) == (desc ? descending : ascending),
                         qPrintable(params + QStringLiteral(": ") + ids(items)));
            }
        }
    }

    void modifiedSince()
    {
        createExperiment(QStringLiteral("exp"));
        const QCborMap a = postJob(QStringLiteral("exp"));
        const QCborMap b = postJob(QStringLiteral("exp"));
        const QCborMap c = postJob(QStringLiteral("exp"));
        const double tb = json::toDouble(field(b, "modifiedAt"));
        QVERIFY(tb > json::toDouble(field(a, "modifiedAt")));
        QList<QCborMap> items;
        qint64 total = -1;
        walkJobs(QStringLiteral("exp"), QStringLiteral("modifiedSince=") + json::formatDouble(tb), &items);
        QCOMPARE(ids(items), text(b, "id") + QLatin1Char(',') + text(c, "id"));

        // Changing a makes it the only one changed since then.
        const QCborMap a2 = putJob(QStringLiteral("exp"), text(a, "id"), jobBody("RUNNING"));
        const double ta = json::toDouble(field(a2, "modifiedAt"));
        QVERIFY(ta > json::toDouble(field(c, "modifiedAt")));
        QCOMPARE(json::toDouble(field(a2, "createdAt")), json::toDouble(field(a, "createdAt")));
        items.clear();
        walk(jobsPath(QStringLiteral("exp")), QStringLiteral("modifiedSince=") + json::formatDouble(ta),
             &items, nullptr, &total);
        QCOMPARE(ids(items), text(a, "id"));
        QCOMPARE(total, 1);
        // Later than everything: nothing.
        items.clear();
        walk(jobsPath(QStringLiteral("exp")),
             QStringLiteral("modifiedSince=") + json::formatDouble(ta + 0.001), &items, nullptr, &total);
        QVERIFY(items.isEmpty());
        QCOMPARE(total, 0);
        // Combined with a status filter.
        items.clear();
        walkJobs(QStringLiteral("exp"),
                 QStringLiteral("status=QUEUED&modifiedSince=") + json::formatDouble(tb), &items);
        QCOMPARE(ids(items), text(b, "id") + QLatin1Char(',') + text(c, "id"));
    }

    void idContains()
    {
        createExperiment(QStringLiteral("exp"));
        for (const char *id : {"alpha-1", "beta", "xalphax", "a_b", "axb", "50%", "5005", "al"})
            QCOMPARE(m_http
                         ->put(jobPath(QStringLiteral("exp"), QLatin1String(id)), jobBody("QUEUED"),
                               {{"If-None-Match", "*"}})
                         .status,
                     201);
        auto query = [&](const QString &needle) {
            QList<QCborMap> items;
            walkJobs(QStringLiteral("exp"), QStringLiteral("limit=1&idContains=") + formEncode(needle),
                     &items);
            return ids(items);
        };
        QCOMPARE(query(QStringLiteral("alpha")), QStringLiteral("alpha-1,xalphax"));
        // Wildcards of LIKE are plain characters.
        QCOMPARE(query(QStringLiteral("a_b")), QStringLiteral("a_b"));
        QCOMPARE(query(QStringLiteral("%")), QStringLiteral("50%"));
        QCOMPARE(query(QStringLiteral("nothing")), QString());
        const Reply r = m_http->get(jobsPath(QStringLiteral("exp")) + QStringLiteral("?idContains=al"));
        QCOMPARE(r.header("X-Total-Count"), QByteArray("3"));
    }

    void jobCounts()
    {
        createExperiment(QStringLiteral("exp"));
        createExperiment(QStringLiteral("empty"));
        QHash<QString, QString> idOf;
        const char *statuses[] = {"QUEUED", "QUEUED", "RUNNING", "PRUNED", "DONE", "DONE", "DONE"};
        QStringList all;
        for (const char *s : statuses)
            all << text(postJob(QStringLiteral("exp"), jobBody(s)), "id");
        auto counts = [&](const QString &name) {
            return sub(obj(m_http->get(expPath(name))), "jobCounts");
        };
        auto expect = [](qint64 q, qint64 r, qint64 c, qint64 p, qint64 d) {
            return QCborMap{{QStringLiteral("QUEUED"), q},
                            {QStringLiteral("RUNNING"), r},
                            {QStringLiteral("CRASHED"), c},
                            {QStringLiteral("PRUNED"), p},
                            {QStringLiteral("DONE"), d}};
        };
        QCOMPARE(counts(QStringLiteral("exp")), expect(2, 1, 0, 1, 3));
        QCOMPARE(counts(QStringLiteral("empty")), expect(0, 0, 0, 0, 0));

        // Follows changes, deletions and creations by PUT.
        putJob(QStringLiteral("exp"), all[0], jobBody("RUNNING"));
        putJob(QStringLiteral("exp"), all[2], jobBody("CRASHED"));
        QCOMPARE(m_http->del(jobPath(QStringLiteral("exp"), all[4])).status, 204);
        putJob(QStringLiteral("exp"), QStringLiteral("new"), jobBody("PRUNED"), {{"If-None-Match", "*"}});
        putJob(QStringLiteral("exp"), all[5], jobBody("DONE"));
        QCOMPARE(counts(QStringLiteral("exp")), expect(1, 1, 1, 2, 2));

        // The same counts in the listing.
        QList<QCborMap> experiments;
        walk(QStringLiteral("experiments/"), QStringLiteral("limit=1"), &experiments);
        QCOMPARE(experiments.size(), 2);
        QCOMPARE(sub(experiments[0], "jobCounts"), expect(1, 1, 1, 2, 2));
        QCOMPARE(sub(experiments[1], "jobCounts"), expect(0, 0, 0, 0, 0));
    }

    // ---- restarts and the binary ---------------------------------------------------------------

    void restartKeepsBearersAndData()
    {
        createExperiment(QStringLiteral("exp"));
        const Reply posted =
            m_http->post(jobsPath(QStringLiteral("exp")), jobBody("QUEUED", R"({"f": 1.0})"));
        const QString id = text(obj(posted), "id");
        const QByteArray bearer = m_http->bearer;

        QString error;
        QVERIFY2(m_server->restart(&error), qPrintable(error));
        HttpTestClient after(m_server->root());
        after.bearer = bearer;
        Reply r = after.get(jobPath(QStringLiteral("exp"), id));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, posted.body);
        QCOMPARE(r.header("ETag"), posted.header("ETag"));
        r = after.put(jobPath(QStringLiteral("exp"), id), jobBody("RUNNING", R"({"f": 1.0})"),
                      {{"If-Match", posted.header("ETag")}});
        QCOMPARE(r.status, 200);
        QVERIFY(after.login(m_config));
    }

    void binaryUserAddAndSigterm()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        // The backend under test: a fresh database on PostgreSQL.
        std::unique_ptr<PostgresDatabase> pg;
        if (testingPostgres()) {
            pg = std::make_unique<PostgresDatabase>();
            QVERIFY2(pg->ok(), qPrintable(pg->error()));
        }
        const QString db =
            pg ? pg->url() : QStringLiteral("sqlite:") + dir.filePath(QStringLiteral("s.sqlite3"));
        const quint16 port = freePort();
        const QString root = QStringLiteral("http://127.0.0.1:%1/").arg(port);

        QProcess add;
        add.start(ServerProcess::binary(),
                  {QStringLiteral("--database"), db, QStringLiteral("user"), QStringLiteral("add"),
                   QStringLiteral("worker@example.com"), QStringLiteral("--root"), root});
        QVERIFY(add.waitForFinished(30000));
        QCOMPARE(add.exitStatus(), QProcess::NormalExit);
        QCOMPARE(add.exitCode(), 0);
        const QByteArray out = add.readAllStandardOutput();
        QString error;
        const auto config = ClientConfig::fromJson(out, &error);
        QVERIFY2(config, qPrintable(error + QStringLiteral(": ") + QString::fromUtf8(out)));
        QCOMPARE(config->root, root);
        QCOMPARE(config->email, QStringLiteral("worker@example.com"));
        QCOMPARE(config->tokenType, ClientConfig::TokenType::ApiToken);
        QVERIFY(config->token.size() >= 32);
        const QCborMap m = json::parse(out).toMap();
        QCOMPARE(m.size(), 4);
        QCOMPARE(text(m, "token_type"), QStringLiteral("api_token"));

        // Again: a clear failure, nothing on stdout.
        QProcess again;
        again.start(ServerProcess::binary(), {QStringLiteral("--database"), db, QStringLiteral("user"),
                                              QStringLiteral("add"), QStringLiteral("worker@example.com")});
        QVERIFY(again.waitForFinished(30000));
        QVERIFY(again.exitCode() != 0);
        QVERIFY(again.readAllStandardOutput().isEmpty());
        const QByteArray err = again.readAllStandardError();
        QVERIFY2(err.contains("worker@example.com") && err.contains("exists"), err.constData());

        // With a password file.
        const QString passwordFile = dir.filePath(QStringLiteral("pw"));
        {
            QFile f(passwordFile);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("s3cret pass\n");
        }
        QProcess withPassword;
        withPassword.start(ServerProcess::binary(),
                           {QStringLiteral("--database"), db, QStringLiteral("user"), QStringLiteral("add"),
                            QStringLiteral("human@example.com"), QStringLiteral("--password-file"),
                            passwordFile});
        QVERIFY(waitForExit(withPassword)); // 600,000 PBKDF2 rounds: slow under sanitizers
        QCOMPARE(withPassword.exitCode(), 0);
        // Hashed with the production count (TestServer uses a cheaper one).
        QVERIFY(dumpTables(db).contains(QStringLiteral("pbkdf2-sha256$600000$")));

        // The real server: the printed token works; SIGTERM stops it with 0; data survives.
        ServerProcess server(db);
        QVERIFY2(server.start(port, &error), qPrintable(error));
        HttpTestClient http(root);
        QVERIFY(http.login(*config));
        QCOMPARE(http.put(expPath(QStringLiteral("kept")), ManualBody, {{"If-None-Match", "*"}}).status, 201);
        const Reply job = http.post(jobsPath(QStringLiteral("kept")),
                                    jobBody("DONE", R"({"lr": 0.25})", R"({"acc": NaN})"));
        QCOMPARE(job.status, 201);
        HttpTestClient human(root);
        ClientConfig humanConfig{root, QStringLiteral("human@example.com"), QStringLiteral("s3cret pass"),
                                 ClientConfig::TokenType::Password};
        QVERIFY(human.login(humanConfig));
        const QByteArray bearer = http.bearer;

        QVERIFY2(server.stop(), server.output().constData());
        QCOMPARE(server.process().exitCode(), 0);
        QVERIFY2(server.output().contains("stopping"), server.output().constData());

        ServerProcess second(db);
        QVERIFY2(second.start(port, &error), qPrintable(error));
        HttpTestClient later(root);
        later.bearer = bearer; // issued by the first process
        const Reply r = later.get(jobPath(QStringLiteral("kept"), text(obj(job), "id")));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, job.body);
        QCOMPARE(r.header("ETag"), job.header("ETag"));
        QVERIFY(second.stop());
    }

    // A root with a path (behind a proxy that keeps it): served under that prefix.
    void rootWithPathPrefix()
    {
        server::ServerOptions options;
        options.publicUrl = QStringLiteral("https://schedy.example.com/api/");
        TestServer prefixed(options);
        QVERIFY(prefixed.start());
        const ClientConfig config = prefixed.addUser(QStringLiteral("p@example.com"));
        QCOMPARE(config.root, QStringLiteral("https://schedy.example.com/api/"));
        HttpTestClient http(QStringLiteral("http://127.0.0.1:%1/api/").arg(prefixed.port()));
        QVERIFY(http.login(config));
        QCOMPARE(http.put(expPath(QStringLiteral("api")), ManualBody, {{"If-None-Match", "*"}}).status, 201);
        Reply r = http.post(jobsPath(QStringLiteral("api")), "{}");
        QCOMPARE(r.status, 201);
        QCOMPARE(text(obj(r), "experiment"), QStringLiteral("api"));
        QCOMPARE(http.get(QStringLiteral("experiments/")).header("X-Total-Count"), QByteArray("1"));
        r = http.post(QStringLiteral("resettoken/"));
        QCOMPARE(r.status, 200);
        QCOMPARE(text(obj(r), "root"), QStringLiteral("https://schedy.example.com/api/"));
    }

    // ---- HTTP ---------------------------------------------------------------------------------

    void wrongMethod_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("allow");
        QTest::newRow("POST experiments/")
            << QByteArray("POST") << QStringLiteral("experiments/") << QByteArray("GET");
        QTest::newRow("DELETE experiments/")
            << QByteArray("DELETE") << QStringLiteral("experiments/") << QByteArray("GET");
        QTest::newRow("POST experiment")
            << QByteArray("POST") << QStringLiteral("experiments/exp/") << QByteArray("GET, PUT, DELETE");
        QTest::newRow("PATCH experiment")
            << QByteArray("PATCH") << QStringLiteral("experiments/exp/") << QByteArray("GET, PUT, DELETE");
        QTest::newRow("PUT jobs/") << QByteArray("PUT") << QStringLiteral("experiments/exp/jobs/")
                                   << QByteArray("GET, POST");
        QTest::newRow("DELETE jobs/")
            << QByteArray("DELETE") << QStringLiteral("experiments/exp/jobs/") << QByteArray("GET, POST");
        QTest::newRow("POST job") << QByteArray("POST") << QStringLiteral("experiments/exp/jobs/x/")
                                  << QByteArray("GET, PUT, DELETE");
        QTest::newRow("POST nextjob/")
            << QByteArray("POST") << QStringLiteral("experiments/exp/nextjob/") << QByteArray("GET");
        QTest::newRow("GET token/") << QByteArray("GET") << QStringLiteral("token/") << QByteArray("POST");
        QTest::newRow("PUT passauth/")
            << QByteArray("PUT") << QStringLiteral("passauth/") << QByteArray("POST");
        QTest::newRow("GET resettoken/")
            << QByteArray("GET") << QStringLiteral("resettoken/") << QByteArray("POST");
    }

    void wrongMethod()
    {
        QFETCH(QByteArray, method);
        QFETCH(QString, path);
        QFETCH(QByteArray, allow);
        createExperiment(QStringLiteral("exp"));
        const Reply r = m_http->request(method, path, "{}");
        QCOMPARE(r.status, 405);
        QCOMPARE(r.header("Allow"), allow);
        QVERIFY2(r.errorText().contains(QLatin1String(method)), r.body.constData());
        // Also without a bearer: the method is wrong whoever asks.
        HttpTestClient anon(m_server->root());
        QCOMPARE(anon.request(method, path, "{}").status, 405);
        QCOMPARE(m_http->get(QStringLiteral("experiments/")).header("X-Total-Count"), QByteArray("1"));
    }

    void unknownPath_data()
    {
        QTest::addColumn<QString>("path");
        QTest::newRow("root") << QString();
        QTest::newRow("unknown") << QStringLiteral("nothing/");
        QTest::newRow("experiment child") << QStringLiteral("experiments/exp/results/");
        QTest::newRow("too deep") << QStringLiteral("experiments/exp/jobs/x/more/");
        QTest::newRow("too deep nextjob") << QStringLiteral("experiments/exp/nextjob/x/");
        QTest::newRow("token child") << QStringLiteral("token/x/");
        QTest::newRow("jobs without experiment") << QStringLiteral("jobs/");
    }

    void unknownPath()
    {
        QFETCH(QString, path);
        createExperiment(QStringLiteral("exp"));
        Reply r = m_http->get(path);
        QCOMPARE(r.status, 404);
        QVERIFY2(r.errorText().contains(QLatin1String("unknown path")), r.body.constData());
        QCOMPARE(r.header("Content-Type"), QByteArray("application/json; charset=utf-8"));
        HttpTestClient anon(m_server->root());
        QCOMPARE(anon.get(path).status, 404);
    }

    void connectionClose()
    {
        RawConnection c(m_server->port());
        QVERIFY(c.waitConnected());
        c.send(rawRequest("GET", "/experiments/", m_http->bearer, "Connection: close\r\n"));
        RawResponse r;
        QVERIFY(c.readResponse(&r));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("connection").toLower(), QByteArray("close"));
        QCOMPARE(r.body, QByteArray(R"({"items":[],"next":null})"));
        QVERIFY2(c.waitClosed(), "the server kept the connection open");
        QVERIFY(c.unread().isEmpty());
    }

    void keepAliveSequential()
    {
        RawConnection c(m_server->port());
        QVERIFY(c.waitConnected());
        // Several requests, one after the other, on one connection, a 204 among them.
        c.send(rawRequest("PUT", "/experiments/k%2Fa/", m_http->bearer, "If-None-Match: *\r\n", ManualBody));
        RawResponse r;
        QVERIFY(c.readResponse(&r));
        QCOMPARE(r.status, 201);
        c.send(rawRequest("GET", "/experiments/k%2Fa/nextjob/", m_http->bearer));
        QVERIFY(c.readResponse(&r));
        QCOMPARE(r.status, 204);
        c.send(rawRequest("POST", "/experiments/k%2Fa/jobs/", m_http->bearer, {}, R"({"status": "QUEUED"})"));
        QVERIFY(c.readResponse(&r));
        QCOMPARE(r.status, 201);
        QVERIFY(!r.headers.value("etag").isEmpty());
        c.send(rawRequest("GET", "/experiments/k%2Fa/jobs/", m_http->bearer));
        QVERIFY(c.readResponse(&r));
        QCOMPARE(r.status, 200);
        QCOMPARE(json::parse(r.body).toMap().value(QStringLiteral("items")).toArray().size(), 1);
        c.send(rawRequest("GET", "/nothing/", {}));
        QVERIFY(c.readResponse(&r));
        QCOMPARE(r.status, 404);
        c.send(rawRequest("DELETE", "/experiments/k%2Fa/", m_http->bearer));
        QVERIFY(c.readResponse(&r));
        QCOMPARE(r.status, 204);
        QCOMPARE(c.socket().state(), QAbstractSocket::ConnectedState);
    }

    void keepAlivePipelined()
    {
        RawConnection c(m_server->port());
        QVERIFY(c.waitConnected());
        // Sent together before reading anything: answered in order.
        QByteArray batch;
        batch += rawRequest("PUT", "/experiments/p/", m_http->bearer, "If-None-Match: *\r\n", ManualBody);
        batch += rawRequest("POST", "/experiments/p/jobs/", m_http->bearer, {}, R"({"status": "DONE"})");
        batch += rawRequest("POST", "/experiments/p/jobs/", m_http->bearer, {}, R"({"status": "QUEUED"})");
        batch += rawRequest("GET", "/experiments/p/nextjob/", m_http->bearer);
        batch += rawRequest("GET", "/experiments/p/jobs/?status=DONE", m_http->bearer);
        batch += rawRequest("GET", "/experiments/p/", m_http->bearer, "Connection: close\r\n");
        c.send(batch);
        const int expected[] = {201, 201, 201, 200, 200, 200};
        for (const int status : expected) {
            RawResponse r;
            QVERIFY(c.readResponse(&r));
            QCOMPARE(r.status, status);
        }
        QVERIFY(c.waitClosed());
        QList<QCborMap> jobs;
        walkJobs(QStringLiteral("p"), {}, &jobs);
        QCOMPARE(jobs.size(), 2);
    }
};

QTEST_GUILESS_MAIN(TestApi)
#include "tst_api.moc"
