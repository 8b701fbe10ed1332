#pragma once

#include "SearchPolicy.h"

#include <QStringList>
#include <QWidget>

class QComboBox;

namespace schedy {

// A result name (typed, or picked from the experiment's results) and whether
// it is minimized or maximized: what TPE models and what a pruner watches.
class ResultPicker : public QWidget
{
    Q_OBJECT
public:
    explicit ResultPicker(const QString &placeholder, QWidget *parent = nullptr);

    void setNames(const QStringList &names);
    void setValue(const QString &name, Objective direction);
    QString name() const;
    Objective direction() const;
    QComboBox *nameCombo() const { return m_name; }

Q_SIGNALS:
    void edited();

private:
    QComboBox *m_name;
    QComboBox *m_direction;
};

} // namespace schedy
