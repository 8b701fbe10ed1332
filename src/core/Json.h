#pragma once

#include <QByteArray>
#include <QCborArray>
#include <QCborMap>
#include <QCborValue>
#include <QString>

// The one place that reads and writes JSON text. Qt's own writer turns the
// float 1.0 into "1" and NaN into null, and its parser rejects the NaN and
// Infinity that Python's json module emits by default; both would break the
// rule that numbers keep their identity, so we parse and write ourselves.
namespace schedy::json {

struct ParseError
{
    qsizetype offset = -1;
    QString message; // empty when there was no error
    bool isError() const { return !message.isEmpty(); }
};

// Parses one JSON text. Integers that fit in 64 bits become integer values,
// larger ones CBOR bignums (kept exactly and written back digit for digit,
// but no number to isNumber(): nothing computes with them), anything with a
// fraction or exponent becomes a double. NaN, Infinity and -Infinity are
// accepted as Python writes them.
QCborValue parse(const QByteArray &text, ParseError *error = nullptr);
// The same for the one value at the start of [begin, end) (spaces before it are
// skipped, text after it is left): *stop is set just past the value. `depth` is
// how deeply the value is nested in its document (the nesting limit counts it).
// For decoders that walk a large document themselves.
QCborValue parseValueAt(const char *begin, const char *end, const char **stop, int depth = 0,
                        ParseError *error = nullptr);

// The key of a map entry as text (JSON keys are always strings).
inline QString keyText(const QCborValue &key)
{
    return key.toString();
}

// Compact text. Doubles are written in the shortest form that reads back to
// the same value and always look like floats ("1.0", "1e+20").
QByteArray write(const QCborValue &value);
QByteArray write(const QCborMap &object);
QByteArray write(const QCborArray &array);

// Indented text for people (the dashboard's "copy as JSON", the CLI).
QByteArray writeIndented(const QCborValue &value, int indent = 2);

inline bool isInteger(const QCborValue &value)
{
    return value.isInteger();
}
inline bool isNumber(const QCborValue &value)
{
    return value.isInteger() || value.isDouble();
}
// Any number as a double (integers converted, bignums rounded); NaN for anything else.
double toDouble(const QCborValue &value);
// Exactly representable 64-bit integer, also from an integral double.
bool toInteger(const QCborValue &value, qint64 *out);
QString formatDouble(double value);

} // namespace schedy::json
