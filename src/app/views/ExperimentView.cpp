#include "ExperimentView.h"

#include "ChartsPanel.h"
#include "Client.h"
#include "Codec.h"
#include "EditorSupport.h"
#include "ExperimentDialog.h"
#include "ExperimentSession.h"
#include "FrozenColumn.h"
#include "JobCellDelegate.h"
#include "JobDialog.h"
#include "JobTableModel.h"
#include "Json.h"
#include "PolicyText.h"
#include "Reachability.h"
#include "ValueFormat.h"
#include "ui_ExperimentView.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QMouseEvent>
#include <QPainter>
#include <QPushButton>
#include <QScrollBar>
#include <QSet>
#include <QSettings>
#include <QStyle>
#include <QStyleOptionViewItem>
#include <QToolButton>
#include <QTreeWidgetItem>

#include <algorithm>
#include <array>

namespace schedy {

QSize ElidingLabel::minimumSizeHint() const
{
    const QSize hint = QLabel::minimumSizeHint();
    return {std::min(hint.width(), fontMetrics().horizontalAdvance(QStringLiteral("MNIST…"))), hint.height()};
}

void ElidingLabel::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    const QRect r = contentsRect();
    const QString shown = fontMetrics().elidedText(text(), Qt::ElideMiddle, r.width());
    style()->drawItemText(&painter, r, int(alignment()), palette(), isEnabled(), shown, foregroundRole());
    // Painting follows every text and size change, so the tooltip is set here.
    const QString tip = shown != text() ? text() : QString();
    if (toolTip() != tip)
        setToolTip(tip);
}

ActionBar::ActionBar(QWidget *parent)
    : QWidget(parent)
    , m_more(new QPushButton(tr("More"), this))
    , m_menu(new QMenu(this))
{
    m_more->setObjectName(QStringLiteral("moreButton"));
    m_more->setMenu(m_menu);
    m_more->hide();
    connect(m_menu, &QMenu::aboutToShow, this, &ActionBar::syncMenu);
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Fixed);
}

void ActionBar::addButton(QAbstractButton *button, int overflowRank)
{
    if (button->parentWidget() != this)
        button->setParent(this);
    auto *action = new QAction(button->text(), m_menu);
    action->setVisible(false);
    connect(action, &QAction::triggered, button, &QAbstractButton::click);
    m_menu->addAction(action);
    m_entries.append({button, overflowRank, action});
    updateGeometry();
    arrange();
}

QList<QAbstractButton *> ActionBar::overflowed() const
{
    QList<QAbstractButton *> buttons;
    for (const Entry &e : m_entries) {
        if (e.action->isVisible())
            buttons.append(e.button);
    }
    return buttons;
}

int ActionBar::widthOf(const QList<bool> &shown, bool withMore) const
{
    const int spacing = style()->pixelMetric(QStyle::PM_LayoutHorizontalSpacing, nullptr, this);
    int width = withMore ? m_more->sizeHint().width() : 0;
    int count = withMore ? 1 : 0;
    for (qsizetype i = 0; i < m_entries.size(); ++i) {
        if (shown[i]) {
            width += m_entries[i].button->sizeHint().width();
            ++count;
        }
    }
    return width + std::max(0, count - 1) * std::max(spacing, 0);
}

QSize ActionBar::sizeHint() const
{
    int height = m_more->sizeHint().height();
    for (const Entry &e : m_entries)
        height = std::max(height, e.button->sizeHint().height());
    return {widthOf(QList<bool>(m_entries.size(), true), false), height};
}

int ActionBar::widthKeeping(int maxRank) const
{
    QList<bool> kept;
    bool overflows = false;
    for (const Entry &e : m_entries) {
        kept.append(e.rank <= maxRank);
        overflows = overflows || e.rank > maxRank;
    }
    return widthOf(kept, overflows);
}

QSize ActionBar::minimumSizeHint() const
{
    return {widthKeeping(0), sizeHint().height()};
}

bool ActionBar::event(QEvent *event)
{
    // A button's text changed (Pause/Resume): its width did too.
    if (event->type() == QEvent::LayoutRequest) {
        updateGeometry();
        arrange();
    }
    return QWidget::event(event);
}

void ActionBar::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    arrange();
}

void ActionBar::arrange()
{
    if (m_arranging)
        return;
    m_arranging = true;
    QList<bool> shown(m_entries.size(), true);
    bool overflows = false;
    // The highest rank goes first; of equal ranks the rightmost.
    QList<qsizetype> order;
    for (qsizetype i = 0; i < m_entries.size(); ++i) {
        if (m_entries[i].rank > 0)
            order.append(i);
    }
    std::stable_sort(order.begin(), order.end(), [this](qsizetype a, qsizetype b) {
        return m_entries[a].rank != m_entries[b].rank ? m_entries[a].rank > m_entries[b].rank : a > b;
    });
    for (qsizetype i : std::as_const(order)) {
        if (widthOf(shown, overflows) <= width())
            break;
        shown[i] = false;
        overflows = true;
    }
    // Right-aligned, in the order given, "More" last.
    const int spacing = std::max(0, style()->pixelMetric(QStyle::PM_LayoutHorizontalSpacing, nullptr, this));
    int x = std::max(0, width() - widthOf(shown, overflows));
    auto place = [&](QWidget *w) {
        const QSize hint = w->sizeHint();
        w->setGeometry(
            QStyle::visualRect(layoutDirection(), rect(),
                               QRect(x, (height() - hint.height()) / 2, hint.width(), hint.height())));
        x += hint.width() + spacing;
    };
    for (qsizetype i = 0; i < m_entries.size(); ++i) {
        const Entry &e = m_entries[i];
        e.action->setVisible(!shown[i]);
        if (shown[i])
            place(e.button);
        if (e.button->isHidden() == shown[i])
            e.button->setVisible(shown[i]);
    }
    if (overflows)
        place(m_more);
    if (m_more->isHidden() == overflows)
        m_more->setVisible(overflows);
    syncMenu();
    m_arranging = false;
}

void ActionBar::syncMenu()
{
    QStringList names;
    for (const Entry &e : std::as_const(m_entries)) {
        e.action->setText(e.button->text());
        e.action->setToolTip(e.button->toolTip());
        e.action->setEnabled(e.button->isEnabled());
        if (e.action->isVisible())
            names.append(e.button->text());
    }
    m_more->setToolTip(tr("More actions: %1").arg(names.join(QStringLiteral(", "))));
}

StatusCountButton::StatusCountButton(JobStatus status, QWidget *parent)
    : QAbstractButton(parent)
    , m_status(status)
{
    setCheckable(true);
    setFocusPolicy(Qt::StrongFocus);
    setAttribute(Qt::WA_Hover); // repaint on enter and leave
    setCursor(Qt::PointingHandCursor);
    setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
    setText(label());
}

QString StatusCountButton::label() const
{
    return QStringLiteral("%1 %2%3").arg(m_count).arg(format::statusLabel(m_status).toLower(), m_detail);
}

void StatusCountButton::setDetail(const QString &detail)
{
    if (detail == m_detail)
        return;
    m_detail = detail;
    setText(label());
    updateGeometry();
    update();
}

void StatusCountButton::setCount(qint64 count)
{
    if (count == m_count)
        return;
    m_count = count;
    setText(label()); // also the accessible name
    updateGeometry();
    update();
}

void StatusCountButton::setDimmed(bool dimmed)
{
    if (dimmed == m_dimmed)
        return;
    m_dimmed = dimmed;
    update();
}

