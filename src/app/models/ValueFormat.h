#pragma once

#include "Types.h"

#include <QCborValue>
#include <QColor>
#include <QString>
#include <QVariant>

#include <optional>

// How the dashboard shows values: one place, so the table, the details tree,
// the charts and the CSV export agree.
namespace schedy::format {

// Numbers with six significant digits, text as is, lists of numbers as
// "last (n)", other lists and objects as compact JSON.
QString display(const QCborValue &value);
// Full precision, for tooltips, copy and CSV.
QString exact(const QCborValue &value);
// A number, if the value is one (a curve gives its last value).
std::optional<double> number(const QCborValue &value);
// The numeric points of a list-valued result (non-numbers skipped).
QList<double> curve(const QCborValue &value);
bool isCurve(const QCborValue &value);
QString timestamp(double secondsSinceEpoch);
QString duration(double seconds);

// English without a loaded translation: "1 job", "3 jobs", "0 jobs" ("3 job(s)" reads as a
// program talking); `plural` defaults to `one` + "s".
QString count(qint64 n, const QString &one, const QString &plural = {});
QString jobs(qint64 n); // "1 job", "3 jobs"

QColor statusColor(JobStatus status);
QString statusLabel(JobStatus status);   // "Done", "Running", ...
QString kindLabel(Scheduler::Kind kind); // "Manual", "Random search", "PBT"
// "Running", "Paused" (DONE with work left: a random search never ends by itself, other searches
// have jobs queued or running) or "Done".
QString experimentStatusLabel(const Experiment &experiment);

} // namespace schedy::format
