#include "EditorSupport.h"

#include "Json.h"

#include <QCoreApplication>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPalette>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QWidget>

#include <algorithm>

namespace schedy::editors {

namespace {
QString tr(const char *text)
{
    return QCoreApplication::translate("schedy::editors", text);
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

namespace {
// One field of a distribution row, as labelled in the distribution editor.
QString distributionFieldLabel(const QString &key)
{
    static const QRegularExpression indexed(QStringLiteral("^(values|weights)\\[(\\d+)\\]$"));
    if (const QRegularExpressionMatch m = indexed.match(key); m.hasMatch()) {
        const int n = m.captured(2).toInt() + 1; // the table's rows count from 1
        return m.captured(1) == QLatin1String("values") ? tr("value %1").arg(n) : tr("weight %1").arg(n);
    }
    if (key == QLatin1String("std"))
        return tr("std. deviation");
    if (key == QLatin1String("const"))
        return tr("value");
    if (key == QLatin1String("values"))
        return tr("values");
    return key; // name, low, high, mean: the labels say the same
}

// {name} or {name, field}: a hyperparameter row of a distribution editor. Empty when unknown.
QString distributionLabel(const QStringList &path)
{
    if (path.size() == 1)
        return path.first();
    if (path.size() == 2)
        return tr("%1, %2").arg(path[0], distributionFieldLabel(path[1]));
    return {};
}

// A PBT setting (the path below "PBT"). Empty when unknown.
QString pbtLabel(const QStringList &path)
{
    const QString head = path.value(0);
    if (path == QStringList{QStringLiteral("qualityResultName")})
        return tr("Quality result");
    if (path == QStringList{QStringLiteral("exploit"), QStringLiteral("truncate")})
        return tr("Truncate proportion");
    if (head == QLatin1String("explore") && path.size() == 2)
        return tr("Explore %1").arg(path[1]);
    if (head == QLatin1String("explore") && path.size() == 3) {
        if (path[2] == QLatin1String("minFactor"))
            return tr("Explore %1, min factor").arg(path[1]);
        if (path[2] == QLatin1String("maxFactor"))
            return tr("Explore %1, max factor").arg(path[1]);
    }
    if (head == QLatin1String("init")) {
        if (const QString row = distributionLabel(path.mid(1)); !row.isEmpty())
            return tr("Initial distribution of %1").arg(row);
    }
    return {};
}
} // namespace

QString fieldLabel(const QStringList &path)
{
    const QString head = path.value(0);
    const QStringList rest = path.mid(1);
    if (rest.isEmpty())
        return head;
    // The scheduler combo already says which scheduler it is.
    QString label;
    if (head == QLatin1String("RandomSearch"))
        label = distributionLabel(rest);
    else if (head == QLatin1String("PBT"))
        label = pbtLabel(rest);
    if (!label.isEmpty())
        return label;
    // The job dialog's group boxes.
    if (head == QLatin1String("hyperparameters"))
        return tr("Hyperparameters, %1").arg(rest.join(QLatin1Char('.')));
    if (head == QLatin1String("results"))
        return tr("Results, %1").arg(rest.join(QLatin1Char('.')));
    return path.join(QLatin1Char('.')); // unknown: the wire path is still better than nothing
}

QString fieldProblem(const QStringList &path, const QString &message)
{
    return tr("%1: %2").arg(fieldLabel(path), message);
}

bool confirmDiscard(QWidget *dialog, const QString &question)
{
    QMessageBox box(QMessageBox::Question, tr("Discard changes?"), question, QMessageBox::NoButton, dialog);
    box.setObjectName(QStringLiteral("discardQuestion"));
    QPushButton *discard = box.addButton(tr("Discard"), QMessageBox::DestructiveRole);
    QPushButton *keep = box.addButton(tr("Keep editing"), QMessageBox::RejectRole);
    box.setDefaultButton(keep);
    box.setEscapeButton(keep);
    box.exec();
    return box.clickedButton() == discard;
}

Footer footer(const QString &status, bool statusIsError, const QStringList &problems, bool connected)
{
    constexpr int MaxListedProblems = 3;
    if (!status.isEmpty())
        return {status, statusIsError};
    if (!problems.isEmpty()) {
        QString text = problems.mid(0, MaxListedProblems).join(QLatin1Char('\n'));
        if (problems.size() > MaxListedProblems)
            text +=
                QLatin1Char('\n') + QCoreApplication::translate("schedy::editors", "… and %n more", nullptr,
                                                                int(problems.size() - MaxListedProblems));
        return {text, true};
    }
    if (!connected)
        return {tr("Not connected to a server."), true};
    return {};
}

void showFooter(QLabel *label, const QString &text, bool error, bool hint)
{
    label->setText(text);
    // The dialog's colours: the label's own WindowText may be a former red.
    const QPalette &dialog = label->window()->palette();
    QPalette p = label->palette();
    p.setColor(QPalette::WindowText, error  ? QColor(0xc6, 0x28, 0x28)
                                     : hint ? dialog.color(QPalette::PlaceholderText)
                                            : dialog.color(QPalette::WindowText));
    label->setPalette(p);
}

} // namespace schedy::editors