QSize StatusCountButton::sizeHint() const
{
    QFont bold = font();
    bold.setBold(true);
    const QFontMetrics fm = fontMetrics();
    const int dot = fm.height() * 3 / 5;
    const int text =
        QFontMetrics(bold).horizontalAdvance(QString::number(m_count)) +
        fm.horizontalAdvance(QLatin1Char(' ') + format::statusLabel(m_status).toLower() + m_detail);
    return {8 + dot + 6 + text + 9, fm.height() + 8};
}

void StatusCountButton::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    const QRectF frame = QRectF(rect()).adjusted(0.75, 0.75, -0.75, -0.75);
    const QColor highlight = pal.color(QPalette::Highlight);
    // Checked is a filled, outlined chip: the faint Fusion toggle was easy to miss.
    if (isChecked() || isDown()) {
        QColor fill = highlight;
        fill.setAlpha(isDown() ? 90 : 45);
        p.setPen(QPen(highlight, 1.5));
        p.setBrush(fill);
        p.drawRoundedRect(frame, 5, 5);
    } else {
        // A light outline at rest says "button" without competing with the table; hover tints it.
        QColor outline = pal.color(QPalette::WindowText);
        outline.setAlpha(underMouse() ? 110 : 55);
        QColor fill = pal.color(QPalette::WindowText);
        fill.setAlpha(underMouse() ? 22 : 0);
        p.setPen(QPen(outline, 1));
        p.setBrush(fill);
        p.drawRoundedRect(frame, 5, 5);
    }
    if (hasFocus() && m_focusRing) {
        QColor ring = highlight;
        ring.setAlpha(isChecked() ? 255 : 170);
        p.setPen(QPen(ring, 1, Qt::DashLine));
        p.setBrush(Qt::NoBrush);
        p.drawRoundedRect(frame.adjusted(2, 2, -2, -2), 3, 3);
    }

    const QFontMetrics fm = fontMetrics();
    const int dot = fm.height() * 3 / 5;
    QColor dotColor = format::statusColor(m_status);
    QColor textColor = pal.color(QPalette::WindowText);
    if (m_dimmed) {
        dotColor.setAlpha(80);
        textColor = pal.color(QPalette::PlaceholderText);
    }
    p.setPen(Qt::NoPen);
    p.setBrush(dotColor);
    p.drawEllipse(QRectF(8, (height() - dot) / 2.0, dot, dot));

    QFont bold = font();
    bold.setBold(true);
    QRect text = rect().adjusted(8 + dot + 6, 0, 0, 0);
    p.setPen(textColor);
    p.setFont(bold);
    const QString number = QString::number(m_count);
    p.drawText(text, Qt::AlignLeft | Qt::AlignVCenter, number);
    text.setLeft(text.left() + QFontMetrics(bold).horizontalAdvance(number));
    p.setFont(font());
    p.drawText(text, Qt::AlignLeft | Qt::AlignVCenter,
               QLatin1Char(' ') + format::statusLabel(m_status).toLower() + m_detail);
}

void StatusCountButton::focusInEvent(QFocusEvent *event)
{
    // The window coming to the front keeps what the last focus change was.
    const Qt::FocusReason reason = event->reason();
    if (reason == Qt::TabFocusReason || reason == Qt::BacktabFocusReason || reason == Qt::ShortcutFocusReason)
        m_focusRing = true;
    else if (reason != Qt::ActiveWindowFocusReason && reason != Qt::PopupFocusReason)
        m_focusRing = false;
    QAbstractButton::focusInEvent(event);
}

void StatusCountButton::mouseReleaseEvent(QMouseEvent *event)
{
    m_clickModifiers = event->modifiers();
    m_focusRing = false;
    QAbstractButton::mouseReleaseEvent(event);
}

void StatusCountButton::keyPressEvent(QKeyEvent *event)
{
    m_clickModifiers = event->modifiers();
    QAbstractButton::keyPressEvent(event);
}

void StatusCountButton::keyReleaseEvent(QKeyEvent *event)
{
    m_clickModifiers = event->modifiers();
    QAbstractButton::keyReleaseEvent(event);
}

namespace {
// Details rows that name another job (a replacement chain): the id to select.
constexpr int JobLinkRole = Qt::UserRole + 1;

QString jobsText(qint64 n)
{
    return format::jobs(n);
}

// The order of the counts and of the status filter: as the original dashboard.
constexpr std::array<JobStatus, JobStatusCount> ShownStatuses = {
    JobStatus::Done, JobStatus::Running, JobStatus::Queued, JobStatus::Crashed, JobStatus::Pruned};

QLabel *makePlaceholder(QWidget *viewport)
{
    auto *label = new QLabel(viewport);
    label->setAlignment(Qt::AlignCenter);
    label->setWordWrap(true);
    label->setTextFormat(Qt::RichText);
    label->setTextInteractionFlags(Qt::LinksAccessibleByMouse | Qt::LinksAccessibleByKeyboard);
    label->setForegroundRole(QPalette::PlaceholderText);
    label->setContentsMargins(24, 24, 24, 24);
    label->hide();
    return label;
}
} // namespace

