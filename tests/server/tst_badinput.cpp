// Bad requests, one per row: each gets its documented status, an error that
// names the problem, and leaves the database exactly as it was (compared
// through a separate read-only connection to the SQLite file).
#include "TestServer.h"

#include "Json.h"

#include <QDateTime>
#include <QEventLoop>
#include <QTcpSocket>
#include <QTimer>
#include <QtTest>

#include <functional>

using namespace schedy;
using namespace schedy::test;

namespace {

const QByteArray ManualBody = R"({"status": "RUNNING", "scheduler": {"Manual": null}})";

QByteArray experimentWith(const QByteArray &scheduler)
{
    return R"({"status": "RUNNING", "scheduler": )" + scheduler + '}';
}

QByteArray randomSearch(const QByteArray &distribution)
{
    return experimentWith(R"({"RandomSearch": {"lr": )" + distribution + "}}");
}

// A valid PBT scheduler with one setting set to `value` (JSON text), or removed when `value` is empty.
QByteArray pbt(const char *key = nullptr, const QByteArray &value = {})
{
    QCborMap params{{QStringLiteral("objective"), QStringLiteral("max")},
                    {QStringLiteral("qualityResultName"), QStringLiteral("acc")},
                    {QStringLiteral("exploit"), QCborMap{{QStringLiteral("truncate"), 0.2}}}};
    if (key && value.isEmpty())
        params.remove(QLatin1String(key));
    else if (key)
        params.insert(QLatin1String(key), json::parse(value));
    return experimentWith(R"({"PBT": )" + json::write(params) + '}');
}

// Valid JSON of `size` bytes or more: a document with a long string inside.
QByteArray blobJob(int size)
{
    return json::write(QCborMap{
        {QStringLiteral("status"), QStringLiteral("QUEUED")},
        {QStringLiteral("results"), QCborMap{{QStringLiteral("blob"), QString(size, QLatin1Char('y'))}}}});
}

// `json` followed by whitespace up to `size` bytes.
QByteArray padded(const QByteArray &json, int size)
{
    return json + QByteArray(size - json.size(), ' ');
}

struct RawResponse
{
    int status = 0;
    QHash<QByteArray, QByteArray> headers;
    QByteArray body;
    bool closed = false; // the server closed the connection after the response
};

// Sends bytes on a fresh connection and reads one response, running the event
// loop (the server lives in this thread) until the socket has what we need.
// With `waitForClose`, also waits until the server closes the connection.
RawResponse rawExchange(quint16 port, const QByteArray &request, bool waitForClose = true)
{
    QTcpSocket socket;
    QByteArray buffer;
    RawResponse out;
    bool haveResponse = false;
    QEventLoop loop;
    auto parse = [&] {
        buffer += socket.readAll();
        if (haveResponse)
            return;
        const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
        if (headEnd < 0)
            return;
        const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
        RawResponse r;
        r.status = lines.value(0).split(' ').value(1).toInt();
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines[i].indexOf(':');
            if (colon > 0)
                r.headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
        }
        const qint64 length = r.headers.value("content-length").toLongLong();
        if (buffer.size() < headEnd + 4 + length)
            return;
        r.body = buffer.mid(headEnd + 4, length);
        out = r;
        haveResponse = true;
        if (!waitForClose)
            loop.quit();
    };
    QTimer timeout;
    timeout.setSingleShot(true);
    QObject::connect(&timeout, &QTimer::timeout, &loop, &QEventLoop::quit);
    QObject::connect(&socket, &QAbstractSocket::connected, &loop, [&] { socket.write(request); });
    QObject::connect(&socket, &QIODevice::readyRead, &loop, parse);
    QObject::connect(&socket, &QAbstractSocket::disconnected, &loop, [&] {
        parse();
        loop.quit();
    });
    QObject::connect(&socket, &QAbstractSocket::errorOccurred, &loop, [&] {
        parse();
        if (socket.state() == QAbstractSocket::UnconnectedState)
            loop.quit();
    });
    socket.connectToHost(QHostAddress::LocalHost, port);
    timeout.start(20000);
    loop.exec();
    parse();
    out.closed = socket.state() == QAbstractSocket::UnconnectedState;
    return out;
}

} // namespace

class TestBadInput : public QObject
{
    Q_OBJECT

private:
    static constexpr qint64 MaxBody = 4096;
    std::unique_ptr<TestServer> m_server;
    std::unique_ptr<HttpTestClient> m_http;
    ClientConfig m_me;
    ClientConfig m_other;
    QHash<QString, QByteArray> m_bearers; // by kind, see authorization()
    QByteArray m_etag1;                   // current ETag of job1
    QByteArray m_staleEtag;               // a former ETag of job1
    QString m_cursor;                     // a valid job-listing cursor (default sort)
    // Every row of every table, as text, in a stable order (SQLite or PostgreSQL).
    QString dump() { return m_server->dumpTables(); }

