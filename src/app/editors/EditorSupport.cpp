#include "EditorSupport.h"

#include "Json.h"

#include <QCoreApplication>
#include <QLabel>
#include <QLocale>
#include <QPalette>
#include <QPlainTextEdit>
#include <QRegularExpression>
#include <QWidget>

#include <algorithm>

namespace schedy::editors {

namespace {
QString tr(const char *text)
{
    return QCoreApplication::translate("schedy::editors", text);
}

QString shortText(const QCborValue &v)
{
    QString s = valueText(v);
    if (s.size() > 60)
        s = s.left(57) + QStringLiteral("…");
    return s;
}

QString join(const QString &path, const QString &key)
{
    return path.isEmpty() ? key : path + QLatin1Char('.') + key;
}
} // namespace

QString numberText(double value)
{
    return json::formatDouble(value);
}

std::optional<double> parseNumber(const QString &text, QString *error)
{
    const QString t = text.trimmed();
    if (t.isEmpty()) {
        *error = tr("enter a number");
        return std::nullopt;
    }
    json::ParseError pe;
    const QCborValue v = json::parse(t.toUtf8(), &pe);
    if (!pe.isError() && json::isNumber(v))
        return json::toDouble(v);
    // What people type but JSON refuses: ".5", "5.", "+1", "1E3".
    bool ok = false;
    const double d = QLocale::c().toDouble(t, &ok);
    if (ok)
        return d;
    *error = tr("must be a number");
    return std::nullopt;
}

QString valueText(const QCborValue &value)
{
    return QString::fromUtf8(json::write(value));
}

std::optional<QCborValue> parseValue(const QString &text, QString *error)
{
    const QString t = text.trimmed();
    if (t.isEmpty()) {
        *error = tr("enter a JSON value");
        return std::nullopt;
    }
    const auto parsed = codec::parseJson(t.toUtf8());
    if (parsed)
        return parsed.value();
    // The common slip: text without quotes.
    static const QRegularExpression word(QStringLiteral("^[^\"\\[\\]{}:,]+$"));
    if (word.match(t).hasMatch())
        *error = tr("not JSON: write text in quotes, \"%1\"").arg(t);
    else
        *error = tr("not JSON: %1").arg(parsed.error().reason);
    return std::nullopt;
}

void markInvalid(QWidget *input, const QString &message)
{
    if (!input)
        return;
    const bool invalid = !message.isEmpty();
    if (invalid == isMarkedInvalid(input) && input->toolTip() == message)
        return;
    input->setProperty("invalid", invalid);
    input->setToolTip(message);
    if (invalid) {
        QPalette p = input->palette();
        p.setColor(QPalette::Base, QColor(0xfd, 0xec, 0xea));
        input->setPalette(p);
    } else {
        input->setPalette(QPalette()); // back to the inherited palette
    }
}

bool isMarkedInvalid(const QWidget *input)
{
    return input && input->property("invalid").toBool();
}

void showMessage(QLabel *label, const QString &message)
{
    if (!label)
        return;
    label->setText(message);
    label->setVisible(!message.isEmpty());
}

void prepareMessageLabels(QWidget *root)
{
    const auto labels = root->findChildren<QLabel *>();
    for (QLabel *label : labels) {
        if (!label->objectName().endsWith(QLatin1String("Error")))
            continue;
        QPalette p = label->palette();
        p.setColor(QPalette::WindowText, QColor(0xc6, 0x28, 0x28));
        label->setPalette(p);
        label->setWordWrap(true);
        label->setTextInteractionFlags(Qt::TextSelectableByMouse);
        label->hide();
    }
}

void setTouched(QWidget *input, bool touched)
{
    if (input)
        input->setProperty("touched", touched);
}

bool problemsRevealed(const QWidget *widget)
{
    for (const QWidget *w = widget; w; w = w->parentWidget()) {
        if (w->property("problemsRevealed").toBool())
            return true;
    }
    return false;
}

bool isTouched(const QWidget *input)
{
    return input && (input->property("touched").toBool() || problemsRevealed(input));
}

void revealProblems(QWidget *root, bool reveal)
{
    if (root)
        root->setProperty("problemsRevealed", reveal);
}

QString shownProblem(const QWidget *input, const QString &message)
{
    return isTouched(input) ? message : QString();
}

void showLines(QPlainTextEdit *box, const QStringList &lines, int maxLines)
{
    box->setPlainText(lines.join(QLatin1Char('\n')));
    const int shown = int(std::clamp<qsizetype>(lines.size(), 1, maxLines));
    const QMargins m = box->contentsMargins();
    box->setFixedHeight(box->fontMetrics().lineSpacing() * shown +
                        int(box->document()->documentMargin() * 2) + m.top() + m.bottom() + 2);
}

QString lastPathComponent(const QString &path)
{
    const qsizetype dot = path.lastIndexOf(QLatin1Char('.'));
    return dot < 0 ? path : path.mid(dot + 1);
}

QStringList describeChanges(const QCborValue &before, const QCborValue &after, const QString &path)
{
    QStringList out;
    const QString where = path.isEmpty() ? tr("document") : path;
    if (before.isMap() && after.isMap()) {
        const QCborMap a = before.toMap();
        const QCborMap b = after.toMap();
        for (auto it = a.begin(); it != a.end(); ++it) {
            const QString key = it.key().toString();
            if (!b.contains(it.key()))
                out.append(tr("%1: removed (was %2)").arg(join(path, key), shortText(it.value())));
            else
                out += describeChanges(it.value(), b.value(it.key()), join(path, key));
        }
        for (auto it = b.begin(); it != b.end(); ++it) {
            if (!a.contains(it.key()))
                out.append(tr("%1: added %2").arg(join(path, it.key().toString()), shortText(it.value())));
        }
        return out;
    }
    // Same number written differently (1 and 1.0) is not a change worth reporting.
    if (json::isNumber(before) && json::isNumber(after) && json::toDouble(before) == json::toDouble(after))
        return out;
    if (before != after)
        out.append(tr("%1: %2 → %3").arg(where, shortText(before), shortText(after)));
    return out;
}

} // namespace schedy::editors
