#include "DistributionEditor.h"

#include "Codec.h"
#include "DistributionPreview.h"
#include "EditorSupport.h"
#include "ui_DistributionEditor.h"

#include <QHeaderView>
#include <QIcon>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSignalBlocker>
#include <QStyle>
#include <QToolButton>

#include <algorithm>

namespace schedy {

namespace {
using Kind = Distribution::Kind;

int pageOf(Kind kind)
{
    switch (kind) {
    case Kind::Uniform:
    case Kind::LogUniform:
        return 0;
    case Kind::Normal:
        return 1;
    case Kind::Choice:
        return 2;
    case Kind::Const:
        return 3;
    }
    return 0;
}

QString elide(const QString &text, int max)
{
    return text.size() <= max ? text : text.left(max - 1) + QStringLiteral("…");
}
} // namespace

QString DistributionEditor::Check::first() const
{
    for (const QString &s : {name, low, high, mean, std, choice, constant}) {
        if (!s.isEmpty())
            return s;
    }
    for (const QStringList &list : {values, weights}) {
        for (const QString &s : list) {
            if (!s.isEmpty())
                return s;
        }
    }
    return {};
}

DistributionEditor::DistributionEditor(QWidget *parent)
    : QWidget(parent)
    , m_ui(std::make_unique<Ui::DistributionEditor>())
{
    m_ui->setupUi(this);
    editors::prepareMessageLabels(this);
    m_ui->kindCombo->addItem(tr("Uniform"), int(Kind::Uniform));
    m_ui->kindCombo->addItem(tr("Log-uniform"), int(Kind::LogUniform));
    m_ui->kindCombo->addItem(tr("Normal"), int(Kind::Normal));
    m_ui->kindCombo->addItem(tr("Choice"), int(Kind::Choice));
    m_ui->kindCombo->addItem(tr("Constant"), int(Kind::Const));
    m_ui->kindHint->setForegroundRole(QPalette::PlaceholderText);
    m_ui->lowEdit->setPlaceholderText(tr("a number, e.g. 0.0 or 1e-06"));
    m_ui->highEdit->setPlaceholderText(tr("a number greater than low"));
    m_ui->meanEdit->setPlaceholderText(tr("a number"));
    m_ui->stdEdit->setPlaceholderText(tr("a number, at least 0"));

    QHeaderView *header = m_ui->table->horizontalHeader();
    header->setSectionResizeMode(0, QHeaderView::Interactive);
    m_ui->table->setColumnWidth(0, 130);
    m_ui->table->verticalHeader()->setDefaultSectionSize(m_ui->table->fontMetrics().height() + 8);
    QHeaderView *choiceHeader = m_ui->choiceTable->horizontalHeader();
    choiceHeader->setSectionResizeMode(0, QHeaderView::Stretch);
    choiceHeader->setSectionResizeMode(1, QHeaderView::Fixed);
    choiceHeader->setSectionResizeMode(2, QHeaderView::Fixed);
    m_ui->choiceTable->setColumnWidth(1, 90);
    m_ui->choiceTable->setColumnWidth(2, 30);

    connect(m_ui->table, &QTableWidget::itemSelectionChanged, this, &DistributionEditor::onSelectionChanged);
    connect(m_ui->table, &QTableWidget::itemDoubleClicked, this, [this] {
        m_ui->nameEdit->setFocus();
        m_ui->nameEdit->selectAll();
    });
    connect(m_ui->addButton, &QPushButton::clicked, this, [this] {
        QString name;
        do {
            name = QStringLiteral("param%1").arg(m_nextNumber++);
        } while (names().contains(name));
        addHyperparameter(name, Distribution::uniform(0.0, 1.0));
        m_ui->nameEdit->setFocus();
        m_ui->nameEdit->selectAll();
        userEdited();
    });
    connect(m_ui->removeButton, &QPushButton::clicked, this, [this] {
        removeCurrent();
        userEdited();
    });
    connect(m_ui->upButton, &QToolButton::clicked, this, [this] {
        moveCurrent(-1);
        userEdited();
    });
    connect(m_ui->downButton, &QToolButton::clicked, this, [this] {
        moveCurrent(1);
        userEdited();
    });
    connect(m_ui->kindCombo, &QComboBox::currentIndexChanged, this, &DistributionEditor::onKindChanged);
    for (QLineEdit *edit : {m_ui->nameEdit, m_ui->lowEdit, m_ui->highEdit, m_ui->meanEdit, m_ui->stdEdit})
        connect(edit, &QLineEdit::textChanged, this, &DistributionEditor::onFieldEdited);
    connect(m_ui->constEdit, &QPlainTextEdit::textChanged, this, &DistributionEditor::onFieldEdited);
    connect(m_ui->addValueButton, &QPushButton::clicked, this, &DistributionEditor::addChoiceValue);
    connect(m_ui->weightedCheck, &QCheckBox::toggled, this, &DistributionEditor::setWeighted);
    // The stack is as tall as its current page, not its tallest one.
    auto fitStack = [this](int index) {
        for (int i = 0; i < m_ui->argsStack->count(); ++i) {
            m_ui->argsStack->widget(i)->setSizePolicy(
                QSizePolicy::Preferred, i == index ? QSizePolicy::Preferred : QSizePolicy::Ignored);
        }
        m_ui->argsStack->adjustSize();
    };
    connect(m_ui->argsStack, &QStackedWidget::currentChanged, this, fitStack);
    fitStack(m_ui->argsStack->currentIndex());
    m_ui->preview->setMinimumHeight(160); // the PBT form fits 1280x800 (tst_editors)
    m_ui->preview->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    loadRow();
}

DistributionEditor::~DistributionEditor() = default;

DistributionPreview *DistributionEditor::preview() const
{
    return m_ui->preview;
}

int DistributionEditor::rowCount() const
{
    return int(m_rows.size());
}

QStringList DistributionEditor::names() const
{
    QStringList out;
    for (const Row &r : m_rows)
        out.append(r.name);
    return out;
}

DistributionEditor::Row DistributionEditor::rowFrom(const NamedDistribution &nd)
{
    Row r;
    const Distribution &d = nd.distribution;
    r.name = nd.name;
    r.kind = d.kind;
    // Every kind's fields get sensible text, so that switching kind keeps or suggests arguments.
    const bool range = d.kind == Kind::Uniform || d.kind == Kind::LogUniform;
    r.low = editors::numberText(range ? d.low : (d.kind == Kind::Normal ? d.mean - d.std : 0.0));
    r.high = editors::numberText(range ? d.high : (d.kind == Kind::Normal ? d.mean + d.std : 1.0));
    r.mean = editors::numberText(d.kind == Kind::Normal ? d.mean : (range ? (d.low + d.high) / 2 : 0.0));
    r.std = editors::numberText(d.kind == Kind::Normal ? d.std : (range ? (d.high - d.low) / 4 : 1.0));
    if (d.kind == Kind::Choice) {
        for (qsizetype i = 0; i < d.values.size(); ++i) {
            r.choices.append({editors::valueText(d.values.at(i)),
                              i < d.weights.size() ? editors::numberText(d.weights[i]) : QString()});
        }
        r.weighted = !d.weights.isEmpty();
    }
    if (d.kind == Kind::Const)
        r.constant = editors::valueText(d.constant);
    return r;
}

void DistributionEditor::setDistributions(const Distributions &distributions)
{
    const int keep = m_current;
    m_rows.clear();
    for (const NamedDistribution &nd : distributions)
        m_rows.append(rowFrom(nd));
    {
        QSignalBlocker block(m_ui->table);
        m_ui->table->setRowCount(int(m_rows.size()));
    }
    m_current = m_rows.isEmpty() ? -1 : std::clamp(keep, 0, int(m_rows.size()) - 1);
    revalidate();
    selectRow(m_current);
    loadRow();
}

Distributions DistributionEditor::distributions() const
{
    Distributions out;
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_checks.value(i).ok())
            out.append(NamedDistribution{m_rows[i].name, *m_checks[i].value});
    }
    return out;
}

