#pragma once

#include "Client.h"
#include "KeyedRowModel.h"
#include "Types.h"

#include <QCborValue>
#include <QPointer>

#include <memory>

namespace schedy {

class JobFetcher;

// Why the server stopped a job, or whom it replaces (section 8): rare, so a
// row holds it behind one pointer, null for most jobs.
struct JobFate
{
    std::optional<PruneInfo> pruned;
    std::optional<double> lostAt;
    QString replacedBy;
    QString replaces;
};

// One job as the table keeps it: compact, values by column slot.
struct JobRow
{
    QString id;
    JobStatus status = JobStatus::Queued;
    double createdAt = 0;
    double modifiedAt = 0;
    qint64 generation = -1;
    QString parent;
    QString member;
    QList<QCborValue> values; // by slot; shorter lists mean "absent"
    std::shared_ptr<const JobFate> fate;
};

// The jobs of one experiment, paged from the server on demand
// (canFetchMore/fetchMore), never all at once. Sorting is done by the server
// (sort() restarts the listing with the new order), filters likewise.
// applyChanges() merges a live refresh in place. Columns: id, status,
// created, modified, then one per hyperparameter and per result, in order of
// first appearance.
class JobTableModel : public KeyedRowModel<JobRow>
{
    Q_OBJECT
public:
    enum Columns { IdColumn, StatusColumn, CreatedColumn, ModifiedColumn, FixedColumnCount };
    enum Roles {
        JobIdRole = Qt::UserRole + 1,
        StatusRole,       // int(JobStatus)
        NumberRole,       // double, or invalid when not numeric (a curve gives its last value)
        CurveRole,        // QList<double> for list-valued results
        ValueRole,        // QCborValue
        ColumnKeyRole,    // header: "hyperparameters.NAME", "results.NAME", or "id", "status", ...
        ColumnSourceRole, // header: ColumnSource
        StaleRole,        // bool: a running job's status is only the last known one (server unreachable)
        PrunedAtRole, // qint64: the step at which the server's pruner stopped the job; invalid if not pruned
        PruneReasonRole, // QString: why it was pruned, "at step 3 by the median rule: 0.85, worse than 0.61"
        LostAtRole,      // double: when its lease expired (seconds since the epoch); invalid if not lost
        ReplacedByRole,  // QString: the job that took the place of this lost one
        ReplacesRole     // QString: the lost job this one replaces
    };
    enum class ColumnSource { Fixed, Hyperparameter, Result };
    struct ColumnKey
    {
        ColumnSource source = ColumnSource::Fixed;
        QString name;
        QString key() const;
        friend bool operator==(const ColumnKey &a, const ColumnKey &b)
        {
            return a.source == b.source && a.name == b.name;
        }
    };

    explicit JobTableModel(QObject *parent = nullptr);
    ~JobTableModel() override;

    void setSource(Client *client, const QString &experiment, int pageSize = 500);
    const QString &experiment() const { return m_experiment; }
    void setStatusFilter(const QList<JobStatus> &statuses);
    const QList<JobStatus> &statusFilter() const { return m_query.statuses; }
    void setIdFilter(const QString &text);
    // Restarts the listing (same filters and order).
    void reload();

    bool isComplete() const; // every page fetched
    bool isFetching() const;
    qint64 totalCount() const { return m_total; } // matching jobs on the server; -1 unknown
    double latestModification() const { return m_latestModification; }
    const JobListQuery &query() const { return m_query; }
    int sortColumn() const { return m_sortColumn; }
    Qt::SortOrder sortOrder() const { return m_sortOrder; }

    // Merges changed jobs (from Client::changesSince): rows update in place,
    // jobs that stop matching the filters leave, new ones are added where the
    // order puts them (the end, or the top for newest-first).
    void applyChanges(const QList<Job> &changed);
    void removeJob(const QString &id);
    // The server does not answer: a running job may have finished or died meanwhile, so its
    // status is shown as the last known one ("Running?"), never as a certainty.
    void setStale(bool stale);
    bool isStale() const { return m_stale; }

    Job job(int row) const;
    // Why the job was pruned or lost, and whom it replaces, in sentences (a status tooltip).
    static QString fateText(const JobRow &row);
    QList<ColumnKey> columnKeys() const; // every column, fixed ones included
    ColumnKey columnKey(int column) const;
    int columnOf(const ColumnKey &key) const;
    QCborValue value(int row, int column) const;

    // The rows and column layout as plain values, for work off the UI thread
    // (chart preparation): the lists are implicitly shared, so taking one is
    // cheap and later model changes leave it as it was.
    struct Snapshot
    {
        QList<JobRow> rows;
        QList<ColumnKey> slotKeys; // by slot of JobRow::values
        QList<int> columnSlots;    // by dynamic column (after the fixed ones): its slot
    };
    Snapshot snapshot() const { return {rows(), m_slots, m_columnSlots}; }

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

Q_SIGNALS:
    void loadFailed(const schedy::ClientError &error);
    void totalChanged(qint64 total);
    void pageLoaded(int rows);

protected:
    QString keyOf(const JobRow &row) const override { return row.id; }

private:
    JobRow toRow(const Job &job);
    bool matchesFilters(const Job &job) const;
    void addPage(const QList<Job> &jobs);
    void ensureColumns(const QList<Job> &jobs);
    int slotOf(ColumnSource source, const QString &name);

    QPointer<Client> m_client;
    QString m_experiment;
    JobFetcher *m_fetcher = nullptr;
    JobListQuery m_query;
    int m_pageSize = 500;
    qint64 m_total = -1;
    double m_latestModification = 0;
    // Newest first: running jobs on top, live additions appear there.
    int m_sortColumn = CreatedColumn;
    Qt::SortOrder m_sortOrder = Qt::DescendingOrder;
    // Dynamic columns: column (after the fixed ones) -> slot in JobRow::values.
    QList<ColumnKey> m_slots;                   // by slot
    QList<int> m_columnSlots;                   // by dynamic column
    QHash<QString, int> m_slotOfHyperparameter; // by name: no key strings built per value
    QHash<QString, int> m_slotOfResult;
    int m_hyperparameterColumns = 0;
    bool m_stale = false;
};

} // namespace schedy