    QByteArray authorization(const QString &kind) const
    {
        if (kind == QLatin1String("none"))
            return {};
        if (kind == QLatin1String("basic"))
            return "Basic bWVAZXhhbXBsZS5jb206cHc=";
        return "Bearer " + m_bearers.value(kind);
    }

    // Expands placeholders in a row's path, headers and body.
    QByteArray expand(QByteArray s) const
    {
        s.replace("{etag}", m_etag1);
        s.replace("{stale}", m_staleEtag);
        s.replace("{cursor}", m_cursor.toLatin1());
        s.replace("{long201}", QByteArray(201, 'x'));
        s.replace("{big}", QByteArray(100 * 1024, ' '));
        return s;
    }

private slots:
    void initTestCase()
    {
        server::ServerOptions options;
        options.limits.maxBodyBytes = MaxBody;
        m_server = std::make_unique<TestServer>(options);
        QString error;
        QVERIFY2(m_server->start(&error), qPrintable(error));
        m_me = m_server->addUser(QStringLiteral("me@example.com"), QStringLiteral("my password"));
        m_other = m_server->addUser(QStringLiteral("other@example.com"));
        m_http = std::make_unique<HttpTestClient>(m_server->root());
        QVERIFY(m_http->login(m_me));
        m_bearers.insert(QStringLiteral("me"), m_http->bearer);

        // My data: an experiment of each scheduler kind, jobs with known ids.
        QCOMPARE(m_http->put(QStringLiteral("experiments/exp/"), ManualBody, {{"If-None-Match", "*"}}).status,
                 201);
        QCOMPARE(m_http
                     ->put(QStringLiteral("experiments/rs/"),
                           randomSearch(R"({"uniform": {"low": 0.0, "high": 1.0}})"),
                           {{"If-None-Match", "*"}})
                     .status,
                 201);
        QCOMPARE(m_http->put(QStringLiteral("experiments/pbt/"), pbt(), {{"If-None-Match", "*"}}).status,
                 201);
        Reply r =
            m_http->put(QStringLiteral("experiments/exp/jobs/job1/"),
                        R"({"status": "QUEUED", "hyperparameters": {"lr": 0.1}})", {{"If-None-Match", "*"}});
        QCOMPARE(r.status, 201);
        m_staleEtag = r.header("ETag");
        r = m_http->put(
            QStringLiteral("experiments/exp/jobs/job1/"),
            R"({"status": "RUNNING", "hyperparameters": {"lr": 0.1}, "results": {"loss": [1.0, NaN]}})",
            {{"If-Match", m_staleEtag}});
        QCOMPARE(r.status, 200);
        m_etag1 = r.header("ETag");
        for (int i = 0; i < 3; ++i)
            QCOMPARE(m_http->post(QStringLiteral("experiments/exp/jobs/"), R"({"status": "DONE"})").status,
                     201);
        r = m_http->get(QStringLiteral("experiments/exp/jobs/?limit=2"));
        m_cursor = r.json.toMap().value(QStringLiteral("next")).toString();
        QVERIFY(!m_cursor.isEmpty());

        // Another user's experiment.
        HttpTestClient other(m_server->root());
        QVERIFY(other.login(m_other));
        m_bearers.insert(QStringLiteral("other"), other.bearer);
        QCOMPARE(
            other.put(QStringLiteral("experiments/theirs/"), ManualBody, {{"If-None-Match", "*"}}).status,
            201);
        QCOMPARE(other.put(QStringLiteral("experiments/theirs/jobs/tj/"), R"({"status": "QUEUED"})").status,
                 201);

        // Bearers that must fail: malformed, tampered, signed by another secret, expired.
        m_bearers.insert(QStringLiteral("garbage"), "not-a-token");
        const QList<QByteArray> parts = m_http->bearer.split('.');
        QCOMPARE(parts.size(), 3);
        const auto b64 = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
        QByteArray payload = QByteArray::fromBase64(parts[1], QByteArray::Base64UrlEncoding);
        payload.replace("\"sub\":\"1\"", "\"sub\":\"2\"");
        m_bearers.insert(QStringLiteral("tampered"), parts[0] + '.' + payload.toBase64(b64) + '.' + parts[2]);
        server::TokenSigner foreign("another secret");
        m_bearers.insert(QStringLiteral("foreign"),
                         foreign.issue(1, m_me.email, QDateTime::currentSecsSinceEpoch(), nullptr));
        server::Api *api = m_server->server()->api();
        api->setClock([] { return QDateTime::currentSecsSinceEpoch() - 3 * 3600; });
        HttpTestClient past(m_server->root());
        QVERIFY(past.login(m_me));
        api->setClock([] { return QDateTime::currentSecsSinceEpoch(); });
        m_bearers.insert(QStringLiteral("expired"), past.bearer);

        const QString before = dump();
        QVERIFY2(before.contains(QLatin1String("job1")) && before.contains(QLatin1String("theirs")),
                 qPrintable(before));
    }

    void cleanupTestCase()
    {
        m_http.reset();
        m_server.reset();
    }

