#include "Api.h"

#include "ClientConfig.h"
#include "Codec.h"
#include "Json.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QStringDecoder>
#include <QUrl>

#include <cmath>

namespace schedy::server {
namespace {

const QByteArray JsonType = "application/json; charset=utf-8";

bool methodIs(const HttpRequest &r, const char *m)
{
    return r.method == m;
}

// Form-decoding of a query string: '+' is a space (Python's urlencode).
QList<QPair<QString, QString>> parseQuery(const QByteArray &query)
{
    QList<QPair<QString, QString>> out;
    for (const QByteArray &pair : query.split('&')) {
        if (pair.isEmpty())
            continue;
        const qsizetype eq = pair.indexOf('=');
        QByteArray k = eq < 0 ? pair : pair.left(eq);
        QByteArray v = eq < 0 ? QByteArray() : pair.mid(eq + 1);
        k.replace('+', ' ');
        v.replace('+', ' ');
        out.append({QString::fromUtf8(QByteArray::fromPercentEncoding(k)),
                    QString::fromUtf8(QByteArray::fromPercentEncoding(v))});
    }
    return out;
}

QString queryValue(const QList<QPair<QString, QString>> &q, const char *key, bool *present = nullptr)
{
    for (const auto &kv : q) {
        if (kv.first == QLatin1String(key)) {
            if (present)
                *present = true;
            return kv.second;
        }
    }
    if (present)
        *present = false;
    return {};
}

// Decodes one path segment; nullopt when it is not valid UTF-8.
std::optional<QString> decodeSegment(const QByteArray &raw)
{
    QByteArray bytes = QByteArray::fromPercentEncoding(raw);
    // A leading U+FEFF is part of the name, not a mark to drop: dropping it
    // made "%EF%BB%BFsecret" the same experiment as "secret".
    const bool bom = bytes.startsWith("\xEF\xBB\xBF");
    if (bom)
        bytes.remove(0, 3);
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString s = decoder(bytes);
    if (decoder.hasError())
        return std::nullopt;
    return bom ? QChar(0xFEFF) + s : s;
}

// A client-chosen job id is kept as sent, but must stay one file name (ids
// are promised safe as file names, docs/protocol.md): no path separator.
// checkName already refuses '.', '..' and control characters.
QString jobIdError(const QString &id)
{
    if (id.contains(QLatin1Char('/')) || id.contains(QLatin1Char('\\')))
        return QStringLiteral("job id must not contain '/' or '\\' (job ids are safe as file names)");
    return {};
}

QByteArray methodsAllowed(const QList<QString> &segments)
{
    const qsizetype n = segments.size();
    if (n == 1 && (segments[0] == QLatin1String("token") || segments[0] == QLatin1String("passauth") ||
                   segments[0] == QLatin1String("resettoken")))
        return "POST";
    if (n == 1 && segments[0] == QLatin1String("experiments"))
        return "GET";
    if (n == 2 && segments[0] == QLatin1String("experiments"))
        return "GET, PUT, DELETE";
    if (n == 3 && segments[0] == QLatin1String("experiments") && segments[2] == QLatin1String("jobs"))
        return "GET, POST";
    if (n == 3 && segments[0] == QLatin1String("experiments") && segments[2] == QLatin1String("nextjob"))
        return "GET";
    if (n == 4 && segments[0] == QLatin1String("experiments") && segments[2] == QLatin1String("jobs"))
        return "GET, PUT, DELETE";
    if (n == 5 && segments[0] == QLatin1String("experiments") && segments[2] == QLatin1String("jobs") &&
        segments[4] == QLatin1String("heartbeat"))
        return "POST";
    return {};
}

} // namespace

QByteArray HttpRequest::header(const QByteArray &name) const
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second.trimmed();
    }
    return {};
}

Api::Api(Store &store, ApiOptions options)
    : m_store(store)
    , m_options(std::move(options))
    , m_signer(store.secret(), m_options.tokenLifetime)
    , m_clock([] { return QDateTime::currentSecsSinceEpoch(); })
    , m_monotonic([] {
        static const QElapsedTimer started = [] {
            QElapsedTimer t;
            t.start();
            return t;
        }();
        return started.elapsed();
    })
{}

PasswordCheck::Result PasswordCheck::check() const
{
    Result r;
    r.ok = verifyPassword(password, storedHash) && user.has_value();
    if (r.ok && passwordIterations(storedHash) < iterations)
        r.rehash = hashPassword(password, iterations);
    return r;
}

