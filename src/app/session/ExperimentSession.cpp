#include "ExperimentSession.h"

#include "Codec.h"
#include "DocumentChanges.h"
#include "JobTableModel.h"
#include "Reachability.h"
#include "ValueFormat.h"

namespace schedy {

ExperimentSession::ExperimentSession(QObject *parent)
    : QObject(parent)
    , m_ownReachability(new Reachability(this))
    , m_jobs(new JobTableModel(this))
{
    setReachability(nullptr);
}

ExperimentSession::~ExperimentSession() = default;

void ExperimentSession::setReachability(Reachability *reachability)
{
    if (m_reachability)
        disconnect(m_reachability, nullptr, this, nullptr);
    m_reachability = reachability ? reachability : m_ownReachability;
    // While the server does not answer, the statuses shown are only the last known ones.
    connect(m_reachability, &Reachability::changed, this, [this](bool reachable) {
        m_jobs->setStale(!reachable);
        Q_EMIT reachabilityChanged(reachable);
    });
    m_jobs->setStale(!m_reachability->isReachable());
    Q_EMIT reachabilityChanged(m_reachability->isReachable());
}

void ExperimentSession::open(std::shared_ptr<SessionBackend> backend, const Experiment &experiment)
{
    ++m_generation;
    m_backend = std::move(backend);
    m_refreshing = false;
    endStatusSave();
    m_experiment = experiment;
    if (m_backend && m_backend->client())
        m_jobs->setSource(m_backend->client(), experiment.name);
    else
        m_jobs->setSource(nullptr, experiment.name);
    Q_EMIT experimentChanged(m_experiment);
}

void ExperimentSession::show(Experiment e)
{
    // Writes and single reads may return no counts: the last known ones stay.
    if (!e.jobCounts)
        e.jobCounts = m_experiment.jobCounts;
    m_experiment = std::move(e);
    Q_EMIT experimentChanged(m_experiment);
}

void ExperimentSession::report(const QString &what, const ClientError &error)
{
    if (error.kind == ClientError::Kind::Aborted)
        return;
    if (!m_reachability->report(error))
        Q_EMIT failed(what, error);
}

void ExperimentSession::refresh()
{
    if (!m_backend || m_experiment.name.isEmpty() || m_refreshing)
        return;
    m_refreshing = true;
    const QString name = m_experiment.name;
    const quint64 generation = m_generation;
    // A margin: with several server processes a change stamped a little earlier
    // may commit later; re-reading the last seconds costs little, merges are by id.
    const double since = m_jobs->latestModification() > 0 ? m_jobs->latestModification() - 5.0 : 0;
    auto pending = std::make_shared<int>(2);
    auto done = [this, pending, generation] {
        if (--*pending == 0 && generation == m_generation) {
            m_refreshing = false;
            Q_EMIT refreshed();
        }
    };
    m_backend->readExperiment(
        this, name, [this, name, generation, done](const ClientError &error, const Experiment &e) {
            if (generation == m_generation) {
                if (!error.isError()) {
                    m_reachability->reportReached();
                    const qint64 before = m_experiment.jobCounts ? m_experiment.jobCounts->total() : -1;
                    show(e);
                    // Jobs deleted elsewhere: a listing of everything no longer adds up.
                    const qint64 after = e.jobCounts ? e.jobCounts->total() : -1;
                    if (after >= 0 && after < before && m_jobs->statusFilter().isEmpty() &&
                        m_jobs->query().idContains.isEmpty() && m_jobs->rowCount() > after)
                        m_jobs->reload();
                } else if (error.httpStatus == 404) {
                    Q_EMIT deleted(name);
                } else {
                    report(tr("Refreshing %1").arg(name), error);
                }
            }
            done();
        });
    m_backend->changesSince(this, name, since,
                            [this, name, generation, done](const ClientError &error, const QList<Job> &jobs) {
                                if (generation == m_generation) {
                                    if (!error.isError()) {
                                        m_reachability->reportReached();
                                        m_jobs->applyChanges(jobs);
                                    } else if (error.httpStatus != 404) {
                                        report(tr("Refreshing the jobs of %1").arg(name), error);
                                    }
                                }
                                done();
                            });
}

void ExperimentSession::reread(QObject *context, std::function<void(bool)> then)
{
    if (!m_backend || m_experiment.name.isEmpty())
        return then(false);
    const QString name = m_experiment.name;
    const quint64 generation = m_generation;
    m_backend->readExperiment(context, name,
                              [this, name, generation, then](const ClientError &error, const Experiment &e) {
                                  if (generation != m_generation)
                                      return then(false);
                                  if (error.isError()) {
                                      if (error.httpStatus == 404)
                                          Q_EMIT deleted(name);
                                      else
                                          report(tr("Reading %1").arg(name), error);
                                      return then(false);
                                  }
                                  m_reachability->reportReached();
                                  show(e);
                                  then(true);
                              });
}

ConditionalSave<Experiment>::Steps experimentSaveSteps(std::shared_ptr<SessionBackend> backend,
                                                       QObject *context, const Experiment &sent)
{
    ConditionalSave<Experiment>::Steps steps;
    steps.read = [backend, context, name = sent.name](ConditionalSave<Experiment>::Reply reply) {
        backend->readExperiment(context, name, std::move(reply));
    };
    steps.write = [backend, context, sent](const QByteArray &etag, ConditionalSave<Experiment>::Reply reply) {
        backend->writeExperiment(context, sent, etag, std::move(reply));
    };
    steps.changes = &definitionChanges;
    return steps;
}

JobWrite writeOf(const Job &job)
{
    JobWrite w;
    w.status = job.status;
    w.hyperparameters = job.hyperparameters;
    w.results = job.results;
    return w;
}

ConditionalSave<Job>::Steps jobSaveSteps(std::shared_ptr<SessionBackend> backend, QObject *context,
                                         const QString &experiment, const QString &id, const JobWrite &sent)
{
    ConditionalSave<Job>::Steps steps;
    steps.read = [backend, context, experiment, id](ConditionalSave<Job>::Reply reply) {
        backend->readJob(context, experiment, id, std::move(reply));
    };
    steps.write = [backend, context, experiment, id, sent](const QByteArray &etag,
                                                           ConditionalSave<Job>::Reply reply) {
        backend->writeJob(context, experiment, id, sent, etag, std::move(reply));
    };
    steps.changes = [](const Job &before, const Job &after) {
        return describeChanges(codec::encode(writeOf(before)), codec::encode(writeOf(after)));
    };
    return steps;
}

void ExperimentSession::setStatus(ExperimentStatus wanted)
{
    if (!m_backend || m_experiment.name.isEmpty() || m_savingStatus)
        return;
    const Experiment shown = m_experiment;
    if (shown.status == wanted)
        return;
    m_savingStatus = true;
    Q_EMIT savingStatusChanged(true);
    Experiment sent = definitionOf(shown);
    sent.status = wanted;
    const quint64 generation = m_generation;
    using Outcome = ConditionalSave<Experiment>::Outcome;
    ConditionalSave<Experiment>::save(
        shown, experimentSaveSteps(m_backend, this, sent),
        [this, shown, wanted, generation](const Outcome &o) {
            if (generation != m_generation)
                return; // another experiment is shown now
            endStatusSave();
            switch (o.kind) {
            case Outcome::Kind::Saved:
                m_reachability->reportReached();
                show(o.value);
                Q_EMIT notice(wanted == ExperimentStatus::Running ? tr("Resumed %1").arg(shown.name)
                                                                  : tr("Paused %1").arg(shown.name));
                break;
            case Outcome::Kind::Conflict:
                show(o.value);
                Q_EMIT statusConflict(shown, m_experiment, wanted, o.changes);
                break;
            case Outcome::Kind::Gone:
                Q_EMIT deleted(shown.name);
                break;
            case Outcome::Kind::Failed:
                report(tr("Changing the status of %1").arg(shown.name), o.error);
                break;
            }
        });
}

void ExperimentSession::endStatusSave()
{
    if (!m_savingStatus)
        return;
    m_savingStatus = false;
    Q_EMIT savingStatusChanged(false);
}

void ExperimentSession::acceptSaved(const Experiment &experiment)
{
    if (experiment.name == m_experiment.name)
        show(experiment);
}

void ExperimentSession::acceptJob(const Job &job)
{
    m_jobs->applyChanges({job});
    refresh(); // the counts
}

void ExperimentSession::deleteExperiment()
{
    if (!m_backend || m_experiment.name.isEmpty())
        return;
    const QString name = m_experiment.name;
    m_backend->deleteExperiment(this, name, [this, name](const ClientError &error, bool) {
        if (error.isError())
            report(tr("Deleting %1").arg(name), error);
        else
            Q_EMIT deleted(name);
    });
}

void ExperimentSession::deleteJobs(const QList<QString> &ids)
{
    if (!m_backend || ids.isEmpty())
        return;
    const QString name = m_experiment.name;
    const quint64 generation = m_generation;
    for (const QString &id : ids) {
        m_backend->deleteJob(this, name, id, [this, id, generation](const ClientError &error, bool) {
            if (error.isError())
                report(tr("Deleting job %1").arg(id), error);
            else if (generation == m_generation)
                m_jobs->removeJob(id);
        });
    }
    Q_EMIT notice(ids.size() == 1 ? tr("Deleting job %1").arg(ids.first())
                                  : tr("Deleting %1").arg(format::jobs(ids.size())));
}

void ExperimentSession::requeue(const QList<Job> &jobs)
{
    if (!m_backend || jobs.isEmpty())
        return;
    const QString name = m_experiment.name;
    const quint64 generation = m_generation;
    for (const Job &job : jobs) {
        JobWrite w;
        w.status = JobStatus::Queued;
        w.hyperparameters = job.hyperparameters;
        m_backend->addJob(this, name, w,
                          [this, name, generation](const ClientError &error, const Job &added) {
                              if (error.isError())
                                  report(tr("Queueing a job in %1").arg(name), error);
                              else if (generation == m_generation)
                                  m_jobs->applyChanges({added});
                          });
    }
    Q_EMIT notice(jobs.size() == 1 ? tr("Queued a copy of the job")
                                   : tr("Queued copies of %1").arg(format::jobs(jobs.size())));
}

} // namespace schedy
