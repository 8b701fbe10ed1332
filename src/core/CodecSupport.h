#pragma once

#include "Codec.h"
#include "Json.h"

#include <cmath>
#include <initializer_list>
#include <limits>

// Helpers of the codec's decoders, shared by Codec.cpp and PolicyCodec.cpp.
// Internal to src/core.
namespace schedy::codec::detail {

inline QString join(const QString &path, const QString &key)
{
    return path.isEmpty() ? key : path + QLatin1Char('.') + key;
}

inline QString typeName(const QCborValue &v)
{
    switch (v.type()) {
    case QCborValue::Null:
        return QStringLiteral("null");
    case QCborValue::True:
    case QCborValue::False:
        return QStringLiteral("a boolean");
    case QCborValue::Integer:
    case QCborValue::Double:
        return QStringLiteral("a number");
    case QCborValue::String:
        return QStringLiteral("a string");
    case QCborValue::Array:
        return QStringLiteral("a list");
    case QCborValue::Map:
        return QStringLiteral("an object");
    case QCborValue::Undefined:
        return QStringLiteral("missing");
    default:
        return QStringLiteral("an unsupported value");
    }
}

inline DecodeError err(const QString &path, const QString &reason)
{
    return DecodeError{path, reason};
}

inline DecodeError wrongType(const QString &path, const QString &expected, const QCborValue &got)
{
    if (got.isUndefined())
        return err(path, QStringLiteral("is required"));
    return err(path, QStringLiteral("must be %1, not %2").arg(expected, typeName(got)));
}

// A finite number, integer or float.
inline std::optional<DecodeError> readNumber(const QCborMap &o, const QString &key, const QString &path,
                                             double *out)
{
    const QCborValue v = o.value(key);
    const QString p = join(path, key);
    if (!json::isNumber(v))
        return wrongType(p, QStringLiteral("a number"), v);
    const double d = json::toDouble(v);
    if (!std::isfinite(d))
        return err(p, QStringLiteral("must be finite"));
    *out = d;
    return std::nullopt;
}

inline std::optional<DecodeError> onlyKeys(const QCborMap &o, const QString &path,
                                           std::initializer_list<const char *> allowed)
{
    for (auto it = o.begin(); it != o.end(); ++it) {
        bool known = false;
        for (const char *k : allowed)
            known = known || it.key().toString() == QLatin1String(k);
        if (!known)
            return err(join(path, it.key().toString()), QStringLiteral("unknown key"));
    }
    return std::nullopt;
}

// Exactly one key, as schedulers and distributions are written.
inline std::optional<DecodeError> singleKey(const QCborValue &v, const QString &path, const QString &what,
                                            QString *key, QCborValue *arg)
{
    if (!v.isMap())
        return wrongType(path, QStringLiteral("an object with one key naming the %1").arg(what), v);
    const QCborMap o = v.toMap();
    if (o.size() != 1)
        return err(path,
                   QStringLiteral("must have exactly one key naming the %1, not %2").arg(what).arg(o.size()));
    *key = o.begin().key().toString();
    *arg = o.begin().value();
    return std::nullopt;
}

// An integer in [min, max] (an integral float such as 3.0 counts).
inline std::optional<DecodeError> readInteger(const QCborValue &v, const QString &path, qint64 min,
                                              qint64 max, qint64 *out)
{
    qint64 i = 0;
    if (!json::isNumber(v))
        return wrongType(path, QStringLiteral("an integer"), v);
    if (!json::toInteger(v, &i))
        return err(path, QStringLiteral("must be an integer, not %1").arg(QString::fromUtf8(json::write(v))));
    if (i < min)
        return err(path, QStringLiteral("must be at least %1").arg(min));
    if (i > max)
        return err(path, QStringLiteral("must be at most %1").arg(max));
    *out = i;
    return std::nullopt;
}

inline std::optional<DecodeError> readPositiveInteger(const QCborValue &v, const QString &path, qint64 *out)
{
    return readInteger(v, path, 1, std::numeric_limits<qint64>::max(), out);
}

// PolicyCodec.cpp: section 8's keys of an experiment document (read, then
// checked with checkPolicies()) and the job document's extensions.
std::optional<DecodeError> readPolicies(const QCborMap &o, Experiment *e);
void encodePolicies(const Experiment &e, QCborMap *o);
void encodeJobExtensions(const Job &j, QCborMap *o);

} // namespace schedy::codec::detail
