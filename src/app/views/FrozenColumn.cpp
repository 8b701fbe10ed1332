#include "FrozenColumn.h"

#include <QEvent>
#include <QHeaderView>
#include <QScrollBar>
#include <QTableView>

namespace schedy {

FrozenColumn::FrozenColumn(QTableView *table)
    : QObject(table)
    , m_table(table)
    , m_frozen(new QTableView(table))
{
    m_frozen->setObjectName(QStringLiteral("frozenIdColumn"));
    m_frozen->setModel(table->model());
    m_frozen->setSelectionModel(table->selectionModel());
    m_frozen->setItemDelegate(table->itemDelegate());
    m_frozen->setSelectionBehavior(table->selectionBehavior());
    m_frozen->setSelectionMode(table->selectionMode());
    m_frozen->setFocusPolicy(Qt::NoFocus); // the table keeps the keyboard
    m_frozen->verticalHeader()->hide();
    m_frozen->verticalHeader()->setDefaultSectionSize(table->verticalHeader()->defaultSectionSize());
    m_frozen->horizontalHeader()->setSectionsClickable(false); // the table's header sorts
    m_frozen->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_frozen->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_frozen->setVerticalScrollMode(table->verticalScrollMode());
    m_frozen->setStyleSheet(
        QStringLiteral("QTableView { border: none; border-right: 1px solid palette(mid); }"));
    m_frozen->hide();

    connect(m_frozen->verticalScrollBar(), &QScrollBar::valueChanged, table->verticalScrollBar(),
            &QScrollBar::setValue);
    connect(table->verticalScrollBar(), &QScrollBar::valueChanged, m_frozen->verticalScrollBar(),
            &QScrollBar::setValue);
    connect(table->horizontalScrollBar(), &QScrollBar::valueChanged, this, &FrozenColumn::place);
    connect(table->horizontalHeader(), &QHeaderView::sectionResized, this, [this](int logical) {
        if (logical == 0) {
            m_frozen->setColumnWidth(0, m_table->columnWidth(0));
            place();
        }
    });
    auto *model = table->model();
    connect(model, &QAbstractItemModel::columnsInserted, this, &FrozenColumn::syncColumns);
    connect(model, &QAbstractItemModel::modelReset, this, &FrozenColumn::syncColumns);
    table->viewport()->installEventFilter(this);
    syncColumns();
}

void FrozenColumn::syncColumns()
{
    for (int c = 1; c < m_frozen->model()->columnCount(); ++c)
        m_frozen->setColumnHidden(c, true);
    m_frozen->setColumnWidth(0, m_table->columnWidth(0));
    place();
}

bool FrozenColumn::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_table->viewport() && event->type() == QEvent::Resize)
        place();
    return QObject::eventFilter(watched, event);
}

void FrozenColumn::place()
{
    // Only while the id column is scrolled out of view; otherwise the table shows it itself.
    const bool scrolled = m_table->horizontalScrollBar()->value() > 0 && !m_table->isColumnHidden(0);
    if (scrolled) {
        const int frame = m_table->frameWidth();
        m_frozen->setGeometry(frame, frame, m_table->columnWidth(0) + 1,
                              m_table->viewport()->height() + m_table->horizontalHeader()->height());
        m_frozen->horizontalHeader()->setFixedHeight(m_table->horizontalHeader()->height());
        m_frozen->verticalScrollBar()->setValue(m_table->verticalScrollBar()->value());
    }
    if (m_frozen->isVisible() != scrolled)
        m_frozen->setVisible(scrolled);
}

} // namespace schedy
