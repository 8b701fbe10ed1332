#pragma once

#include <QByteArray>
#include <QCborMap>
#include <QString>
#include <QStringList>

#include <functional>

// What `schedy run` reads from its command's output, and how it fills in the
// command line (docs/cli.md, "run").
namespace schedy::cli {

// Reads a command's standard output as it comes, line by line. A results
// block is
//
//     --- RESULTS ---
//     {"loss": 0.25, "accuracy": [0.5, 0.7]}
//     loss: 0.25
//     --- END RESULTS ---
//
// Each line inside is a JSON object or "NAME: VALUE" where VALUE is JSON (or
// one of Python's nan, inf, -inf, True, False, None). Blocks merge into the
// results in order: a later value replaces an earlier one of the same name.
class ResultsScanner
{
public:
    static const QString BeginMarker; // "--- RESULTS ---"
    static const QString EndMarker;   // "--- END RESULTS ---"

    // The results a job starts with (PBT copies its parent's).
    void setInitialResults(const QCborMap &results) { m_results = results; }
    void feed(const QByteArray &data);
    // The output has ended: reads a last line without newline; an open block is a problem.
    void finish();

    const QCborMap &results() const { return m_results; }
    int blockCount() const { return m_blocks; }
    // Lines that could not be read, and an unterminated block.
    const QStringList &problems() const { return m_problems; }

    // Called after each complete block, and for each problem found.
    std::function<void()> onBlock;
    std::function<void(const QString &)> onProblem;

    // One line of a block into `out`; false with a reason when it is not valid.
    static bool parseLine(const QString &line, QCborMap *out, QString *error);

private:
    void line(const QByteArray &raw);
    void problem(const QString &message);

    QByteArray m_pending;
    QCborMap m_results;
    QCborMap m_block;
    bool m_inBlock = false;
    int m_blocks = 0;
    int m_lineNumber = 0;
    QStringList m_problems;
};

struct JobContext
{
    QString experiment;
    QString jobId;
    QCborMap hyperparameters;
    QCborMap results;
};

// Checks the formatters of a command line before any job is taken: %e, %j,
// %h, %r and %% only. Returns an error message, empty when valid.
QString checkFormatters(const QStringList &command);
// %e experiment, %j job id, %h hyperparameters (JSON object), %r results the
// job starts with (JSON object), %% a literal %.
QString expandFormatters(const QString &argument, const JobContext &job);

} // namespace schedy::cli
