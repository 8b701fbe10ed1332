#pragma once

#include <QStyledItemDelegate>

namespace schedy {

// Paints a job status as a coloured dot and a curve-valued result as a
// sparkline next to its last value; everything else as usual.
class JobCellDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter *painter, const QStyleOptionViewItem &option,
               const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;
};

} // namespace schedy