bool DistributionEditor::isValid() const
{
    for (const Check &c : m_checks) {
        if (!c.ok())
            return false;
    }
    return true;
}

QStringList DistributionEditor::errors(const QStringList &at) const
{
    return errorLines(false, at);
}

QStringList DistributionEditor::shownErrors(const QStringList &at) const
{
    return errorLines(true, at);
}

DistributionEditor::Check DistributionEditor::shownCheck(int index) const
{
    Check c = m_checks[index];
    if (editors::problemsRevealed(this))
        return c;
    const Row &r = m_rows[index];
    // An empty field the user has not edited is not a mistake yet; a filled one that is wrong is.
    auto wait = [&r](QString &message, const QString &key, const QString &text) {
        if (text.trimmed().isEmpty() && !r.touched.contains(key))
            message.clear();
    };
    wait(c.name, QStringLiteral("name"), r.name);
    wait(c.low, QStringLiteral("low"), r.low);
    wait(c.high, QStringLiteral("high"), r.high);
    wait(c.mean, QStringLiteral("mean"), r.mean);
    wait(c.std, QStringLiteral("std"), r.std);
    wait(c.constant, QStringLiteral("const"), r.constant);
    if (!r.touched.contains(QStringLiteral("values")) &&
        std::none_of(r.choices.begin(), r.choices.end(),
                     [](const ChoiceItem &item) { return item.valueTouched; }))
        c.choice.clear();
    for (qsizetype j = 0; j < r.choices.size(); ++j) {
        const ChoiceItem &item = r.choices[j];
        if (j < c.values.size() && item.value.trimmed().isEmpty() && !item.valueTouched)
            c.values[j].clear();
        if (j < c.weights.size() && item.weight.trimmed().isEmpty() && !item.weightTouched)
            c.weights[j].clear();
    }
    return c;
}