ExperimentView::ExperimentView(QWidget *parent)
    : QWidget(parent)
    , m_ui(std::make_unique<Ui::ExperimentView>())
    , m_session(new ExperimentSession(this))
    , m_model(m_session->jobs())
{
    m_ui->setupUi(this);
    QFont title = m_ui->nameLabel->font();
    title.setPointSizeF(title.pointSizeF() * 1.35);
    title.setBold(true);
    m_ui->nameLabel->setFont(title);

    // Room beyond the minimum goes to the name first (up to its full text, see showExperiment),
    // then to the buttons; the kind and status follow the name, the buttons stay on the right.
    m_ui->nameLabel->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    m_ui->headerActions->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    m_ui->headerLayout->setStretchFactor(m_ui->nameLabel, 100);
    m_ui->headerLayout->setStretchFactor(m_ui->headerActions, 1);
    // Queue and Pause stay; the rest goes into "More" when the window is narrow.
    m_ui->headerActions->addButton(m_ui->queueButton, 0);
    m_ui->headerActions->addButton(m_ui->editButton, 1);
    m_ui->headerActions->addButton(m_ui->duplicateButton, 3);
    m_ui->headerActions->addButton(m_ui->pauseButton, 0);
    m_ui->headerActions->addButton(m_ui->deleteButton, 2);

    // The counts per status are the status filter too: one row, not a count row and a toggle row.
    for (JobStatus s : ShownStatuses) {
        auto *b = new StatusCountButton(s, this);
        // From the wire name, not the (translatable) label: "countCrashed".
        QString key = toString(s).toLower();
        key[0] = key[0].toUpper();
        b->setObjectName(QStringLiteral("count") + key);
        connect(b, &QAbstractButton::clicked, this, [this, b] { countClicked(b); });
        m_countButtons.append(b);
        m_ui->countsLayout->addWidget(b);
    }
    m_ui->countsLayout->addStretch();
    syncCountButtons();

    m_searchDebounce.setSingleShot(true);
    m_searchDebounce.setInterval(300);
    connect(m_ui->idSearch, &QLineEdit::textChanged, &m_searchDebounce, qOverload<>(&QTimer::start));
    connect(&m_searchDebounce, &QTimer::timeout, this,
            [this] { m_model->setIdFilter(m_ui->idSearch->text().trimmed()); });
    m_ui->idSearch->setToolTip(tr("Show jobs whose id contains this text (Ctrl+F; Esc clears it)"));
    m_ui->idSearch->installEventFilter(this); // Esc clears the search
    m_ui->idSearch->setMinimumWidth(
        m_ui->idSearch->fontMetrics().horizontalAdvance(QStringLiteral("Search by id")) + 40);
    m_ui->columnsButton->setToolTip(tr("Show or hide columns (also: right-click the header)"));

    QTableView *view = m_ui->jobView;
    view->setModel(m_model);
    // Tab moves between widgets, arrows move within the table (as the docs promise).
    view->setTabKeyNavigation(false);
    view->setItemDelegate(new JobCellDelegate(view));
    new FrozenColumn(view); // the id stays in view when the table scrolls sideways
    view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 8);
    view->verticalHeader()->hide();
    view->horizontalHeader()->setSectionsMovable(true);
    view->horizontalHeader()->setHighlightSections(false);
    view->horizontalHeader()->setSortIndicator(JobTableModel::CreatedColumn, Qt::DescendingOrder);
    view->setSortingEnabled(true); // the model sorts on the server
    view->horizontalHeader()->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(view->horizontalHeader(), &QHeaderView::customContextMenuRequested, this,
            [this](const QPoint &) { m_ui->columnsButton->showMenu(); });
    m_ui->jobSplitter->setStretchFactor(0, 3);
    m_ui->jobSplitter->setStretchFactor(1, 1);
    m_ui->detailsTree->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    auto followLink = [this](QTreeWidgetItem *item, int) {
        const QString id = item ? item->data(1, JobLinkRole).toString() : QString();
        // Later: selecting rebuilds the tree, and the item is still in its signal.
        if (!id.isEmpty())
            QMetaObject::invokeMethod(
                this, [this, id] { selectJob(id); }, Qt::QueuedConnection);
    };
    connect(m_ui->detailsTree, &QTreeWidget::itemActivated, this, followLink);
    connect(m_ui->detailsTree, &QTreeWidget::itemClicked, this,
            [followLink](QTreeWidgetItem *item, int column) {
                if (column == 1)
                    followLink(item, column);
            });

    connect(view->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        if (m_ui->jobView->selectionModel()->hasSelection())
            m_keepSelected.clear(); // the user chose another one meanwhile
        showDetails();
    });
    connect(m_model, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex &tl, const QModelIndex &br) {
                const QModelIndex current = m_ui->jobView->selectionModel()->currentIndex();
                if (current.isValid() && current.row() >= tl.row() && current.row() <= br.row())
                    showDetails();
            });
    connect(m_model, &QAbstractItemModel::columnsInserted, this, [this] {
        // New hyperparameters/results: keep the user's hidden columns hidden.
        for (int c = 0; c < m_model->columnCount(); ++c) {
            m_ui->jobView->setColumnHidden(c, m_hiddenColumns.contains(m_model->columnKey(c).key()));
        }
    });
    // Widths are fitted to rows, not to an empty first page (which left ids and statuses cut).
    m_fitColumns.setSingleShot(true);
    m_fitColumns.setInterval(0);
    connect(&m_fitColumns, &QTimer::timeout, this, &ExperimentView::restoreLayout);
    connect(m_model, &JobTableModel::pageLoaded, &m_fitColumns, qOverload<>(&QTimer::start));
    connect(m_model, &QAbstractItemModel::columnsInserted, &m_fitColumns, qOverload<>(&QTimer::start));
    connect(m_model, &QAbstractItemModel::rowsInserted, &m_fitColumns, qOverload<>(&QTimer::start));
    connect(m_model, &QAbstractItemModel::rowsInserted, this,
            [this](const QModelIndex &, int first, int last) { growColumns(first, last); });
    connect(m_model, &QAbstractItemModel::dataChanged, this,
            [this](const QModelIndex &tl, const QModelIndex &br) { growColumns(tl.row(), br.row()); });
    connect(view->horizontalHeader(), &QHeaderView::sectionResized, this, [this](int logical) {
        if (m_fittingColumns)
            return;
        // The user's width wins over fitting.
        const QString key = m_model->columnKey(logical).key();
        m_sizedColumns.insert(key);
        m_fittedColumns.remove(key);
    });

    // Empty states: say why the table is empty and what to do.
    m_jobPlaceholder = makePlaceholder(view->viewport());
    m_jobPlaceholder->setObjectName(QStringLiteral("jobPlaceholder"));
    view->viewport()->installEventFilter(this);
    connect(m_jobPlaceholder, &QLabel::linkActivated, this, [this](const QString &link) {
        if (link == QLatin1String("clear"))
            clearFilters();
        else if (link == QLatin1String("queue"))
            queueJob();
    });
    m_detailsPlaceholder = makePlaceholder(m_ui->detailsTree->viewport());
    m_detailsPlaceholder->setObjectName(QStringLiteral("detailsPlaceholder"));
    m_detailsPlaceholder->setText(tr("Select a job to see all its fields, hyperparameters and results."));
    m_detailsPlaceholder->setTextInteractionFlags(Qt::NoTextInteraction); // no link: not a Tab stop
    m_ui->detailsTree->viewport()->installEventFilter(this);
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_model, signal, this, &ExperimentView::updatePlaceholders);
    // A new order (or filter) restarts the listing: the job that was selected is selected again
    // when it comes back, instead of being dropped.
    // Only a new order: a filter that hides the job must not bring it back into the details.
    auto shownOrder =
        std::make_shared<std::pair<int, Qt::SortOrder>>(m_model->sortColumn(), m_model->sortOrder());
    connect(m_model, &QAbstractItemModel::modelAboutToBeReset, this, [this, shownOrder] {
        const std::pair<int, Qt::SortOrder> order{m_model->sortColumn(), m_model->sortOrder()};
        const QList<QString> ids = selectedJobIds();
        if (order != *shownOrder && !ids.isEmpty())
            m_keepSelected = ids.first();
        *shownOrder = order;
    });
    connect(m_model, &QAbstractItemModel::rowsInserted, this, [this] {
        const int row = m_keepSelected.isEmpty() ? -1 : m_model->rowOf(m_keepSelected);
        if (row < 0)
            return;
        m_keepSelected.clear();
        m_ui->jobView->selectRow(row);
        m_ui->jobView->scrollTo(m_model->index(row, JobTableModel::IdColumn));
    });
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
        m_jobsFailed = false;
        // A reset (another filter or sort) drops the selection without selectionChanged.
        showDetails();
    });
    connect(m_model, &JobTableModel::pageLoaded, this, [this] {
        m_jobsFailed = false;
        updatePlaceholders();
    });
    connect(m_model, &JobTableModel::loadFailed, this, [this] {
        m_jobsFailed = true;
        updatePlaceholders();
    });
    // Rows added above the viewport must not push what the user reads down.
    connect(m_model, &QAbstractItemModel::rowsInserted, this,
            [this](const QModelIndex &, int first, int last) {
                QScrollBar *bar = m_ui->jobView->verticalScrollBar();
                if (first == 0 && bar->value() > 0)
                    bar->setValue(bar->value() + (last - first + 1));
            });
    // The count follows the rows themselves, not the page or the experiment that brought them.
    connect(m_model, &JobTableModel::totalChanged, this, &ExperimentView::updateTotal);
    for (auto signal : {&QAbstractItemModel::rowsInserted, &QAbstractItemModel::rowsRemoved})
        connect(m_model, signal, this, &ExperimentView::updateTotal);
    connect(m_model, &QAbstractItemModel::modelReset, this, &ExperimentView::updateTotal);
    connect(m_model, &JobTableModel::loadFailed, this, [this](const ClientError &e) {
        Q_EMIT failed(tr("Loading the jobs of %1").arg(experiment().name), e);
    });

    auto *copyId = new QAction(tr("Copy id"), view);
    copyId->setShortcut(QKeySequence::Copy);
    // Job keys act on the table only: Del in the experiment list must not offer to delete a job.
    copyId->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(copyId, &QAction::triggered, this, [this] {
        const QList<QString> ids = selectedJobIds();
        if (ids.isEmpty())
            return;
        QApplication::clipboard()->setText(ids.join(QLatin1Char('\n')));
        Q_EMIT notice(ids.size() == 1 ? tr("Copied %1").arg(ids.first())
                                      : tr("Copied %1 ids").arg(ids.size()));
    });
    auto *requeue = new QAction(tr("Requeue (same hyperparameters)"), view);
    connect(requeue, &QAction::triggered, this, &ExperimentView::requeueSelectedJobs);
    auto *del = new QAction(tr("Delete…"), view);
    del->setShortcut(QKeySequence::Delete);
    del->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(del, &QAction::triggered, this, &ExperimentView::deleteSelectedJobs);
    view->addActions({copyId, requeue, del});

    connect(m_ui->copyJsonButton, &QPushButton::clicked, this, [this] {
        const QModelIndex current = m_ui->jobView->selectionModel()->currentIndex();
        if (!current.isValid())
            return;
        QApplication::clipboard()->setText(
            QString::fromUtf8(json::writeIndented(codec::encode(m_model->job(current.row())))));
        Q_EMIT notice(tr("Copied job %1 as JSON").arg(m_model->rowAt(current.row()).id));
    });
    m_ui->copyJsonButton->setEnabled(false);
    connect(m_ui->pauseButton, &QPushButton::clicked, this, &ExperimentView::togglePause);
    // The page renders its session: the experiment, the outcome of writes, trouble.
    connect(m_session, &ExperimentSession::experimentChanged, this, [this](const Experiment &e) {
        showExperiment(e);
        Q_EMIT experimentChanged(e);
    });
    connect(m_session, &ExperimentSession::deleted, this, &ExperimentView::experimentDeleted);
    connect(m_session, &ExperimentSession::failed, this, &ExperimentView::failed);
    connect(m_session, &ExperimentSession::refreshed, this, &ExperimentView::refreshed);
    connect(m_session, &ExperimentSession::notice, this, &ExperimentView::notice);
    connect(m_session, &ExperimentSession::savingStatusChanged, m_ui->pauseButton,
            [this](bool saving) { m_ui->pauseButton->setEnabled(!saving); });
    connect(m_session, &ExperimentSession::statusConflict, this, &ExperimentView::showChangedMeanwhile);
    connect(m_session, &ExperimentSession::reachabilityChanged, this, &ExperimentView::updateCounts);
    // Someone else changed the experiment meanwhile: a strip in the editors' amber, until dismissed.
    m_ui->changedBanner->hide();
    m_ui->changedBanner->setAutoFillBackground(true);
    QPalette changed = m_ui->changedBanner->palette();
    changed.setColor(QPalette::Window, QColor(0xff, 0xf4, 0xd6));
    m_ui->changedBanner->setPalette(changed);
    connect(m_ui->changedClose, &QToolButton::clicked, this, &ExperimentView::hideChangedMeanwhile);
    connect(m_ui->changedRetry, &QPushButton::clicked, this, [this] {
        hideChangedMeanwhile();
        togglePause();
    });
    connect(m_ui->deleteButton, &QPushButton::clicked, this, &ExperimentView::deleteExperiment);
    m_ui->columnsButton->setMenu(new QMenu(this));
    connect(m_ui->columnsButton->menu(), &QMenu::aboutToShow, this, &ExperimentView::buildColumnsMenu);
    setUpEditors();

    // Charts over the same model, sharing the table's selection.
    m_charts = new charts::ChartsPanel(this);
    // Its row of controls wraps when narrow, so the tab needs no sideways scrolling.
    m_ui->tabs->addTab(m_charts, tr("Charts"));
    connect(this, &ExperimentView::experimentChanged, m_charts, &charts::ChartsPanel::setExperiment);
    connect(m_charts, &charts::ChartsPanel::exported, this,
            [this](const QString &path) { Q_EMIT notice(tr("Exported the chart to %1").arg(path)); });

    // Enter or a double-click on a job edits it, as in a file manager.
    connect(view, &QAbstractItemView::activated, this, &ExperimentView::editSelectedJob);

    // Tab follows the page from the header down; widgets made in code come last otherwise.
    QList<QWidget *> chain = {m_ui->queueButton, m_ui->editButton,   m_ui->duplicateButton,
                              m_ui->pauseButton, m_ui->deleteButton, m_ui->headerActions->moreButton()};
    for (StatusCountButton *b : std::as_const(m_countButtons))
        chain.append(b);
    chain.append({m_ui->tabs, m_ui->idSearch, m_ui->columnsButton, m_ui->jobView, m_ui->detailsTree,
                  m_ui->copyJsonButton});
    for (qsizetype i = 1; i < chain.size(); ++i)
        setTabOrder(chain[i - 1], chain[i]);
}

