#include "LeaseEditor.h"

#include <QCheckBox>
#include <QFormLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSpinBox>

namespace schedy {

LeaseEditor::LeaseEditor(QWidget *parent)
    : QGroupBox(tr("Lost workers"), parent)
    , m_enabled(new QCheckBox(tr("Declare a RUNNING job lost when its worker falls silent"), this))
    , m_seconds(new QSpinBox(this))
    , m_retries(new QSpinBox(this))
{
    setObjectName(QStringLiteral("leaseEditor"));
    m_enabled->setObjectName(QStringLiteral("leaseEnabled"));
    m_seconds->setObjectName(QStringLiteral("leaseSeconds"));
    m_seconds->setRange(1, int(LeaseSpec::MaxSeconds));
    m_seconds->setSuffix(tr(" s"));
    m_retries->setObjectName(QStringLiteral("leaseRetries"));
    m_retries->setRange(0, int(LeaseSpec::MaxRetries));
    auto *hint =
        new QLabel(tr("A lost job is CRASHED and, except under PBT (which gives the member back), "
                      "a new QUEUED job with its hyperparameters takes its place. schedy run and the "
                      "C++ Worker heartbeat every third of the lease; workers of the original Python "
                      "client only report, so make it longer than their longest gap between reports."),
                   this);
    hint->setWordWrap(true);
    hint->setForegroundRole(QPalette::PlaceholderText);
    auto *form = new QFormLayout(this);
    form->addRow(m_enabled);
    form->addRow(tr("Silent for more than"), m_seconds);
    form->addRow(tr("Replacements along a chain"), m_retries);
    form->addRow(hint);
    connect(m_enabled, &QCheckBox::toggled, this, [this] {
        showState();
        Q_EMIT edited();
    });
    for (QSpinBox *s : {m_seconds, m_retries})
        connect(s, &QSpinBox::valueChanged, this, &LeaseEditor::edited);
    setLease(std::nullopt);
}

void LeaseEditor::showState()
{
    m_seconds->setEnabled(m_enabled->isChecked());
    m_retries->setEnabled(m_enabled->isChecked());
}

void LeaseEditor::setLease(const std::optional<LeaseSpec> &lease)
{
    const QSignalBlocker block(this);
    const QSignalBlocker blockBox(m_enabled);
    const LeaseSpec l = lease.value_or(LeaseSpec{});
    m_enabled->setChecked(lease.has_value());
    m_seconds->setValue(int(l.seconds));
    m_retries->setValue(int(l.effectiveRetries()));
    showState();
}

std::optional<LeaseSpec> LeaseEditor::lease() const
{
    if (!m_enabled->isChecked())
        return std::nullopt;
    LeaseSpec l;
    l.seconds = m_seconds->value();
    if (m_retries->value() != LeaseSpec::DefaultRetries)
        l.retries = m_retries->value();
    return l;
}

} // namespace schedy
