#include "Client.h"

#include "Codec.h"
#include "Json.h"
#include "PageDecoder.h"

#include <QDateTime>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QUrl>
#include <QUrlQuery>

#include <algorithm>
#include <cmath>

namespace schedy {
namespace {

QString serverMessage(const QByteArray &body)
{
    json::ParseError pe;
    const QCborValue v = json::parse(body, &pe);
    if (!pe.isError() && v.isMap() && v.toMap().value(QStringLiteral("error")).isString())
        return v.toMap().value(QStringLiteral("error")).toString();
    QString text = QString::fromUtf8(body).trimmed();
    if (text.size() > 300)
        text = text.left(297) + QStringLiteral("...");
    return text;
}

// Maps a non-success status to an error kind, as the original client does.
ClientError statusError(int status, const QByteArray &body, bool createOnly = false)
{
    ClientError e;
    e.httpStatus = status;
    e.message = serverMessage(body);
    if (status == 403)
        e.kind = ClientError::Kind::Authentication;
    else if (status == 401)
        e.kind = ClientError::Kind::Reauthenticate;
    else if (status == 412)
        e.kind = createOnly ? ClientError::Kind::ResourceExists : ClientError::Kind::UnsafeUpdate;
    else if (status >= 400 && status < 500)
        e.kind = ClientError::Kind::ClientRequest;
    else if (status >= 500 && status < 600)
        e.kind = ClientError::Kind::Server;
    else
        e.kind = ClientError::Kind::UnhandledResponse;
    if (e.message.isEmpty())
        e.message = ClientError::kindName(e.kind);
    return e;
}

// A failed job write or heartbeat: the error, with what became of the job when the server says.
ClientError jobStatusError(int status, const QByteArray &body, QNetworkReply *reply, bool createOnly = false)
{
    ClientError e = statusError(status, body, createOnly);
    e.jobStatus = QString::fromLatin1(reply->rawHeader("Schedy-Job-Status"));
    return e;
}

ClientError unhandled(int status, const QString &message)
{
    ClientError e;
    e.kind = ClientError::Kind::UnhandledResponse;
    e.httpStatus = status;
    e.message = message;
    return e;
}

bool isSuccess(int status)
{
    return status == 200 || status == 201 || status == 204;
}

// Parses a JSON body; on failure fills `error`.
std::optional<QCborValue> parseBody(int status, const QByteArray &body, ClientError *error)
{
    json::ParseError pe;
    const QCborValue v = json::parse(body, &pe);
    if (pe.isError()) {
        *error = unhandled(status, QStringLiteral("the server sent invalid JSON (%1)").arg(pe.message));
        return std::nullopt;
    }
    return v;
}

template <typename T, typename Decode>
ClientError decodeInto(int status, const QByteArray &body, T &out, Decode decode)
{
    if (!isSuccess(status) || status == 204)
        return statusError(status, body);
    ClientError e;
    auto v = parseBody(status, body, &e);
    if (!v)
        return e;
    auto d = decode(*v);
    if (!d)
        return unhandled(status, QStringLiteral("unexpected document: %1").arg(d.error().message()));
    out = std::move(d.value());
    return {};
}

ClientError decodeJob(int status, const QByteArray &body, QNetworkReply *reply, Job &out)
{
    ClientError e = decodeInto(status, body, out, [](const QCborValue &v) { return codec::decodeJob(v); });
    if (!e.isError())
        out.etag = reply->rawHeader("ETag");
    return e;
}

// A single experiment's answer: the document, and its ETag from the header (an extension;
// empty from servers without it).
ClientError decodeExperiment(int status, const QByteArray &body, QNetworkReply *reply, const QString &name,
                             Experiment &out)
{
    ClientError e =
        decodeInto(status, body, out, [](const QCborValue &v) { return codec::decodeExperiment(v); });
    if (!e.isError()) {
        out.etag = reply->rawHeader("ETag");
        if (out.name.isEmpty())
            out.name = name;
    }
    return e;
}

std::optional<qint64> totalOf(QNetworkReply *reply)
{
    bool ok = false;
    const qint64 n = reply->rawHeader("X-Total-Count").toLongLong(&ok);
    return ok ? std::optional<qint64>(n) : std::nullopt;
}

QString jobsQueryString(const JobListQuery &q)
{
    QUrlQuery query;
    auto add = [&](const QString &k, const QString &v) {
        // Form-encode fully: the cursor and names may hold any character.
        query.addQueryItem(k, QString::fromLatin1(QUrl::toPercentEncoding(v)));
    };
    if (!q.start.isEmpty())
        add(QStringLiteral("start"), q.start);
    if (q.limit > 0)
        add(QStringLiteral("limit"), QString::number(q.limit));
    if (!q.statuses.isEmpty()) {
        QStringList s;
        for (JobStatus st : q.statuses)
            s << toString(st);
        add(QStringLiteral("status"), s.join(QLatin1Char(',')));
    }
    if (!q.sort.isEmpty())
        add(QStringLiteral("sort"), q.sort);
    if (q.descending)
        add(QStringLiteral("order"), QStringLiteral("desc"));
    if (q.modifiedSince)
        add(QStringLiteral("modifiedSince"), json::formatDouble(*q.modifiedSince));
    if (!q.idContains.isEmpty())
        add(QStringLiteral("idContains"), q.idContains);
    const QString s = query.query(QUrl::FullyEncoded);
    return s.isEmpty() ? QString() : QLatin1Char('?') + s;
}

} // namespace

// ---- CallBase ----------------------------------------------------------------

CallBase::CallBase(Client *client)
    : QObject(client)
    , m_client(client)
{
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, [this] {
        if (m_onRetry)
            m_onRetry();
    });
}

