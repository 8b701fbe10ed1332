#include "SamplerEditor.h"

#include "Codec.h"
#include "PolicyText.h"
#include "ResultPicker.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStackedWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <limits>

namespace schedy {

namespace {
constexpr int DefaultGridSteps = 5;

bool isNumeric(const Distribution &d)
{
    return d.kind == Distribution::Kind::Uniform || d.kind == Distribution::Kind::LogUniform ||
           d.kind == Distribution::Kind::Normal;
}

QSpinBox *countSpin(QWidget *parent, int minimum, int value, const QString &name)
{
    auto *spin = new QSpinBox(parent);
    spin->setObjectName(name);
    spin->setRange(minimum, 1000000);
    spin->setValue(value);
    return spin;
}
} // namespace

SamplerEditor::SamplerEditor(QWidget *parent)
    : QGroupBox(tr("Search strategy"), parent)
    , m_kind(new QComboBox(this))
    , m_pages(new QStackedWidget(this))
    , m_grid(new QTableWidget(0, 2, this))
    , m_gridPoints(new QLabel(this))
    , m_result(new ResultPicker(tr("e.g. loss"), this))
    , m_note(new QLabel(this))
{
    setObjectName(QStringLiteral("samplerEditor"));
    m_kind->setObjectName(QStringLiteral("samplerKind"));
    m_kind->addItem(tr("Random draws"), int(SamplerSpec::Kind::Random));
    m_kind->addItem(tr("Grid"), int(SamplerSpec::Kind::Grid));
    m_kind->addItem(tr("Sobol sequence"), int(SamplerSpec::Kind::Sobol));
    m_kind->addItem(tr("TPE (learns from finished jobs)"), int(SamplerSpec::Kind::Tpe));
    m_note->setWordWrap(true);
    m_note->setForegroundRole(QPalette::PlaceholderText);

    auto *random = new QLabel(tr("Every new job draws its hyperparameters independently."), m_pages);
    random->setWordWrap(true);
    m_pages->addWidget(random);

    auto *grid = new QWidget(m_pages);
    auto *gridLayout = new QVBoxLayout(grid);
    gridLayout->setContentsMargins(0, 0, 0, 0);
    m_grid->setObjectName(QStringLiteral("gridSteps"));
    m_grid->setHorizontalHeaderLabels({tr("Numeric hyperparameter"), tr("Points")});
    m_grid->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_grid->verticalHeader()->hide();
    m_grid->setMaximumHeight(150);
    m_gridPoints->setObjectName(QStringLiteral("gridPoints"));
    gridLayout->addWidget(m_grid);
    gridLayout->addWidget(m_gridPoints);
    m_pages->addWidget(grid);

    auto *sobol = new QWidget(m_pages);
    auto *sobolForm = new QFormLayout(sobol);
    sobolForm->setContentsMargins(0, 0, 0, 0);
    m_sobolSeed = seedSpin(QStringLiteral("sobolSeed"));
    sobolForm->addRow(tr("Seed"), m_sobolSeed);
    m_pages->addWidget(sobol);

    auto *tpe = new QWidget(m_pages);
    auto *tpeForm = new QFormLayout(tpe);
    tpeForm->setContentsMargins(0, 0, 0, 0);
    m_startupJobs = countSpin(tpe, 0, int(SamplerSpec::DefaultTpeStartupJobs), QStringLiteral("startupJobs"));
    m_startupJobs->setToolTip(tr("Random draws until this many jobs are DONE or PRUNED"));
    m_candidates = countSpin(tpe, 1, int(SamplerSpec::DefaultTpeCandidates), QStringLiteral("candidates"));
    m_candidates->setToolTip(tr("Candidates drawn from the good jobs' model for each new job"));
    m_tpeSeed = seedSpin(QStringLiteral("tpeSeed"));
    tpeForm->addRow(tr("Result"), m_result);
    tpeForm->addRow(tr("Random jobs first"), m_startupJobs);
    tpeForm->addRow(tr("Candidates"), m_candidates);
    tpeForm->addRow(tr("Seed"), m_tpeSeed);
    m_pages->addWidget(tpe);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_kind);
    layout->addWidget(m_pages);
    layout->addWidget(m_note);

    connect(m_kind, &QComboBox::currentIndexChanged, this, [this] {
        showKind();
        Q_EMIT edited();
    });
    for (QSpinBox *spin : {m_sobolSeed, m_startupJobs, m_candidates, m_tpeSeed})
        connect(spin, &QSpinBox::valueChanged, this, &SamplerEditor::edited);
    connect(m_result, &ResultPicker::edited, this, &SamplerEditor::edited);
    showKind();
}

QSpinBox *SamplerEditor::seedSpin(const QString &name)
{
    auto *spin = new QSpinBox(this);
    spin->setObjectName(name);
    spin->setRange(-1, std::numeric_limits<int>::max());
    spin->setSpecialValueText(tr("none (different every time)"));
    spin->setValue(-1);
    return spin;
}

void SamplerEditor::showKind()
{
    m_pages->setCurrentIndex(m_kind->currentIndex());
    updateGridSize();
}

