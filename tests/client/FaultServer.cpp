#include "FaultServer.h"

#include "Json.h"

#include <QDateTime>
#include <QTcpSocket>

#include <algorithm>

namespace schedy::test {
namespace {

QByteArray reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 412:
        return "Precondition Failed";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

FaultResponse jsonResponse(int status, const QByteArray &body)
{
    FaultResponse r;
    r.status = status;
    r.body = body;
    return r;
}

FaultResponse errorResponse(int status, const QString &message)
{
    return jsonResponse(status, json::write(QCborMap{{QStringLiteral("error"), message}}));
}

QCborMap parseObject(const QByteArray &body)
{
    json::ParseError pe;
    const QCborValue v = json::parse(body.isEmpty() ? QByteArray("{}") : body, &pe);
    return pe.isError() ? QCborMap() : v.toMap();
}

QByteArray objectText(const QCborValue &v)
{
    return v.isMap() ? json::write(v.toMap()) : QByteArray("{}");
}

} // namespace

FaultServer::FaultServer(QObject *parent)
    : QObject(parent)
{
    qRegisterMetaType<FaultRequest>();
    connect(&m_server, &QTcpServer::newConnection, this, &FaultServer::onNewConnection);
}

FaultServer::~FaultServer()
{
    close();
}

void FaultServer::close()
{
    m_server.close();
    const QList<QTcpSocket *> sockets = m_sockets.keys();
    m_sockets.clear();
    for (QTcpSocket *s : sockets) {
        s->disconnect(this);
        s->abort();
        delete s;
    }
}

bool FaultServer::listen()
{
    return m_server.listen(QHostAddress::LocalHost, 0);
}

QString FaultServer::root() const
{
    return QStringLiteral("http://127.0.0.1:%1/").arg(port());
}

ClientConfig FaultServer::config(ClientConfig::TokenType type) const
{
    ClientConfig c;
    c.root = root();
    c.email = QString::fromLatin1(email());
    c.tokenType = type;
    c.token = QString::fromLatin1(type == ClientConfig::TokenType::Password ? password() : apiToken());
    return c;
}

void FaultServer::script(const QByteArray &method, const QByteArray &pathSuffix, Fault fault, int times,
                         int status, const QByteArray &body)
{
    m_script.append(Step{method, pathSuffix, fault, times, status, body});
}

bool FaultServer::matches(const FaultRequest &request, const QByteArray &pathSuffix)
{
    // A suffix with a query matches within the whole target ("jobs/?start=2"), else the end of the path.
    if (pathSuffix.contains('?'))
        return QByteArray(request.path + '?' + request.query).contains(pathSuffix);
    return request.path.endsWith(pathSuffix);
}

int FaultServer::count(const QByteArray &method, const QByteArray &pathSuffix) const
{
    int n = 0;
    for (const FaultRequest &r : m_requests)
        n += (method.isEmpty() || r.method == method) && matches(r, pathSuffix) ? 1 : 0;
    return n;
}

QList<QByteArray> FaultServer::jobIds(const QString &experiment) const
{
    QList<QByteArray> ids;
    for (const StoredJob &j : m_experiments.value(experiment).jobs)
        ids.append(j.id);
    return ids;
}

void FaultServer::onNewConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        ++m_connections;
        m_sockets.insert(socket, Connection{});
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
            m_sockets.remove(socket);
            socket->deleteLater();
        });
    }
}

void FaultServer::onReadyRead(QTcpSocket *socket)
{
    auto it = m_sockets.find(socket);
    if (it == m_sockets.end())
        return;
    it->buffer += socket->readAll();
    while (!it->stalled) {
        bool bad = false;
        const auto request = takeRequest(it->buffer, &bad);
        if (bad) {
            socket->abort();
            return;
        }
        if (!request)
            return;
        dispatch(socket, *request);
        it = m_sockets.find(socket); // dispatch may have closed it
        if (it == m_sockets.end() || socket->state() != QAbstractSocket::ConnectedState)
            return;
    }
}

std::optional<FaultRequest> FaultServer::takeRequest(QByteArray &buffer, bool *bad)
{
    const qsizetype end = buffer.indexOf("\r\n\r\n");
    if (end < 0)
        return std::nullopt;
    const QList<QByteArray> lines = buffer.left(end).split('\n');
    const QList<QByteArray> requestLine = lines.value(0).trimmed().split(' ');
    if (requestLine.size() != 3) {
        *bad = true;
        return std::nullopt;
    }
    FaultRequest r;
    r.method = requestLine[0];
    const QByteArray target = requestLine[1];
    const qsizetype q = target.indexOf('?');
    r.path = q < 0 ? target : target.left(q);
    r.query = q < 0 ? QByteArray() : target.mid(q + 1);
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon > 0)
            r.headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
    }
    const qsizetype length = r.header("Content-Length").toLongLong();
    if (buffer.size() < end + 4 + length)
        return std::nullopt;
    r.body = buffer.mid(end + 4, length);
    buffer.remove(0, end + 4 + length);
    return r;
}

