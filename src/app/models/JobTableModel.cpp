#include "JobTableModel.h"

#include "JobFetcher.h"
#include "PolicyText.h"
#include "ValueFormat.h"

#include <QCborArray>

#include <QCborMap>
#include <QSet>
#include <algorithm>

namespace schedy {

QString JobTableModel::ColumnKey::key() const
{
    switch (source) {
    case ColumnSource::Hyperparameter:
        return QStringLiteral("hyperparameters.") + name;
    case ColumnSource::Result:
        return QStringLiteral("results.") + name;
    case ColumnSource::Fixed:
        return name;
    }
    return name;
}

JobTableModel::JobTableModel(QObject *parent)
    : KeyedRowModel<JobRow>(parent)
{}

JobTableModel::~JobTableModel() = default;

void JobTableModel::setSource(Client *client, const QString &experiment, int pageSize)
{
    m_client = client;
    m_experiment = experiment;
    m_pageSize = pageSize;
    m_query = JobListQuery{};
    m_query.sort = QStringLiteral("createdAt");
    m_query.descending = true;
    m_sortColumn = CreatedColumn;
    m_sortOrder = Qt::DescendingOrder;
    beginResetModel();
    m_slots.clear();
    m_columnSlots.clear();
    m_slotOfHyperparameter.clear();
    m_slotOfResult.clear();
    m_hyperparameterColumns = 0;
    endResetModel();
    reload();
}

void JobTableModel::setStatusFilter(const QList<JobStatus> &statuses)
{
    m_query.statuses = statuses;
    reload();
}

void JobTableModel::setIdFilter(const QString &text)
{
    m_query.idContains = text;
    reload();
}

void JobTableModel::reload()
{
    delete m_fetcher; // aborts a page in flight
    m_fetcher = nullptr;
    resetRows({});
    m_total = -1;
    m_latestModification = 0;
    if (!m_client || m_experiment.isEmpty())
        return;
    JobListQuery q = m_query;
    q.limit = m_pageSize;
    m_fetcher = new JobFetcher(m_client, m_experiment, q, this);
    // A small first page puts rows on screen sooner; then full pages.
    m_fetcher->setFirstPageLimit(std::min(m_pageSize, 100));
    connect(m_fetcher, &JobFetcher::pageFetched, this,
            [this](const QList<Job> &jobs, bool) { addPage(jobs); });
    connect(m_fetcher, &JobFetcher::failed, this, &JobTableModel::loadFailed);
    connect(m_fetcher, &JobFetcher::totalChanged, this, [this](qint64 total) {
        m_total = total;
        Q_EMIT totalChanged(total);
    });
}

void JobTableModel::setStale(bool stale)
{
    if (stale == m_stale)
        return;
    m_stale = stale;
    if (rowCount() > 0)
        Q_EMIT dataChanged(index(0, StatusColumn), index(rowCount() - 1, StatusColumn));
}

bool JobTableModel::isComplete() const
{
    return !m_fetcher || !m_fetcher->canFetchMore();
}
bool JobTableModel::isFetching() const
{
    return m_fetcher && m_fetcher->isFetching();
}

bool JobTableModel::canFetchMore(const QModelIndex &parent) const
{
    return !parent.isValid() && m_fetcher && m_fetcher->canFetchMore();
}

void JobTableModel::fetchMore(const QModelIndex &parent)
{
    if (!parent.isValid() && m_fetcher)
        m_fetcher->fetchMore();
}

int JobTableModel::slotOf(ColumnSource source, const QString &name)
{
    const QHash<QString, int> &bySource =
        source == ColumnSource::Hyperparameter ? m_slotOfHyperparameter : m_slotOfResult;
    return bySource.value(name, -1);
}

void JobTableModel::ensureColumns(const QList<Job> &jobs)
{
    // New names become new columns: hyperparameters after the known
    // hyperparameters, results at the end.
    QList<ColumnKey> newHp, newResults;
    QSet<QString> seenHp, seenResults;
    for (const Job &j : jobs) {
        for (auto it = j.hyperparameters.begin(); it != j.hyperparameters.end(); ++it) {
            const QString name = it.key().toString();
            if (!m_slotOfHyperparameter.contains(name) && !seenHp.contains(name)) {
                seenHp.insert(name);
                newHp.append({ColumnSource::Hyperparameter, name});
            }
        }
        for (auto it = j.results.begin(); it != j.results.end(); ++it) {
            const QString name = it.key().toString();
            if (!m_slotOfResult.contains(name) && !seenResults.contains(name)) {
                seenResults.insert(name);
                newResults.append({ColumnSource::Result, name});
            }
        }
    }
    auto add = [this](const QList<ColumnKey> &keys, int firstColumn) {
        if (keys.isEmpty())
            return;
        beginInsertColumns({}, firstColumn, firstColumn + int(keys.size()) - 1);
        int dynamic = firstColumn - FixedColumnCount;
        for (const ColumnKey &k : keys) {
            const int slot = int(m_slots.size());
            m_slots.append(k);
            (k.source == ColumnSource::Hyperparameter ? m_slotOfHyperparameter : m_slotOfResult)
                .insert(k.name, slot);
            m_columnSlots.insert(dynamic++, slot);
        }
        endInsertColumns();
    };
    add(newHp, FixedColumnCount + m_hyperparameterColumns);
    m_hyperparameterColumns += int(newHp.size());
    add(newResults, FixedColumnCount + int(m_columnSlots.size()));
}

JobRow JobTableModel::toRow(const Job &job)
{
    JobRow row;
    row.id = job.id;
    row.status = job.status;
    row.createdAt = job.createdAt.value_or(0);
    row.modifiedAt = job.modifiedAt.value_or(0);
    row.generation = job.generation.value_or(-1);
    row.parent = job.parent;
    row.member = job.member;
    if (job.pruned || job.lostAt || !job.replacedBy.isEmpty() || !job.replaces.isEmpty())
        row.fate =
            std::make_shared<const JobFate>(JobFate{job.pruned, job.lostAt, job.replacedBy, job.replaces});
    row.values.resize(m_slots.size());
    for (auto it = job.hyperparameters.begin(); it != job.hyperparameters.end(); ++it)
        row.values[slotOf(ColumnSource::Hyperparameter, it.key().toString())] = it.value();
    for (auto it = job.results.begin(); it != job.results.end(); ++it)
        row.values[slotOf(ColumnSource::Result, it.key().toString())] = it.value();
    // Trailing absent values take no memory.
    while (!row.values.isEmpty() && row.values.last().isUndefined())
        row.values.removeLast();
    row.values.squeeze();
    if (row.modifiedAt > m_latestModification)
        m_latestModification = row.modifiedAt;
    return row;
}

void JobTableModel::addPage(const QList<Job> &jobs)
{
    ensureColumns(jobs);
    QList<JobRow> rows;
    rows.reserve(jobs.size());
    for (const Job &j : jobs)
        rows.append(toRow(j));
    mergeAppend(rows);
    Q_EMIT pageLoaded(int(rows.size()));
}

bool JobTableModel::matchesFilters(const Job &job) const
{
    if (!m_query.statuses.isEmpty() && !m_query.statuses.contains(job.status))
        return false;
    if (!m_query.idContains.isEmpty() && !job.id.contains(m_query.idContains))
        return false;
    return true;
}

void JobTableModel::applyChanges(const QList<Job> &changed)
{
    if (changed.isEmpty())
        return;
    ensureColumns(changed);
    const bool newestFirst = m_sortColumn == CreatedColumn && m_sortOrder == Qt::DescendingOrder;
    QList<JobRow> appended;
    for (const Job &job : changed) {
        const int row = rowOf(job.id);
        const bool matches = matchesFilters(job);
        if (row >= 0) {
            if (matches)
                replaceRow(row, toRow(job));
            else
                removeRowAt(row);
        } else if (matches) {
            if (newestFirst)
                insertRowAt(0, toRow(job));
            else if (isComplete())
                appended.append(toRow(job));
            else if (job.modifiedAt.value_or(0) > m_latestModification)
                m_latestModification = job.modifiedAt.value_or(0); // comes with a later page
        }
    }
    mergeAppend(appended);
}

void JobTableModel::removeJob(const QString &id)
{
    const int row = rowOf(id);
    if (row >= 0)
        removeRowAt(row);
}

Job JobTableModel::job(int row) const
{
    const JobRow &r = rowAt(row);
    Job j;
    j.id = r.id;
    j.experiment = m_experiment;
    j.status = r.status;
    j.createdAt = r.createdAt;
    j.modifiedAt = r.modifiedAt;
    if (r.generation >= 0)
        j.generation = r.generation;
    j.parent = r.parent;
    j.member = r.member;
    if (r.fate) {
        j.pruned = r.fate->pruned;
        j.lostAt = r.fate->lostAt;
        j.replacedBy = r.fate->replacedBy;
        j.replaces = r.fate->replaces;
    }
    for (int slot = 0; slot < r.values.size(); ++slot) {
        if (r.values[slot].isUndefined())
            continue;
        const ColumnKey &k = m_slots[slot];
        (k.source == ColumnSource::Hyperparameter ? j.hyperparameters : j.results)
            .insert(k.name, r.values[slot]);
    }
    return j;
}

QList<JobTableModel::ColumnKey> JobTableModel::columnKeys() const
{
    QList<ColumnKey> keys;
    for (int c = 0; c < columnCount(); ++c)
        keys.append(columnKey(c));
    return keys;
}

JobTableModel::ColumnKey JobTableModel::columnKey(int column) const
{
    switch (column) {
    case IdColumn:
        return {ColumnSource::Fixed, QStringLiteral("id")};
    case StatusColumn:
        return {ColumnSource::Fixed, QStringLiteral("status")};
    case CreatedColumn:
        return {ColumnSource::Fixed, QStringLiteral("createdAt")};
    case ModifiedColumn:
        return {ColumnSource::Fixed, QStringLiteral("modifiedAt")};
    }
    const int dynamic = column - FixedColumnCount;
    if (dynamic < 0 || dynamic >= m_columnSlots.size())
        return {};
    return m_slots[m_columnSlots[dynamic]];
}

int JobTableModel::columnOf(const ColumnKey &key) const
{
    for (int c = 0; c < columnCount(); ++c) {
        if (columnKey(c) == key)
            return c;
    }
    return -1;
}

QCborValue JobTableModel::value(int row, int column) const
{
    const JobRow &r = rowAt(row);
    switch (column) {
    case IdColumn:
        return r.id;
    case StatusColumn:
        return toString(r.status);
    case CreatedColumn:
        return r.createdAt;
    case ModifiedColumn:
        return r.modifiedAt;
    }
    const int dynamic = column - FixedColumnCount;
    if (dynamic < 0 || dynamic >= m_columnSlots.size())
        return {};
    const int slot = m_columnSlots[dynamic];
    return slot < r.values.size() ? r.values[slot] : QCborValue();
}

int JobTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : FixedColumnCount + int(m_columnSlots.size());
}

