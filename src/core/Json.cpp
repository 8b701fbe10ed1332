#include "Json.h"

#include <QLocale>

#include <algorithm>
#include <vector>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

namespace schedy::json {
namespace {

// Integers beyond 64 bits, as CBOR bignums (RFC 8949 3.4.3): the magnitude in
// big-endian bytes; a negative one stores -1 - n. Decimal conversions by
// schoolbook arithmetic on 32-bit limbs, least significant first.
QCborValue bigInteger(QByteArrayView decimal)
{
    const bool negative = decimal.startsWith('-');
    std::vector<quint32> limbs;
    for (const char c : decimal.sliced(negative ? 1 : 0)) {
        quint64 carry = quint64(c - '0');
        for (quint32 &limb : limbs) {
            const quint64 v = quint64(limb) * 10 + carry;
            limb = quint32(v);
            carry = v >> 32;
        }
        if (carry)
            limbs.push_back(quint32(carry));
    }
    if (negative) { // n - 1; n is at least 2^63 here, so there is no borrow out
        for (quint32 &limb : limbs) {
            if (limb-- != 0)
                break;
        }
    }
    QByteArray bytes;
    for (auto it = limbs.rbegin(); it != limbs.rend(); ++it)
        for (int shift = 24; shift >= 0; shift -= 8)
            bytes.append(char((*it >> shift) & 0xff));
    while (bytes.size() > 1 && bytes.front() == 0)
        bytes.remove(0, 1);
    return QCborValue(negative ? QCborKnownTags::NegativeBignum : QCborKnownTags::PositiveBignum, bytes);
}

bool isBignum(const QCborValue &v)
{
    return v.isTag() && v.taggedValue().isByteArray() &&
           (v.tag() == QCborTag(QCborKnownTags::PositiveBignum) ||
            v.tag() == QCborTag(QCborKnownTags::NegativeBignum));
}

QByteArray bignumDecimal(const QCborValue &v)
{
    const QByteArray bytes = v.taggedValue().toByteArray();
    std::vector<quint32> limbs; // most significant first, for the long division
    limbs.reserve(size_t(bytes.size() / 4 + 1));
    const qsizetype head = bytes.size() % 4;
    for (qsizetype i = head ? head - 4 : 0; i < bytes.size(); i += 4) {
        quint32 limb = 0;
        for (qsizetype j = i; j < i + 4; ++j)
            limb = (limb << 8) | (j < 0 ? 0u : quint32(quint8(bytes[j])));
        limbs.push_back(limb);
    }
    const bool negative = v.tag() == QCborTag(QCborKnownTags::NegativeBignum);
    if (negative) { // n + 1
        bool carry = true;
        for (auto it = limbs.rbegin(); carry && it != limbs.rend(); ++it)
            carry = ++*it == 0;
        if (carry)
            limbs.insert(limbs.begin(), 1u);
    }
    QByteArray digits;
    const auto isZero = [&] {
        return std::all_of(limbs.begin(), limbs.end(), [](quint32 l) { return l == 0; });
    };
    do {
        quint64 remainder = 0;
        for (quint32 &limb : limbs) {
            const quint64 v = (remainder << 32) | limb;
            limb = quint32(v / 1000000000u);
            remainder = v % 1000000000u;
        }
        QByteArray chunk = QByteArray::number(remainder);
        if (!isZero())
            chunk.prepend(QByteArray(9 - chunk.size(), '0'));
        digits.prepend(chunk);
    } while (!isZero());
    if (negative)
        digits.prepend('-');
    return digits;
}

constexpr int MaxDepth = 256;

class Parser
{
public:
    explicit Parser(const QByteArray &text)
        : m_p(text.constData())
        , m_begin(text.constData())
        , m_end(text.constData() + text.size())
    {}
    Parser(const char *begin, const char *end)
        : m_p(begin)
        , m_begin(begin)
        , m_end(end)
    {}

    // One value at the start of the text (after spaces); *stop is just past it.
    QCborValue parsePrefix(int depth, const char **stop, ParseError *error)
    {
        skipSpace();
        QCborValue v = parseValue(depth);
        *stop = m_p;
        if (error) {
            error->message = m_error;
            error->offset = m_error.isEmpty() ? -1 : m_errorAt - m_begin;
        }
        return m_error.isEmpty() ? v : QCborValue(QCborValue::Undefined);
    }

