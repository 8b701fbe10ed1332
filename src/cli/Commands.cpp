#include "Commands.h"

#include "ArgParser.h"
#include "BlockingClient.h"
#include "Codec.h"
#include "Common.h"
#include "Json.h"
#include "PolicyOptions.h"
#include "Runner.h"
#include "SaveFile.h"
#include "Signals.h"
#include "Table.h"

#include <QCborArray>
#include <QDateTime>
#include <QEventLoop>
#include <QFile>
#include <QTimer>

#include <csignal>
#include <cstdio>
#include <sys/ioctl.h>
#include <termios.h>
#include <type_traits>
#include <unistd.h>

namespace schedy::cli {

namespace {

using Kind = OptionSpec::Kind;

OptionSpec opt(const char *shortName, const char *longName, Kind kind = Kind::Flag)
{
    return OptionSpec{QLatin1String(shortName), QLatin1String(longName), kind};
}

const char MainUsage[] = R"(Usage: schedy [--config FILE] [--retries N] COMMAND [ARGS...]

Manage Schedy experiments and jobs, and run any training program as a worker.

Commands:
  add EXP [-s STATUS] manual          add an experiment with a manual queue
  add EXP [-s STATUS] random NAME DIST PARAMS [NAME DIST PARAMS ...]
                                      add a random search (--sampler tpe|grid|sobol,
                                      --pruner median|asha, --lease SECONDS: see
                                      'schedy add --help')
  add EXP [-s STATUS] pbt --objective min|max --quality RESULT [options]
                      [NAME DIST PARAMS ...]
                                      add a Population Based Training experiment
  rm EXP [JOB] [-f]                   remove an experiment and its jobs, or a job
  show EXP [JOB]                      show an experiment, or a job
  list [EXP] [-t|-p] [-s FIELD]... [-d] [-f FIELD]...
                                      list the experiments, or the jobs of one
  push EXP -p NAME JSON [NAME JSON ...] [-r NAME JSON ...] [-s STATUS]
                                      add a job by hand
  gen-token [--root URL] [--email EMAIL] [--password PASSWORD]
                                      log in and save a new API token to the config
  export EXP [--format csv|json] [-o FILE]
                                      write every job of an experiment
  watch [EXP] [-n SECONDS] [--iterations N] [-s FIELD]... [-d] [-f FIELD]...
                                      a table that updates itself
  run [--once] [--allow-empty-results] [--ignore-errors] [--wait SECONDS]
      [--max-jobs N] [--grace SECONDS] [-q] EXP CMD [ARG...]
                                      run CMD for each job of EXP (%e %j %h %r %%)
  help [COMMAND]                      help on one command

Options (before or after the command):
  --config FILE   client config (default: ~/.schedy/client.json)
  --retries N     retries of a request on connection errors, 500 and 503
                  (default 9, with growing pauses; 0 fails at once)
  -h, --help      this help, or a command's with 'schedy COMMAND --help'
  --version       the version

Exit codes:
  0    success (also: `run` found no job left)
  1    other failure (e.g. a file could not be written)
  2    usage: wrong arguments or values
  3    not found: no such experiment or job
  4    credentials: no usable config file, or the server refused the login
  5    server unreachable (no connection or no answer, after the retries)
  6    server error (5xx, or an answer that makes no sense)
  7    conflict: it already exists, or someone else changed it meanwhile
  8    refused: the server found the request invalid (other 4xx)
  9    run: a job's command failed (the job is marked CRASHED)
  130  run/watch stopped by SIGINT (143: SIGTERM)

See docs/cli.md for the details.
)";

QHash<QString, QString> commandUsages()
{
    return {
        {QStringLiteral("add"), QStringLiteral(R"(Usage: schedy add EXP [-s RUNNING|DONE] manual [OPTIONS]
       schedy add EXP [-s RUNNING|DONE] random NAME DIST PARAMS [NAME DIST PARAMS ...] [OPTIONS]
       schedy add EXP [-s RUNNING|DONE] pbt --objective min|max --quality RESULT
                  [--population N] [--max-generations N] [--truncate P]
                  [--explore NAME[=MIN,MAX]]... [NAME DIST PARAMS ...] [OPTIONS]

Adds an experiment. DIST is one of loguniform, uniform, choice, normal, const
and PARAMS its JSON arguments, e.g.
  schedy add MNIST random lr loguniform '{"low": 1e-5, "high": 0.1}' \
      layers choice '{"values": [1, 2, 3]}'
For pbt, the NAME DIST PARAMS triples draw the initial population; --explore
multiplies a hyperparameter by a factor in [MIN, MAX) (default 0.8,1.2) when a
member copies a better one; --truncate is the fraction replaced (default 0.2).
Examples of the options below:
  schedy add S random lr loguniform '{"low": 1e-5, "high": 0.1}' \
      --sampler tpe --result loss --direction minimize --lease 600
  schedy add G random lr loguniform '{"low": 1e-5, "high": 0.1}' --grid-steps lr=5

)") + policyUsage()},
        {QStringLiteral("rm"), QStringLiteral(R"(Usage: schedy rm EXP [JOB] [-f|--force]

Removes an experiment and all its jobs, or one job. Asks first unless -f.
)")},
        {QStringLiteral("show"), QStringLiteral(R"(Usage: schedy show EXP [JOB]

Shows an experiment, or one of its jobs, as paragraphs.
)")},
        {QStringLiteral("list"),
         QStringLiteral(R"(Usage: schedy list [EXP] [-t|--table] [-p|--paragraph] [-s|--sort FIELD]...
                   [-d|--decreasing] [-f|--field FIELD]...

Lists the experiments, or the jobs of EXP. By default one line each with the
main fields; -t a table of every field, -p paragraphs. FIELD is a column name
(id, status, lr, loss...) or CATEGORY.NAME (schedy.status, hyperparameter.lr,
result.loss) when a name is ambiguous. -s may be repeated (the first is the
main key); missing values come last.
)")},
        {QStringLiteral("push"),
         QStringLiteral(R"(Usage: schedy push EXP -p NAME JSON [NAME JSON ...] [-r NAME JSON ...]
                   [-s QUEUED|RUNNING|DONE|CRASHED|PRUNED]

Adds a job with these hyperparameters (and results). Values are JSON: quote
strings, e.g. -p activation '"relu"' layers 3 -r loss '[0.9, 0.5]'.
)")},
        {QStringLiteral("gen-token"),
         QStringLiteral(R"(Usage: schedy gen-token [--root URL] [--email EMAIL] [--password PASSWORD]

Logs in with a password, asks the server for a new API token and saves the
configuration (readable by you only) to --config or ~/.schedy/client.json.
Asks for the email and the password when they are not given. The previous API
token stops working. --root defaults to the root of the current config, or
http://127.0.0.1:8080/.
)")},
        {QStringLiteral("export"),
         QStringLiteral(R"(Usage: schedy export EXP [--format csv|json] [-o|--output FILE]

Writes every job of EXP: CSV (default; one row per job, columns id, status,
createdAt, modifiedAt, the PBT lineage if any, hyperparameters.NAME and
results.NAME) or JSON ({"experiment": ..., "jobs": [...]}), to FILE or stdout.
)")},
        {QStringLiteral("watch"),
         QStringLiteral(R"(Usage: schedy watch [EXP] [-n|--interval SECONDS] [--iterations N]
                    [-s|--sort FIELD]... [-d|--decreasing] [-f|--field FIELD]...

Shows the jobs of EXP (or the experiments) as a table redrawn every SECONDS
(default 2) until Ctrl+C. N frames when --iterations is given; one frame when
the terminal is not interactive.
)")},
        {QStringLiteral("run"),
         QStringLiteral(R"(Usage: schedy run [--once] [--allow-empty-results] [--ignore-errors]
                  [--wait SECONDS] [--max-jobs N] [--grace SECONDS] [-q|--quiet]
                  EXP CMD [ARG...]

Takes jobs of EXP one after the other and runs CMD for each. In CMD and its
arguments %e is the experiment, %j the job id, %h the hyperparameters as a
JSON object, %r the results the job starts with (PBT: its parent's) and %% a
%. The command's output passes through; between a line "--- RESULTS ---" and
a line "--- END RESULTS ---" each line is a JSON object or NAME: JSON. Blocks
printed while the command runs are reported at once; later values replace
earlier ones. The job ends DONE, or CRASHED when the command fails, prints no
results (unless --allow-empty-results) or is interrupted (SIGINT/SIGTERM are
passed to it). While the experiment has a lease, the job's lease is renewed
every third of it. When the server prunes the job or declares it lost, its
command gets SIGTERM, then SIGKILL after the grace period; the job is left as
the server made it and the next job is taken (exit status 10 when the run
ends right after such a job).

  --once                 one job at most
  --wait SECONDS         when there is no job, ask again every SECONDS until
                         the experiment is DONE (default: stop)
  --max-jobs N           stop after N jobs
  --ignore-errors        go on with the next job after a failed one (exit 0)
  --grace SECONDS        between SIGTERM and SIGKILL when the server stops a
                         job (default 10)
  --allow-empty-results  a job without results is DONE
  -q, --quiet            no progress messages on stderr
)")},
        {QStringLiteral("help"), QStringLiteral("Usage: schedy help [COMMAND]\n")},
    };
}

int usageError(const QString &command, const QString &message)
{
    writeErr(QStringLiteral("schedy %1: error: %2 (see 'schedy %1 --help')\n").arg(command, message));
    return ExitUsage;
}

// argparse's words for a value that is not one of `choices`.
QString invalidChoice(const QString &argument, const QString &value, const QStringList &choices)
{
    return QStringLiteral("argument %1: invalid choice: '%2' (choose from '%3')")
        .arg(argument, value, choices.join(QStringLiteral("', '")));
}

// A number as QString reads it for T (so "3.5" is not an int).
template <typename T> std::optional<T> toNumber(const QString &text)
{
    bool ok = false;
    T n{};
    if constexpr (std::is_same_v<T, int>)
        n = text.toInt(&ok);
    else if constexpr (std::is_same_v<T, qint64>)
        n = text.toLongLong(&ok);
    else
        n = text.toDouble(&ok);
    return ok ? std::optional<T>(n) : std::nullopt;
}

// The number given to a Value option, or `fallback` when it is not given;
// nullopt when it is not a number or `valid` refuses it.
template <typename T, typename Valid>
std::optional<T> numberOption(const ArgParser &parser, const QString &key, T fallback, Valid valid)
{
    if (!parser.isSet(key))
        return fallback;
    const std::optional<T> n = toNumber<T>(parser.value(key));
    return n && valid(*n) ? n : std::nullopt;
}

bool nonNegative(double n)
{
    return n >= 0;
}

// The positional arguments a command takes: `required` names what must be
// given ("experiment"; empty: nothing), at most `max` of them (-1: any number).
struct Positionals
{
    QString required;
    qsizetype max = -1;
};

// Parses a command's arguments with the global options and checks the count of
// positional arguments; prints help for -h. Returns -1 to go on, or an exit code.
int parseCommand(const QString &command, const QStringList &args, ArgParser *parser, GlobalOptions *global,
                 const Positionals &positionals = {})
{
    QString error;
    if (!parser->parse(args, &error))
        return usageError(command, error);
    if (parser->isSet(QStringLiteral("--help"))) {
        writeOut(commandUsage(command));
        return ExitOk;
    }
    if (parser->isSet(QStringLiteral("--config")))
        global->configPath = parser->value(QStringLiteral("--config"));
    const auto retries = numberOption(*parser, QStringLiteral("--retries"), global->retries, nonNegative);
    if (!retries)
        return usageError(command, QStringLiteral("--retries needs a number >= 0"));
    global->retries = *retries;
    const QStringList &given = parser->positionals();
    if (given.isEmpty() && !positionals.required.isEmpty())
        return usageError(command,
                          QStringLiteral("the following arguments are required: ") + positionals.required);
    if (positionals.max >= 0 && given.size() > positionals.max)
        return usageError(command, QStringLiteral("unrecognized arguments: %1")
                                       .arg(given.mid(positionals.max).join(QLatin1Char(' '))));
    return -1;
}

QList<OptionSpec> withGlobals(QList<OptionSpec> specs)
{
    specs << opt("-h", "--help") << opt("", "--config", Kind::Value) << opt("", "--retries", Kind::Value);
    return specs;
}

// --retries N: N retries after the first attempt.
RetryPolicy retryPolicy(const GlobalOptions &global)
{
    RetryPolicy policy;
    policy.maxAttempts = global.retries + 1;
    return policy;
}

class Session
{
public:
    explicit Session(const GlobalOptions &global)
        : m_global(global)
    {}
    // Loads the config and makes the client. Returns -1 to go on, or an exit code.
    int open()
    {
        QString error;
        auto config = ClientConfig::load(m_global.config(), &error);
        if (!config)
            return failWith(ExitCredentials, error + QStringLiteral(" (make one with 'schedy gen-token')"));
        m_client = std::make_unique<Client>(*config);
        m_client->setRetryPolicy(retryPolicy(m_global));
        m_blocking = std::make_unique<BlockingClient>(m_client.get());
        return -1;
    }
    Client &client() { return *m_client; }
    BlockingClient &api() { return *m_blocking; }
    int fail(const QString &context = {}) const
    {
        const ClientError &e = m_blocking->lastError();
        return failWith(exitCodeFor(e), context + describe(e));
    }

private:
    GlobalOptions m_global;
    std::unique_ptr<Client> m_client;
    std::unique_ptr<BlockingClient> m_blocking;
};

// A line from stdin without its newline; nullopt at end of input.
std::optional<QString> readLine()
{
    QByteArray line;
    for (;;) {
        const int c = std::fgetc(stdin);
        if (c == EOF) {
            if (line.isEmpty())
                return std::nullopt;
            break;
        }
        if (c == '\n')
            break;
        line += char(c);
    }
    if (line.endsWith('\r'))
        line.chop(1);
    return QString::fromUtf8(line);
}

std::optional<QString> prompt(const QString &text)
{
    writeOut(text);
    return readLine();
}

std::optional<QString> promptPassword(const QString &text)
{
    writeErr(text);
    termios saved{};
    const bool tty = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        termios quiet = saved;
        quiet.c_lflag &= ~tcflag_t(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    auto line = readLine();
    if (tty) {
        ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        writeErr(QStringLiteral("\n"));
    }
    return line;
}

// ---- add ----------------------------------------------------------------

QString parseDistributions(const QStringList &args, Distributions *out)
{
    if (args.size() % 3 != 0)
        return QStringLiteral("Invalid hyperparameters (not a list of name/distribution/params).");
    for (qsizetype i = 0; i < args.size(); i += 3) {
        const QString &name = args.at(i), &dist = args.at(i + 1), &params = args.at(i + 2);
        for (const auto &d : std::as_const(*out)) {
            if (d.name == name)
                return QStringLiteral("Duplicate hyperparameter: %1.").arg(name);
        }
        if (!distributionKindFromString(dist))
            return QStringLiteral("Invalid distribution: %1.").arg(dist);
        json::ParseError pe;
        const QCborValue value = json::parse(params.toUtf8(), &pe);
        if (pe.isError())
            return QStringLiteral("Invalid distribution parameters for %1 (%2).").arg(name, pe.message);
        auto decoded = codec::decodeDistribution(QCborMap{{dist, value}}, name);
        if (!decoded)
            return QStringLiteral("Invalid distribution parameters for %1 (%2).")
                .arg(name, decoded.error().message());
        out->append(NamedDistribution{name, decoded.value()});
    }
    return {};
}

int cmdAdd(const QStringList &args, GlobalOptions global)
{
    const QString cmd = QStringLiteral("add");
    ArgParser parser(withGlobals({opt("-s", "--status", Kind::Value)}));
    parser.setRawTailAfter(1);
    if (int rc = parseCommand(cmd, args, &parser, &global, {QStringLiteral("experiment"), 1}); rc >= 0)
        return rc;
    if (parser.rest().isEmpty())
        return usageError(cmd, QStringLiteral("a scheduler is required: manual, random or pbt"));
    Experiment e;
    e.name = parser.positionals().first();
    if (QString problem = checkName(e.name, QStringLiteral("experiment name")); !problem.isEmpty())
        return usageError(cmd, problem);
    const QString status = parser.value(QStringLiteral("--status"), QStringLiteral("RUNNING"));
    if (auto s = experimentStatusFromString(status))
        e.status = *s;
    else
        return usageError(cmd, invalidChoice(QStringLiteral("-s/--status"), status,
                                             {QStringLiteral("RUNNING"), QStringLiteral("DONE")}));
    const QString scheduler = parser.rest().first();
    const QStringList tail = parser.rest().mid(1);
    // Every scheduler's parser knows section 8's options: the codec says which fit.
    const auto withPolicies = [](QList<OptionSpec> specs) {
        return withGlobals(specs << policyOptions());
    };
    std::optional<ArgParser> parsed;
    if (scheduler == QLatin1String("manual")) {
        ArgParser &p = parsed.emplace(withPolicies({}));
        if (int rc = parseCommand(cmd, tail, &p, &global, {{}, 0}); rc >= 0)
            return rc;
        e.scheduler.kind = Scheduler::Kind::Manual;
    } else if (scheduler == QLatin1String("random")) {
        ArgParser &p = parsed.emplace(withPolicies({}));
        if (int rc = parseCommand(cmd, tail, &p, &global, {QStringLiteral("hyperparameters")}); rc >= 0)
            return rc;
        e.scheduler.kind = Scheduler::Kind::RandomSearch;
        if (QString problem = parseDistributions(p.positionals(), &e.scheduler.distributions);
            !problem.isEmpty())
            return usageError(cmd, problem);
    } else if (scheduler == QLatin1String("pbt")) {
        ArgParser &p = parsed.emplace(
            withPolicies({opt("", "--objective", Kind::Value), opt("", "--quality", Kind::Value),
                          opt("", "--population", Kind::Value), opt("", "--max-generations", Kind::Value),
                          opt("", "--truncate", Kind::Value), opt("", "--explore", Kind::Append)}));
        if (int rc = parseCommand(cmd, tail, &p, &global); rc >= 0)
            return rc;
        const QString objective = p.value(QStringLiteral("--objective"));
        if (objective != QLatin1String("min") && objective != QLatin1String("max"))
            return usageError(cmd, QStringLiteral("pbt needs --objective min or --objective max"));
        const QString quality = p.value(QStringLiteral("--quality"));
        if (quality.isEmpty())
            return usageError(cmd,
                              QStringLiteral("pbt needs --quality RESULT, the result that ranks the jobs"));
        // The keys in the order the original client sends them.
        QCborMap params{{QStringLiteral("objective"), objective},
                        {QStringLiteral("qualityResultName"), quality}};
        auto integer = [&](const QString &option, const QString &key) -> QString {
            if (!p.isSet(option))
                return {};
            const std::optional<qint64> n = toNumber<qint64>(p.value(option));
            if (!n)
                return QStringLiteral("%1 needs an integer").arg(option);
            params.insert(key, *n);
            return {};
        };
        if (QString problem = integer(QStringLiteral("--population"), QStringLiteral("numParallel"));
            !problem.isEmpty())
            return usageError(cmd, problem);
        Distributions init;
        if (QString problem = parseDistributions(p.positionals(), &init); !problem.isEmpty())
            return usageError(cmd, problem);
        if (!init.isEmpty())
            params.insert(QStringLiteral("init"), codec::encode(init));
        const auto truncate = numberOption(p, QStringLiteral("--truncate"), 0.2, [](double) { return true; });
        if (!truncate)
            return usageError(cmd, QStringLiteral("--truncate needs a number"));
        params.insert(QStringLiteral("exploit"), QCborMap{{QStringLiteral("truncate"), *truncate}});
        QCborMap explore;
        for (const QString &spec : p.values(QStringLiteral("--explore"))) {
            QString name = spec;
            double low = 0.8, high = 1.2;
            const qsizetype eq = spec.lastIndexOf(QLatin1Char('='));
            if (eq > 0) {
                const QStringList factors = spec.mid(eq + 1).split(QLatin1Char(','));
                bool okLow = false, okHigh = false;
                if (factors.size() == 2) {
                    low = factors.at(0).toDouble(&okLow);
                    high = factors.at(1).toDouble(&okHigh);
                }
                if (okLow && okHigh)
                    name = spec.left(eq);
                else
                    low = 0.8, high = 1.2;
            }
            explore.insert(
                name, QCborMap{{QStringLiteral("perturb"), QCborMap{{QStringLiteral("minFactor"), low},
                                                                    {QStringLiteral("maxFactor"), high}}}});
        }
        if (!explore.isEmpty())
            params.insert(QStringLiteral("explore"), explore);
        if (QString problem = integer(QStringLiteral("--max-generations"), QStringLiteral("maxGenerations"));
            !problem.isEmpty())
            return usageError(cmd, problem);
        auto pbt = codec::decodePbt(params, QStringLiteral("pbt"));
        if (!pbt)
            return usageError(cmd, QStringLiteral("Invalid PBT settings (%1).").arg(pbt.error().message()));
        e.scheduler.kind = Scheduler::Kind::Pbt;
        e.scheduler.pbt = pbt.value();
    } else {
        return usageError(
            cmd, invalidChoice(QStringLiteral("scheduler"), scheduler,
                               {QStringLiteral("manual"), QStringLiteral("random"), QStringLiteral("pbt")}));
    }
    if (QString problem = applyPolicyOptions(*parsed, &e); !problem.isEmpty())
        return usageError(cmd, problem);
    Session s(global);
    if (int rc = s.open(); rc >= 0)
        return rc;
    if (!s.api().createExperiment(e)) {
        if (s.api().lastError().kind == ClientError::Kind::ResourceExists)
            return failWith(ExitConflict, QStringLiteral("experiment \"%1\" already exists").arg(e.name));
        return s.fail(QStringLiteral("cannot add \"%1\": ").arg(e.name));
    }
    return ExitOk;
}

// ---- rm, show ------------------------------------------------------------

// Shows what is to be removed and asks; says so when the answer is not yes.
bool confirmRemoval(const TableData &shown, const QString &name, const QString &alsoRemoved = {})
{
    writeOut(shown.paragraphs());
    const auto answer =
        prompt(QStringLiteral("Are you sure you want to remove %1%2? [y/N] ").arg(name, alsoRemoved));
    if (answer && answer->toLower() == QLatin1String("y"))
        return true;
    writeOut(QStringLiteral("%1 was not removed.\n").arg(name));
    return false;
}

int cmdRm(const QStringList &args, GlobalOptions global)
{
    const QString cmd = QStringLiteral("rm");
    ArgParser parser(withGlobals({opt("-f", "--force")}));
    if (int rc = parseCommand(cmd, args, &parser, &global, {QStringLiteral("experiment"), 2}); rc >= 0)
        return rc;
    const QStringList pos = parser.positionals();
    const bool force = parser.isSet(QStringLiteral("--force"));
    Session s(global);
    if (int rc = s.open(); rc >= 0)
        return rc;
    auto e = s.api().experiment(pos.at(0));
    if (!e)
        return s.fail();
    if (pos.size() == 1) {
        if (!force && !confirmRemoval(experimentTable({*e}), e->name, QStringLiteral(" and all its jobs")))
            return ExitOk;
        if (!s.api().deleteExperiment(e->name, true))
            return s.fail(QStringLiteral("cannot remove \"%1\": ").arg(e->name));
        return ExitOk;
    }
    auto job = s.api().job(e->name, pos.at(1));
    if (!job)
        return s.fail();
    if (!force && !confirmRemoval(jobTable({*job}), job->id))
        return ExitOk;
    if (!s.api().deleteJob(e->name, job->id, true))
        return s.fail(QStringLiteral("cannot remove job %1: ").arg(job->id));
    return ExitOk;
}

int cmdShow(const QStringList &args, GlobalOptions global)
{
    const QString cmd = QStringLiteral("show");
    ArgParser parser(withGlobals({}));
    if (int rc = parseCommand(cmd, args, &parser, &global, {QStringLiteral("experiment"), 2}); rc >= 0)
        return rc;
    const QStringList pos = parser.positionals();
    Session s(global);
    if (int rc = s.open(); rc >= 0)
        return rc;
    auto e = s.api().experiment(pos.at(0));
    if (!e)
        return s.fail();
    if (pos.size() == 1) {
        writeOut(experimentTable({*e}).paragraphs());
        return ExitOk;
    }
    auto job = s.api().job(e->name, pos.at(1));
    if (!job)
        return s.fail();
    writeOut(jobTable({*job}).paragraphs());
    return ExitOk;
}

// ---- list, watch ---------------------------------------------------------

// -s/--sort, -d/--decreasing and -f/--field of list and watch.
struct TableChoice
{
    QStringList sort;
    bool decreasing = false;
    QStringList fields;
};

QList<OptionSpec> withTableChoice(QList<OptionSpec> specs)
{
    specs << opt("-s", "--sort", Kind::Append) << opt("-d", "--decreasing")
          << opt("-f", "--field", Kind::Append);
    return specs;
}

TableChoice tableChoice(const ArgParser &parser)
{
    return {parser.values(QStringLiteral("--sort")), parser.isSet(QStringLiteral("--decreasing")),
            parser.values(QStringLiteral("--field"))};
}

// Fetches the experiments, or the jobs of one, as the original's table.
// On failure returns nullopt with the exit code set, and the error printed
// unless `errorText` takes it (for the caller to show).
std::optional<TableData> fetchTable(Session &s, const QString &experiment, std::optional<Experiment> *expOut,
                                    QList<Job> *jobsOut, int *exitCode, QString *errorText = nullptr)
{
    auto fail = [&] {
        if (errorText) {
            *exitCode = exitCodeFor(s.api().lastError());
            *errorText = QStringLiteral("schedy: ") + describe(s.api().lastError());
        } else {
            *exitCode = s.fail();
        }
        return std::nullopt;
    };
    if (experiment.isNull()) {
        auto all = s.api().allExperiments();
        if (!all)
            return fail();
        return experimentTable(*all);
    }
    auto e = s.api().experiment(experiment);
    if (!e)
        return fail();
    auto jobs = s.api().allJobs(e->name);
    if (!jobs)
        return fail();
    if (expOut)
        *expOut = e;
    if (jobsOut)
        *jobsOut = *jobs;
    return jobTable(*jobs);
}

// Applies -s/-d and -f; returns a usage problem or an empty string.
QString shape(TableData &table, const TableChoice &choice)
{
    if (!choice.sort.isEmpty()) {
        if (QString e = table.sort(choice.sort, choice.decreasing); !e.isEmpty())
            return e;
    }
    if (!choice.fields.isEmpty()) {
        if (QString e = table.filterFields(choice.fields); !e.isEmpty())
            return e;
    }
    return {};
}

int cmdList(const QStringList &args, GlobalOptions global)
{
    const QString cmd = QStringLiteral("list");
    ArgParser parser(withGlobals(withTableChoice({opt("-t", "--table"), opt("-p", "--paragraph")})));
    if (int rc = parseCommand(cmd, args, &parser, &global, {{}, 1}); rc >= 0)
        return rc;
    const QStringList pos = parser.positionals();
    Session s(global);
    if (int rc = s.open(); rc >= 0)
        return rc;
    int rc = ExitOk;
    auto table = fetchTable(s, pos.isEmpty() ? QString() : pos.first(), nullptr, nullptr, &rc);
    if (!table)
        return rc;
    const TableChoice choice = tableChoice(parser);
    if (QString problem = shape(*table, choice); !problem.isEmpty())
        return usageError(cmd, problem);
    if (parser.isSet(QStringLiteral("--table"))) {
        writeOut(table->table(TableFormat::Psql, true));
    } else if (parser.isSet(QStringLiteral("--paragraph"))) {
        writeOut(table->paragraphs());
    } else {
        if (choice.fields.isEmpty())
            table->filterCategories({TableData::DefaultCategory});
        writeOut(table->table(TableFormat::Plain, false));
    }
    return ExitOk;
}

QString countsLine(const QList<Job> &jobs)
{
    JobCounts counts;
    for (const Job &j : jobs)
        ++counts[j.status];
    QStringList parts;
    for (JobStatus st : AllJobStatuses) {
        if (counts[st] > 0)
            parts << QStringLiteral("%1 %2").arg(toString(st)).arg(counts[st]);
    }
    return QStringLiteral("%1 job%2")
               .arg(jobs.size())
               .arg(jobs.size() == 1 ? QString() : QStringLiteral("s")) +
           (parts.isEmpty() ? QString() : QStringLiteral(": ") + parts.join(QStringLiteral(", ")));
}

int terminalRows()
{
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
        return ws.ws_row;
    return 24;
}

int cmdWatch(const QStringList &args, GlobalOptions global)
{
    const QString cmd = QStringLiteral("watch");
    ArgParser parser(withGlobals(
        withTableChoice({opt("-n", "--interval", Kind::Value), opt("", "--iterations", Kind::Value)})));
    if (int rc = parseCommand(cmd, args, &parser, &global, {{}, 1}); rc >= 0)
        return rc;
    const QStringList pos = parser.positionals();
    const auto intervalOption =
        numberOption(parser, QStringLiteral("--interval"), 2.0, [](double n) { return n > 0; });
    if (!intervalOption)
        return usageError(cmd, QStringLiteral("--interval needs a number of seconds > 0"));
    const double interval = *intervalOption;
    const bool interactive = ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
    const auto iterationsOption =
        numberOption(parser, QStringLiteral("--iterations"), interactive ? 0 : 1, nonNegative);
    if (!iterationsOption)
        return usageError(cmd, QStringLiteral("--iterations needs a number >= 0 (0: until Ctrl+C)"));
    const int iterations = *iterationsOption;
    const TableChoice choice = tableChoice(parser);
    const QString experiment = pos.isEmpty() ? QString() : pos.first();
    Session s(global);
    if (int rc = s.open(); rc >= 0)
        return rc;

    SignalWatcher watcher;
    int stopSignal = 0;
    QEventLoop *waiting = nullptr;
    QObject::connect(&watcher, &SignalWatcher::received, [&](int sig) {
        stopSignal = sig;
        if (waiting)
            waiting->quit();
    });
    const bool tty = ::isatty(STDOUT_FILENO);
    if (tty)
        writeOut(QStringLiteral("\x1b[?25l")); // hide the cursor
    int lastCode = ExitOk;
    for (int frame = 0; iterations == 0 || frame < iterations; ++frame) {
        if (stopSignal)
            break;
        std::optional<Experiment> exp;
        QList<Job> jobs;
        int code = ExitOk;
        QString text, errorText;
        auto table = fetchTable(s, experiment, &exp, &jobs, &code, &errorText);
        lastCode = code;
        if (stopSignal)
            break;
        if (table) {
            if (QString problem = shape(*table, choice); !problem.isEmpty()) {
                if (tty)
                    writeOut(QStringLiteral("\x1b[?25h"));
                return usageError(cmd, problem);
            }
            if (exp) {
                text += QStringLiteral("%1  %2  %3  %4\n")
                            .arg(exp->name, toString(exp->status), toString(exp->scheduler.kind),
                                 countsLine(jobs));
            } else {
                text += QStringLiteral("%1 experiment%2\n")
                            .arg(table->rowCount())
                            .arg(table->rowCount() == 1 ? QString() : QStringLiteral("s"));
            }
            int hidden = 0;
            if (tty) {
                // Fit the terminal: the newest rows, or the first ones when sorted.
                const int room = std::max(1, terminalRows() - 8);
                if (table->rowCount() > room) {
                    hidden = table->rowCount() - room;
                    table->sliceRows(choice.sort.isEmpty() ? hidden : 0, room);
                }
            }
            if (table->rowCount() > 0)
                text += table->table(TableFormat::Psql, true);
            if (hidden > 0)
                text += QStringLiteral("(%1 more row%2 not shown)\n")
                            .arg(hidden)
                            .arg(hidden == 1 ? QString() : QStringLiteral("s"));
        } else if (!tty && iterations == 1) {
            writeErr(errorText + QLatin1Char('\n'));
            return code;
        } else {
            text += errorText + QLatin1Char('\n');
        }
        if (tty) {
            const QString title = QStringLiteral("Every %1 s: schedy watch %2").arg(interval).arg(experiment);
            const QString clock =
                QDateTime::currentDateTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
            writeOut(QStringLiteral("\x1b[H\x1b[2J") + title + QStringLiteral("    ") + clock +
                     QStringLiteral("\n\n") + text);
        } else {
            writeOut((frame > 0 ? QStringLiteral("\n") : QString()) + text);
        }
        if (iterations != 0 && frame + 1 >= iterations)
            break;
        QEventLoop loop;
        waiting = &loop;
        QTimer::singleShot(int(interval * 1000), &loop, &QEventLoop::quit);
        if (!stopSignal)
            loop.exec();
        waiting = nullptr;
    }
    if (tty)
        writeOut(QStringLiteral("\x1b[?25h"));
    return lastCode;
}

// ---- push ----------------------------------------------------------------

QString parsePairs(const QStringList &args, const QString &what, const QString &plural, QCborMap *out)
{
    if (args.size() % 2 != 0)
        return QStringLiteral("Invalid %1 (not a list of name/value).").arg(plural);
    for (qsizetype i = 0; i < args.size(); i += 2) {
        const QString &name = args.at(i);
        if (out->contains(name))
            return QStringLiteral("Duplicate %1: %2.").arg(what, name);
        json::ParseError pe;
        const QCborValue v = json::parse(args.at(i + 1).toUtf8(), &pe);
        if (pe.isError())
            return QStringLiteral("Invalid value for %1 %2 (%3).").arg(what, name, pe.message);
        out->insert(name, v);
    }
    return {};
}

int cmdPush(const QStringList &args, GlobalOptions global)
{
    const QString cmd = QStringLiteral("push");
    ArgParser parser(withGlobals({opt("-p", "--hyperparameters", Kind::Values),
                                  opt("-r", "--results", Kind::Values), opt("-s", "--status", Kind::Value)}));
    if (int rc = parseCommand(cmd, args, &parser, &global, {QStringLiteral("experiment"), 1}); rc >= 0)
        return rc;
    const QStringList pos = parser.positionals();
    if (!parser.isSet(QStringLiteral("--hyperparameters")))
        return usageError(cmd, QStringLiteral("the following arguments are required: -p/--hyperparameters"));
    JobWrite job;
    if (parser.isSet(QStringLiteral("--status"))) {
        const QString st = parser.value(QStringLiteral("--status"));
        auto status = jobStatusFromString(st);
        if (!status)
            return usageError(cmd, invalidChoice(QStringLiteral("-s/--status"), st,
                                                 {QStringLiteral("QUEUED"), QStringLiteral("RUNNING"),
                                                  QStringLiteral("DONE"), QStringLiteral("CRASHED"),
                                                  QStringLiteral("PRUNED")}));
        job.status = *status;
    }
    if (parser.isSet(QStringLiteral("--results"))) {
        if (QString problem = parsePairs(parser.values(QStringLiteral("--results")), QStringLiteral("result"),
                                         QStringLiteral("results"), &job.results);
            !problem.isEmpty())
            return usageError(cmd, problem);
    }
    if (QString problem =
            parsePairs(parser.values(QStringLiteral("--hyperparameters")), QStringLiteral("hyperparameter"),
                       QStringLiteral("hyperparameters"), &job.hyperparameters);
        !problem.isEmpty())
        return usageError(cmd, problem);
    Session s(global);
    if (int rc = s.open(); rc >= 0)
        return rc;
    auto e = s.api().experiment(pos.first());
    if (!e)
        return s.fail();
    auto added = s.api().addJob(e->name, job);
    if (!added)
        return s.fail(QStringLiteral("cannot add the job: "));
    writeOut(jobTable({*added}).paragraphs());
    return ExitOk;
}

// ---- gen-token -----------------------------------------------------------

int cmdGenToken(const QStringList &args, GlobalOptions global)
{
    const QString cmd = QStringLiteral("gen-token");
    ArgParser parser(withGlobals({opt("", "--root", Kind::Value), opt("", "--email", Kind::Value),
                                  opt("", "--password", Kind::Value)}));
    if (int rc = parseCommand(cmd, args, &parser, &global, {{}, 0}); rc >= 0)
        return rc;
    QString root = parser.value(QStringLiteral("--root"));
    if (root.isEmpty()) {
        auto existing = ClientConfig::load(global.config(), nullptr);
        root = existing ? existing->root : QStringLiteral("http://127.0.0.1:8080/");
    }
    ClientConfig login;
    login.root = normalizedRoot(root);
    login.tokenType = ClientConfig::TokenType::Password;
    if (parser.isSet(QStringLiteral("--email"))) {
        login.email = parser.value(QStringLiteral("--email"));
    } else {
        auto email = prompt(QStringLiteral("Email: "));
        if (!email)
            return usageError(cmd, QStringLiteral("no email given"));
        login.email = *email;
    }
    if (parser.isSet(QStringLiteral("--password"))) {
        login.token = parser.value(QStringLiteral("--password"));
    } else {
        auto password = promptPassword(QStringLiteral("Password: "));
        if (!password)
            return usageError(cmd, QStringLiteral("no password given"));
        login.token = *password;
    }
    Client client(login);
    client.setRetryPolicy(retryPolicy(global));
    BlockingClient api(&client);
    auto config = api.resetToken();
    if (!config) {
        const ClientError &e = api.lastError();
        return failWith(exitCodeFor(e),
                        QStringLiteral("cannot get a token from %1: ").arg(login.root) + describe(e));
    }
    const QString path = global.config();
    QString error;
    if (!config->save(path, &error))
        return failWith(ExitFailure, error);
    writeOut(QStringLiteral("Your token has been saved to %1.\n").arg(path));
    return ExitOk;
}

// ---- export --------------------------------------------------------------

QString csvField(const QString &field)
{
    if (!field.contains(QLatin1Char(',')) && !field.contains(QLatin1Char('"')) &&
        !field.contains(QLatin1Char('\n')) && !field.contains(QLatin1Char('\r')))
        return field;
    QString f = field;
    f.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + f + QLatin1Char('"');
}

QString exactText(const QCborValue &v)
{
    if (v.isString())
        return v.toString();
    if (v.isNull() || v.isUndefined())
        return {};
    return QString::fromUtf8(json::write(v));
}

QByteArray jobsCsv(const QList<Job> &jobs)
{
    QStringList hps, results;
    bool lineage = false;
    for (const Job &j : jobs) {
        for (auto it = j.hyperparameters.begin(); it != j.hyperparameters.end(); ++it) {
            if (!hps.contains(it.key().toString()))
                hps << it.key().toString();
        }
        for (auto it = j.results.begin(); it != j.results.end(); ++it) {
            if (!results.contains(it.key().toString()))
                results << it.key().toString();
        }
        lineage = lineage || j.generation.has_value();
    }
    QStringList header{QStringLiteral("id"), QStringLiteral("status"), QStringLiteral("createdAt"),
                       QStringLiteral("modifiedAt")};
    if (lineage)
        header << QStringLiteral("generation") << QStringLiteral("member") << QStringLiteral("parent");
    for (const QString &h : std::as_const(hps))
        header << QStringLiteral("hyperparameters.") + h;
    for (const QString &r : std::as_const(results))
        header << QStringLiteral("results.") + r;
    QStringList fields;
    for (const QString &h : std::as_const(header))
        fields << csvField(h);
    QString out = fields.join(QLatin1Char(',')) + QLatin1Char('\n');
    auto time = [](const std::optional<double> &t) {
        return t ? QString::number(*t, 'f', 6) : QString();
    };
    for (const Job &j : jobs) {
        QStringList row{j.id, toString(j.status), time(j.createdAt), time(j.modifiedAt)};
        if (lineage)
            row << (j.generation ? QString::number(*j.generation) : QString()) << j.member << j.parent;
        for (const QString &h : std::as_const(hps))
            row << exactText(j.hyperparameters.value(h));
        for (const QString &r : std::as_const(results))
            row << exactText(j.results.value(r));
        QStringList cells;
        for (const QString &c : std::as_const(row))
            cells << csvField(c);
        out += cells.join(QLatin1Char(',')) + QLatin1Char('\n');
    }
    return out.toUtf8();
}

int cmdExport(const QStringList &args, GlobalOptions global)
{
    const QString cmd = QStringLiteral("export");
    ArgParser parser(withGlobals({opt("", "--format", Kind::Value), opt("-o", "--output", Kind::Value)}));
    if (int rc = parseCommand(cmd, args, &parser, &global, {QStringLiteral("experiment"), 1}); rc >= 0)
        return rc;
    const QStringList pos = parser.positionals();
    const QString format = parser.value(QStringLiteral("--format"), QStringLiteral("csv"));
    if (format != QLatin1String("csv") && format != QLatin1String("json"))
        return usageError(cmd, invalidChoice(QStringLiteral("--format"), format,
                                             {QStringLiteral("csv"), QStringLiteral("json")}));
    Session s(global);
    if (int rc = s.open(); rc >= 0)
        return rc;
    auto e = s.api().experiment(pos.first());
    if (!e)
        return s.fail();
    auto jobs = s.api().allJobs(e->name);
    if (!jobs)
        return s.fail();
    QByteArray data;
    if (format == QLatin1String("csv")) {
        data = jobsCsv(*jobs);
    } else {
        QCborArray items;
        for (const Job &j : std::as_const(*jobs))
            items.append(codec::encode(j));
        data = json::writeIndented(QCborMap{{QStringLiteral("experiment"), codec::encode(*e)},
                                            {QStringLiteral("jobs"), items}}) +
               '\n';
    }
    const QString output = parser.value(QStringLiteral("--output"));
    if (output.isEmpty() || output == QLatin1String("-")) {
        writeOutBytes(data);
        return ExitOk;
    }
    QString error;
    if (!SaveFile::write(output, data, &error))
        return failWith(ExitFailure, error);
    return ExitOk;
}

// ---- run -----------------------------------------------------------------

int cmdRun(const QStringList &args, GlobalOptions global)
{
    const QString cmd = QStringLiteral("run");
    ArgParser parser(
        withGlobals({opt("", "--once"), opt("", "--allow-empty-results"), opt("", "--ignore-errors"),
                     opt("", "--wait", Kind::Value), opt("", "--max-jobs", Kind::Value),
                     opt("", "--grace", Kind::Value), opt("-q", "--quiet")}));
    parser.setRawTailAfter(1);
    if (int rc = parseCommand(cmd, args, &parser, &global, {QStringLiteral("experiment, command")}); rc >= 0)
        return rc;
    if (parser.rest().isEmpty())
        return usageError(cmd, QStringLiteral("the following arguments are required: command"));
    RunOptions options;
    options.experiment = parser.positionals().first();
    options.command = parser.rest();
    options.configPath = global.config();
    options.once = parser.isSet(QStringLiteral("--once"));
    options.allowEmptyResults = parser.isSet(QStringLiteral("--allow-empty-results"));
    options.ignoreErrors = parser.isSet(QStringLiteral("--ignore-errors"));
    options.quiet = parser.isSet(QStringLiteral("--quiet"));
    if (parser.isSet(QStringLiteral("--wait"))) {
        options.wait = numberOption(parser, QStringLiteral("--wait"), 0.0, nonNegative);
        if (!options.wait)
            return usageError(cmd, QStringLiteral("--wait needs a number of seconds >= 0"));
    }
    const auto maxJobs =
        numberOption(parser, QStringLiteral("--max-jobs"), options.maxJobs, [](int n) { return n >= 1; });
    if (!maxJobs)
        return usageError(cmd, QStringLiteral("--max-jobs needs a number >= 1"));
    options.maxJobs = *maxJobs;
    const auto grace = numberOption(parser, QStringLiteral("--grace"), options.grace, nonNegative);
    if (!grace)
        return usageError(cmd, QStringLiteral("--grace needs a number of seconds >= 0"));
    options.grace = *grace;
    if (QString problem = checkFormatters(options.command); !problem.isEmpty())
        return usageError(cmd, problem);
    Session s(global);
    if (int rc = s.open(); rc >= 0)
        return rc;
    std::signal(SIGPIPE, SIG_IGN); // a closed stdout must not leave the job RUNNING
    Runner runner(&s.client(), options);
    SignalWatcher watcher;
    QObject::connect(&watcher, &SignalWatcher::received, &runner, &Runner::interrupt);
    return runner.exec();
}

} // namespace

QString mainUsage()
{
    return QString::fromUtf8(MainUsage);
}

QString commandUsage(const QString &command)
{
    return commandUsages().value(command);
}

int runCommand(const QString &command, const QStringList &args, GlobalOptions global)
{
    using Command = int (*)(const QStringList &, GlobalOptions);
    static const QHash<QString, Command> commands{
        {QStringLiteral("add"), cmdAdd},       {QStringLiteral("rm"), cmdRm},
        {QStringLiteral("show"), cmdShow},     {QStringLiteral("list"), cmdList},
        {QStringLiteral("push"), cmdPush},     {QStringLiteral("gen-token"), cmdGenToken},
        {QStringLiteral("export"), cmdExport}, {QStringLiteral("watch"), cmdWatch},
        {QStringLiteral("run"), cmdRun},
    };
    if (const Command run = commands.value(command))
        return run(args, global);
    if (command == QLatin1String("help")) {
        if (args.isEmpty()) {
            writeOut(mainUsage());
            return ExitOk;
        }
        const QString usage = commandUsage(args.first());
        if (usage.isEmpty())
            return usageError(QStringLiteral("help"),
                              QStringLiteral("unknown command '%1'").arg(args.first()));
        writeOut(usage);
        return ExitOk;
    }
    writeErr(QStringLiteral("schedy: error: argument command: invalid choice: '%1' (see 'schedy --help')\n")
                 .arg(command));
    return ExitUsage;
}

} // namespace schedy::cli
