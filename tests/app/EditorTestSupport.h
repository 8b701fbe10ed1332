#pragma once

// Helpers of the editor tests: find widgets by object name, type into them
// like a person, fill a distribution editor row.
#include "Codec.h"
#include "DistributionEditor.h"
#include "Json.h"

#include <QAbstractButton>
#include <QAbstractSpinBox>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QtTest>

namespace schedy::test {

using Kind = Distribution::Kind;

inline QString S(const char *text)
{
    return QString::fromUtf8(text);
}
inline QStringList L(std::initializer_list<const char *> texts)
{
    QStringList out;
    for (const char *t : texts)
        out.append(QString::fromUtf8(t));
    return out;
}

template <typename T> T *find(const QObject *root, const QString &name)
{
    // Widgets replaced by a rebuild are deleted later: let that happen first.
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    T *w = root->findChild<T *>(name);
    if (!w)
        qFatal("no %s named %s", T::staticMetaObject.className(), qPrintable(name));
    return w;
}

// Types like a keyboard; QTest::keyClicks only knows ASCII.
inline void typeText(QWidget *input, const QString &text)
{
    for (const QChar c : text) {
        if (c == QLatin1Char('\n'))
            QTest::keyClick(input, Qt::Key_Return);
        else if (c.unicode() < 128)
            QTest::keyClick(input, char(c.unicode()));
        else
            QTest::sendKeyEvent(QTest::Click, input, Qt::Key_unknown, QString(c), Qt::NoModifier);
    }
}

// Replaces the text of an input the way a person does: select all, type.
inline void retype(QWidget *input, const QString &text)
{
    input->setFocus();
    if (auto *edit = qobject_cast<QLineEdit *>(input)) {
        edit->selectAll();
        if (text.isEmpty())
            QTest::keyClick(edit, Qt::Key_Backspace);
    } else if (auto *plain = qobject_cast<QPlainTextEdit *>(input)) {
        plain->selectAll();
        if (text.isEmpty())
            QTest::keyClick(plain, Qt::Key_Backspace);
    } else if (auto *spin = qobject_cast<QAbstractSpinBox *>(input)) {
        spin->selectAll();
        if (text.isEmpty())
            QTest::keyClick(spin, Qt::Key_Backspace);
    }
    typeText(input, text);
}

inline void click(QAbstractButton *button)
{
    QTest::mouseClick(button, Qt::LeftButton);
}

inline void choose(QComboBox *combo, int data)
{
    combo->setCurrentIndex(combo->findData(data));
}

inline QString errorText(const QObject *root, const QString &label)
{
    auto *l = find<QLabel>(root, label);
    return l->isHidden() ? QString() : l->text();
}

inline QByteArray wire(const Distributions &d)
{
    return json::write(codec::encode(d));
}

inline QCborValue parse(const QByteArray &text)
{
    json::ParseError e;
    QCborValue v = json::parse(text, &e);
    if (e.isError())
        qFatal("bad JSON in test: %s", qPrintable(e.message));
    return v;
}

// Adds a hyperparameter by typing: Add, name, kind, arguments.
inline void fill(DistributionEditor &editor, const QString &name, Kind kind, const QStringList &args,
                 const QStringList &weights = {})
{
    click(find<QPushButton>(&editor, QStringLiteral("addButton")));
    retype(find<QLineEdit>(&editor, QStringLiteral("nameEdit")), name);
    choose(find<QComboBox>(&editor, QStringLiteral("kindCombo")), int(kind));
    switch (kind) {
    case Kind::Uniform:
    case Kind::LogUniform:
        retype(find<QLineEdit>(&editor, QStringLiteral("lowEdit")), args.value(0));
        retype(find<QLineEdit>(&editor, QStringLiteral("highEdit")), args.value(1));
        break;
    case Kind::Normal:
        retype(find<QLineEdit>(&editor, QStringLiteral("meanEdit")), args.value(0));
        retype(find<QLineEdit>(&editor, QStringLiteral("stdEdit")), args.value(1));
        break;
    case Kind::Choice:
        if (!weights.isEmpty())
            click(find<QCheckBox>(&editor, QStringLiteral("weightedCheck")));
        for (int i = 0; i < args.size(); ++i) {
            if (i > 0)
                click(find<QPushButton>(&editor, QStringLiteral("addValueButton")));
            retype(find<QLineEdit>(&editor, QStringLiteral("choiceValue%1").arg(i)), args[i]);
            if (!weights.isEmpty())
                retype(find<QLineEdit>(&editor, QStringLiteral("choiceWeight%1").arg(i)), weights.value(i));
        }
        break;
    case Kind::Const:
        retype(find<QPlainTextEdit>(&editor, QStringLiteral("constEdit")), args.value(0));
        break;
    }
}

} // namespace schedy::test
