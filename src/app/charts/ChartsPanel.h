#pragma once

#include "ChartData.h"
#include "LatestOnly.h"
#include "LineageChart.h"

#include <QElapsedTimer>
#include <QHash>
#include <QPointer>
#include <QThread>
#include <QTimer>
#include <QWidget>

class QComboBox;
class QItemSelectionModel;
class QLabel;
class QSpinBox;
class QStackedWidget;
class QToolButton;

namespace schedy {
class JobTableModel;
}

namespace schedy::charts {

class CurvesChart;
class ExportableChart;
class HistoryChart;
class ParallelCoordinatesChart;
class ScatterChart;

// The "Charts" tab of an experiment: five charts over the job table's model,
// the result/hyperparameter/objective pickers, zoom reset and export. The
// charts share the job table's selection both ways. Model changes are
// coalesced by one single-shot timer into one rebuild of the visible chart;
// a hidden panel only remembers that it is out of date. From
// asyncThreshold() jobs on, the chart's data is prepared on a worker thread
// from a snapshot of the model; the chart shows its previous data until the
// result arrives, and results overtaken by a newer rebuild are dropped. While shown, it
// pages in the rest of the experiment's jobs (charts need all of them).
class ChartsPanel : public QWidget
{
    Q_OBJECT
public:
    enum class Chart { History, Scatter, Parallel, Curves, Lineage };

    explicit ChartsPanel(QWidget *parent = nullptr);
    ~ChartsPanel() override;

    // A new experiment: choices start over from its defaults.
    void setSource(JobTableModel *model, const Experiment &experiment, QItemSelectionModel *selection);
    // The same experiment, refreshed (status, counts).
    void setExperiment(const Experiment &experiment);

    void setCurrentChart(Chart chart);
    Chart currentChart() const { return m_chart; }
    void setResult(const QString &name);
    QString result() const;
    void setHyperparameter(const QString &name);
    QString hyperparameter() const { return m_hyperparameter; }
    void setObjective(Objective objective);
    Objective objective() const;
    void setBestCount(int n);
    void setSelectedOnly(bool on);
    void setLineageLayout(LineageChart::Layout layout);

    QStringList resultChoices() const;
    QStringList hyperparameterChoices() const;
    QSet<QString> selectedIds() const { return m_selectedIds; }

    HistoryChart *historyChart() const { return m_history; }
    ScatterChart *scatterChart() const { return m_scatter; }
    ParallelCoordinatesChart *parallelChart() const { return m_parallel; }
    CurvesChart *curvesChart() const { return m_curves; }
    LineageChart *lineageChart() const { return m_lineage; }
    ExportableChart *currentExportable() const;
    QWidget *currentChartWidget() const;

    bool exportPng(const QString &path, QString *error = nullptr);
    bool exportSvg(const QString &path, QString *error = nullptr);
    void resetZoom();

    // Rebuilds the visible chart now (tests, bench); normally the timer does.
    // From asyncThreshold() jobs on, the new data is shown when rebuilt() is
    // emitted, later.
    void rebuildNow();
    // Jobs from which the data is prepared off the UI thread (tests: 0).
    static int asyncThreshold();
    static void setAsyncThreshold(int jobs);
    bool isPreparing() const { return m_preparer.isBusy(); }
    // Preparations sent to the worker; results dropped because a newer
    // rebuild overtook them (or skipped unprepared by the worker).
    int preparationCount() const { return m_preparationCount; }
    int staleResultCount() const;
    int rebuildCount() const { return m_rebuildCount; }
    qint64 lastRebuildMs() const { return m_lastRebuildMs; }
    // UI-thread time of handing the last prepared data to the chart (0 when
    // prepared synchronously: rebuildNow() includes it).
    qint64 lastApplyMs() const { return m_lastApplyMs; }

Q_SIGNALS:
    void rebuilt();
    // A chart was written to `path`: the page confirms it as it confirms its other actions.
    void exported(const QString &path);

protected:
    void showEvent(QShowEvent *event) override;

private:
    // The lineage is offered for PBT only: elsewhere it would be an empty axis.
    void offerLineage(bool offered);
    void scheduleRebuild();
    void rebuild();
    ChartRequest makeRequest() const;
    void onPrepared(const PreparedChart &chart);
    void apply(PreparedChart chart);
    void fetchRemaining();
    void refreshChoices();
    void updateControls();
    void onSelectionChanged();
    void selectJob(const QString &id, Qt::KeyboardModifiers modifiers);
    QString describeJob(const QString &id) const;
    QString defaultResult(Chart chart) const;
    QString defaultHyperparameter() const;
    bool hasCurve(const QString &result) const;
    bool hasNumber(const QString &result) const;
    void exportWithDialog(bool svg);

    QPointer<JobTableModel> m_model;
    QPointer<QItemSelectionModel> m_selection;
    Experiment m_experiment;
    Chart m_chart = Chart::History;
    QHash<int, QString> m_results; // by Chart
    QString m_hyperparameter;
    QHash<QString, Objective> m_objectives; // the user's choice, by result
    int m_bestCount = 10;
    bool m_selectedOnly = false;
    LineageChart::Layout m_lineageLayout = LineageChart::Layout::Lanes;
    QSet<QString> m_selectedIds;
    bool m_dirty = true;
    int m_rebuildCount = 0;
    qint64 m_lastRebuildMs = 0;
    qint64 m_lastApplyMs = 0;
    qint64 m_requestMs = 0; // UI-thread part of the pending request
    int m_preparationCount = 0;
    QTimer m_rebuildTimer;
    QString m_info;

    QComboBox *m_chartCombo;
    QComboBox *m_resultCombo;
    // Label and picker pairs, shown and hidden together.
    QWidget *m_hyperparameterGroup = nullptr;
    QWidget *m_curvesGroup = nullptr;
    QWidget *m_layoutGroup = nullptr;
    QLabel *m_hyperparameterLabel;
    QComboBox *m_hyperparameterCombo;
    QComboBox *m_objectiveCombo;
    QLabel *m_showLabel;
    QComboBox *m_showCombo;
    QSpinBox *m_bestSpin;
    QLabel *m_layoutLabel;
    QComboBox *m_layoutCombo;
    QLabel *m_infoLabel;
    QToolButton *m_resetButton;
    QToolButton *m_exportButton;
    QStackedWidget *m_stack;
    HistoryChart *m_history;
    ScatterChart *m_scatter;
    ParallelCoordinatesChart *m_parallel;
    CurvesChart *m_curves;
    LineageChart *m_lineage;
    // Last: destroyed first, it waits for a preparation in flight.
    LatestOnly m_preparer{QStringLiteral("chart preparation")};
};

} // namespace schedy::charts
