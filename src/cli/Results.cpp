#include "Results.h"

#include "Json.h"

#include <cmath>

namespace schedy::cli {

const QString ResultsScanner::BeginMarker = QStringLiteral("--- RESULTS ---");
const QString ResultsScanner::EndMarker = QStringLiteral("--- END RESULTS ---");

void ResultsScanner::feed(const QByteArray &data)
{
    m_pending += data;
    qsizetype start = 0;
    for (;;) {
        const qsizetype nl = m_pending.indexOf('\n', start);
        if (nl < 0)
            break;
        line(m_pending.mid(start, nl - start));
        start = nl + 1;
    }
    m_pending.remove(0, start);
}

void ResultsScanner::finish()
{
    if (!m_pending.isEmpty()) {
        line(m_pending);
        m_pending.clear();
    }
    if (m_inBlock) {
        problem(QStringLiteral(
                    "the output ended inside a results block (no \"%1\" line); its values were dropped")
                    .arg(EndMarker));
        m_inBlock = false;
        m_block = QCborMap();
    }
}

void ResultsScanner::problem(const QString &message)
{
    m_problems << message;
    if (onProblem)
        onProblem(message);
}

void ResultsScanner::line(const QByteArray &raw)
{
    ++m_lineNumber;
    QByteArray bytes = raw;
    if (bytes.endsWith('\r'))
        bytes.chop(1);
    const QString text = QString::fromUtf8(bytes).trimmed();
    if (text == BeginMarker) {
        if (m_inBlock)
            problem(QStringLiteral("output line %1: a results block started before the previous one ended; "
                                   "the previous one was dropped")
                        .arg(m_lineNumber));
        m_inBlock = true;
        m_block = QCborMap();
        return;
    }
    if (!m_inBlock)
        return;
    if (text == EndMarker) {
        for (auto it = m_block.begin(); it != m_block.end(); ++it)
            m_results.insert(it.key(), it.value());
        m_block = QCborMap();
        m_inBlock = false;
        ++m_blocks;
        if (onBlock)
            onBlock();
        return;
    }
    if (text.isEmpty())
        return;
    QString error;
    if (!parseLine(text, &m_block, &error))
        problem(QStringLiteral("output line %1: %2").arg(m_lineNumber).arg(error));
}

bool ResultsScanner::parseLine(const QString &line, QCborMap *out, QString *error)
{
    const QString text = line.trimmed();
    if (text.startsWith(QLatin1Char('{'))) {
        json::ParseError pe;
        const QCborValue v = json::parse(text.toUtf8(), &pe);
        if (pe.isError() || !v.isMap()) {
            *error = QStringLiteral("not a JSON object (%1): %2")
                         .arg(pe.isError() ? pe.message : QStringLiteral("not an object"), text.left(80));
            return false;
        }
        const QCborMap m = v.toMap();
        for (auto it = m.begin(); it != m.end(); ++it)
            out->insert(it.key(), it.value());
        return true;
    }
    const qsizetype colon = text.indexOf(QLatin1Char(':'));
    if (colon <= 0) {
        *error = QStringLiteral("expected a JSON object or NAME: VALUE, got: %1").arg(text.left(80));
        return false;
    }
    const QString name = text.left(colon).trimmed();
    const QString valueText = text.mid(colon + 1).trimmed();
    QCborValue value;
    // Python's own spellings, as print() writes them.
    if (valueText == QLatin1String("nan"))
        value = QCborValue(std::nan(""));
    else if (valueText == QLatin1String("inf"))
        value = QCborValue(double(INFINITY));
    else if (valueText == QLatin1String("-inf"))
        value = QCborValue(-double(INFINITY));
    else if (valueText == QLatin1String("True"))
        value = QCborValue(true);
    else if (valueText == QLatin1String("False"))
        value = QCborValue(false);
    else if (valueText == QLatin1String("None"))
        value = QCborValue(QCborValue::Null);
    else {
        json::ParseError pe;
        value = json::parse(valueText.toUtf8(), &pe);
        if (pe.isError() || valueText.isEmpty()) {
            *error = QStringLiteral("the value of \"%1\" is not JSON (%2): %3 (text must be quoted: \"...\")")
                         .arg(name, valueText.isEmpty() ? QStringLiteral("empty") : pe.message,
                              valueText.left(80));
            return false;
        }
    }
    out->insert(name, value);
    return true;
}

QString checkFormatters(const QStringList &command)
{
    for (qsizetype a = 0; a < command.size(); ++a) {
        const QString &arg = command.at(a);
        for (qsizetype i = 0; i < arg.size(); ++i) {
            if (arg.at(i) != QLatin1Char('%'))
                continue;
            if (i + 1 >= arg.size())
                return QStringLiteral("argument %1 (%2) ends with a lone %; write %% for a literal %")
                    .arg(a + 1)
                    .arg(arg);
            const QChar f = arg.at(i + 1);
            if (f != QLatin1Char('e') && f != QLatin1Char('j') && f != QLatin1Char('h') &&
                f != QLatin1Char('r') && f != QLatin1Char('%'))
                return QStringLiteral(
                           "argument %1 (%2): unknown formatter %%3 (use %e, %j, %h, %r, or %% for a "
                           "literal %)")
                    .arg(a + 1)
                    .arg(arg, f);
            ++i;
        }
    }
    return {};
}

QString expandFormatters(const QString &argument, const JobContext &job)
{
    QString out;
    for (qsizetype i = 0; i < argument.size(); ++i) {
        const QChar c = argument.at(i);
        if (c != QLatin1Char('%') || i + 1 >= argument.size()) {
            out += c;
            continue;
        }
        const QChar f = argument.at(++i);
        if (f == QLatin1Char('e'))
            out += job.experiment;
        else if (f == QLatin1Char('j'))
            out += job.jobId;
        else if (f == QLatin1Char('h'))
            out += QString::fromUtf8(json::write(job.hyperparameters));
        else if (f == QLatin1Char('r'))
            out += QString::fromUtf8(json::write(job.results));
        else if (f == QLatin1Char('%'))
            out += QLatin1Char('%');
        else
            out += QLatin1Char('%') + f;
    }
    return out;
}

} // namespace schedy::cli
