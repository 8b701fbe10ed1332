// libschedy and experiment ETags (our server's extension): a single
// experiment's answer carries its ETag, updateExperiment(IfMatch) sends it,
// and a 412 is UnsafeUpdate; the unconditional update and the create-only one
// behave as before. Against the real server.
#include "Client.h"
#include "ClientTestSupport.h"
#include "Codec.h"
#include "TestServer.h"

#include <QSignalSpy>
#include <QtTest>

#include <memory>

using namespace schedy;
using namespace schedy::test;

namespace {

using Kind = ClientError::Kind;

template <typename T> std::unique_ptr<Call<T>> await(Call<T> *call)
{
    return awaitCall(call, 30000);
}

Experiment manual(const QString &name, ExperimentStatus status = ExperimentStatus::Running)
{
    Experiment e;
    e.name = name;
    e.status = status;
    return e;
}

} // namespace

class TestClientEtag : public QObject
{
    Q_OBJECT

    std::unique_ptr<TestServer> m_server;
    ClientConfig m_config;
    std::unique_ptr<Client> m_client;
    std::unique_ptr<HttpTestClient> m_http;

    QByteArray serverEtag(const QString &name)
    {
        return m_http->get(QStringLiteral("experiments/%1/").arg(enc(name))).header("ETag");
    }

private slots:
    void initTestCase()
    {
        m_server = std::make_unique<TestServer>();
        QString error;
        QVERIFY2(m_server->start(&error), qPrintable(error));
        m_config = m_server->addUser(QStringLiteral("clientetag@example.com"));
        m_client = std::make_unique<Client>(m_config);
        m_http = std::make_unique<HttpTestClient>(m_server->root());
        QVERIFY(m_http->login(m_config));
    }

    void cleanupTestCase()
    {
        m_client.reset();
        m_http.reset();
        m_server.reset();
    }

    void answersCarryTheEtag()
    {
        const QString name = QStringLiteral("etag ü/1");
        auto created = await(m_client->createExperiment(manual(name)));
        QVERIFY2(created->ok(), qPrintable(created->error().toString()));
        QVERIFY(!created->value().etag.isEmpty());
        QCOMPARE(created->value().etag, serverEtag(name));

        auto read = await(m_client->experiment(name));
        QVERIFY(read->ok());
        QCOMPARE(read->value().etag, created->value().etag);
        QCOMPARE(read->value().name, name);

        auto updated = await(m_client->updateExperiment(manual(name, ExperimentStatus::Done)));
        QVERIFY(updated->ok());
        QVERIFY(updated->value().etag != created->value().etag);
        QCOMPARE(updated->value().etag, serverEtag(name));
        QCOMPARE(int(updated->value().status), int(ExperimentStatus::Done));

        // Listing items have none; the document itself never carries it.
        auto page = await(m_client->experiments());
        QVERIFY(page->ok());
        QVERIFY(!page->value().items.isEmpty());
        for (const Experiment &e : page->value().items)
            QVERIFY(e.etag.isEmpty());
        QVERIFY(!codec::encode(updated->value()).contains(QStringLiteral("etag")));
        auto decoded = codec::decodeExperiment(codec::encode(updated->value()));
        QVERIFY(decoded.ok());
        QVERIFY(decoded->etag.isEmpty());
    }

    void ifMatchSendsIt()
    {
        const QString name = QStringLiteral("guarded");
        auto created = await(m_client->createExperiment(manual(name)));
        QVERIFY(created->ok());
        const Experiment v1 = created->value();

        Experiment mine = v1;
        mine.status = ExperimentStatus::Done;
        auto saved = await(m_client->updateExperiment(mine, WriteCondition::IfMatch));
        QVERIFY2(saved->ok(), qPrintable(saved->error().toString()));
        QCOMPARE(saved->httpStatus(), 200);
        const Experiment v2 = saved->value();
        QVERIFY(v2.etag != v1.etag);

        // Stale: UnsafeUpdate with the server's reason, nothing changed, never retried.
        Experiment stale = v1;
        stale.scheduler.kind = Scheduler::Kind::RandomSearch;
        auto refused = await(m_client->updateExperiment(stale, WriteCondition::IfMatch));
        QVERIFY(!refused->ok());
        QCOMPARE(refused->error().kind, Kind::UnsafeUpdate);
        QCOMPARE(refused->error().httpStatus, 412);
        QCOMPARE(refused->attempts(), 1);
        QVERIFY2(refused->error().message.contains(QLatin1String("changed by someone else")),
                 qPrintable(refused->error().message));
        auto now = await(m_client->experiment(name));
        QCOMPARE(now->value().etag, v2.etag);
        QCOMPARE(int(now->value().scheduler.kind), int(Scheduler::Kind::Manual));

        // No ETag known: nothing can match (neither saved nor created).
        Experiment unknown = v2;
        unknown.etag.clear();
        auto blind = await(m_client->updateExperiment(unknown, WriteCondition::IfMatch));
        QCOMPARE(blind->error().kind, Kind::UnsafeUpdate);
        QCOMPARE(serverEtag(name), v2.etag);
        auto missing =
            await(m_client->updateExperiment(manual(QStringLiteral("nowhere")), WriteCondition::IfMatch));
        QCOMPARE(missing->error().kind, Kind::UnsafeUpdate);
        QCOMPARE(await(m_client->experiment(QStringLiteral("nowhere")))->error().httpStatus, 404);
        Experiment deleted = v2;
        QVERIFY(await(m_client->deleteExperiment(name))->ok());
        auto gone = await(m_client->updateExperiment(deleted, WriteCondition::IfMatch));
        QCOMPARE(gone->error().kind, Kind::UnsafeUpdate);
        QCOMPARE(await(m_client->experiment(name))->error().httpStatus, 404);
    }

    void otherConditionsAsBefore()
    {
        const QString name = QStringLiteral("plain");
        // Unconditional: creates, then replaces, whatever etag the value holds.
        auto created = await(m_client->updateExperiment(manual(name)));
        QVERIFY(created->ok());
        QCOMPARE(created->httpStatus(), 201);
        Experiment stale = created->value();
        QVERIFY(await(m_client->updateExperiment(manual(name, ExperimentStatus::Done)))->ok());
        stale.status = ExperimentStatus::Running;
        auto replaced = await(m_client->updateExperiment(stale));
        QVERIFY(replaced->ok());
        QCOMPARE(int(replaced->value().status), int(ExperimentStatus::Running));

        // Create-only: ResourceExists when taken, through either call.
        auto taken = await(m_client->createExperiment(manual(name)));
        QCOMPARE(taken->error().kind, Kind::ResourceExists);
        auto takenToo = await(m_client->updateExperiment(manual(name), WriteCondition::CreateOnly));
        QCOMPARE(takenToo->error().kind, Kind::ResourceExists);
        auto fresh =
            await(m_client->updateExperiment(manual(QStringLiteral("plain 2")), WriteCondition::CreateOnly));
        QVERIFY(fresh->ok());
        QCOMPARE(fresh->httpStatus(), 201);
        QVERIFY(!fresh->value().etag.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestClientEtag)
#include "tst_clientetag.moc"
