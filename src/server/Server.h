#pragma once

#include "Api.h"
#include "ClientConfig.h"
#include "HttpServer.h"
#include "SqlStore.h"

#include <QHostAddress>
#include <QObject>
#include <QTimer>

#include <memory>
#include <optional>

namespace schedy::server {

struct ServerOptions
{
    QString databaseUrl; // empty: SqlStore::defaultSqliteUrl()
    QHostAddress address = QHostAddress::LocalHost;
    quint16 port = 8080; // 0: any free port
    QString publicUrl;   // empty: built from the listening address
    double leaseSeconds = 5.0;
    // How often this process looks for lost RUNNING jobs (experiments with a lease,
    // docs/protocol.md section 8.3); 0 turns it off.
    int lostCheckMs = 1000;
    qint64 tokenLifetime = 3600;
    int passwordIterations = DefaultPasswordIterations;
    GuardLimits limits; // body size, connections, timeouts (docs/server.md)
};

// The whole service in one object: store, API and HTTP listener. Used by
// schedy-server, by the dashboard's embedded server and by the tests.
class Server : public QObject
{
    Q_OBJECT
public:
    explicit Server(QObject *parent = nullptr);
    ~Server() override;

    bool start(const ServerOptions &options, QString *error);
    quint16 port() const { return m_port; }
    QString rootUrl() const { return m_rootUrl; }
    SqlStore *store() const { return m_store.get(); }
    Api *api() const { return m_api.get(); }
    HttpServer *http() const { return m_http; }
    void setLogger(std::function<void(const QByteArray &)> logger);

private:
    std::unique_ptr<SqlStore> m_store;
    std::unique_ptr<Api> m_api;
    HttpServer *m_http = nullptr;
    QTimer *m_lostCheck = nullptr;
    bool m_lostCheckFailing = false;
    quint16 m_port = 0;
    QString m_rootUrl;
};

// Creates a user with a fresh API token (and a password when given, hashed with
// `passwordIterations`) and returns its client config. Fails when the user exists.
std::optional<ClientConfig> addUser(Store &store, const QString &email, const QString &password,
                                    const QString &root, QString *error,
                                    int passwordIterations = DefaultPasswordIterations);
// Gives an existing user a new API token and returns the config.
std::optional<ClientConfig> resetUserToken(Store &store, const QString &email, const QString &root,
                                           QString *error);

} // namespace schedy::server
