#pragma once

#include "ClientConfig.h"

#include <QObject>
#include <QThread>

namespace schedy {

namespace server {
class Server;
}

// The embedded server: the server library in this process, in its own
// thread (workers never slow the window down), on 127.0.0.1, SQLite in the
// user's data directory. The port of the last run is tried first so that the
// client.json written for workers stays valid; any free port otherwise. The
// local user is created once; its config is kept (0600) beside the database.
class LocalServer : public QObject
{
    Q_OBJECT
public:
    explicit LocalServer(QObject *parent = nullptr);
    ~LocalServer() override;

    // dataDir empty: QStandardPaths::AppDataLocation.
    void start(const QString &dataDir = {}, quint16 preferredPort = 0);
    void stop();
    bool isRunning() const { return m_running; }
    const ClientConfig &config() const { return m_config; }
    QString databasePath() const { return m_databasePath; }

Q_SIGNALS:
    void started(const schedy::ClientConfig &config);
    void failed(const QString &error);

private:
    QThread m_thread;
    QObject *m_context = nullptr;       // lives in m_thread; runs the calls there
    server::Server *m_server = nullptr; // lives in m_thread
    ClientConfig m_config;
    QString m_databasePath;
    bool m_running = false;
};

} // namespace schedy
