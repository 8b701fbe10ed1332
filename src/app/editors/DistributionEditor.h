#pragma once

#include "Types.h"

#include <QSet>
#include <QStringList>
#include <QWidget>

#include <memory>
#include <optional>

namespace Ui {
class DistributionEditor;
}

namespace schedy {

class DistributionPreview;

// Hyperparameters and the distributions their values are drawn from (random
// search, and PBT's initial population): a list to add, remove, rename and
// reorder them, and per hyperparameter its kind with inputs that fit it, the
// reason next to any invalid input, and a live preview of the samples.
class DistributionEditor : public QWidget
{
    Q_OBJECT
public:
    explicit DistributionEditor(QWidget *parent = nullptr);
    ~DistributionEditor() override;

    // Replaces the content (keeps the selected row when it still exists); emits nothing.
    void setDistributions(const Distributions &distributions);
    // The valid rows as values, in order; see isValid().
    Distributions distributions() const;
    bool isValid() const;
    // Every problem, one line each, with the field named as the form labels it
    // ("lr, low: must be greater than 0"); `at` is the editor's wire path ({"RandomSearch"}),
    // see editors::fieldLabel().
    QStringList errors(const QStringList &at) const;
    // The problems shown in red: not those of a field left empty that the user has not edited yet
    // (a fresh choice value, the mean of a row just switched to normal), unless revealed.
    QStringList shownErrors(const QStringList &at) const;
    // Shows the messages again, e.g. after editors::revealProblems() on the dialog.
    void refreshProblems() { revalidate(); }
    QStringList names() const;

    int rowCount() const;
    int currentRow() const { return m_current; }
    void setCurrentRow(int row);
    // Appends a hyperparameter and selects it.
    void addHyperparameter(const QString &name, const Distribution &distribution);
    void removeCurrent();
    void moveCurrent(int delta);
    DistributionPreview *preview() const;

Q_SIGNALS:
    // The user changed something (not emitted by setDistributions).
    void edited();

private:
    struct ChoiceItem
    {
        QString value;
        QString weight;
        bool valueTouched = false, weightTouched = false; // edited by the user
    };
    struct Row
    {
        QString name;
        Distribution::Kind kind = Distribution::Kind::Uniform;
        QString low, high, mean, std, constant;
        QList<ChoiceItem> choices;
        bool weighted = false;
        QSet<QString> touched; // fields the user edited: "name", "low", …, "values" (the list)
    };
    struct Check
    {
        QString name, low, high, mean, std, choice, constant;
        QStringList values, weights; // per choice item; empty text when fine
        std::optional<Distribution> value;
        bool ok() const { return value.has_value() && name.isEmpty(); }
        QString first() const;
    };

    static Row rowFrom(const NamedDistribution &nd);
    Check check(int index) const;
    // m_checks[index] without the messages that wait for the user (see shownErrors()).
    Check shownCheck(int index) const;
    QStringList errorLines(bool shownOnly, const QStringList &at) const;
    void revalidate();
    void updateTableRow(int index);
    void selectRow(int index);
    void loadRow();
    void showCurrentCheck();
    void rebuildChoiceTable();
    void onSelectionChanged();
    void onKindChanged(int comboIndex);
    void onFieldEdited();
    void addChoiceValue();
    void removeChoiceValue(int index);
    void setWeighted(bool weighted);
    void userEdited();
    QString summary(int index) const;
    Row &current() { return m_rows[m_current]; }

    std::unique_ptr<Ui::DistributionEditor> m_ui;
    QList<Row> m_rows;
    QList<Check> m_checks;
    int m_current = -1;
    int m_nextNumber = 1;
    bool m_loading = false;
};

} // namespace schedy
