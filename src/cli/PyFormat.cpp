#include "PyFormat.h"

#include <QCborArray>
#include <QCborMap>
#include <QLocale>

#include <charconv>
#include <cmath>

namespace schedy::cli::py {

namespace {

bool isPySpace(char32_t c)
{
    if (c >= 0x1c && c <= 0x1f)
        return true;
    return QChar::isSpace(c);
}

// Decimal digit value of a code point (Python accepts every Unicode Nd digit), or -1.
int digitValue(char32_t c)
{
    if (c >= '0' && c <= '9')
        return int(c - '0');
    if (c < 0x80)
        return -1;
    if (QChar::category(c) != QChar::Number_DecimalDigit)
        return -1;
    return QChar::digitValue(c);
}

// Parses digits with single '_' between them; appends ASCII digits to `out`.
// Returns the index after the digits, or -1 when there are none or '_' is misplaced.
qsizetype readDigits(const std::u32string &s, qsizetype i, std::string *out)
{
    const qsizetype start = i;
    while (i < qsizetype(s.size())) {
        const int d = digitValue(s[size_t(i)]);
        if (d >= 0) {
            out->push_back(char('0' + d));
            ++i;
        } else if (s[size_t(i)] == U'_' && i > start && i + 1 < qsizetype(s.size()) &&
                   digitValue(s[size_t(i + 1)]) >= 0) {
            ++i;
        } else {
            break;
        }
    }
    return i == start ? -1 : i;
}

std::u32string stripped(const QString &text)
{
    const QList<uint> ucs = text.toUcs4();
    qsizetype b = 0, e = ucs.size();
    while (b < e && isPySpace(ucs[b]))
        ++b;
    while (e > b && isPySpace(ucs[e - 1]))
        --e;
    std::u32string s;
    for (qsizetype i = b; i < e; ++i)
        s.push_back(char32_t(ucs[i]));
    return s;
}

void appendRepr(QString &out, const QCborValue &v);

void appendPyJson(QString &out, const QCborValue &v)
{
    switch (v.type()) {
    case QCborValue::Integer:
        out += QString::number(v.toInteger());
        return;
    case QCborValue::Double: {
        const double d = v.toDouble();
        if (std::isnan(d))
            out += QStringLiteral("NaN");
        else if (std::isinf(d))
            out += d > 0 ? QStringLiteral("Infinity") : QStringLiteral("-Infinity");
        else
            out += floatRepr(d);
        return;
    }
    case QCborValue::True:
        out += QStringLiteral("true");
        return;
    case QCborValue::False:
        out += QStringLiteral("false");
        return;
    case QCborValue::String: {
        const QString s = v.toString();
        out += QLatin1Char('"');
        for (const QChar c : s) {
            const char16_t u = c.unicode();
            switch (u) {
            case '"':
                out += QStringLiteral("\\\"");
                break;
            case '\\':
                out += QStringLiteral("\\\\");
                break;
            case '\n':
                out += QStringLiteral("\\n");
                break;
            case '\r':
                out += QStringLiteral("\\r");
                break;
            case '\t':
                out += QStringLiteral("\\t");
                break;
            case '\b':
                out += QStringLiteral("\\b");
                break;
            case '\f':
                out += QStringLiteral("\\f");
                break;
            default:
                if (u < 0x20 || u > 0x7e)
                    out += QStringLiteral("\\u%1").arg(uint(u), 4, 16, QLatin1Char('0'));
                else
                    out += c;
            }
        }
        out += QLatin1Char('"');
        return;
    }
    case QCborValue::Array: {
        out += QLatin1Char('[');
        bool first = true;
        for (const QCborValue &item : v.toArray()) {
            if (!first)
                out += QStringLiteral(", ");
            first = false;
            appendPyJson(out, item);
        }
        out += QLatin1Char(']');
        return;
    }
    case QCborValue::Map: {
        out += QLatin1Char('{');
        bool first = true;
        const QCborMap m = v.toMap();
        for (auto it = m.begin(); it != m.end(); ++it) {
            if (!first)
                out += QStringLiteral(", ");
            first = false;
            appendPyJson(out, QCborValue(it.key().toString()));
            out += QStringLiteral(": ");
            appendPyJson(out, it.value());
        }
        out += QLatin1Char('}');
        return;
    }
    default:
        out += QStringLiteral("null");
    }
}

void appendRepr(QString &out, const QCborValue &v)
{
    switch (v.type()) {
    case QCborValue::Integer:
        out += QString::number(v.toInteger());
        return;
    case QCborValue::Double:
        out += floatRepr(v.toDouble());
        return;
    case QCborValue::True:
        out += QStringLiteral("True");
        return;
    case QCborValue::False:
        out += QStringLiteral("False");
        return;
    case QCborValue::String:
        out += stringRepr(v.toString());
        return;
    case QCborValue::Array: {
        out += QLatin1Char('[');
        bool first = true;
        for (const QCborValue &item : v.toArray()) {
            if (!first)
                out += QStringLiteral(", ");
            first = false;
            appendRepr(out, item);
        }
        out += QLatin1Char(']');
        return;
    }
    case QCborValue::Map: {
        out += QLatin1Char('{');
        bool first = true;
        const QCborMap m = v.toMap();
        for (auto it = m.begin(); it != m.end(); ++it) {
            if (!first)
                out += QStringLiteral(", ");
            first = false;
            out += stringRepr(it.key().toString());
            out += QStringLiteral(": ");
            appendRepr(out, it.value());
        }
        out += QLatin1Char('}');
        return;
    }
    default:
        out += QStringLiteral("None");
    }
}

bool isPrintable(char32_t c)
{
    if (c == U' ')
        return true;
    switch (QChar::category(c)) {
    case QChar::Other_Control:
    case QChar::Other_Format:
    case QChar::Other_Surrogate:
    case QChar::Other_PrivateUse:
    case QChar::Other_NotAssigned:
    case QChar::Separator_Line:
    case QChar::Separator_Paragraph:
    case QChar::Separator_Space:
        return false;
    default:
        return true;
    }
}

} // namespace

QString floatRepr(double d)
{
    if (std::isnan(d))
        return QStringLiteral("nan");
    if (std::isinf(d))
        return d > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    if (d == 0)
        return std::signbit(d) ? QStringLiteral("-0.0") : QStringLiteral("0.0");
    // Shortest digits that read back to the same double, as "d.ddde+XX".
    const QString sci = QLocale::c().toString(std::fabs(d), 'e', QLocale::FloatingPointShortest);
    const qsizetype ePos = sci.indexOf(QLatin1Char('e'));
    QString digits = sci.left(ePos);
    digits.remove(QLatin1Char('.'));
    const int exponent = sci.mid(ePos + 1).toInt();
    QString out = d < 0 ? QStringLiteral("-") : QString();
    if (exponent < -4 || exponent >= 16) {
        out += digits.left(1);
        if (digits.size() > 1)
            out += QLatin1Char('.') + digits.mid(1);
        out += QLatin1Char('e') + QLatin1Char(exponent < 0 ? '-' : '+');
        out += QStringLiteral("%1").arg(std::abs(exponent), 2, 10, QLatin1Char('0'));
        return out;
    }
    const int point = exponent + 1; // digits before the decimal point
    if (point <= 0)
        out += QStringLiteral("0.") + QString(-point, QLatin1Char('0')) + digits;
    else if (point >= digits.size())
        out += digits + QString(point - digits.size(), QLatin1Char('0')) + QStringLiteral(".0");
    else
        out += digits.left(point) + QLatin1Char('.') + digits.mid(point);
    return out;
}

QString stringRepr(const QString &text)
{
    const bool useDouble = text.contains(QLatin1Char('\'')) && !text.contains(QLatin1Char('"'));
    const QChar quote = useDouble ? QLatin1Char('"') : QLatin1Char('\'');
    QString out = quote;
    for (const uint c : text.toUcs4()) {
        if (c == quote.unicode() || c == '\\') {
            out += QLatin1Char('\\') + QChar(char16_t(c));
        } else if (c == '\n') {
            out += QStringLiteral("\\n");
        } else if (c == '\r') {
            out += QStringLiteral("\\r");
        } else if (c == '\t') {
            out += QStringLiteral("\\t");
        } else if (c < 0x20 || c == 0x7f) {
            out += QStringLiteral("\\x%1").arg(c, 2, 16, QLatin1Char('0'));
        } else if (c < 0x7f) {
            out += QChar(char16_t(c));
        } else if (!isPrintable(char32_t(c))) {
            if (c <= 0xff)
                out += QStringLiteral("\\x%1").arg(c, 2, 16, QLatin1Char('0'));
            else if (c <= 0xffff)
                out += QStringLiteral("\\u%1").arg(c, 4, 16, QLatin1Char('0'));
            else
                out += QStringLiteral("\\U%1").arg(c, 8, 16, QLatin1Char('0'));
        } else {
            const char32_t cp = char32_t(c);
            out += QString::fromUcs4(&cp, 1);
        }
    }
    out += quote;
    return out;
}

QString repr(const QCborValue &value)
{
    QString out;
    appendRepr(out, value);
    return out;
}

QString str(const QCborValue &value)
{
    if (value.isString())
        return value.toString();
    return repr(value);
}

QString jsonDumps(const QCborValue &value)
{
    QString out;
    appendPyJson(out, value);
    return out;
}

QString formatG(double value)
{
    if (std::isnan(value))
        return QStringLiteral("nan");
    if (std::isinf(value))
        return value > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    // printf's %g, without the locale's decimal separator.
    char buffer[64];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, 6);
    return QString::fromLatin1(buffer, r.ptr - buffer);
}