bool ExperimentView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_ui->idSearch && event->type() == QEvent::KeyPress &&
        static_cast<QKeyEvent *>(event)->key() == Qt::Key_Escape && !m_ui->idSearch->text().isEmpty()) {
        // At once, as a search field's Esc does elsewhere: no debounce for clearing.
        {
            QSignalBlocker block(m_ui->idSearch);
            m_ui->idSearch->clear();
        }
        m_searchDebounce.stop();
        m_model->setIdFilter({});
        return true;
    }
    if (event->type() == QEvent::Resize) {
        if (watched == m_ui->jobView->viewport())
            m_jobPlaceholder->setGeometry(m_ui->jobView->viewport()->rect());
        else if (watched == m_ui->detailsTree->viewport())
            m_detailsPlaceholder->setGeometry(m_ui->detailsTree->viewport()->rect());
    }
    return QWidget::eventFilter(watched, event);
}

void ExperimentView::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    fitHeader();
}

void ExperimentView::fitHeader()
{
    // The kind goes first (a fact the list's tooltip has too; the buttons are actions), then
    // Duplicate…, Delete… and Edit… into "More"; the name is elided last.
    // From the page's width and the texts only, never from the current layout, so it cannot flicker.
    const QMargins margins = m_ui->pageLayout->contentsMargins();
    const int room = width() - margins.left() - margins.right();
    const int need = m_ui->nameLabel->QLabel::sizeHint().width() + m_ui->kindLabel->sizeHint().width() +
                     m_ui->statusLabel->sizeHint().width() + m_ui->headerActions->sizeHint().width() +
                     3 * std::max(0, m_ui->headerLayout->spacing());
    const bool show = room >= need;
    if (m_ui->kindLabel->isHidden() == show)
        m_ui->kindLabel->setVisible(show);
}

