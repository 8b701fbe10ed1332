#include "ChartsPanel.h"

#include "ChartExporter.h"
#include "CurvesChart.h"
#include "FlowLayout.h"
#include "HistoryChart.h"
#include "JobTableModel.h"
#include "ParallelCoordinatesChart.h"
#include "ScatterChart.h"
#include "ValueFormat.h"

#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLayout>
#include <QListView>
#include <QLocale>
#include <QMenu>
#include <QMessageBox>
#include <QRegularExpression>
#include <QSpinBox>
#include <QStackedWidget>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace schedy::charts {

namespace {
// Rows scanned to tell what kind of values a result holds.
constexpr int ProbeRows = 5000;
constexpr int MinimumDelayMs = 60;
constexpr int MaximumDelayMs = 1000;
// Below this many jobs the preparation takes a few ms: done in place, the
// chart shows the new data at once.
int s_asyncThreshold = 2000;
static_assert(int(ChartKind::Lineage) == int(ChartsPanel::Chart::Lineage), "same order");

QStringList itemsOf(const QComboBox *combo)
{
    QStringList items;
    for (int i = 0; i < combo->count(); ++i)
        items.append(combo->itemText(i));
    return items;
}

QString chartName(ChartsPanel::Chart chart)
{
    switch (chart) {
    case ChartsPanel::Chart::History:
        return QStringLiteral("history");
    case ChartsPanel::Chart::Scatter:
        return QStringLiteral("scatter");
    case ChartsPanel::Chart::Parallel:
        return QStringLiteral("parallel");
    case ChartsPanel::Chart::Curves:
        return QStringLiteral("curves");
    case ChartsPanel::Chart::Lineage:
        return QStringLiteral("lineage");
    }
    return {};
}

} // namespace

