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
//
// Backends: SQLite by default. With SCHEDY_TEST_BACKEND=postgresql (set by
// ctest for the *_postgresql registrations), every TestServer gets a fresh
// database on the PostgreSQL cluster named by SCHEDY_TEST_POSTGRES_URL
// (postgresql://USER:PASSWORD@HOST:PORT/postgres, a role that may create
// databases; scripts/postgres-test-cluster.sh starts one), dropped at the end.
// A missing URL or an unreachable cluster fails the test: never a silent skip.
namespace schedy::test {

// "sqlite" or "postgresql" (SCHEDY_TEST_BACKEND).
QString testBackend();
bool testingPostgres();

// Runs `sql` on the test cluster's maintenance database (the URL's own), as the
// test role; false with the reason in `error`.
bool postgresAdminExec(const QString &sql, QString *error);

// A fresh PostgreSQL database on the test cluster, dropped when this goes.
class PostgresDatabase
{
public:
    PostgresDatabase();
    ~PostgresDatabase();
    PostgresDatabase(const PostgresDatabase &) = delete;
    PostgresDatabase &operator=(const PostgresDatabase &) = delete;
    bool ok() const { return !m_url.isEmpty(); }
    QString url() const { return m_url; }     // postgresql://.../schedy_test_...
    QString error() const { return m_error; } // why it could not be created
    QString name() const { return m_name; }

private:
    QString m_url;
    QString m_name;
    QString m_error;
};

// Every row of every table of the database at `url` (sqlite:PATH or
// postgresql://...), as text in a stable order: for checking that a request
// changed nothing. Opens its own connection (read-only on SQLite).
QString dumpTables(const QString &url);

// Passwords: a TestServer hashes and checks them with PasswordIterations
// PBKDF2 rounds instead of the production 600,000 (unless the options ask for
// another count). Under AddressSanitizer each of Qt's PBKDF2 rounds costs two
// intercepted allocations, and 600,000 of them take seconds per login
// (docs/ci.md). The production count is checked on schedy-server itself
// (tst_api's user-add test) and the policy in tst_hostile_auth.
class TestServer
{
public:
    static constexpr int PasswordIterations = 1000;
    explicit TestServer(server::ServerOptions options = {});
    ~TestServer();

    bool start(QString *error = nullptr);
    void stop();
    bool restart(QString *error = nullptr); // same database, same port when it is free
    QString root() const;
    quint16 port() const;
    QString databaseUrl() const { return m_options.databaseUrl; }
    QString databasePath() const { return m_dir.path() + QStringLiteral("/schedy.sqlite3"); } // SQLite only
    // All tables of this server's database, for either backend (see dumpTables()).
    QString dumpTables() const { return test::dumpTables(m_options.databaseUrl); }
    server::Server *server() const { return m_server.get(); }
    // A user with an API token (and a password when given); its config points here.
    ClientConfig addUser(const QString &email, const QString &password = {});

private:
    QTemporaryDir m_dir;
    std::unique_ptr<PostgresDatabase> m_postgres; // the database when testing PostgreSQL
    server::ServerOptions m_options;
    std::unique_ptr<server::Server> m_server;
};

struct Reply
{
    int status = 0; // 0: no HTTP response (see error)
    QNetworkReply::NetworkError error = QNetworkReply::NoError;
    QByteArray body;
    QCborValue json;                       // parsed body (Undefined when not JSON)
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

// The same request sent at once, the i-th to roots[i] (one per server process)
// with bodies[i % bodies.size()]; the replies in the order of the roots.
QList<Reply> sendAtOnce(const QStringList &roots, const QByteArray &method, const QString &path,
                        const QList<QByteArray> &bodies, const QByteArray &bearer,
                        const QHash<QByteArray, QByteArray> &headers = {});

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
    // start() in two steps, to start several at once: launch() returns at once,
    // waitUntilReady() until it accepts connections. `extra`: serve options.
    void launch(quint16 port, const QStringList &extra = {});
    bool waitUntilReady(QString *error);
    quint16 port() const { return m_port; }
    bool stop(); // SIGTERM, then waits for a clean exit
    QByteArray output() const { return m_output; }
    static QString binary();
    QProcess &process() { return m_process; }

private:
    QString m_databaseUrl;
    QProcess m_process;
    QByteArray m_output;
    quint16 m_port = 0;
};

// A free TCP port on 127.0.0.1.
quint16 freePort();

// Waits for a child process to end without blocking the event loop (an
// in-process server answers from it), at most `timeoutMs`, so that a hung
// child does not hang the suite. True when it has ended.
bool waitForExit(QProcess &process, int timeoutMs = 300000);

} // namespace schedy::test