    QCborValue parseDocument(ParseError *error)
    {
        skipSpace();
        QCborValue v = parseValue(0);
        if (m_error.isEmpty()) {
            skipSpace();
            if (m_p != m_end)
                fail(QStringLiteral("unexpected text after the JSON value"));
        }
        if (error) {
            error->message = m_error;
            error->offset = m_error.isEmpty() ? -1 : m_errorAt - m_begin;
        }
        return m_error.isEmpty() ? v : QCborValue(QCborValue::Undefined);
    }

private:
    void fail(const QString &message)
    {
        if (m_error.isEmpty()) {
            m_error = message;
            m_errorAt = m_p;
        }
    }

    void skipSpace()
    {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\t' || *m_p == '\n' || *m_p == '\r'))
            ++m_p;
    }

    bool consumeWord(const char *word)
    {
        const qsizetype n = qsizetype(qstrlen(word));
        if (m_end - m_p >= n && qstrncmp(m_p, word, size_t(n)) == 0) {
            m_p += n;
            return true;
        }
        return false;
    }

    QCborValue parseValue(int depth)
    {
        if (depth > MaxDepth) {
            fail(QStringLiteral("nested too deeply"));
            return {};
        }
        if (m_p >= m_end) {
            fail(QStringLiteral("unexpected end of input"));
            return {};
        }
        switch (*m_p) {
        case '{':
            return parseObject(depth);
        case '[':
            return parseArray(depth);
        case '"': {
            QLatin1StringView ascii;
            if (takePlainAscii(&ascii))
                return QCborValue(ascii); // no QString round trip for plain text
            QString s;
            if (!parseString(&s))
                return {};
            return QCborValue(s);
        }
        case 't':
            if (consumeWord("true"))
                return QCborValue(true);
            break;
        case 'f':
            if (consumeWord("false"))
                return QCborValue(false);
            break;
        case 'n':
            if (consumeWord("null"))
                return QCborValue(QCborValue::Null);
            break;
        case 'N':
            if (consumeWord("NaN"))
                return QCborValue(std::numeric_limits<double>::quiet_NaN());
            break;
        case 'I':
            if (consumeWord("Infinity"))
                return QCborValue(std::numeric_limits<double>::infinity());
            break;
        default:
            if (*m_p == '-' || (*m_p >= '0' && *m_p <= '9'))
                return parseNumber();
        }
        fail(QStringLiteral("unexpected character '%1'").arg(QChar::fromLatin1(*m_p)));
        return {};
    }

    QCborValue parseObject(int depth)
    {
        ++m_p; // {
        QCborMap object;
        skipSpace();
        if (m_p < m_end && *m_p == '}') {
            ++m_p;
            return object;
        }
        for (;;) {
            skipSpace();
            if (m_p >= m_end || *m_p != '"') {
                fail(QStringLiteral("expected a string key"));
                return {};
            }
            QLatin1StringView asciiKey;
            QString key;
            const bool ascii = takePlainAscii(&asciiKey);
            if (!ascii && !parseString(&key))
                return {};
            skipSpace();
            if (m_p >= m_end || *m_p != ':') {
                fail(QStringLiteral("expected ':' after an object key"));
                return {};
            }
            ++m_p;
            skipSpace();
            QCborValue v = parseValue(depth + 1);
            if (!m_error.isEmpty())
                return {};
            // A repeated key keeps its last value, like Python.
            if (ascii)
                object[asciiKey] = v;
            else
                object[key] = v;
            skipSpace();
            if (m_p < m_end && *m_p == ',') {
                ++m_p;
                continue;
            }
            if (m_p < m_end && *m_p == '}') {
                ++m_p;
                return object;
            }
            fail(QStringLiteral("expected ',' or '}' in an object"));
            return {};
        }
    }