    void badRequest_data()
    {
        QTest::addColumn<QByteArray>("method");
        QTest::addColumn<QByteArray>("path");    // raw request target after the root
        QTest::addColumn<QByteArray>("headers"); // "Name: value" lines
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("auth"); // me, none, garbage, tampered, foreign, expired, basic, other
        QTest::addColumn<bool>("raw");     // over a hand-written connection instead of QNetworkAccessManager
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("message"); // a substring of the error (case-insensitive); empty: no body

        const QString me = QStringLiteral("me");
        auto row = [&](const char *name, const QByteArray &method, const QByteArray &path,
                       const QByteArray &body, int status, const char *message,
                       const QByteArray &headers = {}, const QString &auth = QStringLiteral("me"),
                       bool raw = false) {
            QTest::newRow(name) << method << path << headers << body << auth << raw << status
                                << QString::fromUtf8(message);
        };
        const QByteArray newExp = "experiments/new/";
        const QByteArray inm = "If-None-Match: *";

        // Malformed JSON.
        row("json: truncated", "PUT", newExp, R"({"status": "RUNNING", "scheduler": {"Manual": null})", 400,
            "malformed JSON", inm);
        row("json: trailing comma", "PUT", newExp, R"({"status": "RUNNING", "scheduler": {"Manual": null},})",
            400, "malformed JSON", inm);
        row("json: single quotes", "PUT", newExp, R"({'status': 'RUNNING', 'scheduler': {'Manual': null}})",
            400, "malformed JSON", inm);
        row("json: empty body", "PUT", newExp, "", 400, "malformed JSON", inm);
        row("json: text after the value", "PUT", newExp, ManualBody + " {}", 400, "malformed JSON", inm);
        row("json: unterminated string", "PUT", newExp, "{\"status\": \"RUNNING", 400, "malformed JSON", inm);
        row("json: bad escape", "PUT", newExp, R"({"status": "RUN\xNING", "scheduler": {"Manual": null}})",
            400, "malformed JSON", inm);
        row("json: bad \\u escape", "PUT", newExp, R"({"status": "\u12G4", "scheduler": {"Manual": null}})",
            400, "malformed JSON", inm);
        row("json: raw newline in a string", "PUT", newExp,
            "{\"status\": \"RUN\nNING\", \"scheduler\": {\"Manual\": null}}", 400, "malformed JSON", inm);
        row("json: bare word", "PUT", newExp, R"({"status": RUNNING, "scheduler": {"Manual": null}})", 400,
            "malformed JSON", inm);
        row("json: number with two points", "POST", "experiments/exp/jobs/",
            R"({"hyperparameters": {"lr": 0.1.2}})", 400, "malformed JSON");
        row("json: leading zero", "POST", "experiments/exp/jobs/", R"({"hyperparameters": {"n": 012}})", 400,
            "malformed JSON");
        row("json: nan in lower case", "PUT", "experiments/exp/jobs/job1/",
            R"({"status": "DONE", "results": {"loss": nan}})", 400, "malformed JSON");
        row("json: malformed login", "POST", "token/", R"({"email": "me@example.com", "token": )", 400,
            "malformed JSON", {}, QStringLiteral("none"));
        QByteArray deep;
        for (int i = 0; i < 300; ++i)
            deep += '[';
        row("json: nested too deeply", "POST", "experiments/exp/jobs/",
            R"({"hyperparameters": {"x": )" + deep + "}}", 400, "nested too deeply");

        // Wrong types and shapes.
        row("experiment: an array", "PUT", newExp, "[]", 400, "experiment object", inm);
        row("experiment: null", "PUT", newExp, "null", 400, "experiment object", inm);
        row("experiment: status a number", "PUT", newExp, R"({"status": 1, "scheduler": {"Manual": null}})",
            400, "status", inm);
        row("experiment: unknown status", "PUT", newExp,
            R"({"status": "PAUSED", "scheduler": {"Manual": null}})", 400, "status", inm);
        row("experiment: status in lower case", "PUT", newExp,
            R"({"status": "running", "scheduler": {"Manual": null}})", 400, "status", inm);
        row("experiment: no scheduler", "PUT", newExp, R"({"status": "RUNNING"})", 400,
            "scheduler: is required", inm);
        row("experiment: scheduler a string", "PUT", newExp, experimentWith(R"("Manual")"), 400, "scheduler",
            inm);
        row("experiment: two schedulers", "PUT", newExp,
            experimentWith(R"({"Manual": null, "RandomSearch": {}})"), 400, "exactly one key", inm);
        row("experiment: no scheduler key", "PUT", newExp, experimentWith("{}"), 400, "exactly one key", inm);
        row("experiment: Manual with arguments", "PUT", newExp, experimentWith(R"({"Manual": 5})"), 400,
            "scheduler.Manual", inm);
        row("experiment: name differs from the URL", "PUT", "experiments/exp/",
            R"({"name": "other", "status": "DONE", "scheduler": {"Manual": null}})", 400, "does not match");
        row("experiment: name a number", "PUT", newExp,
            R"({"name": 5, "status": "RUNNING", "scheduler": {"Manual": null}})", 400, "name", inm);
        row("replace: invalid scheduler", "PUT", "experiments/rs/",
            randomSearch(R"({"uniform": {"low": 2.0, "high": 1.0}})"), 400, "low");

        // Unknown scheduler or distribution, invalid arguments.
        row("unknown scheduler", "PUT", newExp, experimentWith(R"({"GridSearch": {}})"), 400,
            "unknown scheduler", inm);
        row("scheduler name in lower case", "PUT", newExp, experimentWith(R"({"manual": null})"), 400,
            "unknown scheduler", inm);
        row("RandomSearch: a list", "PUT", newExp, experimentWith(R"({"RandomSearch": []})"), 400,
            "RandomSearch", inm);
        row("unknown distribution", "PUT", newExp, randomSearch(R"({"gaussian": {"mean": 0.0, "std": 1.0}})"),
            400, "unknown distribution", inm);
        row("distribution with two keys", "PUT", newExp,
            randomSearch(R"({"uniform": {"low": 0.0, "high": 1.0}, "const": 1})"), 400, "exactly one key",
            inm);
        row("distribution a number", "PUT", newExp, randomSearch("0.5"), 400, "scheduler.RandomSearch.lr",
            inm);
        row("uniform: low > high", "PUT", newExp, randomSearch(R"({"uniform": {"low": 2.0, "high": 1.0}})"),
            400, "low: must be less than high", inm);
        row("uniform: low == high", "PUT", newExp, randomSearch(R"({"uniform": {"low": 1.0, "high": 1.0}})"),
            400, "must be less than high", inm);
        row("uniform: low a string", "PUT", newExp, randomSearch(R"({"uniform": {"low": "0", "high": 1.0}})"),
            400, "low: must be a number", inm);
        row("uniform: missing high", "PUT", newExp, randomSearch(R"({"uniform": {"low": 0.0}})"), 400,
            "high: is required", inm);
        row("uniform: unknown argument", "PUT", newExp,
            randomSearch(R"({"uniform": {"low": 0.0, "high": 1.0, "step": 0.1}})"), 400, "step: unknown key",
            inm);
        row("uniform: NaN bound", "PUT", newExp, randomSearch(R"({"uniform": {"low": NaN, "high": 1.0}})"),
            400, "must be finite", inm);
        row("uniform: infinite bound", "PUT", newExp,
            randomSearch(R"({"uniform": {"low": 0.0, "high": Infinity}})"), 400, "must be finite", inm);
        row("loguniform: low 0", "PUT", newExp, randomSearch(R"({"loguniform": {"low": 0.0, "high": 1.0}})"),
            400, "greater than 0", inm);
        row("normal: negative std", "PUT", newExp, randomSearch(R"({"normal": {"mean": 0.0, "std": -1.0}})"),
            400, "std", inm);
        row("choice: no values", "PUT", newExp, randomSearch(R"({"choice": {"values": []}})"), 400,
            "values: must not be empty", inm);
        row("choice: values not a list", "PUT", newExp, randomSearch(R"({"choice": {"values": 3}})"), 400,
            "values: must be a list", inm);
        row("choice: weights of the wrong length", "PUT", newExp,
            randomSearch(R"({"choice": {"values": [1, 2, 3], "weights": [1.0, 2.0]}})"), 400,
            "as many entries as values", inm);
        row("choice: negative weight", "PUT", newExp,
            randomSearch(R"({"choice": {"values": [1, 2], "weights": [1.0, -1.0]}})"), 400, "weights[1]",
            inm);
        row("choice: all weights 0", "PUT", newExp,
            randomSearch(R"({"choice": {"values": [1, 2], "weights": [0, 0.0]}})"), 400, "must not all be 0",
            inm);
        row("choice: weight a string", "PUT", newExp,
            randomSearch(R"({"choice": {"values": [1], "weights": ["1"]}})"), 400,
            "weights[0]: must be a number", inm);
        row("PBT: truncate 0", "PUT", newExp, pbt("exploit", R"({"truncate": 0})"), 400,
            "truncate: must be in (0, 0.5]", inm);
        row("PBT: truncate 0.6", "PUT", newExp, pbt("exploit", R"({"truncate": 0.6})"), 400, "(0, 0.5]", inm);
        row("PBT: unknown exploit", "PUT", newExp, pbt("exploit", R"({"resample": 0.2})"), 400,
            "unknown exploit strategy", inm);
        row("PBT: unknown objective", "PUT", newExp, pbt("objective", R"("maximize")"), 400, "objective",
            inm);
        row("PBT: no qualityResultName", "PUT", newExp, pbt("qualityResultName"), 400,
            "qualityResultName: is required", inm);
        row("PBT: no exploit", "PUT", newExp, pbt("exploit"), 400, "exploit", inm);
        row("PBT: perturb min > max", "PUT", newExp,
            pbt("explore", R"({"lr": {"perturb": {"minFactor": 1.2, "maxFactor": 0.8}}})"), 400,
            "maxFactor: must be at least minFactor", inm);
        row("PBT: perturb min 0", "PUT", newExp,
            pbt("explore", R"({"lr": {"perturb": {"minFactor": 0.0, "maxFactor": 0.8}}})"), 400,
            "minFactor: must be greater than 0", inm);
        row("PBT: unknown explore", "PUT", newExp, pbt("explore", R"({"lr": {"resample": {}}})"), 400,
            "unknown explore strategy", inm);
        row("PBT: numParallel 0", "PUT", newExp, pbt("numParallel", "0"), 400,
            "numParallel: must be at least 1", inm);
        row("PBT: numParallel 2.5", "PUT", newExp, pbt("numParallel", "2.5"), 400,
            "numParallel: must be an integer", inm);
        row("PBT: numParallel a string", "PUT", newExp, pbt("numParallel", R"("4")"), 400, "numParallel",
            inm);
        row("PBT: maxGenerations 0", "PUT", newExp, pbt("maxGenerations", "0"), 400,
            "maxGenerations: must be at least 1", inm);
        row("PBT: generations disagree", "PUT", newExp,
            pbt("maxGenerations", "3")
                .replace(R"("maxGenerations":3)", R"("maxGenerations":3,"max_generations":4)"),
            400, "max_generations", inm);
        row("PBT: bad init distribution", "PUT", newExp,
            pbt("init", R"({"lr": {"uniform": {"low": 1.0, "high": 0.0}}})"), 400, "init.lr", inm);
        row("PBT: unknown setting", "PUT", newExp, pbt("population", "4"), 400, "population: unknown key",
            inm);

        // Jobs.
        row("job: body an array", "POST", "experiments/exp/jobs/", "[]", 400, "job object");
        row("job: unknown status", "POST", "experiments/exp/jobs/", R"({"status": "FINISHED"})", 400,
            "unknown job status");
        row("job: status in lower case", "POST", "experiments/exp/jobs/", R"({"status": "queued"})", 400,
            "unknown job status");
        row("job: status a number", "POST", "experiments/exp/jobs/", R"({"status": 0})", 400, "status");
        row("job: hyperparameters a list", "POST", "experiments/exp/jobs/",
            R"({"status": "QUEUED", "hyperparameters": [1, 2]})", 400, "hyperparameters: must be an object");
        row("job: results a string", "POST", "experiments/exp/jobs/",
            R"({"status": "QUEUED", "results": "good"})", 400, "results: must be an object");
        row("job PUT: no status", "PUT", "experiments/exp/jobs/job1/", R"({"hyperparameters": {"lr": 0.1}})",
            400, "status: is required", "If-Match: {etag}");
        row("job PUT: null status", "PUT", "experiments/exp/jobs/job1/", R"({"status": null})", 400,
            "status");
        row("job PUT: unknown status", "PUT", "experiments/exp/jobs/job1/", R"({"status": "PAUSED"})", 400,
            "unknown job status", "If-Match: {etag}");
        row("job PUT: If-None-Match other than *", "PUT", "experiments/exp/jobs/job1/",
            R"({"status": "DONE"})", 400, "If-None-Match", "If-None-Match: \"x\"");
        row("job PUT: malformed JSON with a good ETag", "PUT", "experiments/exp/jobs/job1/",
            R"({"status": "DONE")", 400, "malformed JSON", "If-Match: {etag}");

        // Names and ids.
        // Sent raw: QNetworkAccessManager would resolve these dot segments itself.
        row("name: '.' encoded", "GET", "experiments/%2E/", {}, 400, "'.' or '..'", {}, me, true);
        row("name: '..' encoded", "PUT", "experiments/%2E%2E/", ManualBody, 400, "'.' or '..'", inm, me,
            true);
        row("name: '.' literal", "PUT", "experiments/./", ManualBody, 400, "'.' or '..'", inm, me, true);
        row("name: '..' literal", "PUT", "experiments/../", ManualBody, 400, "'.' or '..'", inm, me, true);
        row("name: control character", "PUT", "experiments/a%01b/", ManualBody, 400, "control characters",
            inm);
        row("name: newline", "PUT", "experiments/a%0Ab/", ManualBody, 400, "control characters", inm);
        row("name: DEL", "PUT", "experiments/a%7Fb/", ManualBody, 400, "control characters", inm);
        row("name: C1 control", "PUT", "experiments/a%C2%85b/", ManualBody, 400, "control characters", inm);
        row("name: 201 characters", "PUT", "experiments/{long201}/", ManualBody, 400, "longer than 200", inm);
        row("name: not UTF-8", "PUT", "experiments/%FF%FE/", ManualBody, 400, "UTF-8", inm);
        row("name: empty", "PUT", "experiments//", ManualBody, 400, "must not be empty", inm, me, true);
        row("job id: 201 characters", "PUT", "experiments/exp/jobs/{long201}/", R"({"status": "QUEUED"})",
            400, "job id is longer than 200", inm);
        row("job id: '..'", "PUT", "experiments/exp/jobs/%2E%2E/", R"({"status": "QUEUED"})", 400,
            "'.' or '..'", inm, me, true);
        row("job id: '.' literal", "PUT", "experiments/exp/jobs/./", R"({"status": "QUEUED"})", 400,
            "'.' or '..'", inm, me, true);
        row("job id: tab", "PUT", "experiments/exp/jobs/a%09b/", R"({"status": "QUEUED"})", 400,
            "control characters", inm);

        // Listing parameters.
        row("jobs: limit 0", "GET", "experiments/exp/jobs/?limit=0", {}, 400, "limit");
        row("jobs: limit 10001", "GET", "experiments/exp/jobs/?limit=10001", {}, 400, "limit");
        row("jobs: limit not a number", "GET", "experiments/exp/jobs/?limit=ten", {}, 400, "limit");
        row("experiments: limit 0", "GET", "experiments/?limit=0", {}, 400, "limit");
        row("experiments: limit -1", "GET", "experiments/?limit=-1", {}, 400, "limit");
        row("jobs: unknown status filter", "GET", "experiments/exp/jobs/?status=QUEUED,FINISHED", {}, 400,
            "unknown job status");
        row("jobs: unknown sort", "GET", "experiments/exp/jobs/?sort=name", {}, 400, "sort");
        row("jobs: unknown order", "GET", "experiments/exp/jobs/?order=up", {}, 400, "order");
        row("jobs: modifiedSince not a number", "GET", "experiments/exp/jobs/?modifiedSince=yesterday", {},
            400, "modifiedSince");
        row("jobs: garbage cursor", "GET", "experiments/exp/jobs/?start=garbage", {}, 400, "cursor");
        row("jobs: cursor of another sort", "GET", "experiments/exp/jobs/?sort=id&start={cursor}", {}, 400,
            "cursor");
        row("experiments: job cursor", "GET", "experiments/?start={cursor}", {}, 400, "cursor");

        // Authentication.
        row("auth: no bearer", "GET", "experiments/", {}, 401, "Authorization", {}, QStringLiteral("none"));
        row("auth: no bearer on PUT", "PUT", newExp, ManualBody, 401, "Authorization", inm,
            QStringLiteral("none"));
        row("auth: garbage bearer", "PUT", newExp, ManualBody, 401, "malformed bearer token", inm,
            QStringLiteral("garbage"));
        row("auth: tampered bearer", "POST", "experiments/exp/jobs/", "{}", 401, "invalid bearer token", {},
            QStringLiteral("tampered"));
        row("auth: bearer of another server", "DELETE", "experiments/exp/", {}, 401, "invalid bearer token",
            {}, QStringLiteral("foreign"));
        row("auth: expired bearer", "PUT", "experiments/exp/jobs/job1/", R"({"status": "DONE"})", 401,
            "expired", "If-Match: {etag}", QStringLiteral("expired"));
        row("auth: Basic", "GET", "experiments/exp/", {}, 401, "Bearer", {}, QStringLiteral("basic"));
        row("auth: resettoken without bearer", "POST", "resettoken/", {}, 401, "Authorization", {},
            QStringLiteral("none"));
        row("login: wrong token", "POST", "token/", R"({"email": "me@example.com", "token": "wrong"})", 403,
            "wrong email or API token", {}, QStringLiteral("none"));
        row("login: unknown email", "POST", "token/", R"({"email": "who@example.com", "token": "wrong"})",
            403, "wrong email", {}, QStringLiteral("none"));
        row("login: wrong password", "POST", "passauth/",
            R"({"email": "me@example.com", "token": "my passwore"})", 403, "wrong email or password", {},
            QStringLiteral("none"));
        row("login: no password set", "POST", "passauth/", R"({"email": "other@example.com", "token": ""})",
            403, "wrong email or password", {}, QStringLiteral("none"));
        row("login: email not a string", "POST", "token/", R"({"email": 1, "token": "x"})", 400, "email", {},
            QStringLiteral("none"));
        row("login: no token", "POST", "passauth/", R"({"email": "me@example.com"})", 400, "token", {},
            QStringLiteral("none"));

        // Another user's experiment: exactly like a missing one.
        row("theirs: GET", "GET", "experiments/theirs/", {}, 404, "no experiment named 'theirs'");
        row("theirs: jobs", "GET", "experiments/theirs/jobs/", {}, 404, "no experiment named 'theirs'");
        row("theirs: POST job", "POST", "experiments/theirs/jobs/", R"({"status": "DONE"})", 404,
            "no experiment named 'theirs'");
        row("theirs: nextjob", "GET", "experiments/theirs/nextjob/", {}, 404, "no experiment named 'theirs'");
        row("theirs: PUT job", "PUT", "experiments/theirs/jobs/tj/", R"({"status": "DONE"})", 404,
            "no experiment named 'theirs'");
        row("theirs: DELETE If-Match", "DELETE", "experiments/theirs/", {}, 412,
            "no experiment named 'theirs'", "If-Match: *");
        row("theirs: DELETE", "DELETE", "experiments/theirs/", {}, 204, "");
        row("theirs: DELETE job", "DELETE", "experiments/theirs/jobs/tj/", {}, 204, "");
        row("theirs: mine with their bearer", "GET", "experiments/exp/jobs/job1/", {}, 404,
            "no experiment named 'exp'", {}, QStringLiteral("other"));

        // Missing things and failed conditions.
        row("missing experiment", "GET", "experiments/nothere/", {}, 404, "no experiment named 'nothere'");
        row("missing job", "GET", "experiments/exp/jobs/nothere/", {}, 404, "no job 'nothere'");
        row("exists: If-None-Match", "PUT", "experiments/exp/", ManualBody, 412, "already exists", inm);
        row("stale ETag", "PUT", "experiments/exp/jobs/job1/", R"({"status": "DONE"})", 412, "ETag",
            "If-Match: {stale}");
        row("If-Match on a missing job", "PUT", "experiments/exp/jobs/nothere/", R"({"status": "DONE"})", 412,
            "does not exist", "If-Match: {etag}");
        row("job exists: If-None-Match", "PUT", "experiments/exp/jobs/job1/", R"({"status": "DONE"})", 412,
            "already exists", inm);
        row("DELETE missing job If-Match", "DELETE", "experiments/exp/jobs/nothere/", {}, 412, "nothere",
            "If-Match: *");
        row("DELETE missing experiment If-Match", "DELETE", "experiments/nothere/", {}, 412, "nothere",
            "If-Match: *");

        // Wrong method, unknown path.
        row("method: POST experiments/", "POST", "experiments/", ManualBody, 405, "not allowed");
        row("method: PATCH experiment", "PATCH", "experiments/exp/", ManualBody, 405, "not allowed");
        row("method: DELETE jobs/", "DELETE", "experiments/exp/jobs/", {}, 405, "not allowed");
        row("method: PUT nextjob/", "PUT", "experiments/exp/nextjob/", ManualBody, 405, "not allowed");
        row("method: GET token/", "GET", "token/", {}, 405, "not allowed", {}, QStringLiteral("none"));
        row("unknown path", "GET", "experiments/exp/results/", {}, 404, "unknown path");
        row("unknown top-level path", "POST", "login/", "{}", 404, "unknown path", {},
            QStringLiteral("none"));

        // Bodies over the limit (4096 bytes here).
        row("oversized PUT experiment", "PUT", newExp, padded(ManualBody, 100 * 1024), 413,
            "larger than the limit of 4096 bytes", inm, me, true);
        row("oversized POST job", "POST", "experiments/exp/jobs/", blobJob(100 * 1024), 413,
            "larger than the limit of 4096 bytes", {}, me, true);
        row("oversized POST job (QNAM)", "POST", "experiments/exp/jobs/", blobJob(120 * 1024), 413,
            "larger than the limit of 4096 bytes");
        row("oversized PUT job without bearer", "PUT", "experiments/exp/jobs/job1/", "{big}", 413,
            "larger than the limit of 4096 bytes", {}, QStringLiteral("none"), true);
        row("chunked POST", "POST", "experiments/exp/jobs/", "chunked", 411, "Content-Length",
            "Transfer-Encoding: chunked", me, true);
        row("just over the limit", "POST", "experiments/exp/jobs/", "{}" + QByteArray(MaxBody - 1, ' '), 413,
            "larger than the limit of 4096 bytes", {}, me, true);
    }