void ExperimentView::updatePlaceholders()
{
    const bool filtered = !m_model->statusFilter().isEmpty() || !m_model->query().idContains.isEmpty();
    const bool empty =
        !experiment().name.isEmpty() && m_model->rowCount() == 0 && (m_jobsFailed || m_model->isComplete());
    if (empty) {
        QString text;
        if (m_jobsFailed)
            text = tr("The jobs could not be loaded; the message above says why.");
        else if (filtered)
            text = tr("No jobs match the filters. <a href=\"clear\">Show all jobs</a>");
        else if (experiment().scheduler.kind == Scheduler::Kind::Manual)
            text = tr("No jobs yet. <a href=\"queue\">Queue a job</a> by hand, or let workers add theirs.");
        else
            text = tr("No jobs yet. Workers get a new job each time they ask; File › Worker setup shows how "
                      "to start them. You can also <a href=\"queue\">queue a job</a> by hand.");
        m_jobPlaceholder->setText(text);
        m_jobPlaceholder->setGeometry(m_ui->jobView->viewport()->rect());
    }
    m_jobPlaceholder->setVisible(empty);
    const bool noDetails = m_ui->detailsTree->topLevelItemCount() == 0;
    m_detailsPlaceholder->setGeometry(m_ui->detailsTree->viewport()->rect());
    m_detailsPlaceholder->setVisible(noDetails);
    m_ui->copyJsonButton->setEnabled(!noDetails);
}

QString ExperimentView::placeholderText() const
{
    return m_jobPlaceholder->isHidden() ? QString() : m_jobPlaceholder->text();
}

void ExperimentView::selectJob(const QString &id)
{
    const int row = m_model->rowOf(id);
    if (row >= 0) {
        const QModelIndex index = m_model->index(row, JobTableModel::IdColumn);
        m_ui->jobView->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect |
                                                                    QItemSelectionModel::Rows);
        m_ui->jobView->scrollTo(index);
        return;
    }
    // Not loaded: list that job alone, whatever the filters were, and select it when it comes.
    clearFilters();
    {
        QSignalBlocker block(m_ui->idSearch);
        m_ui->idSearch->setText(id);
    }
    m_model->setIdFilter(id);
    m_keepSelected = id;
}

void ExperimentView::clearFilters()
{
    {
        QSignalBlocker block(m_ui->idSearch);
        m_ui->idSearch->clear();
    }
    m_searchDebounce.stop();
    setStatusFilter({});
    m_model->setIdFilter({});
}

void ExperimentView::setStatusFilter(const QList<JobStatus> &statuses)
{
    // In the order of the counts, whatever order they were clicked in.
    QList<JobStatus> ordered;
    for (JobStatus s : ShownStatuses) {
        if (statuses.contains(s))
            ordered.append(s);
    }
    if (ordered != m_model->statusFilter())
        m_model->setStatusFilter(ordered);
    syncCountButtons();
}

void ExperimentView::countClicked(StatusCountButton *button)
{
    const JobStatus s = button->status();
    QList<JobStatus> statuses = m_model->statusFilter();
    if (button->clickModifiers() & Qt::ControlModifier) {
        // Ctrl+click adds or removes one status, as in a list's selection.
        if (!statuses.removeOne(s))
            statuses.append(s);
    } else {
        // A click shows only this status; again (or on the only one shown) shows all.
        statuses = statuses == QList<JobStatus>{s} ? QList<JobStatus>{} : QList<JobStatus>{s};
    }
    setStatusFilter(statuses);
}

void ExperimentView::syncCountButtons()
{
    const QList<JobStatus> &filter = m_model->statusFilter();
    for (StatusCountButton *b : std::as_const(m_countButtons)) {
        const JobStatus s = b->status();
        const bool checked = filter.contains(s);
        b->setChecked(checked);
        b->setDimmed(!filter.isEmpty() && !checked);
        const QString name = format::statusLabel(s).toLower();
        QString tip;
        if (filter == QList<JobStatus>{s})
            tip = tr("Showing only %1 jobs: click to show all jobs").arg(name);
        else if (checked)
            tip = tr("Show only %1 jobs (Ctrl+click: stop showing them)").arg(name);
        else
            tip = tr("Show only %1 jobs (Ctrl+click: show them too)").arg(name);
        const Reachability *reachability = m_session->reachability();
        if (s == JobStatus::Running && reachability && !reachability->isReachable())
            tip += QLatin1Char('\n') +
                   tr("The server has not answered since %1: this is the last known count")
                       .arg(QLocale().toString(reachability->unreachableSince().time(), QLocale::LongFormat));
        b->setToolTip(tip);
    }
}

void ExperimentView::focusSearch()
{
    m_ui->tabs->setCurrentWidget(m_ui->jobsTab);
    m_ui->idSearch->setFocus(Qt::ShortcutFocusReason);
    m_ui->idSearch->selectAll();
}

Client *ExperimentView::client() const
{
    return m_session->backend() ? m_session->backend()->client() : nullptr;
}

ExperimentView::~ExperimentView()
{
    saveLayout();
}

QWidget *ExperimentView::chartsHost() const
{
    return m_ui->tabs;
}

void ExperimentView::setExperiment(Client *client, const Experiment &experiment, const QString &settingsScope)
{
    open(std::make_shared<ClientBackend>(client), experiment, settingsScope);
}

void ExperimentView::open(std::shared_ptr<SessionBackend> backend, const Experiment &experiment,
                          const QString &settingsScope)
{
    saveLayout();
    m_settingsScope = settingsScope;
    m_layoutRestored = false;
    m_sizedColumns.clear();
    m_fittedColumns.clear();
    m_keepSelected.clear();
    m_jobsFailed = false;
    QSettings s;
    m_hiddenColumns = s.value(settingsScope + QStringLiteral("/hidden")).toStringList();
    {
        QSignalBlocker block(m_ui->idSearch);
        m_ui->idSearch->clear();
    }
    m_ui->jobView->horizontalHeader()->setSortIndicator(JobTableModel::CreatedColumn, Qt::DescendingOrder);
    hideChangedMeanwhile();
    m_session->open(std::move(backend), experiment); // with no filter; shows it
    syncCountButtons();
    m_charts->setSource(m_model, experiment, m_ui->jobView->selectionModel());
    m_ui->detailsTree->clear();
    updatePlaceholders();
}

QString ExperimentView::changedMeanwhileText() const
{
    return m_ui->changedBanner->isHidden() ? QString() : m_ui->changedText->text();
}

void ExperimentView::showExperiment(const Experiment &e)
{
    m_ui->nameLabel->setText(e.name);
    m_ui->nameLabel->setMaximumWidth(m_ui->nameLabel->QLabel::sizeHint().width());
    // The strategy beside the scheduler (docs/protocol.md section 8), in full in the tooltip.
    const QString strategy = headline(e);
    m_ui->kindLabel->setText(
        strategy.isEmpty() ? QStringLiteral("·  %1").arg(format::kindLabel(e.scheduler.kind))
                           : QStringLiteral("·  %1 (%2)").arg(format::kindLabel(e.scheduler.kind), strategy));
    QStringList details;
    if (e.sampler)
        details.append(tr("Search strategy: %1").arg(describe(*e.sampler, e.scheduler)));
    if (e.pruner)
        details.append(tr("Early stopping: %1").arg(describe(*e.pruner)));
    if (e.lease)
        details.append(tr("Lost workers: lease of %1").arg(describe(*e.lease)));
    m_ui->kindLabel->setToolTip(details.join(QLatin1Char('\n')));
    const bool running = e.status == ExperimentStatus::Running;
    // The list's words: Running, Paused or Done.
    m_ui->statusLabel->setText(
        running ? tr("·  <span style='color:#2e8b3e'>Running</span>")
                : tr("·  <span style='color:gray'>%1</span>").arg(format::experimentStatusLabel(e)));
    m_ui->statusLabel->setToolTip(running ? tr("Workers get jobs")
                                          : tr("No jobs are handed out; Resume hands them out again"));
    fitHeader();
    m_ui->pauseButton->setText(running ? tr("Pause") : tr("Resume"));
    m_ui->pauseButton->setToolTip(running ? tr("Stop handing out jobs (status DONE)")
                                          : tr("Hand out jobs again (status RUNNING)"));
    updateCounts();
    updateTotal();
}