CallBase::~CallBase()
{
    if (m_reply) {
        m_reply->disconnect(this);
        m_reply->abort();
        m_reply->deleteLater();
    }
}

void CallBase::abort()
{
    if (m_finished)
        return;
    ClientError e;
    e.kind = ClientError::Kind::Aborted;
    e.message = QStringLiteral("cancelled");
    finish(e);
}

void CallBase::finish(const ClientError &error)
{
    if (m_finished)
        return;
    m_finished = true;
    m_error = error;
    m_retryTimer.stop();
    if (m_reply) {
        QNetworkReply *r = m_reply;
        m_reply = nullptr;
        r->disconnect(this);
        if (r->isRunning())
            r->abort();
        r->deleteLater();
    }
    if (m_client) {
        m_client->m_waitingForLogin.removeAll(this);
        m_client->m_calls.removeAll(this);
    }
    const QPointer<CallBase> self(this);
    Q_EMIT finished();
    // A caller that owns the call may have deleted it in a slot.
    if (self && m_autoDelete)
        deleteLater();
}

// ---- Client ------------------------------------------------------------------

Client::Client(QObject *parent)
    : QObject(parent)
{
    m_nam.setAutoDeleteReplies(false);
    m_nam.setRedirectPolicy(QNetworkRequest::ManualRedirectPolicy);
}

Client::Client(const ClientConfig &config, QObject *parent)
    : Client(parent)
{
    setConfig(config);
}

Client::~Client()
{
    // Abort what is in flight (finished() with Aborted). Calls the caller owns
    // (no auto-delete) are left to the caller instead of being deleted with us.
    QList<QPointer<CallBase>> calls;
    for (QObject *child : children()) {
        if (auto *c = qobject_cast<CallBase *>(child))
            calls.append(c);
    }
    for (const QPointer<CallBase> &c : std::as_const(calls)) {
        if (c && !c->isFinished())
            c->abort();
    }
    for (const QPointer<CallBase> &c : std::as_const(calls)) {
        if (!c)
            continue;
        c->m_client = nullptr;
        if (!c->m_autoDelete)
            c->setParent(nullptr);
    }
}

void Client::setConfig(const ClientConfig &config)
{
    m_config = config;
    m_config.root = normalizedRoot(config.root);
    m_bearer.clear();
    m_expiresAt = 0;
    if (m_loginCall && !m_loginCall->isFinished()) {
        // That login is for the previous settings: start over with these.
        CallBase *previous = m_loginCall;
        m_loginCall = nullptr;
        previous->disconnect(this);
        previous->abort();
        m_loggingIn = false;
        startLogin();
    }
}

QString Client::encodeSegment(const QString &segment)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(segment, QByteArray("-._~"), QByteArray()));
}

