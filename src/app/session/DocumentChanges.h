#pragma once

#include "Types.h"

#include <QCborValue>
#include <QStringList>

namespace schedy {

// What differs between two documents, one line per changed leaf:
// "status: \"RUNNING\" → \"DONE\"", "scheduler.RandomSearch.lr: added …".
QStringList describeChanges(const QCborValue &before, const QCborValue &after, const QString &path = {});
// What differs in the definition (name, status, scheduler) of two versions of an experiment:
// what the conflicts of Pause/Resume and the experiment editor report.
QStringList definitionChanges(const Experiment &before, const Experiment &after);
// The definition alone: what an experiment's editor saves.
Experiment definitionOf(const Experiment &e);

} // namespace schedy
