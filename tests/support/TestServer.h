#pragma once

#include "ClientConfig.h"
#include "Server.h"

#include <QByteArray>
#include <QCborValue>
#include <QHash>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QTemporaryDir>

#include <memory>

// Test support: the real server on 127.0.0.1 with a temporary database, and a
// small HTTP client that waits with QSignalSpy (never sleeps).
namespace schedy::test {

class TestServer
{
public:
    explicit TestServer(server::ServerOptions options = {});
    ~TestServer();

    bool start(QString *error = nullptr);
    void stop();
    bool restart(QString *error = nullptr); // same database, same port when it is free
    QString root() const;
    quint16 port() const;
    QString databaseUrl() const { return m_options.databaseUrl; }
    QString databasePath() const { return m_dir.path() + QStringLiteral("/schedy.sqlite3"); }
    server::Server *server() const { return m_server.get(); }
    // A user with an API token (and a password when given); its config points here.
    ClientConfig addUser(const QString &email, const QString &password = {});

private:
    QTemporaryDir m_dir;
    server::ServerOptions m_options;
    std::unique_ptr<server::Server> m_server;
};

struct Reply
{
    int status = 0; // 0: no HTTP response (see error)
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QByteArray body;
    QCborValue json; // parsed body (Undefined when not JSON)
    QHash<QByteArray, QByteArray> headers; // lower-case names
    QByteArray header(const QByteArray &name) const { return headers.value(name.toLower()); }
    QString errorText() const; // the "error" field of a JSON error body
};

class HttpTestClient
{
public:
    explicit HttpTestClient(const QString &root);

    // `path` is relative to the root and already percent-encoded.
    Reply request(const QByteArray &method, const QString &path, const QByteArray &body = {},
                  const QHash<QByteArray, QByteArray> &headers = {});
    Reply get(const QString &path) { return request("GET", path); }
    Reply put(const QString &path, const QByteArray &body, const QHash<QByteArray, QByteArray> &headers = {})
    {
        return request("PUT", path, body, headers);
    }
    Reply post(const QString &path, const QByteArray &body = {}) { return request("POST", path, body); }
    Reply del(const QString &path, const QHash<QByteArray, QByteArray> &headers = {})
    {
        return request("DELETE", path, {}, headers);
    }

    // Logs in with the API token of `config` and keeps the bearer.
    bool login(const ClientConfig &config);
    QByteArray bearer;
    QNetworkAccessManager nam;

private:
    QString m_root;
};

// Percent-encodes a name as the Python client does (every reserved character).
QString enc(const QString &name);

// The schedy-server binary as a child process, for tests of the command line,
// signals and restarts.
class ServerProcess
{
public:
    ServerProcess(const QString &databaseUrl);
    ~ServerProcess();
    bool start(quint16 port, QString *error);
    bool stop(); // SIGTERM, then waits for a clean exit
    QByteArray output() const { return m_output; }
    static QString binary();
    QProcess &process() { return m_process; }

private:
    QString m_databaseUrl;
    QProcess m_process;
    QByteArray m_output;
};

// A free TCP port on 127.0.0.1.
quint16 freePort();

} // namespace schedy::test