HttpResponse Api::json(int status, const QByteArray &body)
{
    HttpResponse r;
    r.status = status;
    r.headers.append({"Content-Type", JsonType});
    r.body = body;
    return r;
}

HttpResponse Api::error(int status, const QString &message)
{
    return json(status, json::write(QCborMap{{QStringLiteral("error"), message}}));
}

HttpResponse Api::storeError(StoreStatus status, const QString &message)
{
    switch (status) {
    case StoreStatus::NotFound:
        return error(404, message);
    case StoreStatus::PreconditionFailed:
        return error(412, message);
    case StoreStatus::Invalid:
        return error(400, message);
    case StoreStatus::Busy: {
        HttpResponse r = error(503, message);
        r.headers.append({QByteArrayLiteral("Retry-After"), QByteArrayLiteral("1")});
        return r;
    }
    case StoreStatus::Error:
        return error(500, message);
    case StoreStatus::Ok:
    case StoreStatus::Created:
        break;
    }
    return error(500, message);
}

HttpResponse Api::handle(const HttpRequest &request)
{
    ApiOutcome outcome = begin(request);
    if (outcome.check)
        return finishPasswordLogin(*outcome.check, outcome.check->check());
    return outcome.response;
}

bool Api::bearerValid(const QByteArray &authorization)
{
    BearerClaims claims;
    return !checkBearer(authorization, &claims);
}

std::optional<HttpResponse> Api::checkBearer(const QByteArray &authorization, BearerClaims *claims)
{
    if (authorization.isEmpty())
        return error(401, QStringLiteral("authentication required: missing Authorization header"));
    if (!authorization.startsWith("Bearer ") && !authorization.startsWith("bearer "))
        return error(401, QStringLiteral("authentication required: Authorization must be 'Bearer TOKEN'"));
    switch (m_signer.verify(authorization.mid(7).trimmed(), m_clock(), claims)) {
    case TokenSigner::Check::Valid:
        break;
    case TokenSigner::Check::Expired:
        return error(401, QStringLiteral("bearer token expired; authenticate again"));
    case TokenSigner::Check::Malformed:
        return error(401, QStringLiteral("malformed bearer token"));
    case TokenSigner::Check::BadSignature:
        return error(401, QStringLiteral("invalid bearer token"));
    }
    // Asked of the database every time, not cached: another process may have
    // reset the token a moment ago (docs/server.md, "Token resets").
    const StoreResult<qint64> generation = m_store.tokenGeneration(claims->userId);
    if (generation.status == StoreStatus::NotFound)
        return error(401, QStringLiteral("the user of this bearer token no longer exists"));
    if (!generation.ok()) // the database's answer (503 + Retry-After when unavailable), never a 401
        return storeError(generation.status, generation.message);
    if (generation.value != claims->generation)
        return error(401, QStringLiteral("bearer token revoked: the API token was reset since it was issued; "
                                         "log in with the new token"));
    return std::nullopt;
}

ApiOutcome Api::begin(const HttpRequest &request)
{
    QByteArray path = request.path;
    if (!m_options.pathPrefix.isEmpty() && path.startsWith(QByteArray(m_options.pathPrefix + '/')))
        path = path.mid(m_options.pathPrefix.size());
    if (!path.startsWith('/'))
        return error(404, QStringLiteral("unknown path"));
    // Split the raw path first, then decode each segment, so that %2F stays inside a name.
    QList<QByteArray> raw = path.mid(1).split('/');
    if (raw.size() > 1 && raw.last().isEmpty())
        raw.removeLast(); // the trailing '/'
    QList<QString> segments;
    for (const QByteArray &r : raw) {
        auto s = decodeSegment(r);
        if (!s)
            return error(400, QStringLiteral("path is not valid UTF-8"));
        segments.append(*s);
    }
    const QByteArray allowed = methodsAllowed(segments);
    if (allowed.isEmpty())
        return error(404, QStringLiteral("unknown path %1").arg(QString::fromUtf8(request.path.left(200))));
    bool methodOk = false;
    for (const QByteArray &m : allowed.split(','))
        methodOk = methodOk || m.trimmed() == request.method;
    if (!methodOk) {
        HttpResponse r =
            error(405, QStringLiteral("method %1 not allowed here (allowed: %2)")
                           .arg(QString::fromLatin1(request.method.left(20)), QString::fromLatin1(allowed)));
        r.headers.append({"Allow", allowed});
        return r;
    }
    if (m_options.maxBodyBytes > 0 && request.body.size() > m_options.maxBodyBytes)
        return error(413, QStringLiteral("request body larger than %1 bytes").arg(m_options.maxBodyBytes));
    return route(request, segments);
}

