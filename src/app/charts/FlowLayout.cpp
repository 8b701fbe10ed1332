#include "FlowLayout.h"

#include <QWidget>

#include <algorithm>

namespace schedy::charts {

FlowLayout::FlowLayout(int trailing)
    : m_trailing(trailing)
{
    setContentsMargins(0, 0, 0, 0);
    setSpacing(6);
}

FlowLayout::~FlowLayout()
{
    while (QLayoutItem *item = takeAt(0))
        delete item;
}

void FlowLayout::addWidget(QWidget *widget, int gapBefore)
{
    addChildWidget(widget);
    m_gaps.append(gapBefore);
    m_items.append(new QWidgetItem(widget));
    invalidate();
}

void FlowLayout::addItem(QLayoutItem *item)
{
    m_gaps.append(0);
    m_items.append(item);
}

QLayoutItem *FlowLayout::takeAt(int index)
{
    if (index < 0 || index >= m_items.size())
        return nullptr;
    m_gaps.removeAt(index);
    return m_items.takeAt(index);
}

void FlowLayout::setGeometry(const QRect &rect)
{
    QLayout::setGeometry(rect);
    arrange(rect, true);
}

QSize FlowLayout::sizeHint() const
{
    int width = 0, height = 0;
    bool first = true;
    for (int i = 0; i < m_items.size(); ++i) {
        const QLayoutItem *item = m_items.at(i);
        if (item->isEmpty())
            continue;
        if (!first)
            width += spacing() + m_gaps.at(i);
        first = false;
        width += item->sizeHint().width();
        height = std::max(height, item->sizeHint().height());
    }
    const QMargins m = contentsMargins();
    return QSize(width + m.left() + m.right(), height + m.top() + m.bottom());
}

QSize FlowLayout::minimumSize() const
{
    QSize size;
    for (const QLayoutItem *item : m_items) {
        if (!item->isEmpty())
            size = size.expandedTo(item->minimumSize());
    }
    const QMargins m = contentsMargins();
    return size + QSize(m.left() + m.right(), m.top() + m.bottom());
}

int FlowLayout::arrange(const QRect &rect, bool apply) const
{
    const QRect r = rect.marginsRemoved(contentsMargins());
    const int available = std::max(r.width(), 0);
    struct Place
    {
        QLayoutItem *item;
        QSize size;
        int line;
        int x;
    };
    QList<Place> places;
    QList<int> lineHeights{0};
    int x = 0;
    int trailingWidth = 0; // of the visible trailing items
    const qsizetype trailingFrom = m_items.size() - m_trailing;
    for (qsizetype i = trailingFrom; i < m_items.size(); ++i) {
        if (!m_items.at(i)->isEmpty())
            trailingWidth += m_items.at(i)->sizeHint().width() + spacing();
    }
    bool trailingStarted = false;
    for (qsizetype i = 0; i < m_items.size(); ++i) {
        QLayoutItem *item = m_items.at(i);
        if (item->isEmpty())
            continue;
        const QSize hint = item->sizeHint();
        const int width = std::max(item->minimumSize().width(), std::min(hint.width(), available));
        const int gap = x > 0 ? spacing() + m_gaps.at(i) : 0;
        // The trailing group moves to the next line as a whole when it can.
        int needed = width;
        if (i >= trailingFrom && !trailingStarted) {
            trailingStarted = true;
            needed = trailingWidth - spacing();
        }
        if (x > 0 && x + gap + needed > available) {
            lineHeights.append(0);
            x = 0;
        } else {
            x += gap;
        }
        places.append({item, QSize(width, hint.height()), int(lineHeights.size() - 1), x});
        lineHeights.last() = std::max(lineHeights.last(), hint.height());
        x += width;
    }
    if (places.isEmpty())
        return 0;
    int height = 0;
    QList<int> lineTops;
    for (int h : std::as_const(lineHeights)) {
        lineTops.append(height);
        height += h + spacing();
    }
    height -= spacing();
    if (apply) {
        // How far the trailing items on each line move right: to its end.
        QList<int> shift(lineHeights.size(), 0);
        for (const Place &p : std::as_const(places)) {
            const bool trailing = m_items.indexOf(p.item) >= trailingFrom;
            shift[p.line] = trailing ? std::max(0, available - (p.x + p.size.width())) : 0;
        }
        for (const Place &p : std::as_const(places)) {
            const bool trailing = m_items.indexOf(p.item) >= trailingFrom;
            const int h = lineHeights.at(p.line);
            p.item->setGeometry(QRect(r.x() + p.x + (trailing ? shift.at(p.line) : 0),
                                      r.y() + lineTops.at(p.line) + (h - p.size.height()) / 2, p.size.width(),
                                      p.size.height()));
        }
    }
    const QMargins m = contentsMargins();
    return height + m.top() + m.bottom();
}

} // namespace schedy::charts
