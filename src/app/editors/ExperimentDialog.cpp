#include "ExperimentDialog.h"

#include "ConditionalSave.h"
#include "DocumentChanges.h"
#include "ExperimentSession.h"
#include "SessionBackend.h"

#include "Client.h"
#include "Codec.h"
#include "DistributionEditor.h"
#include "EditorSupport.h"
#include "Json.h"
#include "LeaseEditor.h"
#include "PbtSettingsEditor.h"
#include "PrunerEditor.h"
#include "SamplerEditor.h"
#include "SchedulerJsonView.h"
#include "ui_ExperimentDialog.h"

#include <QDateTime>
#include <QGuiApplication>
#include <QKeyEvent>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QSignalBlocker>

#include <algorithm>

namespace schedy {

namespace {
constexpr int MaxListedProblems = 3;
}

ExperimentDialog::ExperimentDialog(Client *client, Mode mode, QWidget *parent)
    : QDialog(parent)
    , m_ui(std::make_unique<Ui::ExperimentDialog>())
    , m_client(client)
    , m_mode(mode)
{
    m_ui->setupUi(this);
    editors::prepareMessageLabels(this);
    m_ui->kindCombo->addItem(tr("Manual"), int(Scheduler::Kind::Manual));
    m_ui->kindCombo->addItem(tr("Random search"), int(Scheduler::Kind::RandomSearch));
    m_ui->kindCombo->addItem(tr("Population Based Training"), int(Scheduler::Kind::Pbt));
    m_ui->statusCombo->addItem(tr("Running"), int(ExperimentStatus::Running));
    m_ui->statusCombo->addItem(tr("Done / paused"), int(ExperimentStatus::Done));
    for (QLabel *hint : {m_ui->kindHint, m_ui->statusHint})
        hint->setForegroundRole(QPalette::PlaceholderText);
    m_ui->conflictPanel->hide();
    m_ui->conflictPanel->setAutoFillBackground(true);
    QPalette warn = m_ui->conflictPanel->palette();
    warn.setColor(QPalette::Window, QColor(0xff, 0xf4, 0xd6));
    m_ui->conflictPanel->setPalette(warn);

    switch (mode) {
    case Mode::Create:
        setWindowTitle(tr("New experiment"));
        m_saveButton = m_ui->buttons->addButton(tr("Create"), QDialogButtonBox::AcceptRole);
        break;
    case Mode::Edit:
        setWindowTitle(tr("Edit experiment"));
        m_saveButton = m_ui->buttons->addButton(tr("Save"), QDialogButtonBox::AcceptRole);
        m_ui->nameEdit->setReadOnly(true);
        m_ui->nameEdit->setToolTip(tr("An experiment keeps its name; duplicate it to use another one"));
        break;
    case Mode::Duplicate:
        setWindowTitle(tr("Duplicate experiment"));
        m_saveButton = m_ui->buttons->addButton(tr("Create copy"), QDialogButtonBox::AcceptRole);
        break;
    }
    m_saveButton->setObjectName(QStringLiteral("saveButton"));
    m_saveButton->setDefault(true);
    connect(m_saveButton, &QPushButton::clicked, this, &ExperimentDialog::save);
    connect(m_ui->buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    // The name's problems show once it was typed in (or on a try to save), not on a fresh dialog.
    connect(m_ui->nameEdit, &QLineEdit::textEdited, this, [this] {
        editors::setTouched(m_ui->nameEdit);
        updateState();
    });
    connect(m_ui->nameEdit, &QLineEdit::textChanged, this, &ExperimentDialog::onUserEdited);
    // A disabled button gets no clicks, but its event filter sees them: a click is a try to save.
    m_saveButton->installEventFilter(this);
    connect(m_ui->statusCombo, &QComboBox::currentIndexChanged, this, &ExperimentDialog::onUserEdited);
    connect(m_ui->kindCombo, &QComboBox::currentIndexChanged, this, &ExperimentDialog::onKindChanged);
    connect(m_ui->distributionEditor, &DistributionEditor::edited, this, &ExperimentDialog::onFormEdited);
    connect(m_ui->pbtEditor, &PbtSettingsEditor::edited, this, &ExperimentDialog::onFormEdited);
    connect(m_ui->jsonView, &SchedulerJsonView::schedulerEdited, this, &ExperimentDialog::onJsonEdited);
    connect(m_ui->jsonView, &SchedulerJsonView::edited, this, &ExperimentDialog::onUserEdited);
    addPolicyEditors();
    connect(m_ui->reloadButton, &QPushButton::clicked, this, &ExperimentDialog::reloadTheirs);
    connect(m_ui->overwriteButton, &QPushButton::clicked, this, &ExperimentDialog::overwrite);

    // Room for the form and the preview: as large as a common screen allows.
    const QRect screen = (parent ? parent->screen() : QGuiApplication::primaryScreen())->availableGeometry();
    resize(std::min(1180, screen.width() - 40), std::min(880, screen.height() - 40));
    setExperiment(Experiment{});
}

ExperimentDialog::~ExperimentDialog() = default;

// Section 8's editors on a tab of their own, and their JSON on the JSON tab.
void ExperimentDialog::addPolicyEditors()
{
    auto *page = new QWidget;
    auto *layout = new QVBoxLayout(page);
    m_sampler = new SamplerEditor(page);
    m_pruner = new PrunerEditor(page);
    m_lease = new LeaseEditor(page);
    for (QWidget *section : std::initializer_list<QWidget *>{m_sampler, m_pruner, m_lease})
        layout->addWidget(section);
    layout->addStretch();
    auto *scroll = new QScrollArea;
    scroll->setObjectName(QStringLiteral("strategyTab"));
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(page);
    m_ui->tabs->addTab(scroll, tr("Strategy"));
    connect(m_sampler, &SamplerEditor::edited, this, &ExperimentDialog::onPolicyEdited);
    connect(m_pruner, &PrunerEditor::edited, this, &ExperimentDialog::onPolicyEdited);
    connect(m_lease, &LeaseEditor::edited, this, &ExperimentDialog::onPolicyEdited);

    auto *label =
        new QLabel(tr("Search strategy, early stopping and lost workers (edited on the Strategy tab):"));
    label->setWordWrap(true);
    m_policyJson = new QPlainTextEdit;
    m_policyJson->setObjectName(QStringLiteral("policyJson"));
    m_policyJson->setReadOnly(true);
    m_policyJson->setMaximumHeight(150);
    m_policyJson->setFont(m_ui->jsonView->font());
    m_ui->jsonLayout->addWidget(label);
    m_ui->jsonLayout->addWidget(m_policyJson);
}

SamplerEditor *ExperimentDialog::samplerEditor() const
{
    return m_sampler;
}
PrunerEditor *ExperimentDialog::prunerEditor() const
{
    return m_pruner;
}
LeaseEditor *ExperimentDialog::leaseEditor() const
{
    return m_lease;
}

void ExperimentDialog::onPolicyEdited()
{
    const Experiment e = experiment();
    QCborMap keys;
    const QCborMap all = codec::encodeReplacement(e);
    for (const char *key : {"sampler", "pruner", "lease"})
        keys.insert(QLatin1String(key), all.value(QLatin1String(key)));
    m_policyJson->setPlainText(QString::fromUtf8(json::writeIndented(keys)));
    onUserEdited();
}

// The policy editors follow the scheduler (a grid's hyperparameters, what applies).
void ExperimentDialog::updatePolicyContext()
{
    const Scheduler s = formScheduler();
    if (m_policyScheduler && *m_policyScheduler == s)
        return;
    m_policyScheduler = s;
    m_sampler->setScheduler(s);
    m_pruner->setScheduler(s);
}

DistributionEditor *ExperimentDialog::distributionEditor() const
{
    return m_ui->distributionEditor;
}
PbtSettingsEditor *ExperimentDialog::pbtEditor() const
{
    return m_ui->pbtEditor;
}
SchedulerJsonView *ExperimentDialog::jsonView() const
{
    return m_ui->jsonView;
}
bool ExperimentDialog::hasConflict() const
{
    return !m_conflict.isEmpty();
}
QString ExperimentDialog::message() const
{
    return m_ui->message->text();
}

void ExperimentDialog::setExperiment(const Experiment &e)
{
    switch (m_mode) {
    case Mode::Create:
        m_ui->nameEdit->setText(e.name);
        break;
    case Mode::Edit:
        m_base = e;
        m_ui->nameEdit->setText(e.name);
        setWindowTitle(tr("Edit experiment — %1").arg(e.name));
        break;
    case Mode::Duplicate:
        m_ui->nameEdit->setText(e.name.isEmpty() ? QString() : tr("%1 copy").arg(e.name));
        m_ui->nameEdit->selectAll();
        setWindowTitle(tr("Duplicate experiment — %1").arg(e.name));
        break;
    }
    {
        QSignalBlocker block(m_ui->statusCombo);
        m_ui->statusCombo->setCurrentIndex(m_ui->statusCombo->findData(int(e.status)));
    }
    setForm(e.scheduler);
    m_ui->jsonView->setScheduler(e.scheduler);
    m_ui->jsonView->setNote({});
    updatePolicyContext();
    m_sampler->setSampler(e.sampler);
    m_pruner->setPruner(e.pruner);
    m_lease->setLease(e.lease);
    onPolicyEdited();
    m_pristine = json::write(codec::encode(experiment()));
}

bool ExperimentDialog::hasTypedChanges() const
{
    return !m_pristine.isEmpty() && json::write(codec::encode(experiment())) != m_pristine;
}

void ExperimentDialog::showEvent(QShowEvent *event)
{
    if (m_pristine.isEmpty()) // a new experiment, filled by the constructor only
        m_pristine = json::write(codec::encode(experiment()));
    QDialog::showEvent(event);
}

void ExperimentDialog::reject()
{
    if (hasTypedChanges() &&
        !editors::confirmDiscard(this, m_mode == Mode::Edit
                                           ? tr("Discard your changes to %1?").arg(m_base.name)
                                           : tr("Discard the experiment you typed?")))
        return;
    QDialog::reject();
}

void ExperimentDialog::setResultNameSuggestions(const QStringList &names)
{
    m_ui->pbtEditor->setResultNameSuggestions(names);
    m_sampler->setResultNames(names);
    m_pruner->setResultNames(names);
}

Scheduler::Kind ExperimentDialog::kind() const
{
    return Scheduler::Kind(m_ui->kindCombo->currentData().toInt());
}

Scheduler ExperimentDialog::formScheduler() const
{
    Scheduler s;
    s.kind = kind();
    if (s.kind == Scheduler::Kind::RandomSearch)
        s.distributions = m_ui->distributionEditor->distributions();
    else if (s.kind == Scheduler::Kind::Pbt)
        s.pbt = m_ui->pbtEditor->settings();
    return s;
}

bool ExperimentDialog::formValid() const
{
    return formErrors().isEmpty();
}

QStringList ExperimentDialog::formErrors() const
{
    QStringList out;
    if (kind() == Scheduler::Kind::RandomSearch) {
        out += m_ui->distributionEditor->errors({QStringLiteral("RandomSearch")});
    } else if (kind() == Scheduler::Kind::Pbt) {
        out += m_ui->pbtEditor->errors();
    }
    // The sections check themselves only where they apply (they are disabled elsewhere).
    out += m_sampler->errors();
    out += m_pruner->errors();
    return out;
}

Experiment ExperimentDialog::experiment() const
{
    Experiment e;
    e.name = m_mode == Mode::Edit ? m_base.name : m_ui->nameEdit->text();
    e.status = ExperimentStatus(m_ui->statusCombo->currentData().toInt());
    e.scheduler = formScheduler();
    // Section 8's keys (a save sends them all: an unset one is removed), less those the chosen
    // scheduler cannot have.
    e.sampler = e.scheduler.kind == Scheduler::Kind::RandomSearch ? m_sampler->sampler() : std::nullopt;
    e.pruner = e.scheduler.kind == Scheduler::Kind::Pbt ? std::nullopt : m_pruner->pruner();
    e.lease = m_lease->lease();
    return e;
}

void ExperimentDialog::setForm(const Scheduler &s)
{
    const bool wasSyncing = m_syncing;
    m_syncing = true;
    {
        QSignalBlocker block(m_ui->kindCombo);
        m_ui->kindCombo->setCurrentIndex(m_ui->kindCombo->findData(int(s.kind)));
    }
    showKind(s.kind);
    if (s.kind == Scheduler::Kind::RandomSearch)
        m_ui->distributionEditor->setDistributions(s.distributions);
    else if (s.kind == Scheduler::Kind::Pbt)
        m_ui->pbtEditor->setSettings(s.pbt);
    m_syncing = wasSyncing;
}

void ExperimentDialog::showKind(Scheduler::Kind kind)
{
    switch (kind) {
    case Scheduler::Kind::Manual:
        m_ui->pages->setCurrentWidget(m_ui->manualPage);
        m_ui->kindHint->setText(tr("Jobs are queued by hand or by workers."));
        break;
    case Scheduler::Kind::RandomSearch:
        m_ui->pages->setCurrentWidget(m_ui->randomPage);
        m_ui->kindHint->setText(tr("Every new job draws its hyperparameters from the distributions."));
        break;
    case Scheduler::Kind::Pbt:
        m_ui->pages->setCurrentWidget(m_ui->pbtPage);
        m_ui->kindHint->setText(
            tr("A population trains in generations; the worst copy the best and explore."));
        break;
    }
}

void ExperimentDialog::onKindChanged()
{
    const Scheduler::Kind k = kind();
    // Switching between random search and PBT carries the distributions over when the other side has none.
    DistributionEditor *random = m_ui->distributionEditor;
    DistributionEditor *init = m_ui->pbtEditor->initEditor();
    if (k == Scheduler::Kind::Pbt && init->rowCount() == 0 && random->rowCount() > 0 && random->isValid())
        init->setDistributions(random->distributions());
    else if (k == Scheduler::Kind::RandomSearch && random->rowCount() == 0 && init->rowCount() > 0 &&
             init->isValid())
        random->setDistributions(init->distributions());
    showKind(k);
    onFormEdited();
}

void ExperimentDialog::onFormEdited()
{
    if (m_syncing)
        return;
    updatePolicyContext();
    if (formValid()) {
        m_ui->jsonView->setScheduler(formScheduler());
        m_ui->jsonView->setNote({});
    } else {
        m_ui->jsonView->setNote(
            tr("The form has problems (see the Definition tab); this text shows the last valid definition."));
    }
    onUserEdited();
}

void ExperimentDialog::onJsonEdited(const Scheduler &scheduler)
{
    setForm(scheduler);
    updatePolicyContext();
    updateState();
}

QString ExperimentDialog::nameProblem() const
{
    if (m_mode == Mode::Edit)
        return {};
    const QString name = m_ui->nameEdit->text();
    QString error = checkName(name, tr("name"));
    if (error.isEmpty() && !m_takenName.isEmpty() && name == m_takenName)
        error = tr("an experiment with this name already exists");
    return error;
}

// E.g. a grid whose hyperparameter lost its steps: the server would refuse the save.
QString ExperimentDialog::policyProblem() const
{
    const auto problem = codec::checkPolicies(experiment());
    return problem ? problem->message() : QString();
}

QStringList ExperimentDialog::problems() const
{
    QStringList out;
    if (const QString error = nameProblem(); !error.isEmpty())
        out.append(tr("name: %1").arg(error));
    if (!m_ui->jsonView->isValid())
        out.append(tr("JSON: %1").arg(m_ui->jsonView->error()));
    else
        out += formErrors();
    if (out.isEmpty() && !policyProblem().isEmpty())
        out.append(policyProblem());
    return out;
}

QStringList ExperimentDialog::shownProblems() const
{
    QStringList out;
    if (const QString error = editors::shownProblem(m_ui->nameEdit, nameProblem()); !error.isEmpty())
        out.append(tr("name: %1").arg(error));
    if (!m_ui->jsonView->isValid()) {
        out.append(tr("JSON: %1").arg(m_ui->jsonView->error())); // typed there, so shown
    } else if (kind() == Scheduler::Kind::RandomSearch) {
        out += m_ui->distributionEditor->shownErrors({QStringLiteral("RandomSearch")});
    } else if (kind() == Scheduler::Kind::Pbt) {
        out += m_ui->pbtEditor->shownErrors();
    }
    out += m_sampler->errors(); // chosen by the user: shown at once
    out += m_pruner->errors();
    if (out.isEmpty() && m_ui->jsonView->isValid() && formValid() && !policyProblem().isEmpty())
        out.append(policyProblem());
    return out;
}

void ExperimentDialog::revealProblems()
{
    if (problems().isEmpty())
        return;
    editors::revealProblems(this);
    m_ui->distributionEditor->refreshProblems();
    m_ui->pbtEditor->refreshProblems();
    updateState();
    // The focus goes to the first field at fault: the name, else the first marked input of the form.
    if (!nameProblem().isEmpty()) {
        m_ui->nameEdit->setFocus(Qt::OtherFocusReason);
        m_ui->nameEdit->selectAll();
        return;
    }
    if (!m_ui->jsonView->isValid()) {
        m_ui->tabs->setCurrentWidget(m_ui->jsonTab);
        m_ui->jsonView->setFocus(Qt::OtherFocusReason);
        return;
    }
    m_ui->tabs->setCurrentIndex(0);
    const auto inputs = m_ui->pages->currentWidget()->findChildren<QWidget *>();
    for (QWidget *input : inputs) {
        if (editors::isMarkedInvalid(input) && input->isVisibleTo(this)) {
            input->setFocus(Qt::OtherFocusReason);
            return;
        }
    }
}

void ExperimentDialog::keyPressEvent(QKeyEvent *event)
{
    // Enter while Save is disabled: a try to save, answered with what is wrong.
    if ((event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter) && !m_saveButton->isEnabled()) {
        revealProblems();
        return;
    }
    QDialog::keyPressEvent(event);
}

bool ExperimentDialog::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_saveButton && event->type() == QEvent::MouseButtonRelease && !m_saveButton->isEnabled())
        revealProblems();
    return QDialog::eventFilter(watched, event);
}

