#include "ValueMapEditor.h"

#include "EditorSupport.h"
#include "Json.h"
#include "ui_ValueMapEditor.h"

#include <QComboBox>
#include <QCompleter>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QStringListModel>
#include <QToolButton>

namespace schedy {

namespace {
using Kind = Distribution::Kind;

bool isNumeric(const Distribution &d)
{
    return d.kind == Kind::Uniform || d.kind == Kind::LogUniform || d.kind == Kind::Normal;
}

QString describe(const Distribution &d)
{
    switch (d.kind) {
    case Kind::Uniform:
        return ValueMapEditor::tr("a number, uniform in [%1, %2)")
            .arg(editors::numberText(d.low), editors::numberText(d.high));
    case Kind::LogUniform:
        return ValueMapEditor::tr("a number, log-uniform in [%1, %2)")
            .arg(editors::numberText(d.low), editors::numberText(d.high));
    case Kind::Normal:
        return ValueMapEditor::tr("a number, normal around %1 (std %2)")
            .arg(editors::numberText(d.mean), editors::numberText(d.std));
    case Kind::Choice:
        // Plain English without a loaded translation ("one of 5 values", not "5 value(s)").
        return d.values.size() == 1 ? ValueMapEditor::tr("the one value of the choice")
                                    : ValueMapEditor::tr("one of %1 values").arg(d.values.size());
    case Kind::Const:
        return ValueMapEditor::tr("the constant %1").arg(editors::valueText(d.constant).left(40));
    }
    return {};
}
} // namespace

ValueMapEditor::ValueMapEditor(QWidget *parent)
    : QWidget(parent)
    , m_ui(std::make_unique<Ui::ValueMapEditor>())
    , m_suggestions(new QStringListModel(this))
    , m_placeholder(tr("JSON, e.g. 0.01, \"relu\" or [1, 2]"))
{
    m_ui->setupUi(this);
    QHeaderView *header = m_ui->table->horizontalHeader();
    header->setSectionResizeMode(0, QHeaderView::Interactive);
    header->setSectionResizeMode(1, QHeaderView::Interactive);
    header->setSectionResizeMode(2, QHeaderView::Stretch);
    header->setSectionResizeMode(3, QHeaderView::Fixed);
    m_ui->table->setColumnWidth(0, 150);
    m_ui->table->setColumnWidth(1, 280);
    m_ui->table->setColumnWidth(3, 30);
    m_ui->table->verticalHeader()->setDefaultSectionSize(m_ui->table->fontMetrics().height() + 12);
    connect(m_ui->addButton, &QPushButton::clicked, this, [this] {
        const int row = addRow();
        m_rows[row].name->setFocus();
        userEdited();
    });
}

ValueMapEditor::~ValueMapEditor() = default;

void ValueMapEditor::setNameSuggestions(const QStringList &names)
{
    m_suggestions->setStringList(names);
}

QLineEdit *ValueMapEditor::nameInput(int row) const
{
    return m_rows.value(row).name;
}
QLineEdit *ValueMapEditor::valueInput(int row) const
{
    return m_rows.value(row).value;
}
std::optional<Distribution> ValueMapEditor::distributionOf(int row) const
{
    return m_rows.value(row).distribution;
}

QString ValueMapEditor::note(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows[row].note->text() : QString();
}

int ValueMapEditor::rowOf(const QString &name) const
{
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows[i].name->text() == name)
            return i;
    }
    return -1;
}

void ValueMapEditor::setFields(const QList<Field> &fields)
{
    m_loading = true;
    m_rows.clear();
    m_ui->table->setRowCount(0);
    for (const Field &f : fields)
        addRow(f.name, {}, f.distribution);
    m_loading = false;
    revalidate();
}

void ValueMapEditor::setValues(const QCborMap &values)
{
    m_loading = true;
    for (const Row &r : std::as_const(m_rows))
        r.value->clear();
    for (auto it = values.begin(); it != values.end(); ++it) {
        const QString name = it.key().toString();
        const int row = rowOf(name);
        if (row < 0)
            addRow(name, editors::valueText(it.value()), std::nullopt);
        else
            m_rows[row].value->setText(editors::valueText(it.value()));
    }
    for (const Row &r : std::as_const(m_rows))
        r.value->setCursorPosition(0); // long values show their beginning
    m_loading = false;
    revalidate();
}

void ValueMapEditor::setValueText(int row, const QString &text)
{
    if (row < 0 || row >= m_rows.size())
        return;
    m_rows[row].value->setText(text);
}

int ValueMapEditor::addRow(const QString &name, const QString &valueText)
{
    return addRow(name, valueText, std::nullopt);
}

