#pragma once

#include "Client.h"
#include "ClientConfig.h"

#include <QObject>
#include <QPointer>

#include <memory>

namespace schedy {

class LocalServer;

// A saved way to reach a server. The "local" profile is the embedded server.
struct ConnectionProfile
{
    QString name;
    bool local = false;
    ClientConfig config; // token may be empty until the secret is loaded

    static QString localName() { return QStringLiteral("Local server"); }
};

// Owns the Client the dashboard talks through, the embedded local server,
// and the saved profiles (QSettings; secrets in a file only the user can read).
class ConnectionManager : public QObject
{
    Q_OBJECT
public:
    enum class State { Disconnected, Starting, Connecting, Connected, Unreachable, CredentialsRefused };
    Q_ENUM(State)

    explicit ConnectionManager(QObject *parent = nullptr);
    ~ConnectionManager() override;

    // Where profiles and secrets live (tests use a temporary folder).
    void setStorage(const QString &settingsFile, const QString &secretsFile, const QString &localDataDir);

    // The local profile first, with the embedded server's URL and user (no token).
    QList<ConnectionProfile> profiles() const;
    // The embedded server's URL and user: those of the running server, else those of its last
    // run (its config beside the database); empty before the first start.
    ClientConfig localConfig() const;
    bool saveProfile(const ConnectionProfile &profile, QString *error);
    bool removeProfile(const QString &name);
    QString lastProfile() const;

    // Connects to a saved profile (the local one starts the embedded server).
    void connectTo(const QString &profileName);
    // Connects with an unsaved config (e.g. after the gen-token flow).
    void connectWith(const ConnectionProfile &profile);
    void retry();

    State state() const { return m_state; }
    QString stateMessage() const { return m_message; }
    Client *client() const { return m_client.get(); }
    const ConnectionProfile &current() const { return m_current; }
    LocalServer *localServer() const { return m_local; }

Q_SIGNALS:
    void stateChanged(schedy::ConnectionManager::State state, const QString &message);
    // A new Client replaced the previous one (models must be re-pointed).
    void clientChanged(schedy::Client *client);

private:
    void setState(State state, const QString &message);
    void login();
    QByteArray readSecrets() const;

    QString m_settingsFile;
    QString m_secretsFile;
    QString m_localDataDir;
    LocalServer *m_local = nullptr;
    std::unique_ptr<Client> m_client;
    ConnectionProfile m_current;
    State m_state = State::Disconnected;
    QString m_message;
};

} // namespace schedy