template <typename T>
Call<T> *Client::makeCall(const QByteArray &method, const QString &path, const QByteArray &body,
                          typename Call<T>::Parser parser, bool authenticated)
{
    auto *call = new Call<T>(this, std::move(parser));
    call->m_method = method;
    call->m_path = path;
    call->m_body = body;
    call->m_authenticated = authenticated;
    // A retry checks the bearer again (it may have expired or been renewed meanwhile).
    call->m_onRetry = [call] {
        if (call->m_client)
            call->m_client->submit(call);
    };
    m_calls.append(call);
    // Submitted from the event loop, so that the caller can connect first.
    QTimer::singleShot(0, call, [call] {
        if (call->m_client && !call->m_submitted)
            call->m_client->submit(call);
    });
    return call;
}

bool Client::needsLogin() const
{
    if (m_bearer.isEmpty())
        return true;
    // Renew a little before expiry (one minute, or 5% of a short lifetime).
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    const qint64 lifetime = std::max<qint64>(1, m_expiresAt - m_issuedAt);
    const qint64 margin = std::min<qint64>(60, std::max<qint64>(1, lifetime / 20));
    return now >= m_expiresAt - margin;
}

void Client::submit(CallBase *call)
{
    if (call->m_finished)
        return;
    call->m_submitted = true;
    if (call->m_authenticated && needsLogin()) {
        m_waitingForLogin.append(call);
        startLogin();
        return;
    }
    send(call);
}

void Client::send(CallBase *call)
{
    if (call->m_finished)
        return;
    if (m_config.root.isEmpty()) {
        // Finished from the event loop, like every other outcome: no call ever
        // finishes inside submit() (the listing walk relies on it).
        QTimer::singleShot(0, call, [call] {
            ClientError e;
            e.kind = ClientError::Kind::Network;
            e.message = QStringLiteral("no server configured");
            call->finish(e);
        });
        return;
    }
    ++call->m_attempts;
    call->m_timedOut = false;
    const QUrl url = QUrl::fromEncoded((m_config.root + call->m_path).toUtf8());
    QNetworkRequest request(url);
    request.setTransferTimeout(m_policy.timeoutMs);
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    if (!call->m_body.isNull())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    call->m_sentBearer = m_bearer;
    if (call->m_authenticated)
        request.setRawHeader("Authorization", "Bearer " + m_bearer);
    for (const auto &h : std::as_const(call->m_headers))
        request.setRawHeader(h.first, h.second);
    QNetworkReply *reply = call->m_body.isNull() && call->m_method != "PUT" && call->m_method != "POST"
                               ? m_nam.sendCustomRequest(request, call->m_method)
                               : m_nam.sendCustomRequest(request, call->m_method, call->m_body);
    call->m_reply = reply;
    connect(reply, &QNetworkReply::finished, call, [this, call, reply] { onFinished(call, reply); });
}

void Client::retryLater(CallBase *call, const ClientError &error)
{
    if (call->m_attempts >= m_policy.maxAttempts) {
        call->finish(error);
        return;
    }
    double delay = std::min(m_policy.maxDelay, m_policy.baseDelay * std::pow(2.0, call->m_attempts - 1));
    delay *= 1.0 + m_policy.jitter * (2.0 * QRandomGenerator::global()->generateDouble() - 1.0);
    call->m_retryTimer.start(std::max(0, int(delay * 1000)));
}

