#pragma once

#include "Types.h"

#include <QCborValue>
#include <QList>
#include <QString>
#include <QStringList>

// The original command line's table model (columns named by category and
// name, added in order of first appearance) and its three outputs: tabulate's
// "psql" and "plain" formats and paragraphs.
namespace schedy::cli {

struct Column
{
    QString category; // "schedy", "hyperparameter" or "result"
    QString name;
    friend bool operator==(const Column &a, const Column &b)
    {
        return a.category == b.category && a.name == b.name;
    }
};

enum class TableFormat { Psql, Plain };

class TableData
{
public:
    static const QString DefaultCategory; // "schedy"

    // One row; a cell whose value is undefined or null is empty ("None").
    void addRow(const QList<QPair<Column, QCborValue>> &cells);

    const QList<Column> &columns() const { return m_columns; }
    const QList<QList<QCborValue>> &rows() const { return m_rows; }
    int rowCount() const { return int(m_rows.size()); }

    // Short names, or "category.name" where two columns would look alike.
    QStringList headerNames(bool explicitNames = false) const;
    // Each returns an error message ('Field "X" not found or ambiguous.'), empty on success.
    QString sort(const QStringList &fields, bool reverse);
    QString filterFields(const QStringList &fields);
    void filterCategories(const QStringList &categories);
    // Keeps rows [from, from + count).
    void sliceRows(int from, int count);

    // The text printed, with its final newline (paragraphs of no rows: nothing).
    QString paragraphs() const;
    QString table(TableFormat format, bool withHeaders) const;

private:
    QString fieldIndices(const QStringList &fields, QList<int> *indices) const;
    void filterColumns(const QList<int> &indices);
    QCborValue cell(int row, int column) const;

    QList<Column> m_columns;
    QList<QList<QCborValue>> m_rows;
};

// tabulate(rows, headers, tablefmt) without the final newline.
QString tabulate(const QList<QList<QCborValue>> &rows, const QStringList &headers, TableFormat format);

// The rows of the original `schedy list` and `schedy show`.
TableData experimentTable(const QList<Experiment> &experiments);
TableData jobTable(const QList<Job> &jobs);

} // namespace schedy::cli