    QCborValue parseArray(int depth)
    {
        ++m_p; // [
        QCborArray array;
        skipSpace();
        if (m_p < m_end && *m_p == ']') {
            ++m_p;
            return array;
        }
        for (;;) {
            skipSpace();
            QCborValue v = parseValue(depth + 1);
            if (!m_error.isEmpty())
                return {};
            array.append(v);
            skipSpace();
            if (m_p < m_end && *m_p == ',') {
                ++m_p;
                continue;
            }
            if (m_p < m_end && *m_p == ']') {
                ++m_p;
                return array;
            }
            fail(QStringLiteral("expected ',' or ']' in an array"));
            return {};
        }
    }

    QCborValue parseNumber()
    {
        const char *start = m_p;
        if (*m_p == '-') {
            ++m_p;
            if (consumeWord("Infinity"))
                return QCborValue(-std::numeric_limits<double>::infinity());
        }
        if (m_p >= m_end || !(*m_p >= '0' && *m_p <= '9')) {
            fail(QStringLiteral("invalid number"));
            return {};
        }
        if (*m_p == '0') {
            ++m_p;
        } else {
            while (m_p < m_end && *m_p >= '0' && *m_p <= '9')
                ++m_p;
        }
        bool isFloat = false;
        if (m_p < m_end && *m_p == '.') {
            isFloat = true;
            ++m_p;
            if (m_p >= m_end || !(*m_p >= '0' && *m_p <= '9')) {
                fail(QStringLiteral("invalid number"));
                return {};
            }
            while (m_p < m_end && *m_p >= '0' && *m_p <= '9')
                ++m_p;
        }
        if (m_p < m_end && (*m_p == 'e' || *m_p == 'E')) {
            isFloat = true;
            ++m_p;
            if (m_p < m_end && (*m_p == '+' || *m_p == '-'))
                ++m_p;
            if (m_p >= m_end || !(*m_p >= '0' && *m_p <= '9')) {
                fail(QStringLiteral("invalid number"));
                return {};
            }
            while (m_p < m_end && *m_p >= '0' && *m_p <= '9')
                ++m_p;
        }
        // Fast exact conversions first (no allocation); out of range (integers
        // beyond 64 bits, 1e400, 1e-400) takes the general path below.
        if (!isFloat) {
            qint64 i = 0;
            const auto r = std::from_chars(start, m_p, i);
            if (r.ec == std::errc() && r.ptr == m_p)
                return QCborValue(i);
        } else {
            double d = 0;
            const auto r = std::from_chars(start, m_p, d);
            if (r.ec == std::errc() && r.ptr == m_p)
                return QCborValue(d);
        }
        const QByteArray digits(start, m_p - start);
        bool ok = false;
        if (!isFloat) {
            const qlonglong i = digits.toLongLong(&ok);
            if (ok)
                return QCborValue(qint64(i));
            // Python sends integers of any size (a 64-bit unsigned seed, say);
            // a double would round them, so they are kept digit for digit.
            return bigInteger(digits);
        }
        const double d = digits.toDouble(&ok);
        if (!ok && !std::isinf(d)) {
            fail(QStringLiteral("invalid number"));
            return {};
        }
        return QCborValue(d);
    }

    static int hexValue(char c)
    {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        return -1;
    }

    bool parseHex4(char16_t *out)
    {
        if (m_end - m_p < 4) {
            fail(QStringLiteral("truncated \\u escape"));
            return false;
        }
        int v = 0;
        for (int i = 0; i < 4; ++i) {
            const int h = hexValue(m_p[i]);
            if (h < 0) {
                fail(QStringLiteral("invalid \\u escape"));
                return false;
            }
            v = v * 16 + h;
        }
        m_p += 4;
        *out = char16_t(v);
        return true;
    }

    // At a '"': takes a string of printable ASCII without escapes (nearly every
    // key and most values) as a view into the text; false, consuming nothing,
    // for anything else (parseString then handles it or reports the error).
    bool takePlainAscii(QLatin1StringView *out)
    {
        for (const char *q = m_p + 1; q < m_end; ++q) {
            const unsigned char c = static_cast<unsigned char>(*q);
            if (c == '"') {
                *out = QLatin1StringView(m_p + 1, q - m_p - 1);
                m_p = q + 1;
                return true;
            }
            if (c == '\\' || c < 0x20 || c >= 0x80)
                return false;
        }
        return false;
    }

