#pragma once

#include "KeyedRowModel.h"
#include "Types.h"

#include <QPointer>

namespace schedy {

class Client;
class ExperimentFetcher;
struct ClientError;

// The caller's experiments, fetched page by page; refresh() merges a new
// listing in place (rows updated, added, removed) so selection survives.
class ExperimentListModel : public KeyedRowModel<Experiment>
{
    Q_OBJECT
public:
    enum Columns {
        NameColumn,
        KindColumn,
        StatusColumn,
        JobsColumn,
        DoneColumn,
        RunningColumn,
        QueuedColumn,
        CrashedColumn,
        PrunedColumn,
        ColumnCount
    };
    enum Roles { NameRole = Qt::UserRole + 1, KindRole, StatusRole, SortRole };

    explicit ExperimentListModel(QObject *parent = nullptr);
    ~ExperimentListModel() override;

    void setClient(Client *client); // resets
    Client *client() const { return m_client; }
    // Fetches the whole listing again and merges it.
    void refresh();
    bool isRefreshing() const { return m_refreshing; }
    // Applies a known experiment document (e.g. after an edit) without a round trip.
    void upsert(const Experiment &experiment);
    void remove(const QString &name);
    std::optional<Experiment> experiment(const QString &name) const;

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    bool canFetchMore(const QModelIndex &parent) const override;
    void fetchMore(const QModelIndex &parent) override;

Q_SIGNALS:
    void loadFailed(const schedy::ClientError &error);
    void loaded(); // a refresh (or the first full listing) completed

protected:
    QString keyOf(const Experiment &e) const override { return e.name; }

private:
    void mergeAll(const QList<Experiment> &all);

    QPointer<Client> m_client;
    ExperimentFetcher *m_fetcher = nullptr;
    ExperimentFetcher *m_refresher = nullptr;
    QList<Experiment> m_refreshed;
    bool m_refreshing = false;
};

} // namespace schedy
