#include "PrunerEditor.h"

#include "Codec.h"
#include "PolicyText.h"
#include "ResultPicker.h"

#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace schedy {

namespace {
// The data of "None" in the kind combo.
constexpr int NoPruner = -1;

QSpinBox *spin(QWidget *parent, int minimum, int maximum, const QString &name, const QString &tip)
{
    auto *s = new QSpinBox(parent);
    s->setObjectName(name);
    s->setRange(minimum, maximum);
    s->setToolTip(tip);
    return s;
}
} // namespace

PrunerEditor::PrunerEditor(QWidget *parent)
    : QGroupBox(tr("Early stopping"), parent)
    , m_kind(new QComboBox(this))
    , m_settings(new QWidget(this))
    , m_result(new ResultPicker(tr("a result reported as a list, e.g. loss"), m_settings))
    , m_pages(new QStackedWidget(m_settings))
    , m_rungs(new QLabel(this))
    , m_note(new QLabel(this))
{
    setObjectName(QStringLiteral("prunerEditor"));
    m_kind->setObjectName(QStringLiteral("prunerKind"));
    m_kind->addItem(tr("None: every job runs to its end"), NoPruner);
    m_kind->addItem(tr("Median rule"), int(PrunerSpec::Kind::Median));
    m_kind->addItem(tr("ASHA (successive halving)"), int(PrunerSpec::Kind::Asha));
    m_note->setWordWrap(true);
    m_note->setForegroundRole(QPalette::PlaceholderText);
    m_rungs->setWordWrap(true);
    m_rungs->setForegroundRole(QPalette::PlaceholderText);

    auto *median = new QWidget(m_pages);
    auto *medianForm = new QFormLayout(median);
    medianForm->setContentsMargins(0, 0, 0, 0);
    m_startupJobs = spin(median, 0, 1000000, QStringLiteral("prunerStartupJobs"),
                         tr("No job is stopped before this many jobs are DONE"));
    m_warmupSteps = spin(median, 0, 1000000, QStringLiteral("warmupSteps"),
                         tr("No job is stopped before its curve has more values than this"));
    medianForm->addRow(tr("After DONE jobs"), m_startupJobs);
    medianForm->addRow(tr("Warm-up steps"), m_warmupSteps);
    m_pages->addWidget(median);

    auto *asha = new QWidget(m_pages);
    auto *ashaForm = new QFormLayout(asha);
    ashaForm->setContentsMargins(0, 0, 0, 0);
    m_minSteps = spin(asha, 1, 1000000, QStringLiteral("minSteps"), tr("The step of the first rung"));
    m_reductionFactor = spin(asha, 2, 1000, QStringLiteral("reductionFactor"),
                             tr("η: rungs at min steps × η^k; the best 1/η at a rung go on"));
    ashaForm->addRow(tr("First rung at step"), m_minSteps);
    ashaForm->addRow(tr("Reduction factor"), m_reductionFactor);
    m_pages->addWidget(asha);

    auto *form = new QFormLayout(m_settings);
    form->setContentsMargins(0, 0, 0, 0);
    form->addRow(tr("Curve"), m_result);
    form->addRow(m_pages);
    form->addRow(m_rungs);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_kind);
    layout->addWidget(m_settings);
    layout->addWidget(m_note);

    connect(m_kind, &QComboBox::currentIndexChanged, this, [this] {
        showKind();
        Q_EMIT edited();
    });
    for (QSpinBox *s : {m_startupJobs, m_warmupSteps, m_minSteps, m_reductionFactor}) {
        connect(s, &QSpinBox::valueChanged, this, [this] {
            showKind();
            Q_EMIT edited();
        });
    }
    connect(m_result, &ResultPicker::edited, this, &PrunerEditor::edited);
    setPruner(std::nullopt);
}

void PrunerEditor::showKind()
{
    const auto p = pruner();
    m_settings->setVisible(p.has_value());
    if (p)
        m_pages->setCurrentIndex(p->kind == PrunerSpec::Kind::Median ? 0 : 1);
    m_rungs->setText(p ? describe(*p) : QString());
}

void PrunerEditor::setPruner(const std::optional<PrunerSpec> &pruner)
{
    const QSignalBlocker block(this);
    const PrunerSpec p = pruner.value_or(PrunerSpec{});
    m_kind->setCurrentIndex(m_kind->findData(pruner ? int(p.kind) : NoPruner));
    m_result->setValue(p.result, p.direction);
    m_startupJobs->setValue(int(p.medianStartupJobs()));
    m_warmupSteps->setValue(int(p.medianWarmupSteps()));
    m_minSteps->setValue(int(p.ashaMinSteps()));
    m_reductionFactor->setValue(int(p.ashaReductionFactor()));
    showKind();
}

std::optional<PrunerSpec> PrunerEditor::pruner() const
{
    const int kind = m_kind->currentData().toInt();
    if (kind == NoPruner)
        return std::nullopt;
    PrunerSpec p;
    p.kind = PrunerSpec::Kind(kind);
    p.result = m_result->name();
    p.direction = m_result->direction();
    // Defaults are left out, as the server writes them back.
    const auto set = [](std::optional<qint64> *key, const QSpinBox *s, qint64 fallback) {
        if (s->value() != fallback)
            *key = s->value();
    };
    if (p.kind == PrunerSpec::Kind::Median) {
        set(&p.startupJobs, m_startupJobs, PrunerSpec::DefaultMedianStartupJobs);
        set(&p.warmupSteps, m_warmupSteps, PrunerSpec::DefaultMedianWarmupSteps);
    } else {
        set(&p.minSteps, m_minSteps, PrunerSpec::DefaultAshaMinSteps);
        set(&p.reductionFactor, m_reductionFactor, PrunerSpec::DefaultAshaReductionFactor);
    }
    return p;
}

void PrunerEditor::setScheduler(const Scheduler &scheduler)
{
    const bool applies = scheduler.kind != Scheduler::Kind::Pbt;
    setEnabled(applies);
    m_note->setText(applies ? QString() : tr("PBT continues its best members itself: no early stopping."));
    m_note->setVisible(!applies);
}

void PrunerEditor::setResultNames(const QStringList &names)
{
    m_result->setNames(names);
}

QStringList PrunerEditor::errors() const
{
    const auto p = pruner();
    if (!isEnabled() || !p)
        return {};
    if (p->result.isEmpty())
        return {tr("Early stopping: name the curve it watches (a result reported as a list)")};
    const auto decoded = codec::decodePruner(codec::encode(*p));
    if (!decoded)
        return {tr("Early stopping: %1").arg(decoded.error().message())};
    return {};
}

} // namespace schedy
