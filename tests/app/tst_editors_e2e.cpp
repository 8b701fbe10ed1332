// The editors against a live server: one experiment of each kind created
// through the dialog and read back with the client; a taken name reported
// inline; edits that meet a concurrent change (experiments and jobs by ETag:
// the server refuses the save, the conflict panel shows theirs beside what was
// typed); duplicates; and the wiring in the dashboard's window.
#include "Client.h"
#include "ConnectionManager.h"
#include "EditorTestSupport.h"
#include "ExperimentDialog.h"
#include "ExperimentListModel.h"
#include "ExperimentView.h"
#include "JobDialog.h"
#include "JobTableModel.h"
#include "MainWindow.h"
#include "PbtSettingsEditor.h"
#include "SqlStore.h"
#include "TestServer.h"
#include "ValueMapEditor.h"

#include <QAction>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>

#include <memory>

using namespace schedy;
using namespace schedy::test;

namespace {

template <typename T> std::unique_ptr<Call<T>> await(Call<T> *call, int timeoutMs = 20000)
{
    call->setAutoDelete(false);
    std::unique_ptr<Call<T>> owned(call);
    if (!call->isFinished()) {
        QSignalSpy spy(call, &CallBase::finished);
        spy.wait(timeoutMs);
    }
    return owned;
}

Experiment randomSearch(const QString &name)
{
    Experiment e;
    e.name = name;
    e.scheduler.kind = Scheduler::Kind::RandomSearch;
    e.scheduler.distributions = {{QStringLiteral("lr"), Distribution::logUniform(1e-05, 0.1)},
                                 {QStringLiteral("layers"), Distribution::choice(QCborArray{1, 2, 3})}};
    return e;
}

// Clicks Save and waits for the dialog to be done with the server.
bool saveAndWait(QDialog *dialog, QPushButton *save)
{
    QSignalSpy finished(dialog, &QDialog::finished);
    click(save);
    return finished.wait(20000);
}

} // namespace

class TestEditorsE2e : public QObject
{
    Q_OBJECT

    TestServer m_server;
    ClientConfig m_config;
    std::unique_ptr<Client> m_client;
    QTemporaryDir m_dir;

    Experiment read(const QString &name)
    {
        auto call = await(m_client->experiment(name));
        if (!call->ok())
            qFatal("reading %s: %s", qPrintable(name), qPrintable(call->error().toString()));
        return call->value();
    }

    Job readJob(const QString &experiment, const QString &id)
    {
        auto call = await(m_client->job(experiment, id));
        if (!call->ok())
            qFatal("reading job %s: %s", qPrintable(id), qPrintable(call->error().toString()));
        return call->value();
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("schedy-tests"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_editors_e2e"));
        QVERIFY(m_dir.isValid());
        QString error;
        QVERIFY2(m_server.start(&error), qPrintable(error));
        m_config = m_server.addUser(QStringLiteral("editors@example.com"));
        m_client = std::make_unique<Client>(m_config);
    }

    void createEachKind_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<QByteArray>("scheduler"); // as the server stores it
        QTest::newRow("manual") << int(Scheduler::Kind::Manual) << QByteArray(R"({"Manual":null})");
        QTest::newRow("random search")
            << int(Scheduler::Kind::RandomSearch)
            << QByteArray(
                   R"({"RandomSearch":{"lr":{"loguniform":{"low":1e-06,"high":0.1}},)"
                   R"("dropout":{"uniform":{"low":0.0,"high":0.8}},"x":{"normal":{"mean":0.0,"std":5.0}},)"
                   R"("activation":{"choice":{"values":["relu","tanh"],"weights":[3.0,1.0]}},)"
                   R"("optimizer":{"const":{"name":"sgd","momentum":0.9}}}})");
        QTest::newRow("pbt")
            << int(Scheduler::Kind::Pbt)
            << QByteArray(R"({"PBT":{"objective":"min","qualityResultName":"val_loss",)"
                          R"("exploit":{"truncate":0.25},)"
                          R"("explore":{"learning_rate":{"perturb":{"minFactor":0.8,"maxFactor":1.2}}},)"
                          R"("init":{"learning_rate":{"loguniform":{"low":1e-08,"high":1.0}},)"
                          R"("num_filters":{"choice":{"values":[16,32,64]}}},)"
                          R"("numParallel":8,"maxGenerations":5,"max_generations":5}})");
    }