QStringList DistributionEditor::errorLines(bool shownOnly, const QStringList &at) const
{
    QStringList out;
    for (int i = 0; i < m_checks.size(); ++i) {
        const Check c = shownOnly ? shownCheck(i) : m_checks[i];
        const QString who = m_rows[i].name.isEmpty() ? tr("hyperparameter %1").arg(i + 1) : m_rows[i].name;
        auto add = [&](const QString &field, const QString &message) {
            if (!message.isEmpty())
                out.append(editors::fieldProblem(at + QStringList{who, field}, message));
        };
        add(QStringLiteral("name"), c.name);
        add(QStringLiteral("low"), c.low);
        add(QStringLiteral("high"), c.high);
        add(QStringLiteral("mean"), c.mean);
        add(QStringLiteral("std"), c.std);
        add(QStringLiteral("values"), c.choice);
        add(QStringLiteral("const"), c.constant);
        for (qsizetype j = 0; j < c.values.size(); ++j)
            add(QStringLiteral("values[%1]").arg(j), c.values[j]);
        for (qsizetype j = 0; j < c.weights.size(); ++j)
            add(QStringLiteral("weights[%1]").arg(j), c.weights[j]);
    }
    return out;
}

DistributionEditor::Check DistributionEditor::check(int index) const
{
    const Row &r = m_rows[index];
    Check c;
    c.name = checkName(r.name, tr("name"));
    for (int j = 0; j < m_rows.size() && c.name.isEmpty(); ++j) {
        if (j != index && m_rows[j].name == r.name)
            c.name = tr("another hyperparameter has this name");
    }
    Distribution d;
    d.kind = r.kind;
    bool parsed = true;
    auto number = [&parsed](const QString &text, QString *error, double *out) {
        if (const auto x = editors::parseNumber(text, error))
            *out = *x;
        else
            parsed = false;
    };
    switch (r.kind) {
    case Kind::Uniform:
    case Kind::LogUniform:
        number(r.low, &c.low, &d.low);
        number(r.high, &c.high, &d.high);
        break;
    case Kind::Normal:
        number(r.mean, &c.mean, &d.mean);
        number(r.std, &c.std, &d.std);
        break;
    case Kind::Choice:
        c.values = QStringList(r.choices.size(), QString());
        c.weights = QStringList(r.choices.size(), QString());
        for (qsizetype i = 0; i < r.choices.size(); ++i) {
            if (const auto v = editors::parseValue(r.choices[i].value, &c.values[i]))
                d.values.append(*v);
            else
                parsed = false;
            if (r.weighted) {
                double w = 0;
                number(r.choices[i].weight, &c.weights[i], &w);
                d.weights.append(w);
            }
        }
        break;
    case Kind::Const:
        if (const auto v = editors::parseValue(r.constant, &c.constant))
            d.constant = *v;
        else
            parsed = false;
        break;
    }
    if (!parsed)
        return c;
    // The rules (low < high, weights, ...) are the codec's: the value must read back from its wire form.
    const auto decoded = codec::decodeDistribution(codec::encode(d), r.name);
    if (decoded) {
        c.value = decoded.value();
        return c;
    }
    const QString field = editors::lastPathComponent(decoded.error().path);
    const QString reason = decoded.error().reason;
    if (field == QLatin1String("low"))
        c.low = reason;
    else if (field == QLatin1String("high"))
        c.high = reason;
    else if (field == QLatin1String("mean"))
        c.mean = reason;
    else if (field == QLatin1String("std"))
        c.std = reason;
    else if (field.startsWith(QLatin1String("weights[")) && !c.weights.isEmpty())
        c.weights[qBound(0, field.mid(8).chopped(1).toInt(), int(c.weights.size()) - 1)] = reason;
    else if (r.kind == Kind::Const)
        c.constant = reason;
    else
        c.choice = QStringLiteral("%1 %2").arg(field, reason);
    return c;
}

