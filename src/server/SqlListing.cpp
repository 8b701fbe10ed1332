#include "SqlListing.h"

#include "Json.h"
#include "SqlCodes.h"

#include <QStringList>

namespace schedy::server {
namespace {

constexpr auto B64 = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;

QString sortTag(const JobSort &s)
{
    QString tag;
    switch (s.field) {
    case JobSort::Field::Default:
        tag = QStringLiteral("seq");
        break;
    case JobSort::Field::Id:
        tag = QStringLiteral("id");
        break;
    case JobSort::Field::Status:
        tag = QStringLiteral("status");
        break;
    case JobSort::Field::CreatedAt:
        tag = QStringLiteral("seq");
        break;
    case JobSort::Field::ModifiedAt:
        tag = QStringLiteral("modified");
        break;
    case JobSort::Field::Hyperparameter:
        tag = QStringLiteral("h:") + s.name;
        break;
    case JobSort::Field::Result:
        tag = QStringLiteral("r:") + s.name;
        break;
    }
    return tag + (s.descending ? QStringLiteral(":desc") : QStringLiteral(":asc"));
}

} // namespace

QString encodeCursor(const QCborArray &parts)
{
    return QString::fromLatin1(json::write(parts).toBase64(B64));
}

std::optional<QCborArray> decodeCursor(const QString &cursor)
{
    const auto decoded = QByteArray::fromBase64Encoding(
        cursor.toLatin1(), QByteArray::Base64UrlEncoding | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    json::ParseError e;
    const QCborValue v = json::parse(*decoded, &e);
    if (e.isError() || !v.isArray())
        return std::nullopt;
    return v.toArray();
}

std::optional<JobListingSql> JobListingSql::prepare(const JobQuery &query, bool sqlite)
{
    using Field = JobSort::Field;
    JobListingSql l;
    l.m_query = query;
    l.m_sqlite = sqlite;
    l.m_tag = sortTag(query.sort);
    // Cursor: [tag, key..., seq] for keyset pages, [tag, "offset", n] for JSON sort keys.
    if (!query.cursor.isEmpty()) {
        l.m_cursor = decodeCursor(query.cursor);
        if (!l.m_cursor || l.m_cursor->isEmpty() || l.m_cursor->at(0).toString() != l.m_tag)
            return std::nullopt;
    }
    const JobSort &sort = query.sort;
    switch (sort.field) {
    case Field::Default:
    case Field::CreatedAt:
        break;
    case Field::Id:
        l.m_keyExpr = QStringLiteral("job_id");
        break;
    case Field::Status:
        l.m_keyExpr = QStringLiteral("status");
        break;
    case Field::ModifiedAt:
        l.m_keyExpr = QStringLiteral("modified_at");
        break;
    case Field::Hyperparameter:
    case Field::Result: {
        const QString column = sort.field == Field::Hyperparameter ? QStringLiteral("hyperparameters")
                                                                   : QStringLiteral("results");
        if (sqlite) {
            // Curves sort by their last value, as the dashboard shows them. SQLite before 3.42
            // refuses the NaN/Infinity we store: such documents are read with NaN as null.
            const QString doc =
                QStringLiteral("(CASE WHEN json_valid(%1) THEN %1 ELSE "
                               "replace(replace(%1, 'NaN', 'null'), 'Infinity', '1e999') END)")
                    .arg(column);
            l.m_keyExpr = QStringLiteral("COALESCE(json_extract(%1, ?), json_extract(%1, ?))").arg(doc);
        } else {
            // jsonb refuses NaN/Infinity too: bare ones (never inside a string, as our
            // writer is compact) read as null and +-1e999. JSON null sorts as missing, as
            // SQLite's json_extract makes it.
            const QString doc =
                QStringLiteral(
                    "(CASE WHEN strpos(%1, 'NaN') > 0 OR strpos(%1, 'Infinity') > 0 THEN "
                    "regexp_replace(regexp_replace(%1, '(?<=[:,\\[])NaN(?=[,\\]}])', 'null', 'g'), "
                    "'(?<=[:,\\[])(-?)Infinity(?=[,\\]}])', '\\11e999', 'g') ELSE %1 END)::jsonb")
                    .arg(column);
            l.m_keyExpr =
                QStringLiteral("NULLIF(COALESCE((%1 -> ?) -> -1, %1 -> ?), 'null'::jsonb)").arg(doc);
        }
        l.m_offsetPaging = true;
        const QString path = QStringLiteral("$.\"") + sort.name + QLatin1Char('"');
        if (sqlite)
            l.m_keyBinds << QString(path + QStringLiteral("[#-1]")) << path;
        else
            l.m_keyBinds << sort.name << sort.name;
        break;
    }
    }
    return l;
}

std::pair<QString, QVariantList> JobListingSql::where(qint64 experimentId) const
{
    QString where = QStringLiteral("experiment_id = ?");
    QVariantList binds{experimentId};
    if (!m_query.statuses.isEmpty()) {
        QStringList codes;
        for (JobStatus s : m_query.statuses)
            codes << QString::number(sqlcode::of(s));
        where += QStringLiteral(" AND status IN (") + codes.join(QLatin1Char(',')) + QLatin1Char(')');
    }
    if (m_query.modifiedSince) {
        where += QStringLiteral(" AND modified_at >= ?");
        binds << *m_query.modifiedSince;
    }
    if (!m_query.idContains.isEmpty()) {
        where += m_sqlite ? QStringLiteral(" AND instr(job_id, ?) > 0")
                          : QStringLiteral(" AND strpos(job_id, ?) > 0");
        binds << m_query.idContains;
    }
    return {where, binds};
}

std::pair<QString, QVariantList> JobListingSql::countSql(qint64 experimentId) const
{
    auto [where, binds] = this->where(experimentId);
    return {QStringLiteral("SELECT COUNT(*) FROM jobs WHERE ") + where, binds};
}

std::pair<QString, QVariantList> JobListingSql::pageSql(qint64 experimentId) const
{
    const JobSort &sort = m_query.sort;
    const QString dir = sort.descending ? QStringLiteral(" DESC") : QStringLiteral(" ASC");
    const QString cmp = sort.descending ? QStringLiteral(" < ") : QStringLiteral(" > ");
    auto [where, pageBinds] = this->where(experimentId);
    QString sql = QStringLiteral("SELECT " SCHEDY_JOB_COLUMNS " FROM jobs WHERE ") + where;
    qint64 offset = 0;
    if (m_cursor) {
        if (m_offsetPaging) {
            offset = m_cursor->at(2).toInteger();
        } else if (m_keyExpr.isEmpty()) {
            sql += QStringLiteral(" AND seq") + cmp + QLatin1Char('?');
            pageBinds << m_cursor->at(1).toInteger();
        } else {
            const QCborValue key = m_cursor->at(1);
            sql += QStringLiteral(" AND (") + m_keyExpr + cmp + QStringLiteral("? OR (") + m_keyExpr +
                   QStringLiteral(" = ? AND seq") + cmp + QStringLiteral("?))");
            const QVariant k = key.isInteger()  ? QVariant(key.toInteger())
                               : key.isDouble() ? QVariant(key.toDouble())
                                                : QVariant(key.toString());
            pageBinds << k << k << m_cursor->at(2).toInteger();
        }
    }
    if (m_offsetPaging) {
        // NULLs (jobs without that value) last, whatever the direction.
        sql += QStringLiteral(" ORDER BY (") + m_keyExpr + QStringLiteral(") IS NULL, ");
        pageBinds << m_keyBinds;
        if (!m_sqlite) {
            // Across types as SQLite orders json_extract's values: numbers, then strings,
            // then objects and arrays (jsonb alone puts strings first).
            sql += QStringLiteral("(CASE jsonb_typeof(") + m_keyExpr +
                   QStringLiteral(
                       ") WHEN 'string' THEN 1 WHEN 'object' THEN 2 WHEN 'array' THEN 2 ELSE 0 END)") +
                   dir + QStringLiteral(", ");
            pageBinds << m_keyBinds;
        }
        sql += m_keyExpr + dir + QStringLiteral(", seq") + dir;
        pageBinds << m_keyBinds;
    } else if (m_keyExpr.isEmpty()) {
        sql += QStringLiteral(" ORDER BY seq") + dir;
    } else {
        sql += QStringLiteral(" ORDER BY ") + m_keyExpr + dir + QStringLiteral(", seq") + dir;
    }
    sql += QStringLiteral(" LIMIT ? OFFSET ?");
    pageBinds << m_query.limit + 1 << offset;
    return {sql, pageBinds};
}

QString JobListingSql::nextCursor(const StoredJob &last, qint64 lastSeq) const
{
    using Field = JobSort::Field;
    QCborArray next{m_tag};
    if (m_offsetPaging) {
        const qint64 offset = m_cursor ? m_cursor->at(2).toInteger() : 0;
        next << QStringLiteral("offset") << offset + m_query.limit;
    } else if (m_keyExpr.isEmpty()) {
        next << lastSeq;
    } else if (m_query.sort.field == Field::Id) {
        next << last.job.id << lastSeq;
    } else if (m_query.sort.field == Field::Status) {
        next << qint64(sqlcode::of(last.job.status)) << lastSeq;
    } else {
        next << *last.job.modifiedAt << lastSeq;
    }
    return encodeCursor(next);
}

} // namespace schedy::server
