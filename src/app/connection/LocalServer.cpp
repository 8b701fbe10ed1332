#include "LocalServer.h"

#include "Server.h"

#include <QDir>
#include <QFile>
#include <QMetaObject>
#include <QStandardPaths>

namespace schedy {

LocalServer::LocalServer(QObject *parent)
    : QObject(parent)
{
    m_thread.setObjectName(QStringLiteral("schedy-local-server"));
}

LocalServer::~LocalServer()
{
    stop();
}

void LocalServer::start(const QString &dataDir, quint16 preferredPort)
{
    if (m_running || m_thread.isRunning())
        return;
    const QString dir =
        dataDir.isEmpty() ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) : dataDir;
    m_databasePath = dir + QStringLiteral("/local.sqlite3");
    const QString configPath = dir + QStringLiteral("/local-client.json");
    m_context = new QObject;
    m_context->moveToThread(&m_thread);
    m_thread.start();
    // Everything about the server, its SQL connection included, happens in its thread.
    QMetaObject::invokeMethod(
        m_context,
        [this, dir, configPath, preferredPort] {
            auto fail = [this](const QString &e) {
                delete m_server;
                m_server = nullptr;
                QMetaObject::invokeMethod(
                    this, [this, e] { Q_EMIT failed(e); }, Qt::QueuedConnection);
            };
            if (!QDir().mkpath(dir))
                return fail(tr("Cannot create %1").arg(dir));
            m_server = new server::Server;
            server::ServerOptions options;
            options.databaseUrl = QStringLiteral("sqlite:") + m_databasePath;
            options.address = QHostAddress::LocalHost;
            options.port = preferredPort;
            QString error;
            bool ok = m_server->start(options, &error);
            if (!ok && preferredPort != 0) {
                delete m_server;
                m_server = new server::Server;
                options.port = 0;
                ok = m_server->start(options, &error);
            }
            if (!ok)
                return fail(error);
            // The local user, created on the first run.
            std::optional<ClientConfig> config;
            QString readError;
            config = ClientConfig::load(configPath, &readError);
            // A lookup that failed is not a missing user: no new user or token then.
            auto known = [&](const QString &email, bool *exists) {
                const auto user = m_server->store()->userByEmail(email);
                *exists = user.ok();
                if (!user.ok() && user.status != server::StoreStatus::NotFound)
                    error = user.message;
                return user.ok() || user.status == server::StoreStatus::NotFound;
            };
            bool exists = false;
            if (config && !known(config->email, &exists))
                return fail(error);
            if (config && !exists)
                config.reset();
            if (!config) {
                const QString email = QStringLiteral("local@schedy.localhost");
                if (!known(email, &exists))
                    return fail(error);
                config = exists
                             ? server::resetUserToken(*m_server->store(), email, m_server->rootUrl(), &error)
                             : server::addUser(*m_server->store(), email, {}, m_server->rootUrl(), &error);
                if (!config)
                    return fail(error);
            }
            config->root = m_server->rootUrl();
            if (!config->save(configPath, &error))
                return fail(error);
            const ClientConfig result = *config;
            QMetaObject::invokeMethod(
                this,
                [this, result] {
                    m_config = result;
                    m_running = true;
                    Q_EMIT started(result);
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

void LocalServer::stop()
{
    if (!m_thread.isRunning())
        return;
    QMetaObject::invokeMethod(
        m_context,
        [this] {
            delete m_server;
            m_server = nullptr;
            m_context->deleteLater(); // processed as the thread finishes
        },
        Qt::BlockingQueuedConnection);
    m_thread.quit();
    m_thread.wait();
    m_context = nullptr;
    m_running = false;
}

} // namespace schedy
