// schedy: the command line (docs/cli.md).
#include "Commands.h"
#include "Common.h"

#include <QCoreApplication>

using namespace schedy::cli;

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("schedy"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SCHEDY_VERSION));
    QStringList args = app.arguments().mid(1);

    GlobalOptions global;
    // Options before the command (they are also accepted after it).
    while (!args.isEmpty() && args.first().startsWith(QLatin1Char('-'))) {
        const QString arg = args.takeFirst();
        if (arg == QLatin1String("-h") || arg == QLatin1String("--help")) {
            writeOut(mainUsage());
            return ExitOk;
        }
        if (arg == QLatin1String("--version")) {
            writeOut(QStringLiteral("schedy %1\n").arg(QStringLiteral(SCHEDY_VERSION)));
            return ExitOk;
        }
        QString name = arg, value;
        if (arg.startsWith(QLatin1String("--")) && arg.contains(QLatin1Char('='))) {
            name = arg.section(QLatin1Char('='), 0, 0);
            value = arg.section(QLatin1Char('='), 1);
        } else if (name == QLatin1String("--config") || name == QLatin1String("--retries")) {
            if (args.isEmpty()) {
                writeErr(
                    QStringLiteral("schedy: error: %1 expects a value (see 'schedy --help')\n").arg(name));
                return ExitUsage;
            }
            value = args.takeFirst();
        }
        if (name == QLatin1String("--config")) {
            global.configPath = value;
        } else if (name == QLatin1String("--retries")) {
            bool ok = false;
            global.retries = value.toInt(&ok);
            if (!ok || global.retries < 0) {
                writeErr(
                    QStringLiteral("schedy: error: --retries needs a number >= 0 (see 'schedy --help')\n"));
                return ExitUsage;
            }
        } else {
            writeErr(
                QStringLiteral("schedy: error: unrecognized argument: %1 (see 'schedy --help')\n").arg(arg));
            return ExitUsage;
        }
    }
    if (args.isEmpty()) {
        writeErr(QStringLiteral("schedy: error: a command is required (see 'schedy --help')\n"));
        return ExitUsage;
    }
    const QString command = args.takeFirst();
    return runCommand(command, args, global);
}
