#include "SessionBackend.h"

#include "Client.h"

namespace schedy {

namespace {

// Hands a finished call's outcome to `reply`, unless `context` is gone by then.
template <typename T, typename V, typename Convert>
void deliver(Call<T> *call, QObject *context, SessionBackend::Reply<V> reply, Convert convert)
{
    QObject::connect(call, &CallBase::finished, context, [call, reply = std::move(reply), convert] {
        reply(call->error(), call->ok() ? convert(call->value()) : V{});
    });
}

template <typename T> void deliver(Call<T> *call, QObject *context, SessionBackend::Reply<T> reply)
{
    deliver(call, context, std::move(reply), [](const T &v) { return v; });
}

ClientError noClient()
{
    ClientError e;
    e.kind = ClientError::Kind::Network;
    e.message = QStringLiteral("not connected");
    return e;
}

} // namespace

ClientBackend::ClientBackend(Client *client)
    : m_client(client)
{}

void ClientBackend::readExperiment(QObject *context, const QString &name, Reply<Experiment> reply)
{
    if (!m_client)
        return reply(noClient(), {});
    deliver(m_client->experiment(name), context, std::move(reply));
}

void ClientBackend::writeExperiment(QObject *context, const Experiment &experiment, const QByteArray &etag,
                                    Reply<Experiment> reply)
{
    if (!m_client)
        return reply(noClient(), {});
    Experiment sent = experiment;
    sent.etag = etag;
    sent.jobCounts.reset();
    deliver(m_client->updateExperiment(sent, etag.isEmpty() ? WriteCondition::Unconditional
                                                            : WriteCondition::IfMatch),
            context, std::move(reply));
}

void ClientBackend::deleteExperiment(QObject *context, const QString &name, Reply<bool> reply)
{
    if (!m_client)
        return reply(noClient(), false);
    deliver(m_client->deleteExperiment(name, false), context, std::move(reply));
}

void ClientBackend::readJob(QObject *context, const QString &experiment, const QString &id, Reply<Job> reply)
{
    if (!m_client)
        return reply(noClient(), {});
    deliver(m_client->job(experiment, id), context, std::move(reply));
}

void ClientBackend::writeJob(QObject *context, const QString &experiment, const QString &id,
                             const JobWrite &job, const QByteArray &etag, Reply<Job> reply)
{
    if (!m_client)
        return reply(noClient(), {});
    deliver(m_client->putJob(experiment, id, job, WriteCondition::IfMatch, etag), context, std::move(reply));
}

void ClientBackend::addJob(QObject *context, const QString &experiment, const JobWrite &job, Reply<Job> reply)
{
    if (!m_client)
        return reply(noClient(), {});
    deliver(m_client->addJob(experiment, job), context, std::move(reply));
}

void ClientBackend::deleteJob(QObject *context, const QString &experiment, const QString &id,
                              Reply<bool> reply)
{
    if (!m_client)
        return reply(noClient(), false);
    deliver(m_client->deleteJob(experiment, id, false), context, std::move(reply));
}

void ClientBackend::changesSince(QObject *context, const QString &experiment, double since,
                                 Reply<QList<Job>> reply)
{
    if (!m_client)
        return reply(noClient(), {});
    deliver(m_client->changesSince(experiment, since, {}), context, std::move(reply),
            [](const JobPage &page) { return page.items; });
}

} // namespace schedy