    bool parseString(QString *out)
    {
        ++m_p; // "
        // Fast path: no escape before the closing quote (one allocation).
        for (const char *q = m_p; q < m_end; ++q) {
            const char c = *q;
            if (c == '"') {
                *out = QString::fromUtf8(m_p, q - m_p);
                m_p = q + 1;
                return true;
            }
            if (c == '\\' || static_cast<unsigned char>(c) < 0x20)
                break; // the general path below handles (or reports) it
        }
        QByteArray utf8;
        QString result;
        auto flush = [&] {
            if (!utf8.isEmpty()) {
                result += QString::fromUtf8(utf8);
                utf8.clear();
            }
        };
        const char *runStart = m_p;
        while (m_p < m_end) {
            const char c = *m_p;
            if (c == '"') {
                utf8.append(runStart, m_p - runStart);
                ++m_p;
                flush();
                *out = result;
                return true;
            }
            if (static_cast<unsigned char>(c) < 0x20) {
                fail(QStringLiteral("control character in a string"));
                return false;
            }
            if (c != '\\') {
                ++m_p;
                continue;
            }
            utf8.append(runStart, m_p - runStart);
            ++m_p;
            if (m_p >= m_end)
                break;
            const char e = *m_p++;
            switch (e) {
            case '"':
                utf8.append('"');
                break;
            case '\\':
                utf8.append('\\');
                break;
            case '/':
                utf8.append('/');
                break;
            case 'b':
                utf8.append('\b');
                break;
            case 'f':
                utf8.append('\f');
                break;
            case 'n':
                utf8.append('\n');
                break;
            case 'r':
                utf8.append('\r');
                break;
            case 't':
                utf8.append('\t');
                break;
            case 'u': {
                char16_t hi;
                if (!parseHex4(&hi))
                    return false;
                flush();
                if (QChar::isHighSurrogate(hi) && m_end - m_p >= 6 && m_p[0] == '\\' && m_p[1] == 'u') {
                    const char *save = m_p;
                    m_p += 2;
                    char16_t lo;
                    if (!parseHex4(&lo))
                        return false;
                    if (QChar::isLowSurrogate(lo)) {
                        result += QChar(hi);
                        result += QChar(lo);
                    } else {
                        result += QChar(QChar::ReplacementCharacter);
                        m_p = save;
                    }
                } else if (QChar::isSurrogate(hi)) {
                    result += QChar(QChar::ReplacementCharacter);
                } else {
                    result += QChar(hi);
                }
                break;
            }
            default:
                --m_p;
                fail(QStringLiteral("invalid escape in a string"));
                return false;
            }
            runStart = m_p;
        }
        fail(QStringLiteral("unterminated string"));
        return false;
    }