ApiOutcome Api::route(const HttpRequest &request, const QList<QString> &segments)
{
    if (segments[0] == QLatin1String("token"))
        return login(request, false);
    if (segments[0] == QLatin1String("passauth"))
        return login(request, true);

    // Everything else needs a bearer, of the user's current token generation.
    BearerClaims claims;
    if (auto refused = checkBearer(request.header("Authorization"), &claims))
        return *refused;
    const qint64 user = claims.userId;

    if (segments[0] == QLatin1String("resettoken"))
        return resetToken(user);
    if (segments.size() == 1)
        return listExperiments(user, request);

    const QString &name = segments[1];
    const QString nameError = checkName(name, QStringLiteral("experiment name"));
    if (!nameError.isEmpty())
        return error(400, nameError);
    if (segments.size() == 2) {
        if (methodIs(request, "GET"))
            return getExperiment(user, name);
        if (methodIs(request, "PUT"))
            return putExperiment(user, name, request);
        return deleteExperiment(user, name, request);
    }
    if (segments[2] == QLatin1String("nextjob"))
        return nextJob(user, name);
    if (segments.size() == 3) {
        if (methodIs(request, "GET"))
            return listJobs(user, name, request);
        return postJob(user, name, request);
    }
    const QString &id = segments[3];
    const QString idError = checkName(id, QStringLiteral("job id"));
    if (!idError.isEmpty())
        return error(400, idError);
    if (segments.size() == 5)
        return heartbeat(user, name, id, request);
    if (methodIs(request, "GET"))
        return getJob(user, name, id);
    if (methodIs(request, "PUT")) {
        // Only where an id can be made: jobs stored before the rule stay readable and deletable.
        const QString unsafe = jobIdError(id);
        if (!unsafe.isEmpty())
            return error(400, unsafe);
        return putJob(user, name, id, request);
    }
    return deleteJob(user, name, id, request);
}

ApiOutcome Api::login(const HttpRequest &request, bool password)
{
    auto body = codec::parseJson(request.body);
    if (!body)
        return error(400, body.error().message());
    if (!body->isMap())
        return error(400, QStringLiteral("expected a JSON object with email and token"));
    const QCborMap m = body->toMap();
    const QCborValue email = m.value(QStringLiteral("email"));
    const QCborValue token = m.value(QStringLiteral("token"));
    if (!email.isString())
        return error(400, QStringLiteral("email: must be a string"));
    if (!token.isString())
        return error(400, QStringLiteral("token: must be a string"));
    if (password) {
        // Limits first: a refused attempt costs no hash and no query.
        const qint64 now = m_monotonic();
        const QByteArray emailKey = email.toString().toLower().toUtf8();
        const qint64 wait =
            std::max(m_emailFailures.retryAfter(emailKey, now), m_peerFailures.retryAfter(request.peer, now));
        if (wait > 0) {
            HttpResponse r = error(429, QStringLiteral("too many failed password logins; retry in %1 s "
                                                       "(or log in with the API token)")
                                            .arg(wait));
            r.headers.append({"Retry-After", QByteArray::number(wait)});
            return r;
        }
    }
    const auto found = m_store.userByEmail(email.toString());
    // A database that failed is not a wrong password: the client retries a 503 and
    // gives up on a 403 (issue 17, finding 6).
    if (!found.ok() && found.status != StoreStatus::NotFound)
        return storeError(found.status, found.message);
    const std::optional<User> user = found.ok() ? std::optional<User>(found.value) : std::nullopt;
    if (password) {
        // An unknown email, or a user without a password, is checked against a
        // decoy of the same cost: the answer's time does not tell them apart.
        PasswordCheck check;
        check.email = email.toString();
        check.password = token.toString();
        check.peer = request.peer;
        check.iterations = m_options.passwordIterations;
        if (user && !user->passwordHash.isEmpty()) {
            check.storedHash = user->passwordHash;
            check.user = user;
        } else {
            check.storedHash = decoyPasswordHash(m_options.passwordIterations);
        }
        return check;
    }
    const bool ok = user && !user->tokenHash.isEmpty() &&
                    constantTimeEquals(hashApiToken(token.toString()), user->tokenHash);
    if (!ok)
        return error(403, QStringLiteral("wrong email or API token"));
    return bearerResponse(*user);
}

