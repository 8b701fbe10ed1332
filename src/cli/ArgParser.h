#pragma once

#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

// A small argparse-like parser for one command: options before, between or
// after positional arguments, "--opt=value", "-sVALUE", grouped flags ("-td"),
// "--" to end options, values that consume arguments until the next option
// (argparse's nargs='+'), and a raw tail (the command line of `schedy run`).
namespace schedy::cli {

struct OptionSpec
{
    enum class Kind {
        Flag,   // -t
        Value,  // --format csv (the last one wins)
        Append, // -s FIELD, repeatable
        Values  // -p NAME JSON ... : everything up to the next option; repeatable
    };
    QString shortName; // "-t" or empty
    QString longName;  // "--table" or empty
    Kind kind = Kind::Flag;
    QString key() const { return longName.isEmpty() ? shortName : longName; }
};

class ArgParser
{
public:
    explicit ArgParser(QList<OptionSpec> options);

    // After this many positional arguments, the first further non-option
    // argument and everything after it are kept raw in rest(). -1: no tail.
    void setRawTailAfter(int positionals) { m_rawTailAfter = positionals; }

    bool parse(const QStringList &args, QString *error);

    bool isSet(const QString &key) const { return m_flags.contains(key) || m_values.contains(key); }
    QString value(const QString &key, const QString &fallback = {}) const;
    QStringList values(const QString &key) const { return m_values.value(key); }
    // For Values options: every argument given to it, all occurrences together.
    const QStringList &positionals() const { return m_positionals; }
    const QStringList &rest() const { return m_rest; }

    // Whether an argument is an option name rather than a value: it starts with
    // '-' and is not a number ("-1", "-0.5" and "-1e-5" are values).
    static bool looksLikeOption(const QString &arg);

private:
    const OptionSpec *find(const QString &name) const;

    QList<OptionSpec> m_options;
    int m_rawTailAfter = -1;
    QHash<QString, bool> m_flags;
    QHash<QString, QStringList> m_values;
    QStringList m_positionals;
    QStringList m_rest;
};

} // namespace schedy::cli