void ExperimentView::updateCounts()
{
    const JobCounts counts = experiment().jobCounts.value_or(JobCounts{});
    // While the server does not answer, running jobs may have finished or died: the
    // running count is only the last known one, and says so.
    const Reachability *reachability = m_session->reachability();
    const bool stale = reachability && !reachability->isReachable();
    for (StatusCountButton *b : std::as_const(m_countButtons)) {
        b->setCount(counts[b->status()]);
        // Lost workers' jobs are CRASHED too (section 8.3): how many of them, on that count.
        if (b->status() == JobStatus::Crashed)
            b->setDetail(counts.lost > 0 ? tr(" · %1 lost").arg(counts.lost) : QString());
        if (b->status() == JobStatus::Running) {
            b->setDetail(stale ? QStringLiteral("?") : QString());
        }
    }
    syncCountButtons(); // the tooltips say why
}

void ExperimentView::updateTotal()
{
    const qint64 total = m_model->totalCount();
    const int loaded = m_model->rowCount();
    const bool filtered = !m_model->statusFilter().isEmpty() || !m_model->query().idContains.isEmpty();
    const qint64 all = experiment().jobCounts ? experiment().jobCounts->total() : -1;
    if (total < 0 && m_model->isFetching())
        m_ui->totalLabel->setText(tr("Loading…"));
    else if (total < 0)
        m_ui->totalLabel->setText(experiment().name.isEmpty() ? QString() : jobsText(loaded));
    else if (loaded < total)
        m_ui->totalLabel->setText(tr("%1 of %2 loaded").arg(loaded).arg(jobsText(total)));
    else if (filtered && all >= 0)
        m_ui->totalLabel->setText(tr("%1 of %2 match").arg(loaded).arg(jobsText(all)));
    else
        m_ui->totalLabel->setText(jobsText(loaded));
    m_ui->totalLabel->setToolTip(loaded < total ? tr("Scroll down for more: pages are fetched as you scroll")
                                                : QString());
}

QString ExperimentView::totalText() const
{
    return m_ui->totalLabel->text();
}

QList<QString> ExperimentView::selectedJobIds() const
{
    // Rows with any selected cell: columns added by a refresh are not selected
    // yet, which selectedRows() would take as "row not selected".
    QList<QString> ids;
    QSet<int> rows;
    for (const QModelIndex &i : m_ui->jobView->selectionModel()->selectedIndexes()) {
        if (!rows.contains(i.row())) {
            rows.insert(i.row());
            ids.append(m_model->rowAt(i.row()).id);
        }
    }
    return ids;
}

QList<int> ExperimentView::visibleColumns() const
{
    QList<int> columns;
    const QHeaderView *h = m_ui->jobView->horizontalHeader();
    for (int visual = 0; visual < h->count(); ++visual) {
        const int logical = h->logicalIndex(visual);
        if (!h->isSectionHidden(logical))
            columns.append(logical);
    }
    return columns;
}

void ExperimentView::showDetails()
{
    QTreeWidget *tree = m_ui->detailsTree;
    const QModelIndex current = m_ui->jobView->selectionModel()->currentIndex();
    if (!current.isValid() || !m_ui->jobView->selectionModel()->rowIntersectsSelection(current.row(), {})) {
        tree->clear();
        updatePlaceholders();
        return;
    }
    // Rebuilt in place, keeping which branches the user expanded.
    QSet<QString> collapsed;
    for (int i = 0; i < tree->topLevelItemCount(); ++i) {
        if (!tree->topLevelItem(i)->isExpanded())
            collapsed.insert(tree->topLevelItem(i)->text(0));
    }
    const Job job = m_model->job(current.row());
    tree->clear();
    auto addValue = [](QTreeWidgetItem *parent, const QString &name, const QCborValue &v,
                       auto &self) -> void {
        auto *item = new QTreeWidgetItem(parent, {name});
        if (v.isMap()) {
            const QCborMap m = v.toMap();
            for (auto it = m.begin(); it != m.end(); ++it)
                self(item, it.key().toString(), it.value(), self);
        } else if (v.isArray() && !format::isCurve(v)) {
            const QCborArray a = v.toArray();
            for (qsizetype i = 0; i < a.size(); ++i)
                self(item, QStringLiteral("[%1]").arg(i), a.at(i), self);
        } else {
            item->setText(1, format::exact(v));
            item->setToolTip(1, format::exact(v));
        }
    };
    auto *info = new QTreeWidgetItem(tree, {tr("Job")});
    new QTreeWidgetItem(info, {tr("id"), job.id});
    new QTreeWidgetItem(info, {tr("status"), format::statusLabel(job.status)});
    new QTreeWidgetItem(info, {tr("created"), format::timestamp(job.createdAt.value_or(0))});
    new QTreeWidgetItem(info, {tr("modified"), format::timestamp(job.modifiedAt.value_or(0))});
    if (job.generation)
        new QTreeWidgetItem(info, {tr("generation"), QString::number(*job.generation)});
    if (!job.parent.isEmpty())
        new QTreeWidgetItem(info, {tr("parent"), job.parent});
    if (!job.member.isEmpty())
        new QTreeWidgetItem(info, {tr("member"), job.member});
    // Section 8: why the server stopped it, and the replacement chain as links (Enter or a click).
    auto addLink = [tree](QTreeWidgetItem *parent, const QString &name, const QString &id) {
        auto *item = new QTreeWidgetItem(parent, {name, id});
        item->setData(1, JobLinkRole, id);
        item->setForeground(1, tree->palette().brush(QPalette::Link));
        QFont font = item->font(1);
        font.setUnderline(true);
        item->setFont(1, font);
        item->setToolTip(1, tr("Select job %1").arg(id));
    };
    if (job.pruned) {
        auto *item = new QTreeWidgetItem(info, {tr("pruned"), describe(*job.pruned)});
        item->setToolTip(1, item->text(1));
    }
    if (job.lostAt) {
        auto *item = new QTreeWidgetItem(
            info,
            {tr("lost"),
             tr("%1: its worker was silent longer than the lease").arg(format::timestamp(*job.lostAt))});
        item->setToolTip(1, item->text(1));
    }
    if (!job.replacedBy.isEmpty())
        addLink(info, tr("replaced by"), job.replacedBy);
    if (!job.replaces.isEmpty())
        addLink(info, tr("replaces"), job.replaces);
    auto *hp = new QTreeWidgetItem(tree, {tr("Hyperparameters")});
    for (auto it = job.hyperparameters.begin(); it != job.hyperparameters.end(); ++it)
        addValue(hp, it.key().toString(), it.value(), addValue);
    auto *results = new QTreeWidgetItem(tree, {tr("Results")});
    for (auto it = job.results.begin(); it != job.results.end(); ++it)
        addValue(results, it.key().toString(), it.value(), addValue);
    for (QTreeWidgetItem *group : {hp, results}) {
        if (group->childCount() == 0) {
            group->setText(1, tr("none yet"));
            group->setForeground(1, tree->palette().brush(QPalette::PlaceholderText));
        }
    }
    for (int i = 0; i < tree->topLevelItemCount(); ++i)
        tree->topLevelItem(i)->setExpanded(!collapsed.contains(tree->topLevelItem(i)->text(0)));
    updatePlaceholders();
}