ChartsPanel::ChartsPanel(QWidget *parent)
    : QWidget(parent)
    , m_chartCombo(new QComboBox(this))
    , m_resultCombo(new QComboBox(this))
    , m_hyperparameterLabel(new QLabel(tr("against"), this))
    , m_hyperparameterCombo(new QComboBox(this))
    , m_objectiveCombo(new QComboBox(this))
    , m_showLabel(new QLabel(tr("Show"), this))
    , m_showCombo(new QComboBox(this))
    , m_bestSpin(new QSpinBox(this))
    , m_layoutLabel(new QLabel(tr("Layout"), this))
    , m_layoutCombo(new QComboBox(this))
    , m_infoLabel(new QLabel(this))
    , m_resetButton(new QToolButton(this))
    , m_exportButton(new QToolButton(this))
    , m_stack(new QStackedWidget(this))
    , m_history(new HistoryChart(this))
    , m_scatter(new ScatterChart(this))
    , m_parallel(new ParallelCoordinatesChart(this))
    , m_curves(new CurvesChart(this))
    , m_lineage(new LineageChart(this))
{
    m_chartCombo->addItem(tr("Optimization history"), int(Chart::History));
    m_chartCombo->addItem(tr("Result against hyperparameter"), int(Chart::Scatter));
    m_chartCombo->addItem(tr("Parallel coordinates"), int(Chart::Parallel));
    m_chartCombo->addItem(tr("Result curves"), int(Chart::Curves));
    m_chartCombo->addItem(tr("PBT lineage"), int(Chart::Lineage));
    m_chartCombo->setToolTip(tr("Which chart to show"));
    // Named for the tests (every control must stay reachable in a narrow window).
    m_chartCombo->setObjectName(QStringLiteral("chartCombo"));
    m_resultCombo->setObjectName(QStringLiteral("resultCombo"));
    m_hyperparameterCombo->setObjectName(QStringLiteral("hyperparameterCombo"));
    m_objectiveCombo->setObjectName(QStringLiteral("objectiveCombo"));
    m_showCombo->setObjectName(QStringLiteral("showCombo"));
    m_bestSpin->setObjectName(QStringLiteral("bestSpin"));
    m_layoutCombo->setObjectName(QStringLiteral("layoutCombo"));
    m_resetButton->setObjectName(QStringLiteral("resetButton"));
    m_exportButton->setObjectName(QStringLiteral("exportButton"));
    m_resultCombo->setToolTip(tr("The result to chart"));
    m_resultCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_hyperparameterCombo->setToolTip(tr("The hyperparameter on the x axis"));
    m_hyperparameterCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_objectiveCombo->addItem(tr("lower is better"), int(Objective::Minimize));
    m_objectiveCombo->addItem(tr("higher is better"), int(Objective::Maximize));
    m_objectiveCombo->setToolTip(tr("Objective: decides the best-so-far line, the ranking and the colours"));
    m_showCombo->addItem(tr("best N and selected"), false);
    m_showCombo->addItem(tr("selected jobs only"), true);
    m_bestSpin->setRange(1, 100000);
    m_bestSpin->setValue(m_bestCount);
    m_bestSpin->setPrefix(tr("N = "));
    m_bestSpin->setToolTip(tr("How many of the best curves to show"));
    m_layoutCombo->addItem(tr("lanes (one row per member)"), int(LineageChart::Layout::Lanes));
    m_layoutCombo->addItem(tr("quality on the y axis"), int(LineageChart::Layout::Quality));
    m_resetButton->setText(tr("Reset zoom"));
    m_resetButton->setToolTip(tr("Show all the data again (also: double-click the chart, or Esc)"));
    m_resetButton->setEnabled(false);
    m_exportButton->setText(tr("Export"));
    m_exportButton->setPopupMode(QToolButton::InstantPopup);
    auto *exportMenu = new QMenu(m_exportButton);
    connect(exportMenu->addAction(tr("PNG image…")), &QAction::triggered, this,
            [this] { exportWithDialog(false); });
    connect(exportMenu->addAction(tr("SVG drawing…")), &QAction::triggered, this,
            [this] { exportWithDialog(true); });
    m_exportButton->setMenu(exportMenu);
    m_infoLabel->setStyleSheet(QStringLiteral("color: palette(dark)"));
    m_infoLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Never wider than the panel: long texts are cut, not the experiment list.
    m_infoLabel->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_infoLabel->setToolTip(tr("Zoom: drag a rectangle or turn the wheel · pan: drag with the right button · "
                               "reset: double-click · click a point or line to select its job"));

    // Label and picker go together, so that a wrapped line never starts with a picker
    // whose label was left on the line above.
    auto group = [this](std::initializer_list<QWidget *> widgets) {
        auto *box = new QWidget(this);
        auto *row = new QHBoxLayout(box);
        row->setContentsMargins(0, 0, 0, 0);
        for (QWidget *w : widgets)
            row->addWidget(w);
        return box;
    };
    m_hyperparameterGroup = group({m_hyperparameterLabel, m_hyperparameterCombo});
    m_curvesGroup = group({m_showLabel, m_showCombo, m_bestSpin});
    m_layoutGroup = group({m_layoutLabel, m_layoutCombo});

    // One line when there is room, as before; in a narrow window (half a laptop screen,
    // with the job details open) the controls wrap instead of widening the window.
    auto *controls = new FlowLayout(2);
    controls->addWidget(m_chartCombo);
    controls->addWidget(m_resultCombo, 8);
    controls->addWidget(m_hyperparameterGroup);
    controls->addWidget(m_objectiveCombo);
    controls->addWidget(m_curvesGroup);
    controls->addWidget(m_layoutGroup);
    controls->addWidget(m_resetButton);
    controls->addWidget(m_exportButton);

    m_stack->addWidget(m_history);
    m_stack->addWidget(m_scatter);
    m_stack->addWidget(m_parallel);
    m_stack->addWidget(m_curves);
    m_stack->addWidget(m_lineage);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 6, 4, 4);
    layout->addLayout(controls);
    layout->addWidget(m_stack, 1);
    layout->addWidget(m_infoLabel);

    auto describe = [this](const QString &id) {
        return describeJob(id);
    };
    for (XYChartView *chart : {static_cast<XYChartView *>(m_history), static_cast<XYChartView *>(m_scatter),
                               static_cast<XYChartView *>(m_curves), static_cast<XYChartView *>(m_lineage)}) {
        chart->setJobDescriber(describe);
        connect(chart, &XYChartView::jobClicked, this, &ChartsPanel::selectJob);
        connect(chart, &XYChartView::zoomChanged, this, &ChartsPanel::updateControls);
    }
    m_parallel->setJobDescriber(describe);
    connect(m_parallel, &ParallelCoordinatesChart::jobClicked, this, &ChartsPanel::selectJob);
    connect(m_parallel, &ParallelCoordinatesChart::zoomChanged, this, &ChartsPanel::updateControls);

    connect(m_chartCombo, &QComboBox::activated, this,
            [this](int index) { setCurrentChart(Chart(m_chartCombo->itemData(index).toInt())); });
    connect(m_resultCombo, &QComboBox::activated, this,
            [this](int index) { setResult(m_resultCombo->itemText(index)); });
    connect(m_hyperparameterCombo, &QComboBox::activated, this,
            [this](int index) { setHyperparameter(m_hyperparameterCombo->itemText(index)); });
    connect(m_objectiveCombo, &QComboBox::activated, this,
            [this](int index) { setObjective(Objective(m_objectiveCombo->itemData(index).toInt())); });
    connect(m_showCombo, &QComboBox::activated, this,
            [this](int index) { setSelectedOnly(m_showCombo->itemData(index).toBool()); });
    connect(m_bestSpin, &QSpinBox::valueChanged, this, &ChartsPanel::setBestCount);
    connect(m_layoutCombo, &QComboBox::activated, this, [this](int index) {
        setLineageLayout(LineageChart::Layout(m_layoutCombo->itemData(index).toInt()));
    });
    connect(m_resetButton, &QToolButton::clicked, this, &ChartsPanel::resetZoom);

    // Bursts of model signals become one rebuild.
    m_rebuildTimer.setSingleShot(true);
    m_rebuildTimer.setInterval(MinimumDelayMs);
    connect(&m_rebuildTimer, &QTimer::timeout, this, &ChartsPanel::rebuild);
    updateControls();
}

