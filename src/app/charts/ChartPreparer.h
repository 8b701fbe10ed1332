#pragma once

#include "ChartData.h"

#include <QObject>

#include <atomic>

namespace schedy::charts {

// Prepares chart data on the thread it lives in (ChartsPanel moves it to a
// worker QThread): requests come with a snapshot of the job table, results
// leave as values in prepared(). A request older than the latest one known
// is skipped unprepared: its result would be thrown away anyway.
class ChartPreparer : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    // Any thread: the newest request's generation.
    void setLatest(quint64 generation) { m_latest.store(generation, std::memory_order_release); }
    int skippedCount() const { return m_skipped.load(std::memory_order_acquire); }

    // On the preparer's thread.
    void prepare(quint64 generation, const schedy::charts::ChartRequest &request,
                 const schedy::JobTableModel::Snapshot &snapshot);

Q_SIGNALS:
    void prepared(quint64 generation, const schedy::charts::PreparedChart &chart);

private:
    std::atomic<quint64> m_latest{0};
    std::atomic<int> m_skipped{0};
};

} // namespace schedy::charts

Q_DECLARE_METATYPE(schedy::charts::PreparedChart)