HttpResponse Api::finishPasswordLogin(const PasswordCheck &check, const PasswordCheck::Result &result)
{
    if (!result.ok || !check.user) {
        const qint64 now = m_monotonic();
        m_emailFailures.failed(check.email.toLower().toUtf8(), now);
        m_peerFailures.failed(check.peer, now);
        return error(403, QStringLiteral("wrong email or password"));
    }
    // A hash made with fewer iterations than today's is replaced while the
    // password is at hand; failing to store it only postpones that.
    if (!result.rehash.isEmpty())
        m_store.setPasswordHash(check.user->id, result.rehash);
    return bearerResponse(*check.user);
}

HttpResponse Api::bearerResponse(const User &user)
{
    // The generation of the row whose token or password was checked: a reset
    // committed since makes this bearer revoked already.
    qint64 expiresAt = 0;
    const QByteArray bearer =
        m_signer.issue(user.id, user.email, m_clock(), &expiresAt, user.tokenGeneration);
    return json(200, json::write(QCborMap{{QStringLiteral("token"), QString::fromLatin1(bearer)},
                                          {QStringLiteral("expiresAt"), expiresAt}}));
}

HttpResponse Api::resetToken(qint64 userId)
{
    const auto found = m_store.userById(userId);
    if (found.status == StoreStatus::NotFound)
        return error(401, QStringLiteral("the user of this bearer token no longer exists"));
    if (!found.ok())
        return storeError(found.status, found.message);
    const User *user = &found.value;
    const QByteArray token = randomToken();
    if (!m_store.setTokenHash(user->id, hashApiToken(QString::fromLatin1(token))))
        return error(500, QStringLiteral("could not store the new token; the old one still works"));
    ClientConfig config;
    config.root = m_options.publicUrl;
    config.email = user->email;
    config.token = QString::fromLatin1(token);
    config.tokenType = ClientConfig::TokenType::ApiToken;
    return json(200, config.toJson());
}

HttpResponse Api::listExperiments(qint64 user, const HttpRequest &request)
{
    const auto q = parseQuery(request.query);
    int limit = 100;
    bool present = false;
    const QString limitText = queryValue(q, "limit", &present);
    if (present) {
        bool ok = false;
        limit = limitText.toInt(&ok);
        if (!ok || limit < 1 || limit > 10000)
            return error(400, QStringLiteral("limit: must be an integer from 1 to 10000"));
    }
    auto r = m_store.listExperiments(user, queryValue(q, "start"), limit);
    if (!r.ok())
        return storeError(r.status, r.message);
    QCborArray items;
    for (const Experiment &e : r.value.items)
        items.append(codec::encode(e));
    HttpResponse response = json(200, json::write(codec::encodePage(items, r.value.next)));
    if (r.value.total)
        response.headers.append({"X-Total-Count", QByteArray::number(*r.value.total)});
    return response;
}

HttpResponse Api::experimentResponse(int status, const Experiment &e)
{
    HttpResponse r = json(status, json::write(codec::encode(e)));
    r.headers.append({"ETag", e.etag});
    return r;
}

HttpResponse Api::getExperiment(qint64 user, const QString &name)
{
    auto r = m_store.experiment(user, name);
    if (!r.ok())
        return storeError(r.status, r.message);
    return experimentResponse(200, r.value);
}

HttpResponse Api::putExperiment(qint64 user, const QString &name, const HttpRequest &request)
{
    auto body = codec::parseJson(request.body);
    if (!body)
        return error(400, body.error().message());
    // Section 8's keys: left out, they keep their stored values (see Store::putExperiment).
    auto decoded = codec::decodeExperimentUpdate(*body);
    if (!decoded)
        return error(400, decoded.error().message());
    ExperimentUpdate u = decoded.value();
    Experiment &e = u.experiment;
    if (!e.name.isEmpty() && e.name != name)
        return error(400,
                     QStringLiteral("name: '%1' does not match the name in the URL").arg(e.name.left(50)));
    e.name = name;
    // Extension: If-Match with an experiment's ETag saves only over that version. The
    // original client sends no ETag here; If-Match: * compares nothing, as it always has.
    Condition c = Condition::None;
    const QByteArray ifMatch = request.header("If-Match");
    if (!ifMatch.isEmpty() && ifMatch != "*")
        c = Condition::IfMatch;
    else if (request.header("If-None-Match") == "*")
        c = Condition::IfNoneMatchAny;
    auto r = m_store.putExperiment(user, u, c, ifMatch);
    if (!r.ok())
        return storeError(r.status, r.message);
    return experimentResponse(r.status == StoreStatus::Created ? 201 : 200, r.value);
}