void ExperimentView::refresh()
{
    m_session->refresh();
}

bool ExperimentView::isRefreshing() const
{
    return m_session->isRefreshing();
}

const Experiment &ExperimentView::experiment() const
{
    return m_session->experiment();
}

void ExperimentView::togglePause()
{
    hideChangedMeanwhile();
    m_session->setStatus(m_session->experiment().status == ExperimentStatus::Running
                             ? ExperimentStatus::Done
                             : ExperimentStatus::Running);
}

void ExperimentView::showChangedMeanwhile(const Experiment &shown, const Experiment &current,
                                          ExperimentStatus wanted, QStringList changes)
{
    // The page shows the current version already; nothing of the page (filters, selection, scroll) is reset.
    const QString name = shown.name.toHtmlEscaped();
    const QString verb = wanted == ExperimentStatus::Running ? tr("resumed") : tr("paused");
    if (changes.isEmpty())
        changes.append(tr("saved again with the same definition"));
    const QString list = changes.mid(0, 3).join(QStringLiteral("; ")).toHtmlEscaped() +
                         (changes.size() > 3 ? tr("; … and %1 more").arg(changes.size() - 3) : QString());
    const bool already = current.status == wanted;
    m_ui->changedText->setText(
        (already ? tr("<b>Someone else changed %1</b> meanwhile (%2). Nothing was saved: it is %3 already.")
                 : tr("<b>Someone else changed %1</b> meanwhile (%2), so it was not %3. "
                      "The page now shows their version."))
            .arg(name, list, verb));
    m_ui->changedRetry->setVisible(!already);
    m_ui->changedRetry->setText(wanted == ExperimentStatus::Running ? tr("Resume now") : tr("Pause now"));
    m_ui->changedRetry->setToolTip(tr("Save the status over their version"));
    m_ui->changedBanner->show();
    Q_EMIT notice(tr("%1 was changed by someone else; reloaded").arg(shown.name));
}

void ExperimentView::hideChangedMeanwhile()
{
    m_ui->changedBanner->hide();
}

void ExperimentView::deleteExperiment()
{
    const Experiment &e = m_session->experiment();
    if (e.name.isEmpty())
        return;
    const qint64 jobs = e.jobCounts ? e.jobCounts->total() : m_model->rowCount();
    const QString name = e.name.toHtmlEscaped();
    const QString question =
        jobs == 0 ? tr("Delete the experiment <b>%1</b>? It has no jobs. This cannot be undone.").arg(name)
                  : tr("Delete the experiment <b>%1</b> and its %2? This cannot be undone.")
                        .arg(name, jobsText(jobs));
    const auto answer = QMessageBox::warning(this, tr("Delete experiment"), question,
                                             QMessageBox::Cancel | QMessageBox::Yes, QMessageBox::Cancel);
    if (answer == QMessageBox::Yes)
        m_session->deleteExperiment();
}

void ExperimentView::deleteSelectedJobs()
{
    const QList<QString> ids = selectedJobIds();
    if (ids.isEmpty())
        return;
    const auto answer =
        QMessageBox::warning(this, tr("Delete jobs"),
                             ids.size() == 1 ? tr("Delete the job %1?").arg(ids.first())
                                             : tr("Delete the %1 selected jobs?").arg(ids.size()),
                             QMessageBox::Cancel | QMessageBox::Yes, QMessageBox::Cancel);
    if (answer == QMessageBox::Yes)
        m_session->deleteJobs(ids);
}

void ExperimentView::requeueSelectedJobs()
{
    QList<Job> jobs;
    for (const QString &id : selectedJobIds()) {
        const int row = m_model->rowOf(id);
        if (row >= 0)
            jobs.append(m_model->job(row));
    }
    m_session->requeue(jobs);
}

void ExperimentView::buildColumnsMenu()
{
    QMenu *menu = m_ui->columnsButton->menu();
    menu->clear();
    auto addSection = [&](JobTableModel::ColumnSource source, const QString &title) {
        bool any = false;
        for (int c = 0; c < m_model->columnCount(); ++c) {
            const auto key = m_model->columnKey(c);
            if (key.source != source)
                continue;
            if (!any)
                menu->addSection(title);
            any = true;
            QAction *a = menu->addAction(m_model->headerData(c, Qt::Horizontal).toString());
            a->setCheckable(true);
            a->setChecked(!m_ui->jobView->isColumnHidden(c));
            connect(a, &QAction::toggled, this, [this, c, key](bool shown) {
                m_ui->jobView->setColumnHidden(c, !shown);
                m_hiddenColumns.removeAll(key.key());
                if (!shown)
                    m_hiddenColumns.append(key.key());
                saveLayout();
            });
        }
    };
    addSection(JobTableModel::ColumnSource::Fixed, tr("Job"));
    addSection(JobTableModel::ColumnSource::Hyperparameter, tr("Hyperparameters"));
    addSection(JobTableModel::ColumnSource::Result, tr("Results"));
}

void ExperimentView::restoreLayout()
{
    // A column gets its width once when it is decided (the saved one, a fixed one for times and
    // statuses, or the user's); the others are fitted to their rows and grow as rows come
    // (growColumns()), so a value that arrives later is not cut ("0.518…").
    QSettings s;
    if (!m_layoutRestored) {
        m_layoutRestored = true;
        if (!m_ui->jobSplitter->restoreState(s.value(QStringLiteral("layout/jobSplitter")).toByteArray()))
            m_ui->jobSplitter->setSizes({m_ui->jobSplitter->width() * 3 / 4, m_ui->jobSplitter->width() / 4});
    }
    QTableView *view = m_ui->jobView;
    const QVariantMap widths = s.value(m_settingsScope + QStringLiteral("/widths")).toMap();
    m_fittingColumns = true;
    for (int c = 0; c < m_model->columnCount(); ++c) {
        const QString key = m_model->columnKey(c).key();
        if (m_sizedColumns.contains(key) || m_fittedColumns.contains(key))
            continue;
        // Ids never truncate: a width saved by an older version may be too small. Nor do statuses.
        if (widths.contains(key) && c != JobTableModel::IdColumn && c != JobTableModel::StatusColumn) {
            view->setColumnWidth(c, widths.value(key).toInt());
        } else if (c == JobTableModel::CreatedColumn || c == JobTableModel::ModifiedColumn) {
            view->setColumnWidth(
                c, view->fontMetrics().horizontalAdvance(QStringLiteral("0000-00-00 00:00")) + 24);
        } else if (c == JobTableModel::StatusColumn) {
            int widest = view->fontMetrics().horizontalAdvance(tr("Running?")); // while unreachable
            for (JobStatus st : AllJobStatuses)
                widest = std::max(widest, view->fontMetrics().horizontalAdvance(format::statusLabel(st)));
            // Jobs the server stopped say why (JobTableModel): room for that when it can happen.
            if (experiment().pruner || experiment().lease) {
                for (const QString &why : {tr("Pruned · step %1").arg(9999), tr("Crashed · lost")})
                    widest = std::max(widest, view->fontMetrics().horizontalAdvance(why));
            }
            // A saved width counts when it leaves room for the statuses.
            view->setColumnWidth(c, std::max({widest + 40, view->horizontalHeader()->sectionSizeHint(c),
                                              widths.value(key, 0).toInt()}));
        } else if (m_model->rowCount() > 0) {
            m_fittedColumns.insert(key);
            view->setColumnWidth(c, std::max(view->horizontalHeader()->sectionSizeHint(c),
                                             contentWidth(c, 0, m_model->rowCount() - 1)));
            continue;
        } else {
            continue; // fitted when rows arrive
        }
        m_sizedColumns.insert(key);
    }
    m_fittingColumns = false;
}

