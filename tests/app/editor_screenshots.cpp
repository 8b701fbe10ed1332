// Developer tool: the real dashboard with its embedded local server, seeded
// with realistic experiments, walks through the editors and saves a
// screenshot of the whole screen at each step (docs/screenshots/editor-*.png).
//
//   Xvfb :77 -screen 0 1280x800x24 &
//   HOME=$(mktemp -d) DISPLAY=:77 build/dev/tests/app/schedy-editor-screenshots docs/screenshots
//
// Each picture is taken with `import -window root` (ImageMagick), as a person
// would; without it the screen is grabbed through Qt.
#include "Client.h"
#include "Codec.h"
#include "ConnectionManager.h"
#include "DistributionEditor.h"
#include "ExperimentDialog.h"
#include "ExperimentListModel.h"
#include "ExperimentView.h"
#include "JobDialog.h"
#include "JobTableModel.h"
#include "Json.h"
#include "MainWindow.h"
#include "PbtSettingsEditor.h"
#include "ValueMapEditor.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QScreen>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>

#include <cmath>
#include <cstdio>
#include <functional>

using namespace schedy;
using Kind = Distribution::Kind;

namespace {

QString g_outDir;

[[noreturn]] void die(const QString &why)
{
    std::fprintf(stderr, "editor-screenshots: %s\n", qPrintable(why));
    std::exit(1);
}

void settle(int ms)
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms)
        QApplication::processEvents(QEventLoop::AllEvents, 20);
}

void waitFor(const std::function<bool()> &done, const QString &what, int ms = 30000)
{
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > ms)
            die(QStringLiteral("timed out waiting for ") + what);
        QApplication::processEvents(QEventLoop::AllEvents, 20);
    }
}

template <typename T> T *child(const QObject *root, const QString &name)
{
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    T *w = root->findChild<T *>(name);
    if (!w)
        die(QStringLiteral("no widget named ") + name);
    return w;
}

template <typename T> T *awaitChild(const QObject *root)
{
    T *w = nullptr;
    waitFor([&] { return (w = root->findChild<T *>()) != nullptr && w->isVisible(); },
            QStringLiteral("a dialog"));
    return w;
}

template <typename T> T result(Call<T> *call)
{
    call->setAutoDelete(false);
    waitFor([call] { return call->isFinished(); }, QStringLiteral("the server"));
    if (!call->ok())
        die(call->error().toString());
    T value = call->value();
    delete call;
    return value;
}

void shoot(const QString &name)
{
    settle(500);
    const QString path = QDir(g_outDir).filePath(QStringLiteral("editor-%1.png").arg(name));
    if (QProcess::execute(QStringLiteral("import"),
                          {QStringLiteral("-window"), QStringLiteral("root"), path}) != 0)
        QGuiApplication::primaryScreen()->grabWindow(0).save(path);
    std::printf("%s\n", qPrintable(path));
}

void set(QWidget *input, const QString &text)
{
    if (auto *e = qobject_cast<QLineEdit *>(input)) {
        e->setText(text);
        Q_EMIT e->textEdited(text);
    } else if (auto *p = qobject_cast<QPlainTextEdit *>(input)) {
        p->setPlainText(text);
    }
}

void choose(QComboBox *combo, int data)
{
    combo->setCurrentIndex(combo->findData(data));
}

