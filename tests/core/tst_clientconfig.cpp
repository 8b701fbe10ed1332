#include "ClientConfig.h"
#include "Json.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

using namespace schedy;

// Documents here are plain string literals: moc 6.4 takes the "//" of a URL inside a raw string
// literal for a comment and then silently skips the test class.

namespace {

// The permission bits as the kernel has them (Qt reports owner and user flags together).
int modeOf(const QString &path)
{
    struct stat st;
    if (::stat(QFile::encodeName(path).constData(), &st) != 0)
        return -1;
    return int(st.st_mode & 07777);
}

QString octal(int mode)
{
    return QString::number(mode, 8);
}

bool writeFile(const QString &path, const QByteArray &content)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(content) == content.size();
}

ClientConfig sampleConfig(ClientConfig::TokenType type)
{
    ClientConfig c;
    c.root = QStringLiteral("http://127.0.0.1:8080/api/");
    c.email = QStringLiteral("ada@example.org");
    c.token = QStringLiteral("s3cr\u00e9t \"quoted\"");
    c.tokenType = type;
    return c;
}

} // namespace

class TestClientConfig : public QObject
{
    Q_OBJECT
private slots:
    void saveThenLoadRoundTrips_data()
    {
        QTest::addColumn<int>("tokenType");
        QTest::newRow("api_token") << int(ClientConfig::TokenType::ApiToken);
        QTest::newRow("password") << int(ClientConfig::TokenType::Password);
    }
    void saveThenLoadRoundTrips()
    {
        QFETCH(int, tokenType);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("client.json"));
        const ClientConfig c = sampleConfig(ClientConfig::TokenType(tokenType));

