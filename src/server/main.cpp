// schedy-server: the Schedy service (docs/protocol.md section 6).
#include "DatabaseCopy.h"
#include "Server.h"

#include <QCoreApplication>
#include <QFile>
#include <QSocketNotifier>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace schedy;
using namespace schedy::server;

namespace {

int signalPipe[2] = {-1, -1};

void onSignal(int)
{
    const char c = 1;
    [[maybe_unused]] const auto n = ::write(signalPipe[1], &c, 1);
}

const char Usage[] = R"(Usage:
  schedy-server [--database URL] serve [--listen HOST:PORT] [--public-url URL]
                [--max-body-bytes N] [--max-connections N]
                [--max-connections-per-peer N] [--lease-seconds S] [--lost-check-ms MS] [--quiet]
  schedy-server [--database URL] user add EMAIL [--password-file FILE] [--root URL]
  schedy-server [--database URL] user reset-token EMAIL [--root URL]
  schedy-server migrate --from URL --to URL [--force]

URL is sqlite:PATH (default: %1) or postgresql://USER:PASSWORD@HOST:PORT/DB.
serve listens on 127.0.0.1:8080 by default and logs one line per request to
stderr. 'user add' prints the new user's client config (~/.schedy/client.json)
on stdout. 'migrate' copies users, experiments and jobs (ids, ETags and
timestamps unchanged) into another database, e.g. from SQLite to PostgreSQL,
and verifies counts and checksums; it refuses a target holding data unless
--force. Stop the servers on the source first.
)";

int usage(const QString &problem)
{
    if (!problem.isEmpty())
        std::fprintf(stderr, "schedy-server: %s\n\n", qPrintable(problem));
    std::fprintf(problem.isEmpty() ? stdout : stderr, "%s",
                 qPrintable(QString::fromUtf8(Usage).arg(SqlStore::defaultSqliteUrl())));
    return problem.isEmpty() ? 0 : 2;
}

