#include "BlockingClient.h"

#include <QEventLoop>

namespace schedy {

BlockingClient::BlockingClient(const ClientConfig &config)
    : m_owned(std::make_unique<Client>(config))
    , m_client(m_owned.get())
{}

BlockingClient::BlockingClient(Client *client)
    : m_client(client)
{}

template <typename T> std::optional<T> BlockingClient::wait(Call<T> *call)
{
    call->setAutoDelete(false);
    if (!call->isFinished()) {
        QEventLoop loop;
        QObject::connect(call, &CallBase::finished, &loop, &QEventLoop::quit);
        loop.exec(QEventLoop::ExcludeUserInputEvents);
    }
    m_error = call->error();
    std::optional<T> result;
    if (call->ok())
        result = call->takeValue();
    delete call;
    return result;
}

std::optional<ExperimentPage> BlockingClient::experiments(const QString &start, int limit)
{
    return wait(m_client->experiments(start, limit));
}

std::optional<QList<Experiment>> BlockingClient::allExperiments()
{
    QList<Experiment> all;
    QString start;
    for (;;) {
        auto page = experiments(start);
        if (!page)
            return std::nullopt;
        all.append(page->items);
        if (page->next.isEmpty() || page->items.isEmpty())
            return all;
        start = page->next;
    }
}

std::optional<Experiment> BlockingClient::experiment(const QString &name)
{
    return wait(m_client->experiment(name));
}

std::optional<Experiment> BlockingClient::createExperiment(const Experiment &e)
{
    return wait(m_client->createExperiment(e));
}

std::optional<Experiment> BlockingClient::updateExperiment(const Experiment &e)
{
    return wait(m_client->updateExperiment(e));
}

bool BlockingClient::deleteExperiment(const QString &name, bool mustExist)
{
    return wait(m_client->deleteExperiment(name, mustExist)).has_value();
}

std::optional<JobPage> BlockingClient::jobs(const QString &experiment, const JobListQuery &query)
{
    return wait(m_client->jobs(experiment, query));
}

std::optional<QList<Job>> BlockingClient::allJobs(const QString &experiment, const JobListQuery &query)
{
    auto page = wait(m_client->allJobs(experiment, query));
    if (!page)
        return std::nullopt;
    return std::move(page->items);
}

std::optional<Job> BlockingClient::job(const QString &experiment, const QString &id)
{
    return wait(m_client->job(experiment, id));
}

std::optional<Job> BlockingClient::addJob(const QString &experiment, const JobWrite &job)
{
    return wait(m_client->addJob(experiment, job));
}

std::optional<Job> BlockingClient::nextJob(const QString &experiment)
{
    return wait(m_client->nextJob(experiment));
}

std::optional<Job> BlockingClient::putJob(const QString &experiment, const QString &id, const JobWrite &job,
                                          WriteCondition condition, const QByteArray &etag)
{
    return wait(m_client->putJob(experiment, id, job, condition, etag));
}

bool BlockingClient::deleteJob(const QString &experiment, const QString &id, bool mustExist)
{
    return wait(m_client->deleteJob(experiment, id, mustExist)).has_value();
}

bool BlockingClient::heartbeat(const QString &experiment, const QString &id, const QByteArray &etag)
{
    return wait(m_client->heartbeat(experiment, id, etag)).has_value();
}

bool BlockingClient::login()
{
    return wait(m_client->login()).value_or(false);
}

std::optional<ClientConfig> BlockingClient::resetToken()
{
    return wait(m_client->resetToken());
}

std::optional<ClientConfig> BlockingClient::generateToken(const QString &root, const QString &email,
                                                          const QString &password, ClientError *error)
{
    ClientConfig config;
    config.root = normalizedRoot(root);
    config.email = email;
    config.token = password;
    config.tokenType = ClientConfig::TokenType::Password;
    BlockingClient client(config);
    auto result = client.resetToken();
    if (!result && error)
        *error = client.lastError();
    return result;
}

} // namespace schedy