bool parsesAsInt(const QString &text)
{
    const std::u32string s = stripped(text);
    qsizetype i = 0;
    if (i < qsizetype(s.size()) && (s[0] == U'+' || s[0] == U'-'))
        ++i;
    std::string digits;
    const qsizetype end = readDigits(s, i, &digits);
    return end == qsizetype(s.size());
}

bool parsesAsFloat(const QString &text, double *value)
{
    const std::u32string s = stripped(text);
    qsizetype i = 0;
    std::string ascii;
    if (i < qsizetype(s.size()) && (s[0] == U'+' || s[0] == U'-')) {
        if (s[0] == U'-')
            ascii.push_back('-');
        ++i;
    }
    // inf, infinity, nan in any case.
    QString rest;
    for (qsizetype k = i; k < qsizetype(s.size()); ++k) {
        const char32_t c = s[size_t(k)];
        rest += QString::fromUcs4(&c, 1);
    }
    const QString lower = rest.toLower();
    if (lower == QLatin1String("inf") || lower == QLatin1String("infinity")) {
        if (value)
            *value = ascii.empty() ? INFINITY : -INFINITY;
        return true;
    }
    if (lower == QLatin1String("nan")) {
        if (value)
            *value = NAN;
        return true;
    }
    std::string mantissa;
    bool any = false;
    qsizetype k = i;
    const qsizetype afterInt = readDigits(s, k, &mantissa);
    if (afterInt >= 0) {
        k = afterInt;
        any = true;
    }
    if (k < qsizetype(s.size()) && s[size_t(k)] == U'.') {
        mantissa.push_back('.');
        ++k;
        const qsizetype afterFrac = readDigits(s, k, &mantissa);
        if (afterFrac >= 0) {
            k = afterFrac;
            any = true;
        }
    }
    if (!any)
        return false;
    if (k < qsizetype(s.size()) && (s[size_t(k)] == U'e' || s[size_t(k)] == U'E')) {
        mantissa.push_back('e');
        ++k;
        if (k < qsizetype(s.size()) && (s[size_t(k)] == U'+' || s[size_t(k)] == U'-')) {
            mantissa.push_back(char(s[size_t(k)]));
            ++k;
        }
        const qsizetype afterExp = readDigits(s, k, &mantissa);
        if (afterExp < 0)
            return false;
        k = afterExp;
    }
    if (k != qsizetype(s.size()))
        return false;
    if (value) {
        const std::string number = ascii + mantissa;
        *value = 0;
        const auto r = std::from_chars(number.data(), number.data() + number.size(), *value);
        if (r.ec == std::errc::result_out_of_range) {
            // Beyond the range of a double: Python gives inf, or 0 for a tiny value.
            const bool tiny = mantissa.find("e-") != std::string::npos;
            *value = tiny ? 0.0 : (ascii.empty() ? INFINITY : -INFINITY);
        }
    }
    return true;
}

QString strip(const QString &text)
{
    const std::u32string s = stripped(text);
    return QString::fromUcs4(s.data(), qsizetype(s.size()));
}

qsizetype length(const QString &text)
{
    qsizetype n = 0;
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text.at(i).isHighSurrogate() && i + 1 < text.size() && text.at(i + 1).isLowSurrogate())
            ++i;
        ++n;
    }
    return n;
}

} // namespace schedy::cli::py
