#pragma once

#include "Lease.h"
#include "NextJob.h"
#include "Pruner.h"
#include "SqlConnection.h"
#include "Store.h"

#include <QHash>
#include <QString>

namespace schedy::server {

// The store on QtSql: SQLite (one process) or PostgreSQL (any number of
// server processes on one database). The SQL is kept to what both speak, with
// the few differences behind the dialect. On PostgreSQL, writes that lost a
// race with another process (deadlock, serialization failure, unique
// violation) are run again from the start; see docs/deployment.md.
//
// Its parts: SqlConnection (transactions and retry), SqlSchema (schema and
// migrations), SqlListing (the listing query builder); the entities here
// (SqlStore.cpp: users and experiments; SqlJobs.cpp: jobs); SqlScheduling.cpp
// gathers the observations of the scheduling layer (scheduling/) and applies
// its decisions.
class SqlStore final : public Store
{
public:
    using Dialect = SqlConnection::Dialect;

    // url: "sqlite:PATH" or "postgresql://USER:PASSWORD@HOST:PORT/DB".
    explicit SqlStore(const QString &url);
    ~SqlStore() override;

    static QString defaultSqliteUrl();

    bool open(QString *error) override;
    QByteArray secret() override;
    Dialect dialect() const { return m_sql.dialect(); }
    // The open connection (for `schedy-server migrate` and tests); not for use
    // while an operation of this store runs.
    QSqlDatabase database() const { return m_sql.database(); }
    int schemaVersion();
    static int latestSchemaVersion();
    // Tests: open() migrates no further than this version, to build an old database.
    void setSchemaVersionLimit(int version) { m_schemaVersionLimit = version; }

    // Tests: every statement fails with `error` until nullopt (SqlConnection::setInjectedFailure).
    void setInjectedFailure(std::optional<QSqlError> error) { m_sql.setInjectedFailure(std::move(error)); }

    // A handed-out QUEUED job is reserved for this long (0 disables leases).
    void setLeaseSeconds(double seconds) { m_leaseSeconds = seconds; }
    // The clock of the experiments' leases on RUNNING jobs (section 8.3). By default
    // an AnchoredClock on the database's clock (PostgreSQL) or the host's wall clock
    // (SQLite), read again at every lost-job check and advanced in between by this
    // process's monotonic clock (docs/server.md, lost workers, "Clock"). Tests set a fake
    // one, or fake sources for the default one.
    void setLeaseClock(scheduling::LeaseClock clock)
    {
        m_leaseClock = std::move(clock);
        m_anchoredClock.reset();
    }
    void setLeaseClockSources(std::function<std::optional<double>()> reference,
                              std::function<double()> steady);
    // How often expireLostJobs() runs (the other processes' checks are assumed as
    // frequent): after a step of the clock, no lease expires for two of them.
    void setLeaseCheckInterval(double seconds) { m_leaseCheckInterval = seconds; }
    double leaseNow();
    // Marks the lost RUNNING jobs of every experiment with a lease CRASHED and queues
    // their replacements; each one once, whatever the number of server processes.
    // The number of jobs it found lost, or nullopt on a database error.
    std::optional<int> expireLostJobs();

    StoreResult<User> addUser(const QString &email, const QByteArray &passwordHash,
                              const QByteArray &tokenHash) override;
    StoreResult<User> userByEmail(const QString &email) override;
    StoreResult<User> userById(qint64 id) override;
    bool setTokenHash(qint64 userId, const QByteArray &tokenHash) override;
    StoreResult<qint64> tokenGeneration(qint64 userId) override;
    bool setPasswordHash(qint64 userId, const QByteArray &passwordHash) override;

    StoreResult<ExperimentListing> listExperiments(qint64 user, const QString &cursor, int limit) override;
    StoreResult<Experiment> experiment(qint64 user, const QString &name) override;
    using Store::putExperiment;
    StoreResult<Experiment> putExperiment(qint64 user, const ExperimentUpdate &u, Condition c,
                                          const QByteArray &etag) override;
    StoreResult<qint64> deleteExperiment(qint64 user, const QString &name) override;

