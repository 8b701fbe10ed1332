#include "PbtSettingsEditor.h"

#include "Codec.h"
#include "DistributionEditor.h"
#include "EditorSupport.h"
#include "ui_PbtSettingsEditor.h"

#include <QCompleter>
#include <QHeaderView>
#include <QLineEdit>
#include <QStringListModel>
#include <QToolButton>

#include <limits>

namespace schedy {

namespace {
// Settings that are valid except for the one field being checked: the codec
// then names exactly that field's problem.
PbtSettings baseline()
{
    PbtSettings s;
    s.qualityResultName = QStringLiteral("quality");
    return s;
}

std::optional<DecodeError> codecCheck(const PbtSettings &s)
{
    const auto decoded = codec::decodePbt(codec::encode(s), QStringLiteral("PBT"));
    if (decoded)
        return std::nullopt;
    return decoded.error();
}
} // namespace

PbtSettingsEditor::PbtSettingsEditor(QWidget *parent)
    : QWidget(parent)
    , m_ui(std::make_unique<Ui::PbtSettingsEditor>())
    , m_hyperparameterNames(new QStringListModel(this))
{
    m_ui->setupUi(this);
    editors::prepareMessageLabels(this);
    m_ui->objectiveCombo->addItem(tr("Maximize"), int(Objective::Maximize));
    m_ui->objectiveCombo->addItem(tr("Minimize"), int(Objective::Minimize));
    m_ui->qualityCombo->lineEdit()->setPlaceholderText(tr("e.g. accuracy"));
    m_ui->qualityCombo->setToolTip(tr("The result that ranks jobs (a number the workers report)"));
    m_ui->truncateEdit->setPlaceholderText(tr("in (0, 0.5], e.g. 0.2"));
    // Any positive integer the JSON may hold (as far as a spin box goes); 0 is "not set".
    m_ui->populationSpin->setMaximum(std::numeric_limits<int>::max());
    m_ui->generationsSpin->setMaximum(std::numeric_limits<int>::max());
    m_ui->populationSpin->setSpecialValueText(tr("default (%1)").arg(PbtSettings::DefaultPopulation));
    m_ui->generationsSpin->setSpecialValueText(tr("unlimited"));
    for (QLabel *hint : {m_ui->objectiveHint, m_ui->populationHint, m_ui->generationsHint, m_ui->exploreHint})
        hint->setForegroundRole(QPalette::PlaceholderText);

    QHeaderView *header = m_ui->exploreTable->horizontalHeader();
    header->setSectionResizeMode(0, QHeaderView::Stretch);
    header->setSectionResizeMode(1, QHeaderView::Fixed);
    header->setSectionResizeMode(2, QHeaderView::Fixed);
    header->setSectionResizeMode(3, QHeaderView::Fixed);
    m_ui->exploreTable->setColumnWidth(1, 85);
    m_ui->exploreTable->setColumnWidth(2, 85);
    m_ui->exploreTable->setColumnWidth(3, 30);

    trackTouched(m_ui->qualityCombo->lineEdit());
    trackTouched(m_ui->truncateEdit);
    connect(m_ui->objectiveCombo, &QComboBox::currentIndexChanged, this, &PbtSettingsEditor::userEdited);
    connect(m_ui->qualityCombo, &QComboBox::currentTextChanged, this, &PbtSettingsEditor::userEdited);
    connect(m_ui->truncateEdit, &QLineEdit::textChanged, this, &PbtSettingsEditor::userEdited);
    connect(m_ui->populationSpin, &QSpinBox::valueChanged, this, &PbtSettingsEditor::userEdited);
    connect(m_ui->generationsSpin, &QSpinBox::valueChanged, this, &PbtSettingsEditor::userEdited);
    connect(m_ui->addExploreButton, &QPushButton::clicked, this, [this] {
        Perturb p;
        p.name.clear();
        addExploreRow(p);
        m_explore.last().name->setFocus();
        userEdited();
    });
    connect(m_ui->initEditor, &DistributionEditor::edited, this, &PbtSettingsEditor::userEdited);
    setSettings(PbtSettings{});
}

PbtSettingsEditor::~PbtSettingsEditor() = default;

DistributionEditor *PbtSettingsEditor::initEditor() const
{
    return m_ui->initEditor;
}

void PbtSettingsEditor::setResultNameSuggestions(const QStringList &names)
{
    const QString text = m_ui->qualityCombo->currentText();
    const bool wasLoading = m_loading;
    m_loading = true;
    m_ui->qualityCombo->clear();
    m_ui->qualityCombo->addItems(names);
    m_ui->qualityCombo->setCurrentIndex(-1);
    m_ui->qualityCombo->setEditText(text);
    m_loading = wasLoading;
}

void PbtSettingsEditor::setSettings(const PbtSettings &s)
{
    m_loading = true;
    m_ui->objectiveCombo->setCurrentIndex(m_ui->objectiveCombo->findData(int(s.objective)));
    m_ui->qualityCombo->setEditText(s.qualityResultName);
    m_ui->truncateEdit->setText(editors::numberText(s.truncate));
    m_ui->populationSpin->setValue(
        int(std::min<qint64>(s.numParallel.value_or(0), m_ui->populationSpin->maximum())));
    m_ui->generationsSpin->setValue(
        int(std::min<qint64>(s.maxGenerations.value_or(0), m_ui->generationsSpin->maximum())));
    clearExplore();
    for (const Perturb &p : s.explore)
        addExploreRow(p);
    m_ui->initEditor->setDistributions(s.init);
    m_loading = false;
    revalidate();
}

void PbtSettingsEditor::addExplore(const Perturb &perturb)
{
    addExploreRow(perturb);
    userEdited();
}

void PbtSettingsEditor::addExploreRow(const Perturb &perturb)
{
    QTableWidget *t = m_ui->exploreTable;
    const int row = t->rowCount();
    t->setRowCount(row + 1);
    ExploreRow r;
    r.name = new QLineEdit(perturb.name, t);
    r.name->setFrame(false);
    r.name->setPlaceholderText(tr("hyperparameter"));
    auto *completer = new QCompleter(m_hyperparameterNames, r.name);
    // Only names that contain what was typed (it offered every name whatever was typed).
    completer->setCompletionMode(QCompleter::PopupCompletion);
    completer->setFilterMode(Qt::MatchContains);
    completer->setCaseSensitivity(Qt::CaseInsensitive);
    r.name->setCompleter(completer);
    r.minFactor = new QLineEdit(editors::numberText(perturb.minFactor), t);
    r.minFactor->setFrame(false);
    r.maxFactor = new QLineEdit(editors::numberText(perturb.maxFactor), t);
    r.maxFactor->setFrame(false);
    r.remove = new QToolButton(t);
    r.remove->setText(QStringLiteral("✕"));
    r.remove->setAutoRaise(true);
    r.remove->setToolTip(tr("Stop perturbing this hyperparameter"));
    r.name->setObjectName(QStringLiteral("exploreName%1").arg(row));
    r.minFactor->setObjectName(QStringLiteral("exploreMin%1").arg(row));
    r.maxFactor->setObjectName(QStringLiteral("exploreMax%1").arg(row));
    r.remove->setObjectName(QStringLiteral("exploreRemove%1").arg(row));
    for (QLineEdit *e : {r.name, r.minFactor, r.maxFactor}) {
        trackTouched(e);
        connect(e, &QLineEdit::textChanged, this, &PbtSettingsEditor::userEdited);
    }
    QToolButton *remove = r.remove;
    connect(remove, &QToolButton::clicked, this, [this, remove] { removeExploreRow(remove); });
    t->setCellWidget(row, 0, r.name);
    t->setCellWidget(row, 1, r.minFactor);
    t->setCellWidget(row, 2, r.maxFactor);
    t->setCellWidget(row, 3, r.remove);
    m_explore.append(r);
}

void PbtSettingsEditor::removeExploreRow(QToolButton *button)
{
    for (int i = 0; i < m_explore.size(); ++i) {
        if (m_explore[i].remove != button)
            continue;
        m_explore.removeAt(i);
        m_ui->exploreTable->removeRow(i); // the cell widgets are deleted later
        break;
    }
    userEdited();
}

void PbtSettingsEditor::clearExplore()
{
    m_explore.clear();
    m_ui->exploreTable->setRowCount(0);
}

namespace {
bool isNumeric(const Distribution &d)
{
    if (d.kind == Distribution::Kind::Const)
        return d.constant.isInteger() || d.constant.isDouble();
    if (d.kind == Distribution::Kind::Choice) {
        for (const QCborValue &v : d.values) {
            if (!v.isInteger() && !v.isDouble())
                return false;
        }
    }
    return true;
}
} // namespace

Perturb PbtSettingsEditor::exploreValue(int row, ExploreCheck *check) const
{
    const ExploreRow &r = m_explore[row];
    Perturb p;
    p.name = r.name->text();
    ExploreCheck c;
    if (p.name.isEmpty())
        c.name = tr("enter a hyperparameter name");
    for (int j = 0; j < row && c.name.isEmpty(); ++j) {
        if (m_explore[j].name->text() == p.name)
            c.name = tr("listed twice");
    }
    // A factor multiplies numbers: the server ignores it for text (docs/server.md), so the editor
    // refuses it rather than save a setting that does nothing.
    if (c.name.isEmpty()) {
        for (const NamedDistribution &nd : m_ui->initEditor->distributions()) {
            if (nd.name == p.name && !isNumeric(nd.distribution))
                c.name = tr("its values are not numbers, so a factor cannot change them");
        }
    }
    const auto minFactor = editors::parseNumber(r.minFactor->text(), &c.minFactor);
    const auto maxFactor = editors::parseNumber(r.maxFactor->text(), &c.maxFactor);
    if (minFactor)
        p.minFactor = *minFactor;
    if (maxFactor)
        p.maxFactor = *maxFactor;
    if (minFactor && maxFactor) {
        PbtSettings s = baseline();
        s.explore = {p};
        s.explore.first().name = QStringLiteral("x");
        if (const auto e = codecCheck(s)) {
            const QString field = editors::lastPathComponent(e->path);
            (field == QLatin1String("maxFactor") ? c.maxFactor : c.minFactor) = e->reason;
        }
    }
    if (check)
        *check = c;
    return p;
}

QString PbtSettingsEditor::checkQuality() const
{
    PbtSettings s = baseline();
    s.qualityResultName = m_ui->qualityCombo->currentText();
    const auto e = codecCheck(s);
    return e ? e->reason : QString();
}

QString PbtSettingsEditor::checkTruncate(double *value) const
{
    QString error;
    const auto x = editors::parseNumber(m_ui->truncateEdit->text(), &error);
    if (!x)
        return error;
    PbtSettings s = baseline();
    s.truncate = *x;
    if (const auto e = codecCheck(s))
        return e->reason;
    if (value)
        *value = *x;
    return {};
}

PbtSettings PbtSettingsEditor::settings() const
{
    PbtSettings s;
    s.objective = Objective(m_ui->objectiveCombo->currentData().toInt());
    s.qualityResultName = m_ui->qualityCombo->currentText();
    checkTruncate(&s.truncate);
    for (int i = 0; i < m_explore.size(); ++i)
        s.explore.append(exploreValue(i, nullptr));
    s.init = m_ui->initEditor->distributions();
    if (m_ui->populationSpin->value() > 0)
        s.numParallel = m_ui->populationSpin->value();
    if (m_ui->generationsSpin->value() > 0)
        s.maxGenerations = m_ui->generationsSpin->value();
    return s;
}

bool PbtSettingsEditor::isValid() const
{
    return errors().isEmpty();
}

QStringList PbtSettingsEditor::errors() const
{
    QStringList out;
    auto add = [&out](const QStringList &path, const QString &message) {
        if (!message.isEmpty())
            out.append(editors::fieldProblem(QStringList{QStringLiteral("PBT")} + path, message));
    };
    add({QStringLiteral("qualityResultName")}, checkQuality());
    add({QStringLiteral("exploit"), QStringLiteral("truncate")}, checkTruncate(nullptr));
    for (int i = 0; i < m_explore.size(); ++i) {
        ExploreCheck c;
        const Perturb p = exploreValue(i, &c);
        const QString who = p.name.isEmpty() ? tr("row %1").arg(i + 1) : p.name;
        add({QStringLiteral("explore"), who}, c.name);
        add({QStringLiteral("explore"), who, QStringLiteral("minFactor")}, c.minFactor);
        add({QStringLiteral("explore"), who, QStringLiteral("maxFactor")}, c.maxFactor);
    }
    out += m_ui->initEditor->errors({QStringLiteral("PBT"), QStringLiteral("init")});
    return out;
}

void PbtSettingsEditor::trackTouched(QLineEdit *input)
{
    connect(input, &QLineEdit::textEdited, this, [this, input] {
        if (editors::isTouched(input))
            return;
        editors::setTouched(input);
        revalidate();
    });
}

QString PbtSettingsEditor::waitForUser(const QLineEdit *input, const QString &message)
{
    return input->text().trimmed().isEmpty() ? editors::shownProblem(input, message) : message;
}

void PbtSettingsEditor::refreshProblems()
{
    revalidate();
    m_ui->initEditor->refreshProblems();
}

QStringList PbtSettingsEditor::shownErrors() const
{
    QStringList out;
    auto add = [&out](const QStringList &path, const QString &message) {
        if (!message.isEmpty())
            out.append(editors::fieldProblem(QStringList{QStringLiteral("PBT")} + path, message));
    };
    add({QStringLiteral("qualityResultName")}, waitForUser(m_ui->qualityCombo->lineEdit(), checkQuality()));
    add({QStringLiteral("exploit"), QStringLiteral("truncate")},
        waitForUser(m_ui->truncateEdit, checkTruncate(nullptr)));
    for (int i = 0; i < m_explore.size(); ++i) {
        ExploreCheck c;
        const Perturb p = exploreValue(i, &c);
        const QString who = p.name.isEmpty() ? tr("row %1").arg(i + 1) : p.name;
        add({QStringLiteral("explore"), who}, waitForUser(m_explore[i].name, c.name));
        add({QStringLiteral("explore"), who, QStringLiteral("minFactor")},
            waitForUser(m_explore[i].minFactor, c.minFactor));
        add({QStringLiteral("explore"), who, QStringLiteral("maxFactor")},
            waitForUser(m_explore[i].maxFactor, c.maxFactor));
    }
    out += m_ui->initEditor->shownErrors({QStringLiteral("PBT"), QStringLiteral("init")});
    return out;
}

void PbtSettingsEditor::revalidate()
{
    const QString quality = waitForUser(m_ui->qualityCombo->lineEdit(), checkQuality());
    editors::markInvalid(m_ui->qualityCombo->lineEdit(), quality);
    editors::showMessage(m_ui->qualityError, quality);
    const QString truncate = waitForUser(m_ui->truncateEdit, checkTruncate(nullptr));
    editors::markInvalid(m_ui->truncateEdit, truncate);
    editors::showMessage(m_ui->truncateError, truncate);
    QStringList problems;
    for (int i = 0; i < m_explore.size(); ++i) {
        ExploreCheck c;
        const Perturb p = exploreValue(i, &c);
        c.name = waitForUser(m_explore[i].name, c.name);
        c.minFactor = waitForUser(m_explore[i].minFactor, c.minFactor);
        c.maxFactor = waitForUser(m_explore[i].maxFactor, c.maxFactor);
        editors::markInvalid(m_explore[i].name, c.name);
        editors::markInvalid(m_explore[i].minFactor, c.minFactor);
        editors::markInvalid(m_explore[i].maxFactor, c.maxFactor);
        const QString who = p.name.isEmpty() ? tr("row %1").arg(i + 1) : p.name;
        if (!c.name.isEmpty())
            problems.append(tr("%1: %2").arg(who, c.name));
        if (!c.minFactor.isEmpty())
            problems.append(tr("%1: min factor %2").arg(who, c.minFactor));
        if (!c.maxFactor.isEmpty())
            problems.append(tr("%1: max factor %2").arg(who, c.maxFactor));
    }
    editors::showMessage(m_ui->exploreError, problems.join(QLatin1Char('\n')));
    m_hyperparameterNames->setStringList(m_ui->initEditor->names());
    updateHints();
}

void PbtSettingsEditor::updateHints()
{
    const bool maximize = Objective(m_ui->objectiveCombo->currentData().toInt()) == Objective::Maximize;
    m_ui->objectiveHint->setText(maximize ? tr("higher quality is better") : tr("lower quality is better"));
    const qint64 population =
        m_ui->populationSpin->value() > 0 ? m_ui->populationSpin->value() : PbtSettings::DefaultPopulation;
    m_ui->populationHint->setText(tr("members trained side by side"));
    const int generations = m_ui->generationsSpin->value();
    m_ui->generationsHint->setText(generations > 0 ? tr("%1 × %2 = %3 jobs when nothing crashes")
                                                         .arg(population)
                                                         .arg(generations)
                                                         .arg(population * generations)
                                                   : tr("runs until paused"));
}

void PbtSettingsEditor::userEdited()
{
    if (m_loading)
        return;
    revalidate();
    Q_EMIT edited();
}

} // namespace schedy