void Client::onFinished(CallBase *call, QNetworkReply *reply)
{
    if (call->m_reply != reply || call->m_finished) {
        reply->deleteLater();
        return;
    }
    call->m_reply = nullptr;
    reply->deleteLater();
    const QVariant statusAttr = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute);
    const int status = statusAttr.isValid() ? statusAttr.toInt() : 0;
    const QNetworkReply::NetworkError netError = reply->error();
    // A reply aborted by the transfer timeout is closed: reading it would only warn.
    const QByteArray body = reply->isOpen() ? reply->readAll() : QByteArray();
    call->m_httpStatus = status;
    const bool timeout =
        netError == QNetworkReply::OperationCanceledError || netError == QNetworkReply::TimeoutError;
    // Errors of the connection, as opposed to HTTP statuses that Qt also reports as errors.
    const bool transportError =
        netError != QNetworkReply::NoError && netError < QNetworkReply::ContentAccessDenied;

    if (status == 0) {
        // No HTTP response at all: refused, reset, dropped before answering, or no
        // answer in time. The server handled nothing we know of: ask again.
        ClientError e;
        e.kind = timeout ? ClientError::Kind::Timeout : ClientError::Kind::Network;
        e.message = timeout ? QStringLiteral("no answer from %1 within %2 s")
                                  .arg(m_config.root)
                                  .arg(m_policy.timeoutMs / 1000.0)
                            : reply->errorString();
        retryLater(call, e);
        return;
    }

    // An answer that stopped early: the connection closed (or stalled) within the
    // body. Qt does not always report it (a POST's answer can end "successfully"
    // with half the body), so the body is also checked against its Content-Length.
    bool lengthKnown = false;
    const qint64 announced = reply->rawHeader("Content-Length").toLongLong(&lengthKnown);
    const bool shortBody =
        lengthKnown && reply->rawHeader("Content-Encoding").isEmpty() && body.size() < announced;
    if (transportError || shortBody) {
        ClientError e;
        e.kind = timeout ? ClientError::Kind::Timeout : ClientError::Kind::UnhandledResponse;
        e.httpStatus = status;
        e.message = shortBody ? QStringLiteral("the answer was cut short after %1 of %2 bytes")
                                    .arg(body.size())
                                    .arg(announced)
                              : QStringLiteral("the answer was cut short: %1").arg(reply->errorString());
        // The server has handled the request: only a read may safely be sent again
        // (a POST would create a second job).
        if (call->m_method == "GET")
            retryLater(call, e);
        else
            call->finish(e);
        return;
    }

    if (status == 500 || status == 503) {
        retryLater(call, statusError(status, body));
        return;
    }
    if (status == 401 && call->m_authenticated && !call->m_retriedAfter401) {
        // The bearer was refused before its time (e.g. the server's secret
        // changed): log in again once and repeat the request. When another call
        // has already renewed the bearer meanwhile, the new one is used as is.
        call->m_retriedAfter401 = true;
        if (m_bearer == call->m_sentBearer)
            m_bearer.clear();
        submit(call);
        return;
    }
    if (status == 200 && call->m_onBody)
        call->m_onBody(body);
    if (!call->m_finished)
        call->finish(call->parse(status, body, reply));
}

void Client::startLogin()
{
    if (m_loggingIn)
        return;
    m_loggingIn = true;
    const bool password = m_config.tokenType == ClientConfig::TokenType::Password;
    const QByteArray body = json::write(
        QCborMap{{QStringLiteral("email"), m_config.email}, {QStringLiteral("token"), m_config.token}});
    auto *call = makeCall<bool>(
        "POST", password ? QStringLiteral("passauth/") : QStringLiteral("token/"), body,
        [this](int status, const QByteArray &b, QNetworkReply *, bool &ok) -> ClientError {
            if (status != 200)
                return statusError(status, b);
            ClientError e;
            auto v = parseBody(status, b, &e);
            if (!v)
                return e;
            const QCborMap m = v->toMap();
            const QCborValue token = m.value(QStringLiteral("token"));
            const QCborValue expires = m.value(QStringLiteral("expiresAt"));
            if (!token.isString() || !json::isNumber(expires))
                return unhandled(status, QStringLiteral("the login answer lacks token or expiresAt"));
            m_bearer = token.toString().toLatin1();
            m_expiresAt = qint64(json::toDouble(expires));
            m_issuedAt = QDateTime::currentSecsSinceEpoch();
            ok = true;
            return {};
        },
        false);
    m_loginCall = call;
    connect(call, &CallBase::finished, this, [this, call] { loginFinished(call->error()); });
}

void Client::loginFinished(const ClientError &error)
{
    m_loggingIn = false;
    m_loginCall = nullptr;
    const QList<QPointer<CallBase>> waiting = std::exchange(m_waitingForLogin, {});
    if (!error.isError())
        Q_EMIT authenticated();
    Q_EMIT loginCompleted(error);
    for (const QPointer<CallBase> &c : waiting) {
        if (!c || c->m_finished)
            continue;
        if (error.isError())
            c->finish(error);
        else
            send(c);
    }
}

// ---- endpoints -----------------------------------------------------------------