void DistributionEditor::revalidate()
{
    m_checks.clear();
    for (int i = 0; i < m_rows.size(); ++i)
        m_checks.append(check(i));
    for (int i = 0; i < m_rows.size(); ++i)
        updateTableRow(i);
    showCurrentCheck();
}

QString DistributionEditor::summary(int index) const
{
    const Check &c = m_checks[index];
    if (!c.value)
        return QString();
    const Distribution &d = *c.value;
    switch (d.kind) {
    case Kind::Uniform:
        return tr("uniform [%1, %2)").arg(editors::numberText(d.low), editors::numberText(d.high));
    case Kind::LogUniform:
        return tr("log-uniform [%1, %2)").arg(editors::numberText(d.low), editors::numberText(d.high));
    case Kind::Normal:
        return tr("normal μ=%1 σ=%2").arg(editors::numberText(d.mean), editors::numberText(d.std));
    case Kind::Choice: {
        QStringList values;
        for (const QCborValue &v : d.values)
            values.append(editors::valueText(v));
        return elide((d.weights.isEmpty() ? tr("choice of %1") : tr("weighted choice of %1"))
                         .arg(values.join(QStringLiteral(", "))),
                     48);
    }
    case Kind::Const:
        return elide(tr("constant %1").arg(editors::valueText(d.constant)), 48);
    }
    return {};
}