    const char *m_p;
    const char *m_begin;
    const char *m_end;
    QString m_error;
    const char *m_errorAt = nullptr;
};

void writeString(QByteArray &out, const QString &s)
{
    out += '"';
    const QByteArray utf8 = s.toUtf8();
    for (const char c : utf8) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        default:
            if (u < 0x20) {
                static const char hex[] = "0123456789abcdef";
                out += "\\u00";
                out += hex[u >> 4];
                out += hex[u & 15];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

void writeValue(QByteArray &out, const QCborValue &v, int indent, int level)
{
    auto newline = [&](int lvl) {
        if (indent > 0) {
            out += '\n';
            out += QByteArray(qsizetype(lvl) * indent, ' ');
        }
    };
    switch (v.type()) {
    case QCborValue::True:
        out += "true";
        break;
    case QCborValue::False:
        out += "false";
        break;
    case QCborValue::Integer:
        out += QByteArray::number(v.toInteger());
        break;
    case QCborValue::Double:
        out += formatDouble(v.toDouble()).toLatin1();
        break;
    case QCborValue::String:
        writeString(out, v.toString());
        break;
    case QCborValue::Array: {
        const QCborArray a = v.toArray();
        out += '[';
        bool first = true;
        for (qsizetype i = 0; i < a.size(); ++i) { // at(): a value, not a reference to convert
            if (!first)
                out += ',';
            first = false;
            newline(level + 1);
            writeValue(out, a.at(i), indent, level + 1);
        }
        if (!a.isEmpty())
            newline(level);
        out += ']';
        break;
    }
    case QCborValue::Map: {
        const QCborMap o = v.toMap();
        out += '{';
        bool first = true;
        for (auto it = o.begin(); it != o.end(); ++it) {
            if (!first)
                out += ',';
            first = false;
            newline(level + 1);
            writeString(out, it.key().toString());
            out += indent > 0 ? ": " : ":";
            writeValue(out, it.value(), indent, level + 1);
        }
        if (!o.isEmpty())
            newline(level);
        out += '}';
        break;
    }
    default:
        out += isBignum(v) ? bignumDecimal(v) : QByteArrayLiteral("null");
        break;
    }
}

} // namespace

QCborValue parse(const QByteArray &text, ParseError *error)
{
    Parser p(text);
    return p.parseDocument(error);
}

QCborValue parseValueAt(const char *begin, const char *end, const char **stop, int depth, ParseError *error)
{
    return Parser(begin, end).parsePrefix(depth, stop, error);
}

QByteArray write(const QCborValue &value)
{
    QByteArray out;
    writeValue(out, value, 0, 0);
    return out;
}

QByteArray write(const QCborMap &object)
{
    return write(QCborValue(object));
}
QByteArray write(const QCborArray &array)
{
    return write(QCborValue(array));
}

QByteArray writeIndented(const QCborValue &value, int indent)
{
    QByteArray out;
    writeValue(out, value, indent, 0);
    return out;
}

double toDouble(const QCborValue &value)
{
    if (value.isInteger())
        return double(value.toInteger());
    if (value.isDouble())
        return value.toDouble();
    if (isBignum(value))
        return bignumDecimal(value).toDouble();
    return std::numeric_limits<double>::quiet_NaN();
}

bool toInteger(const QCborValue &value, qint64 *out)
{
    if (!isNumber(value))
        return false;
    if (value.isInteger()) {
        *out = value.toInteger();
        return true;
    }
    const double d = value.toDouble();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.007199254740992e15) {
        *out = qint64(d);
        return true;
    }
    return false;
}

QString formatDouble(double d)
{
    if (std::isnan(d))
        return QStringLiteral("NaN");
    if (std::isinf(d))
        return d > 0 ? QStringLiteral("Infinity") : QStringLiteral("-Infinity");
    if (d == 0)
        return std::signbit(d) ? QStringLiteral("-0.0") : QStringLiteral("0.0");
    // Python's repr: the shortest digits that read back to the same value, in
    // fixed notation for exponents in [-4, 16), otherwise d.ddde+XX; a float
    // always shows a '.' or an exponent.
    char buffer[64];
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, d, std::chars_format::scientific);
    const std::string_view sci(buffer, size_t(r.ptr - buffer));
    const size_t e = sci.find('e');
    std::string digits;
    bool negative = false;
    for (size_t i = 0; i < e; ++i) {
        if (sci[i] == '-')
            negative = true;
        else if (sci[i] != '.')
            digits += sci[i];
    }
    const int exponent = std::atoi(std::string(sci.substr(e + 1)).c_str());
    std::string out = negative ? "-" : "";
    if (exponent >= -4 && exponent < 16) {
        if (exponent >= 0) {
            std::string integer = digits.substr(0, std::min(digits.size(), size_t(exponent) + 1));
            integer.append(size_t(exponent) + 1 - integer.size(), '0');
            const std::string fraction =
                digits.size() > size_t(exponent) + 1 ? digits.substr(size_t(exponent) + 1) : "0";
            out += integer + '.' + fraction;
        } else {
            out += "0." + std::string(size_t(-exponent - 1), '0') + digits;
        }
    } else {
        out += digits.substr(0, 1);
        if (digits.size() > 1)
            out += '.' + digits.substr(1);
        char exp[16];
        std::snprintf(exp, sizeof exp, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
        out += exp;
    }
    return QString::fromLatin1(out.data(), qsizetype(out.size()));
}

} // namespace schedy::json
