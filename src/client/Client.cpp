#include "Client.h"

#include "Codec.h"
#include "Json.h"

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

ClientError unhandled(int status, const QString &message)
{
    ClientError e;
    e.kind = ClientError::Kind::UnhandledResponse;
    e.httpStatus = status;
    e.message = message;
    return e;
}

bool isSuccess(int status) { return status == 200 || status == 201 || status == 204; }

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
    Q_EMIT finished();
    if (m_autoDelete)
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
    const QList<QPointer<CallBase>> calls = m_calls;
    for (const QPointer<CallBase> &c : calls) {
        if (c && !c->isFinished()) {
            c->setAutoDelete(false);
            c->abort();
        }
    }
}

void Client::setConfig(const ClientConfig &config)
{
    m_config = config;
    m_config.root = normalizedRoot(config.root);
    m_bearer.clear();
    m_expiresAt = 0;
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
    call->m_onRetry = [this, call] { send(call); };
    m_calls.append(call);
    // Submitted from the event loop, so that the caller can connect first.
    QTimer::singleShot(0, call, [this, call] { submit(call); });
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
        ClientError e;
        e.kind = ClientError::Kind::Network;
        e.message = QStringLiteral("no server configured");
        call->finish(e);
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
    const QByteArray body = reply->readAll();
    call->m_httpStatus = status;

    // No complete HTTP response: refused, reset, truncated body, timed out
    // (the transfer timeout aborts the reply; our own aborts never get here).
    const bool transportError = netError != QNetworkReply::NoError && netError < QNetworkReply::ContentAccessDenied;
    if (status == 0 || transportError) {
        ClientError e;
        const bool timeout = netError == QNetworkReply::OperationCanceledError || netError == QNetworkReply::TimeoutError;
        e.kind = timeout ? ClientError::Kind::Timeout : ClientError::Kind::Network;
        e.httpStatus = status;
        e.message = timeout ? QStringLiteral("no answer from %1 within %2 s").arg(m_config.root).arg(m_policy.timeoutMs / 1000.0)
                            : reply->errorString();
        retryLater(call, e);
        return;
    }

    if (status == 500 || status == 503) {
        retryLater(call, statusError(status, body));
        return;
    }
    if (status == 401 && call->m_authenticated && !call->m_retriedAfter401) {
        // The bearer was refused before its time (e.g. the server's secret
        // changed): log in again once and repeat the request.
        call->m_retriedAfter401 = true;
        m_bearer.clear();
        m_waitingForLogin.append(call);
        startLogin();
        return;
    }
    call->finish(call->parse(status, body, reply));
}

void Client::startLogin()
{
    if (m_loggingIn)
        return;
    m_loggingIn = true;
    const bool password = m_config.tokenType == ClientConfig::TokenType::Password;
    const QByteArray body = json::write(QCborMap{{QStringLiteral("email"), m_config.email},
                                                 {QStringLiteral("token"), m_config.token}});
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
    connect(call, &CallBase::finished, this, [this, call] { loginFinished(call->error()); });
}

void Client::loginFinished(const ClientError &error)
{
    m_loggingIn = false;
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
            ClientError e = decodeInto(status, body, page, [](const QCborValue &v) { return codec::decodeExperimentPage(v); });
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
    return makeCall<Experiment>("GET", QStringLiteral("experiments/%1/").arg(encodeSegment(name)), {},
                                [](int status, const QByteArray &body, QNetworkReply *, Experiment &out) {
                                    return decodeInto(status, body, out, [](const QCborValue &v) {
                                        return codec::decodeExperiment(v);
                                    });
                                });
}

Call<Experiment> *Client::createExperiment(const Experiment &experiment)
{
    QCborMap doc = codec::encode(experiment);
    auto *call = makeCall<Experiment>(
        "PUT", QStringLiteral("experiments/%1/").arg(encodeSegment(experiment.name)), json::write(doc),
        [name = experiment.name](int status, const QByteArray &body, QNetworkReply *, Experiment &out) {
            if (status == 412)
                return statusError(status, body, true);
            ClientError e = decodeInto(status, body, out, [](const QCborValue &v) { return codec::decodeExperiment(v); });
            if (!e.isError() && out.name.isEmpty())
                out.name = name;
            return e;
        });
    call->m_headers.append(qMakePair(QByteArray("If-None-Match"), QByteArray("*")));
    return call;
}