    void createEachKind()
    {
        QFETCH(int, kind);
        QFETCH(QByteArray, scheduler);
        const QString name = QStringLiteral("created %1 ✓").arg(QString::fromLatin1(QTest::currentDataTag()));
        ExperimentDialog dialog(m_client.get(), ExperimentDialog::Mode::Create);
        dialog.show();
        // Fresh: a grey hint, no error, until something is typed.
        QCOMPARE(dialog.message(), S("Name the experiment to create it."));
        QVERIFY(find<QLabel>(&dialog, S("nameError"))->isHidden());
        QVERIFY(!dialog.saveButton()->isEnabled());
        retype(find<QLineEdit>(&dialog, QStringLiteral("nameEdit")), name);
        choose(find<QComboBox>(&dialog, QStringLiteral("kindCombo")), kind);
        if (Scheduler::Kind(kind) == Scheduler::Kind::Manual)
            choose(find<QComboBox>(&dialog, QStringLiteral("statusCombo")), int(ExperimentStatus::Done));
        if (Scheduler::Kind(kind) == Scheduler::Kind::RandomSearch) {
            DistributionEditor &d = *dialog.distributionEditor();
            fill(d, S("lr"), Kind::LogUniform, L({"1e-06", "0.1"}));
            fill(d, S("dropout"), Kind::Uniform, L({"0.0", "0.8"}));
            fill(d, S("x"), Kind::Normal, L({"0", "5"}));
            fill(d, S("activation"), Kind::Choice, L({"\"relu\"", "\"tanh\""}), L({"3", "1"}));
            fill(d, S("optimizer"), Kind::Const, L({R"({"name": "sgd", "momentum": 0.9})"}));
        }
        if (Scheduler::Kind(kind) == Scheduler::Kind::Pbt) {
            PbtSettingsEditor *p = dialog.pbtEditor();
            // What is missing is named as the form labels it, not by its wire path.
            QVERIFY2(dialog.saveButton()->toolTip().startsWith(
                         S("To create it, first:\nQuality result: must not be empty")),
                     qPrintable(dialog.saveButton()->toolTip()));
            choose(find<QComboBox>(p, QStringLiteral("objectiveCombo")), int(Objective::Minimize));
            retype(find<QComboBox>(p, QStringLiteral("qualityCombo"))->lineEdit(), S("val_loss"));
            retype(find<QLineEdit>(p, QStringLiteral("truncateEdit")), S("0.25"));
            retype(find<QSpinBox>(p, QStringLiteral("populationSpin")), S("8"));
            retype(find<QSpinBox>(p, QStringLiteral("generationsSpin")), S("5"));
            fill(*p->initEditor(), S("learning_rate"), Kind::LogUniform, L({"1e-08", "1.0"}));
            fill(*p->initEditor(), S("num_filters"), Kind::Choice, L({"16", "32", "64"}));
            click(find<QPushButton>(p, QStringLiteral("addExploreButton")));
            retype(find<QLineEdit>(p, QStringLiteral("exploreName0")), S("learning_rate"));
        }
        QVERIFY2(dialog.saveButton()->isEnabled(), qPrintable(dialog.problems().join(QLatin1Char('\n'))));
        QSignalSpy saved(&dialog, &ExperimentDialog::saved);
        QVERIFY(saveAndWait(&dialog, dialog.saveButton()));
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(saved.count(), 1);

        const Experiment back = read(name);
        QCOMPARE(back.name, name);
        QCOMPARE(json::write(codec::encode(back.scheduler)), scheduler);
        QCOMPARE(back.scheduler, dialog.experiment().scheduler);
        QCOMPARE(int(back.status),
                 int(Scheduler::Kind(kind) == Scheduler::Kind::Manual ? ExperimentStatus::Done
                                                                      : ExperimentStatus::Running));
        QCOMPARE(dialog.savedExperiment().name, name);
        // And it loads back into the editors unchanged.
        ExperimentDialog again(m_client.get(), ExperimentDialog::Mode::Edit);
        again.setExperiment(back);
        QCOMPARE(again.experiment().scheduler, back.scheduler);
        QVERIFY(again.problems().isEmpty());
    }

    void takenNameIsReportedInline()
    {
        Experiment taken = randomSearch(QStringLiteral("taken"));
        QVERIFY(await(m_client->createExperiment(taken))->ok());
        ExperimentDialog dialog(m_client.get(), ExperimentDialog::Mode::Create);
        dialog.show();
        retype(find<QLineEdit>(&dialog, QStringLiteral("nameEdit")), S("taken"));
        QVERIFY(dialog.saveButton()->isEnabled());
        click(dialog.saveButton());
        QTRY_COMPARE_WITH_TIMEOUT(errorText(&dialog, QStringLiteral("nameError")),
                                  S("an experiment with this name already exists"), 20000);
        QVERIFY(dialog.isVisible());
        QVERIFY(!dialog.saveButton()->isEnabled());
        QCOMPARE(int(read(S("taken")).scheduler.kind), int(Scheduler::Kind::RandomSearch)); // untouched
        retype(find<QLineEdit>(&dialog, QStringLiteral("nameEdit")), S("taken 2"));
        QCOMPARE(errorText(&dialog, QStringLiteral("nameError")), QString());
        QVERIFY(saveAndWait(&dialog, dialog.saveButton()));
        QCOMPARE(int(read(S("taken 2")).scheduler.kind), int(Scheduler::Kind::Manual));
    }