void DistributionEditor::updateTableRow(int index)
{
    QSignalBlocker block(m_ui->table);
    for (int column = 0; column < 2; ++column) {
        if (!m_ui->table->item(index, column))
            m_ui->table->setItem(index, column, new QTableWidgetItem);
    }
    const Check &c = m_checks[index];
    const QString shown = shownCheck(index).first();
    QTableWidgetItem *name = m_ui->table->item(index, 0);
    QTableWidgetItem *what = m_ui->table->item(index, 1);
    name->setText(m_rows[index].name);
    if (!c.ok() && shown.isEmpty()) {
        // Not filled in yet: said plainly, in grey, without a warning.
        what->setText(tr("incomplete: %1").arg(c.first()));
        what->setToolTip(what->text());
        name->setIcon(QIcon());
        name->setData(Qt::ForegroundRole, QVariant());
        what->setForeground(palette().color(QPalette::PlaceholderText));
    } else if (c.ok()) {
        what->setText(summary(index));
        what->setToolTip(what->text());
        name->setIcon(QIcon());
        name->setData(Qt::ForegroundRole, QVariant());
        what->setData(Qt::ForegroundRole, QVariant());
    } else {
        const QString problem = shown;
        what->setText(problem);
        what->setToolTip(problem);
        name->setIcon(style()->standardIcon(QStyle::SP_MessageBoxWarning));
        name->setForeground(QColor(0xc6, 0x28, 0x28));
        what->setForeground(QColor(0xc6, 0x28, 0x28));
    }
}

void DistributionEditor::selectRow(int index)
{
    QSignalBlocker block(m_ui->table);
    m_ui->table->clearSelection();
    if (index >= 0 && index < m_ui->table->rowCount()) {
        m_ui->table->setCurrentCell(index, 0);
        m_ui->table->selectRow(index);
    }
}

void DistributionEditor::setCurrentRow(int row)
{
    if (row < 0 || row >= m_rows.size())
        return;
    m_current = row;
    selectRow(row);
    loadRow();
}

void DistributionEditor::onSelectionChanged()
{
    const auto rows = m_ui->table->selectionModel()->selectedRows();
    if (rows.isEmpty()) {
        selectRow(m_current); // always one selected while there are rows
        return;
    }
    if (rows.first().row() == m_current)
        return;
    m_current = rows.first().row();
    loadRow();
}

void DistributionEditor::addHyperparameter(const QString &name, const Distribution &distribution)
{
    m_rows.append(rowFrom(NamedDistribution{name, distribution}));
    {
        QSignalBlocker block(m_ui->table);
        m_ui->table->setRowCount(int(m_rows.size()));
    }
    m_current = int(m_rows.size()) - 1;
    revalidate();
    selectRow(m_current);
    loadRow();
}

void DistributionEditor::removeCurrent()
{
    if (m_current < 0 || m_current >= m_rows.size())
        return;
    m_rows.removeAt(m_current);
    {
        QSignalBlocker block(m_ui->table);
        m_ui->table->removeRow(m_current);
    }
    m_current = std::min(m_current, int(m_rows.size()) - 1);
    revalidate();
    selectRow(m_current);
    loadRow();
}

void DistributionEditor::moveCurrent(int delta)
{
    const int to = m_current + delta;
    if (m_current < 0 || to < 0 || to >= m_rows.size())
        return;
    m_rows.swapItemsAt(m_current, to);
    m_current = to;
    revalidate();
    selectRow(m_current);
    loadRow();
}