    StoreResult<JobListing> listJobs(qint64 user, const QString &experiment, const JobQuery &q) override;
    StoreResult<StoredJob> job(qint64 user, const QString &experiment, const QString &id) override;
    StoreResult<StoredJob> createJob(qint64 user, const QString &experiment, const JobWrite &w) override;
    StoreResult<StoredJob> putJob(qint64 user, const QString &experiment, const QString &id,
                                  const JobWrite &w, Condition c, const QByteArray &etag) override;
    StoreResult<bool> deleteJob(qint64 user, const QString &experiment, const QString &id) override;
    StoreResult<StoredJob> nextJob(qint64 user, const QString &experiment, Sampler &sampler) override;
    StoreResult<bool> heartbeat(qint64 user, const QString &experiment, const QString &id,
                                const QByteArray &etag) override;

private:
    struct ExperimentRow
    {
        qint64 id = 0;
        ExperimentStatus status = ExperimentStatus::Running;
        Scheduler scheduler;
        QString name;
        double createdAt = 0;
        double modifiedAt = 0;
        qint64 version = 1; // of status and scheduler; the ETag
        std::optional<PrunerSpec> pruner;
        std::optional<LeaseSpec> lease;
        std::optional<SamplerSpec> sampler;
    };
    // What putJob read of the job it replaces.
    struct JobBefore
    {
        qint64 seq = 0;
        qint64 version = 0;
        JobStatus status = JobStatus::Queued;
        QByteArray resultsJson;
        QString pruned; // the prune verdict (SqlPruning.cpp), when PRUNED by the pruner
        bool lost = false;
        QString replacedBy;
    };
    // What the pruner decided for a job write, applied by putJob's UPDATE.
    struct PrunePlan
    {
        bool failed = false;
        QString verdict; // set: the write stops the job (PRUNED)
        QList<scheduling::RungRecord> records;
        std::optional<QList<double>> curve; // the new curve, when the experiment has a pruner
        qint64 previousLength = 0;
    };
    StoreResult<User> addUserOnce(const QString &email, const QByteArray &passwordHash,
                                  const QByteArray &tokenHash);
    StoreResult<Experiment> putExperimentOnce(qint64 user, const ExperimentUpdate &u, Condition c,
                                              const QByteArray &etag);
    StoreResult<qint64> deleteExperimentOnce(qint64 user, const QString &name);
    StoreResult<StoredJob> createJobOnce(qint64 user, const QString &experiment, const JobWrite &w);
    StoreResult<StoredJob> putJobOnce(qint64 user, const QString &experiment, const QString &id,
                                      const JobWrite &w, Condition c, const QByteArray &etag);
    StoreResult<bool> deleteJobOnce(qint64 user, const QString &experiment, const QString &id);
    StoreResult<StoredJob> nextJobOnce(qint64 user, const QString &experiment, Sampler &sampler);
    // Issue 17, finding 7: the stored job or experiment when it is exactly what the
    // write `w` (sent with If-Match `etag`) made, i.e. a repeat of a write whose
    // answer was lost; nullopt otherwise (and on a database error: check
    // statementFailed()).
    std::optional<StoredJob> repeatedJobWrite(const JobBefore &before, const JobWrite &w, Condition c,
                                              const QByteArray &etag, const QString &experimentName);
    static bool repeatedExperimentWrite(const ExperimentRow &row, const Experiment &stored,
                                        const Experiment &e, Condition c, const QByteArray &etag);
    std::optional<User> findUserByEmail(const QString &email);
    std::optional<User> findUserById(qint64 id);
    bool updateUserHash(qint64 userId, const char *sql, const QByteArray &hash);
    QString newJobId(qint64 experimentId, Sampler *sampler);
    bool jobIdExists(qint64 experimentId, const QString &id);

