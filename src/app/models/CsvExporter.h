#pragma once

#include "Client.h"
#include "JobTableModel.h"
#include "SaveFile.h"

#include <QFile>
#include <QObject>
#include <QPointer>

#include <memory>

namespace schedy {

// Writes every job of an experiment (with the table's filters and order) as
// CSV, page by page, so that 100k jobs never sit in memory at once. The file
// appears only when complete.
class CsvExporter : public QObject
{
    Q_OBJECT
public:
    CsvExporter(Client *client, QString experiment, JobListQuery query,
                QList<JobTableModel::ColumnKey> columns, QString path, QObject *parent = nullptr);
    ~CsvExporter() override;
    void start();
    void cancel();

    static QString escape(const QString &field);

Q_SIGNALS:
    void progress(qint64 done, qint64 total);
    void finished(bool ok, const QString &error);

private:
    void fetchNext();
    QString cell(const Job &job, const JobTableModel::ColumnKey &key) const;

    QPointer<Client> m_client;
    QString m_experiment;
    JobListQuery m_query;
    QList<JobTableModel::ColumnKey> m_columns;
    std::unique_ptr<SaveFile>
        m_file; // not a QSaveFile: exporting to /dev/stdout or a FIFO must not replace it
    QPointer<CallBase> m_inFlight;
    qint64 m_done = 0;
    qint64 m_total = -1;
    bool m_cancelled = false;
};

} // namespace schedy
