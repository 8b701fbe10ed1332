#include "TestServer.h"

#include "Json.h"

#include <QAtomicInteger>
#include <QCoreApplication>
#include <QEventLoop>
#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QSqlRecord>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QUrl>

namespace schedy::test {

QString testBackend()
{
    const QString b = qEnvironmentVariable("SCHEDY_TEST_BACKEND").toLower();
    return b.isEmpty() ? QStringLiteral("sqlite") : b;
}

bool testingPostgres()
{
    return testBackend() == QLatin1String("postgresql");
}

namespace {
QAtomicInteger<int> adminCounter;
} // namespace

bool postgresAdminExec(const QString &sql, QString *error)
{
    const QString url = qEnvironmentVariable("SCHEDY_TEST_POSTGRES_URL");
    if (url.isEmpty()) {
        *error =
            QStringLiteral("SCHEDY_TEST_POSTGRES_URL is not set: this test runs against PostgreSQL and needs "
                           "a cluster (scripts/test.sh starts one; by hand: "
                           "export SCHEDY_TEST_POSTGRES_URL=$(scripts/postgres-test-cluster.sh start DIR))");
        return false;
    }
    const QUrl u(url);
    const QString name = QStringLiteral("schedy-test-admin-%1").arg(adminCounter.fetchAndAddRelaxed(1));
    bool ok = false;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), name);
        db.setHostName(u.host());
        db.setPort(u.port(5432));
        db.setUserName(u.userName(QUrl::FullyDecoded));
        db.setPassword(u.password(QUrl::FullyDecoded));
        db.setDatabaseName(u.path(QUrl::FullyDecoded).mid(1));
        if (!db.isValid()) {
            *error =
                QStringLiteral("the Qt PostgreSQL driver (QPSQL, Debian package libqt6sql6-psql) is missing");
        } else if (!db.open()) {
            *error = QStringLiteral("cannot connect to the test cluster %1: %2")
                         .arg(url.section(QLatin1Char('@'), -1), db.lastError().text());
        } else {
            QSqlQuery q(db);
            ok = q.exec(sql);
            if (!ok)
                *error = QStringLiteral("%1: %2").arg(sql, q.lastError().text());
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return ok;
}

namespace {
bool adminExec(const QString &sql, QString *error)
{
    return postgresAdminExec(sql, error);
}
} // namespace

PostgresDatabase::PostgresDatabase()
{
    const QString base = qEnvironmentVariable("SCHEDY_TEST_POSTGRES_URL");
    const QString name =
        QStringLiteral("schedy_test_%1_%2")
            .arg(QCoreApplication::applicationPid())
            .arg(QString::fromLatin1(QByteArray::number(QRandomGenerator::global()->generate64(), 36)));
    if (!adminExec(QStringLiteral("CREATE DATABASE \"%1\" ENCODING 'UTF8' TEMPLATE template0").arg(name),
                   &m_error))
        return;
    QUrl u(base);
    u.setPath(QLatin1Char('/') + name);
    m_url = u.toString();
    m_name = name;
}

PostgresDatabase::~PostgresDatabase()
{
    if (m_name.isEmpty())
        return;
    QString error;
    if (!adminExec(QStringLiteral("DROP DATABASE IF EXISTS \"%1\" WITH (FORCE)").arg(m_name), &error))
        qWarning("PostgresDatabase: %s", qPrintable(error));
}