Call<ExperimentPage> *Client::experiments(const QString &start, int limit)
{
    QUrlQuery q;
    if (!start.isEmpty())
        q.addQueryItem(QStringLiteral("start"), QString::fromLatin1(QUrl::toPercentEncoding(start)));
    if (limit > 0)
        q.addQueryItem(QStringLiteral("limit"), QString::number(limit));
    const QString query = q.isEmpty() ? QString() : QLatin1Char('?') + q.query(QUrl::FullyEncoded);
    return makeCall<ExperimentPage>(
        "GET", QStringLiteral("experiments/") + query, {},
        [](int status, const QByteArray &body, QNetworkReply *reply, ExperimentPage &out) {
            Page<Experiment> page;
            ClientError e = decodeInto(status, body, page,
                                       [](const QCborValue &v) { return codec::decodeExperimentPage(v); });
            if (!e.isError()) {
                out.items = std::move(page.items);
                out.next = page.next;
                out.total = totalOf(reply);
            }
            return e;
        });
}

Call<Experiment> *Client::experiment(const QString &name)
{
    return makeCall<Experiment>(
        "GET", QStringLiteral("experiments/%1/").arg(encodeSegment(name)), {},
        [name](int status, const QByteArray &body, QNetworkReply *reply, Experiment &out) {
            return decodeExperiment(status, body, reply, name, out);
        });
}

Call<Experiment> *Client::createExperiment(const Experiment &experiment)
{
    return updateExperiment(experiment, WriteCondition::CreateOnly);
}

Call<Experiment> *Client::updateExperiment(const Experiment &experiment, WriteCondition condition)
{
    auto *call = makeCall<Experiment>(
        "PUT", QStringLiteral("experiments/%1/").arg(encodeSegment(experiment.name)),
        json::write(condition == WriteCondition::CreateOnly ? codec::encode(experiment)
                                                            : codec::encodeReplacement(experiment)),
        [name = experiment.name, condition](int status, const QByteArray &body, QNetworkReply *reply,
                                            Experiment &out) {
            if (status == 412)
                return statusError(status, body, condition == WriteCondition::CreateOnly);
            return decodeExperiment(status, body, reply, name, out);
        });
    if (condition == WriteCondition::CreateOnly) {
        call->m_headers.append(qMakePair(QByteArray("If-None-Match"), QByteArray("*")));
    } else if (condition == WriteCondition::IfMatch) {
        // Without an ETag nothing can match: the empty entity tag "" fails with UnsafeUpdate
        // (rather than saving unconditionally, or creating, as an omitted header would).
        const QByteArray etag = experiment.etag.isEmpty() ? QByteArrayLiteral("\"\"") : experiment.etag;
        call->m_headers.append(qMakePair(QByteArray("If-Match"), etag));
    }
    return call;
}

Call<bool> *Client::deleteExperiment(const QString &name, bool mustExist)
{
    auto *call = makeCall<bool>("DELETE", QStringLiteral("experiments/%1/").arg(encodeSegment(name)), {},
                                [](int status, const QByteArray &body, QNetworkReply *, bool &ok) {
                                    if (!isSuccess(status))
                                        return statusError(status, body);
                                    ok = true;
                                    return ClientError{};
                                });
    if (mustExist)
        call->m_headers.append(qMakePair(QByteArray("If-Match"), QByteArray("*")));
    return call;
}

Call<JobPage> *Client::jobs(const QString &experiment, const JobListQuery &query)
{
    return makeCall<JobPage>(
        "GET", QStringLiteral("experiments/%1/jobs/").arg(encodeSegment(experiment)) + jobsQueryString(query),
        {}, [](int status, const QByteArray &body, QNetworkReply *reply, JobPage &out) {
            // Large listings: straight from the text; anything unusual the general way.
            std::optional<Page<Job>> fast;
            if (status == 200)
                fast = detail::decodeJobPageFast(body);
            Page<Job> page;
            ClientError e;
            if (fast)
                page = std::move(*fast);
            else
                e = decodeInto(status, body, page,
                               [](const QCborValue &v) { return codec::decodeJobPage(v); });
            if (!e.isError()) {
                out.items = std::move(page.items);
                out.next = page.next;
                out.total = totalOf(reply);
            }
            return e;
        });
}

Call<Job> *Client::job(const QString &experiment, const QString &id)
{
    return makeCall<Job>(
        "GET", QStringLiteral("experiments/%1/jobs/%2/").arg(encodeSegment(experiment), encodeSegment(id)),
        {}, decodeJob);
}

