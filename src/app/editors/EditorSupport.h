#pragma once

#include "Codec.h"
#include "DocumentChanges.h"

#include <QCborValue>
#include <QString>
#include <QStringList>

#include <optional>

class QLabel;
class QPlainTextEdit;
class QWidget;

// Helpers shared by the editors: how typed text becomes numbers and JSON
// values, how a problem is shown next to the field, and how two documents
// differ. The wire format itself stays in the core codec.
namespace schedy::editors {

// The footer line of an editor dialog: its own status message if it has one,
// else the first problems ("… and N more"), else "Not connected" when there
// is no client. `error`: the text is shown in red.
struct Footer
{
    QString text;
    bool error = false;
};
Footer footer(const QString &status, bool statusIsError, const QStringList &problems, bool connected);
// Shows a footer: red for an error, grey for a hint, plain otherwise.
void showFooter(QLabel *label, const QString &text, bool error, bool hint = false);

// A number as the editors show it: the shortest text that reads back to the
// same double ("0.1", "1e-06", "5.0").
QString numberText(double value);
// A number typed by a person ("0.5", "1e-6", ".5", "3"); empty text, words or
// JSON that is not a number set *error. NaN and infinities are returned as
// such: the codec says why they are refused.
std::optional<double> parseNumber(const QString &text, QString *error);
// A JSON value as one line of text, exactly as it goes on the wire.
QString valueText(const QCborValue &value);
// Any JSON value typed by a person; *error explains malformed input (and that
// text needs quotes).
std::optional<QCborValue> parseValue(const QString &text, QString *error);

// Shows or clears a problem: a tinted input with the message as tooltip, and
// the message in `label` (hidden when there is none).
void markInvalid(QWidget *input, const QString &message);
void showMessage(QLabel *label, const QString &message);
bool isMarkedInvalid(const QWidget *input);
// Styles every QLabel under `root` whose object name ends in "Error" as an
// error message (red, wrapped) and hides it until there is something to say.
void prepareMessageLabels(QWidget *root);

// When problems show: a fresh form is not a list of mistakes, so a field's
// message waits until the user has edited that field (setTouched) or tried to
// save (revealProblems on the dialog, which reveals everything under it).
// Save stays disabled meanwhile; its tooltip says what is missing.
void setTouched(QWidget *input, bool touched = true);
// The input itself was touched, or an ancestor had its problems revealed.
bool isTouched(const QWidget *input);
void revealProblems(QWidget *root, bool reveal = true);
bool problemsRevealed(const QWidget *widget);
// `message` when `input` is touched, else nothing.
QString shownProblem(const QWidget *input, const QString &message);

// Asks before a dialog drops what the user typed (Esc, Cancel, the window's close button):
// true to discard. "Keep editing" is the default and Esc's answer.
bool confirmDiscard(QWidget *dialog, const QString &question);

// Shows lines in a read-only text box as tall as they need (up to `maxLines`, then it scrolls).
void showLines(QPlainTextEdit *box, const QStringList &lines, int maxLines = 6);

// The last component of a codec path ("a.b.low" -> "low", "x.weights[2]" -> "weights[2]").
QString lastPathComponent(const QString &path);

// A field of a definition or job as the form labels it, from its wire path
// split into keys ({"PBT", "exploit", "truncate"} -> "Truncate proportion",
// {"PBT", "init", "lr", "low"} -> "Initial distribution of lr, low"). The
// footers and tooltips use it; only the JSON tab speaks in wire paths. The
// keys come split so that a hyperparameter name may contain dots.
QString fieldLabel(const QStringList &path);
// "label: message" for a problem with the field at `path`.
QString fieldProblem(const QStringList &path, const QString &message);

// What differs between two documents (DocumentChanges.h, Widgets-free for the session).
using schedy::describeChanges;

} // namespace schedy::editors
