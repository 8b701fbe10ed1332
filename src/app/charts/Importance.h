#pragma once

#include "ChartData.h"

#include <QList>
#include <QString>

// Hyperparameter importance by PED-ANOVA (Watanabe et al., 2023,
// arXiv:2304.10255), as Optuna's PedAnovaImportanceEvaluator computes it and
// optuna-dashboard shows it: for each hyperparameter, the Pearson divergence
// between the density of the jobs better than a quantile of the result and the
// density of all jobs, both Parzen estimators with Scott's bandwidth on a grid;
// the importances are those divergences as shares of their sum. Plain values
// in, plain values out: no widgets, any thread.
namespace schedy::charts {

enum class ImportanceScale { Linear, Log, Category };

// One hyperparameter's observations, aligned with ImportanceInput::results.
struct ImportanceParameter
{
    QString name;
    ImportanceScale scale = ImportanceScale::Linear;
    double low = 0;        // Linear/Log: the search space (Log: > 0)
    double high = 0;       // Linear/Log; low == high makes it a single value
    int categoryCount = 0; // Category: values are indices in [0, categoryCount)
    QList<double> values;
};

struct ImportanceInput
{
    QList<ImportanceParameter> parameters;
    QList<double> results;
    Objective objective = Objective::Minimize;
    double baselineQuantile = 0.1; // importance of reaching the best 10%
};

struct ParameterImportance
{
    QString name;
    double importance = 0; // share in [0, 1]; the shares add up to 1
};

// Sorted by importance, largest first; parameters with a single possible
// value get 0. Fewer than three observations: equal shares.
QList<ParameterImportance> pedAnovaImportance(const ImportanceInput &input);

// The input for `result` from the DONE jobs of a source (a list result counts
// by its last value; jobs without a numeric result are left out). Each
// hyperparameter's scale and range come from the experiment's distribution
// (choice: its values; loguniform: log; uniform: its bounds; normal and
// manual jobs: the observed range); consts and hyperparameters that are
// missing from some of those jobs are left out, text makes a category.
struct ImportanceData
{
    QList<ParameterImportance> importances;
    int jobs = 0;    // DONE jobs with a numeric result
    int skipped = 0; // DONE jobs without one
};
ImportanceInput importanceInput(const JobSource &source, const Experiment &experiment, const QString &result,
                                Objective objective, int *skipped = nullptr);
ImportanceData importance(const JobSource &source, const Experiment &experiment, const QString &result,
                          Objective objective);

} // namespace schedy::charts