QVariant JobTableModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const JobRow &r = rowAt(index.row());
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case IdColumn:
            return r.id;
        case StatusColumn:
            if (m_stale && r.status == JobStatus::Running)
                return tr("Running?");
            // Why it stopped, in the table itself: sorting by status groups these too.
            if (r.status == JobStatus::Pruned && r.fate && r.fate->pruned)
                return tr("Pruned · step %1").arg(r.fate->pruned->step);
            if (r.status == JobStatus::Crashed && r.fate && r.fate->lostAt)
                return tr("Crashed · lost");
            return format::statusLabel(r.status);
        case CreatedColumn:
            return format::timestamp(r.createdAt);
        case ModifiedColumn:
            return format::timestamp(r.modifiedAt);
        default:
            return format::display(value(index.row(), column));
        }
    case StaleRole:
        return m_stale && r.status == JobStatus::Running;
    case Qt::ToolTipRole:
        if (column == StatusColumn && m_stale && r.status == JobStatus::Running)
            return tr("Last known status: the server does not answer, so this job may have ended meanwhile");
        if (column == StatusColumn && r.fate)
            return fateText(r);
        if (column >= FixedColumnCount) {
            const QCborValue v = value(index.row(), column);
            return v.isUndefined() ? QVariant() : QVariant(format::exact(v));
        }
        return {};
    case Qt::TextAlignmentRole: {
        const QCborValue v = column >= FixedColumnCount ? value(index.row(), column) : QCborValue();
        if (v.isInteger() || v.isDouble() || format::isCurve(v))
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return QVariant(Qt::AlignLeft | Qt::AlignVCenter);
    }
    case Qt::ForegroundRole:
        if (column == StatusColumn)
            return format::statusColor(r.status);
        return {};
    case JobIdRole:
        return r.id;
    case StatusRole:
        return int(r.status);
    case NumberRole: {
        if (column == CreatedColumn)
            return r.createdAt;
        if (column == ModifiedColumn)
            return r.modifiedAt;
        const auto n = format::number(value(index.row(), column));
        return n ? QVariant(*n) : QVariant();
    }
    case CurveRole: {
        const QCborValue v = value(index.row(), column);
        return format::isCurve(v) ? QVariant::fromValue(format::curve(v)) : QVariant();
    }
    case ValueRole:
        return QVariant::fromValue(value(index.row(), column));
    case PrunedAtRole:
        return r.fate && r.fate->pruned ? QVariant(r.fate->pruned->step) : QVariant();
    case PruneReasonRole:
        return r.fate && r.fate->pruned ? QVariant(describe(*r.fate->pruned)) : QVariant();
    case LostAtRole:
        return r.fate && r.fate->lostAt ? QVariant(*r.fate->lostAt) : QVariant();
    case ReplacedByRole:
        return r.fate && !r.fate->replacedBy.isEmpty() ? QVariant(r.fate->replacedBy) : QVariant();
    case ReplacesRole:
        return r.fate && !r.fate->replaces.isEmpty() ? QVariant(r.fate->replaces) : QVariant();
    }
    return {};
}

