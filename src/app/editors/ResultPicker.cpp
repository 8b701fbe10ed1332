#include "ResultPicker.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QSignalBlocker>

namespace schedy {

ResultPicker::ResultPicker(const QString &placeholder, QWidget *parent)
    : QWidget(parent)
    , m_name(new QComboBox(this))
    , m_direction(new QComboBox(this))
{
    m_name->setObjectName(QStringLiteral("resultCombo"));
    m_name->setEditable(true);
    m_name->setInsertPolicy(QComboBox::NoInsert);
    m_name->lineEdit()->setPlaceholderText(placeholder);
    m_name->setMinimumWidth(180);
    m_direction->setObjectName(QStringLiteral("directionCombo"));
    m_direction->addItem(tr("minimize"), int(Objective::Minimize));
    m_direction->addItem(tr("maximize"), int(Objective::Maximize));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_name, 1);
    layout->addWidget(m_direction);
    connect(m_name, &QComboBox::editTextChanged, this, &ResultPicker::edited);
    connect(m_direction, &QComboBox::currentIndexChanged, this, &ResultPicker::edited);
}

void ResultPicker::setNames(const QStringList &names)
{
    const QSignalBlocker block(m_name);
    const QString text = m_name->currentText();
    m_name->clear();
    m_name->addItems(names);
    m_name->setCurrentIndex(-1);
    m_name->setEditText(text);
}

void ResultPicker::setValue(const QString &name, Objective direction)
{
    const QSignalBlocker blockName(m_name);
    const QSignalBlocker blockDirection(m_direction);
    m_name->setEditText(name);
    m_direction->setCurrentIndex(m_direction->findData(int(direction)));
}

QString ResultPicker::name() const
{
    return m_name->currentText().trimmed();
}

Objective ResultPicker::direction() const
{
    return Objective(m_direction->currentData().toInt());
}

} // namespace schedy
