#pragma once

#include "SessionBackend.h"

#include <QHash>
#include <QObject>
#include <QPointer>

#include <deque>
#include <functional>

// A server in memory for sessions and the conditional save: experiments and jobs with ETags and
// If-Match, an outage switch, and a log of the requests. Replies wait until flush(), as a
// network's would, so that tests decide what happens meanwhile.
class FakeBackend : public schedy::SessionBackend
{
public:
    QHash<QString, schedy::Experiment> experiments;
    QHash<QString, schedy::Job> jobs; // by id (one experiment is enough here)
    QList<schedy::Job> changed;       // what changesSince() returns
    bool outage = false;              // every request fails as a refused connection would
    QStringList log;                  // "read NAME", "write NAME If-Match v2", ...

    // Someone else saves: a new version with a new ETag.
    void change(const schedy::Experiment &e)
    {
        schedy::Experiment stored = e;
        stored.etag = "v" + QByteArray::number(++m_version);
        experiments.insert(e.name, stored);
    }
    void changeJob(const schedy::Job &j)
    {
        schedy::Job stored = j;
        stored.etag = "j" + QByteArray::number(++m_version);
        jobs.insert(j.id, stored);
    }
    // Delivers the replies waiting (and those they cause).
    void flush()
    {
        while (!m_pending.empty()) {
            auto next = std::move(m_pending.front());
            m_pending.pop_front();
            next();
        }
    }
    int pending() const { return int(m_pending.size()); }

    void readExperiment(QObject *context, const QString &name, Reply<schedy::Experiment> reply) override
    {
        log.append(QStringLiteral("read ") + name);
        later(context, [this, name, reply] {
            if (outage)
                return reply(refused(), {});
            if (!experiments.contains(name))
                return reply(notFound(), {});
            reply({}, experiments.value(name));
        });
    }
    void writeExperiment(QObject *context, const schedy::Experiment &e, const QByteArray &etag,
                         Reply<schedy::Experiment> reply) override
    {
        log.append(QStringLiteral("write %1 If-Match %2").arg(e.name, QString::fromLatin1(etag)));
        later(context, [this, e, etag, reply] {
            if (outage)
                return reply(refused(), {});
            if (!etag.isEmpty() && experiments.value(e.name).etag != etag)
                return reply(preconditionFailed(), {});
            schedy::Experiment stored = e;
            stored.jobCounts.reset(); // a write's answer has no counts
            change(stored);
            reply({}, experiments.value(e.name));
        });
    }
    void deleteExperiment(QObject *context, const QString &name, Reply<bool> reply) override
    {
        log.append(QStringLiteral("delete ") + name);
        later(context, [this, name, reply] {
            experiments.remove(name);
            reply({}, true);
        });
    }
    void readJob(QObject *context, const QString &, const QString &id, Reply<schedy::Job> reply) override
    {
        log.append(QStringLiteral("read job ") + id);
        later(context, [this, id, reply] {
            if (!jobs.contains(id))
                return reply(notFound(), {});
            reply({}, jobs.value(id));
        });
    }
    void writeJob(QObject *context, const QString &, const QString &id, const schedy::JobWrite &job,
                  const QByteArray &etag, Reply<schedy::Job> reply) override
    {
        log.append(QStringLiteral("write job %1 If-Match %2").arg(id, QString::fromLatin1(etag)));
        later(context, [this, id, job, etag, reply] {
            if (jobs.value(id).etag != etag)
                return reply(preconditionFailed(), {});
            schedy::Job stored = jobs.value(id);
            stored.status = job.status;
            stored.hyperparameters = job.hyperparameters;
            stored.results = job.results;
            changeJob(stored);
            reply({}, jobs.value(id));
        });
    }
    void addJob(QObject *context, const QString &experiment, const schedy::JobWrite &job,
                Reply<schedy::Job> reply) override
    {
        log.append(QStringLiteral("add job"));
        later(context, [this, experiment, job, reply] {
            schedy::Job j;
            j.id = QStringLiteral("added%1").arg(jobs.size());
            j.experiment = experiment;
            j.status = job.status;
            j.hyperparameters = job.hyperparameters;
            changeJob(j);
            reply({}, jobs.value(j.id));
        });
    }
    void deleteJob(QObject *context, const QString &, const QString &id, Reply<bool> reply) override
    {
        log.append(QStringLiteral("delete job ") + id);
        later(context, [this, id, reply] {
            jobs.remove(id);
            reply({}, true);
        });
    }
    void changesSince(QObject *context, const QString &, double, Reply<QList<schedy::Job>> reply) override
    {
        log.append(QStringLiteral("changes"));
        later(context, [this, reply] {
            if (outage)
                return reply(refused(), {});
            reply({}, changed);
        });
    }

private:
    static schedy::ClientError error(schedy::ClientError::Kind kind, int status, const QString &message = {})
    {
        schedy::ClientError e;
        e.kind = kind;
        e.httpStatus = status;
        e.message = message;
        return e;
    }
    static schedy::ClientError refused()
    {
        return error(schedy::ClientError::Kind::Network, 0, QStringLiteral("Connection refused"));
    }
    static schedy::ClientError notFound() { return error(schedy::ClientError::Kind::ClientRequest, 404); }
    static schedy::ClientError preconditionFailed()
    {
        return error(schedy::ClientError::Kind::UnsafeUpdate, 412);
    }
    void later(QObject *context, std::function<void()> reply)
    {
        // Dropped when its context is gone, as the client's replies are.
        m_pending.push_back([guard = QPointer<QObject>(context), reply = std::move(reply)] {
            if (guard)
                reply();
        });
    }

    std::deque<std::function<void()>> m_pending;
    int m_version = 0;
};