int fail(const QString &message)
{
    std::fprintf(stderr, "schedy-server: %s\n", qPrintable(message));
    return 1;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("schedy"));
    QCoreApplication::setOrganizationName(QStringLiteral("schedy"));
    QStringList args = app.arguments().mid(1);

    QString database;
    auto takeValue = [&](int i, QString *out) {
        if (i + 1 >= args.size())
            return false;
        *out = args[i + 1];
        args.remove(i, 2);
        return true;
    };
    // Global options come before the command.
    while (!args.isEmpty() && args[0].startsWith(QLatin1String("--"))) {
        if (args[0] == QLatin1String("--help") || args[0] == QLatin1String("-h"))
            return usage({});
        if (args[0] == QLatin1String("--version")) {
            std::printf("schedy-server %s\n", SCHEDY_VERSION);
            return 0;
        }
        if (args[0] == QLatin1String("--database")) {
            if (!takeValue(0, &database))
                return usage(QStringLiteral("--database needs a URL"));
        } else if (args[0].startsWith(QLatin1String("--database="))) {
            database = args[0].mid(11);
            args.removeFirst();
        } else {
            return usage(QStringLiteral("unknown option %1").arg(args[0]));
        }
    }
    if (args.isEmpty())
        return usage(QStringLiteral("missing command"));
    const QString command = args.takeFirst();

    if (command == QLatin1String("user")) {
        if (args.size() < 2)
            return usage(QStringLiteral("'user' needs 'add EMAIL' or 'reset-token EMAIL'"));
        const QString action = args.takeFirst();
        const QString email = args.takeFirst();
        QString passwordFile, root = QStringLiteral("http://127.0.0.1:8080/");
        for (int i = 0; i < args.size();) {
            if (args[i] == QLatin1String("--password-file") && action == QLatin1String("add")) {
                if (!takeValue(i, &passwordFile))
                    return usage(QStringLiteral("--password-file needs a file"));
            } else if (args[i] == QLatin1String("--root")) {
                if (!takeValue(i, &root))
                    return usage(QStringLiteral("--root needs a URL"));
            } else {
                return usage(QStringLiteral("unknown argument %1").arg(args[i]));
            }
        }
        QString password;
        if (!passwordFile.isEmpty()) {
            QFile f(passwordFile);
            if (!f.open(QIODevice::ReadOnly))
                return fail(QStringLiteral("cannot read %1: %2").arg(passwordFile, f.errorString()));
            password = QString::fromUtf8(f.readAll());
            while (password.endsWith(QLatin1Char('\n')) || password.endsWith(QLatin1Char('\r')))
                password.chop(1);
            if (password.isEmpty())
                return fail(QStringLiteral("%1 holds an empty password").arg(passwordFile));
        }
        SqlStore store(database.isEmpty() ? SqlStore::defaultSqliteUrl() : database);
        QString error;
        if (!store.open(&error))
            return fail(error);
        std::optional<ClientConfig> config;
        if (action == QLatin1String("add"))
            config = addUser(store, email, password, root, &error);
        else if (action == QLatin1String("reset-token"))
            config = resetUserToken(store, email, root, &error);
        else
            return usage(QStringLiteral("unknown user action %1").arg(action));
        if (!config)
            return fail(error);
        std::fwrite(config->toJson().constData(), 1, size_t(config->toJson().size()), stdout);
        return 0;
    }

    if (command == QLatin1String("migrate")) {
        CopyOptions copy;
        for (int i = 0; i < args.size();) {
            if (args[i] == QLatin1String("--from")) {
                if (!takeValue(i, &copy.from))
                    return usage(QStringLiteral("--from needs a database URL"));
            } else if (args[i] == QLatin1String("--to")) {
                if (!takeValue(i, &copy.to))
                    return usage(QStringLiteral("--to needs a database URL"));
            } else if (args[i] == QLatin1String("--force")) {
                copy.force = true;
                args.removeAt(i);
            } else {
                return usage(QStringLiteral("unknown argument %1").arg(args[i]));
            }
        }
        if (copy.from.isEmpty() || copy.to.isEmpty())
            return usage(QStringLiteral("migrate needs --from URL and --to URL"));
        copy.progress = [](const QString &line) {
            std::fprintf(stderr, "schedy-server: %s\n", qPrintable(line));
        };
        QList<CopiedTable> report;
        QString error;
        if (!copyDatabase(copy, &report, &error))
            return fail(QStringLiteral("migrate: ") + error);
        std::printf("copied %s -> %s, verified:\n", qPrintable(copy.from.section(QLatin1Char('@'), -1)),
                    qPrintable(copy.to.section(QLatin1Char('@'), -1)));
        for (const CopiedTable &t : report)
            std::printf("  %-20s %10lld rows  sha256 %s\n", qPrintable(t.table), t.rows,
                        t.checksum.constData());
        return 0;
    }

    if (command != QLatin1String("serve"))
        return usage(QStringLiteral("unknown command %1").arg(command));

    ServerOptions options;
    options.databaseUrl = database;
    bool quiet = false;
    for (int i = 0; i < args.size();) {
        QString value;
        if (args[i] == QLatin1String("--listen")) {
            if (!takeValue(i, &value))
                return usage(QStringLiteral("--listen needs HOST:PORT"));
            const qsizetype colon = value.lastIndexOf(QLatin1Char(':'));
            bool ok = false;
            const uint port = colon < 0 ? 0 : value.mid(colon + 1).toUInt(&ok);
            QString host = colon < 0 ? QString() : value.left(colon);
            if (host.startsWith(QLatin1Char('[')) && host.endsWith(QLatin1Char(']')))
                host = host.mid(1, host.size() - 2);
            if (host == QLatin1String("localhost"))
                host = QStringLiteral("127.0.0.1");
            QHostAddress address(host);
            if (!ok || port > 65535 || address.isNull())
                return usage(QStringLiteral("--listen: expected HOST:PORT, e.g. 127.0.0.1:8080"));
            options.address = address;
            options.port = quint16(port);
        } else if (args[i] == QLatin1String("--public-url")) {
            if (!takeValue(i, &options.publicUrl))
                return usage(QStringLiteral("--public-url needs a URL"));
        } else if (args[i] == QLatin1String("--max-body-bytes")) {
            bool ok = false;
            if (!takeValue(i, &value) || (options.limits.maxBodyBytes = value.toLongLong(&ok), !ok) ||
                options.limits.maxBodyBytes < 1)
                return usage(QStringLiteral("--max-body-bytes needs a positive number"));
        } else if (args[i] == QLatin1String("--max-connections") ||
                   args[i] == QLatin1String("--max-connections-per-peer")) {
            const bool perPeer = args[i].endsWith(QLatin1String("per-peer"));
            const QString option = args[i];
            bool ok = false;
            const int n = takeValue(i, &value) ? value.toInt(&ok) : 0;
            if (!ok || n < 1)
                return usage(QStringLiteral("%1 needs a positive number").arg(option));
            (perPeer ? options.limits.maxConnectionsPerPeer : options.limits.maxConnections) = n;
        } else if (args[i] == QLatin1String("--lease-seconds")) {
            bool ok = false;
            if (!takeValue(i, &value) || (options.leaseSeconds = value.toDouble(&ok), !ok) ||
                options.leaseSeconds < 0)
                return usage(QStringLiteral("--lease-seconds needs a number of seconds"));
        } else if (args[i] == QLatin1String("--lost-check-ms")) {
            bool ok = false;
            if (!takeValue(i, &value) || (options.lostCheckMs = value.toInt(&ok), !ok) ||
                options.lostCheckMs < 0)
                return usage(QStringLiteral("--lost-check-ms needs a number of milliseconds"));
        } else if (args[i] == QLatin1String("--quiet")) {
            quiet = true;
            args.removeAt(i);
        } else {
            return usage(QStringLiteral("unknown argument %1").arg(args[i]));
        }
    }

    // SIGINT/SIGTERM end the event loop; the request being handled completes
    // and the database is closed cleanly.
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalPipe) != 0)
        return fail(QStringLiteral("cannot create the signal pipe"));
    QSocketNotifier notifier(signalPipe[0], QSocketNotifier::Read);
    QObject::connect(&notifier, &QSocketNotifier::activated, &app, [&] {
        char c;
        [[maybe_unused]] const auto n = ::read(signalPipe[0], &c, 1);
        std::fprintf(stderr, "schedy-server: stopping\n");
        QCoreApplication::quit();
    });
    struct sigaction sa = {};
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    // Every connection is a descriptor: take the hard limit (systemd's
    // LimitNOFILE), and keep the connection cap below it with room for the
    // database and the listener, so that the cap, not accept(), refuses.
    struct rlimit files = {};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0) {
        if (files.rlim_cur < files.rlim_max) {
            files.rlim_cur = files.rlim_max;
            ::setrlimit(RLIMIT_NOFILE, &files);
            ::getrlimit(RLIMIT_NOFILE, &files);
        }
        const rlim_t room = files.rlim_cur > 128 ? files.rlim_cur - 64 : files.rlim_cur / 2;
        if (rlim_t(options.limits.maxConnections) > room) {
            std::fprintf(stderr, "schedy-server: %d connections at most (open files limit %llu)\n", int(room),
                         static_cast<unsigned long long>(files.rlim_cur));
            options.limits.maxConnections = int(room);
        }
    }

    Server server;
    QString error;
    if (!server.start(options, &error))
        return fail(error);

    // Request lines are buffered and flushed a few times a second: a write per
    // request would cost more than handling it.
    static char logBuffer[1 << 16];
    std::setvbuf(stderr, logBuffer, _IOFBF, sizeof logBuffer);
    QTimer flush;
    QObject::connect(&flush, &QTimer::timeout, [] { std::fflush(stderr); });
    flush.start(200);
    if (!quiet)
        server.setLogger([](const QByteArray &line) {
            std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
            std::fputc('\n', stderr);
        });
    std::fprintf(stderr, "schedy-server %s listening on %s (database %s)\n", SCHEDY_VERSION,
                 qPrintable(server.rootUrl()),
                 qPrintable(database.isEmpty() ? SqlStore::defaultSqliteUrl()
                                               : database.section(QLatin1Char('@'), -1)));
    std::fflush(stderr);
    const int rc = app.exec();
    std::fflush(stderr);
    return rc;
}
