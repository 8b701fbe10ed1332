#include "JobDialog.h"

#include "ConditionalSave.h"
#include "ExperimentSession.h"
#include "SessionBackend.h"

#include "Client.h"
#include "Codec.h"
#include "EditorSupport.h"
#include "Json.h"
#include "Sampler.h"
#include "ValueFormat.h"
#include "ValueMapEditor.h"
#include "ui_JobDialog.h"

#include <QDateTime>
#include <QGuiApplication>
#include <QPushButton>
#include <QScreen>

#include <algorithm>

namespace schedy {

namespace {

QString statusHint(JobStatus s)
{
    switch (s) {
    case JobStatus::Queued:
        return JobDialog::tr("Handed out to the next worker that asks.");
    case JobStatus::Running:
        return JobDialog::tr("A worker is on it.");
    case JobStatus::Crashed:
        return JobDialog::tr("Failed. With PBT, its parent can be continued again.");
    case JobStatus::Pruned:
        return JobDialog::tr("Stopped early on purpose; never handed out again.");
    case JobStatus::Done:
        return JobDialog::tr("Finished; its results count.");
    }
    return {};
}
} // namespace

JobDialog::JobDialog(Client *client, const Experiment &experiment, Mode mode, QWidget *parent)
    : QDialog(parent)
    , m_ui(std::make_unique<Ui::JobDialog>())
    , m_client(client)
    , m_experiment(experiment)
    , m_mode(mode)
{
    m_ui->setupUi(this);
    editors::prepareMessageLabels(this);
    for (JobStatus s : AllJobStatuses)
        m_ui->statusCombo->addItem(format::statusLabel(s), int(s));
    m_ui->statusHint->setForegroundRole(QPalette::PlaceholderText);
    m_ui->conflictPanel->hide();
    m_ui->conflictPanel->setAutoFillBackground(true);
    QPalette warn = m_ui->conflictPanel->palette();
    warn.setColor(QPalette::Window, QColor(0xff, 0xf4, 0xd6));
    m_ui->conflictPanel->setPalette(warn);

    // What the experiment tells about its hyperparameters.
    const Scheduler &s = experiment.scheduler;
    if (s.kind == Scheduler::Kind::RandomSearch)
        m_distributions = s.distributions;
    else if (s.kind == Scheduler::Kind::Pbt)
        m_distributions = s.pbt.init;
    QList<ValueMapEditor::Field> fields;
    for (const NamedDistribution &nd : std::as_const(m_distributions))
        fields.append({nd.name, nd.distribution});
    if (s.kind == Scheduler::Kind::Pbt) {
        for (const Perturb &p : s.pbt.explore) {
            if (std::none_of(fields.begin(), fields.end(),
                             [&](const ValueMapEditor::Field &f) { return f.name == p.name; }))
                fields.append({p.name, std::nullopt});
        }
    }
    m_ui->hyperparameters->setFields(fields);
    m_ui->results->setFields({});
    m_ui->drawButton->setVisible(!m_distributions.isEmpty());

    const QString name = experiment.name.toHtmlEscaped();
    switch (mode) {
    case Mode::Queue:
        setWindowTitle(tr("Queue a job — %1").arg(experiment.name));
        m_ui->intro->setText(tr("A new job in <b>%1</b>. Workers take queued jobs oldest first. "
                                "A hyperparameter left empty is not sent.")
                                 .arg(name));
        m_saveButton = m_ui->buttons->addButton(tr("Queue"), QDialogButtonBox::AcceptRole);
        break;
    case Mode::Duplicate:
        setWindowTitle(tr("Duplicate job — %1").arg(experiment.name));
        m_saveButton = m_ui->buttons->addButton(tr("Queue copy"), QDialogButtonBox::AcceptRole);
        break;
    case Mode::Edit:
        setWindowTitle(tr("Edit job — %1").arg(experiment.name));
        m_saveButton = m_ui->buttons->addButton(tr("Save"), QDialogButtonBox::AcceptRole);
        m_ui->drawButton->hide();
        break;
    }
    m_saveButton->setObjectName(QStringLiteral("saveButton"));
    m_saveButton->setDefault(true);
    connect(m_saveButton, &QPushButton::clicked, this, &JobDialog::save);
    connect(m_ui->buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_ui->statusCombo, &QComboBox::currentIndexChanged, this, &JobDialog::onUserEdited);
    connect(m_ui->hyperparameters, &ValueMapEditor::edited, this, &JobDialog::onUserEdited);
    connect(m_ui->results, &ValueMapEditor::edited, this, &JobDialog::onUserEdited);
    connect(m_ui->drawButton, &QPushButton::clicked, this, &JobDialog::drawValues);
    connect(m_ui->reloadButton, &QPushButton::clicked, this, &JobDialog::reloadTheirs);
    connect(m_ui->overwriteButton, &QPushButton::clicked, this, &JobDialog::overwrite);
    const QRect screen = (parent ? parent->screen() : QGuiApplication::primaryScreen())->availableGeometry();
    resize(std::min(940, screen.width() - 40), std::min(700, screen.height() - 40));
    updateState();
}

JobDialog::~JobDialog() = default;

ValueMapEditor *JobDialog::hyperparameterEditor() const
{
    return m_ui->hyperparameters;
}
ValueMapEditor *JobDialog::resultEditor() const
{
    return m_ui->results;
}
QString JobDialog::message() const
{
    return m_ui->message->text();
}

void JobDialog::setKnownNames(const QStringList &hyperparameters, const QStringList &results)
{
    for (const QString &n : hyperparameters) {
        if (m_ui->hyperparameters->rowOf(n) < 0)
            m_ui->hyperparameters->addRow(n);
    }
    m_ui->hyperparameters->setNameSuggestions(hyperparameters);
    m_knownResults = results;
    m_ui->results->setNameSuggestions(results);
    updateState();
}

void JobDialog::setJob(const Job &job)
{
    m_base = job;
    switch (m_mode) {
    case Mode::Queue:
        showJob(job);
        break;
    case Mode::Duplicate:
        m_ui->intro->setText(tr("A new job in <b>%1</b> with the hyperparameters of job <b>%2</b>; "
                                "change any of them before queueing it.")
                                 .arg(m_experiment.name.toHtmlEscaped(), job.id.toHtmlEscaped()));
        m_ui->hyperparameters->setValues(job.hyperparameters);
        m_ui->statusCombo->setCurrentIndex(m_ui->statusCombo->findData(int(JobStatus::Queued)));
        break;
    case Mode::Edit:
        setWindowTitle(tr("Edit job %1 — %2").arg(job.id, m_experiment.name));
        showJob(job);
        load();
        break;
    }
    updateState();
}

void JobDialog::load()
{
    // The ETag comes with the job itself: fetch it now, and edit only what was fetched.
    m_loaded = false;
    m_ui->hyperparametersBox->setEnabled(false);
    m_ui->resultsBox->setEnabled(false);
    m_ui->statusCombo->setEnabled(false);
    if (!m_client) {
        updateState();
        return;
    }
    setBusy(true, tr("Loading job %1…").arg(m_base.id));
    auto *call = m_client->job(m_experiment.name, m_base.id);
    connect(call, &CallBase::finished, this, [this, call] {
        setBusy(false);
        if (!call->ok()) {
            fail(tr("Loading job %1").arg(m_base.id), call->error());
            return;
        }
        m_base = call->value();
        showJob(m_base);
        m_loaded = true;
        m_ui->hyperparametersBox->setEnabled(true);
        m_ui->resultsBox->setEnabled(true);
        m_ui->statusCombo->setEnabled(true);
        m_ui->intro->setText(
            tr("Job <b>%1</b> of <b>%2</b>. Saving replaces the whole job, and only if nobody "
               "changed it since it was loaded.")
                .arg(m_base.id.toHtmlEscaped(), m_experiment.name.toHtmlEscaped()));
        updateState();
    });
}

void JobDialog::showJob(const Job &job)
{
    m_ui->statusCombo->setCurrentIndex(m_ui->statusCombo->findData(int(job.status)));
    m_ui->hyperparameters->setValues(job.hyperparameters);
    m_ui->results->setValues(job.results);
    m_pristine = json::write(codec::encode(jobWrite()));
}

bool JobDialog::hasTypedChanges() const
{
    return !m_pristine.isEmpty() && json::write(codec::encode(jobWrite())) != m_pristine;
}

void JobDialog::showEvent(QShowEvent *event)
{
    if (m_pristine.isEmpty())
        m_pristine = json::write(codec::encode(jobWrite()));
    QDialog::showEvent(event);
}

void JobDialog::reject()
{
    if (hasTypedChanges() &&
        !editors::confirmDiscard(this, m_mode == Mode::Edit
                                           ? tr("Discard your changes to job %1?").arg(m_base.id)
                                           : tr("Discard the job you typed?")))
        return;
    QDialog::reject();
}

JobWrite JobDialog::jobWrite() const
{
    JobWrite w;
    w.status = JobStatus(m_ui->statusCombo->currentData().toInt());
    w.hyperparameters = m_ui->hyperparameters->values();
    w.results = m_ui->results->values();
    return w;
}

QStringList JobDialog::problems() const
{
    QStringList out;
    out += m_ui->hyperparameters->errors({QStringLiteral("hyperparameters")});
    out += m_ui->results->errors({QStringLiteral("results")});
    return out;
}

bool JobDialog::canSave() const
{
    return !m_busy && m_client && m_loaded && !hasConflict() && problems().isEmpty();
}

void JobDialog::updateState()
{
    m_ui->statusHint->setText(statusHint(JobStatus(m_ui->statusCombo->currentData().toInt())));
    m_saveButton->setEnabled(canSave());
    const QStringList problems = this->problems();
    const editors::Footer f = editors::footer(m_status, m_statusIsError, problems, m_client);
    editors::showFooter(m_ui->message, f.text, f.error);
}

void JobDialog::onUserEdited()
{
    if (!m_busy)
        m_status.clear();
    updateState();
}

void JobDialog::setBusy(bool busy, const QString &message)
{
    m_busy = busy;
    m_status = message;
    m_statusIsError = false;
    updateState();
}

void JobDialog::setMessage(const QString &message, bool error)
{
    m_status = message;
    m_statusIsError = error;
    updateState();
}

void JobDialog::fail(const QString &what, const ClientError &error)
{
    setMessage(tr("%1 failed: %2").arg(what, error.toString()), true);
}

void JobDialog::drawValues()
{
    Sampler sampler;
    for (const NamedDistribution &nd : std::as_const(m_distributions)) {
        int row = m_ui->hyperparameters->rowOf(nd.name);
        if (row < 0)
            row = m_ui->hyperparameters->addRow(nd.name);
        m_ui->hyperparameters->setValueText(row, editors::valueText(sampler.sample(nd.distribution)));
    }
}

void JobDialog::save()
{
    if (!canSave())
        return;
    if (m_mode == Mode::Edit) {
        put(m_base, false);
        return;
    }
    setBusy(true, tr("Queueing the job…"));
    auto *call = m_client->addJob(m_experiment.name, jobWrite());
    connect(call, &CallBase::finished, this, [this, call] {
        setBusy(false);
        if (!call->ok()) {
            fail(tr("Queueing the job"), call->error());
            return;
        }
        m_saved = call->value();
        Q_EMIT saved(m_saved);
        accept();
    });
}

void JobDialog::put(const Job &base, bool deliberately)
{
    setBusy(true, tr("Saving job %1…").arg(base.id));
    // The experiment editor's protocol: If-Match of the version loaded; a 412 fetches theirs.
    auto steps =
        jobSaveSteps(std::make_shared<ClientBackend>(m_client), this, m_experiment.name, base.id, jobWrite());
    auto done = [this](const ConditionalSave<Job>::Outcome &o) {
        using Kind = ConditionalSave<Job>::Outcome::Kind;
        setBusy(false);
        switch (o.kind) {
        case Kind::Saved:
            m_saved = o.value;
            Q_EMIT saved(m_saved);
            accept();
            break;
        case Kind::Conflict:
            showConflict(o.value, o.changes);
            break;
        case Kind::Gone:
            setMessage(tr("Job %1 no longer exists: someone deleted it. Nothing was saved.").arg(m_base.id),
                       true);
            break;
        case Kind::Failed:
            fail(tr("Saving job %1").arg(m_base.id), o.error);
            break;
        }
    };
    ConditionalSave<Job>::run(base, deliberately, std::move(steps), std::move(done));
}

void JobDialog::showConflict(const Job &server, QStringList changes)
{
    m_server = server;
    m_conflict = std::move(changes);
    if (m_conflict.isEmpty())
        m_conflict.append(tr("(saved again with the same content)"));
    const QString when = m_server.modifiedAt
                             ? QDateTime::fromMSecsSinceEpoch(qint64(*m_server.modifiedAt * 1000))
                                   .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))
                             : tr("an unknown time");
    m_ui->conflictText->setText(
        tr("<b>Someone else changed job %1</b> since it was loaded (last modified %2): "
           "the server refused the save (412). Their changes:")
            .arg(m_base.id.toHtmlEscaped(), when));
    editors::showLines(m_ui->conflictList, m_conflict);
    m_ui->conflictPanel->show();
    updateState();
}

void JobDialog::reloadTheirs()
{
    if (!hasConflict())
        return;
    m_conflict.clear();
    m_ui->conflictPanel->hide();
    m_base = m_server;
    showJob(m_base);
    setMessage(tr("Loaded the current version of job %1; your changes were discarded.").arg(m_base.id));
}

void JobDialog::overwrite()
{
    if (!hasConflict())
        return;
    m_conflict.clear();
    m_ui->conflictPanel->hide();
    m_base.etag = m_server.etag; // deliberately replacing what is there now
    put(m_server, true);
}

} // namespace schedy
