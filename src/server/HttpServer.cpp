#include "HttpServer.h"

#include "Json.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QHttpServerRequest>
#include <QPointer>
#include <QTcpSocket>

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace schedy::server {
namespace {

QByteArray methodName(QHttpServerRequest::Method m)
{
    switch (m) {
    case QHttpServerRequest::Method::Get:
        return "GET";
    case QHttpServerRequest::Method::Put:
        return "PUT";
    case QHttpServerRequest::Method::Delete:
        return "DELETE";
    case QHttpServerRequest::Method::Post:
        return "POST";
    case QHttpServerRequest::Method::Head:
        return "HEAD";
    case QHttpServerRequest::Method::Options:
        return "OPTIONS";
    case QHttpServerRequest::Method::Patch:
        return "PATCH";
    case QHttpServerRequest::Method::Connect:
        return "CONNECT";
    case QHttpServerRequest::Method::Trace:
        return "TRACE";
    default:
        return "UNKNOWN";
    }
}

QByteArray reasonPhrase(int status)
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
    case 405:
        return "Method Not Allowed";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 507:
        return "Insufficient Storage";
    default:
        return "Status";
    }
}

qint64 nowNs()
{
    static const QElapsedTimer started = [] {
        QElapsedTimer t;
        t.start();
        return t;
    }();
    return started.nsecsElapsed();
}

} // namespace

HttpServer::HttpServer(Api &api, const GuardLimits &limits, QObject *parent)
    : QAbstractHttpServer(parent)
    , m_api(api)
    , m_limits(limits)
    , m_checker([](const PasswordCheck &c) { return c.check(); })
{
    // One hashing thread per two cores, at least one; the request thread keeps a core.
    m_pool.setMaxThreadCount(std::max(1, QThread::idealThreadCount() / 2));
    m_pool.setExpiryTimeout(60000);
}

HttpServer::~HttpServer()
{
    m_pool.waitForDone();
}

quint16 HttpServer::listenOn(const QHostAddress &address, quint16 port, QString *error)
{
    auto *tcp = new GuardedTcpServer(
        m_limits, [this](const QByteArray &authorization) { return m_api.bearerValid(authorization); }, this);
    if (!tcp->listen(address, port)) {
        if (error)
            *error = tcp->errorString();
        delete tcp;
        return 0;
    }
    bind(tcp);
    m_tcp = tcp;
    return tcp->serverPort();
}

bool HttpServer::handleRequest(const QHttpServerRequest &request, QTcpSocket *socket)
{
    const qint64 start = nowNs();
    HttpRequest r;
    r.method = methodName(request.method());
    const auto *guard = dynamic_cast<const GuardedSocket *>(socket);
    const QByteArray target = guard ? guard->requestTarget() : QByteArray();
    if (target.startsWith('/')) {
        // The bytes as sent: names are decoded exactly, by the Api alone.
        const qsizetype q = target.indexOf('?');
        r.path = q < 0 ? target : target.left(q);
        r.query = q < 0 ? QByteArray() : target.mid(q + 1);
    } else {
        const QUrl url = request.url();
        r.path = url.path(QUrl::FullyEncoded).toUtf8();
        r.query = url.query(QUrl::FullyEncoded).toUtf8();
    }
    r.headers = request.headers();
    r.body = request.body();
    r.peer = request.remoteAddress().toString().toLatin1();
    ApiOutcome outcome = m_api.begin(r);
    if (!outcome.check) {
        respond(socket, r, outcome.response, start);
        return true;
    }
    if (m_pendingChecks >= MaxPendingChecks) {
        HttpResponse busy = Api::error(503, QStringLiteral("too many logins at once; retry shortly"));
        busy.headers.append({QByteArrayLiteral("Retry-After"), QByteArrayLiteral("1")});
        respond(socket, r, busy, start);
        return true;
    }
    // The answer comes from the pool; the guard passes nothing more of this
    // connection to Qt until then, so answers stay in order.
    ++m_pendingChecks;
    r.body.clear();
    QPointer<QTcpSocket> guarded(socket);
    auto check = std::make_shared<PasswordCheck>(std::move(*outcome.check));
    auto checker = m_checker;
    m_pool.start([this, guarded, check, checker, r, start] {
        // Below the request thread: a flood of logins slows logins, not workers.
        // SCHED_IDLE: only CPU time nothing else wants (nice 10 still took 0.4
        // of a core from the workers on two cores, docs/performance.md).
        sched_param idle{};
        if (::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &idle) != 0)
            ::setpriority(PRIO_PROCESS, pid_t(::syscall(SYS_gettid)), 10);
        const PasswordCheck::Result result = checker(*check);
        QMetaObject::invokeMethod(
            this,
            [this, guarded, check, result, r, start] {
                --m_pendingChecks;
                const HttpResponse response = m_api.finishPasswordLogin(*check, result);
                if (guarded && guarded->state() == QAbstractSocket::ConnectedState)
                    respond(guarded, r, response, start);
            },
            Qt::QueuedConnection);
    });
    return true;
}

void HttpServer::respond(QTcpSocket *socket, const HttpRequest &r, const HttpResponse &response,
                         qint64 startNs)
{
    const QByteArray connection = r.header("Connection").toLower();
    // After a 413 the rest of the stream cannot be trusted to be in step: close.
    const bool close = connection == "close" || response.status == 413;
    QByteArray out =
        "HTTP/1.1 " + QByteArray::number(response.status) + ' ' + reasonPhrase(response.status) + "\r\n";
    for (const auto &h : response.headers)
        out += h.first + ": " + h.second + "\r\n";
    if (close)
        out += "Connection: close\r\n";
    if (response.status != 204) // RFC 9110: no Content-Length on 204
        out += "Content-Length: " + QByteArray::number(response.body.size()) + "\r\n";
    out += "\r\n";
    out += response.body;
    socket->write(out);
    // Send now rather than on the next turn of the event loop (a poll and a
    // wake-up fewer per request, and the client gets its answer sooner).
    socket->flush();

    if (m_logger) {
        m_logger(QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs).toLatin1() + ' ' + r.peer + ' ' +
                 r.method + ' ' + r.path.left(300) +
                 (r.query.isEmpty() ? QByteArray() : '?' + r.query.left(200)) + ' ' +
                 QByteArray::number(response.status) + ' ' + QByteArray::number(response.body.size()) + "B " +
                 QByteArray::number(double(nowNs() - startNs) / 1e6, 'f', 2) + "ms");
    }
    if (close) {
        socket->disconnectFromHost();
        return;
    }
    if (auto *guarded = dynamic_cast<GuardedSocket *>(socket))
        guarded->requestDone();
}

void HttpServer::missingHandler(const QHttpServerRequest &request, QTcpSocket *socket)
{
    HttpRequest r;
    r.peer = request.remoteAddress().toString().toLatin1();
    respond(socket, r, Api::error(404, QStringLiteral("not found")), nowNs());
}

} // namespace schedy::server
