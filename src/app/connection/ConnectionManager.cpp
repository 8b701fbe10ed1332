#include "ConnectionManager.h"

#include "Json.h"
#include "LocalServer.h"

#include <QDir>
#include <QFileInfo>
#include <QSaveFile>
#include <QSettings>
#include <QStandardPaths>

namespace schedy {
namespace {
constexpr int LocalPortDefault = 8765;
}

ConnectionManager::ConnectionManager(QObject *parent)
    : QObject(parent)
{
    const QString config = QStandardPaths::writableLocation(QStandardPaths::AppConfigLocation);
    setStorage(config + QStringLiteral("/dashboard.ini"), config + QStringLiteral("/secrets.json"),
               QStandardPaths::writableLocation(QStandardPaths::AppDataLocation));
}

ConnectionManager::~ConnectionManager()
{
    m_client.reset();
    delete m_local;
}

void ConnectionManager::setStorage(const QString &settingsFile, const QString &secretsFile,
                                   const QString &localDataDir)
{
    m_settingsFile = settingsFile;
    m_secretsFile = secretsFile;
    m_localDataDir = localDataDir;
}

QByteArray ConnectionManager::readSecrets() const
{
    QFile f(m_secretsFile);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("{}");
}

QList<ConnectionProfile> ConnectionManager::profiles() const
{
    QList<ConnectionProfile> out;
    ConnectionProfile local;
    local.name = ConnectionProfile::localName();
    local.local = true;
    local.config = localConfig();
    local.config.token.clear(); // the embedded server's token stays with it
    out.append(local);
    QSettings s(m_settingsFile, QSettings::IniFormat);
    const QCborMap secrets = json::parse(readSecrets()).toMap();
    const int n = s.beginReadArray(QStringLiteral("connections"));
    for (int i = 0; i < n; ++i) {
        s.setArrayIndex(i);
        ConnectionProfile p;
        p.name = s.value(QStringLiteral("name")).toString();
        p.config.root = s.value(QStringLiteral("root")).toString();
        p.config.email = s.value(QStringLiteral("email")).toString();
        p.config.tokenType = s.value(QStringLiteral("tokenType")).toString() == QLatin1String("password")
                                 ? ClientConfig::TokenType::Password
                                 : ClientConfig::TokenType::ApiToken;
        p.config.token = secrets.value(p.name).toString();
        if (!p.name.isEmpty())
            out.append(p);
    }
    s.endArray();
    return out;
}

ClientConfig ConnectionManager::localConfig() const
{
    if (m_local && m_local->isRunning())
        return m_local->config();
    QString error;
    return ClientConfig::load(m_localDataDir + QStringLiteral("/local-client.json"), &error)
        .value_or(ClientConfig{});
}

bool ConnectionManager::saveProfile(const ConnectionProfile &profile, QString *error)
{
    if (profile.local || profile.name.isEmpty() || profile.name == ConnectionProfile::localName()) {
        if (error)
            *error = tr("Choose another name for this connection.");
        return false;
    }
    QList<ConnectionProfile> all = profiles();
    all.removeFirst(); // the local one is implicit
    bool replaced = false;
    for (ConnectionProfile &p : all) {
        if (p.name == profile.name) {
            p = profile;
            replaced = true;
        }
    }
    if (!replaced)
        all.append(profile);
    // Secrets first, in a file only the user can read.
    QCborMap secrets;
    for (const ConnectionProfile &p : all)
        secrets.insert(p.name, p.config.token);
    QDir().mkpath(QFileInfo(m_secretsFile).absolutePath());
    QSaveFile f(m_secretsFile);
    if (!f.open(QIODevice::WriteOnly)) {
        if (error)
            *error = tr("Cannot write %1: %2").arg(m_secretsFile, f.errorString());
        return false;
    }
    f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    f.write(json::writeIndented(secrets));
    if (!f.commit()) {
        if (error)
            *error = tr("Cannot write %1: %2").arg(m_secretsFile, f.errorString());
        return false;
    }
    QSettings s(m_settingsFile, QSettings::IniFormat);
    s.beginWriteArray(QStringLiteral("connections"), int(all.size()));
    for (int i = 0; i < all.size(); ++i) {
        s.setArrayIndex(i);
        s.setValue(QStringLiteral("name"), all[i].name);
        s.setValue(QStringLiteral("root"), all[i].config.root);
        s.setValue(QStringLiteral("email"), all[i].config.email);
        s.setValue(QStringLiteral("tokenType"), all[i].config.tokenType == ClientConfig::TokenType::Password
                                                    ? QStringLiteral("password")
                                                    : QStringLiteral("api_token"));
    }
    s.endArray();
    return true;
}

bool ConnectionManager::removeProfile(const QString &name)
{
    QList<ConnectionProfile> all = profiles();
    all.removeFirst();
    const qsizetype before = all.size();
    all.removeIf([&](const ConnectionProfile &p) { return p.name == name; });
    if (all.size() == before)
        return false;
    QSettings s(m_settingsFile, QSettings::IniFormat);
    s.remove(QStringLiteral("connections"));
    s.sync();
    for (const ConnectionProfile &p : all)
        saveProfile(p, nullptr);
    if (all.isEmpty()) {
        QSaveFile f(m_secretsFile);
        if (f.open(QIODevice::WriteOnly)) {
            f.write("{}");
            f.commit();
        }
    }
    return true;
}

QString ConnectionManager::lastProfile() const
{
    QSettings s(m_settingsFile, QSettings::IniFormat);
    return s.value(QStringLiteral("lastConnection"), ConnectionProfile::localName()).toString();
}

void ConnectionManager::connectTo(const QString &profileName)
{
    for (const ConnectionProfile &p : profiles()) {
        if (p.name == profileName) {
            connectWith(p);
            return;
        }
    }
    connectWith(profiles().first());
}

void ConnectionManager::connectWith(const ConnectionProfile &profile)
{
    m_current = profile;
    {
        QSettings s(m_settingsFile, QSettings::IniFormat);
        s.setValue(QStringLiteral("lastConnection"), profile.name);
    }
    if (profile.local) {
        if (m_local && m_local->isRunning()) {
            m_current.config = m_local->config();
            login();
            return;
        }
        if (!m_local) {
            m_local = new LocalServer(this);
            connect(m_local, &LocalServer::started, this, [this](const ClientConfig &config) {
                QSettings s(m_settingsFile, QSettings::IniFormat);
                s.setValue(QStringLiteral("localPort"), QUrl(config.root).port());
                if (m_current.local) {
                    m_current.config = config;
                    login();
                }
            });
            connect(m_local, &LocalServer::failed, this, [this](const QString &e) {
                setState(State::Unreachable, tr("The local server could not start: %1").arg(e));
            });
        }
        setState(State::Starting, tr("Starting the local server…"));
        QSettings s(m_settingsFile, QSettings::IniFormat);
        m_local->start(m_localDataDir,
                       quint16(s.value(QStringLiteral("localPort"), LocalPortDefault).toUInt()));
        return;
    }
    login();
}

void ConnectionManager::retry()
{
    if (m_current.name.isEmpty())
        connectTo(lastProfile());
    else
        connectWith(m_current);
}

void ConnectionManager::login()
{
    m_client = std::make_unique<Client>(m_current.config);
    RetryPolicy policy;
    // The window reports trouble quickly and offers a retry rather than waiting minutes.
    policy.maxAttempts = 3;
    policy.timeoutMs = 15000;
    m_client->setRetryPolicy(policy);
    Q_EMIT clientChanged(m_client.get());
    setState(State::Connecting, tr("Connecting to %1…").arg(m_current.config.root));
    Client *client = m_client.get();
    auto *call = client->login();
    connect(call, &CallBase::finished, this, [this, call, client] {
        if (client != m_client.get())
            return; // superseded
        if (call->ok()) {
            setState(State::Connected,
                     tr("Connected to %1 as %2").arg(m_current.config.root, m_current.config.email));
        } else if (call->error().kind == ClientError::Kind::Authentication) {
            setState(State::CredentialsRefused,
                     tr("%1 refused the credentials of %2: %3")
                         .arg(m_current.config.root, m_current.config.email, call->error().message));
        } else {
            setState(State::Unreachable,
                     tr("Cannot reach %1: %2").arg(m_current.config.root, call->error().toString()));
        }
    });
}

void ConnectionManager::setState(State state, const QString &message)
{
    m_state = state;
    m_message = message;
    Q_EMIT stateChanged(state, message);
}

} // namespace schedy