ChartsPanel::~ChartsPanel() = default;

int ChartsPanel::asyncThreshold()
{
    return s_asyncThreshold;
}

void ChartsPanel::setAsyncThreshold(int jobs)
{
    s_asyncThreshold = jobs;
}

int ChartsPanel::staleResultCount() const
{
    return m_preparer.discardedCount() + m_preparer.skippedCount();
}

void ChartsPanel::setSource(JobTableModel *model, const Experiment &experiment,
                            QItemSelectionModel *selection)
{
    if (m_model)
        disconnect(m_model, nullptr, this, nullptr);
    if (m_selection)
        disconnect(m_selection, nullptr, this, nullptr);
    m_model = model;
    m_selection = selection;
    m_preparer.cancel(); // a preparation for the previous source is stale
    m_experiment = experiment;
    m_results.clear();
    m_hyperparameter.clear();
    m_objectives.clear();
    m_selectedIds.clear();
    for (XYChartView *chart : {static_cast<XYChartView *>(m_history), static_cast<XYChartView *>(m_scatter),
                               static_cast<XYChartView *>(m_curves), static_cast<XYChartView *>(m_lineage)}) {
        chart->setSelectedIds({});
        chart->resetZoom();
    }
    m_parallel->setSelectedIds({});
    m_parallel->resetZoom();
    if (model) {
        for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved,
                            &QAbstractItemModel::columnsInserted})
            connect(model, signal, this, &ChartsPanel::scheduleRebuild);
        connect(model, &QAbstractItemModel::dataChanged, this, &ChartsPanel::scheduleRebuild);
        connect(model, &QAbstractItemModel::modelReset, this, &ChartsPanel::scheduleRebuild);
        connect(model, &QAbstractItemModel::layoutChanged, this, &ChartsPanel::scheduleRebuild);
        connect(model, &JobTableModel::pageLoaded, this, &ChartsPanel::fetchRemaining);
        connect(model, &JobTableModel::totalChanged, this, &ChartsPanel::fetchRemaining);
    }
    if (selection)
        connect(selection, &QItemSelectionModel::selectionChanged, this, &ChartsPanel::onSelectionChanged);
    // PBT experiments open on their lineage, the others on the history.
    const bool pbt = experiment.scheduler.kind == Scheduler::Kind::Pbt;
    offerLineage(pbt);
    if (pbt != (m_chart == Chart::Lineage))
        m_chart = pbt ? Chart::Lineage : Chart::History;
    m_stack->setCurrentIndex(int(m_chart));
    m_dirty = true;
    onSelectionChanged();
    scheduleRebuild();
    fetchRemaining();
}