    void editShowsConcurrentChanges()
    {
        const QString name = S("shared");
        QVERIFY(await(m_client->createExperiment(randomSearch(name)))->ok());
        const Experiment opened = read(name);
        ExperimentDialog dialog(m_client.get(), ExperimentDialog::Mode::Edit);
        dialog.setExperiment(opened);
        dialog.show();
        QVERIFY(find<QLineEdit>(&dialog, QStringLiteral("nameEdit"))->isReadOnly());

        // Someone else pauses it and adds a hyperparameter meanwhile.
        Experiment theirs = opened;
        theirs.jobCounts.reset();
        theirs.status = ExperimentStatus::Done;
        theirs.scheduler.distributions.append({S("momentum"), Distribution::uniform(0.5, 0.99)});
        QVERIFY(await(m_client->updateExperiment(theirs))->ok());

        // Our edit: lr's high bound.
        DistributionEditor *d = dialog.distributionEditor();
        d->setCurrentRow(0);
        retype(find<QLineEdit>(d, QStringLiteral("highEdit")), S("0.5"));
        click(dialog.saveButton());
        QTRY_VERIFY_WITH_TIMEOUT(dialog.hasConflict(), 20000);
        QVERIFY(dialog.isVisible());
        QCOMPARE(dialog.conflictChanges(),
                 (QStringList{
                     S("status: \"RUNNING\" → \"DONE\""),
                     S("scheduler.RandomSearch.momentum: added {\"uniform\":{\"low\":0.5,\"high\":0.99}}")}));
        QVERIFY(find<QFrame>(&dialog, QStringLiteral("conflictPanel"))->isVisible());
        QVERIFY(!dialog.saveButton()->isEnabled());
        Experiment now = read(name); // nothing was overwritten
        QCOMPARE(int(now.status), int(ExperimentStatus::Done));
        QCOMPARE(now.scheduler.distributions.size(), 3);
        QCOMPARE(now.scheduler.distributions[0].distribution.high, 0.1);

        // Load theirs: the form shows their state; our next save goes through.
        click(find<QPushButton>(&dialog, QStringLiteral("reloadButton")));
        QVERIFY(!dialog.hasConflict());
        QCOMPARE(d->names(), (QStringList{S("lr"), S("layers"), S("momentum")}));
        QCOMPARE(find<QComboBox>(&dialog, QStringLiteral("statusCombo"))->currentData().toInt(),
                 int(ExperimentStatus::Done));
        d->setCurrentRow(0);
        retype(find<QLineEdit>(d, QStringLiteral("highEdit")), S("0.5"));
        QVERIFY(saveAndWait(&dialog, dialog.saveButton()));
        now = read(name);
        QCOMPARE(now.scheduler.distributions.size(), 3);
        QCOMPARE(now.scheduler.distributions[0].distribution.high, 0.5);
        QCOMPARE(int(now.status), int(ExperimentStatus::Done));

        // Overwrite deliberately.
        ExperimentDialog second(m_client.get(), ExperimentDialog::Mode::Edit);
        second.setExperiment(now);
        second.show();
        Experiment again = now;
        again.jobCounts.reset();
        again.status = ExperimentStatus::Running;
        QVERIFY(await(m_client->updateExperiment(again))->ok());
        choose(find<QComboBox>(&second, QStringLiteral("kindCombo")), int(Scheduler::Kind::Manual));
        click(second.saveButton());
        QTRY_VERIFY_WITH_TIMEOUT(second.hasConflict(), 20000);
        QCOMPARE(second.conflictChanges(), QStringList{S("status: \"DONE\" → \"RUNNING\"")});
        QSignalSpy finished(&second, &QDialog::finished);
        click(find<QPushButton>(&second, QStringLiteral("overwriteButton")));
        QVERIFY(finished.wait(20000));
        now = read(name);
        QCOMPARE(int(now.scheduler.kind), int(Scheduler::Kind::Manual));
        QCOMPARE(int(now.status), int(ExperimentStatus::Done)); // ours, deliberately

        // The experiment deleted meanwhile: said so, nothing recreated.
        ExperimentDialog third(m_client.get(), ExperimentDialog::Mode::Edit);
        third.setExperiment(now);
        third.show();
        QVERIFY(await(m_client->deleteExperiment(name))->ok());
        click(third.saveButton());
        QTRY_VERIFY_WITH_TIMEOUT(third.message().contains(S("no longer exists")), 20000);
        QCOMPARE(await(m_client->experiment(name))->error().httpStatus, 404);
    }