bool ExperimentDialog::canSave() const
{
    return !m_busy && m_client && !hasConflict() && problems().isEmpty();
}

void ExperimentDialog::updateState()
{
    const QString nameError = editors::shownProblem(m_ui->nameEdit, nameProblem());
    editors::markInvalid(m_ui->nameEdit, nameError);
    editors::showMessage(m_ui->nameError, nameError);
    const bool running =
        ExperimentStatus(m_ui->statusCombo->currentData().toInt()) == ExperimentStatus::Running;
    m_ui->statusHint->setText(running ? tr("Workers get jobs as soon as it is saved.")
                                      : tr("No jobs are handed out until it is resumed."));
    m_ui->tabs->setTabText(m_ui->tabs->indexOf(m_ui->jsonTab),
                           m_ui->jsonView->isValid() ? tr("JSON") : tr("JSON ⚠"));

    const QStringList all = this->problems();
    const QString verb = m_mode == Mode::Edit ? tr("save") : tr("create");
    const QStringList problems = shownProblems();
    m_saveButton->setEnabled(canSave());
    // Disabled before anything was typed: the tooltip says what is missing, without red.
    m_saveButton->setToolTip(
        all.isEmpty()
            ? QString()
            : tr("To %1 it, first:\n%2").arg(verb, all.mid(0, MaxListedProblems).join(QLatin1Char('\n'))));
    auto [text, error] = editors::footer(m_status, m_statusIsError, problems, m_client);
    // Only incomplete so far: a hint in grey, not an error.
    const bool hint = text.isEmpty() && !all.isEmpty();
    if (hint) {
        text = m_ui->nameEdit->text().isEmpty() && !nameProblem().isEmpty()
                   ? tr("Name the experiment to %1 it.").arg(verb)
                   : tr("Complete the form to %1 it; the button's tooltip lists what is missing.").arg(verb);
    }
    editors::showFooter(m_ui->message, text, error, hint);
}

