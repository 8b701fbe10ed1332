#pragma once

#include "Types.h"

#include <QByteArray>
#include <QList>
#include <QString>

#include <optional>

namespace schedy {
class Sampler;
}

namespace schedy::server {

// How a store operation ended; the HTTP layer maps it to a status code.
enum class StoreStatus {
    Ok,
    Created,            // Ok, and something new was made
    NotFound,           // 404
    PreconditionFailed, // 412
    Invalid,            // 400 (e.g. a cursor that does not belong to this listing)
    Busy,               // 503: the database stayed locked; nothing was applied
    Error               // 500: nothing was applied
};

template <typename T> struct StoreResult
{
    StoreStatus status = StoreStatus::Ok;
    QString message;
    T value{};
    bool ok() const { return status == StoreStatus::Ok || status == StoreStatus::Created; }
    static StoreResult fail(StoreStatus s, const QString &m)
    {
        StoreResult r;
        r.status = s;
        r.message = m;
        return r;
    }
};

struct User
{
    qint64 id = 0;
    QString email;
    QByteArray passwordHash; // empty: no password login
    QByteArray tokenHash;
    qint64 tokenGeneration = 0; // read with the hashes: a bearer issued from this row carries it
};

// A job as stored: its document fields, with hyperparameters and results
// kept as the JSON text they are stored as, so listings need not re-encode.
struct StoredJob
{
    Job job; // hyperparameters/results empty; see the texts below
    QByteArray hyperparametersJson;
    QByteArray resultsJson;
};

struct JobSort
{
    enum class Field { Default, Id, Status, CreatedAt, ModifiedAt, Hyperparameter, Result };
    Field field = Field::Default;
    QString name; // hyperparameter or result name
    bool descending = false;
};

struct JobQuery
{
    QString cursor;
    int limit = 1000;
    QList<JobStatus> statuses; // empty: all
    JobSort sort;
    std::optional<double> modifiedSince;
    QString idContains;
    bool wantTotal = false;
};

struct JobListing
{
    QList<StoredJob> items;
    QString next;
    std::optional<qint64> total;
};

struct ExperimentListing
{
    QList<Experiment> items;
    QString next;
    std::optional<qint64> total;
};

enum class Condition { None, IfMatch, IfNoneMatchAny };

// Storage behind the server. Every mutating call is one transaction: it either
// applies completely or returns Error with nothing applied.
class Store
{
    template <typename T> static KeyUpdate<T> replacing(const std::optional<T> &value)
    {
        KeyUpdate<T> k;
        k.action = value ? KeyUpdate<T>::Action::Set : KeyUpdate<T>::Action::Remove;
        k.value = value;
        return k;
    }

public:
    virtual ~Store() = default;

    virtual bool open(QString *error) = 0;
    virtual QByteArray secret() = 0;

    virtual StoreResult<User> addUser(const QString &email, const QByteArray &passwordHash,
                                      const QByteArray &tokenHash) = 0;
    // NotFound when there is no such user; Busy or Error when the database failed
    // (never NotFound: a worker told its password is wrong stops for good).
    virtual StoreResult<User> userByEmail(const QString &email) = 0;
    virtual StoreResult<User> userById(qint64 id) = 0;
    // Also raises the user's token generation, revoking every bearer issued before.
    virtual bool setTokenHash(qint64 userId, const QByteArray &tokenHash) = 0;
    // The generation a bearer must carry (checked on every request: the value is
    // the database's, so a reset through any process counts at once). NotFound
    // when the user is gone; Busy or Error when the database did not answer.
    virtual StoreResult<qint64> tokenGeneration(qint64 userId) = 0;
    virtual bool setPasswordHash(qint64 userId, const QByteArray &passwordHash) = 0;

    virtual StoreResult<ExperimentListing> listExperiments(qint64 user, const QString &cursor, int limit) = 0;
    virtual StoreResult<Experiment> experiment(qint64 user, const QString &name) = 0;
    // Created when new. PreconditionFailed: IfNoneMatchAny and it exists; IfMatch and it is
    // missing or its ETag is not `etag` (compared atomically with the write). The result
    // carries the new ETag.
    // The section-8 keys the update leaves out keep their stored values; Invalid (naming
    // the key) when the merged experiment does not hold together.
    virtual StoreResult<Experiment> putExperiment(qint64 user, const ExperimentUpdate &u, Condition c,
                                                  const QByteArray &etag) = 0;
    // The whole definition: section-8 keys `e` leaves unset are removed.
    StoreResult<Experiment> putExperiment(qint64 user, const Experiment &e, Condition c,
                                          const QByteArray &etag)
    {
        ExperimentUpdate u;
        u.experiment = e;
        u.sampler = replacing(e.sampler);
        u.pruner = replacing(e.pruner);
        u.lease = replacing(e.lease);
        return putExperiment(user, u, c, etag);
    }
    StoreResult<Experiment> putExperiment(qint64 user, const Experiment &e, bool mustNotExist)
    {
        return putExperiment(user, e, mustNotExist ? Condition::IfNoneMatchAny : Condition::None, {});
    }
    // NotFound when missing (the caller decides whether that is an error).
    virtual StoreResult<qint64> deleteExperiment(qint64 user, const QString &name) = 0;

    virtual StoreResult<JobListing> listJobs(qint64 user, const QString &experiment, const JobQuery &q) = 0;
    virtual StoreResult<StoredJob> job(qint64 user, const QString &experiment, const QString &id) = 0;
    virtual StoreResult<StoredJob> createJob(qint64 user, const QString &experiment, const JobWrite &w) = 0;
    virtual StoreResult<StoredJob> putJob(qint64 user, const QString &experiment, const QString &id,
                                          const JobWrite &w, Condition c, const QByteArray &etag) = 0;
    virtual StoreResult<bool> deleteJob(qint64 user, const QString &experiment, const QString &id) = 0;
    // Ok with a job, Ok without one (value.job.id empty: nothing to hand out), or NotFound.
    virtual StoreResult<StoredJob> nextJob(qint64 user, const QString &experiment, Sampler &sampler) = 0;
    // Keeps a RUNNING job's lease alive without changing it (section 8.3). Ok; NotFound
    // when the job or experiment is gone; PreconditionFailed when `etag` is not the job's.
    virtual StoreResult<bool> heartbeat(qint64 user, const QString &experiment, const QString &id,
                                        const QByteArray &etag) = 0;
};

} // namespace schedy::server
