#pragma once

#include <QObject>

class QTableView;

namespace schedy {

// Keeps a table's first column (the job id) in view while the table is scrolled sideways: a
// second view over the same model, selection and delegate, showing that column only, laid over
// the table's left edge while the table is scrolled. Clicks select as in the table.
class FrozenColumn : public QObject
{
    Q_OBJECT
public:
    explicit FrozenColumn(QTableView *table);
    QTableView *view() const { return m_frozen; }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void syncColumns();
    void place();

    QTableView *m_table;
    QTableView *m_frozen;
};

} // namespace schedy
