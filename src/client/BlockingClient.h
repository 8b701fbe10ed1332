#pragma once

#include "Client.h"

#include <optional>

namespace schedy {

// The same calls, waited for: for the command line, worker programs and
// tests. Each method runs a local event loop until its call has finished, so
// it must not be used from inside a slot of a GUI that is still interactive.
class BlockingClient
{
public:
    explicit BlockingClient(const ClientConfig &config);
    explicit BlockingClient(Client *client); // not owned

    Client &client() { return *m_client; }
    const ClientError &lastError() const { return m_error; }

    std::optional<ExperimentPage> experiments(const QString &start = {}, int limit = 0);
    // Every experiment, all pages.
    std::optional<QList<Experiment>> allExperiments();
    std::optional<Experiment> experiment(const QString &name);
    std::optional<Experiment> createExperiment(const Experiment &e);
    std::optional<Experiment> updateExperiment(const Experiment &e);
    bool deleteExperiment(const QString &name, bool mustExist = true);

    std::optional<JobPage> jobs(const QString &experiment, const JobListQuery &query = {});
    // Every job, all pages (optionally filtered and sorted).
    std::optional<QList<Job>> allJobs(const QString &experiment, const JobListQuery &query = {});
    std::optional<Job> job(const QString &experiment, const QString &id);
    std::optional<Job> addJob(const QString &experiment, const JobWrite &job);
    // nullopt with lastError().kind == NoJob when there is nothing to do.
    std::optional<Job> nextJob(const QString &experiment);
    std::optional<Job> putJob(const QString &experiment, const QString &id, const JobWrite &job,
                              WriteCondition condition, const QByteArray &etag = {});
    bool deleteJob(const QString &experiment, const QString &id, bool mustExist = true);
    bool heartbeat(const QString &experiment, const QString &id, const QByteArray &etag);
    bool login();
    std::optional<ClientConfig> resetToken();

    // The gen-token flow: password login at `root`, then a new API token.
    static std::optional<ClientConfig> generateToken(const QString &root, const QString &email,
                                                     const QString &password, ClientError *error);

private:
    template <typename T> std::optional<T> wait(Call<T> *call);

    std::unique_ptr<Client> m_owned;
    Client *m_client;
    ClientError m_error;
};

} // namespace schedy
