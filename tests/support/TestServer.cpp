#include "TestServer.h"

#include "Json.h"

#include <QNetworkRequest>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrl>

namespace schedy::test {

TestServer::TestServer(server::ServerOptions options)
    : m_options(std::move(options))
{
    m_options.address = QHostAddress::LocalHost;
    if (m_options.databaseUrl.isEmpty())
        m_options.databaseUrl = QStringLiteral("sqlite:") + databasePath();
    m_options.port = 0;
}

TestServer::~TestServer() { stop(); }

bool TestServer::start(QString *error)
{
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

void TestServer::stop() { m_server.reset(); }

bool TestServer::restart(QString *error)
{
    const quint16 oldPort = port();
    stop();
    m_options.port = oldPort;
    const bool ok = start(error);
    m_options.port = 0;
    return ok;
}

QString TestServer::root() const { return m_server ? m_server->rootUrl() : QString(); }
quint16 TestServer::port() const { return m_server ? m_server->port() : 0; }

ClientConfig TestServer::addUser(const QString &email, const QString &password)
{
    QString error;
    auto config = server::addUser(*m_server->store(), email, password, root(), &error);
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
    Reply r;
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.error = reply->error();
    r.body = reply->readAll();
    for (const auto &h : reply->rawHeaderPairs())
        r.headers.insert(h.first.toLower(), h.second);
    json::ParseError pe;
    const QCborValue v = json::parse(r.body, &pe);
    r.json = pe.isError() ? QCborValue(QCborValue::Undefined) : v;
    reply->deleteLater();
    return r;
}

bool HttpTestClient::login(const ClientConfig &config)
{
    const QByteArray body = json::write(QCborMap{{QStringLiteral("email"), config.email},
                                                 {QStringLiteral("token"), config.token}});
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

QString ServerProcess::binary() { return QStringLiteral(SCHEDY_SERVER_BIN); }

bool ServerProcess::start(quint16 port, QString *error)
{
    m_output.clear();
    m_process.start(binary(), {QStringLiteral("--database"), m_databaseUrl, QStringLiteral("serve"),
                               QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(port)});
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

quint16 freePort()
{
    QTcpServer s;
    s.listen(QHostAddress::LocalHost, 0);
    return s.serverPort();
}

} // namespace schedy::test