    // The dialog saves with the ETag of what it showed: a change made after that is
    // refused by the server (412), shown in the conflict panel, and the form keeps
    // everything the user typed; overwriting saves exactly that.
    void editConflictKeepsWhatWasTyped()
    {
        const QString name = S("etag conflict");
        QVERIFY(await(m_client->createExperiment(randomSearch(name)))->ok());
        const Experiment opened = read(name);
        QVERIFY(!opened.etag.isEmpty());
        ExperimentDialog dialog(m_client.get(), ExperimentDialog::Mode::Edit);
        dialog.setExperiment(opened);
        dialog.show();

        // Ours: paused, lr's high bound 0.5.
        choose(find<QComboBox>(&dialog, QStringLiteral("statusCombo")), int(ExperimentStatus::Done));
        DistributionEditor *d = dialog.distributionEditor();
        d->setCurrentRow(0);
        retype(find<QLineEdit>(d, QStringLiteral("highEdit")), S("0.5"));
        // Theirs, saved first: a new hyperparameter.
        Experiment theirs = opened;
        theirs.scheduler.distributions.append({S("momentum"), Distribution::uniform(0.5, 0.99)});
        auto saved = await(m_client->updateExperiment(theirs, WriteCondition::IfMatch));
        QVERIFY2(saved->ok(), qPrintable(saved->error().toString()));
        const QByteArray theirEtag = saved->value().etag;

        QSignalSpy accepted(&dialog, &ExperimentDialog::saved);
        click(dialog.saveButton());
        QTRY_VERIFY_WITH_TIMEOUT(dialog.hasConflict(), 20000);
        QCOMPARE(accepted.count(), 0);
        QVERIFY(dialog.isVisible());
        QCOMPARE(dialog.conflictChanges(),
                 QStringList{
                     S("scheduler.RandomSearch.momentum: added {\"uniform\":{\"low\":0.5,\"high\":0.99}}")});
        QVERIFY(find<QFrame>(&dialog, QStringLiteral("conflictPanel"))->isVisible());
        QVERIFY(find<QLabel>(&dialog, QStringLiteral("conflictText"))->text().contains(S("412")));
        QVERIFY(!dialog.saveButton()->isEnabled());
        // Nothing of theirs was overwritten, nothing of ours was lost.
        Experiment now = read(name);
        QCOMPARE(now.etag, theirEtag);
        QCOMPARE(now.scheduler.distributions.size(), 3);
        QCOMPARE(int(now.status), int(ExperimentStatus::Running));
        QCOMPARE(find<QComboBox>(&dialog, QStringLiteral("statusCombo"))->currentData().toInt(),
                 int(ExperimentStatus::Done));
        QCOMPARE(d->names(), (QStringList{S("lr"), S("layers")}));
        QCOMPARE(dialog.experiment().scheduler.distributions[0].distribution.high, 0.5);

        // Save mine anyway: exactly what was typed, over their version only.
        QSignalSpy finished(&dialog, &QDialog::finished);
        click(find<QPushButton>(&dialog, QStringLiteral("overwriteButton")));
        QVERIFY(finished.wait(20000));
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        now = read(name);
        QCOMPARE(int(now.status), int(ExperimentStatus::Done));
        QCOMPARE(now.scheduler.distributions.size(), 2);
        QCOMPARE(now.scheduler.distributions[0].distribution.high, 0.5);
        QCOMPARE(dialog.savedExperiment().etag, now.etag);
        QVERIFY(now.etag != theirEtag);
    }

