#pragma once

#include <QLayout>
#include <QList>

namespace schedy::charts {

// A row of controls that wraps onto more lines when it is narrower than their width
// (Qt has no flow layout). The last `trailing` items keep together at the right edge
// of their line, where the one-line row's stretch put them.
class FlowLayout : public QLayout
{
public:
    explicit FlowLayout(int trailing);
    ~FlowLayout() override;

    // `gapBefore`: extra space before the widget when a line does not start with it.
    void addWidget(QWidget *widget, int gapBefore = 0);

    void addItem(QLayoutItem *item) override;
    int count() const override { return int(m_items.size()); }
    QLayoutItem *itemAt(int index) const override { return m_items.value(index); }
    QLayoutItem *takeAt(int index) override;
    Qt::Orientations expandingDirections() const override { return {}; }
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override { return arrange(QRect(0, 0, width, 0), false); }
    void setGeometry(const QRect &rect) override;
    // Everything on one line: the wide layout.
    QSize sizeHint() const override;
    // As narrow as the widest control.
    QSize minimumSize() const override;

private:
    // Places the items in `rect` (when `apply`); returns the height they take.
    int arrange(const QRect &rect, bool apply) const;

    QList<QLayoutItem *> m_items;
    QList<int> m_gaps;
    int m_trailing;
};

} // namespace schedy::charts
