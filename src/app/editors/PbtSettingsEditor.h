#pragma once

#include "Types.h"

#include <QStringList>
#include <QWidget>

#include <memory>

namespace Ui {
class PbtSettingsEditor;
}
class QLineEdit;
class QStringListModel;
class QToolButton;

namespace schedy {

class DistributionEditor;

// The settings of Population Based Training: objective, the result that
// ranks jobs, the exploit truncation, the explore perturbations, population
// size, generations, and the initial distributions.
class PbtSettingsEditor : public QWidget
{
    Q_OBJECT
public:
    explicit PbtSettingsEditor(QWidget *parent = nullptr);
    ~PbtSettingsEditor() override;

    // Replaces the content; emits nothing.
    void setSettings(const PbtSettings &settings);
    // The settings as entered (invalid fields keep their defaults; see isValid()).
    PbtSettings settings() const;
    bool isValid() const;
    // Every problem, one line each, with the field named as the form labels it
    // ("Truncate proportion: …"; see editors::fieldLabel()).
    QStringList errors() const;
    // The problems shown in red: not those of a field left empty that the user has not edited
    // yet (the quality result of a new PBT, a new explore row), unless revealed.
    QStringList shownErrors() const;
    // Shows the messages again, e.g. after editors::revealProblems() on the dialog.
    void refreshProblems();
    // Result names the jobs already report, offered as the quality result.
    void setResultNameSuggestions(const QStringList &names);
    DistributionEditor *initEditor() const;
    int exploreRowCount() const { return int(m_explore.size()); }
    void addExplore(const Perturb &perturb);

Q_SIGNALS:
    void edited();

private:
    struct ExploreRow
    {
        QLineEdit *name = nullptr;
        QLineEdit *minFactor = nullptr;
        QLineEdit *maxFactor = nullptr;
        QToolButton *remove = nullptr;
    };
    struct ExploreCheck
    {
        QString name, minFactor, maxFactor;
        bool ok() const { return name.isEmpty() && minFactor.isEmpty() && maxFactor.isEmpty(); }
    };

    void addExploreRow(const Perturb &perturb);
    void removeExploreRow(QToolButton *button);
    void clearExplore();
    Perturb exploreValue(int row, ExploreCheck *check) const;
    QString checkQuality() const;
    QString checkTruncate(double *value) const;
    void revalidate();
    // The input's message, or nothing while it is empty and untouched.
    static QString waitForUser(const QLineEdit *input, const QString &message);
    void trackTouched(QLineEdit *input);
    void updateHints();
    void userEdited();

    std::unique_ptr<Ui::PbtSettingsEditor> m_ui;
    QList<ExploreRow> m_explore;
    QStringListModel *m_hyperparameterNames;
    bool m_loading = false;
};

} // namespace schedy