void ChartsPanel::offerLineage(bool offered)
{
    const int row = m_chartCombo->findData(int(Chart::Lineage));
    auto *items = qobject_cast<QStandardItemModel *>(m_chartCombo->model());
    if (items && row >= 0)
        items->item(row)->setEnabled(offered); // nor reachable with the arrow keys
    if (auto *list = qobject_cast<QListView *>(m_chartCombo->view()); list && row >= 0)
        list->setRowHidden(row, !offered);
}

void ChartsPanel::setExperiment(const Experiment &experiment)
{
    if (experiment.name != m_experiment.name)
        return;
    // The pruner too: its direction and ASHA's rungs are drawn on the curves.
    const bool schedulerChanged =
        experiment.scheduler != m_experiment.scheduler || experiment.pruner != m_experiment.pruner;
    m_experiment = experiment;
    offerLineage(experiment.scheduler.kind == Scheduler::Kind::Pbt);
    if (schedulerChanged)
        scheduleRebuild();
}

ExportableChart *ChartsPanel::currentExportable() const
{
    switch (m_chart) {
    case Chart::History:
        return m_history;
    case Chart::Scatter:
        return m_scatter;
    case Chart::Parallel:
        return m_parallel;
    case Chart::Curves:
        return m_curves;
    case Chart::Lineage:
        return m_lineage;
    }
    return m_history;
}

QWidget *ChartsPanel::currentChartWidget() const
{
    return m_stack->currentWidget();
}

void ChartsPanel::setCurrentChart(Chart chart)
{
    if (chart == m_chart && !m_dirty)
        return;
    m_chart = chart;
    m_stack->setCurrentIndex(int(chart));
    m_dirty = true;
    rebuildNow();
}

QString ChartsPanel::result() const
{
    return m_results.value(int(m_chart));
}

void ChartsPanel::setResult(const QString &name)
{
    if (name == result())
        return;
    m_results.insert(int(m_chart), name);
    rebuildNow();
}

void ChartsPanel::setHyperparameter(const QString &name)
{
    if (name == m_hyperparameter)
        return;
    m_hyperparameter = name;
    rebuildNow();
}

Objective ChartsPanel::objective() const
{
    const QString r = result();
    return m_objectives.contains(r) ? m_objectives.value(r) : objectiveFor(m_experiment, r);
}

void ChartsPanel::setObjective(Objective objective)
{
    if (objective == this->objective())
        return;
    m_objectives.insert(result(), objective);
    rebuildNow();
}

void ChartsPanel::setBestCount(int n)
{
    if (n == m_bestCount)
        return;
    m_bestCount = n;
    if (m_chart == Chart::Curves)
        rebuildNow();
}

void ChartsPanel::setSelectedOnly(bool on)
{
    if (on == m_selectedOnly)
        return;
    m_selectedOnly = on;
    if (m_chart == Chart::Curves)
        rebuildNow();
}