Call<Job> *Client::addJob(const QString &experiment, const JobWrite &job)
{
    return makeCall<Job>("POST", QStringLiteral("experiments/%1/jobs/").arg(encodeSegment(experiment)),
                         json::write(codec::encode(job)), decodeJob);
}

Call<Job> *Client::nextJob(const QString &experiment)
{
    return makeCall<Job>("GET", QStringLiteral("experiments/%1/nextjob/").arg(encodeSegment(experiment)), {},
                         [experiment](int status, const QByteArray &body, QNetworkReply *reply, Job &out) {
                             if (status == 204) {
                                 ClientError e;
                                 e.kind = ClientError::Kind::NoJob;
                                 e.httpStatus = 204;
                                 e.message = QStringLiteral("no job left for experiment %1").arg(experiment);
                                 return e;
                             }
                             return decodeJob(status, body, reply, out);
                         });
}

Call<Job> *Client::putJob(const QString &experiment, const QString &id, const JobWrite &job,
                          WriteCondition condition, const QByteArray &etag)
{
    auto *call = makeCall<Job>(
        "PUT", QStringLiteral("experiments/%1/jobs/%2/").arg(encodeSegment(experiment), encodeSegment(id)),
        json::write(codec::encode(job)),
        [condition](int status, const QByteArray &body, QNetworkReply *reply, Job &out) {
            if (status == 412)
                return jobStatusError(status, body, reply, condition == WriteCondition::CreateOnly);
            ClientError e = decodeJob(status, body, reply, out);
            if (!e.isError() && reply->rawHeader("Schedy-Job-Status") == "PRUNED")
                out.status = JobStatus::Pruned;
            return e;
        });
    // An empty If-Match would be no condition at all; like the original client,
    // a job without an ETag is written "only if it does not exist", which fails.
    if (condition == WriteCondition::IfMatch && !etag.isEmpty())
        call->m_headers.append(qMakePair(QByteArray("If-Match"), QByteArray(etag)));
    else if (condition != WriteCondition::Unconditional)
        call->m_headers.append(qMakePair(QByteArray("If-None-Match"), QByteArray("*")));
    return call;
}

Call<bool> *Client::deleteJob(const QString &experiment, const QString &id, bool mustExist)
{
    auto *call = makeCall<bool>(
        "DELETE", QStringLiteral("experiments/%1/jobs/%2/").arg(encodeSegment(experiment), encodeSegment(id)),
        {}, [](int status, const QByteArray &body, QNetworkReply *, bool &ok) {
            if (!isSuccess(status))
                return statusError(status, body);
            ok = true;
            return ClientError{};
        });
    if (mustExist)
        call->m_headers.append(qMakePair(QByteArray("If-Match"), QByteArray("*")));
    return call;
}

Call<bool> *Client::heartbeat(const QString &experiment, const QString &id, const QByteArray &etag)
{
    auto *call = makeCall<bool>(
        "POST",
        QStringLiteral("experiments/%1/jobs/%2/heartbeat/").arg(encodeSegment(experiment), encodeSegment(id)),
        QByteArray(""), [](int status, const QByteArray &body, QNetworkReply *reply, bool &ok) {
            if (!isSuccess(status))
                return jobStatusError(status, body, reply);
            ok = true;
            return ClientError{};
        });
    // As for putJob(): without an ETag nothing can match.
    call->m_headers.append(
        qMakePair(QByteArray("If-Match"), etag.isEmpty() ? QByteArrayLiteral("\"\"") : etag));
    return call;
}

