// The real `schedy` binary against the real server (in-process, temporary
// SQLite). Outputs of the table and paragraph forms are compared with the
// files in tests/cli/expected/ (SCHEDY_UPDATE_EXPECTED=1 rewrites them).
#include "BlockingClient.h"
#include "Codec.h"
#include "Json.h"
#include "TestServer.h"

#include <QEventLoop>
#include <QFile>
#include <QProcess>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <csignal>

using namespace schedy;
using namespace schedy::test;

namespace QTest {
template <> inline char *toString(const schedy::Objective &o)
{
    return qstrdup(o == schedy::Objective::Minimize ? "min" : "max");
}
} // namespace QTest

// Statuses and kinds compare by their wire names (QTest's toString would clash with schedy::toString).
#define COMPARE_NAME(actual, expected) QCOMPARE(schedy::toString(actual), schedy::toString(expected))

namespace {

struct Result
{
    int code = -1;
    QByteArray out;
    QByteArray err;
};

QCborMap obj(const char *jsonText)
{
    return json::parse(jsonText).toMap();
}

} // namespace

class tst_Cli : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TestServer> m_server;
    QTemporaryDir m_dir;
    int m_users = 0;

    // A new user, its config saved to a file; returns the file.
    QString newUser(ClientConfig *config = nullptr, const QString &password = {})
    {
        const QString email = QStringLiteral("user%1@example.com").arg(++m_users);
        const ClientConfig c = m_server->addUser(email, password);
        const QString path = m_dir.filePath(QStringLiteral("user%1.json").arg(m_users));
        QString error;
        if (!c.save(path, &error))
            qFatal("%s", qPrintable(error));
        if (config)
            *config = c;
        return path;
    }

    QProcess *start(const QString &config, const QStringList &args)
    {
        auto *p = new QProcess(this);
        p->setProgram(QStringLiteral(SCHEDY_BIN));
        p->setArguments(QStringList{QStringLiteral("--config"), config} + args);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOME"), m_dir.path());
        p->setProcessEnvironment(env);
        p->start();
        return p;
    }

    Result run(const QString &config, const QStringList &args, const QByteArray &input = {})
    {
        std::unique_ptr<QProcess> p(start(config, args));
        if (!input.isEmpty())
            p->write(input);
        p->closeWriteChannel();
        waitForExit(*p);
        Result r;
        r.code = p->exitStatus() == QProcess::NormalExit ? p->exitCode() : -1;
        r.out = p->readAllStandardOutput();
        r.err = p->readAllStandardError();
        return r;
    }

    void expectFile(const QByteArray &actual, const QString &name)
    {
        const QString path = QStringLiteral(SCHEDY_CLI_EXPECTED) + QLatin1Char('/') + name;
        if (qEnvironmentVariableIsSet("SCHEDY_UPDATE_EXPECTED")) {
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(actual);
            return;
        }
        QFile f(path);
        QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(path));
        QCOMPARE(QString::fromUtf8(actual), QString::fromUtf8(f.readAll()));
    }

    static void put(BlockingClient &api, const QString &exp, const QString &id, JobStatus status,
                    const char *hps, const char *results)
    {
        JobWrite w;
        w.status = status;
        w.hyperparameters = obj(hps);
        w.results = obj(results);
        QVERIFY2(api.putJob(exp, id, w, WriteCondition::CreateOnly), qPrintable(api.lastError().toString()));
    }

    static Experiment experiment(const QString &name, const char *scheduler,
                                 ExperimentStatus status = ExperimentStatus::Running)
    {
        Experiment e;
        e.name = name;
        e.status = status;
        auto s = codec::decodeScheduler(json::parse(scheduler), QStringLiteral("scheduler"));
        if (!s)
            qFatal("%s", qPrintable(s.error().message()));
        e.scheduler = s.value();
        return e;
    }

    QString m_tables; // config of the user whose data the table tests show

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_server = std::make_unique<TestServer>();
        QVERIFY(m_server->start());
        ClientConfig config;
        m_tables = newUser(&config);
        BlockingClient api(config);
        QVERIFY(api.createExperiment(
            experiment(QStringLiteral("MinimizeManual"), R"({"Manual": null})", ExperimentStatus::Done)));
        QVERIFY(api.createExperiment(experiment(QStringLiteral("MinimizeRandom"), R"({"RandomSearch": {
            "x": {"normal": {"mean": 0, "std": 5}},
            "lr": {"loguniform": {"low": 1e-06, "high": 0.1}},
            "dropout": {"uniform": {"low": 0.0, "high": 0.8}},
            "layers": {"choice": {"values": [1, 2, 3, 4, 5]}},
            "activation": {"choice": {"values": ["relu", "tanh"], "weights": [3, 1]}},
            "optimizer": {"const": {"name": "sgd", "momentum": 0.9}}}})")));
        QVERIFY(api.createExperiment(experiment(QStringLiteral("MNIST with PBT"), R"({"PBT": {
            "objective": "max", "qualityResultName": "max_accuracy", "numParallel": 20,
            "init": {"learning_rate": {"loguniform": {"low": 1e-08, "high": 1.0}}},
            "exploit": {"truncate": 0.2},
            "explore": {"learning_rate": {"perturb": {"minFactor": 0.8, "maxFactor": 1.2}}},
            "maxGenerations": 10}})")));
        QVERIFY(api.createExperiment(experiment(QStringLiteral("Ambiguous"), R"({"Manual": null})")));
        const QString m = QStringLiteral("MinimizeManual");
        put(api, m, QStringLiteral("alpha1"), JobStatus::Done,
            R"({"lr": 0.01, "layers": 3, "activation": "relu"})", R"({"loss": [0.9, 0.5], "acc": 0.97})");
        put(api, m, QStringLiteral("bravo2"), JobStatus::Done,
            R"({"lr": 0.001, "layers": 12, "activation": "tanh"})",
            R"({"loss": [0.8, 0.45, 0.31], "acc": 0.9831234})");
        put(api, m, QStringLiteral("charl3"), JobStatus::Crashed,
            R"({"lr": 1e-05, "layers": 1, "activation": "relu", "dropout": 0.5})", "{}");
        put(api, m, QStringLiteral("delta4"), JobStatus::Queued,
            "{\"lr\": 0.1, \"layers\": 2, \"activation\": \"sigmoid\", \"extra\": {\"k\": 1, \"s\": "
            "\"it\x27s\"}}",
            R"({"note": "ok", "flag": true})");
        put(api, QStringLiteral("Ambiguous"), QStringLiteral("amb001"), JobStatus::Done,
            R"({"status": "warm", "id": 3})", R"({"status": 0.5})");
        put(api, QStringLiteral("Ambiguous"), QStringLiteral("amb002"), JobStatus::Running,
            R"({"status": "cold", "id": 1})", R"({})");
    }

    void cleanupTestCase() { m_server.reset(); }

    // ---- the original commands' outputs ----------------------------------

    void listExperiments_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("file");
        QTest::newRow("plain") << QStringList{QStringLiteral("list")}
                               << QStringLiteral("list_experiments.txt");
        QTest::newRow("table") << QStringList{QStringLiteral("list"), QStringLiteral("-t")}
                               << QStringLiteral("list_experiments_table.txt");
        QTest::newRow("paragraphs") << QStringList{QStringLiteral("list"), QStringLiteral("-p")}
                                    << QStringLiteral("list_experiments_paragraphs.txt");
        QTest::newRow("sorted fields")
            << QString(QStringLiteral("list -t -s scheduler -d -f name -f scheduler -f x"))
                   .split(QLatin1Char(' '))
            << QStringLiteral("list_experiments_sorted.txt");
    }
    void listExperiments()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, file);
        const Result r = run(m_tables, args);
        QCOMPARE(r.code, 0);
        QCOMPARE(r.err, QByteArray());
        expectFile(r.out, file);
    }

    void listJobs_data()
    {
        QTest::addColumn<QString>("args");
        QTest::addColumn<QString>("file");
        QTest::newRow("plain") << QStringLiteral("list MinimizeManual") << QStringLiteral("list_jobs.txt");
        QTest::newRow("table") << QStringLiteral("list MinimizeManual -t")
                               << QStringLiteral("list_jobs_table.txt");
        QTest::newRow("paragraphs") << QStringLiteral("list MinimizeManual --paragraph")
                                    << QStringLiteral("list_jobs_paragraphs.txt");
        QTest::newRow("sorted") << QStringLiteral(
                                       "list MinimizeManual -t -s acc -d -f id -f acc -f lr -f loss")
                                << QStringLiteral("list_jobs_sorted.txt");
        QTest::newRow("two keys") << QStringLiteral(
                                         "list MinimizeManual -s activation -s lr -f id -f activation -f lr")
                                  << QStringLiteral("list_jobs_two_keys.txt");
        QTest::newRow("ambiguous") << QStringLiteral("list Ambiguous -t")
                                   << QStringLiteral("list_ambiguous_table.txt");
        QTest::newRow("ambiguous paragraphs")
            << QStringLiteral("list Ambiguous -p -s hyperparameter.id -f schedy.id -f hyperparameter.status")
            << QStringLiteral("list_ambiguous_paragraphs.txt");
    }
    void listJobs()
    {
        QFETCH(QString, args);
        QFETCH(QString, file);
        const Result r = run(m_tables, args.split(QLatin1Char(' ')));
        QCOMPARE(r.code, 0);
        QCOMPARE(r.err, QByteArray());
        expectFile(r.out, file);
    }

    void listErrors()
    {
        Result r = run(m_tables, {QStringLiteral("list"), QStringLiteral("Ambiguous"), QStringLiteral("-f"),
                                  QStringLiteral("status")});
        QCOMPARE(r.code, 2);
        QCOMPARE(r.out, QByteArray());
        QCOMPARE(r.err,
                 QByteArray("schedy list: error: Field \"status\" not found or ambiguous. (see 'schedy list "
                            "--help')\n"));
        r = run(m_tables, {QStringLiteral("list"), QStringLiteral("Nope")});
        QCOMPARE(r.code, 3);
        QCOMPARE(r.err, QByteArray("schedy: not found (HTTP 404): no experiment named 'Nope'\n"));
        // An experiment with no job prints one empty line, like tabulate.
        r = run(m_tables, {QStringLiteral("list"), QStringLiteral("MNIST with PBT"), QStringLiteral("-t")});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QByteArray("\n"));
        r = run(m_tables, {QStringLiteral("list"), QStringLiteral("MNIST with PBT"), QStringLiteral("-p")});
        QCOMPARE(r.out, QByteArray());
    }

    void show()
    {
        Result r = run(m_tables, {QStringLiteral("show"), QStringLiteral("MinimizeRandom")});
        QCOMPARE(r.code, 0);
        expectFile(r.out, QStringLiteral("show_experiment.txt"));
        r = run(m_tables, {QStringLiteral("show"), QStringLiteral("MNIST with PBT")});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QByteArray("name: MNIST with PBT\nstatus: RUNNING\nscheduler: PBT\n"));
        r = run(m_tables,
                {QStringLiteral("show"), QStringLiteral("MinimizeManual"), QStringLiteral("delta4")});
        QCOMPARE(r.code, 0);
        expectFile(r.out, QStringLiteral("show_job.txt"));
        r = run(m_tables,
                {QStringLiteral("show"), QStringLiteral("MinimizeManual"), QStringLiteral("zzzzzz")});
        QCOMPARE(r.code, 3);
        QVERIFY(r.err.startsWith("schedy: not found (HTTP 404): "));
        QCOMPARE(r.err.count('\n'), 1);
    }

    void add()
    {
        ClientConfig config;
        const QString user = newUser(&config);
        Result r = run(user, QString(QStringLiteral("add R random x uniform {\"low\":0,\"high\":1} n choice "
                                                    "{\"values\":[1,\"a\"]} c const -1"))
                                 .split(QLatin1Char(' ')));
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QByteArray());
        r = run(user, {QStringLiteral("show"), QStringLiteral("R")});
        QCOMPARE(r.out, QByteArray("name: R\nstatus: RUNNING\nscheduler: RandomSearch\n"
                                   "x: uniform ({\"low\": 0.0, \"high\": 1.0})\n"
                                   "n: choice ({\"values\": [1, \"a\"]})\nc: const (-1)\n"));
        r = run(user, {QStringLiteral("add"), QStringLiteral("M"), QStringLiteral("-s"),
                       QStringLiteral("DONE"), QStringLiteral("manual")});
        QCOMPARE(r.code, 0);
        r = run(user, {QStringLiteral("list")});
        QCOMPARE(r.out, QByteArray("R  RUNNING  RandomSearch\nM  DONE     Manual\n"));

        r = run(user,
                QString(QStringLiteral("add P pbt --objective min --quality loss --population 4 "
                                       "--max-generations 3 --truncate 0.25 --explore lr=0.5,2 --explore "
                                       "layers lr loguniform {\"low\":0.001,\"high\":1} layers choice "
                                       "{\"values\":[1,2,3]}"))
                    .split(QLatin1Char(' ')));
        QCOMPARE(r.code, 0);
        BlockingClient api(config);
        auto p = api.experiment(QStringLiteral("P"));
        QVERIFY(p);
        COMPARE_NAME(p->scheduler.kind, Scheduler::Kind::Pbt);
        const PbtSettings &pbt = p->scheduler.pbt;
        QCOMPARE(pbt.objective, Objective::Minimize);
        QCOMPARE(pbt.qualityResultName, QStringLiteral("loss"));
        QCOMPARE(pbt.numParallel, std::optional<qint64>(4));
        QCOMPARE(pbt.maxGenerations, std::optional<qint64>(3));
        QCOMPARE(pbt.truncate, 0.25);
        QCOMPARE(pbt.init.size(), 2);
        QCOMPARE(pbt.explore.size(), 2);
        QCOMPARE(pbt.explore.at(0), (Perturb{QStringLiteral("lr"), 0.5, 2.0}));
        QCOMPARE(pbt.explore.at(1), (Perturb{QStringLiteral("layers"), 0.8, 1.2}));

        // Errors: the original messages, exit code 2; an existing name: 7.
        auto fails = [&](const QString &args, int code, const QByteArray &message) {
            const Result e = run(user, args.split(QLatin1Char(' ')));
            QCOMPARE(e.code, code);
            QVERIFY2(e.err.contains(message), e.err.constData());
            QCOMPARE(e.err.count('\n'), 1);
        };
        fails(QStringLiteral("add X random x gauss {}"), 2, "Invalid distribution: gauss.");
        fails(QStringLiteral("add X random x uniform"), 2,
              "Invalid hyperparameters (not a list of name/distribution/params).");
        fails(QStringLiteral("add X random x const 1 x const 2"), 2, "Duplicate hyperparameter: x.");
        fails(QStringLiteral("add X random x uniform {\"low\":1,\"high\":0}"), 2,
              "Invalid distribution parameters for x (x.uniform.low: must be less than high).");
        fails(QStringLiteral("add X random x uniform {oops}"), 2, "Invalid distribution parameters for x (");
        fails(QStringLiteral("add X pbt --quality loss"), 2, "pbt needs --objective min or --objective max");
        fails(QStringLiteral("add X bayes"), 2, "invalid choice: 'bayes'");
        fails(QStringLiteral("add R manual"), 7, "schedy: experiment \"R\" already exists");
    }

    void push()
    {
        ClientConfig config;
        const QString user = newUser(&config);
        BlockingClient api(config);
        QVERIFY(api.createExperiment(experiment(QStringLiteral("E"), R"({"Manual": null})")));
        const Result r =
            run(user, {QStringLiteral("push"), QStringLiteral("E"), QStringLiteral("-p"),
                       QStringLiteral("lr"), QStringLiteral("0.01"), QStringLiteral("act"),
                       QStringLiteral("\"relu\""), QStringLiteral("sizes"), QStringLiteral("[512, 256]"),
                       QStringLiteral("-r"), QStringLiteral("loss"), QStringLiteral("-1.5"),
                       QStringLiteral("-s"), QStringLiteral("DONE")});
        QCOMPARE(r.code, 0);
        auto jobs = api.allJobs(QStringLiteral("E"));
        QVERIFY(jobs);
        QCOMPARE(jobs->size(), 1);
        const Job &j = jobs->first();
        COMPARE_NAME(j.status, JobStatus::Done);
        QCOMPARE(json::write(j.hyperparameters), QByteArray(R"({"lr":0.01,"act":"relu","sizes":[512,256]})"));
        QCOMPARE(json::write(j.results), QByteArray(R"({"loss":-1.5})"));
        QCOMPARE(r.out, QByteArray("id: " + j.id.toUtf8() +
                                   "\nstatus: DONE\nlr: 0.01\nact: relu\nsizes: [512, 256]\nloss: -1.5\n"));

        auto fails = [&](const QStringList &args, const QByteArray &message) {
            const Result e = run(user, QStringList{QStringLiteral("push"), QStringLiteral("E")} + args);
            QCOMPARE(e.code, 2);
            QVERIFY2(e.err.contains(message), e.err.constData());
        };
        fails({QStringLiteral("-p"), QStringLiteral("a")},
              "Invalid hyperparameters (not a list of name/value).");
        fails({QStringLiteral("-p"), QStringLiteral("a"), QStringLiteral("relu")},
              "Invalid value for hyperparameter a (");
        fails({QStringLiteral("-p"), QStringLiteral("a"), QStringLiteral("1"), QStringLiteral("a"),
               QStringLiteral("2")},
              "Duplicate hyperparameter: a.");
        fails({QStringLiteral("-p"), QStringLiteral("a"), QStringLiteral("1"), QStringLiteral("-r"),
               QStringLiteral("x")},
              "Invalid results (not a list of name/value).");
        fails({QStringLiteral("-r"), QStringLiteral("x"), QStringLiteral("1")},
              "the following arguments are required: -p/--hyperparameters");
        fails({QStringLiteral("-p"), QStringLiteral("a"), QStringLiteral("1"), QStringLiteral("-s"),
               QStringLiteral("OK")},
              "invalid choice: 'OK'");
    }

    void rm()
    {
        ClientConfig config;
        const QString user = newUser(&config);
        BlockingClient api(config);
        QVERIFY(api.createExperiment(experiment(QStringLiteral("E"), R"({"Manual": null})")));
        put(api, QStringLiteral("E"), QStringLiteral("job001"), JobStatus::Done, R"({"a": 1})",
            R"({"b": 2.5})");
        put(api, QStringLiteral("E"), QStringLiteral("job002"), JobStatus::Queued, R"({"a": 2})", "{}");

        Result r = run(user, {QStringLiteral("rm"), QStringLiteral("E"), QStringLiteral("job001")}, "n\n");
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out,
                 QByteArray("id: job001\nstatus: DONE\na: 1\nb: 2.5\n"
                            "Are you sure you want to remove job001? [y/N] job001 was not removed.\n"));
        QVERIFY(api.job(QStringLiteral("E"), QStringLiteral("job001")));
        r = run(user, {QStringLiteral("rm"), QStringLiteral("E"), QStringLiteral("job001")}, "Y\n");
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QByteArray("id: job001\nstatus: DONE\na: 1\nb: 2.5\n"
                                   "Are you sure you want to remove job001? [y/N] "));
        QVERIFY(!api.job(QStringLiteral("E"), QStringLiteral("job001")));
        r = run(user, {QStringLiteral("rm"), QStringLiteral("E")}); // no answer at all: kept
        QCOMPARE(r.code, 0);
        QCOMPARE(
            r.out,
            QByteArray("name: E\nstatus: RUNNING\nscheduler: Manual\n"
                       "Are you sure you want to remove E and all its jobs? [y/N] E was not removed.\n"));
        r = run(user, {QStringLiteral("rm"), QStringLiteral("-f"), QStringLiteral("E")});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QByteArray());
        QVERIFY(!api.experiment(QStringLiteral("E")));
        r = run(user, {QStringLiteral("rm"), QStringLiteral("E"), QStringLiteral("-f")});
        QCOMPARE(r.code, 3);
    }

    void genToken()
    {
        ClientConfig old;
        newUser(&old, QStringLiteral("s3cret pass"));
        const QString path = m_dir.filePath(QStringLiteral("fresh/dir/client.json"));
        Result r = run(path, {QStringLiteral("gen-token"), QStringLiteral("--root"), m_server->root(),
                              QStringLiteral("--email"), old.email, QStringLiteral("--password"),
                              QStringLiteral("s3cret pass")});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QByteArray("Your token has been saved to " + path.toUtf8() + ".\n"));
        QCOMPARE(QFile::permissions(path), QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                               QFileDevice::ReadUser | QFileDevice::WriteUser);
        QString error;
        auto saved = ClientConfig::load(path, &error);
        QVERIFY2(saved, qPrintable(error));
        QCOMPARE(saved->email, old.email);
        QVERIFY(saved->token != old.token);
        QCOMPARE(run(path, {QStringLiteral("list")}).code, 0);
        // The previous token no longer works.
        const QString oldPath = m_dir.filePath(QStringLiteral("old.json"));
        QVERIFY(old.save(oldPath, &error));
        r = run(oldPath, {QStringLiteral("list")});
        QCOMPARE(r.code, 4);
        QVERIFY(r.err.startsWith("schedy: authentication failed (HTTP 403)"));

        // Prompts for what is missing; --root defaults to the config's root.
        r = run(path, {QStringLiteral("gen-token")}, old.email.toUtf8() + "\ns3cret pass\n");
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QByteArray("Email: Your token has been saved to " + path.toUtf8() + ".\n"));
        QCOMPARE(r.err, QByteArray("Password: "));
        r = run(path, {QStringLiteral("gen-token"), QStringLiteral("--email"), old.email}, "wrong\n");
        QCOMPARE(r.code, 4);
    }

    void exportJobs()
    {
        Result r = run(m_tables, {QStringLiteral("export"), QStringLiteral("MinimizeManual")});
        QCOMPARE(r.code, 0);
        const QList<QByteArray> lines = r.out.split('\n');
        QCOMPARE(lines.size(), 6);
        QCOMPARE(lines.at(0),
                 QByteArray("id,status,createdAt,modifiedAt,hyperparameters.lr,hyperparameters.layers,"
                            "hyperparameters.activation,hyperparameters.dropout,hyperparameters.extra,"
                            "results.loss,results.acc,results.note,results.flag"));
        QVERIFY(lines.at(1).startsWith("alpha1,DONE,"));
        QVERIFY(lines.at(1).endsWith(",0.01,3,relu,,,\"[0.9,0.5]\",0.97,,"));
        QVERIFY(lines.at(4).endsWith(",0.1,2,sigmoid,,\"{\"\"k\"\":1,\"\"s\"\":\"\"it's\"\"}\",,,ok,true"));
        const QString file = m_dir.filePath(QStringLiteral("export.json"));
        r = run(m_tables, {QStringLiteral("export"), QStringLiteral("MinimizeManual"),
                           QStringLiteral("--format"), QStringLiteral("json"), QStringLiteral("-o"), file});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QByteArray());
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QCborMap doc = json::parse(f.readAll()).toMap();
        QCOMPARE(doc.value(QStringLiteral("experiment")).toMap().value(QStringLiteral("name")).toString(),
                 QStringLiteral("MinimizeManual"));
        const QCborArray jobs = doc.value(QStringLiteral("jobs")).toArray();
        QCOMPARE(jobs.size(), 4);
        QCOMPARE(jobs.at(1).toMap().value(QStringLiteral("id")).toString(), QStringLiteral("bravo2"));
        QCOMPARE(json::write(jobs.at(1).toMap().value(QStringLiteral("results"))),
                 QByteArray(R"({"loss":[0.8,0.45,0.31],"acc":0.9831234})"));
        r = run(m_tables, {QStringLiteral("export"), QStringLiteral("MinimizeManual"),
                           QStringLiteral("--format"), QStringLiteral("xml")});
        QCOMPARE(r.code, 2);
    }

    void watch()
    {
        // Not a terminal: frames one after the other, without escapes.
        Result r =
            run(m_tables, {QStringLiteral("watch"), QStringLiteral("MinimizeManual"), QStringLiteral("-n"),
                           QStringLiteral("0.01"), QStringLiteral("--iterations"), QStringLiteral("2"),
                           QStringLiteral("-f"), QStringLiteral("id"), QStringLiteral("-f"),
                           QStringLiteral("status"), QStringLiteral("-f"), QStringLiteral("acc")});
        QCOMPARE(r.code, 0);
        expectFile(r.out, QStringLiteral("watch_two_frames.txt"));
        r = run(m_tables, {QStringLiteral("watch")});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.startsWith("4 experiments\n+---"));
        r = run(m_tables, {QStringLiteral("watch"), QStringLiteral("Nope")});
        QCOMPARE(r.code, 3);
    }

    // ---- run ---------------------------------------------------------------

    void runSucceeds()
    {
        ClientConfig config;
        const QString user = newUser(&config);
        BlockingClient api(config);
        QVERIFY(api.createExperiment(experiment(QStringLiteral("Toy"), R"({"Manual": null})")));
        put(api, QStringLiteral("Toy"), QStringLiteral("first1"), JobStatus::Queued, R"({"x": 3})",
            R"({"kept": "from before"})");
        put(api, QStringLiteral("Toy"), QStringLiteral("second"), JobStatus::Queued, R"({"x": 0.5})", "{}");
        // --once: one job; the formatters fill the arguments.
        Result r = run(user, {QStringLiteral("run"), QStringLiteral("--once"), QStringLiteral("Toy"),
                              QStringLiteral(SCHEDY_TOY_JOB), QStringLiteral("succeed"), QStringLiteral("%h"),
                              QStringLiteral("%j@%e%%")});
        QCOMPARE(r.code, 0);
        QCOMPARE(
            r.out,
            QByteArray("training job first1@Toy%\n--- RESULTS ---\n{\"loss\": 4.0, \"curve\": [3, 2.5]}\n"
                       "  epochs: 2\nnote: \"done\"\n--- END RESULTS ---\nbye\n"));
        QCOMPARE(r.err, QByteArray("schedy: job first1 started\nschedy: job first1 DONE\n"));
        auto job = api.job(QStringLiteral("Toy"), QStringLiteral("first1"));
        QVERIFY(job);
        COMPARE_NAME(job->status, JobStatus::Done);
        QCOMPARE(json::write(job->results),
                 QByteArray(R"({"kept":"from before","loss":4.0,"curve":[3,2.5],"epochs":2,"note":"done"})"));
        COMPARE_NAME(api.job(QStringLiteral("Toy"), QStringLiteral("second"))->status, JobStatus::Queued);
        // Without --once: until there is no job left.
        r = run(user, {QStringLiteral("run"), QStringLiteral("-q"), QStringLiteral("Toy"),
                       QStringLiteral(SCHEDY_TOY_JOB), QStringLiteral("succeed"), QStringLiteral("%h"),
                       QStringLiteral("%j")});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.err, QByteArray());
        job = api.job(QStringLiteral("Toy"), QStringLiteral("second"));
        COMPARE_NAME(job->status, JobStatus::Done);
        QCOMPARE(json::write(job->results.value(QStringLiteral("loss"))), QByteArray("0.25"));
        // Bad formatters are refused before any job is taken.
        r = run(user,
                {QStringLiteral("run"), QStringLiteral("Toy"), QStringLiteral("echo"), QStringLiteral("%x")});
        QCOMPARE(r.code, 2);
        QVERIFY(r.err.contains("unknown formatter %x"));
    }

    void runFails()
    {
        ClientConfig config;
        const QString user = newUser(&config);
        BlockingClient api(config);
        QVERIFY(api.createExperiment(experiment(QStringLiteral("Toy"), R"({"Manual": null})")));
        for (const char *id : {"fail01", "fail02", "nores1", "nores2", "badres"})
            put(api, QStringLiteral("Toy"), QString::fromLatin1(id), JobStatus::Queued, R"({"x": 1})", "{}");
        const QString toy = QStringLiteral(SCHEDY_TOY_JOB);
        // A failing command: CRASHED with what it reported, exit code 9, the worker stops.
        Result r = run(user, {QStringLiteral("run"), QStringLiteral("Toy"), toy, QStringLiteral("fail")});
        QCOMPARE(r.code, 9);
        QCOMPARE(r.err, QByteArray("schedy: job fail01 started\n"
                                   "schedy: job fail01 CRASHED: the command exited with code 3\n"));
        auto job = api.job(QStringLiteral("Toy"), QStringLiteral("fail01"));
        COMPARE_NAME(job->status, JobStatus::Crashed);
        QCOMPARE(json::write(job->results), QByteArray(R"({"loss":0.75})"));
        COMPARE_NAME(api.job(QStringLiteral("Toy"), QStringLiteral("fail02"))->status, JobStatus::Queued);
        // --ignore-errors goes on with the next job.
        r = run(user, {QStringLiteral("run"), QStringLiteral("--ignore-errors"), QStringLiteral("--max-jobs"),
                       QStringLiteral("1"), QStringLiteral("Toy"), toy, QStringLiteral("fail")});
        QCOMPARE(r.code, 0);
        COMPARE_NAME(api.job(QStringLiteral("Toy"), QStringLiteral("fail02"))->status, JobStatus::Crashed);
        // No results: an error, unless allowed.
        r = run(user, {QStringLiteral("run"), QStringLiteral("--once"), QStringLiteral("Toy"), toy,
                       QStringLiteral("noresults")});
        QCOMPARE(r.code, 9);
        QCOMPARE(r.out, QByteArray("I forgot to print results\n"));
        QVERIFY(r.err.contains("job nores1 CRASHED: the command printed no results block"));
        COMPARE_NAME(api.job(QStringLiteral("Toy"), QStringLiteral("nores1"))->status, JobStatus::Crashed);
        r = run(user,
                {QStringLiteral("run"), QStringLiteral("--once"), QStringLiteral("--allow-empty-results"),
                 QStringLiteral("Toy"), toy, QStringLiteral("noresults")});
        QCOMPARE(r.code, 0);
        job = api.job(QStringLiteral("Toy"), QStringLiteral("nores2"));
        COMPARE_NAME(job->status, JobStatus::Done);
        QVERIFY(job->results.isEmpty());
        // A results line that is not JSON: the job is CRASHED, the readable values kept.
        r = run(user, {QStringLiteral("run"), QStringLiteral("--once"), QStringLiteral("Toy"), toy,
                       QStringLiteral("badresults")});
        QCOMPARE(r.code, 9);
        QVERIFY2(r.err.contains("job badres: output line 3: the value of \"path\" is not JSON"),
                 r.err.constData());
        job = api.job(QStringLiteral("Toy"), QStringLiteral("badres"));
        COMPARE_NAME(job->status, JobStatus::Crashed);
        QCOMPARE(json::write(job->results), QByteArray(R"({"loss":0.5})"));
        // A command that cannot start.
        put(api, QStringLiteral("Toy"), QStringLiteral("nostrt"), JobStatus::Queued, "{}", "{}");
        r = run(user, {QStringLiteral("run"), QStringLiteral("Toy"), QStringLiteral("/nonexistent/program")});
        QCOMPARE(r.code, 9);
        QVERIFY(r.err.contains("job nostrt CRASHED: cannot run /nonexistent/program"));
        COMPARE_NAME(api.job(QStringLiteral("Toy"), QStringLiteral("nostrt"))->status, JobStatus::Crashed);
    }

    void runReportsIntermediateResults()
    {
        ClientConfig config;
        const QString user = newUser(&config);
        BlockingClient api(config);
        QVERIFY(api.createExperiment(experiment(QStringLiteral("Toy"), R"({"Manual": null})")));
        put(api, QStringLiteral("Toy"), QStringLiteral("inter1"), JobStatus::Queued, "{}", "{}");
        QTemporaryDir dir;
        // The server's request log says when the intermediate PUT has been answered.
        int puts = 0;
        QEventLoop loop;
        m_server->server()->setLogger([&](const QByteArray &line) {
            if (line.contains(" PUT ") && line.contains("/jobs/inter1/ 200 ")) {
                ++puts;
                loop.quit();
            }
        });
        std::unique_ptr<QProcess> p(
            start(user, {QStringLiteral("run"), QStringLiteral("--once"), QStringLiteral("Toy"),
                         QStringLiteral(SCHEDY_TOY_JOB), QStringLiteral("intermediate"), dir.path()}));
        QByteArray out;
        connect(p.get(), &QProcess::readyReadStandardOutput, &loop, [&] {
            out += p->readAllStandardOutput();
            loop.quit();
        });
        connect(p.get(), &QProcess::finished, &loop, &QEventLoop::quit);
        // Claim (1st PUT) and the first block (2nd PUT), and the command waiting.
        while ((puts < 2 || !out.contains("waiting\n")) && p->state() != QProcess::NotRunning)
            loop.exec();
        m_server->server()->setLogger({});
        QVERIFY2(p->state() != QProcess::NotRunning, p->readAllStandardError().constData());
        auto job = api.job(QStringLiteral("Toy"), QStringLiteral("inter1"));
        COMPARE_NAME(job->status, JobStatus::Running);
        QCOMPARE(json::write(job->results), QByteArray(R"({"epoch":1,"loss":[0.9]})"));
        QFile go(dir.filePath(QStringLiteral("go")));
        QVERIFY(go.open(QIODevice::WriteOnly));
        go.close();
        waitForExit(*p);
        QCOMPARE(p->exitCode(), 0);
        job = api.job(QStringLiteral("Toy"), QStringLiteral("inter1"));
        COMPARE_NAME(job->status, JobStatus::Done);
        QCOMPARE(json::write(job->results), QByteArray(R"({"epoch":2,"loss":[0.9,0.4]})"));
    }

    void runLeavesJobChangedElsewhere()
    {
        // Someone sets the job PRUNED (the dashboard, say) while it runs: the
        // command is stopped or finishes, and the job keeps the status they set.
        ClientConfig config;
        const QString user = newUser(&config);
        BlockingClient api(config);
        QVERIFY(api.createExperiment(experiment(QStringLiteral("Toy"), R"({"Manual": null})")));
        put(api, QStringLiteral("Toy"), QStringLiteral("prune1"), JobStatus::Queued, "{}", "{}");
        QTemporaryDir dir;
        std::unique_ptr<QProcess> p(
            start(user, {QStringLiteral("run"), QStringLiteral("--once"), QStringLiteral("Toy"),
                         QStringLiteral(SCHEDY_TOY_JOB), QStringLiteral("intermediate"), dir.path()}));
        QByteArray out;
        QEventLoop loop;
        connect(p.get(), &QProcess::readyReadStandardOutput, &loop, [&] {
            out += p->readAllStandardOutput();
            loop.quit();
        });
        connect(p.get(), &QProcess::finished, &loop, &QEventLoop::quit);
        while (!out.contains("waiting\n") && p->state() != QProcess::NotRunning)
            loop.exec();
        QVERIFY(p->state() != QProcess::NotRunning);
        auto job = api.job(QStringLiteral("Toy"), QStringLiteral("prune1"));
        QVERIFY(job);
        JobWrite pruned;
        pruned.status = JobStatus::Pruned;
        pruned.hyperparameters = job->hyperparameters;
        pruned.results = obj(R"({"why": "pruned by hand"})");
        QVERIFY(api.putJob(QStringLiteral("Toy"), QStringLiteral("prune1"), pruned,
                           WriteCondition::Unconditional));
        QFile go(dir.filePath(QStringLiteral("go")));
        QVERIFY(go.open(QIODevice::WriteOnly));
        go.close();
        waitForExit(*p);
        QCOMPARE(p->exitCode(), 0);
        QVERIFY(p->readAllStandardError().contains("job prune1 was changed elsewhere (it is now PRUNED)"));
        job = api.job(QStringLiteral("Toy"), QStringLiteral("prune1"));
        COMPARE_NAME(job->status, JobStatus::Pruned);
        QCOMPARE(json::write(job->results), QByteArray(R"({"why":"pruned by hand"})"));
    }

    void runForwardsSignals_data()
    {
        QTest::addColumn<int>("signal");
        QTest::newRow("SIGTERM") << int(SIGTERM);
        QTest::newRow("SIGINT") << int(SIGINT);
    }
    void runForwardsSignals()
    {
        QFETCH(int, signal);
        ClientConfig config;
        const QString user = newUser(&config);
        BlockingClient api(config);
        QVERIFY(api.createExperiment(experiment(QStringLiteral("Toy"), R"({"Manual": null})")));
        put(api, QStringLiteral("Toy"), QStringLiteral("sig001"), JobStatus::Queued, "{}", "{}");
        put(api, QStringLiteral("Toy"), QStringLiteral("sig002"), JobStatus::Queued, "{}", "{}");
        QTemporaryDir dir;
        std::unique_ptr<QProcess> p(
            start(user, {QStringLiteral("run"), QStringLiteral("Toy"), QStringLiteral(SCHEDY_TOY_JOB),
                         QStringLiteral("signal"), dir.path()}));
        QByteArray out;
        QEventLoop loop;
        connect(p.get(), &QProcess::readyReadStandardOutput, &loop, [&] {
            out += p->readAllStandardOutput();
            loop.quit();
        });
        connect(p.get(), &QProcess::finished, &loop, &QEventLoop::quit);
        while (!out.contains("ready\n") && p->state() != QProcess::NotRunning)
            loop.exec();
        QVERIFY(p->state() != QProcess::NotRunning);
        ::kill(pid_t(p->processId()), signal);
        waitForExit(*p);
        QCOMPARE(p->exitStatus(), QProcess::NormalExit);
        QCOMPARE(p->exitCode(), 128 + signal);
        QFile f(dir.filePath(QStringLiteral("signal")));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll().toInt(), signal);
        auto job = api.job(QStringLiteral("Toy"), QStringLiteral("sig001"));
        COMPARE_NAME(job->status, JobStatus::Crashed);
        QCOMPARE(json::write(job->results), QByteArray(R"({"epoch":1})"));
        // The worker stopped: the next job was not taken.
        COMPARE_NAME(api.job(QStringLiteral("Toy"), QStringLiteral("sig002"))->status, JobStatus::Queued);
        QVERIFY(p->readAllStandardError().contains("job sig001 CRASHED: interrupted by"));
    }

    void runWaitStopsWhenExperimentIsDone()
    {
        ClientConfig config;
        const QString user = newUser(&config);
        BlockingClient api(config);
        QVERIFY(api.createExperiment(
            experiment(QStringLiteral("Paused"), R"({"Manual": null})", ExperimentStatus::Done)));
        const Result r = run(user, {QStringLiteral("run"), QStringLiteral("--wait"), QStringLiteral("0.01"),
                                    QStringLiteral("Paused"), QStringLiteral("true")});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.err, QByteArray("schedy: experiment \"Paused\" is DONE\n"));
    }

    void runPbtWithFourWorkers()
    {
        ClientConfig config;
        const QString user = newUser(&config);
        Result r =
            run(user, QString(QStringLiteral("add Toy-PBT pbt --objective min --quality loss --population 4 "
                                             "--max-generations 3 --explore lr lr uniform "
                                             "{\"low\":0,\"high\":1}"))
                          .split(QLatin1Char(' ')));
        QCOMPARE(r.code, 0);
        QList<QProcess *> workers;
        for (int i = 0; i < 4; ++i)
            workers << start(user,
                             {QStringLiteral("run"), QStringLiteral("--wait"), QStringLiteral("0.05"),
                              QStringLiteral("-q"), QStringLiteral("Toy-PBT"), QStringLiteral(SCHEDY_TOY_JOB),
                              QStringLiteral("pbt"), QStringLiteral("%h"), QStringLiteral("%r")});
        for (QProcess *w : std::as_const(workers)) {
            w->closeWriteChannel();
            waitForExit(*w);
            QCOMPARE(w->exitStatus(), QProcess::NormalExit);
            QVERIFY2(w->exitCode() == 0, w->readAllStandardError().constData());
            delete w;
        }
        BlockingClient api(config);
        auto e = api.experiment(QStringLiteral("Toy-PBT"));
        COMPARE_NAME(e->status, ExperimentStatus::Done);
        auto jobs = api.allJobs(QStringLiteral("Toy-PBT"));
        QCOMPARE(jobs->size(), 12); // population 4 x 3 generations
        QList<qint64> perGeneration(3, 0);
        for (const Job &j : std::as_const(*jobs)) {
            COMPARE_NAME(j.status, JobStatus::Done);
            QVERIFY(j.generation && *j.generation < 3);
            ++perGeneration[*j.generation];
            // Generation 0 starts from nothing; later ones continue a parent's results.
            const qint64 step = j.results.value(QStringLiteral("step")).toInteger();
            if (*j.generation == 0) {
                QCOMPARE(step, 1);
            } else {
                QVERIFY(!j.parent.isEmpty());
                QVERIFY(step >= 2);
            }
        }
        QCOMPARE(perGeneration, (QList<qint64>{4, 4, 4}));
    }

    // ---- errors ------------------------------------------------------------

    void exitCodes()
    {
        auto oneLine = [](const Result &r) {
            return r.err.count('\n') == 1 && r.err.startsWith("schedy");
        };
        // Usage.
        Result r = run(m_tables, {QStringLiteral("frobnicate")});
        QCOMPARE(r.code, 2);
        QVERIFY(oneLine(r));
        r = run(m_tables, {QStringLiteral("list"), QStringLiteral("--bogus")});
        QCOMPARE(r.code, 2);
        QCOMPARE(
            r.err,
            QByteArray("schedy list: error: unrecognized argument: --bogus (see 'schedy list --help')\n"));
        // Not found.
        r = run(m_tables, {QStringLiteral("show"), QStringLiteral("Nope")});
        QCOMPARE(r.code, 3);
        QVERIFY(oneLine(r));
        // Credentials: no config, a refused token.
        r = run(m_dir.filePath(QStringLiteral("missing.json")), {QStringLiteral("list")});
        QCOMPARE(r.code, 4);
        QVERIFY(oneLine(r));
        QVERIFY(r.err.contains("gen-token"));
        ClientConfig bad;
        newUser(&bad);
        bad.token = QStringLiteral("not-the-token");
        const QString badPath = m_dir.filePath(QStringLiteral("bad.json"));
        QString error;
        QVERIFY(bad.save(badPath, &error));
        r = run(badPath, {QStringLiteral("list")});
        QCOMPARE(r.code, 4);
        QVERIFY(oneLine(r));
        // Unreachable.
        ClientConfig nowhere = bad;
        nowhere.root = QStringLiteral("http://127.0.0.1:%1/").arg(freePort());
        const QString nowherePath = m_dir.filePath(QStringLiteral("nowhere.json"));
        QVERIFY(nowhere.save(nowherePath, &error));
        r = run(nowherePath, {QStringLiteral("--retries"), QStringLiteral("0"), QStringLiteral("list")});
        QCOMPARE(r.code, 5);
        QVERIFY(oneLine(r));
        QVERIFY(r.err.startsWith("schedy: server unreachable"));
        // Server error: a server that answers 502 to everything.
        QTcpServer broken;
        QVERIFY(broken.listen(QHostAddress::LocalHost));
        connect(&broken, &QTcpServer::newConnection, &broken, [&broken] {
            while (QTcpSocket *s = broken.nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, s, [s] {
                    s->readAll();
                    s->write("HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
                             "Connection: close\r\n\r\nbad gateway");
                    s->disconnectFromHost();
                });
            }
        });
        ClientConfig brokenConfig = bad;
        brokenConfig.root = QStringLiteral("http://127.0.0.1:%1/").arg(broken.serverPort());
        const QString brokenPath = m_dir.filePath(QStringLiteral("broken.json"));
        QVERIFY(brokenConfig.save(brokenPath, &error));
        r = run(brokenPath, {QStringLiteral("list"), QStringLiteral("--retries"), QStringLiteral("0")});
        QCOMPARE(r.code, 6);
        QCOMPARE(r.err, QByteArray("schedy: server error (HTTP 502): bad gateway\n"));
        // Conflict.
        r = run(m_tables,
                {QStringLiteral("add"), QStringLiteral("MinimizeManual"), QStringLiteral("manual")});
        QCOMPARE(r.code, 7);
        QVERIFY(oneLine(r));
        // Help.
        r = run(m_tables, {QStringLiteral("--help")});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("Exit codes:"));
        r = run(m_tables, {QStringLiteral("run"), QStringLiteral("--help")});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.startsWith("Usage: schedy run"));
    }
};

QTEST_GUILESS_MAIN(tst_Cli)
#include "tst_cli.moc"