QString dumpTables(const QString &url)
{
    static QAtomicInteger<int> counter;
    const QString name = QStringLiteral("schedy-test-dump-%1").arg(counter.fetchAndAddRelaxed(1));
    const bool sqlite = url.startsWith(QLatin1String("sqlite:"));
    QString out;
    {
        QSqlDatabase db =
            QSqlDatabase::addDatabase(sqlite ? QStringLiteral("QSQLITE") : QStringLiteral("QPSQL"), name);
        if (sqlite) {
            db.setDatabaseName(url.mid(7));
            db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY"));
        } else {
            const QUrl u(url);
            db.setHostName(u.host());
            db.setPort(u.port(5432));
            db.setUserName(u.userName(QUrl::FullyDecoded));
            db.setPassword(u.password(QUrl::FullyDecoded));
            db.setDatabaseName(u.path(QUrl::FullyDecoded).mid(1));
        }
        if (!db.open()) {
            out = QStringLiteral("cannot open %1: %2")
                      .arg(url.section(QLatin1Char('@'), -1), db.lastError().text());
        } else {
            QStringList names;
            QSqlQuery tables(db);
            if (!tables.exec(sqlite ? QStringLiteral("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                     "AND name NOT LIKE 'sqlite_%' ORDER BY name")
                                    : QStringLiteral("SELECT table_name FROM information_schema.tables WHERE "
                                                     "table_schema = 'public' AND table_type = 'BASE TABLE' "
                                                     "ORDER BY table_name"))) {
                out = QStringLiteral("cannot list tables: ") + tables.lastError().text();
            }
            while (tables.next())
                names << tables.value(0).toString();
            tables.finish();
            for (const QString &table : std::as_const(names)) {
                out += QStringLiteral("== ") + table + QLatin1Char('\n');
                // Ordered by every column, so both backends give one order.
                const int columns = db.record(table).count();
                QStringList order;
                for (int i = 1; i <= columns; ++i)
                    order << QString::number(i);
                QSqlQuery rows(db);
                rows.setForwardOnly(true);
                if (!rows.exec(QStringLiteral("SELECT * FROM \"%1\" ORDER BY %2")
                                   .arg(table, order.join(QLatin1Char(','))))) {
                    out += QStringLiteral("cannot read %1: %2").arg(table, rows.lastError().text());
                    continue;
                }
                while (rows.next()) {
                    QStringList values;
                    for (int i = 0; i < rows.record().count(); ++i)
                        values << (rows.isNull(i) ? QStringLiteral("NULL") : rows.value(i).toString());
                    out += values.join(QLatin1Char('|')) + QLatin1Char('\n');
                }
            }
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return out;
}

TestServer::TestServer(server::ServerOptions options)
    : m_options(std::move(options))
{
    m_options.address = QHostAddress::LocalHost;
    m_options.port = 0;
    if (m_options.passwordIterations == server::DefaultPasswordIterations)
        m_options.passwordIterations = PasswordIterations;
    if (m_options.databaseUrl.isEmpty() && !testingPostgres())
        m_options.databaseUrl = QStringLiteral("sqlite:") + databasePath();
}

TestServer::~TestServer()
{
    stop();
    m_postgres.reset(); // dropped once the server's connection is closed
}

bool TestServer::start(QString *error)
{
    if (m_options.databaseUrl.isEmpty()) {
        // Testing PostgreSQL: a fresh database per TestServer.
        m_postgres = std::make_unique<PostgresDatabase>();
        if (!m_postgres->ok()) {
            const QString e = QStringLiteral("PostgreSQL test database: ") + m_postgres->error();
            if (error)
                *error = e;
            qWarning("TestServer: %s", qPrintable(e));
            m_postgres.reset();
            return false;
        }
        m_options.databaseUrl = m_postgres->url();
    }
    m_server = std::make_unique<server::Server>();
    QString e;
    if (!m_server->start(m_options, &e)) {
        if (error)
            *error = e;
        qWarning("TestServer: %s", qPrintable(e));
        m_server.reset();
        return false;
    }
    return true;
}

void TestServer::stop()
{
    m_server.reset();
}

bool TestServer::restart(QString *error)
{
    const quint16 oldPort = port();
    stop();
    m_options.port = oldPort;
    const bool ok = start(error);
    m_options.port = 0;
    return ok;
}

QString TestServer::root() const
{
    return m_server ? m_server->rootUrl() : QString();
}
quint16 TestServer::port() const
{
    return m_server ? m_server->port() : 0;
}

ClientConfig TestServer::addUser(const QString &email, const QString &password)
{
    QString error;
    auto config =
        server::addUser(*m_server->store(), email, password, root(), &error, m_options.passwordIterations);
    if (!config)
        qFatal("TestServer::addUser: %s", qPrintable(error));
    return *config;
}

QString Reply::errorText() const
{
    return json.isMap() ? json.toMap().value(QStringLiteral("error")).toString() : QString();
}

HttpTestClient::HttpTestClient(const QString &root)
    : m_root(normalizedRoot(root))
{
    nam.setAutoDeleteReplies(false);
}

namespace {

Reply toReply(QNetworkReply *reply)
{
    Reply r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.error = reply->error();
    if (r.status == 0) // so that a test expecting a status says why there was none
        qInfo("no HTTP response from %s: %s", qPrintable(reply->url().toString()),
              qPrintable(reply->errorString()));
    r.body = reply->readAll();
    for (const auto &h : reply->rawHeaderPairs())
        r.headers.insert(h.first.toLower(), h.second);
    json::ParseError pe;
    const QCborValue v = json::parse(r.body, &pe);
    r.json = pe.isError() ? QCborValue(QCborValue::Undefined) : v;
    return r;
}

} // namespace

QList<Reply> sendAtOnce(const QStringList &roots, const QByteArray &method, const QString &path,
                        const QList<QByteArray> &bodies, const QByteArray &bearer,
                        const QHash<QByteArray, QByteArray> &headers)
{
    QNetworkAccessManager nam;
    QList<QNetworkReply *> replies;
    for (qsizetype i = 0; i < roots.size(); ++i) {
        QNetworkRequest req(QUrl::fromEncoded((roots[i] + path).toUtf8(), QUrl::StrictMode));
        req.setTransferTimeout(60000);
        req.setRawHeader("Authorization", "Bearer " + bearer);
        for (auto it = headers.begin(); it != headers.end(); ++it)
            req.setRawHeader(it.key(), it.value());
        replies << nam.sendCustomRequest(req, method,
                                         bodies.isEmpty() ? QByteArray() : bodies[i % bodies.size()]);
    }
    for (QNetworkReply *r : std::as_const(replies)) {
        QSignalSpy finished(r, &QNetworkReply::finished);
        if (!r->isFinished())
            finished.wait(60000);
    }
    QList<Reply> out;
    for (QNetworkReply *r : std::as_const(replies)) {
        out << toReply(r);
        r->deleteLater();
    }
    return out;
}

Reply HttpTestClient::request(const QByteArray &method, const QString &path, const QByteArray &body,
                              const QHash<QByteArray, QByteArray> &headers)
{
    const QUrl url = QUrl::fromEncoded((m_root + path).toUtf8(), QUrl::StrictMode);
    QNetworkRequest req(url);
    req.setAttribute(QNetworkRequest::RedirectPolicyAttribute, QNetworkRequest::ManualRedirectPolicy);
    req.setTransferTimeout(60000);
    if (!bearer.isEmpty())
        req.setRawHeader("Authorization", "Bearer " + bearer);
    for (auto it = headers.begin(); it != headers.end(); ++it)
        req.setRawHeader(it.key(), it.value());
    QNetworkReply *reply = body.isNull() && method != "PUT" && method != "POST"
                               ? nam.sendCustomRequest(req, method)
                               : nam.sendCustomRequest(req, method, body);
    QSignalSpy finished(reply, &QNetworkReply::finished);
    if (!reply->isFinished())
        finished.wait(60000);
    Reply r = toReply(reply);
    reply->deleteLater();
    return r;
}

bool HttpTestClient::login(const ClientConfig &config)
{
    const QByteArray body = json::write(
        QCborMap{{QStringLiteral("email"), config.email}, {QStringLiteral("token"), config.token}});
    const Reply r = post(config.tokenType == ClientConfig::TokenType::Password ? QStringLiteral("passauth/")
                                                                               : QStringLiteral("token/"),
                         body);
    if (r.status != 200)
        return false;
    bearer = r.json.toMap().value(QStringLiteral("token")).toString().toLatin1();
    return !bearer.isEmpty();
}

QString enc(const QString &name)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(name, QByteArray(), QByteArray()));
}

ServerProcess::ServerProcess(const QString &databaseUrl)
    : m_databaseUrl(databaseUrl)
{
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    QObject::connect(&m_process, &QProcess::readyRead, [this] { m_output += m_process.readAll(); });
}

ServerProcess::~ServerProcess()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(10000);
    }
}

