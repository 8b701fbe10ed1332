#include "ExperimentListModel.h"

#include "Client.h"
#include "JobFetcher.h"
#include "ValueFormat.h"

#include <QSet>

namespace schedy {

ExperimentListModel::ExperimentListModel(QObject *parent)
    : KeyedRowModel<Experiment>(parent)
{}

ExperimentListModel::~ExperimentListModel() = default;

void ExperimentListModel::setClient(Client *client)
{
    delete m_fetcher;
    delete m_refresher;
    m_fetcher = nullptr;
    m_refresher = nullptr;
    m_refreshing = false;
    m_client = client;
    resetRows({});
    if (!client)
        return;
    m_fetcher = new ExperimentFetcher(client, 100, this);
    connect(m_fetcher, &ExperimentFetcher::pageFetched, this,
            [this](const QList<Experiment> &page, bool atEnd) {
                mergeAppend(page);
                if (atEnd)
                    Q_EMIT loaded();
            });
    connect(m_fetcher, &ExperimentFetcher::failed, this, &ExperimentListModel::loadFailed);
}

void ExperimentListModel::refresh()
{
    if (!m_client || m_refreshing)
        return;
    if (!m_refresher) {
        m_refresher = new ExperimentFetcher(m_client, 1000, this);
        connect(m_refresher, &ExperimentFetcher::pageFetched, this,
                [this](const QList<Experiment> &page, bool atEnd) {
                    m_refreshed.append(page);
                    if (!atEnd) {
                        m_refresher->fetchMore();
                        return;
                    }
                    m_refreshing = false;
                    mergeAll(std::exchange(m_refreshed, {}));
                    Q_EMIT loaded();
                });
        connect(m_refresher, &ExperimentFetcher::failed, this, [this](const ClientError &e) {
            m_refreshing = false;
            m_refreshed.clear();
            Q_EMIT loadFailed(e);
        });
    }
    m_refreshing = true;
    m_refreshed.clear();
    m_refresher->reset();
    m_refresher->fetchMore();
}

void ExperimentListModel::mergeAll(const QList<Experiment> &all)
{
    QSet<QString> present;
    for (const Experiment &e : all)
        present.insert(e.name);
    for (int row = rowCount() - 1; row >= 0; --row) {
        if (!present.contains(rowAt(row).name))
            removeRowAt(row);
    }
    mergeAppend(all);
    // The first listing may still be paging: it has nothing left to add.
    if (m_fetcher) {
        m_fetcher->disconnect(this);
        m_fetcher->deleteLater();
        m_fetcher = nullptr;
    }
}

void ExperimentListModel::upsert(const Experiment &experiment)
{
    mergeAppend({experiment});
}

void ExperimentListModel::remove(const QString &name)
{
    const int row = rowOf(name);
    if (row >= 0)
        removeRowAt(row);
}

std::optional<Experiment> ExperimentListModel::experiment(const QString &name) const
{
    const int row = rowOf(name);
    if (row < 0)
        return std::nullopt;
    return rowAt(row);
}

int ExperimentListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ExperimentListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Experiment &e = rowAt(index.row());
    const JobCounts counts = e.jobCounts.value_or(JobCounts{});
    auto count = [&](int column) -> qint64 {
        switch (column) {
        case JobsColumn:
            return counts.total();
        case DoneColumn:
            return counts[JobStatus::Done];
        case RunningColumn:
            return counts[JobStatus::Running];
        case QueuedColumn:
            return counts[JobStatus::Queued];
        case CrashedColumn:
            return counts[JobStatus::Crashed];
        case PrunedColumn:
            return counts[JobStatus::Pruned];
        }
        return 0;
    };
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case NameColumn:
            return e.name;
        case KindColumn:
            return format::kindLabel(e.scheduler.kind);
        case StatusColumn:
            return format::experimentStatusLabel(e);
        default:
            return e.jobCounts ? QVariant(count(index.column())) : QVariant();
        }
    case Qt::ToolTipRole:
        if (index.column() == NameColumn)
            return tr("%1\n%2, %3 jobs").arg(e.name, format::kindLabel(e.scheduler.kind)).arg(counts.total());
        if (index.column() == StatusColumn)
            return e.status == ExperimentStatus::Running
                       ? tr("Running: workers get jobs")
                       : tr("%1: no jobs are handed out").arg(format::experimentStatusLabel(e));
        if (index.column() == CrashedColumn && counts.lost > 0)
            return tr("%1 of them lost: their workers went silent longer than the lease").arg(counts.lost);
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() >= JobsColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case Qt::ForegroundRole:
        if (index.column() == CrashedColumn && count(CrashedColumn) > 0)
            return format::statusColor(JobStatus::Crashed);
        if (index.column() == StatusColumn && e.status == ExperimentStatus::Done)
            return QColor(Qt::gray);
        return {};
    case NameRole:
        return e.name;
    case KindRole:
        return int(e.scheduler.kind);
    case StatusRole:
        return int(e.status);
    case SortRole:
        switch (index.column()) {
        case NameColumn:
            return e.name.toLower();
        case KindColumn:
            return int(e.scheduler.kind);
        case StatusColumn:
            return int(e.status);
        default:
            return count(index.column());
        }
    }
    return {};
}

QVariant ExperimentListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn:
        return tr("Experiment");
    case KindColumn:
        return tr("Kind");
    case StatusColumn:
        return tr("Status");
    case JobsColumn:
        return tr("Jobs");
    case DoneColumn:
        return tr("Done");
    case RunningColumn:
        return tr("Running");
    case QueuedColumn:
        return tr("Queued");
    case CrashedColumn:
        return tr("Crashed");
    case PrunedColumn:
        return tr("Pruned");
    }
    return {};
}

bool ExperimentListModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && m_fetcher && m_fetcher->canFetchMore();
}

void ExperimentListModel::fetchMore(const QModelIndex &parent)
{
    if (!parent.isValid() && m_fetcher)
        m_fetcher->fetchMore();
}

} // namespace schedy