        QString error;
        QVERIFY2(c.save(path, &error), qPrintable(error));
        QVERIFY(error.isEmpty());
        const auto loaded = ClientConfig::load(path, &error);
        QVERIFY2(loaded.has_value(), qPrintable(error));
        QVERIFY(*loaded == c);
        QCOMPARE(loaded->tokenType, ClientConfig::TokenType(tokenType));
    }

    void savedFileIsWhatThePythonClientReads()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("client.json"));
        QString error;
        QVERIFY2(sampleConfig(ClientConfig::TokenType::Password).save(path, &error), qPrintable(error));

        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        json::ParseError pe;
        const QCborValue v = json::parse(f.readAll(), &pe);
        QVERIFY2(!pe.isError(), qPrintable(pe.message));
        const QCborMap o = v.toMap();
        QCOMPARE(o.size(), 4);
        QCOMPARE(o.value(QStringLiteral("root")).toString(), QStringLiteral("http://127.0.0.1:8080/api/"));
        QCOMPARE(o.value(QStringLiteral("email")).toString(), QStringLiteral("ada@example.org"));
        QCOMPARE(o.value(QStringLiteral("token")).toString(), QStringLiteral("s3cr\u00e9t \"quoted\""));
        QCOMPARE(o.value(QStringLiteral("token_type")).toString(), QStringLiteral("password"));
    }

    void savedFileHasMode0600()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("client.json"));
        const mode_t previous = ::umask(0); // the most permissive umask must not leak into the file
        QString error;
        const bool saved = sampleConfig(ClientConfig::TokenType::ApiToken).save(path, &error);
        ::umask(previous);
        QVERIFY2(saved, qPrintable(error));
        QCOMPARE(octal(modeOf(path)), octal(0600));
    }

    void overwritingAReadableFileRestrictsIt()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("client.json"));
        QVERIFY(writeFile(path, "{}"));
        QVERIFY(::chmod(QFile::encodeName(path).constData(), 0644) == 0);
        QCOMPARE(octal(modeOf(path)), octal(0644));

        QString error;
        QVERIFY2(sampleConfig(ClientConfig::TokenType::ApiToken).save(path, &error), qPrintable(error));
        QCOMPARE(octal(modeOf(path)), octal(0600));
        const auto loaded = ClientConfig::load(path, &error);
        QVERIFY2(loaded.has_value(), qPrintable(error));
        QCOMPARE(loaded->email, QStringLiteral("ada@example.org"));
    }

    void missingFolderIsCreatedWithMode0700()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString folder = dir.filePath(QStringLiteral(".schedy"));
        const QString path = folder + QStringLiteral("/client.json");
        QVERIFY(!QFileInfo::exists(folder));

        const mode_t previous = ::umask(0);
        QString error;
        const bool saved = sampleConfig(ClientConfig::TokenType::ApiToken).save(path, &error);
        ::umask(previous);
        QVERIFY2(saved, qPrintable(error));
        QVERIFY(QFileInfo(folder).isDir());
        QCOMPARE(octal(modeOf(folder)), octal(0700));
        QCOMPARE(octal(modeOf(path)), octal(0600));
        // Nothing else is left behind (the write is atomic through a temporary file).
        QCOMPARE(QDir(folder).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
                 QStringList{QStringLiteral("client.json")});
    }

    void existingFolderKeepsItsMode()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString folder = dir.filePath(QStringLiteral("shared"));
        QVERIFY(QDir().mkdir(folder));
        QVERIFY(::chmod(QFile::encodeName(folder).constData(), 0755) == 0);
        QString error;
        QVERIFY2(
            sampleConfig(ClientConfig::TokenType::ApiToken).save(folder + QStringLiteral("/c.json"), &error),
            qPrintable(error));
        QCOMPARE(octal(modeOf(folder)), octal(0755));
    }

    void saveReportsAnUncreatableFolder()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString blocker = dir.filePath(QStringLiteral("file"));
        QVERIFY(writeFile(blocker, "x"));
        QString error;
        QVERIFY(!sampleConfig(ClientConfig::TokenType::ApiToken)
                     .save(blocker + QStringLiteral("/sub/client.json"), &error));
        QVERIFY2(error.contains(blocker), qPrintable(error));
    }

    void tokenTypeDefaultsToApiToken()
    {
        QString error;
        const auto c = ClientConfig::fromJson(
            "{\"root\": \"https://api.schedy.io/\", \"email\": \"a@b.c\", \"token\": \"T\"}", &error);
        QVERIFY2(c.has_value(), qPrintable(error));
        QCOMPARE(c->tokenType, ClientConfig::TokenType::ApiToken);
        QCOMPARE(c->root, QStringLiteral("https://api.schedy.io/"));
        QCOMPARE(c->email, QStringLiteral("a@b.c"));
        QCOMPARE(c->token, QStringLiteral("T"));
        // A config without token_type is saved with the explicit default.
        QVERIFY(c->toJson().contains("\"token_type\": \"api_token\""));
    }

    void passwordTokenTypeIsRead()
    {
        QString error;
        const auto c = ClientConfig::fromJson("{\"root\": \"http://h/\", \"email\": \"a@b.c\", \"token\": "
                                              "\"pw\", \"token_type\": \"password\"}",
                                              &error);
        QVERIFY2(c.has_value(), qPrintable(error));
        QCOMPARE(c->tokenType, ClientConfig::TokenType::Password);
        const auto api = ClientConfig::fromJson("{\"root\": \"http://h/\", \"email\": \"a@b.c\", \"token\": "
                                                "\"t\", \"token_type\": \"api_token\"}",
                                                &error);
        QVERIFY2(api.has_value(), qPrintable(error));
        QCOMPARE(api->tokenType, ClientConfig::TokenType::ApiToken);
    }

    void extraKeysAreIgnored()
    {
        // The original client ignores other keys; so do we.
        QString error;
        const auto c = ClientConfig::fromJson("{\"root\": \"http://h\", \"email\": \"a@b.c\", \"token\": "
                                              "\"t\", \"expiresAt\": 5, \"note\": [1]}",
                                              &error);
        QVERIFY2(c.has_value(), qPrintable(error));
        QCOMPARE(c->root, QStringLiteral("http://h/"));
    }

    void invalidConfigsNameTheProblem_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("problem");
        QTest::newRow("malformed JSON")
            << QByteArray("{\"root\": \"http://h/\", ") << QStringLiteral("malformed JSON");
        QTest::newRow("empty file") << QByteArray() << QStringLiteral("malformed JSON");
        QTest::newRow("not an object") << QByteArray("[\"http://h/\"]") << QStringLiteral("JSON object");
        QTest::newRow("root missing") << QByteArray(R"({"email": "a@b.c", "token": "t"})")
                                      << QStringLiteral("\"root\" must be a non-empty string");
        QTest::newRow("email missing") << QByteArray("{\"root\": \"http://h/\", \"token\": \"t\"}")
                                       << QStringLiteral("\"email\" must be a non-empty string");
        QTest::newRow("token missing") << QByteArray("{\"root\": \"http://h/\", \"email\": \"a@b.c\"}")
                                       << QStringLiteral("\"token\" must be a non-empty string");
        QTest::newRow("token empty")
            << QByteArray("{\"root\": \"http://h/\", \"email\": \"a@b.c\", \"token\": \"\"}")
            << QStringLiteral("\"token\" must be a non-empty string");
        QTest::newRow("root a number") << QByteArray(R"({"root": 8080, "email": "a@b.c", "token": "t"})")
                                       << QStringLiteral("\"root\" must be a non-empty string");
        QTest::newRow("root ftp") << QByteArray(
                                         "{\"root\": \"ftp://h/\", \"email\": \"a@b.c\", \"token\": \"t\"}")
                                  << QStringLiteral("\"root\" must be an http or https URL");
        QTest::newRow("root without scheme")
            << QByteArray(R"({"root": "localhost:8080", "email": "a@b.c", "token": "t"})")
            << QStringLiteral("\"root\" must be an http or https URL");
        QTest::newRow("root a path") << QByteArray(R"({"root": "/api/", "email": "a@b.c", "token": "t"})")
                                     << QStringLiteral("\"root\" must be an http or https URL");
        QTest::newRow("root without host")
            << QByteArray("{\"root\": \"http://\", \"email\": \"a@b.c\", \"token\": \"t\"}")
            << QStringLiteral("\"root\" must be an http or https URL");
        QTest::newRow("unknown token_type")
            << QByteArray("{\"root\": \"http://h/\", \"email\": \"a@b.c\", \"token\": \"t\", \"token_type\": "
                          "\"oauth\"}")
            << QStringLiteral("\"token_type\" must be \"api_token\" or \"password\"");
        QTest::newRow("token_type wrong case")
            << QByteArray("{\"root\": \"http://h/\", \"email\": \"a@b.c\", \"token\": \"t\", \"token_type\": "
                          "\"Password\"}")
            << QStringLiteral("\"token_type\" must be \"api_token\" or \"password\"");
        QTest::newRow("token_type a number")
            << QByteArray(
                   "{\"root\": \"http://h/\", \"email\": \"a@b.c\", \"token\": \"t\", \"token_type\": 1}")
            << QStringLiteral("\"token_type\" must be \"api_token\" or \"password\"");
        QTest::newRow("token_type null")
            << QByteArray(
                   "{\"root\": \"http://h/\", \"email\": \"a@b.c\", \"token\": \"t\", \"token_type\": null}")
            << QStringLiteral("\"token_type\" must be \"api_token\" or \"password\"");
    }
    void invalidConfigsNameTheProblem()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, problem);

        QString error;
        QVERIFY(!ClientConfig::fromJson(json, &error).has_value());
        QVERIFY2(error.contains(problem), qPrintable(error));
        QVERIFY(!ClientConfig::fromJson(json, nullptr).has_value()); // no error pointer is fine too

        // Loading the same text from a file names the file and the problem.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("client.json"));
        QVERIFY(writeFile(path, json));
        error.clear();
        QVERIFY(!ClientConfig::load(path, &error).has_value());
        QVERIFY2(error.startsWith(path + QStringLiteral(": ")), qPrintable(error));
        QVERIFY2(error.contains(problem), qPrintable(error));
    }

    void loadingAMissingFileNamesIt()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("nope/client.json"));
        QString error;
        QVERIFY(!ClientConfig::load(path, &error).has_value());
        QVERIFY2(error.startsWith(QStringLiteral("cannot read ")), qPrintable(error));
        QVERIFY2(error.contains(path), qPrintable(error));
    }

    void rootIsNormalizedOnLoad()
    {
        QString error;
        const auto c = ClientConfig::fromJson(
            "{\"root\": \"http://127.0.0.1:8080\", \"email\": \"a@b.c\", \"token\": \"t\"}", &error);
        QVERIFY2(c.has_value(), qPrintable(error));
        QCOMPARE(c->root, QStringLiteral("http://127.0.0.1:8080/"));
        const auto prefixed = ClientConfig::fromJson(
            "{\"root\": \"https://h.example/api\", \"email\": \"a@b.c\", \"token\": \"t\"}", &error);
        QVERIFY2(prefixed.has_value(), qPrintable(error));
        QCOMPARE(prefixed->root, QStringLiteral("https://h.example/api/"));
    }

    void normalizedRootAddsTheTrailingSlash_data()
    {
        QTest::addColumn<QString>("root");
        QTest::addColumn<QString>("normalized");
        QTest::newRow("host only") << QStringLiteral("http://127.0.0.1:8080")
                                   << QStringLiteral("http://127.0.0.1:8080/");
        QTest::newRow("already normalized")
            << QStringLiteral("http://127.0.0.1:8080/") << QStringLiteral("http://127.0.0.1:8080/");
        QTest::newRow("path prefix") << QStringLiteral("https://h/api") << QStringLiteral("https://h/api/");
        QTest::newRow("path prefix with slash")
            << QStringLiteral("https://h/api/") << QStringLiteral("https://h/api/");
        QTest::newRow("surrounding spaces") << QStringLiteral("  http://h  ") << QStringLiteral("http://h/");
        QTest::newRow("empty") << QString() << QStringLiteral("/");
    }
    void normalizedRootAddsTheTrailingSlash()
    {
        QFETCH(QString, root);
        QFETCH(QString, normalized);
        QCOMPARE(normalizedRoot(root), normalized);
        QCOMPARE(normalizedRoot(normalizedRoot(root)), normalized);
    }

    void defaultPathIsInTheHomeFolder()
    {
        QCOMPARE(ClientConfig::defaultPath(), QDir::homePath() + QStringLiteral("/.schedy/client.json"));
    }
};

QTEST_GUILESS_MAIN(TestClientConfig)
#include "tst_clientconfig.moc"
