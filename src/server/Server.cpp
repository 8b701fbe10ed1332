#include "Server.h"

#include "Auth.h"

namespace schedy::server {

Server::Server(QObject *parent)
    : QObject(parent)
{}

Server::~Server()
{
    delete m_http; // before the API and store it uses
    m_http = nullptr;
}

bool Server::start(const ServerOptions &options, QString *error)
{
    m_store = std::make_unique<SqlStore>(options.databaseUrl.isEmpty() ? SqlStore::defaultSqliteUrl()
                                                                       : options.databaseUrl);
    if (!m_store->open(error))
        return false;
    m_store->setLeaseSeconds(options.leaseSeconds);
    if (m_store->secret().isEmpty()) {
        if (error)
            *error = QStringLiteral("cannot create the token signing secret in the database");
        return false;
    }
    ApiOptions api;
    api.tokenLifetime = options.tokenLifetime;
    api.maxBodyBytes = options.limits.maxBodyBytes;
    api.passwordIterations = options.passwordIterations;
    m_api = std::make_unique<Api>(*m_store, api);
    m_http = new HttpServer(*m_api, options.limits, this);
    QString listenError;
    m_port = m_http->listenOn(options.address, options.port, &listenError);
    if (!m_port) {
        if (error) {
            *error = QStringLiteral("cannot listen on %1:%2: %3")
                         .arg(options.address.toString())
                         .arg(options.port)
                         .arg(listenError);
        }
        return false;
    }
    QString host = options.address.toString();
    if (options.address.protocol() == QAbstractSocket::IPv6Protocol)
        host = QLatin1Char('[') + host + QLatin1Char(']');
    // NOLINTNEXTLINE(misc-redundant-expression): Any and AnyIPv4 differ; the check sees two conversions
    if (options.address == QHostAddress::Any || options.address == QHostAddress::AnyIPv4)
        host = QStringLiteral("127.0.0.1");
    m_rootUrl = options.publicUrl.isEmpty() ? QStringLiteral("http://%1:%2/").arg(host).arg(m_port)
                                            : normalizedRoot(options.publicUrl);
    m_api->setPublicUrl(m_rootUrl);
    // A root with a path (behind a proxy that keeps it) is served under that prefix.
    QByteArray prefix = QUrl(m_rootUrl).path(QUrl::FullyEncoded).toUtf8();
    while (prefix.endsWith('/'))
        prefix.chop(1);
    m_api->setPathPrefix(prefix);
    // Lost workers are found even when no request arrives (section 8.3: within S + 5 s).
    if (options.lostCheckMs > 0) {
        m_store->setLeaseCheckInterval(options.lostCheckMs / 1000.0);
        m_lostCheck = new QTimer(this);
        m_lostCheck->setInterval(options.lostCheckMs);
        connect(m_lostCheck, &QTimer::timeout, this, [this] {
            // Said once per failure, not every second of an outage.
            const bool ok = m_store->expireLostJobs().has_value();
            if (!ok && !m_lostCheckFailing)
                qWarning("schedy: could not look for lost jobs (database error); trying again");
            m_lostCheckFailing = !ok;
        });
        m_lostCheck->start();
    }
    return true;
}

void Server::setLogger(std::function<void(const QByteArray &)> logger)
{
    if (m_http)
        m_http->setLogger(std::move(logger));
}

std::optional<ClientConfig> addUser(Store &store, const QString &email, const QString &password,
                                    const QString &root, QString *error, int passwordIterations)
{
    const QString emailError = checkName(email, QStringLiteral("email"));
    if (!emailError.isEmpty() || !email.contains(QLatin1Char('@'))) {
        if (error)
            *error =
                emailError.isEmpty() ? QStringLiteral("'%1' is not an email address").arg(email) : emailError;
        return std::nullopt;
    }
    const QByteArray token = randomToken();
    auto r =
        store.addUser(email, password.isEmpty() ? QByteArray() : hashPassword(password, passwordIterations),
                      hashApiToken(QString::fromLatin1(token)));
    if (!r.ok()) {
        if (error)
            *error = r.message;
        return std::nullopt;
    }
    ClientConfig c;
    c.root = normalizedRoot(root);
    c.email = email;
    c.token = QString::fromLatin1(token);
    c.tokenType = ClientConfig::TokenType::ApiToken;
    return c;
}

std::optional<ClientConfig> resetUserToken(Store &store, const QString &email, const QString &root,
                                           QString *error)
{
    const auto user = store.userByEmail(email);
    if (!user.ok()) {
        if (error)
            *error = user.message;
        return std::nullopt;
    }
    const QByteArray token = randomToken();
    if (!store.setTokenHash(user.value.id, hashApiToken(QString::fromLatin1(token)))) {
        if (error)
            *error = QStringLiteral("cannot store the new token");
        return std::nullopt;
    }
    ClientConfig c;
    c.root = normalizedRoot(root);
    c.email = email;
    c.token = QString::fromLatin1(token);
    return c;
}

} // namespace schedy::server