void addRow(DistributionEditor *editor, const QString &name, Kind kind, const QStringList &args,
            const QStringList &weights = {})
{
    child<QPushButton>(editor, QStringLiteral("addButton"))->click();
    set(child<QLineEdit>(editor, QStringLiteral("nameEdit")), name);
    choose(child<QComboBox>(editor, QStringLiteral("kindCombo")), int(kind));
    switch (kind) {
    case Kind::Uniform:
    case Kind::LogUniform:
        set(child<QLineEdit>(editor, QStringLiteral("lowEdit")), args.value(0));
        set(child<QLineEdit>(editor, QStringLiteral("highEdit")), args.value(1));
        break;
    case Kind::Normal:
        set(child<QLineEdit>(editor, QStringLiteral("meanEdit")), args.value(0));
        set(child<QLineEdit>(editor, QStringLiteral("stdEdit")), args.value(1));
        break;
    case Kind::Choice:
        if (!weights.isEmpty())
            child<QCheckBox>(editor, QStringLiteral("weightedCheck"))->setChecked(true);
        for (int i = 0; i < args.size(); ++i) {
            if (i > 0)
                child<QPushButton>(editor, QStringLiteral("addValueButton"))->click();
            set(child<QLineEdit>(editor, QStringLiteral("choiceValue%1").arg(i)), args[i]);
            if (!weights.isEmpty())
                set(child<QLineEdit>(editor, QStringLiteral("choiceWeight%1").arg(i)), weights.value(i));
        }
        break;
    case Kind::Const:
        set(child<QPlainTextEdit>(editor, QStringLiteral("constEdit")), args.value(0));
        break;
    }
}

QCborValue parse(const char *text)
{
    return json::parse(QByteArray(text));
}

// Workers reporting, so that the experiments look used.
void seed(Client *client)
{
    const auto random = codec::decodeExperiment(parse(R"({"name": "MinimizeRandom", "status": "RUNNING",
        "scheduler": {"RandomSearch": {
          "x": {"normal": {"mean": 0.0, "std": 5.0}},
          "lr": {"loguniform": {"low": 1e-06, "high": 0.1}},
          "dropout": {"uniform": {"low": 0.0, "high": 0.8}},
          "layers": {"choice": {"values": [1, 2, 3, 4, 5]}},
          "activation": {"choice": {"values": ["relu", "tanh"], "weights": [3.0, 1.0]}},
          "optimizer": {"const": {"name": "sgd", "momentum": 0.9}}}}})"));
    const auto pbt = codec::decodeExperiment(parse(R"({"name": "MNIST with PBT", "status": "RUNNING",
        "scheduler": {"PBT": {
          "objective": "max", "qualityResultName": "max_accuracy", "numParallel": 20,
          "init": {"num_filters": {"choice": {"values": [2, 4, 8, 16, 32, 64, 128, 256]}},
                   "learning_rate": {"loguniform": {"low": 1e-08, "high": 1.0}},
                   "dropout_rate": {"uniform": {"low": 0.0, "high": 0.8}}},
          "exploit": {"truncate": 0.2},
          "explore": {"learning_rate": {"perturb": {"minFactor": 0.8, "maxFactor": 1.2}},
                      "dropout_rate": {"perturb": {"minFactor": 0.8, "maxFactor": 1.2}}},
          "maxGenerations": 10}}})"));
    result(client->createExperiment(random.value()));
    result(client->createExperiment(pbt.value()));
    for (int i = 0; i < 14; ++i) {
        const Job job = result(client->nextJob(QStringLiteral("MinimizeRandom")));
        const double x = json::toDouble(job.hyperparameters.value(QStringLiteral("x")));
        JobWrite w{i < 12 ? JobStatus::Done : JobStatus::Running, job.hyperparameters, {}};
        if (i < 12) {
            w.results.insert(QStringLiteral("loss"), QCborArray{x * x + 3.1, x * x + 1.4, x * x + 0.35});
            w.results.insert(QStringLiteral("val_loss"), x * x + 0.5);
        }
        result(
            client->putJob(QStringLiteral("MinimizeRandom"), job.id, w, WriteCondition::IfMatch, job.etag));
    }
    for (int i = 0; i < 20; ++i) {
        const Job job = result(client->nextJob(QStringLiteral("MNIST with PBT")));
        const double lr = json::toDouble(job.hyperparameters.value(QStringLiteral("learning_rate")));
        const double acc = 0.9 + 0.08 / (1 + std::abs(std::log10(lr) + 3));
        JobWrite w{JobStatus::Done, job.hyperparameters, {}};
        w.results.insert(QStringLiteral("accuracy"), QCborArray{acc - 0.1, acc - 0.03, acc});
        w.results.insert(QStringLiteral("max_accuracy"), acc);
        w.results.insert(QStringLiteral("weights_path"), QStringLiteral("models/%1.h5").arg(job.id));
        result(
            client->putJob(QStringLiteral("MNIST with PBT"), job.id, w, WriteCondition::IfMatch, job.etag));
    }
}

} // namespace

