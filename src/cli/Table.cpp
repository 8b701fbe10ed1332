#include "Table.h"

#include "Codec.h"
#include "PolicyText.h"
#include "PyFormat.h"

#include <QCborArray>
#include <QCborMap>

#include <algorithm>
#include <cmath>

namespace schedy::cli {

const QString TableData::DefaultCategory = QStringLiteral("schedy");

namespace {

bool isNone(const QCborValue &v)
{
    return v.isUndefined() || v.isNull();
}

// tabulate's types, from the least to the most generic.
enum CellType { NoneType = 0, BoolType = 1, IntType = 2, FloatType = 3, TextType = 5 };

bool isNumberText(const QString &s, double *value = nullptr)
{
    double d = 0;
    if (!py::parsesAsFloat(s, &d))
        return false;
    if (value)
        *value = d;
    if (std::isinf(d) || std::isnan(d)) {
        const QString lower = s.toLower();
        return lower == QLatin1String("inf") || lower == QLatin1String("-inf") ||
               lower == QLatin1String("nan");
    }
    return true;
}

CellType cellType(const QCborValue &v)
{
    switch (v.type()) {
    case QCborValue::Undefined:
    case QCborValue::Null:
        return NoneType;
    case QCborValue::True:
    case QCborValue::False:
        return BoolType;
    case QCborValue::Integer:
        return IntType;
    case QCborValue::Double:
        return FloatType;
    case QCborValue::String: {
        const QString s = v.toString();
        if (s == QLatin1String("True") || s == QLatin1String("False"))
            return BoolType;
        if (py::parsesAsInt(s))
            return IntType;
        if (isNumberText(s))
            return FloatType;
        return TextType;
    }
    default:
        return TextType;
    }
}

double asFloat(const QCborValue &v)
{
    if (v.isBool())
        return v.toBool() ? 1.0 : 0.0;
    if (v.isInteger())
        return double(v.toInteger());
    if (v.isDouble())
        return v.toDouble();
    double d = 0;
    py::parsesAsFloat(v.toString(), &d);
    return d;
}

QString formatCell(const QCborValue &v, CellType columnType)
{
    if (isNone(v))
        return QString();
    if (columnType == FloatType)
        return py::formatG(asFloat(v));
    return py::str(v);
}

int afterPoint(const QString &s)
{
    if (!isNumberText(s))
        return -1;
    if (py::parsesAsInt(s))
        return -1;
    qsizetype pos = s.lastIndexOf(QLatin1Char('.'));
    if (pos < 0)
        pos = s.toLower().lastIndexOf(QLatin1Char('e'));
    if (pos < 0)
        return -1;
    return int(py::length(s) - py::length(s.left(pos)) - 1);
}

QString padLeft(const QString &s, qsizetype width)
{
    const qsizetype n = py::length(s);
    return n >= width ? s : QString(width - n, QLatin1Char(' ')) + s;
}

QString padRight(const QString &s, qsizetype width)
{
    const qsizetype n = py::length(s);
    return n >= width ? s : s + QString(width - n, QLatin1Char(' '));
}

QString rstrip(QString s)
{
    while (!s.isEmpty() && s.back().isSpace())
        s.chop(1);
    return s;
}

// Orders two present values: numbers (and booleans) by value, then text, lists
// and objects. Python refuses to compare mixed types; we give them an order.
int rank(const QCborValue &v)
{
    if (v.isBool() || v.isInteger() || v.isDouble())
        return 0;
    if (v.isString())
        return 1;
    if (v.isArray())
        return 2;
    return 3;
}

int compareValues(const QCborValue &a, const QCborValue &b)
{
    const int ra = rank(a), rb = rank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (ra) {
    case 0: {
        if (a.isInteger() && b.isInteger())
            return a.toInteger() < b.toInteger() ? -1 : (a.toInteger() > b.toInteger() ? 1 : 0);
        const double x = asFloat(a), y = asFloat(b);
        if (std::isnan(x) || std::isnan(y))
            return std::isnan(x) == std::isnan(y) ? 0 : (std::isnan(x) ? 1 : -1);
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    case 1: {
        const QList<uint> x = a.toString().toUcs4(), y = b.toString().toUcs4();
        return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end())
                   ? -1
                   : (std::lexicographical_compare(y.begin(), y.end(), x.begin(), x.end()) ? 1 : 0);
    }
    case 2: {
        const QCborArray x = a.toArray(), y = b.toArray();
        for (qsizetype i = 0; i < std::min(x.size(), y.size()); ++i) {
            if (isNone(x.at(i)) || isNone(y.at(i))) {
                if (isNone(x.at(i)) != isNone(y.at(i)))
                    return isNone(x.at(i)) ? 1 : -1;
                continue;
            }
            if (const int c = compareValues(x.at(i), y.at(i)))
                return c;
        }
        return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
    }
    default: {
        const QString x = py::repr(a), y = py::repr(b);
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    }
}

} // namespace

void TableData::addRow(const QList<QPair<Column, QCborValue>> &cells)
{
    QList<QCborValue> row(m_columns.size());
    for (const auto &c : cells) {
        qsizetype idx = m_columns.indexOf(c.first);
        if (idx < 0) {
            idx = m_columns.size();
            m_columns.append(c.first);
        }
        if (idx >= row.size())
            row.resize(idx + 1);
        row[idx] = c.second;
    }
    m_rows.append(row);
}

QCborValue TableData::cell(int row, int column) const
{
    const auto &r = m_rows.at(row);
    return column < r.size() ? r.at(column) : QCborValue();
}

QStringList TableData::headerNames(bool explicitNames) const
{
    // As the original: a short name is used unless it collides with another
    // column's short or explicit name.
    QList<bool> expand(m_columns.size(), explicitNames);
    if (!explicitNames) {
        QHash<QString, int> used;
        for (int idx = 0; idx < m_columns.size(); ++idx) {
            const Column &c = m_columns.at(idx);
            const int withoutExp =
                used.contains(c.name) ? used.value(c.name) : (used.insert(c.name, idx), idx);
            const QString full = c.category + QLatin1Char('.') + c.name;
            const int withExp = used.contains(full) ? used.value(full) : (used.insert(full, idx), idx);
            if (withoutExp != idx || withExp != idx) {
                expand[idx] = true;
                expand[withoutExp] = true;
            }
        }
    }
    QStringList names;
    for (int idx = 0; idx < m_columns.size(); ++idx) {
        const Column &c = m_columns.at(idx);
        names << (expand.at(idx) ? c.category + QLatin1Char('.') + c.name : c.name);
    }
    return names;
}

QString TableData::fieldIndices(const QStringList &fields, QList<int> *indices) const
{
    const QStringList full = headerNames(true), shortNames = headerNames(false);
    for (const QString &field : fields) {
        qsizetype idx = full.indexOf(field);
        if (idx < 0)
            idx = shortNames.indexOf(field);
        if (idx < 0)
            return QStringLiteral("Field \"%1\" not found or ambiguous.").arg(field);
        indices->append(int(idx));
    }
    return {};
}

QString TableData::sort(const QStringList &fields, bool reverse)
{
    QList<int> indices;
    if (QString e = fieldIndices(fields, &indices); !e.isEmpty())
        return e;
    // Python: key = (reverse, value) per field, or (not reverse, None) when
    // missing, sorted(reverse=reverse): missing values always come last.
    auto compareRows = [&](const QList<QCborValue> &a, const QList<QCborValue> &b) {
        for (int idx : std::as_const(indices)) {
            const QCborValue x = idx < a.size() ? a.at(idx) : QCborValue();
            const QCborValue y = idx < b.size() ? b.at(idx) : QCborValue();
            const bool fx = isNone(x) ? !reverse : reverse;
            const bool fy = isNone(y) ? !reverse : reverse;
            if (fx != fy)
                return fx ? 1 : -1;
            if (isNone(x))
                continue;
            if (const int c = compareValues(x, y))
                return c;
        }
        return 0;
    };
    std::stable_sort(m_rows.begin(), m_rows.end(), [&](const auto &a, const auto &b) {
        const int c = compareRows(a, b);
        return reverse ? c > 0 : c < 0;
    });
    return {};
}

void TableData::filterColumns(const QList<int> &indices)
{
    for (auto &row : m_rows) {
        QList<QCborValue> r;
        for (int idx : indices)
            r.append(idx < row.size() ? row.at(idx) : QCborValue());
        row = r;
    }
    QList<Column> columns;
    for (int idx : indices)
        columns.append(m_columns.at(idx));
    m_columns = columns;
}

QString TableData::filterFields(const QStringList &fields)
{
    QList<int> indices;
    if (QString e = fieldIndices(fields, &indices); !e.isEmpty())
        return e;
    filterColumns(indices);
    return {};
}

void TableData::filterCategories(const QStringList &categories)
{
    QList<int> indices;
    for (int idx = 0; idx < m_columns.size(); ++idx) {
        if (categories.contains(m_columns.at(idx).category))
            indices.append(idx);
    }
    filterColumns(indices);
}

void TableData::sliceRows(int from, int count)
{
    m_rows = m_rows.mid(from, count);
}

QString TableData::paragraphs() const
{
    const QStringList fields = headerNames();
    QString out;
    for (int i = 0; i < m_rows.size(); ++i) {
        for (int c = 0; c < fields.size(); ++c) {
            const QCborValue v = cell(i, c);
            if (!isNone(v))
                out += fields.at(c) + QStringLiteral(": ") + py::str(v) + QLatin1Char('\n');
        }
        if (i != m_rows.size() - 1)
            out += QLatin1Char('\n');
    }
    return out;
}

QString TableData::table(TableFormat format, bool withHeaders) const
{
    return tabulate(m_rows, withHeaders ? headerNames() : QStringList(), format) + QLatin1Char('\n');
}

QString tabulate(const QList<QList<QCborValue>> &rows, const QStringList &headers, TableFormat format)
{
    qsizetype ncols = headers.size();
    for (const auto &r : rows)
        ncols = std::max(ncols, r.size());
    if (rows.isEmpty() && headers.isEmpty())
        return QString();

    QList<QStringList> cols(ncols);
    QList<bool> numeric(ncols);
    for (qsizetype c = 0; c < ncols; ++c) {
        int type = BoolType;
        for (const auto &r : rows)
            type = std::max(type, int(cellType(c < r.size() ? r.at(c) : QCborValue())));
        numeric[c] = type == IntType || type == FloatType;
        QStringList strings;
        for (const auto &r : rows)
            strings << formatCell(c < r.size() ? r.at(c) : QCborValue(), CellType(type));
        // Alignment: numbers on their decimal point, text to the left (stripped).
        if (numeric[c]) {
            int maxDecimals = -1;
            QList<int> decimals;
            for (const QString &s : std::as_const(strings)) {
                decimals << afterPoint(s);
                maxDecimals = std::max(maxDecimals, decimals.back());
            }
            for (qsizetype i = 0; i < strings.size(); ++i)
                strings[i] += QString(maxDecimals - decimals.at(i), QLatin1Char(' '));
        } else {
            for (QString &s : strings)
                s = py::strip(s);
        }
        qsizetype width = c < headers.size() ? py::length(headers.at(c)) + 2 : 0;
        for (const QString &s : std::as_const(strings))
            width = std::max(width, py::length(s));
        for (QString &s : strings)
            s = numeric[c] ? padLeft(s, width) : padRight(s, width);
        cols[c] = strings;
    }
    QList<qsizetype> widths(ncols, 0);
    for (qsizetype c = 0; c < ncols; ++c) {
        widths[c] = c < headers.size() ? py::length(headers.at(c)) + 2 : 0;
        for (const QString &s : std::as_const(cols[c]))
            widths[c] = std::max(widths[c], py::length(s));
    }
    QStringList headerCells;
    for (qsizetype c = 0; c < headers.size(); ++c)
        headerCells << (numeric.value(c) ? padLeft(headers.at(c), widths[c])
                                         : padRight(headers.at(c), widths[c]));

    QStringList lines;
    const bool psql = format == TableFormat::Psql;
    const int pad = psql ? 1 : 0;
    const QString padding(pad, QLatin1Char(' '));
    auto rowLine = [&](const QStringList &cells) {
        QStringList padded;
        for (const QString &s : cells)
            padded << padding + s + padding;
        return psql ? rstrip(QLatin1Char('|') + padded.join(QLatin1Char('|')) + QLatin1Char('|'))
                    : rstrip(padded.join(QStringLiteral("  ")));
    };
    auto ruleLine = [&](QChar begin, QChar sep, QChar end) {
        QStringList cells;
        for (qsizetype w : std::as_const(widths))
            cells << QString(w + 2 * pad, QLatin1Char('-'));
        return rstrip(begin + cells.join(sep) + end);
    };
    if (psql)
        lines << ruleLine(QLatin1Char('+'), QLatin1Char('+'), QLatin1Char('+'));
    if (!headerCells.isEmpty()) {
        lines << rowLine(headerCells);
        if (psql)
            lines << ruleLine(QLatin1Char('|'), QLatin1Char('+'), QLatin1Char('|'));
    }
    for (qsizetype r = 0; r < rows.size(); ++r) {
        QStringList cells;
        for (qsizetype c = 0; c < ncols; ++c)
            cells << cols[c].at(r);
        lines << rowLine(cells);
    }
    if (psql)
        lines << ruleLine(QLatin1Char('+'), QLatin1Char('+'), QLatin1Char('+'));
    return lines.join(QLatin1Char('\n'));
}

TableData experimentTable(const QList<Experiment> &experiments)
{
    TableData data;
    const QString s = TableData::DefaultCategory;
    for (const Experiment &e : experiments) {
        QList<QPair<Column, QCborValue>> row{{{s, QStringLiteral("name")}, e.name},
                                             {{s, QStringLiteral("status")}, toString(e.status)},
                                             {{s, QStringLiteral("scheduler")}, toString(e.scheduler.kind)}};
        if (e.scheduler.kind == Scheduler::Kind::RandomSearch) {
            for (const NamedDistribution &d : e.scheduler.distributions) {
                const QCborValue encoded = codec::encode(d.distribution);
                const QCborMap m = encoded.toMap();
                const QCborValue args = m.isEmpty() ? QCborValue() : m.begin().value();
                row.append({{QStringLiteral("hyperparameter"), d.name},
                            QString(toString(d.distribution.kind) + QStringLiteral(" (") +
                                    py::jsonDumps(args) + QLatin1Char(')'))});
            }
        }
        // Section 8, when set: in words, as the dashboard's header says them.
        if (e.sampler)
            row.append({{s, QStringLiteral("sampler")}, describe(*e.sampler, e.scheduler)});
        if (e.pruner)
            row.append({{s, QStringLiteral("pruner")}, describe(*e.pruner)});
        if (e.lease)
            row.append({{s, QStringLiteral("lease")}, describe(*e.lease)});
        data.addRow(row);
    }
    return data;
}

TableData jobTable(const QList<Job> &jobs)
{
    TableData data;
    const QString s = TableData::DefaultCategory;
    for (const Job &j : jobs) {
        QList<QPair<Column, QCborValue>> row{{{s, QStringLiteral("id")}, j.id},
                                             {{s, QStringLiteral("status")}, toString(j.status)}};
        for (auto it = j.hyperparameters.begin(); it != j.hyperparameters.end(); ++it)
            row.append({{QStringLiteral("hyperparameter"), it.key().toString()}, it.value()});
        for (auto it = j.results.begin(); it != j.results.end(); ++it)
            row.append({{QStringLiteral("result"), it.key().toString()}, it.value()});
        // What the server's sampler, pruner and lease did to it (section 8 extensions).
        if (j.gridIndex)
            row.append({{s, QStringLiteral("grid point")}, *j.gridIndex});
        if (j.pruned)
            row.append({{s, QStringLiteral("pruned")}, describe(*j.pruned)});
        if (j.lostAt)
            row.append({{s, QStringLiteral("lost")}, describeLoss(j)});
        if (!j.replaces.isEmpty())
            row.append({{s, QStringLiteral("replaces")}, j.replaces});
        data.addRow(row);
    }
    return data;
}

} // namespace schedy::cli
