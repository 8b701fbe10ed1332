#pragma once

#include "Auth.h"
#include "Sampler.h"
#include "Store.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

#include <functional>

namespace schedy::server {

using HeaderList = QList<QPair<QByteArray, QByteArray>>;

struct HttpRequest
{
    QByteArray method;  // "GET", "PUT", ...
    QByteArray path;    // still percent-encoded
    QByteArray query;   // raw query string, without '?'
    HeaderList headers; // names as received
    QByteArray body;
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
    qint64 maxBodyBytes = qint64(16) * 1024 * 1024;
};

// The Schedy protocol over plain request/response values: routing on the raw
// path, authentication, validation through the core codec, and the store.
// Free of sockets, so it is as testable as a function.
class Api
{
public:
    Api(Store &store, ApiOptions options);

    HttpResponse handle(const HttpRequest &request);
    const ApiOptions &options() const { return m_options; }
    void setPublicUrl(const QString &url) { m_options.publicUrl = url; }
    void setPathPrefix(const QByteArray &prefix) { m_options.pathPrefix = prefix; }
    // Clock in seconds since the epoch; replaceable so that tests can expire tokens.
    void setClock(std::function<qint64()> clock) { m_clock = std::move(clock); }

    static HttpResponse error(int status, const QString &message);

private:
    struct Route;
    HttpResponse route(const HttpRequest &request, const QList<QString> &segments);
    HttpResponse login(const HttpRequest &request, bool password);
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
};

} // namespace schedy::server