void ChartsPanel::setLineageLayout(LineageChart::Layout layout)
{
    if (layout == m_lineageLayout)
        return;
    m_lineageLayout = layout;
    if (m_chart == Chart::Lineage)
        rebuildNow();
}

void ChartsPanel::scheduleRebuild()
{
    m_dirty = true;
    if (!isVisible())
        return; // showEvent picks it up
    // Not restarted by later signals: a steady stream still repaints.
    if (!m_rebuildTimer.isActive()) {
        // Slow rebuilds (huge experiments) wait longer, leaving time for the rest.
        m_rebuildTimer.setInterval(
            int(std::clamp<qint64>(m_lastRebuildMs * 2, MinimumDelayMs, MaximumDelayMs)));
        m_rebuildTimer.start();
    }
}

void ChartsPanel::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    fetchRemaining();
    if (m_dirty)
        scheduleRebuild();
}

void ChartsPanel::fetchRemaining()
{
    if (m_model && isVisible() && m_model->canFetchMore({}) && !m_model->isFetching())
        m_model->fetchMore({});
}

void ChartsPanel::rebuildNow()
{
    m_rebuildTimer.stop();
    rebuild();
}

bool ChartsPanel::hasCurve(const QString &name) const
{
    if (!m_model)
        return false;
    const int column = m_model->columnOf(resultField(name));
    const int rows = std::min(m_model->rowCount(), ProbeRows);
    for (int r = 0; r < rows; ++r) {
        const QCborValue v = m_model->value(r, column);
        if (v.isArray() && !curvePoints(v).isEmpty())
            return true;
    }
    return false;
}

bool ChartsPanel::hasNumber(const QString &name) const
{
    if (!m_model)
        return false;
    const int column = m_model->columnOf(resultField(name));
    const int rows = std::min(m_model->rowCount(), ProbeRows);
    bool any = false;
    for (int r = 0; r < rows; ++r) {
        const QCborValue v = m_model->value(r, column);
        if (resultNumber(v))
            return true;
        any = any || !v.isUndefined();
    }
    return !any; // nothing seen yet: keep it
}

QStringList ChartsPanel::resultChoices() const
{
    QStringList names;
    if (m_experiment.scheduler.kind == Scheduler::Kind::Pbt &&
        !m_experiment.scheduler.pbt.qualityResultName.isEmpty())
        names.append(m_experiment.scheduler.pbt.qualityResultName);
    if (m_model) {
        for (const auto &k : m_model->columnKeys()) {
            if (k.source == FieldSource::Result && !names.contains(k.name))
                names.append(k.name);
        }
    }
    QStringList usable;
    for (const QString &n : std::as_const(names)) {
        if (m_chart == Chart::Curves ? hasCurve(n) : hasNumber(n))
            usable.append(n);
    }
    return usable;
}

QStringList ChartsPanel::hyperparameterChoices() const
{
    QStringList names = experimentHyperparameters(m_experiment);
    if (m_model) {
        for (const auto &k : m_model->columnKeys()) {
            if (k.source == FieldSource::Hyperparameter && !names.contains(k.name))
                names.append(k.name);
        }
    }
    return names;
}

QString ChartsPanel::defaultResult(Chart chart) const
{
    const QStringList choices = resultChoices();
    if (choices.isEmpty())
        return {};
    if (chart == Chart::Curves)
        return choices.first();
    const PbtSettings &pbt = m_experiment.scheduler.pbt;
    if (m_experiment.scheduler.kind == Scheduler::Kind::Pbt && choices.contains(pbt.qualityResultName))
        return pbt.qualityResultName;
    // A plain number reads better than a curve's last point.
    for (const QString &name : choices) {
        if (!hasCurve(name))
            return name;
    }
    return choices.first();
}

QString ChartsPanel::defaultHyperparameter() const
{
    const QStringList names = hyperparameterChoices();
    for (const QString &name : names) {
        if (axisHint(m_experiment, name).categories.size() != 1) // not a constant
            return name;
    }
    return names.value(0);
}