void DistributionEditor::loadRow()
{
    const bool has = m_current >= 0 && m_current < m_rows.size();
    m_ui->rowEditor->setVisible(has);
    m_ui->emptyHint->setVisible(!has);
    m_ui->removeButton->setEnabled(has);
    m_ui->upButton->setEnabled(has && m_current > 0);
    m_ui->downButton->setEnabled(has && m_current + 1 < m_rows.size());
    if (!has)
        return;
    m_loading = true;
    const Row &r = m_rows[m_current];
    m_ui->nameEdit->setText(r.name);
    m_ui->kindCombo->setCurrentIndex(m_ui->kindCombo->findData(int(r.kind)));
    m_ui->argsStack->setCurrentIndex(pageOf(r.kind));
    m_ui->lowEdit->setText(r.low);
    m_ui->highEdit->setText(r.high);
    m_ui->meanEdit->setText(r.mean);
    m_ui->stdEdit->setText(r.std);
    if (m_ui->constEdit->toPlainText() != r.constant)
        m_ui->constEdit->setPlainText(r.constant);
    m_ui->weightedCheck->setChecked(r.weighted);
    rebuildChoiceTable();
    switch (r.kind) {
    case Kind::Uniform:
        m_ui->kindHint->setText(tr("Any value in [low, high), equally likely."));
        break;
    case Kind::LogUniform:
        m_ui->kindHint->setText(tr("Values in [low, high) spread evenly on a log scale; low > 0. "
                                   "For learning rates and other scales."));
        break;
    case Kind::Normal:
        m_ui->kindHint->setText(tr("Normally distributed around the mean."));
        break;
    case Kind::Choice:
        m_ui->kindHint->setText(tr("One of the values, with optional weights."));
        break;
    case Kind::Const:
        m_ui->kindHint->setText(tr("Always this value."));
        break;
    }
    m_loading = false;
    showCurrentCheck();
}

void DistributionEditor::rebuildChoiceTable()
{
    const Row &r = m_rows[m_current];
    QTableWidget *t = m_ui->choiceTable;
    // The widgets being replaced are deleted later; until then they must not be mistaken for the new ones.
    for (int i = 0; i < t->rowCount(); ++i) {
        for (int column = 0; column < t->columnCount(); ++column) {
            if (QWidget *old = t->cellWidget(i, column))
                old->setObjectName(QString());
        }
    }
    t->setRowCount(int(r.choices.size()));
    t->setColumnHidden(1, !r.weighted);
    for (int i = 0; i < r.choices.size(); ++i) {
        auto *value = new QLineEdit(r.choices[i].value, t);
        value->setObjectName(QStringLiteral("choiceValue%1").arg(i));
        value->setFrame(false);
        value->setPlaceholderText(tr("JSON value, e.g. 3 or \"relu\""));
        auto *weight = new QLineEdit(r.choices[i].weight, t);
        weight->setObjectName(QStringLiteral("choiceWeight%1").arg(i));
        weight->setFrame(false);
        weight->setPlaceholderText(tr("weight"));
        auto *remove = new QToolButton(t);
        remove->setObjectName(QStringLiteral("choiceRemove%1").arg(i));
        remove->setText(QStringLiteral("✕"));
        remove->setAutoRaise(true);
        remove->setToolTip(tr("Remove this value"));
        connect(value, &QLineEdit::textEdited, this, [this, i](const QString &text) {
            current().choices[i].value = text;
            current().choices[i].valueTouched = true;
            userEdited();
        });
        connect(weight, &QLineEdit::textEdited, this, [this, i](const QString &text) {
            current().choices[i].weight = text;
            current().choices[i].weightTouched = true;
            userEdited();
        });
        connect(remove, &QToolButton::clicked, this, [this, i] { removeChoiceValue(i); });
        t->setCellWidget(i, 0, value);
        t->setCellWidget(i, 1, weight);
        t->setCellWidget(i, 2, remove);
    }
}