void ExperimentDialog::onUserEdited()
{
    if (!m_busy)
        m_status.clear();
    updateState();
}

void ExperimentDialog::setMessage(const QString &message, bool error)
{
    m_status = message;
    m_statusIsError = error;
    updateState();
}

void ExperimentDialog::setBusy(bool busy, const QString &message)
{
    m_busy = busy;
    m_status = message;
    m_statusIsError = false;
    updateState();
}

void ExperimentDialog::save()
{
    if (!canSave())
        return;
    const Experiment e = definitionOf(experiment());
    if (m_mode == Mode::Edit)
        saveOver(m_base, e, false);
    else
        create(e);
}

void ExperimentDialog::create(const Experiment &e)
{
    setBusy(true, tr("Creating %1…").arg(e.name));
    auto *call = m_client->createExperiment(e);
    connect(call, &CallBase::finished, this, [this, call, name = e.name] {
        setBusy(false);
        if (call->ok()) {
            finishSave(call->value());
        } else if (call->error().kind == ClientError::Kind::ResourceExists) {
            m_takenName = name;
            editors::setTouched(m_ui->nameEdit); // the server's answer to a save: shown at once
            updateState();
            m_ui->nameEdit->setFocus();
            m_ui->nameEdit->selectAll();
        } else {
            fail(tr("Creating %1").arg(name), call->error());
        }
    });
}

