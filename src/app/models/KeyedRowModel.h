#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <QList>
#include <QString>

namespace schedy {

// The boilerplate of a table whose rows have a unique key (an experiment's
// name, a job's id): storage, lookup by key, and change notifications for
// in-place updates, appends, inserts and removals. Subclasses add columns.
template <typename Row> class KeyedRowModel : public QAbstractTableModel
{
public:
    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex &parent = {}) const override
    {
        return parent.isValid() ? 0 : int(m_rows.size());
    }
    const Row &rowAt(int row) const { return m_rows.at(row); }
    int rowOf(const QString &key) const { return m_index.value(key, -1); }
    const QList<Row> &rows() const { return m_rows; }

protected:
    virtual QString keyOf(const Row &row) const = 0;

    void resetRows(QList<Row> rows)
    {
        beginResetModel();
        m_rows = std::move(rows);
        rebuildIndex();
        endResetModel();
    }

    // Updates rows whose key is known, appends the others in one insertion.
    void mergeAppend(const QList<Row> &rows)
    {
        QList<Row> fresh;
        for (const Row &r : rows) {
            const int at = rowOf(keyOf(r));
            if (at >= 0)
                replaceRow(at, r);
            else
                fresh.append(r);
        }
        if (fresh.isEmpty())
            return;
        const int first = int(m_rows.size());
        beginInsertRows({}, first, first + int(fresh.size()) - 1);
        for (Row &r : fresh) {
            m_index.insert(keyOf(r), int(m_rows.size()));
            m_rows.append(std::move(r));
        }
        endInsertRows();
    }

    void replaceRow(int row, const Row &r)
    {
        m_rows[row] = r;
        Q_EMIT dataChanged(index(row, 0), index(row, columnCount() - 1));
    }

    void insertRowAt(int row, const Row &r)
    {
        beginInsertRows({}, row, row);
        m_rows.insert(row, r);
        rebuildIndex();
        endInsertRows();
    }

    void removeRowAt(int row)
    {
        beginRemoveRows({}, row, row);
        m_rows.removeAt(row);
        rebuildIndex();
        endRemoveRows();
    }

    QList<Row> &mutableRows() { return m_rows; }

private:
    void rebuildIndex()
    {
        m_index.clear();
        m_index.reserve(m_rows.size());
        for (int i = 0; i < m_rows.size(); ++i)
            m_index.insert(keyOf(m_rows[i]), i);
    }

    QList<Row> m_rows;
    QHash<QString, int> m_index;
};

} // namespace schedy