    void badRequest()
    {
        QFETCH(QByteArray, method);
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, headers);
        QFETCH(QByteArray, body);
        QFETCH(QString, auth);
        QFETCH(bool, raw);
        QFETCH(int, status);
        QFETCH(QString, message);
        path = expand(path);
        headers = expand(headers);
        body = expand(body);

        const QString before = dump();
        QVERIFY(before.startsWith(QLatin1String("== ")));

        int gotStatus = 0;
        QByteArray gotBody, contentType;
        if (raw) {
            const bool chunked = headers.contains("chunked");
            QByteArray request = method + " /" + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
            if (!authorization(auth).isEmpty())
                request += "Authorization: " + authorization(auth) + "\r\n";
            if (!headers.isEmpty())
                request += headers + "\r\n";
            if (chunked) {
                request += "\r\n";
                for (int i = 0; i < 40; ++i) // 40 chunks of 1 KiB
                    request += "400\r\n" + QByteArray(1024, 'c') + "\r\n";
                request += "0\r\n\r\n";
            } else {
                request += "Content-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body;
            }
            const RawResponse r = rawExchange(m_server->port(), request, status == 413);
            gotStatus = r.status;
            gotBody = r.body;
            contentType = r.headers.value("content-type");
            if (status == 413) {
                // Answered, then the connection is closed rather than left hanging.
                QCOMPARE(r.headers.value("connection").toLower(), QByteArray("close"));
                QVERIFY2(r.closed, "the server did not close the connection after 413");
                QVERIFY(!r.headers.contains("retry-after")); // the client would retry it
            }
        } else {
            HttpTestClient client(m_server->root());
            QHash<QByteArray, QByteArray> h;
            for (const QByteArray &line : headers.split('\n')) {
                const qsizetype colon = line.indexOf(':');
                if (colon > 0)
                    h.insert(line.left(colon).trimmed(), line.mid(colon + 1).trimmed());
            }
            if (!authorization(auth).isEmpty())
                h.insert("Authorization", authorization(auth));
            const Reply r = client.request(method, QString::fromLatin1(path), body, h);
            gotStatus = r.status;
            gotBody = r.body;
            contentType = r.header("Content-Type");
            QVERIFY(!r.headers.contains("retry-after"));
        }
        QVERIFY2(gotStatus == status, qPrintable(QStringLiteral("status %1, expected %2: %3")
                                                     .arg(gotStatus)
                                                     .arg(status)
                                                     .arg(QString::fromUtf8(gotBody.left(300)))));
        if (message.isEmpty()) {
            QVERIFY(gotBody.isEmpty());
        } else {
            QCOMPARE(contentType, QByteArray("application/json; charset=utf-8"));
            const QCborValue v = json::parse(gotBody);
            QVERIFY2(v.isMap(), gotBody.constData());
            const QString error = v.toMap().value(QStringLiteral("error")).toString();
            QVERIFY2(error.contains(message, Qt::CaseInsensitive),
                     qPrintable(QStringLiteral("'%1' does not mention '%2'").arg(error, message)));
            // The reason comes first: the original client shows 150 characters.
            QVERIFY2(error.size() <= 300, qPrintable(error));
        }