Call<JobPage> *Client::allJobs(const QString &experiment, const JobListQuery &query)
{
    // A call whose parser never runs: it is finished by the page walk below.
    auto *call = new Call<JobPage>(
        this, [](int, const QByteArray &, QNetworkReply *, JobPage &) { return ClientError{}; });
    m_calls.append(call);
    struct Walk
    {
        QString experiment;
        JobListQuery query;
        QPointer<Call<JobPage>> current; // the page being received or decoded
        QPointer<Call<JobPage>> ahead;   // the next page, asked for before `current` was decoded
        QString aheadCursor;
        std::function<Call<JobPage> *(const QString &)> request;
    };
    auto walk = std::make_shared<Walk>();
    walk->experiment = experiment;
    walk->query = query;
    if (walk->query.limit <= 0)
        walk->query.limit = 1000;
    // The walk ends early (abort, error, client gone): drop the pages in flight.
    connect(call, &CallBase::finished, this, [walk] {
        if (walk->current)
            walk->current->abort();
        if (walk->ahead)
            walk->ahead->abort();
        walk->request = nullptr; // breaks the cycle through the lambdas
    });
    walk->request = [this, call, w = std::weak_ptr<Walk>(walk)](const QString &start) -> Call<JobPage> * {
        const std::shared_ptr<Walk> walk = w.lock();
        if (!walk)
            return nullptr;
        JobListQuery q = walk->query;
        q.start = start;
        Call<JobPage> *page = jobs(walk->experiment, q);
        connect(call, &QObject::destroyed, page, &CallBase::abort);
        page->m_onBody = [w](const QByteArray &body) {
            // Ask for the next page now; it is produced while this one is decoded.
            const std::shared_ptr<Walk> walk = w.lock();
            if (!walk || !walk->request || walk->ahead)
                return;
            const QString next = detail::peekNextCursor(body);
            if (!next.isEmpty()) {
                walk->aheadCursor = next;
                walk->ahead = walk->request(next);
            }
        };
        connect(page, &CallBase::finished, call, [call, page, w] {
            const std::shared_ptr<Walk> walk = w.lock();
            // Pages finish in turn (none finishes inside submit()); should one have
            // finished before it became the current page, it is taken up below.
            for (Call<JobPage> *p = page; walk && p && p == walk->current && !call->isFinished();) {
                call->m_httpStatus = p->httpStatus();
                if (!p->ok()) {
                    call->finish(p->error());
                    return;
                }
                JobPage &value = p->m_value;
                if (value.total && !call->m_value.total)
                    call->m_value.total = value.total;
                const bool more = !value.next.isEmpty() && !value.items.isEmpty();
                call->m_value.items.append(std::move(value.items));
                if (walk->ahead && (!more || walk->aheadCursor != value.next)) {
                    walk->ahead->abort(); // the early guess was wrong: ask properly
                    walk->ahead = nullptr;
                }
                if (!more) {
                    call->finish({});
                    return;
                }
                walk->current = walk->ahead ? walk->ahead.data() : walk->request(value.next);
                walk->ahead = nullptr;
                p = walk->current && walk->current->isFinished() ? walk->current.data() : nullptr;
            }
        });
        submit(page); // now, not from the event loop: it overlaps the decoding of this page
        return page;
    };
    QTimer::singleShot(0, call, [call, walk] {
        if (!call->isFinished() && walk->request)
            walk->current = walk->request(walk->query.start);
    });
    return call;
}

Call<JobPage> *Client::changesSince(const QString &experiment, double since, const JobListQuery &filter)
{
    JobListQuery query = filter;
    query.start.clear();
    query.modifiedSince = since;
    return allJobs(experiment, query);
}

Call<bool> *Client::login()
{
    auto *call =
        new Call<bool>(this, [](int, const QByteArray &, QNetworkReply *, bool &) { return ClientError{}; });
    m_calls.append(call);
    QTimer::singleShot(0, call, [this, call] {
        if (call->m_finished)
            return; // aborted before it started
        if (!m_loggingIn)
            m_bearer.clear();
        auto conn = std::make_shared<QMetaObject::Connection>();
        *conn = connect(this, &Client::loginCompleted, call, [call, conn](const ClientError &e) {
            QObject::disconnect(*conn);
            call->m_value = !e.isError();
            call->finish(e);
        });
        startLogin();
    });
    return call;
}

Call<ClientConfig> *Client::resetToken()
{
    return makeCall<ClientConfig>("POST", QStringLiteral("resettoken/"), QByteArray(""),
                                  [](int status, const QByteArray &body, QNetworkReply *, ClientConfig &out) {
                                      if (status != 200)
                                          return statusError(status, body);
                                      QString error;
                                      auto config = ClientConfig::fromJson(body, &error);
                                      if (!config)
                                          return unhandled(status,
                                                           QStringLiteral("invalid client config: ") + error);
                                      out = *config;
                                      return ClientError{};
                                  });
}

} // namespace schedy