void DistributionEditor::showCurrentCheck()
{
    if (m_current < 0 || m_current >= m_checks.size()) {
        m_ui->preview->setDistribution({}, std::nullopt);
        return;
    }
    const Check c = shownCheck(m_current);
    auto show = [](QWidget *input, QLabel *label, const QString &message) {
        editors::markInvalid(input, message);
        editors::showMessage(label, message);
    };
    show(m_ui->nameEdit, m_ui->nameError, c.name);
    show(m_ui->lowEdit, m_ui->lowError, c.low);
    show(m_ui->highEdit, m_ui->highError, c.high);
    show(m_ui->meanEdit, m_ui->meanError, c.mean);
    show(m_ui->stdEdit, m_ui->stdError, c.std);
    show(m_ui->constEdit, m_ui->constError, c.constant);
    // Choice: each bad cell tinted, the reasons listed under the table.
    QStringList choiceProblems;
    if (!c.choice.isEmpty())
        choiceProblems.append(c.choice);
    for (int i = 0; i < m_ui->choiceTable->rowCount(); ++i) {
        const QString valueError = c.values.value(i);
        const QString weightError = c.weights.value(i);
        editors::markInvalid(m_ui->choiceTable->cellWidget(i, 0), valueError);
        editors::markInvalid(m_ui->choiceTable->cellWidget(i, 1), weightError);
        if (!valueError.isEmpty())
            choiceProblems.append(tr("value %1: %2").arg(i + 1).arg(valueError));
        if (!weightError.isEmpty())
            choiceProblems.append(tr("weight %1: %2").arg(i + 1).arg(weightError));
    }
    editors::showMessage(m_ui->choiceError, choiceProblems.join(QLatin1Char('\n')));
    m_ui->preview->setDistribution(m_rows[m_current].name, c.value,
                                   c.first().isEmpty() ? tr("Fill in the arguments to see a preview")
                                                       : tr("Fix the arguments to see a preview"));
}

void DistributionEditor::onKindChanged(int comboIndex)
{
    if (m_loading || m_current < 0 || comboIndex < 0)
        return;
    Row &r = current();
    r.kind = Kind(m_ui->kindCombo->itemData(comboIndex).toInt());
    if (r.kind == Kind::Choice && r.choices.isEmpty())
        r.choices.append({QString(), QString()});
    loadRow();
    revalidate();
    userEdited();
}

void DistributionEditor::onFieldEdited()
{
    if (m_loading || m_current < 0)
        return;
    Row &r = current();
    // Whatever differs from the row was edited by the user (loading the row sets m_loading).
    auto take = [&r](QString &field, const QString &key, const QString &text) {
        if (field != text)
            r.touched.insert(key);
        field = text;
    };
    take(r.name, QStringLiteral("name"), m_ui->nameEdit->text());
    take(r.low, QStringLiteral("low"), m_ui->lowEdit->text());
    take(r.high, QStringLiteral("high"), m_ui->highEdit->text());
    take(r.mean, QStringLiteral("mean"), m_ui->meanEdit->text());
    take(r.std, QStringLiteral("std"), m_ui->stdEdit->text());
    take(r.constant, QStringLiteral("const"), m_ui->constEdit->toPlainText());
    userEdited();
}

void DistributionEditor::addChoiceValue()
{
    if (m_current < 0)
        return;
    current().choices.append({QString(), current().weighted ? QStringLiteral("1.0") : QString()});
    rebuildChoiceTable();
    const int last = m_ui->choiceTable->rowCount() - 1;
    m_ui->choiceTable->scrollToBottom();
    if (QWidget *edit = m_ui->choiceTable->cellWidget(last, 0))
        edit->setFocus();
    userEdited();
}

void DistributionEditor::removeChoiceValue(int index)
{
    if (m_current < 0 || index < 0 || index >= current().choices.size())
        return;
    current().choices.removeAt(index);
    current().touched.insert(QStringLiteral("values")); // an emptied list says so
    rebuildChoiceTable();
    userEdited();
}

void DistributionEditor::setWeighted(bool weighted)
{
    if (m_loading || m_current < 0)
        return;
    Row &r = current();
    r.weighted = weighted;
    if (weighted) {
        for (ChoiceItem &item : r.choices) {
            if (item.weight.trimmed().isEmpty())
                item.weight = QStringLiteral("1.0");
        }
    }
    rebuildChoiceTable();
    userEdited();
}

void DistributionEditor::userEdited()
{
    revalidate();
    Q_EMIT edited();
}

} // namespace schedy