void SamplerEditor::setSampler(const std::optional<SamplerSpec> &sampler)
{
    const QSignalBlocker block(this);
    const SamplerSpec s = sampler.value_or(SamplerSpec{});
    m_kind->setCurrentIndex(m_kind->findData(int(s.kind)));
    m_grid->setRowCount(0); // its values are not "typed so far": these steps replace them
    for (auto it = s.steps.begin(); it != s.steps.end(); ++it)
        m_steps.insert(it.key(), it.value());
    const int seed = s.seed && *s.seed <= std::numeric_limits<int>::max() ? int(*s.seed) : -1;
    m_sobolSeed->setValue(s.kind == SamplerSpec::Kind::Sobol ? seed : -1);
    m_tpeSeed->setValue(s.kind == SamplerSpec::Kind::Tpe ? seed : -1);
    m_result->setValue(s.result, s.direction);
    m_startupJobs->setValue(int(s.tpeStartupJobs()));
    m_candidates->setValue(int(s.tpeCandidates()));
    setScheduler(m_scheduler); // the grid's rows with these steps
    showKind();
}

std::optional<SamplerSpec> SamplerEditor::sampler() const
{
    SamplerSpec s;
    s.kind = SamplerSpec::Kind(m_kind->currentData().toInt());
    switch (s.kind) {
    case SamplerSpec::Kind::Random:
        return std::nullopt;
    case SamplerSpec::Kind::Grid:
        for (int row = 0; row < m_grid->rowCount(); ++row) {
            const auto *spin = qobject_cast<QSpinBox *>(m_grid->cellWidget(row, 1));
            s.steps.insert(m_grid->item(row, 0)->text(), spin->value());
        }
        break;
    case SamplerSpec::Kind::Sobol:
        if (m_sobolSeed->value() >= 0)
            s.seed = m_sobolSeed->value();
        break;
    case SamplerSpec::Kind::Tpe:
        s.result = m_result->name();
        s.direction = m_result->direction();
        // Defaults are left out, as the server writes them back.
        if (m_startupJobs->value() != SamplerSpec::DefaultTpeStartupJobs)
            s.startupJobs = m_startupJobs->value();
        if (m_candidates->value() != SamplerSpec::DefaultTpeCandidates)
            s.candidates = m_candidates->value();
        if (m_tpeSeed->value() >= 0)
            s.seed = m_tpeSeed->value();
        break;
    }
    return s;
}

void SamplerEditor::setScheduler(const Scheduler &scheduler)
{
    m_scheduler = scheduler;
    const bool applies = scheduler.kind == Scheduler::Kind::RandomSearch;
    setEnabled(applies);
    m_note->setText(applies ? QString() : tr("Only a random search has a search strategy."));
    m_note->setVisible(!applies);
    // Rows for the numeric hyperparameters, keeping the steps typed so far.
    for (int row = 0; row < m_grid->rowCount(); ++row)
        m_steps.insert(m_grid->item(row, 0)->text(),
                       qobject_cast<QSpinBox *>(m_grid->cellWidget(row, 1))->value());
    const QSignalBlocker block(this);
    m_grid->setRowCount(0);
    for (const NamedDistribution &nd : scheduler.distributions) {
        if (!isNumeric(nd.distribution))
            continue;
        const int row = m_grid->rowCount();
        m_grid->insertRow(row);
        auto *name = new QTableWidgetItem(nd.name);
        name->setFlags(Qt::ItemIsEnabled);
        m_grid->setItem(row, 0, name);
        auto *spin =
            countSpin(m_grid, 1, int(m_steps.value(nd.name, DefaultGridSteps)), QStringLiteral("steps"));
        m_grid->setCellWidget(row, 1, spin);
        connect(spin, &QSpinBox::valueChanged, this, [this] {
            updateGridSize();
            Q_EMIT edited();
        });
    }
    updateGridSize();
}

void SamplerEditor::setResultNames(const QStringList &names)
{
    m_result->setNames(names);
}

QString SamplerEditor::gridText() const
{
    const auto s = sampler();
    if (!s || s->kind != SamplerSpec::Kind::Grid)
        return {};
    const QString text = describe(*s, m_scheduler); // "grid, 60 points"
    return text.mid(text.indexOf(QLatin1Char(',')) + 2);
}

void SamplerEditor::updateGridSize()
{
    m_gridPoints->setText(
        tr("Every combination: %1 (choices give their values, constants one).").arg(gridText()));
}

QStringList SamplerEditor::errors() const
{
    if (!isEnabled())
        return {};
    const auto s = sampler();
    if (!s)
        return {};
    if (s->kind == SamplerSpec::Kind::Tpe && s->result.isEmpty())
        return {tr("Search strategy: TPE needs the result it learns from")};
    const auto decoded = codec::decodeSampler(codec::encode(*s));
    if (!decoded)
        return {tr("Search strategy: %1").arg(decoded.error().message())};
    Experiment e;
    e.scheduler = m_scheduler;
    e.sampler = s;
    if (const auto problem = codec::checkPolicies(e))
        return {tr("Search strategy: %1").arg(problem->reason)};
    return {};
}

} // namespace schedy
