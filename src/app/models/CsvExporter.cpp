#include "CsvExporter.h"

#include "ValueFormat.h"

namespace schedy {

CsvExporter::CsvExporter(Client *client, QString experiment, JobListQuery query,
                         QList<JobTableModel::ColumnKey> columns, QString path, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_experiment(std::move(experiment))
    , m_query(std::move(query))
    , m_columns(std::move(columns))
    , m_file(std::make_unique<SaveFile>(path))
{
    m_query.start.clear();
    m_query.limit = 2000;
    m_query.modifiedSince.reset();
}

CsvExporter::~CsvExporter()
{
    if (m_inFlight)
        m_inFlight->abort();
}

QString CsvExporter::escape(const QString &field)
{
    if (!field.contains(QLatin1Char(',')) && !field.contains(QLatin1Char('"')) &&
        !field.contains(QLatin1Char('\n')) && !field.contains(QLatin1Char('\r')))
        return field;
    QString f = field;
    f.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + f + QLatin1Char('"');
}

void CsvExporter::start()
{
    if (!m_file->open(QIODevice::WriteOnly | QIODevice::Text)) {
        Q_EMIT finished(false, tr("Cannot write %1: %2").arg(m_file->fileName(), m_file->errorString()));
        return;
    }
    QStringList header;
    for (const auto &k : m_columns)
        header << escape(k.key());
    m_file->write(header.join(QLatin1Char(',')).toUtf8() + '\n');
    fetchNext();
}

void CsvExporter::cancel()
{
    m_cancelled = true;
    if (m_inFlight)
        m_inFlight->abort();
    m_file->cancelWriting();
    m_file->commit();
    Q_EMIT finished(false, QString());
}

QString CsvExporter::cell(const Job &job, const JobTableModel::ColumnKey &key) const
{
    using S = JobTableModel::ColumnSource;
    switch (key.source) {
    case S::Hyperparameter:
        return format::exact(job.hyperparameters.value(key.name));
    case S::Result:
        return format::exact(job.results.value(key.name));
    case S::Fixed:
        break;
    }
    if (key.name == QLatin1String("id"))
        return job.id;
    if (key.name == QLatin1String("status"))
        return toString(job.status);
    if (key.name == QLatin1String("createdAt"))
        return QString::number(job.createdAt.value_or(0), 'f', 6);
    if (key.name == QLatin1String("modifiedAt"))
        return QString::number(job.modifiedAt.value_or(0), 'f', 6);
    return {};
}

void CsvExporter::fetchNext()
{
    if (m_cancelled || !m_client)
        return;
    auto *call = m_client->jobs(m_experiment, m_query);
    m_inFlight = call;
    connect(call, &CallBase::finished, this, [this, call] {
        if (m_cancelled)
            return;
        if (!call->ok()) {
            m_file->cancelWriting();
            m_file->commit();
            Q_EMIT finished(false, call->error().toString());
            return;
        }
        const JobPage &page = call->value();
        if (page.total)
            m_total = *page.total;
        QByteArray chunk;
        for (const Job &job : page.items) {
            QStringList row;
            for (const auto &k : std::as_const(m_columns))
                row << escape(cell(job, k));
            chunk += row.join(QLatin1Char(',')).toUtf8() + '\n';
        }
        m_file->write(chunk);
        m_done += page.items.size();
        Q_EMIT progress(m_done, m_total);
        if (page.next.isEmpty() || page.items.isEmpty()) {
            const bool ok = m_file->commit();
            Q_EMIT finished(ok, ok ? QString() : m_file->errorString());
            return;
        }
        m_query.start = page.next;
        fetchNext();
    });
}

} // namespace schedy