QString JobTableModel::fateText(const JobRow &r)
{
    QStringList lines;
    if (r.fate->pruned)
        lines.append(tr("Pruned %1").arg(describe(*r.fate->pruned)));
    if (r.fate->lostAt) {
        Job lost;
        lost.lostAt = r.fate->lostAt;
        lost.replacedBy = r.fate->replacedBy;
        lines.append(tr("Lost at %1").arg(describeLoss(lost)));
    }
    if (!r.fate->replaces.isEmpty())
        lines.append(tr("Replaces the lost job %1").arg(r.fate->replaces));
    return lines.join(QLatin1Char('\n'));
}

QVariant JobTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= columnCount())
        return {};
    const ColumnKey k = columnKey(section);
    switch (role) {
    case Qt::DisplayRole:
        switch (section) {
        case IdColumn:
            return tr("Id");
        case StatusColumn:
            return tr("Status");
        case CreatedColumn:
            return tr("Created");
        case ModifiedColumn:
            return tr("Modified");
        }
        return k.name;
    case Qt::ToolTipRole:
        if (k.source == ColumnSource::Hyperparameter)
            return tr("Hyperparameter %1").arg(k.name);
        if (k.source == ColumnSource::Result)
            return tr("Result %1").arg(k.name);
        return {};
    case ColumnKeyRole:
        return k.key();
    case ColumnSourceRole:
        return int(k.source);
    }
    return {};
}

void JobTableModel::sort(int column, Qt::SortOrder order)
{
    if (column < 0 || column >= columnCount())
        return;
    if (column == m_sortColumn && order == m_sortOrder)
        return;
    m_sortColumn = column;
    m_sortOrder = order;
    const ColumnKey k = columnKey(column);
    const bool defaultOrder = column == CreatedColumn && order == Qt::AscendingOrder;
    m_query.sort = defaultOrder ? QString() : k.key();
    m_query.descending = order == Qt::DescendingOrder;
    reload();
}

} // namespace schedy