void ChartsPanel::refreshChoices()
{
    if (!m_results.contains(int(m_chart)) || m_results.value(int(m_chart)).isEmpty())
        m_results.insert(int(m_chart), defaultResult(m_chart));
    if (m_hyperparameter.isEmpty())
        m_hyperparameter = defaultHyperparameter();
}

void ChartsPanel::updateControls()
{
    const bool scatter = m_chart == Chart::Scatter;
    const bool curves = m_chart == Chart::Curves;
    const bool lineage = m_chart == Chart::Lineage;
    m_chartCombo->setCurrentIndex(m_chartCombo->findData(int(m_chart)));

    QStringList results = resultChoices();
    const QString current = result();
    if (!current.isEmpty() && !results.contains(current))
        results.prepend(current);
    if (results != itemsOf(m_resultCombo)) {
        m_resultCombo->clear();
        m_resultCombo->addItems(results);
    }
    m_resultCombo->setCurrentIndex(m_resultCombo->findText(current));
    m_resultCombo->setEnabled(!results.isEmpty());

    const QStringList hps = hyperparameterChoices();
    if (hps != itemsOf(m_hyperparameterCombo)) {
        m_hyperparameterCombo->clear();
        m_hyperparameterCombo->addItems(hps);
    }
    m_hyperparameterCombo->setCurrentIndex(m_hyperparameterCombo->findText(m_hyperparameter));
    m_hyperparameterGroup->setVisible(scatter);
    m_objectiveCombo->setCurrentIndex(m_objectiveCombo->findData(int(objective())));
    m_objectiveCombo->setVisible(m_chart != Chart::Scatter);
    m_curvesGroup->setVisible(curves);
    m_showCombo->setCurrentIndex(m_selectedOnly ? 1 : 0);
    m_bestSpin->setEnabled(!m_selectedOnly);
    m_layoutGroup->setVisible(lineage);
    m_layoutCombo->setCurrentIndex(m_layoutCombo->findData(int(m_lineageLayout)));
    m_resetButton->setEnabled(currentExportable()->isZoomed());

    QString info = m_info;
    if (m_model && !m_model->isComplete()) {
        const QLocale locale;
        info = m_model->totalCount() >= 0
                   ? tr("Loading jobs: %1 of %2…")
                         .arg(locale.toString(m_model->rowCount()), locale.toString(m_model->totalCount()))
                   : tr("Loading jobs…");
    }
    if (!info.isEmpty())
        info += QStringLiteral("   —   ");
    info += tr("drag: zoom · right-drag: pan · double-click: reset · click: select the job");
    m_infoLabel->setText(info);
}

ChartRequest ChartsPanel::makeRequest() const
{
    ChartRequest request;
    request.kind = ChartKind(m_chart);
    request.result = result();
    request.objective = objective();
    switch (m_chart) {
    case Chart::Scatter:
        request.hyperparameter = m_hyperparameter;
        request.hint = axisHint(m_experiment, m_hyperparameter);
        break;
    case Chart::Parallel:
        for (const QString &hp : hyperparameterChoices()) {
            const AxisHint hint = axisHint(m_experiment, hp);
            if (hint.fromExperiment && hint.kind == AxisKind::Category && hint.categories.size() == 1)
                continue; // constants: one point, no information
            request.fields.append(hyperparameterField(hp));
            request.hints.append(hint);
        }
        break;
    case Chart::Curves:
        request.bestCount = m_bestCount;
        request.selected = m_selectedIds;
        request.selectedOnly = m_selectedOnly;
        request.pruner = m_experiment.pruner;
        break;
    case Chart::History:
    case Chart::Lineage:
        break;
    }
    return request;
}