int main(int argc, char **argv)
{
    Q_INIT_RESOURCE(resources);
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("schedy"));
    QApplication::setOrganizationName(QStringLiteral("schedy"));
    QApplication::setApplicationDisplayName(QStringLiteral("Schedy"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/schedy.svg")));
    g_outDir = argc > 1 ? QString::fromLocal8Bit(argv[1]) : QStringLiteral("docs/screenshots");
    QDir().mkpath(g_outDir);

    ConnectionManager connections;
    MainWindow window(&connections);
    window.setAutoRefresh(false, 5);
    window.setGeometry(QGuiApplication::primaryScreen()->availableGeometry());
    window.show();
    connections.connectTo(ConnectionProfile::localName());
    waitFor([&] { return connections.state() == ConnectionManager::State::Connected; },
            QStringLiteral("the local server"));
    Client *client = connections.client();
    seed(client);
    window.refresh();
    waitFor([&] { return window.experimentModel()->rowCount() == 2; }, QStringLiteral("the experiments"));

    // 1. New experiment: random search with every kind of distribution.
    window.findChild<QAction *>(QStringLiteral("actionNewExperiment"))->trigger();
    auto *create = awaitChild<ExperimentDialog>(&window);
    set(child<QLineEdit>(create, QStringLiteral("nameEdit")), QStringLiteral("CIFAR-10 ResNet-20"));
    choose(child<QComboBox>(create, QStringLiteral("kindCombo")), int(Scheduler::Kind::RandomSearch));
    DistributionEditor *d = create->distributionEditor();
    addRow(d, QStringLiteral("learning_rate"), Kind::LogUniform,
           {QStringLiteral("1e-05"), QStringLiteral("0.1")});
    addRow(d, QStringLiteral("momentum"), Kind::Uniform, {QStringLiteral("0.8"), QStringLiteral("0.99")});
    addRow(d, QStringLiteral("weight_decay"), Kind::LogUniform,
           {QStringLiteral("1e-06"), QStringLiteral("0.001")});
    addRow(d, QStringLiteral("batch_size"), Kind::Choice,
           {QStringLiteral("64"), QStringLiteral("128"), QStringLiteral("256")},
           {QStringLiteral("1.0"), QStringLiteral("2.0"), QStringLiteral("1.0")});
    addRow(d, QStringLiteral("label_smoothing"), Kind::Normal,
           {QStringLiteral("0.1"), QStringLiteral("0.03")});
    addRow(d, QStringLiteral("augment"), Kind::Choice,
           {QStringLiteral("\"none\""), QStringLiteral("\"flip\""), QStringLiteral("\"autoaugment\"")});
    addRow(d, QStringLiteral("optimizer"), Kind::Const,
           {QStringLiteral("{\"name\": \"sgd\", \"nesterov\": true}")});
    d->setCurrentRow(0);
    shoot(QStringLiteral("new-random-search"));
    d->setCurrentRow(3);
    shoot(QStringLiteral("distribution-choice"));
    d->setCurrentRow(4);
    shoot(QStringLiteral("distribution-normal"));
    // Invalid input: the reason next to the field, Save disabled.
    set(child<QLineEdit>(create, QStringLiteral("nameEdit")), QStringLiteral("MinimizeRandom"));
    create->save();
    waitFor(
        [&] {
            return create->problems().contains(
                QStringLiteral("name: an experiment with this name already exists"));
        },
        QStringLiteral("the 412"));
    d->setCurrentRow(2);
    set(child<QLineEdit>(d, QStringLiteral("lowEdit")), QStringLiteral("0"));
    shoot(QStringLiteral("validation"));
    set(child<QLineEdit>(d, QStringLiteral("lowEdit")), QStringLiteral("1e-06"));
    set(child<QLineEdit>(create, QStringLiteral("nameEdit")), QStringLiteral("CIFAR-10 ResNet-20"));
    child<QTabWidget>(create, QStringLiteral("tabs"))->setCurrentIndex(1);
    shoot(QStringLiteral("json"));
    create->done(QDialog::Rejected); // without the discard question
    settle(200);

    // 2. Edit the PBT experiment; someone else changes it meanwhile.
    window.selectExperiment(QStringLiteral("MNIST with PBT"));
    ExperimentView *page = window.experimentPage();
    waitFor([&] { return page->jobModel()->rowCount() == 20; }, QStringLiteral("the PBT jobs"));
    child<QPushButton>(page, QStringLiteral("editButton"))->click();
    auto *edit = awaitChild<ExperimentDialog>(page);
    edit->pbtEditor()->initEditor()->setCurrentRow(1);
    shoot(QStringLiteral("pbt"));
    set(child<QLineEdit>(edit->pbtEditor(), QStringLiteral("truncateEdit")), QStringLiteral("0.25"));
    Experiment theirs = page->experiment();
    theirs.jobCounts.reset();
    theirs.createdAt.reset();
    theirs.modifiedAt.reset();
    theirs.scheduler.pbt.numParallel = 32;
    theirs.scheduler.pbt.explore.append({QStringLiteral("num_filters"), 0.5, 2.0});
    result(client->updateExperiment(theirs));
    edit->save();
    waitFor([&] { return edit->hasConflict(); }, QStringLiteral("the conflict"));
    shoot(QStringLiteral("conflict"));
    edit->done(QDialog::Rejected); // without the discard question
    settle(200);

    // 3. Jobs by hand.
    window.selectExperiment(QStringLiteral("MinimizeRandom"));
    waitFor([&] { return page->jobModel()->rowCount() == 14; }, QStringLiteral("the random search jobs"));
    child<QPushButton>(page, QStringLiteral("queueButton"))->click();
    auto *queue = awaitChild<JobDialog>(page);
    ValueMapEditor *hp = queue->hyperparameterEditor();
    set(hp->valueInput(hp->rowOf(QStringLiteral("x"))), QStringLiteral("-0.25"));
    set(hp->valueInput(hp->rowOf(QStringLiteral("lr"))), QStringLiteral("0.3"));
    set(hp->valueInput(hp->rowOf(QStringLiteral("dropout"))), QStringLiteral("0.1"));
    qobject_cast<QComboBox *>(hp->valueInput(hp->rowOf(QStringLiteral("layers")))->parentWidget())
        ->setCurrentIndex(2);
    set(hp->valueInput(hp->rowOf(QStringLiteral("activation"))), QStringLiteral("relu"));
    const int note =
        queue->resultEditor()->addRow(QStringLiteral("note"), QStringLiteral("\"baseline by hand\""));
    Q_UNUSED(note);
    shoot(QStringLiteral("job-queue"));
    queue->done(QDialog::Rejected); // without the discard question
    settle(200);

    auto *table = child<QTableView>(page, QStringLiteral("jobView"));
    table->selectRow(2);
    table->findChild<QAction *>(QStringLiteral("editJobAction"))->trigger();
    auto *jobEdit = awaitChild<JobDialog>(page);
    waitFor([&] { return jobEdit->saveButton()->isEnabled(); }, QStringLiteral("the job"));
    choose(child<QComboBox>(jobEdit, QStringLiteral("statusCombo")), int(JobStatus::Pruned));
    jobEdit->resultEditor()->addRow(QStringLiteral("pruned_because"), QStringLiteral("\"val_loss plateau\""));
    shoot(QStringLiteral("job-edit"));
    jobEdit->done(QDialog::Rejected); // without the discard question
    settle(200);

    // 4. Duplicate an experiment's definition.
    child<QPushButton>(page, QStringLiteral("duplicateButton"))->click();
    auto *duplicate = awaitChild<ExperimentDialog>(page);
    duplicate->distributionEditor()->setCurrentRow(1);
    shoot(QStringLiteral("duplicate"));
    duplicate->done(QDialog::Rejected); // without the discard question
    settle(200);
    return 0;
}
