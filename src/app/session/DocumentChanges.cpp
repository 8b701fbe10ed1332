#include "DocumentChanges.h"

#include "Codec.h"
#include "Json.h"

#include <QCoreApplication>

namespace schedy {

namespace {
QString tr(const char *text)
{
    return QCoreApplication::translate("schedy::editors", text);
}

QString shortText(const QCborValue &v)
{
    QString s = QString::fromUtf8(json::write(v));
    if (s.size() > 60)
        s = s.left(57) + QStringLiteral("…");
    return s;
}

QString join(const QString &path, const QString &key)
{
    return path.isEmpty() ? key : path + QLatin1Char('.') + key;
}
} // namespace

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

Experiment definitionOf(const Experiment &e)
{
    Experiment d;
    d.name = e.name;
    d.status = e.status;
    d.scheduler = e.scheduler;
    d.sampler = e.sampler;
    d.pruner = e.pruner;
    d.lease = e.lease;
    return d;
}

QStringList definitionChanges(const Experiment &before, const Experiment &after)
{
    return describeChanges(codec::encode(definitionOf(before)), codec::encode(definitionOf(after)));
}

} // namespace schedy