QString ServerProcess::binary()
{
    return QStringLiteral(SCHEDY_SERVER_BIN);
}

bool ServerProcess::start(quint16 port, QString *error)
{
    launch(port);
    return waitUntilReady(error);
}

void ServerProcess::launch(quint16 port, const QStringList &extra)
{
    m_output.clear();
    m_port = port;
    m_process.start(binary(),
                    QStringList{QStringLiteral("--database"), m_databaseUrl, QStringLiteral("serve"),
                                QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(port)} +
                        extra);
}

bool ServerProcess::waitUntilReady(QString *error)
{
    const quint16 port = m_port;
    if (!m_process.waitForStarted(10000)) {
        if (error)
            *error = m_process.errorString();
        return false;
    }
    // Ready when it accepts connections.
    for (int attempt = 0; attempt < 200; ++attempt) {
        QTcpSocket probe;
        probe.connectToHost(QHostAddress::LocalHost, port);
        if (probe.waitForConnected(100))
            return true;
        if (m_process.state() == QProcess::NotRunning)
            break;
        m_process.waitForReadyRead(50); // waits on the process, not a sleep
    }
    if (error)
        *error = QStringLiteral("server did not start: ") + QString::fromUtf8(m_output);
    return false;
}

bool ServerProcess::stop()
{
    m_process.terminate();
    return m_process.waitForFinished(20000) && m_process.exitStatus() == QProcess::NormalExit &&
           m_process.exitCode() == 0;
}

bool waitForExit(QProcess &process, int timeoutMs)
{
    if (process.state() == QProcess::NotRunning)
        return true;
    QEventLoop loop;
    QObject::connect(&process, &QProcess::finished, &loop, &QEventLoop::quit);
    QObject::connect(&process, &QProcess::errorOccurred, &loop, [&loop](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart) // no finished() follows
            loop.quit();
    });
    QTimer guard;
    guard.setSingleShot(true);
    QObject::connect(&guard, &QTimer::timeout, &loop, &QEventLoop::quit);
    guard.start(timeoutMs);
    loop.exec();
    return process.state() == QProcess::NotRunning;
}

quint16 freePort()
{
    QTcpServer s;
    s.listen(QHostAddress::LocalHost, 0);
    return s.serverPort();
}

} // namespace schedy::test