QByteArray FaultServer::serialize(const FaultResponse &response, qsizetype cut)
{
    QByteArray out =
        "HTTP/1.1 " + QByteArray::number(response.status) + ' ' + reason(response.status) + "\r\n";
    for (const auto &h : response.headers)
        out += h.first + ": " + h.second + "\r\n";
    if (response.status != 204) {
        out += "Content-Type: application/json; charset=utf-8\r\n";
        out += "Content-Length: " + QByteArray::number(response.body.size()) + "\r\n";
    }
    out += "\r\n";
    out += cut >= 0 ? response.body.left(cut) : response.body;
    return out;
}

void FaultServer::dispatch(QTcpSocket *socket, const FaultRequest &request)
{
    m_requests.append(request);
    Q_EMIT requestReceived(request);

    std::optional<Step> step;
    for (Step &s : m_script) {
        if (s.times > 0 && s.method == request.method && matches(request, s.pathSuffix)) {
            --s.times;
            step = s;
            break;
        }
    }
    if (!step) {
        socket->write(serialize(handle(request)));
        return;
    }
    switch (step->fault) {
    case Fault::Drop:
        socket->abort();
        return;
    case Fault::NeverAnswer:
        m_sockets[socket].stalled = true;
        return;
    case Fault::Hold:
        m_sockets[socket].stalled = true;
        m_held.append({socket, request});
        return;
    case Fault::Respond: {
        FaultResponse r = jsonResponse(step->status, step->body);
        if (step->status == 503)
            r.headers.append(qMakePair(QByteArray("Retry-After"), QByteArray("1")));
        socket->write(serialize(r));
        return;
    }
    case Fault::Malformed: {
        FaultResponse r = handle(request);
        r.status = 200;
        r.body = step->body.isEmpty() ? QByteArray(R"({"id": "J1", "status": )") : step->body;
        socket->write(serialize(r));
        return;
    }
    case Fault::Truncated: {
        const FaultResponse r = handle(request);
        socket->write(serialize(r, r.body.size() / 2));
        socket->disconnectFromHost(); // after the bytes written so far
        return;
    }
    }
}

void FaultServer::releaseHeld()
{
    const auto held = std::exchange(m_held, {});
    for (const auto &h : held) {
        const FaultResponse r = handle(h.second);
        if (!h.first || !m_sockets.contains(h.first))
            continue; // the client gave up
        m_sockets[h.first].stalled = false;
        h.first->write(serialize(r));
        onReadyRead(h.first);
    }
}

FaultResponse FaultServer::login(const FaultRequest &request, bool password)
{
    const QCborMap body = parseObject(request.body);
    const bool ok = body.value(QStringLiteral("email")).toString() == QLatin1String(email()) &&
                    body.value(QStringLiteral("token")).toString() ==
                        QLatin1String(password ? FaultServer::password() : apiToken());
    if (!ok)
        return errorResponse(403, password ? QStringLiteral("wrong email or password")
                                           : QStringLiteral("wrong email or API token"));
    ++m_logins;
    const QByteArray bearer = "bearer-" + QByteArray::number(m_nextBearer++);
    m_bearers.insert(bearer);
    return jsonResponse(200, json::write(QCborMap{{QStringLiteral("token"), QString::fromLatin1(bearer)},
                                                  {QStringLiteral("expiresAt"),
                                                   QDateTime::currentSecsSinceEpoch() + m_lifetime}}));
}

QByteArray FaultServer::jobDocument(const QString &experiment, const StoredJob &job) const
{
    return "{\"id\":" + json::write(QCborValue(QString::fromLatin1(job.id))) +
           ",\"experiment\":" + json::write(QCborValue(experiment)) + ",\"status\":\"" + job.status +
           "\",\"hyperparameters\":" + job.hyperparameters + ",\"results\":" + job.results + job.extensions +
           '}';
}