HttpResponse Api::deleteExperiment(qint64 user, const QString &name, const HttpRequest &request)
{
    const bool mustExist = !request.header("If-Match").isEmpty();
    auto r = m_store.deleteExperiment(user, name);
    if (r.status == StoreStatus::NotFound) {
        // Deleting what is not there succeeds unless the client insisted it exists.
        if (mustExist)
            return error(412, r.message);
        HttpResponse gone;
        gone.status = 204;
        return gone;
    }
    if (!r.ok())
        return storeError(r.status, r.message);
    HttpResponse response;
    response.status = 204;
    return response;
}

HttpResponse Api::listJobs(qint64 user, const QString &name, const HttpRequest &request)
{
    const auto q = parseQuery(request.query);
    JobQuery query;
    query.cursor = queryValue(q, "start");
    query.wantTotal = query.cursor.isEmpty();
    bool present = false;
    const QString limit = queryValue(q, "limit", &present);
    if (present) {
        bool ok = false;
        query.limit = limit.toInt(&ok);
        if (!ok || query.limit < 1 || query.limit > 10000)
            return error(400, QStringLiteral("limit: must be an integer from 1 to 10000"));
    }
    const QString status = queryValue(q, "status", &present);
    if (present) {
        for (const QString &s : status.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            const auto js = jobStatusFromString(s.trimmed());
            if (!js) {
                return error(400, QStringLiteral("status: unknown job status '%1' (expected QUEUED, RUNNING, "
                                                 "CRASHED, PRUNED or DONE)")
                                      .arg(s.left(40)));
            }
            query.statuses.append(*js);
        }
    }
    const QString sort = queryValue(q, "sort", &present);
    if (present && !sort.isEmpty()) {
        using F = JobSort::Field;
        if (sort == QLatin1String("id"))
            query.sort.field = F::Id;
        else if (sort == QLatin1String("status"))
            query.sort.field = F::Status;
        else if (sort == QLatin1String("createdAt"))
            query.sort.field = F::CreatedAt;
        else if (sort == QLatin1String("modifiedAt"))
            query.sort.field = F::ModifiedAt;
        else if (sort.startsWith(QLatin1String("hyperparameters.")) && sort.size() > 16) {
            query.sort.field = F::Hyperparameter;
            query.sort.name = sort.mid(16);
        } else if (sort.startsWith(QLatin1String("results.")) && sort.size() > 8) {
            query.sort.field = F::Result;
            query.sort.name = sort.mid(8);
        } else {
            return error(400, QStringLiteral("sort: expected id, status, createdAt, modifiedAt, "
                                             "hyperparameters.NAME or results.NAME"));
        }
        if (query.sort.name.contains(QLatin1Char('"')))
            return error(400, QStringLiteral("sort: names containing '\"' cannot be sorted on"));
    }
    const QString order = queryValue(q, "order", &present);
    if (present) {
        if (order == QLatin1String("desc"))
            query.sort.descending = true;
        else if (order != QLatin1String("asc"))
            return error(400, QStringLiteral("order: expected asc or desc"));
    }
    const QString since = queryValue(q, "modifiedSince", &present);
    if (present) {
        bool ok = false;
        const double t = since.toDouble(&ok);
        if (!ok || !std::isfinite(t))
            return error(400, QStringLiteral("modifiedSince: expected a number of seconds since the epoch"));
        query.modifiedSince = t;
    }
    query.idContains = queryValue(q, "idContains");

    auto r = m_store.listJobs(user, name, query);
    if (!r.ok())
        return storeError(r.status, r.message);
    QByteArray body = "{\"items\":[";
    bool first = true;
    for (const StoredJob &j : r.value.items) {
        if (!first)
            body += ',';
        first = false;
        body += codec::writeJobDocument(j.job, j.hyperparametersJson, j.resultsJson);
    }
    body += "],\"next\":";
    body += r.value.next.isEmpty() ? QByteArray("null") : json::write(QCborValue(r.value.next));
    body += '}';
    HttpResponse response = json(200, body);
    if (r.value.total)
        response.headers.append({"X-Total-Count", QByteArray::number(*r.value.total)});
    return response;
}