    // Overwrite saves over the version the panel showed, not blindly: a third change
    // made meanwhile is one more conflict.
    void overwriteIsGuardedToo()
    {
        const QString name = S("etag overwrite");
        QVERIFY(await(m_client->createExperiment(randomSearch(name)))->ok());
        const Experiment opened = read(name);
        ExperimentDialog dialog(m_client.get(), ExperimentDialog::Mode::Edit);
        dialog.setExperiment(opened);
        dialog.show();
        choose(find<QComboBox>(&dialog, QStringLiteral("kindCombo")), int(Scheduler::Kind::Manual));
        Experiment theirs = opened;
        theirs.status = ExperimentStatus::Done;
        QVERIFY(await(m_client->updateExperiment(theirs))->ok());
        click(dialog.saveButton());
        QTRY_VERIFY_WITH_TIMEOUT(dialog.hasConflict(), 20000);
        QCOMPARE(dialog.conflictChanges(), QStringList{S("status: \"RUNNING\" → \"DONE\"")});

        // A third person resumes it while the panel is shown.
        theirs.status = ExperimentStatus::Running;
        QVERIFY(await(m_client->updateExperiment(theirs))->ok());
        click(find<QPushButton>(&dialog, QStringLiteral("overwriteButton")));
        QTRY_VERIFY_WITH_TIMEOUT(dialog.hasConflict(), 20000);
        QVERIFY(dialog.isVisible());
        QCOMPARE(dialog.conflictChanges(), QStringList{S("status: \"DONE\" → \"RUNNING\"")});
        QCOMPARE(int(read(name).scheduler.kind), int(Scheduler::Kind::RandomSearch));
        QCOMPARE(int(dialog.experiment().scheduler.kind), int(Scheduler::Kind::Manual)); // still ours

        // Load theirs: the form shows the server's version, and saves over it.
        click(find<QPushButton>(&dialog, QStringLiteral("reloadButton")));
        QVERIFY(!dialog.hasConflict());
        QCOMPARE(int(dialog.experiment().scheduler.kind), int(Scheduler::Kind::RandomSearch));
        QCOMPARE(int(dialog.experiment().status), int(ExperimentStatus::Running));
        choose(find<QComboBox>(&dialog, QStringLiteral("statusCombo")), int(ExperimentStatus::Done));
        QVERIFY(saveAndWait(&dialog, dialog.saveButton()));
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(int(read(name).status), int(ExperimentStatus::Done));
    }

    // Opened on a version without its ETag (as a listing gives it), the dialog reads
    // the experiment before saving; a change landing between that read and the PUT
    // (the window the comparison alone left open) is refused, not overwritten.
    void changeBetweenReadAndSaveIsRefused()
    {
        const QString name = S("etag window");
        QVERIFY(await(m_client->createExperiment(randomSearch(name)))->ok());
        Experiment opened = read(name);
        opened.etag.clear();
        ExperimentDialog dialog(m_client.get(), ExperimentDialog::Mode::Edit);
        dialog.setExperiment(opened);
        dialog.show();
        choose(find<QComboBox>(&dialog, QStringLiteral("statusCombo")), int(ExperimentStatus::Done));

        // Theirs lands in the store the moment the dialog's read has been answered,
        // before its PUT goes out (straight into the store: no event loop runs here).
        server::SqlStore *store = m_server.server()->store();
        const auto user = store->userByEmail(m_config.email);
        QVERIFY(user.ok());
        Experiment theirs = opened;
        theirs.scheduler.distributions.removeLast();
        bool changed = false;
        QNetworkAccessManager *nam = m_client->networkAccessManager();
        const QMetaObject::Connection hook =
            connect(nam, &QNetworkAccessManager::finished, this, [&](QNetworkReply *reply) {
                // The client sends every request as a custom one: its verb is an attribute.
                const QByteArray verb =
                    reply->request().attribute(QNetworkRequest::CustomVerbAttribute).toByteArray();
                if (changed || verb != "GET" || !reply->url().path().endsWith(S("/experiments/etag window/")))
                    return;
                changed = true;
                QVERIFY(store->putExperiment(user.value.id, theirs, server::Condition::None, {}).ok());
            });
        click(dialog.saveButton());
        QTRY_VERIFY_WITH_TIMEOUT(dialog.hasConflict(), 20000);
        disconnect(hook);
        QVERIFY(changed);
        QCOMPARE(
            dialog.conflictChanges(),
            QStringList{S("scheduler.RandomSearch.layers: removed (was {\"choice\":{\"values\":[1,2,3]}})")});
        const Experiment now = read(name);
        QCOMPARE(now.scheduler.distributions.size(), 1);
        QCOMPARE(int(now.status), int(ExperimentStatus::Running));
        QCOMPARE(int(dialog.experiment().status), int(ExperimentStatus::Done));
        QCOMPARE(dialog.experiment().scheduler.distributions.size(), 2);
    }