int ValueMapEditor::addRow(const QString &name, const QString &valueText,
                           const std::optional<Distribution> &distribution)
{
    QTableWidget *t = m_ui->table;
    const int row = t->rowCount();
    t->setRowCount(row + 1);
    Row r;
    r.distribution = distribution;
    r.name = new QLineEdit(name, t);
    r.name->setObjectName(QStringLiteral("name%1").arg(row));
    r.name->setFrame(false);
    r.name->setPlaceholderText(tr("name"));
    auto *completer = new QCompleter(m_suggestions, r.name);
    completer->setCaseSensitivity(Qt::CaseInsensitive);
    r.name->setCompleter(completer);
    QWidget *valueWidget = nullptr;
    if (distribution && distribution->kind == Kind::Choice) {
        r.choice = new QComboBox(t);
        r.choice->setEditable(true);
        r.choice->setInsertPolicy(QComboBox::NoInsert);
        r.choice->setFrame(false);
        for (const QCborValue &v : distribution->values)
            r.choice->addItem(editors::valueText(v));
        r.choice->setCurrentIndex(-1);
        r.value = r.choice->lineEdit();
        r.value->setText(valueText);
        valueWidget = r.choice;
    } else {
        r.value = new QLineEdit(valueText, t);
        r.value->setFrame(false);
        valueWidget = r.value;
    }
    valueWidget->setObjectName(QStringLiteral("value%1").arg(row));
    r.value->setPlaceholderText(distribution && isNumeric(*distribution) ? tr("a number") : m_placeholder);
    r.value->setCursorPosition(0);
    r.note = new QLabel(t);
    r.note->setObjectName(QStringLiteral("note%1").arg(row));
    r.note->setContentsMargins(4, 0, 4, 0);
    r.remove = new QToolButton(t);
    r.remove->setText(QStringLiteral("✕"));
    r.remove->setAutoRaise(true);
    r.remove->setToolTip(tr("Remove this row"));
    connect(r.name, &QLineEdit::textChanged, this, &ValueMapEditor::userEdited);
    connect(r.value, &QLineEdit::textChanged, this, &ValueMapEditor::userEdited);
    QToolButton *remove = r.remove;
    connect(remove, &QToolButton::clicked, this, [this, remove] { removeRow(remove); });
    t->setCellWidget(row, 0, r.name);
    t->setCellWidget(row, 1, valueWidget);
    t->setCellWidget(row, 2, r.note);
    t->setCellWidget(row, 3, r.remove);
    m_rows.append(r);
    if (!m_loading)
        revalidate();
    return row;
}

void ValueMapEditor::removeRow(QToolButton *button)
{
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows[i].remove == button) {
            m_rows.removeAt(i);
            m_ui->table->removeRow(i);
            break;
        }
    }
    userEdited();
}

ValueMapEditor::Check ValueMapEditor::check(int row) const
{
    const Row &r = m_rows[row];
    Check c;
    const QString name = r.name->text();
    const QString text = r.value->text().trimmed();
    if (name.isEmpty()) {
        if (!text.isEmpty())
            c.error = tr("enter a name");
        return c;
    }
    for (int j = 0; j < row; ++j) {
        if (m_rows[j].name->text() == name) {
            c.error = tr("listed twice");
            return c;
        }
    }
    const QString expected = r.distribution ? describe(*r.distribution) : QString();
    if (text.isEmpty()) {
        c.hint = expected.isEmpty() ? tr("not set") : tr("not set; %1").arg(expected);
        return c;
    }
    QString error;
    const auto value = editors::parseValue(text, &error);
    if (!value) {
        c.error = error;
        return c;
    }
    if (!r.distribution)
        return c;
    const Distribution &d = *r.distribution;
    if (isNumeric(d)) {
        if (!json::isNumber(*value)) {
            c.error = tr("must be a number");
            return c;
        }
        const double x = json::toDouble(*value);
        c.unusual = (d.kind == Kind::Uniform || d.kind == Kind::LogUniform) && !(x >= d.low && x < d.high);
        c.hint = c.unusual ? tr("outside [%1, %2): allowed, but not what the search draws")
                                 .arg(editors::numberText(d.low), editors::numberText(d.high))
                           : expected;
    } else if (d.kind == Kind::Choice) {
        c.unusual = !d.values.contains(*value);
        c.hint = c.unusual ? tr("not one of the choices: allowed") : expected;
    } else {
        c.unusual = *value != d.constant;
        c.hint = c.unusual ? tr("differs from the constant: allowed") : expected;
    }
    return c;
}

QCborMap ValueMapEditor::values() const
{
    QCborMap out;
    for (const Row &r : m_rows) {
        const QString name = r.name->text();
        QString error;
        if (name.isEmpty() || r.value->text().trimmed().isEmpty() || out.contains(name))
            continue;
        if (const auto v = editors::parseValue(r.value->text(), &error))
            out.insert(name, *v);
    }
    return out;
}

QStringList ValueMapEditor::errors(const QStringList &at) const
{
    QStringList out;
    for (int i = 0; i < m_rows.size(); ++i) {
        const Check c = check(i);
        if (!c.error.isEmpty()) {
            const QString name = m_rows[i].name->text();
            out.append(editors::fieldProblem(
                at + QStringList{name.isEmpty() ? tr("row %1").arg(i + 1) : name}, c.error));
        }
    }
    return out;
}

bool ValueMapEditor::isValid() const
{
    return errors({}).isEmpty();
}

void ValueMapEditor::revalidate()
{
    for (int i = 0; i < m_rows.size(); ++i) {
        const Check c = check(i);
        const Row &r = m_rows[i];
        const bool nameProblem =
            !c.error.isEmpty() && (r.name->text().isEmpty() || c.error == tr("listed twice"));
        editors::markInvalid(r.name, nameProblem ? c.error : QString());
        editors::markInvalid(r.value, !c.error.isEmpty() && !nameProblem ? c.error : QString());
        r.note->setText(c.error.isEmpty() ? c.hint : c.error);
        r.note->setToolTip(r.note->text());
        QPalette p = r.note->palette();
        const QColor color = !c.error.isEmpty() ? QColor(0xc6, 0x28, 0x28)
                             : c.unusual        ? QColor(0xa8, 0x5a, 0x00)
                                                : palette().color(QPalette::PlaceholderText);
        p.setColor(QPalette::WindowText, color);
        r.note->setPalette(p);
    }
}

void ValueMapEditor::userEdited()
{
    if (m_loading)
        return;
    revalidate();
    Q_EMIT edited();
}

} // namespace schedy