HttpResponse Api::jobResponse(int status, const StoredJob &job)
{
    HttpResponse r = json(status, codec::writeJobDocument(job.job, job.hyperparametersJson, job.resultsJson));
    r.headers.append({"ETag", job.job.etag});
    return r;
}

HttpResponse Api::postJob(qint64 user, const QString &name, const HttpRequest &request)
{
    auto body = codec::parseJson(request.body.isEmpty() ? QByteArray("{}") : request.body);
    if (!body)
        return error(400, body.error().message());
    auto w = codec::decodeJobWrite(*body, false);
    if (!w)
        return error(400, w.error().message());
    auto r = m_store.createJob(user, name, w.value());
    if (!r.ok())
        return storeError(r.status, r.message);
    HttpResponse response = jobResponse(201, r.value);
    response.headers.append({"Location", "jobs/" + QUrl::toPercentEncoding(r.value.job.id) + '/'});
    return response;
}

HttpResponse Api::nextJob(qint64 user, const QString &name)
{
    auto r = m_store.nextJob(user, name, m_sampler);
    if (!r.ok())
        return storeError(r.status, r.message);
    if (r.value.job.id.isEmpty()) {
        HttpResponse none;
        none.status = 204;
        return none;
    }
    return jobResponse(200, r.value);
}

HttpResponse Api::getJob(qint64 user, const QString &name, const QString &id)
{
    auto r = m_store.job(user, name, id);
    if (!r.ok())
        return storeError(r.status, r.message);
    return jobResponse(200, r.value);
}

HttpResponse Api::putJob(qint64 user, const QString &name, const QString &id, const HttpRequest &request)
{
    auto body = codec::parseJson(request.body);
    if (!body)
        return error(400, body.error().message());
    auto w = codec::decodeJobWrite(*body, true);
    if (!w)
        return error(400, w.error().message());
    Condition c = Condition::None;
    const QByteArray ifMatch = request.header("If-Match");
    if (!ifMatch.isEmpty())
        c = Condition::IfMatch;
    else if (request.header("If-None-Match") == "*")
        c = Condition::IfNoneMatchAny;
    else if (!request.header("If-None-Match").isEmpty())
        return error(400, QStringLiteral("If-None-Match: only '*' is supported"));
    auto r = m_store.putJob(user, name, id, w.value(), c, ifMatch);
    if (!r.ok())
        return storeError(r.status, r.message);
    HttpResponse response = jobResponse(r.status == StoreStatus::Created ? 201 : 200, r.value);
    // The server decided otherwise (a pruner stopped the job): said in a header, as the
    // original client reads none of the body (section 8.2).
    if (r.value.job.status != w->status)
        response.headers.append({"Schedy-Job-Status", toString(r.value.job.status).toLatin1()});
    return response;
}

HttpResponse Api::heartbeat(qint64 user, const QString &name, const QString &id, const HttpRequest &request)
{
    const QByteArray ifMatch = request.header("If-Match");
    if (ifMatch.isEmpty())
        return error(428, QStringLiteral("a heartbeat needs If-Match with the job's ETag"));
    auto r = m_store.heartbeat(user, name, id, ifMatch);
    if (!r.ok())
        return storeError(r.status, r.message);
    HttpResponse response;
    response.status = 204;
    response.headers.append({"ETag", ifMatch}); // unchanged: the next report still matches
    return response;
}

HttpResponse Api::deleteJob(qint64 user, const QString &name, const QString &id, const HttpRequest &request)
{
    const bool mustExist = !request.header("If-Match").isEmpty();
    auto r = m_store.deleteJob(user, name, id);
    // A job of a missing experiment is a missing job: gone already unless the client insists it exists.
    if (r.status == StoreStatus::NotFound)
        r = StoreResult<bool>{};
    if (!r.ok())
        return storeError(r.status, r.message);
    if (!r.value && mustExist)
        return error(412, QStringLiteral("no job '%1' in experiment '%2'").arg(id, name));
    HttpResponse response;
    response.status = 204;
    return response;
}

} // namespace schedy::server