void ChartsPanel::rebuild()
{
    QElapsedTimer timer;
    timer.start();
    m_dirty = false;
    m_preparer.cancel(); // whatever is being prepared is out of date now
    if (!m_model) {
        updateControls();
        return;
    }
    refreshChoices();
    const ChartRequest request = makeRequest();
    if (m_model->rowCount() < s_asyncThreshold) {
        m_requestMs = 0;
        apply(prepareChart(ModelJobSource(m_model), request));
        m_lastApplyMs = 0; // all of it was rebuildNow()'s
        m_lastRebuildMs = timer.elapsed();
        ++m_rebuildCount;
        Q_EMIT rebuilt();
        return;
    }
    // The snapshot shares the model's rows: no copy unless the model changes
    // while the worker holds it.
    ++m_preparationCount;
    m_preparer.submit(
        [request, snapshot = m_model->snapshot()](const LatestOnly::Ticket &) {
            return prepareChart(SnapshotJobSource(snapshot), request);
        },
        [this](const PreparedChart &chart) { onPrepared(chart); });
    m_requestMs = timer.elapsed();
}

void ChartsPanel::onPrepared(const PreparedChart &chart)
{
    QElapsedTimer timer;
    timer.start();
    apply(chart);
    m_lastApplyMs = timer.elapsed();
    // What the coalescing delay adapts to: the whole rebuild, worker included,
    // so that a huge experiment is not prepared back to back.
    m_lastRebuildMs = m_requestMs + chart.prepareMs + m_lastApplyMs;
    ++m_rebuildCount;
    Q_EMIT rebuilt();
}

void ChartsPanel::apply(PreparedChart chart)
{
    const QString &name = chart.request.result;
    const Objective obj = chart.request.objective;
    const QLocale locale;
    switch (chart.request.kind) {
    case ChartKind::History: {
        HistoryData &data = chart.history;
        m_info = tr("%1 finished jobs").arg(locale.toString(data.points.size()));
        if (!data.bestId.isEmpty())
            m_info += tr(" · best %1 (%2)").arg(data.best.last().y(), 0, 'g', 6).arg(data.bestId);
        if (data.skipped > 0)
            m_info += tr(" · %1 without a number").arg(locale.toString(data.skipped));
        m_history->setData(std::move(data), name, obj);
        break;
    }
    case ChartKind::Scatter: {
        ScatterData &data = chart.scatter;
        m_info = tr("%1 jobs").arg(locale.toString(data.points.size()));
        if (data.skipped > 0)
            m_info += tr(" · %1 not plotted (not numeric)").arg(locale.toString(data.skipped));
        m_scatter->setData(std::move(data), chart.request.hyperparameter, name);
        break;
    }
    case ChartKind::Parallel: {
        ParallelData &data = chart.parallel;
        m_info =
            tr("%1 finished jobs × %2 axes").arg(locale.toString(data.lineCount())).arg(data.axes.size());
        m_parallel->setData(std::move(data), name, obj);
        break;
    }
    case ChartKind::Curves: {
        CurveData &data = chart.curves;
        m_info =
            tr("%1 of %2 curves").arg(locale.toString(data.curves.size()), locale.toString(data.candidates));
        m_curves->setData(std::move(data), name, obj);
        break;
    }
    case ChartKind::Lineage: {
        LineageGraph &graph = chart.lineage;
        m_info = tr("%1 × %2 · %3")
                     .arg(format::count(graph.members.size(), tr("member")),
                          format::count(graph.maxGeneration + 1, tr("generation")),
                          format::count(graph.exploitCount, tr("exploit step")));
        m_lineage->setData(std::move(graph), name, obj, m_lineageLayout);
        break;
    }
    }
    for (XYChartView *view : {static_cast<XYChartView *>(m_history), static_cast<XYChartView *>(m_scatter),
                              static_cast<XYChartView *>(m_curves), static_cast<XYChartView *>(m_lineage)})
        view->setSelectedIds(m_selectedIds);
    m_parallel->setSelectedIds(m_selectedIds);
    updateControls();
}