void ExperimentDialog::saveOver(const Experiment &base, const Experiment &e, bool deliberately)
{
    setBusy(true, tr("Saving %1…").arg(e.name));
    // The protocol Pause/Resume uses too: If-Match of the version shown (read first when it came
    // without an ETag, e.g. from a listing); a 412 fetches their version for the conflict panel.
    auto steps = experimentSaveSteps(std::make_shared<ClientBackend>(m_client), this, e);
    auto done = [this, name = e.name](const ConditionalSave<Experiment>::Outcome &o) {
        using Kind = ConditionalSave<Experiment>::Outcome::Kind;
        setBusy(false);
        switch (o.kind) {
        case Kind::Saved:
            finishSave(o.value);
            break;
        case Kind::Conflict:
            showConflict(o.value, o.refused);
            break;
        case Kind::Gone:
            setMessage(tr("%1 no longer exists: someone deleted it. Nothing was saved.").arg(m_base.name),
                       true);
            break;
        case Kind::Failed:
            fail(tr("Saving %1").arg(name), o.error);
            break;
        }
    };
    ConditionalSave<Experiment>::run(base, deliberately, std::move(steps), std::move(done));
}

void ExperimentDialog::showConflict(const Experiment &server, bool refused)
{
    // The form is left as the user typed it: only the panel appears.
    m_server = server;
    m_conflict = definitionChanges(m_base, server);
    if (m_conflict.isEmpty())
        m_conflict.append(tr("(saved again with the same definition)"));
    const QString when = server.modifiedAt ? QDateTime::fromMSecsSinceEpoch(qint64(*server.modifiedAt * 1000))
                                                 .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"))
                                           : tr("an unknown time");
    const QString name = m_base.name.toHtmlEscaped();
    m_ui->conflictText->setText(
        refused ? tr("<b>Someone else changed %1</b> since this dialog opened (last modified %2): "
                     "the server refused the save (412). Nothing was saved. Their changes:")
                      .arg(name, when)
                : tr("<b>Someone else changed %1</b> since this dialog opened (last modified %2). "
                     "Nothing was saved. Their changes:")
                      .arg(name, when));
    editors::showLines(m_ui->conflictList, m_conflict);
    m_ui->conflictPanel->show();
    updateState();
}

void ExperimentDialog::reloadTheirs()
{
    if (!hasConflict())
        return;
    m_conflict.clear();
    m_ui->conflictPanel->hide();
    setExperiment(m_server);
    setMessage(tr("Loaded the current version of %1; your changes were discarded.").arg(m_server.name));
}

void ExperimentDialog::overwrite()
{
    if (!hasConflict())
        return;
    m_conflict.clear();
    m_ui->conflictPanel->hide();
    // Deliberately replacing their version, and only that one: a change made after it
    // was fetched is another conflict.
    m_base = m_server;
    saveOver(m_server, definitionOf(experiment()), true);
}

void ExperimentDialog::finishSave(const Experiment &saved)
{
    m_saved = saved;
    Q_EMIT this->saved(saved);
    accept();
}

void ExperimentDialog::fail(const QString &what, const ClientError &error)
{
    setMessage(tr("%1 failed: %2").arg(what, error.toString()), true);
}

} // namespace schedy
