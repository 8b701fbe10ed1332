#pragma once

#include "Types.h"

#include <QGroupBox>
#include <QStringList>

#include <optional>

class QComboBox;
class QLabel;
class QSpinBox;
class QStackedWidget;

namespace schedy {

class ResultPicker;

// The "Early stopping" section of the experiment editor (docs/protocol.md
// 8.2): none, the median rule, or ASHA, on a learning curve (a list-valued
// result) and with their settings.
class PrunerEditor : public QGroupBox
{
    Q_OBJECT
public:
    explicit PrunerEditor(QWidget *parent = nullptr);

    void setPruner(const std::optional<PrunerSpec> &pruner); // emits nothing
    std::optional<PrunerSpec> pruner() const;                // nullopt: no early stopping
    // A PBT experiment has no pruner: the section is disabled then.
    void setScheduler(const Scheduler &scheduler);
    void setResultNames(const QStringList &names);
    QStringList errors() const;

Q_SIGNALS:
    void edited();

private:
    void showKind();

    QComboBox *m_kind;
    QWidget *m_settings;
    ResultPicker *m_result;
    QStackedWidget *m_pages;
    QSpinBox *m_startupJobs;
    QSpinBox *m_warmupSteps;
    QSpinBox *m_minSteps;
    QSpinBox *m_reductionFactor;
    QLabel *m_rungs;
    QLabel *m_note;
};

} // namespace schedy
