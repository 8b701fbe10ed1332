#include "ChartPreparer.h"

namespace schedy::charts {

void ChartPreparer::prepare(quint64 generation, const ChartRequest &request,
                            const JobTableModel::Snapshot &snapshot)
{
    if (generation < m_latest.load(std::memory_order_acquire)) {
        m_skipped.fetch_add(1, std::memory_order_acq_rel);
        return;
    }
    const SnapshotJobSource source(snapshot);
    Q_EMIT prepared(generation, prepareChart(source, request));
}

} // namespace schedy::charts