        const QString after = dump();
        if (after != before) {
            const QStringList a = before.split(QLatin1Char('\n')), b = after.split(QLatin1Char('\n'));
            for (qsizetype i = 0; i < qMax(a.size(), b.size()); ++i) {
                if (a.value(i) != b.value(i)) {
                    qWarning("first difference at line %lld:\n- %s\n+ %s", qlonglong(i),
                             qPrintable(a.value(i)), qPrintable(b.value(i)));
                    break;
                }
            }
        }
        QVERIFY2(after == before, "the database changed");

        // The server still answers normally afterwards.
        QCOMPARE(m_http->get(QStringLiteral("experiments/exp/jobs/job1/")).header("ETag"), m_etag1);
    }

    // The 413 comes as soon as the head announces too much, before the body is
    // sent: the body is never buffered. The connection closes once it is drained.
    void oversizedBodyIsRefusedBeforeItArrives()
    {
        const QString before = dump();
        QTcpSocket socket;
        QByteArray received;
        auto waitUntil = [&](const std::function<bool()> &done) {
            QEventLoop loop;
            QTimer timeout;
            timeout.setSingleShot(true);
            QObject::connect(&timeout, &QTimer::timeout, &loop, &QEventLoop::quit);
            auto check = [&] {
                received += socket.readAll();
                if (done())
                    loop.quit();
            };
            QObject::connect(&socket, &QIODevice::readyRead, &loop, check);
            QObject::connect(&socket, &QAbstractSocket::stateChanged, &loop, check);
            received += socket.readAll();
            if (done())
                return true;
            timeout.start(20000);
            loop.exec();
            received += socket.readAll();
            return done();
        };
        socket.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(waitUntil([&] { return socket.state() == QAbstractSocket::ConnectedState; }));
        const qint64 declared = 1000000;
        socket.write("POST /experiments/exp/jobs/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                     m_bearers.value(QStringLiteral("me")) + "\r\nContent-Length: " +
                     QByteArray::number(declared) + "\r\n\r\n" + QByteArray(1000, ' '));
        QVERIFY2(waitUntil([&] { return received.contains("\r\n\r\n") && received.endsWith("}"); }),
                 received.constData());
        QVERIFY2(received.startsWith("HTTP/1.1 413"), received.constData());
        QVERIFY(received.contains("limit of 4096 bytes"));
        QVERIFY(received.toLower().contains("connection: close"));
        // Still open: the server waits for the announced body, then closes.
        QCOMPARE(socket.state(), QAbstractSocket::ConnectedState);
        socket.write(QByteArray(declared - 1000, ' '));
        QVERIFY2(waitUntil([&] { return socket.state() == QAbstractSocket::UnconnectedState; }),
                 "the connection was not closed after the body");
        QCOMPARE(dump(), before);
    }

    // The limit itself is allowed (runs after the rows: it changes the database).
    void bodyAtTheLimitIsAccepted()
    {
        const QByteArray body = R"({"status": "QUEUED"})";
        const QByteArray full = padded(body, int(MaxBody));
        QCOMPARE(full.size(), MaxBody);
        QCOMPARE(m_http->post(QStringLiteral("experiments/exp/jobs/"), full).status, 201);
        const RawResponse r =
            rawExchange(m_server->port(),
                        "POST /experiments/exp/jobs/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                        "Authorization: Bearer " +
                            m_bearers.value(QStringLiteral("me")) +
                            "\r\nContent-Length: " + QByteArray::number(full.size()) + "\r\n\r\n" + full);
        QCOMPARE(r.status, 201);
    }
};

QTEST_GUILESS_MAIN(TestBadInput)
#include "tst_badinput.moc"