Call<Experiment> *Client::updateExperiment(const Experiment &experiment)
{
    return makeCall<Experiment>(
        "PUT", QStringLiteral("experiments/%1/").arg(encodeSegment(experiment.name)),
        json::write(codec::encode(experiment)),
        [name = experiment.name](int status, const QByteArray &body, QNetworkReply *, Experiment &out) {
            ClientError e = decodeInto(status, body, out, [](const QCborValue &v) { return codec::decodeExperiment(v); });
            if (!e.isError() && out.name.isEmpty())
                out.name = name;
            return e;
        });
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
        "GET", QStringLiteral("experiments/%1/jobs/").arg(encodeSegment(experiment)) + jobsQueryString(query), {},
        [](int status, const QByteArray &body, QNetworkReply *reply, JobPage &out) {
            Page<Job> page;
            ClientError e = decodeInto(status, body, page, [](const QCborValue &v) { return codec::decodeJobPage(v); });
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
    return makeCall<Job>("GET",
                         QStringLiteral("experiments/%1/jobs/%2/").arg(encodeSegment(experiment), encodeSegment(id)),
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
                return statusError(status, body, condition == WriteCondition::CreateOnly);
            return decodeJob(status, body, reply, out);
        });
    if (condition == WriteCondition::IfMatch)
        call->m_headers.append(qMakePair(QByteArray("If-Match"), QByteArray(etag)));
    else if (condition == WriteCondition::CreateOnly)
        call->m_headers.append(qMakePair(QByteArray("If-None-Match"), QByteArray("*")));
    return call;
}

Call<bool> *Client::deleteJob(const QString &experiment, const QString &id, bool mustExist)
{
    auto *call = makeCall<bool>(
        "DELETE", QStringLiteral("experiments/%1/jobs/%2/").arg(encodeSegment(experiment), encodeSegment(id)), {},
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

Call<JobPage> *Client::changesSince(const QString &experiment, double since, const JobListQuery &filter)
{
    // A call whose parser never runs: it is finished by the page walk below.
    auto *call = new Call<JobPage>(this, [](int, const QByteArray &, QNetworkReply *, JobPage &) { return ClientError{}; });
    m_calls.append(call);
    JobListQuery query = filter;
    query.modifiedSince = since;
    query.limit = query.limit > 0 ? query.limit : 1000;
    auto step = std::make_shared<std::function<void(const QString &)>>();
    *step = [this, call, experiment, query, step](const QString &start) {
        JobListQuery q = query;
        q.start = start;
        auto *page = jobs(experiment, q);
        connect(call, &QObject::destroyed, page, &CallBase::abort);
        connect(page, &CallBase::finished, call, [call, page, step] {
            if (call->isFinished())
                return;
            if (!page->ok()) {
                *step = nullptr;
                call->finish(page->error());
                return;
            }
            call->m_value.items.append(page->value().items);
            if (page->value().total && !call->m_value.total)
                call->m_value.total = page->value().total;
            if (page->value().next.isEmpty() || page->value().items.isEmpty()) {
                *step = nullptr; // break the self-reference
                call->finish({});
            } else {
                (*step)(page->value().next);
            }
        });
    };
    connect(call, &QObject::destroyed, this, [step] { *step = nullptr; });
    QTimer::singleShot(0, call, [step] {
        if (*step)
            (*step)(QString());
    });
    return call;
}

Call<bool> *Client::login()
{
    auto *call = new Call<bool>(this, [](int, const QByteArray &, QNetworkReply *, bool &) { return ClientError{}; });
    m_calls.append(call);
    QTimer::singleShot(0, call, [this, call] {
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
                                          return unhandled(status, QStringLiteral("invalid client config: ") + error);
                                      out = *config;
                                      return ClientError{};
                                  });
}

} // namespace schedy
