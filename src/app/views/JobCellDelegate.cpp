#include "JobCellDelegate.h"

#include "JobTableModel.h"
#include "ValueFormat.h"

#include <QApplication>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>

namespace schedy {

void JobCellDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option,
                            const QModelIndex &index) const
{
    if (index.column() == JobTableModel::StatusColumn) {
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        const QString text = opt.text;
        opt.text.clear();
        QApplication::style()->drawControl(QStyle::CE_ItemViewItem, &opt, painter, opt.widget);
        const QColor color = format::statusColor(JobStatus(index.data(JobTableModel::StatusRole).toInt()));
        const QRect r = opt.rect.adjusted(6, 0, -4, 0);
        const int d = std::min(9, r.height() - 6);
        painter->save();
        painter->setRenderHint(QPainter::Antialiasing);
        if (index.data(JobTableModel::StaleRole).toBool()) {
            painter->setPen(QPen(color, 1.5)); // hollow: only the last known status
            painter->setBrush(Qt::NoBrush);
        } else {
            painter->setPen(Qt::NoPen);
            painter->setBrush(color);
        }
        painter->drawEllipse(QRect(r.left(), r.center().y() - d / 2, d, d));
        painter->setPen(opt.state & QStyle::State_Selected ? opt.palette.highlightedText().color()
                                                           : color.darker(115));
        painter->drawText(r.adjusted(d + 6, 0, 0, 0), Qt::AlignVCenter | Qt::AlignLeft, text);
        painter->restore();
        return;
    }
    const QVariant curveValue = index.data(JobTableModel::CurveRole);
    if (curveValue.isValid()) {
        const QList<double> points = curveValue.value<QList<double>>();
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        const QString text = opt.text;
        opt.text.clear();
        QApplication::style()->drawControl(QStyle::CE_ItemViewItem, &opt, painter, opt.widget);
        const QRect r = opt.rect.adjusted(4, 3, -4, -3);
        const int textWidth = opt.fontMetrics.horizontalAdvance(text) + 6;
        const QRect spark(r.left(), r.top(), std::max(0, r.width() - textWidth), r.height());
        painter->save();
        if (points.size() >= 2 && spark.width() > 12) {
            const auto [lo, hi] = std::minmax_element(points.begin(), points.end());
            const double span = *hi - *lo > 0 ? *hi - *lo : 1.0;
            QPainterPath path;
            for (int i = 0; i < points.size(); ++i) {
                const QPointF p(spark.left() + spark.width() * double(i) / double(points.size() - 1),
                                spark.bottom() - spark.height() * (points[i] - *lo) / span);
                if (i == 0)
                    path.moveTo(p);
                else
                    path.lineTo(p);
            }
            painter->setRenderHint(QPainter::Antialiasing);
            painter->setPen(QPen(opt.state & QStyle::State_Selected ? opt.palette.highlightedText().color()
                                                                    : QColor(0x1e, 0x78, 0xd2),
                                 1.2));
            painter->drawPath(path);
        }
        painter->setPen(opt.state & QStyle::State_Selected ? opt.palette.highlightedText().color()
                                                           : opt.palette.text().color());
        painter->drawText(r, Qt::AlignVCenter | Qt::AlignRight, text);
        painter->restore();
        return;
    }
    QStyledItemDelegate::paint(painter, option, index);
}

QSize JobCellDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    QSize s = QStyledItemDelegate::sizeHint(option, index);
    if (index.data(JobTableModel::CurveRole).isValid())
        s.setWidth(s.width() + 70);
    if (index.column() == JobTableModel::StatusColumn)
        s.setWidth(s.width() + 24); // the dot and its gap

    return s;
}

} // namespace schedy
