#pragma once

#include "Auth.h"
#include "LoginLimiter.h"
#include "Sampler.h"
#include "Store.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

#include <functional>
#include <optional>

namespace schedy::server {

using HeaderList = QList<QPair<QByteArray, QByteArray>>;

struct HttpRequest
{
    QByteArray method;  // "GET", "PUT", ...
    QByteArray path;    // still percent-encoded
    QByteArray query;   // raw query string, without '?'
    HeaderList headers; // names as received
    QByteArray body;
    QByteArray peer;                                 // the client's address, for limits per peer
    QByteArray header(const QByteArray &name) const; // case-insensitive; empty if absent
};

struct HttpResponse
{
    int status = 200;
    HeaderList headers;
    QByteArray body;
};

struct ApiOptions
{
    QString publicUrl;           // root reported by resettoken/
    QByteArray pathPrefix;       // e.g. "/api" when the root carries a path
    qint64 tokenLifetime = 3600; // seconds
    qint64 maxBodyBytes = qint64(4) * 1024 * 1024;
    int passwordIterations = DefaultPasswordIterations; // for new hashes; older ones are rehashed on login
};

// A password login waiting for its hash: run check() anywhere (it only
// computes), then hand the result to Api::finishPasswordLogin() on the
// Api's thread.
struct PasswordCheck
{
    QString email;
    QString password;
    QByteArray storedHash; // the user's, or a decoy of the same cost
    std::optional<User> user;
    QByteArray peer;
    int iterations = DefaultPasswordIterations;

    struct Result
    {
        bool ok = false;
        QByteArray rehash; // a new hash at today's iteration count, when the stored one is older
    };
    Result check() const;
};

struct ApiOutcome
{
    ApiOutcome(HttpResponse r)
        : response(std::move(r))
    {}
    ApiOutcome(PasswordCheck c)
        : check(std::move(c))
    {}
    HttpResponse response;              // when there is no check
    std::optional<PasswordCheck> check; // a password to verify before answering
};

// The Schedy protocol over plain request/response values: routing on the raw
// path, authentication, validation through the core codec, and the store.
// Free of sockets, so it is as testable as a function.
class Api
{
public:
    Api(Store &store, ApiOptions options);

    // Answers a request, verifying any password on this thread.
    HttpResponse handle(const HttpRequest &request);
    // Answers a request, or returns the password check it waits for.
    ApiOutcome begin(const HttpRequest &request);
    HttpResponse finishPasswordLogin(const PasswordCheck &check, const PasswordCheck::Result &result);
    // For a request body larger than what an unauthenticated request may send.
    bool bearerValid(const QByteArray &authorization);
    const ApiOptions &options() const { return m_options; }
    void setPublicUrl(const QString &url) { m_options.publicUrl = url; }
    void setPathPrefix(const QByteArray &prefix) { m_options.pathPrefix = prefix; }
    // Clock in seconds since the epoch; replaceable so that tests can expire tokens.
    void setClock(std::function<qint64()> clock) { m_clock = std::move(clock); }
    // Monotonic milliseconds, for the failed-login limits; replaceable for tests.
    void setMonotonicClock(std::function<qint64()> clock) { m_monotonic = std::move(clock); }
    // Failed password logins allowed per email and per peer: a burst, then one per interval.
    static constexpr int EmailBurst = 10;
    static constexpr qint64 EmailRefillMs = 6000;
    static constexpr int PeerBurst = 30;
    static constexpr qint64 PeerRefillMs = 2000;

    static HttpResponse error(int status, const QString &message);

private:
    struct Route;
    ApiOutcome route(const HttpRequest &request, const QList<QString> &segments);
    ApiOutcome login(const HttpRequest &request, bool password);
    HttpResponse bearerResponse(const User &user);
    // Nothing when `authorization` is a valid bearer of the user's current
    // token generation (its claims in *claims); otherwise the answer.
    std::optional<HttpResponse> checkBearer(const QByteArray &authorization, BearerClaims *claims);
    HttpResponse resetToken(qint64 userId);
    HttpResponse listExperiments(qint64 user, const HttpRequest &request);
    HttpResponse getExperiment(qint64 user, const QString &name);
    HttpResponse putExperiment(qint64 user, const QString &name, const HttpRequest &request);
    HttpResponse deleteExperiment(qint64 user, const QString &name, const HttpRequest &request);
    HttpResponse listJobs(qint64 user, const QString &name, const HttpRequest &request);
    HttpResponse postJob(qint64 user, const QString &name, const HttpRequest &request);
    HttpResponse nextJob(qint64 user, const QString &name);
    HttpResponse getJob(qint64 user, const QString &name, const QString &id);
    HttpResponse putJob(qint64 user, const QString &name, const QString &id, const HttpRequest &request);
    HttpResponse deleteJob(qint64 user, const QString &name, const QString &id, const HttpRequest &request);
    HttpResponse heartbeat(qint64 user, const QString &name, const QString &id, const HttpRequest &request);

    HttpResponse jobResponse(int status, const StoredJob &job);
    static HttpResponse experimentResponse(int status, const Experiment &e);
    static HttpResponse json(int status, const QByteArray &body);
    static HttpResponse storeError(StoreStatus status, const QString &message);

    Store &m_store;
    ApiOptions m_options;
    TokenSigner m_signer;
    Sampler m_sampler;
    std::function<qint64()> m_clock;
    std::function<qint64()> m_monotonic;
    LoginLimiter m_emailFailures{EmailBurst, EmailRefillMs};
    LoginLimiter m_peerFailures{PeerBurst, PeerRefillMs};
};

} // namespace schedy::server
