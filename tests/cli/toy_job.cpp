// A stand-in training program for the tests of `schedy run`.
//   toy_job succeed HPS JOB       prints noise and one results block
//   toy_job fail                  prints a results block, then exits with 3
//   toy_job noresults             prints text only
//   toy_job badresults            a block with a line that is not JSON
//   toy_job intermediate DIR      a block, "waiting", waits for DIR/go, a second block
//   toy_job signal DIR            "ready", then waits for SIGINT/SIGTERM and writes DIR/signal
//   toy_job stubborn              a block, "ready", then ignores SIGTERM until killed
//   toy_job curve DIR             a block with a one-point curve (loss [0.9]), then as `signal`
//   toy_job pbt HPS RESULTS       loss from the hyperparameter lr; step = previous step + 1
#include "Json.h"

#include <QByteArray>
#include <QCborMap>
#include <QFile>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>
#include <unistd.h>

using namespace schedy;

namespace {

volatile std::sig_atomic_t gotSignal = 0;
void onSignal(int s)
{
    gotSignal = s;
}

void say(const char *text)
{
    std::fputs(text, stdout);
    std::fflush(stdout);
}

bool waitForFile(const QString &path)
{
    // A helper program may poll: the test itself never sleeps.
    for (int i = 0; i < 60000 / 5; ++i) {
        if (QFile::exists(path))
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2)
        return 64;
    const QByteArray mode = argv[1];
    if (mode == "succeed" && argc >= 4) {
        const QCborMap hps = json::parse(argv[2]).toMap();
        const double x = json::toDouble(hps.value(QStringLiteral("x")));
        std::printf("training job %s\n", argv[3]);
        std::printf("--- RESULTS ---\n");
        std::printf("{\"loss\": %s, \"curve\": [3, 2.5]}\n",
                    json::formatDouble((x - 1) * (x - 1)).toUtf8().constData());
        std::printf("  epochs: 2\n");
        std::printf("note: \"done\"\n");
        std::printf("--- END RESULTS ---\n");
        std::printf("bye\n");
        return 0;
    }
    if (mode == "fail") {
        say("--- RESULTS ---\nloss: 0.75\n--- END RESULTS ---\nTraceback: something broke\n");
        return 3;
    }
    if (mode == "noresults") {
        say("I forgot to print results\n");
        return 0;
    }
    if (mode == "badresults") {
        say("--- RESULTS ---\nloss: 0.5\npath: models/a.h5\n--- END RESULTS ---\n");
        return 0;
    }
    if (mode == "intermediate" && argc >= 3) {
        const QString dir = QString::fromLocal8Bit(argv[2]);
        say("--- RESULTS ---\n{\"epoch\": 1, \"loss\": [0.9]}\n--- END RESULTS ---\nwaiting\n");
        if (!waitForFile(dir + QStringLiteral("/go")))
            return 70;
        say("--- RESULTS ---\nepoch: 2\nloss: [0.9, 0.4]\n--- END RESULTS ---\n");
        return 0;
    }
    if ((mode == "signal" || mode == "curve") && argc >= 3) {
        std::signal(SIGINT, onSignal);
        std::signal(SIGTERM, onSignal);
        say(mode == "curve" ? "--- RESULTS ---\nepoch: 1\nloss: [0.9]\n--- END RESULTS ---\nready\n"
                            : "--- RESULTS ---\nepoch: 1\n--- END RESULTS ---\nready\n");
        while (!gotSignal)
            ::pause();
        QFile f(QString::fromLocal8Bit(argv[2]) + QStringLiteral("/signal"));
        if (f.open(QIODevice::WriteOnly))
            f.write(QByteArray::number(int(gotSignal)));
        return 1;
    }
    if (mode == "stubborn") { // a block, then SIGTERM ignored: only SIGKILL ends it
        std::signal(SIGTERM, SIG_IGN);
        say("--- RESULTS ---\nepoch: 1\n--- END RESULTS ---\nready\n");
        for (;;)
            ::pause();
    }
    if (mode == "pbt" && argc >= 4) {
        const QCborMap hps = json::parse(argv[2]).toMap();
        const QCborMap results = json::parse(argv[3]).toMap();
        const double lr = json::toDouble(hps.value(QStringLiteral("lr")));
        const qint64 step = results.value(QStringLiteral("step")).toInteger(0) + 1;
        std::printf("--- RESULTS ---\n{\"step\": %lld, \"loss\": %s}\n--- END RESULTS ---\n", (long long)step,
                    json::formatDouble((lr - 0.3) * (lr - 0.3) / double(step)).toUtf8().constData());
        return 0;
    }
    return 64;
}
