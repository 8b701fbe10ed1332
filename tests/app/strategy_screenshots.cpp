// Developer tool: the experiment editor's Strategy tab, as docs/screenshots/
// editor-strategy*.png show it. Each picture is the whole screen, taken with
// `import -window root` (ImageMagick):
//
//   xvfb-run -s '-screen 0 1280x800x24' build/ci/tests/app/schedy-strategy-screenshots docs/screenshots
#include "Codec.h"
#include "ExperimentDialog.h"
#include "Json.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QTabWidget>

#include <cstdio>

using namespace schedy;

namespace {

void settle()
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < 400)
        QApplication::processEvents(QEventLoop::AllEvents, 50);
}

void shoot(const QString &dir, const QString &name)
{
    settle();
    const QString path = QDir(dir).filePath(name);
    if (QProcess::execute(QStringLiteral("import"),
                          {QStringLiteral("-window"), QStringLiteral("root"), path}) != 0)
        std::fprintf(stderr, "strategy-screenshots: import failed for %s\n", qPrintable(path));
}

Experiment experiment(const char *text)
{
    const auto e = codec::decodeExperiment(json::parse(text));
    if (!e)
        qFatal("%s", qPrintable(e.error().message()));
    return e.value();
}

void show(ExperimentDialog &dialog, const Experiment &e, const QString &tab)
{
    dialog.setExperiment(e);
    dialog.setResultNameSuggestions(
        {QStringLiteral("loss"), QStringLiteral("accuracy"), QStringLiteral("epoch")});
    dialog.resize(1180, 760);
    dialog.move(40, 10);
    dialog.show();
    auto *tabs = dialog.findChild<QTabWidget *>(QStringLiteral("tabs"));
    for (int i = 0; i < tabs->count(); ++i) {
        if (tabs->tabText(i).startsWith(tab))
            tabs->setCurrentIndex(i);
    }
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    const QString dir = argc > 1 ? QString::fromLocal8Bit(argv[1]) : QStringLiteral(".");
    {
        ExperimentDialog dialog(nullptr, ExperimentDialog::Mode::Edit);
        show(dialog, experiment(R"({"name": "MNIST CNN", "status": "RUNNING", "scheduler": {"RandomSearch": {
            "lr": {"loguniform": {"low": 1e-05, "high": 0.1}},
            "dropout": {"uniform": {"low": 0.0, "high": 0.5}},
            "layers": {"choice": {"values": [1, 2, 3]}}}},
            "sampler": {"kind": "tpe", "result": "loss", "direction": "minimize"},
            "pruner": {"kind": "asha", "result": "loss", "direction": "minimize"},
            "lease": {"seconds": 600}})"),
             QStringLiteral("Strategy"));
        shoot(dir, QStringLiteral("editor-strategy.png"));
        show(dialog, dialog.experiment(), QStringLiteral("JSON"));
        shoot(dir, QStringLiteral("editor-strategy-json.png"));
    }
    {
        ExperimentDialog dialog(nullptr, ExperimentDialog::Mode::Edit);
        show(dialog, experiment(R"({"name": "Grid", "status": "RUNNING", "scheduler": {"RandomSearch": {
            "lr": {"loguniform": {"low": 1e-05, "high": 0.1}},
            "dropout": {"uniform": {"low": 0.0, "high": 0.5}},
            "activation": {"choice": {"values": ["relu", "tanh", "gelu"]}}}},
            "sampler": {"kind": "grid", "steps": {"lr": 5, "dropout": 4}},
            "pruner": {"kind": "median", "result": "loss", "direction": "minimize", "warmupSteps": 2}})"),
             QStringLiteral("Strategy"));
        shoot(dir, QStringLiteral("editor-strategy-grid.png"));
    }
    return 0;
}
