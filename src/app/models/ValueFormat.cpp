#include "ValueFormat.h"

#include "Json.h"

#include <QCborArray>
#include <QDateTime>
#include <QLocale>

#include <cmath>

namespace schedy::format {

namespace {
QString shortNumber(double d)
{
    if (std::isnan(d))
        return QStringLiteral("NaN");
    if (std::isinf(d))
        return d > 0 ? QStringLiteral("∞") : QStringLiteral("-∞");
    return QString::number(d, 'g', 6);
}
} // namespace

QString display(const QCborValue &v)
{
    if (v.isInteger())
        return QString::number(v.toInteger());
    if (v.isDouble())
        return shortNumber(v.toDouble());
    if (v.isString())
        return v.toString();
    if (v.isTrue())
        return QStringLiteral("true");
    if (v.isFalse())
        return QStringLiteral("false");
    if (v.isNull() || v.isUndefined())
        return {};
    if (isCurve(v)) {
        const QCborArray a = v.toArray();
        return QStringLiteral("%1 (%2)").arg(display(a.last())).arg(a.size());
    }
    QString s = QString::fromUtf8(json::write(v));
    if (s.size() > 120)
        s = s.left(119) + QChar(0x2026);
    return s;
}

QString exact(const QCborValue &v)
{
    if (v.isString())
        return v.toString();
    if (v.isNull() || v.isUndefined())
        return {};
    return QString::fromUtf8(json::write(v));
}

std::optional<double> number(const QCborValue &v)
{
    if (v.isInteger())
        return double(v.toInteger());
    if (v.isDouble())
        return v.toDouble();
    if (v.isArray()) {
        const QCborArray a = v.toArray();
        for (qsizetype i = a.size() - 1; i >= 0; --i) {
            if (a.at(i).isInteger() || a.at(i).isDouble())
                return number(a.at(i));
        }
    }
    return std::nullopt;
}

bool isCurve(const QCborValue &v)
{
    if (!v.isArray())
        return false;
    const QCborArray a = v.toArray();
    if (a.isEmpty())
        return false;
    for (const QCborValue &x : a) {
        if (!x.isInteger() && !x.isDouble())
            return false;
    }
    return true;
}

QList<double> curve(const QCborValue &v)
{
    QList<double> points;
    if (!v.isArray())
        return points;
    const QCborArray a = v.toArray();
    points.reserve(a.size());
    for (const QCborValue &x : a) {
        if (x.isInteger())
            points.append(double(x.toInteger()));
        else if (x.isDouble() && std::isfinite(x.toDouble()))
            points.append(x.toDouble());
    }
    return points;
}

QString timestamp(double secondsSinceEpoch)
{
    if (secondsSinceEpoch <= 0)
        return {};
    const QDateTime t = QDateTime::fromMSecsSinceEpoch(qint64(secondsSinceEpoch * 1000.0));
    // Today's times without the date: the column stays narrow where it matters.
    if (t.date() == QDate::currentDate())
        return t.toString(QStringLiteral("HH:mm:ss"));
    return t.toString(QStringLiteral("yyyy-MM-dd HH:mm"));
}

QString duration(double s)
{
    if (s < 60)
        return QStringLiteral("%1 s").arg(qRound(s));
    if (s < 3600)
        return QStringLiteral("%1 min").arg(qRound(s / 60));
    if (s < 86400)
        return QStringLiteral("%1 h").arg(s / 3600, 0, 'f', 1);
    return QStringLiteral("%1 d").arg(s / 86400, 0, 'f', 1);
}

QString count(qint64 n, const QString &one, const QString &plural)
{
    return QStringLiteral("%1 %2").arg(n).arg(n == 1             ? one
                                              : plural.isEmpty() ? one + QLatin1Char('s')
                                                                 : plural);
}

QString jobs(qint64 n)
{
    return count(n, QStringLiteral("job"));
}

QString experimentStatusLabel(const Experiment &e)
{
    if (e.status == ExperimentStatus::Running)
        return QStringLiteral("Running");
    const JobCounts counts = e.jobCounts.value_or(JobCounts{});
    const bool workLeft = counts[JobStatus::Queued] + counts[JobStatus::Running] > 0;
    return e.scheduler.kind == Scheduler::Kind::RandomSearch || workLeft ? QStringLiteral("Paused")
                                                                         : QStringLiteral("Done");
}

QColor statusColor(JobStatus status)
{
    switch (status) {
    case JobStatus::Queued:
        return QColor(0x80, 0x86, 0x8f);
    case JobStatus::Running:
        return QColor(0x1e, 0x78, 0xd2);
    case JobStatus::Crashed:
        return QColor(0xd3, 0x2f, 0x2f);
    case JobStatus::Pruned:
        return QColor(0xe0, 0x8a, 0x00);
    case JobStatus::Done:
        return QColor(0x2e, 0x8b, 0x3e);
    }
    return {};
}

QString statusLabel(JobStatus status)
{
    switch (status) {
    case JobStatus::Queued:
        return QStringLiteral("Queued");
    case JobStatus::Running:
        return QStringLiteral("Running");
    case JobStatus::Crashed:
        return QStringLiteral("Crashed");
    case JobStatus::Pruned:
        return QStringLiteral("Pruned");
    case JobStatus::Done:
        return QStringLiteral("Done");
    }
    return {};
}

QString kindLabel(Scheduler::Kind kind)
{
    switch (kind) {
    case Scheduler::Kind::Manual:
        return QStringLiteral("Manual");
    case Scheduler::Kind::RandomSearch:
        return QStringLiteral("Random search");
    case Scheduler::Kind::Pbt:
        return QStringLiteral("PBT");
    }
    return {};
}

} // namespace schedy::format