int ExperimentView::contentWidth(int column, int first, int last) const
{
    QTableView *view = m_ui->jobView;
    QStyleOptionViewItem option;
    option.initFrom(view);
    option.font = view->font();
    option.fontMetrics = view->fontMetrics();
    int width = 0;
    for (int row = first; row <= last; ++row)
        width = std::max(width, view->itemDelegate()->sizeHint(option, m_model->index(row, column)).width());
    // The text's margins and the grid line, as QTableView::sizeHintForColumn() counts them.
    width += 2 * view->style()->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, view) + 2;
    // A long JSON value does not take the whole table; an id is never cut.
    constexpr int MaxFittedWidth = 320;
    return column == JobTableModel::IdColumn ? width : std::min(width, MaxFittedWidth);
}

void ExperimentView::growColumns(int first, int last)
{
    if (first > last)
        return;
    m_fittingColumns = true;
    for (int c = 0; c < m_model->columnCount(); ++c) {
        if (m_ui->jobView->isColumnHidden(c) || !m_fittedColumns.contains(m_model->columnKey(c).key()))
            continue;
        const int wanted = contentWidth(c, first, last);
        if (wanted > m_ui->jobView->columnWidth(c))
            m_ui->jobView->setColumnWidth(c, wanted);
    }
    m_fittingColumns = false;
}

void ExperimentView::saveLayout()
{
    if (m_settingsScope.isEmpty() || !m_layoutRestored)
        return;
    QSettings s;
    s.setValue(m_settingsScope + QStringLiteral("/hidden"), m_hiddenColumns);
    QVariantMap widths = s.value(m_settingsScope + QStringLiteral("/widths")).toMap();
    for (int c = 0; c < m_model->columnCount(); ++c) {
        const QString key = m_model->columnKey(c).key();
        // A column never fitted (no rows yet) keeps no width: it is fitted when rows come.
        if (!m_ui->jobView->isColumnHidden(c) && m_sizedColumns.contains(key))
            widths.insert(key, m_ui->jobView->columnWidth(c));
    }
    s.setValue(m_settingsScope + QStringLiteral("/widths"), widths);
    s.setValue(QStringLiteral("layout/jobSplitter"), m_ui->jobSplitter->saveState());
}

// ---- Editors ------------------------------------------------------------------------------------------

void ExperimentView::setUpEditors()
{
    m_ui->editButton->setToolTip(tr("Change the status, the distributions or the PBT settings"));
    m_ui->queueButton->setToolTip(tr("Add a job by hand (Ctrl+J)"));
    m_ui->queueButton->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_J));
    connect(m_ui->editButton, &QPushButton::clicked, this, &ExperimentView::editExperiment);
    connect(m_ui->queueButton, &QPushButton::clicked, this, &ExperimentView::queueJob);
    m_ui->duplicateButton->setToolTip(tr("A new experiment with this one's definition, under another name"));
    connect(m_ui->duplicateButton, &QPushButton::clicked, this, &ExperimentView::duplicateExperiment);

    QTableView *view = m_ui->jobView;
    auto *separator = new QAction(view);
    separator->setSeparator(true);
    auto *duplicateJob = new QAction(tr("Duplicate as new job…"), view);
    duplicateJob->setObjectName(QStringLiteral("duplicateJobAction"));
    connect(duplicateJob, &QAction::triggered, this, &ExperimentView::duplicateSelectedJob);
    auto *editJob = new QAction(tr("Edit job…"), view);
    editJob->setObjectName(QStringLiteral("editJobAction"));
    connect(editJob, &QAction::triggered, this, &ExperimentView::editSelectedJob);
    view->addActions({separator, duplicateJob, editJob});
}

std::optional<Job> ExperimentView::currentJob() const
{
    const QModelIndex current = m_ui->jobView->selectionModel()->currentIndex();
    if (current.isValid() && m_ui->jobView->selectionModel()->rowIntersectsSelection(current.row(), {}))
        return m_model->job(current.row());
    const QList<QString> ids = selectedJobIds();
    const int row = ids.isEmpty() ? -1 : m_model->rowOf(ids.first());
    if (row < 0)
        return std::nullopt;
    return m_model->job(row);
}

void ExperimentView::editExperiment()
{
    if (m_session->experiment().name.isEmpty() || m_readingForEdit)
        return;
    if (!m_session->experiment().etag.isEmpty()) {
        openEditDialog();
        return;
    }
    // Shown from the listing, without an ETag: read the experiment so that the dialog starts
    // from the current version and its ETag guards the save.
    m_readingForEdit = true;
    m_ui->editButton->setEnabled(false);
    m_session->reread(this, [this](bool ok) {
        m_readingForEdit = false;
        m_ui->editButton->setEnabled(true);
        if (ok)
            openEditDialog();
    });
}

void ExperimentView::openEditDialog()
{
    auto *dialog = new ExperimentDialog(client(), ExperimentDialog::Mode::Edit, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setExperiment(m_session->experiment());
    QStringList results;
    for (const auto &key : m_model->columnKeys()) {
        if (key.source == JobTableModel::ColumnSource::Result)
            results.append(key.name);
    }
    dialog->setResultNameSuggestions(results);
    connect(dialog, &ExperimentDialog::saved, this, [this](const Experiment &e) {
        m_session->acceptSaved(e);
        Q_EMIT notice(tr("Saved %1").arg(e.name));
    });
    dialog->open();
}

void ExperimentView::duplicateExperiment()
{
    if (experiment().name.isEmpty())
        return;
    auto *dialog = new ExperimentDialog(client(), ExperimentDialog::Mode::Duplicate, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setExperiment(experiment());
    connect(dialog, &ExperimentDialog::saved, this, &ExperimentView::experimentCreated);
    dialog->open();
}

void ExperimentView::openJobDialog(JobDialog *dialog)
{
    QStringList hyperparameters;
    QStringList results;
    for (const auto &key : m_model->columnKeys()) {
        if (key.source == JobTableModel::ColumnSource::Hyperparameter)
            hyperparameters.append(key.name);
        else if (key.source == JobTableModel::ColumnSource::Result)
            results.append(key.name);
    }
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setKnownNames(hyperparameters, results);
    const QString name = experiment().name;
    connect(dialog, &JobDialog::saved, this, [this, name, mode = dialog->mode()](const Job &job) {
        Q_EMIT notice(mode == JobDialog::Mode::Edit ? tr("Saved job %1").arg(job.id)
                                                    : tr("Queued job %1").arg(job.id));
        if (name == experiment().name)
            m_session->acceptJob(job);
    });
    dialog->open();
}

void ExperimentView::queueJob()
{
    if (experiment().name.isEmpty())
        return;
    openJobDialog(new JobDialog(client(), experiment(), JobDialog::Mode::Queue, this));
}

void ExperimentView::duplicateSelectedJob()
{
    const auto job = currentJob();
    if (!job)
        return;
    auto *dialog = new JobDialog(client(), experiment(), JobDialog::Mode::Duplicate, this);
    dialog->setJob(*job);
    openJobDialog(dialog);
}

void ExperimentView::editSelectedJob()
{
    const auto job = currentJob();
    if (!job)
        return;
    auto *dialog = new JobDialog(client(), experiment(), JobDialog::Mode::Edit, this);
    dialog->setJob(*job);
    openJobDialog(dialog);
}

} // namespace schedy