    void duplicateUnderNewName()
    {
        Experiment source = randomSearch(S("to copy"));
        source.scheduler.kind = Scheduler::Kind::Pbt;
        source.scheduler.pbt.qualityResultName = S("acc");
        source.scheduler.pbt.init = source.scheduler.distributions;
        source.scheduler.pbt.explore = {{S("lr"), 0.5, 2.0}};
        source.scheduler.pbt.numParallel = 4;
        QVERIFY(await(m_client->createExperiment(source))->ok());
        ExperimentDialog dialog(m_client.get(), ExperimentDialog::Mode::Duplicate);
        dialog.setExperiment(read(S("to copy")));
        dialog.show();
        QCOMPARE(find<QLineEdit>(&dialog, QStringLiteral("nameEdit"))->text(), S("to copy copy"));
        retype(find<QLineEdit>(&dialog, QStringLiteral("nameEdit")), S("to copy"));
        click(dialog.saveButton());
        QTRY_COMPARE_WITH_TIMEOUT(errorText(&dialog, QStringLiteral("nameError")),
                                  S("an experiment with this name already exists"), 20000);
        retype(find<QLineEdit>(&dialog, QStringLiteral("nameEdit")), S("copied"));
        QVERIFY(saveAndWait(&dialog, dialog.saveButton()));
        QCOMPARE(read(S("copied")).scheduler, read(S("to copy")).scheduler);
    }

