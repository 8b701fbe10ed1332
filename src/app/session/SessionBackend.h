#pragma once

#include "Client.h"
#include "ClientError.h"
#include "Types.h"

#include <QByteArray>
#include <QList>
#include <QPointer>
#include <QString>

#include <functional>

class QObject;

namespace schedy {

class Client;

// What an experiment's session asks of the server, as callbacks with values: the one seam
// between the dashboard and the client, so that sessions and the conditional save are tested
// with a fake. A reply is dropped when `context` is destroyed before it comes.
class SessionBackend
{
public:
    template <typename T> using Reply = std::function<void(const ClientError &error, const T &value)>;
    virtual ~SessionBackend() = default;

    virtual void readExperiment(QObject *context, const QString &name, Reply<Experiment> reply) = 0;
    // An empty etag saves unconditionally (a server without experiment ETags); else If-Match.
    virtual void writeExperiment(QObject *context, const Experiment &experiment, const QByteArray &etag,
                                 Reply<Experiment> reply) = 0;
    virtual void deleteExperiment(QObject *context, const QString &name, Reply<bool> reply) = 0;
    virtual void readJob(QObject *context, const QString &experiment, const QString &id,
                         Reply<Job> reply) = 0;
    // If-Match: etag (without one the server refuses to replace an existing job).
    virtual void writeJob(QObject *context, const QString &experiment, const QString &id, const JobWrite &job,
                          const QByteArray &etag, Reply<Job> reply) = 0;
    virtual void addJob(QObject *context, const QString &experiment, const JobWrite &job,
                        Reply<Job> reply) = 0;
    virtual void deleteJob(QObject *context, const QString &experiment, const QString &id,
                           Reply<bool> reply) = 0;
    // Every job changed at or after `since` (server time).
    virtual void changesSince(QObject *context, const QString &experiment, double since,
                              Reply<QList<Job>> reply) = 0;
    // The client that pages the job table; none for a fake (its tests give the model values).
    virtual Client *client() const { return nullptr; }
};

// The backend over the real client; holds no state of its own.
class ClientBackend : public SessionBackend
{
public:
    explicit ClientBackend(Client *client);
    void readExperiment(QObject *context, const QString &name, Reply<Experiment> reply) override;
    void writeExperiment(QObject *context, const Experiment &experiment, const QByteArray &etag,
                         Reply<Experiment> reply) override;
    void deleteExperiment(QObject *context, const QString &name, Reply<bool> reply) override;
    void readJob(QObject *context, const QString &experiment, const QString &id, Reply<Job> reply) override;
    void writeJob(QObject *context, const QString &experiment, const QString &id, const JobWrite &job,
                  const QByteArray &etag, Reply<Job> reply) override;
    void addJob(QObject *context, const QString &experiment, const JobWrite &job, Reply<Job> reply) override;
    void deleteJob(QObject *context, const QString &experiment, const QString &id,
                   Reply<bool> reply) override;
    void changesSince(QObject *context, const QString &experiment, double since,
                      Reply<QList<Job>> reply) override;
    Client *client() const override { return m_client; }

private:
    QPointer<Client> m_client;
};

} // namespace schedy