    // Looks the experiment up inside the current transaction (locks it on PostgreSQL).
    std::optional<ExperimentRow> findExperiment(qint64 user, const QString &name, bool forUpdate);
    // For a write that schedules or changes jobs: locks the experiment on PostgreSQL when it is PBT.
    std::optional<ExperimentRow> findExperimentToSchedule(qint64 user, const QString &name);
    std::optional<JobCounts> countsOf(qint64 experimentId);
    Experiment toExperiment(const ExperimentRow &row, const std::optional<JobCounts> &counts) const;
    std::optional<StoredJob> loadJob(qint64 seq, const QString &experimentName);
    StoredJob jobFromQuery(QSqlQuery &q, const QString &experimentName) const;
    qint64 insertJob(qint64 experimentId, const QString &id, JobStatus status, const QByteArray &hp,
                     const QByteArray &results, std::optional<qint64> generation, const QString &parent,
                     const QString &member, const QString &predecessor, double lease,
                     std::optional<qint64> gridIndex = std::nullopt,
                     std::optional<qint64> sobolIndex = std::nullopt);
    std::optional<qint64> oldestQueued(qint64 experimentId, bool respectLeases);
    bool lease(qint64 seq);
    // What the scheduling layer asks for, read inside the current transaction.
    std::optional<NextJobObservations> observe(const ExperimentRow &row, const NextJobNeeds &needs);
    // The PBT view of an experiment's jobs, read inside the current transaction.
    std::optional<QList<PbtJob>> pbtPopulation(qint64 experimentId, const PbtSettings &settings);
    // After a job left QUEUED/RUNNING: marks a finished experiment DONE (PBT rule 7).
    bool finishIfDone(const ExperimentRow &row);
    std::optional<QList<TpeObservation>> tpeHistory(const ExperimentRow &row);
    bool markExperimentDone(qint64 experimentId, double t);

    // SqlPruning.cpp: the pruner's observations and its bookkeeping.
    PrunePlan planPrune(const ExperimentRow &row, const JobBefore &before, const JobWrite &w);
    // After the job's row was written (`status` is what was stored).
    bool recordPruneValues(const ExperimentRow &row, const JobBefore &before, JobStatus status,
                           const PrunePlan &plan);
    // After the experiment's pruner changed: what the rules compare with, from its jobs.
    bool rebuildPruneValues(qint64 experimentId, const std::optional<PrunerSpec> &pruner);
    bool insertPruneValues(qint64 experimentId, qint64 seq, int kind,
                           const QList<std::pair<qint64, double>> &values);
    static void readPolicies(const QSqlQuery &q, int first, ExperimentRow *row);
    static std::optional<PruneInfo> pruneInfoOf(const QString &verdict);
    // The message of a 412 on a job stopped by the server: why, and what replaced it.
    QString stoppedMessage(const QString &id, const JobBefore &before, const ExperimentRow &row) const;

    // SqlLeases.cpp
    // A job stored RUNNING by an insert starts its lease.
    bool startLease(qint64 seq, JobStatus status);
    bool restartLeases(qint64 experimentId);
    std::optional<qint64> queuedReplacement(qint64 experimentId);
    std::optional<int> expireLostJobsOf(qint64 experimentId, double now);
    // Sets alive_at = now on the RUNNING jobs `sql` selects (`above`: its second value).
    bool restartAllLeases(const char *sql, double now, double above);

    SqlConnection m_sql;
    double m_leaseSeconds = 5.0;
    scheduling::LeaseClock m_leaseClock;
    std::shared_ptr<scheduling::AnchoredClock>
        m_anchoredClock; // behind m_leaseClock, unless a test replaced it
    double m_leaseCheckInterval = 1;
    double m_noExpiryUntil = -1e300; // lease clock seconds; set when the clock stepped
    int m_schemaVersionLimit = -1;   // none
    QHash<qint64, std::pair<double, Scheduler>> m_schedulerCache;
    struct CachedObservation
    {
        qint64 version = 0;
        TpeObservation observation;
    };
    struct TpeCache
    {
        QString result;
        QHash<qint64, CachedObservation> byRow; // by seq
    };
    QHash<qint64, TpeCache> m_tpeCache; // by experiment row
};

} // namespace schedy::server