void ChartsPanel::onSelectionChanged()
{
    QSet<QString> ids;
    if (m_selection && m_model && m_selection->model() == m_model) {
        for (const QItemSelectionRange &range : m_selection->selection()) {
            for (int row = range.top(); row <= range.bottom(); ++row)
                ids.insert(m_model->rowAt(row).id);
        }
    }
    if (ids == m_selectedIds)
        return;
    m_selectedIds = ids;
    for (XYChartView *chart : {static_cast<XYChartView *>(m_history), static_cast<XYChartView *>(m_scatter),
                               static_cast<XYChartView *>(m_curves), static_cast<XYChartView *>(m_lineage)})
        chart->setSelectedIds(ids);
    m_parallel->setSelectedIds(ids);
    if (m_chart == Chart::Curves) // the selection decides which curves are shown
        scheduleRebuild();
}

void ChartsPanel::selectJob(const QString &id, Qt::KeyboardModifiers modifiers)
{
    if (!m_model || !m_selection)
        return;
    const int row = m_model->rowOf(id);
    if (row < 0)
        return;
    const QModelIndex index = m_model->index(row, 0);
    const auto flags =
        (modifiers & Qt::ControlModifier) ? QItemSelectionModel::Toggle : QItemSelectionModel::ClearAndSelect;
    m_selection->setCurrentIndex(index, flags | QItemSelectionModel::Rows);
}

QString ChartsPanel::describeJob(const QString &id) const
{
    if (!m_model)
        return id.toHtmlEscaped();
    const int row = m_model->rowOf(id);
    if (row < 0)
        return id.toHtmlEscaped();
    const Job job = m_model->job(row);
    QString text = QStringLiteral("<b>%1</b> · <span style='color:%2'>%3</span>")
                       .arg(job.id.toHtmlEscaped(), format::statusColor(job.status).name(),
                            format::statusLabel(job.status));
    if (job.generation)
        text += tr(" · generation %1").arg(*job.generation);
    text += QStringLiteral("<table cellspacing='0' cellpadding='1'>");
    int shown = 0;
    for (auto it = job.hyperparameters.begin(); it != job.hyperparameters.end(); ++it) {
        if (++shown > 16) {
            text += QStringLiteral("<tr><td colspan='2'>…</td></tr>");
            break;
        }
        text += QStringLiteral("<tr><td style='color:gray'>%1&nbsp;</td><td>%2</td></tr>")
                    .arg(it.key().toString().toHtmlEscaped(), format::display(it.value()).toHtmlEscaped());
    }
    text += QStringLiteral("</table>");
    return text;
}

bool ChartsPanel::exportPng(const QString &path, QString *error)
{
    const bool ok = ChartExporter::savePng(*currentExportable(), path, error);
    if (ok)
        Q_EMIT exported(path);
    return ok;
}

bool ChartsPanel::exportSvg(const QString &path, QString *error)
{
    const bool ok = ChartExporter::saveSvg(*currentExportable(), path, error);
    if (ok)
        Q_EMIT exported(path);
    return ok;
}

void ChartsPanel::resetZoom()
{
    currentExportable()->resetZoom();
    updateControls();
}

void ChartsPanel::exportWithDialog(bool svg)
{
    QString base = m_experiment.name;
    base.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9._-]+")), QStringLiteral("-"));
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    const QString suggested = QDir(dir.isEmpty() ? QDir::homePath() : dir)
                                  .filePath(base + QLatin1Char('-') + chartName(m_chart) +
                                            (svg ? QStringLiteral(".svg") : QStringLiteral(".png")));
    const QString path =
        QFileDialog::getSaveFileName(this, svg ? tr("Export chart as SVG") : tr("Export chart as PNG"),
                                     suggested, svg ? tr("SVG drawing (*.svg)") : tr("PNG image (*.png)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!(svg ? exportSvg(path, &error) : exportPng(path, &error)))
        QMessageBox::warning(this, tr("Export chart"), error);
}

} // namespace schedy::charts
