#pragma once

#include "Types.h"

#include <QCborMap>
#include <QStringList>
#include <QWidget>

#include <memory>
#include <optional>

namespace Ui {
class ValueMapEditor;
}
class QComboBox;
class QLabel;
class QLineEdit;
class QStringListModel;
class QToolButton;

namespace schedy {

// Named JSON values, such as a job's hyperparameters or results: one row per
// name with an input that fits what is known about it (a number for a
// uniform, log-uniform or normal hyperparameter, the values of a choice to
// pick from), and a note beside it with the expected range or the problem.
// A row without a value is not sent.
class ValueMapEditor : public QWidget
{
    Q_OBJECT
public:
    struct Field
    {
        QString name;
        std::optional<Distribution> distribution; // what the experiment draws, when known
    };

    explicit ValueMapEditor(QWidget *parent = nullptr);
    ~ValueMapEditor() override;

    // The known names, one row each, values empty; replaces the rows.
    void setFields(const QList<Field> &fields);
    // Fills in values: known names get theirs, others get a new row; every other value is cleared.
    void setValues(const QCborMap &values);
    // Rows with a name and a value, in order.
    QCborMap values() const;
    bool isValid() const;
    // Problems, one line each, named as the form shows them; `at` is the editor's wire path
    // ({"hyperparameters"} -> "Hyperparameters, lr: must be a number"; see editors::fieldLabel()).
    QStringList errors(const QStringList &at) const;
    // Names offered while typing a new row's name.
    void setNameSuggestions(const QStringList &names);
    void setValuePlaceholder(const QString &text) { m_placeholder = text; }

    int rowCount() const { return int(m_rows.size()); }
    int addRow(const QString &name = {}, const QString &valueText = {});
    int rowOf(const QString &name) const;
    QLineEdit *nameInput(int row) const;
    // The line edit that holds the value text (a combo box's own for choices).
    QLineEdit *valueInput(int row) const;
    QString note(int row) const;
    void setValueText(int row, const QString &text);
    std::optional<Distribution> distributionOf(int row) const;

Q_SIGNALS:
    void edited();

private:
    struct Row
    {
        QLineEdit *name = nullptr;
        QLineEdit *value = nullptr; // for a choice: the combo box's line edit
        QComboBox *choice = nullptr;
        QLabel *note = nullptr;
        QToolButton *remove = nullptr;
        std::optional<Distribution> distribution;
    };
    struct Check
    {
        QString error;
        QString hint;
        bool unusual = false; // allowed, but not what the scheduler would draw
    };

    int addRow(const QString &name, const QString &valueText,
               const std::optional<Distribution> &distribution);
    Check check(int row) const;
    void revalidate();
    void removeRow(QToolButton *button);
    void userEdited();

    std::unique_ptr<Ui::ValueMapEditor> m_ui;
    QList<Row> m_rows;
    QStringListModel *m_suggestions;
    QString m_placeholder;
    bool m_loading = false;
};

} // namespace schedy
