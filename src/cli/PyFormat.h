#pragma once

#include <QCborValue>
#include <QString>

// How the original command line (Python) turned values into text: str() and
// repr() of what json.loads gives, json.dumps with its default options, and
// format(x, "g"). The output of `schedy list/show/push` depends on them.
namespace schedy::cli::py {

// str(value): strings as they are, 0.1, 1e-06, 5.0, True, None, [0.9, 0.5], {'k': 1}.
QString str(const QCborValue &value);
// repr(value): like str() but strings are quoted ('relu').
QString repr(const QCborValue &value);
// repr() of a float: shortest round trip, exponent below 1e-4 and from 1e16, "nan", "inf".
QString floatRepr(double value);
// repr() of a string: single quotes unless it holds ' and no ".
QString stringRepr(const QString &text);
// json.dumps(value): ", " and ": " separators, ASCII only, NaN/Infinity as Python writes them.
QString jsonDumps(const QCborValue &value);
// format(value, "g").
QString formatG(double value);

// What Python's int(text) and float(text) accept (surrounding whitespace, '_' between digits).
bool parsesAsInt(const QString &text);
bool parsesAsFloat(const QString &text, double *value = nullptr);

// Python's str.strip() of whitespace.
QString strip(const QString &text);
// len() of a str: code points, not UTF-16 units.
qsizetype length(const QString &text);

} // namespace schedy::cli::py
