#pragma once

#include "Types.h"

#include <QGroupBox>
#include <QStringList>

#include <optional>

class QComboBox;
class QLabel;
class QSpinBox;
class QStackedWidget;
class QTableWidget;

namespace schedy {

class ResultPicker;

// The "Search strategy" section of the experiment editor (docs/protocol.md
// 8.1): random draws, a grid with its points per numeric hyperparameter (and
// how many points that makes), a Sobol sequence, or TPE on a result.
class SamplerEditor : public QGroupBox
{
    Q_OBJECT
public:
    explicit SamplerEditor(QWidget *parent = nullptr);

    // Replaces the content; emits nothing. nullopt: random draws.
    void setSampler(const std::optional<SamplerSpec> &sampler);
    // nullopt for random draws (the key is then left out, which is the same).
    std::optional<SamplerSpec> sampler() const;
    // The experiment's scheduler: its numeric hyperparameters get grid steps; only a
    // random search has a sampler (the section is disabled otherwise).
    void setScheduler(const Scheduler &scheduler);
    void setResultNames(const QStringList &names);
    // Problems, one line each, named as the form labels them.
    QStringList errors() const;
    QString gridText() const; // "60 points"

Q_SIGNALS:
    void edited();

private:
    void showKind();
    void updateGridSize();
    QSpinBox *seedSpin(const QString &name);

    Scheduler m_scheduler;
    QComboBox *m_kind;
    QStackedWidget *m_pages;
    QTableWidget *m_grid;
    QLabel *m_gridPoints;
    QSpinBox *m_sobolSeed;
    ResultPicker *m_result;
    QSpinBox *m_startupJobs;
    QSpinBox *m_candidates;
    QSpinBox *m_tpeSeed;
    QLabel *m_note;
    QMap<QString, qint64> m_steps; // kept for hyperparameters that come and go
};

} // namespace schedy