    void jobsByHand()
    {
        const QString name = S("by hand");
        QVERIFY(await(m_client->createExperiment(randomSearch(name)))->ok());
        const Experiment experiment = read(name);

        // Queue one with typed values and a result.
        JobDialog queue(m_client.get(), experiment, JobDialog::Mode::Queue);
        queue.show();
        ValueMapEditor *hp = queue.hyperparameterEditor();
        QCOMPARE(hp->rowCount(), 2);
        retype(hp->valueInput(hp->rowOf(S("lr"))), S("0.003"));
        auto *layers = qobject_cast<QComboBox *>(hp->valueInput(hp->rowOf(S("layers")))->parentWidget());
        QVERIFY(layers);
        layers->setCurrentIndex(1);
        click(find<QPushButton>(queue.resultEditor(), QStringLiteral("addButton")));
        retype(queue.resultEditor()->nameInput(0), S("note"));
        retype(queue.resultEditor()->valueInput(0), S("\"by hand\""));
        QVERIFY(saveAndWait(&queue, queue.saveButton()));
        const Job queued = queue.savedJob();
        QVERIFY(!queued.id.isEmpty());
        Job stored = readJob(name, queued.id);
        QCOMPARE(
            json::write(codec::encode(JobWrite{stored.status, stored.hyperparameters, stored.results})),
            QByteArray(
                R"({"status":"QUEUED","hyperparameters":{"lr":0.003,"layers":2},"results":{"note":"by hand"}})"));

        // Duplicate it as a new job.
        JobDialog duplicate(m_client.get(), experiment, JobDialog::Mode::Duplicate);
        duplicate.setJob(stored);
        duplicate.show();
        retype(duplicate.hyperparameterEditor()->valueInput(0), S("0.004"));
        QVERIFY(saveAndWait(&duplicate, duplicate.saveButton()));
        QVERIFY(duplicate.savedJob().id != queued.id);
        const Job copy = readJob(name, duplicate.savedJob().id);
        QCOMPARE(copy.hyperparameters.value(S("lr")).toDouble(), 0.004);
        QCOMPARE(copy.hyperparameters.value(S("layers")).toInteger(), 2);
        QCOMPARE(int(copy.status), int(JobStatus::Queued));
        QVERIFY(copy.results.isEmpty());

        // Edit: fetched first for its ETag, then PUT with If-Match.
        JobDialog edit(m_client.get(), experiment, JobDialog::Mode::Edit);
        edit.setJob(stored);
        edit.show();
        QVERIFY(!edit.saveButton()->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(edit.saveButton()->isEnabled(), 20000);
        QCOMPARE(edit.etag(), stored.etag);
        choose(find<QComboBox>(&edit, QStringLiteral("statusCombo")), int(JobStatus::Pruned));
        const int row = edit.resultEditor()->addRow();
        retype(edit.resultEditor()->nameInput(row), S("loss"));
        retype(edit.resultEditor()->valueInput(row), S("[0.9, 0.7]"));
        QVERIFY(saveAndWait(&edit, edit.saveButton()));
        QCOMPARE(edit.result(), int(QDialog::Accepted));
        Job pruned = readJob(name, queued.id);
        QCOMPARE(int(pruned.status), int(JobStatus::Pruned));
        QCOMPARE(json::write(pruned.results), QByteArray(R"({"note":"by hand","loss":[0.9,0.7]})"));
        QVERIFY(pruned.etag != stored.etag);

        // Someone else changes it after the dialog loaded it: 412, shown, not overwritten.
        JobDialog conflict(m_client.get(), experiment, JobDialog::Mode::Edit);
        conflict.setJob(pruned);
        conflict.show();
        QTRY_VERIFY_WITH_TIMEOUT(conflict.saveButton()->isEnabled(), 20000);
        JobWrite theirs{JobStatus::Running, pruned.hyperparameters, pruned.results};
        QVERIFY(await(m_client->putJob(name, queued.id, theirs, WriteCondition::IfMatch, pruned.etag))->ok());
        choose(find<QComboBox>(&conflict, QStringLiteral("statusCombo")), int(JobStatus::Done));
        click(conflict.saveButton());
        QTRY_VERIFY_WITH_TIMEOUT(conflict.hasConflict(), 20000);
        QCOMPARE(conflict.conflictChanges(), QStringList{S("status: \"PRUNED\" → \"RUNNING\"")});
        QCOMPARE(int(readJob(name, queued.id).status), int(JobStatus::Running));
        QVERIFY(!conflict.saveButton()->isEnabled());
        // Load theirs, then save our change on top of it.
        click(find<QPushButton>(&conflict, QStringLiteral("reloadButton")));
        QCOMPARE(find<QComboBox>(&conflict, QStringLiteral("statusCombo"))->currentData().toInt(),
                 int(JobStatus::Running));
        choose(find<QComboBox>(&conflict, QStringLiteral("statusCombo")), int(JobStatus::Done));
        QVERIFY(saveAndWait(&conflict, conflict.saveButton()));
        QCOMPARE(int(readJob(name, queued.id).status), int(JobStatus::Done));

        // And once more, overwriting deliberately.
        const Job done = readJob(name, queued.id);
        JobDialog overwrite(m_client.get(), experiment, JobDialog::Mode::Edit);
        overwrite.setJob(done);
        overwrite.show();
        QTRY_VERIFY_WITH_TIMEOUT(overwrite.saveButton()->isEnabled(), 20000);
        QVERIFY(
            await(m_client->putJob(name, queued.id, JobWrite{JobStatus::Crashed, done.hyperparameters, {}},
                                   WriteCondition::IfMatch, done.etag))
                ->ok());
        choose(find<QComboBox>(&overwrite, QStringLiteral("statusCombo")), int(JobStatus::Pruned));
        click(overwrite.saveButton());
        QTRY_VERIFY_WITH_TIMEOUT(overwrite.hasConflict(), 20000);
        QVERIFY(overwrite.conflictChanges().contains(S("status: \"DONE\" → \"CRASHED\"")));
        QSignalSpy finished(&overwrite, &QDialog::finished);
        click(find<QPushButton>(&overwrite, QStringLiteral("overwriteButton")));
        QVERIFY(finished.wait(20000));
        const Job last = readJob(name, queued.id);
        QCOMPARE(int(last.status), int(JobStatus::Pruned));
        QCOMPARE(json::write(last.results), QByteArray(R"({"note":"by hand","loss":[0.9,0.7]})"));
    }

    void wiredIntoTheWindow()
    {
        ConnectionManager cm;
        const QString base = m_dir.path() + QStringLiteral("/window");
        cm.setStorage(base + QStringLiteral("/dashboard.ini"), base + QStringLiteral("/secrets.json"),
                      base + QStringLiteral("/data"));
        MainWindow window(&cm);
        window.setAutoRefresh(false, 5);
        window.resize(1200, 800);
        window.show();
        ConnectionProfile profile;
        profile.name = S("editors");
        profile.config = m_config;
        cm.connectWith(profile);
        QTRY_COMPARE_WITH_TIMEOUT(cm.state(), ConnectionManager::State::Connected, 20000);
        QTRY_VERIFY_WITH_TIMEOUT(window.experimentModel()->rowCount() > 0, 20000);

        // File › New experiment.
        auto *newExperiment = window.findChild<QAction *>(QStringLiteral("actionNewExperiment"));
        QVERIFY(newExperiment && newExperiment->isVisible());
        newExperiment->trigger();
        ExperimentDialog *create = nullptr;
        QTRY_VERIFY((create = window.findChild<ExperimentDialog *>()) != nullptr);
        QCOMPARE(int(create->mode()), int(ExperimentDialog::Mode::Create));
        retype(find<QLineEdit>(create, QStringLiteral("nameEdit")), S("from the window"));
        choose(find<QComboBox>(create, QStringLiteral("kindCombo")), int(Scheduler::Kind::RandomSearch));
        fill(*create->distributionEditor(), S("lr"), Kind::LogUniform, L({"1e-05", "0.1"}));
        click(create->saveButton());
        ExperimentView *page = window.experimentPage();
        QTRY_COMPARE_WITH_TIMEOUT(page->experiment().name, S("from the window"), 20000);
        QTRY_VERIFY(!window.findChild<ExperimentDialog *>()); // closed and deleted

        // Edit… on the page.
        auto *edit = page->findChild<QPushButton *>(QStringLiteral("editButton"));
        QVERIFY(edit && edit->isVisible());
        click(edit);
        ExperimentDialog *editor = nullptr;
        QTRY_VERIFY((editor = page->findChild<ExperimentDialog *>()) != nullptr);
        QCOMPARE(int(editor->mode()), int(ExperimentDialog::Mode::Edit));
        choose(find<QComboBox>(editor, QStringLiteral("statusCombo")), int(ExperimentStatus::Done));
        click(editor->saveButton());
        QTRY_COMPARE_WITH_TIMEOUT(int(page->experiment().status), int(ExperimentStatus::Done), 20000);
        QTRY_COMPARE(int(window.experimentModel()->experiment(S("from the window"))->status),
                     int(ExperimentStatus::Done));
        QTRY_VERIFY(!page->findChild<ExperimentDialog *>());

        // Queue job….
        auto *queue = page->findChild<QPushButton *>(QStringLiteral("queueButton"));
        QVERIFY(queue && queue->isVisible());
        click(queue);
        JobDialog *jobs = nullptr;
        QTRY_VERIFY((jobs = page->findChild<JobDialog *>()) != nullptr);
        retype(jobs->hyperparameterEditor()->valueInput(0), S("0.01"));
        click(jobs->saveButton());
        auto *table = page->findChild<QTableView *>(QStringLiteral("jobView"));
        QTRY_COMPARE_WITH_TIMEOUT(page->jobModel()->rowCount(), 1, 20000);
        QTRY_VERIFY(!page->findChild<JobDialog *>());

        // Context actions on the selected job.
        table->selectRow(0);
        auto *editJob = table->findChild<QAction *>(QStringLiteral("editJobAction"));
        auto *duplicateJob = table->findChild<QAction *>(QStringLiteral("duplicateJobAction"));
        QVERIFY(editJob && duplicateJob);
        QVERIFY(table->actions().contains(editJob) && table->actions().contains(duplicateJob));
        QCOMPARE(editJob->text(), S("Edit job…"));
        QCOMPARE(duplicateJob->text(), S("Duplicate as new job…"));
        editJob->trigger();
        QTRY_VERIFY((jobs = page->findChild<JobDialog *>()) != nullptr);
        QTRY_VERIFY_WITH_TIMEOUT(jobs->saveButton()->isEnabled(), 20000);
        choose(find<QComboBox>(jobs, QStringLiteral("statusCombo")), int(JobStatus::Pruned));
        click(jobs->saveButton());
        QTRY_COMPARE_WITH_TIMEOUT(int(page->jobModel()->job(0).status), int(JobStatus::Pruned), 20000);
        QTRY_VERIFY(!page->findChild<JobDialog *>());
        table->selectRow(0);
        duplicateJob->trigger();
        QTRY_VERIFY((jobs = page->findChild<JobDialog *>()) != nullptr);
        QCOMPARE(jobs->jobWrite().hyperparameters.value(S("lr")).toDouble(), 0.01);
        click(jobs->saveButton());
        QTRY_COMPARE_WITH_TIMEOUT(page->jobModel()->rowCount(), 2, 20000);
        QTRY_VERIFY(!page->findChild<JobDialog *>());

        // Duplicate… the experiment: the copy is listed and selected.
        auto *duplicate = page->findChild<QPushButton *>(QStringLiteral("duplicateButton"));
        QVERIFY(duplicate && duplicate->isVisible());
        click(duplicate);
        ExperimentDialog *copy = nullptr;
        QTRY_VERIFY((copy = page->findChild<ExperimentDialog *>()) != nullptr);
        QCOMPARE(int(copy->mode()), int(ExperimentDialog::Mode::Duplicate));
        click(copy->saveButton());
        QTRY_COMPARE_WITH_TIMEOUT(page->experiment().name, S("from the window copy"), 20000);
        QVERIFY(window.experimentModel()->experiment(S("from the window copy")));
        QCOMPARE(read(S("from the window copy")).scheduler, read(S("from the window")).scheduler);
        QVERIFY(!window.isBannerVisible());
    }
};

QTEST_MAIN(TestEditorsE2e)
#include "tst_editors_e2e.moc"