FaultResponse FaultServer::handle(const FaultRequest &request)
{
    QList<QByteArray> raw = request.path.mid(1).split('/');
    if (!raw.isEmpty() && raw.last().isEmpty())
        raw.removeLast();
    QList<QString> seg;
    for (const QByteArray &s : raw)
        seg.append(QString::fromUtf8(QByteArray::fromPercentEncoding(s)));
    const QByteArray &m = request.method;
    if (seg.size() == 1 && m == "POST" &&
        (seg[0] == QLatin1String("token") || seg[0] == QLatin1String("passauth")))
        return login(request, seg[0] == QLatin1String("passauth"));

    const QByteArray auth = request.header("Authorization");
    if (!auth.startsWith("Bearer ") || !m_bearers.contains(auth.mid(7)))
        return errorResponse(401, QStringLiteral("bearer token expired; authenticate again"));

    if (seg.size() == 1 && seg[0] == QLatin1String("experiments") && m == "GET") {
        QCborArray items;
        for (auto it = m_experiments.cbegin(); it != m_experiments.cend(); ++it) {
            QCborMap doc = json::parse(it->document).toMap();
            doc.insert(QStringLiteral("name"), it.key());
            items.append(doc);
        }
        return jsonResponse(200,
                            json::write(QCborMap{{QStringLiteral("items"), items},
                                                 {QStringLiteral("next"), QCborValue(QCborValue::Null)}}));
    }
    if (seg.size() < 2 || seg[0] != QLatin1String("experiments"))
        return errorResponse(404, QStringLiteral("unknown path"));
    const QString name = seg[1];
    auto exp = m_experiments.find(name);
    const auto missing = [&] {
        return errorResponse(404, QStringLiteral("no experiment named '%1'").arg(name));
    };

    if (seg.size() == 2) {
        if (m == "PUT") {
            const bool existed = exp != m_experiments.end();
            if (existed && request.header("If-None-Match") == "*")
                return errorResponse(412, QStringLiteral("experiment '%1' already exists").arg(name));
            QCborMap doc = parseObject(request.body);
            doc.remove(QStringLiteral("name"));
            if (!existed)
                exp = m_experiments.insert(name, StoredExperiment{});
            exp->document = json::write(doc);
            doc.insert(QStringLiteral("name"), name);
            return jsonResponse(existed ? 200 : 201, json::write(doc));
        }
        if (m == "DELETE") {
            if (exp == m_experiments.end() && !request.header("If-Match").isEmpty())
                return errorResponse(412, QStringLiteral("no experiment named '%1'").arg(name));
            m_experiments.remove(name);
            return jsonResponse(204, {});
        }
        if (exp == m_experiments.end())
            return missing();
        QCborMap doc = json::parse(exp->document).toMap();
        doc.insert(QStringLiteral("name"), name);
        return jsonResponse(200, json::write(doc));
    }
    if (exp == m_experiments.end())
        return missing();
    const auto withEtag = [&](int status, const StoredJob &job) {
        FaultResponse r = jsonResponse(status, jobDocument(name, job));
        r.headers.append(qMakePair(QByteArray("ETag"), job.etag()));
        return r;
    };
    if (seg.size() == 3 && seg[2] == QLatin1String("nextjob")) {
        for (const StoredJob &j : std::as_const(exp->jobs)) {
            if (j.status == "QUEUED")
                return withEtag(200, j);
        }
        return jsonResponse(204, {});
    }
    if (seg.size() == 3 && seg[2] == QLatin1String("jobs")) {
        if (m == "POST") {
            const QCborMap body = parseObject(request.body);
            StoredJob job;
            job.id = 'J' + QByteArray::number(m_nextJob++);
            job.status = body.value(QStringLiteral("status")).toString(QStringLiteral("QUEUED")).toLatin1();
            job.hyperparameters = objectText(body.value(QStringLiteral("hyperparameters")));
            job.results = objectText(body.value(QStringLiteral("results")));
            exp->jobs.append(job);
            ++m_jobsCreated;
            return withEtag(201, job);
        }
        // Pages of `limit` jobs (default: all); the cursor is the index of the first job.
        qsizetype begin = 0;
        qsizetype limit = exp->jobs.size();
        for (const QByteArray &pair : request.query.split('&')) {
            if (pair.startsWith("start="))
                begin = pair.mid(6).toLongLong();
            else if (pair.startsWith("limit="))
                limit = pair.mid(6).toLongLong();
        }
        const qsizetype end = std::min(exp->jobs.size(), begin + limit);
        QByteArray items = "[";
        for (qsizetype i = begin; i < end; ++i)
            items += (i > begin ? "," : "") + jobDocument(name, exp->jobs[i]);
        items += ']';
        const QByteArray next =
            end < exp->jobs.size() ? '"' + QByteArray::number(end) + '"' : QByteArray("null");
        const QByteArray page = m_nextFirst ? QByteArray("{\"next\": " + next + ", \"items\": " + items + '}')
                                            : QByteArray("{\"items\":" + items + ",\"next\":" + next + '}');
        FaultResponse r = jsonResponse(200, page);
        r.headers.append(qMakePair(QByteArray("X-Total-Count"), QByteArray::number(exp->jobs.size())));
        return r;
    }
    const bool heartbeat = seg.size() == 5 && seg[4] == QLatin1String("heartbeat") && m == "POST";
    if ((seg.size() != 4 && !heartbeat) || seg[2] != QLatin1String("jobs"))
        return errorResponse(404, QStringLiteral("unknown path"));
    const QByteArray id = seg[3].toUtf8();
    qsizetype index = -1;
    for (qsizetype i = 0; i < exp->jobs.size(); ++i)
        index = exp->jobs[i].id == id ? i : index;
    // A write with an ETag that no longer matches: why, when the job was pruned or lost.
    const auto stale = [&](const StoredJob &job) {
        FaultResponse r = errorResponse(
            412,
            job.why.isEmpty() ? QStringLiteral("job '%1' was changed by someone else").arg(seg[3]) : job.why);
        if (!job.why.isEmpty())
            r.headers.append(qMakePair(QByteArray("Schedy-Job-Status"), job.status));
        return r;
    };
    if (heartbeat) {
        if (index < 0)
            return errorResponse(404, QStringLiteral("no job '%1'").arg(seg[3]));
        if (exp->jobs[index].etag() != request.header("If-Match"))
            return stale(exp->jobs[index]);
        return jsonResponse(204, {});
    }
    if (m == "GET") {
        if (index < 0)
            return errorResponse(404, QStringLiteral("no job '%1'").arg(seg[3]));
        return withEtag(200, exp->jobs[index]);
    }
    if (m == "DELETE") {
        if (index < 0 && !request.header("If-Match").isEmpty())
            return errorResponse(412, QStringLiteral("no job '%1'").arg(seg[3]));
        if (index >= 0)
            exp->jobs.removeAt(index);
        return jsonResponse(204, {});
    }
    // PUT
    const QByteArray ifMatch = request.header("If-Match");
    if (!ifMatch.isEmpty() && index < 0)
        return errorResponse(412, QStringLiteral("job '%1' was changed by someone else").arg(seg[3]));
    if (!ifMatch.isEmpty() && exp->jobs[index].etag() != ifMatch)
        return stale(exp->jobs[index]);
    if (request.header("If-None-Match") == "*" && index >= 0)
        return errorResponse(412, QStringLiteral("job '%1' already exists").arg(seg[3]));
    const QCborMap body = parseObject(request.body);
    const bool created = index < 0;
    if (created) {
        StoredJob job;
        job.id = id;
        job.version = 0;
        exp->jobs.append(job);
        index = exp->jobs.size() - 1;
    }
    StoredJob &job = exp->jobs[index];
    job.status = body.value(QStringLiteral("status")).toString().toLatin1();
    job.hyperparameters = objectText(body.value(QStringLiteral("hyperparameters")));
    job.results = objectText(body.value(QStringLiteral("results")));
    ++job.version;
    if (job.pruneAtNextReport) {
        job.pruneAtNextReport = false;
        job.status = "PRUNED";
        job.why = QStringLiteral("job '%1' was pruned at step 3 by the median rule").arg(seg[3]);
        job.extensions = R"(,"prunedAt":3,"pruneRule":"median","pruneValue":0.85,"pruneThreshold":0.61)";
        FaultResponse r = withEtag(200, job);
        ++job.version; // the answer's ETag no longer matches (docs/protocol.md 8.2)
        r.headers.append(qMakePair(QByteArray("Schedy-Job-Status"), QByteArray("PRUNED")));
        return r;
    }
    return withEtag(created ? 201 : 200, job);
}

void FaultServer::pruneAtNextReport(const QString &experiment, const QByteArray &id)
{
    for (StoredJob &job : m_experiments[experiment].jobs) {
        if (job.id == id)
            job.pruneAtNextReport = true;
    }
}

void FaultServer::changeJob(const QString &experiment, const QByteArray &id, const QByteArray &status,
                            const QString &why, const QByteArray &extensions)
{
    for (StoredJob &job : m_experiments[experiment].jobs) {
        if (job.id == id) {
            job.status = status;
            job.why = why;
            job.extensions = extensions;
            ++job.version;
        }
    }
}

} // namespace schedy::test
