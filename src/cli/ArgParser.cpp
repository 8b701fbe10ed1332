#include "ArgParser.h"

#include "PyFormat.h"

namespace schedy::cli {

ArgParser::ArgParser(QList<OptionSpec> options)
    : m_options(std::move(options))
{}

bool ArgParser::looksLikeOption(const QString &arg)
{
    return arg.size() > 1 && arg.startsWith(QLatin1Char('-')) && !py::parsesAsFloat(arg);
}

const OptionSpec *ArgParser::find(const QString &name) const
{
    for (const OptionSpec &o : m_options) {
        if ((!o.shortName.isEmpty() && o.shortName == name) || (!o.longName.isEmpty() && o.longName == name))
            return &o;
    }
    return nullptr;
}

QString ArgParser::value(const QString &key, const QString &fallback) const
{
    const QStringList v = m_values.value(key);
    return v.isEmpty() ? fallback : v.back();
}

bool ArgParser::parse(const QStringList &args, QString *error)
{
    auto fail = [&](const QString &message) {
        if (error)
            *error = message;
        return false;
    };
    bool optionsEnded = false;
    for (qsizetype i = 0; i < args.size(); ++i) {
        const QString arg = args.at(i);
        if (!optionsEnded && arg == QLatin1String("--")) {
            optionsEnded = true;
            continue;
        }
        if (optionsEnded || !looksLikeOption(arg)) {
            if (m_rawTailAfter >= 0 && m_positionals.size() >= m_rawTailAfter) {
                m_rest = args.mid(i);
                return true;
            }
            m_positionals << arg;
            continue;
        }
        QString name = arg;
        QString attached;
        bool hasAttached = false;
        if (arg.startsWith(QLatin1String("--"))) {
            const qsizetype eq = arg.indexOf(QLatin1Char('='));
            if (eq > 0) {
                name = arg.left(eq);
                attached = arg.mid(eq + 1);
                hasAttached = true;
            }
        } else if (arg.size() > 2) {
            name = arg.left(2);
            attached = arg.mid(2);
            hasAttached = true;
        }
        const OptionSpec *spec = find(name);
        if (!spec)
            return fail(QStringLiteral("unrecognized argument: %1").arg(arg));
        if (spec->kind == OptionSpec::Kind::Flag) {
            if (hasAttached && name.startsWith(QLatin1String("--")))
                return fail(QStringLiteral("%1 takes no value").arg(name));
            m_flags.insert(spec->key(), true);
            // Grouped short flags: -td is -t -d.
            while (hasAttached && !attached.isEmpty()) {
                const OptionSpec *next = find(QLatin1Char('-') + attached.left(1));
                if (!next)
                    return fail(QStringLiteral("unrecognized argument: %1").arg(arg));
                if (next->kind == OptionSpec::Kind::Flag) {
                    m_flags.insert(next->key(), true);
                    attached = attached.mid(1);
                    continue;
                }
                // The last of a group may take a value: -tsFIELD.
                spec = next;
                attached = attached.mid(1);
                hasAttached = !attached.isEmpty();
                break;
            }
            if (spec->kind == OptionSpec::Kind::Flag)
                continue;
        }
        QStringList &values = m_values[spec->key()];
        if (spec->kind == OptionSpec::Kind::Values) {
            const qsizetype before = values.size();
            if (hasAttached)
                values << attached;
            while (i + 1 < args.size() && !looksLikeOption(args.at(i + 1)) &&
                   args.at(i + 1) != QLatin1String("--"))
                values << args.at(++i);
            if (values.size() == before)
                return fail(QStringLiteral("%1 expects at least one argument").arg(name));
            continue;
        }
        QString v;
        if (hasAttached) {
            v = attached;
        } else if (i + 1 < args.size() && (!looksLikeOption(args.at(i + 1)))) {
            v = args.at(++i);
        } else {
            return fail(QStringLiteral("%1 expects a value").arg(name));
        }
        if (spec->kind == OptionSpec::Kind::Value)
            values = QStringList{v};
        else
            values << v;
    }
    return true;
}

} // namespace schedy::cli
