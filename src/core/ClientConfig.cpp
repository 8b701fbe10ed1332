#include "ClientConfig.h"

#include "Json.h"
#include "SaveFile.h"

#include <QCborMap>
#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace schedy {

QString ClientConfig::defaultPath()
{
    return QDir::homePath() + QStringLiteral("/.schedy/client.json");
}

std::optional<ClientConfig> ClientConfig::load(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("cannot read %1: %2").arg(path, f.errorString());
        return std::nullopt;
    }
    QString e;
    auto config = fromJson(f.readAll(), &e);
    if (!config && error)
        *error = QStringLiteral("%1: %2").arg(path, e);
    return config;
}

std::optional<ClientConfig> ClientConfig::fromJson(const QByteArray &text, QString *error)
{
    json::ParseError pe;
    const QCborValue v = json::parse(text, &pe);
    auto fail = [&](const QString &m) {
        if (error)
            *error = m;
        return std::nullopt;
    };
    if (pe.isError())
        return fail(QStringLiteral("malformed JSON: %1").arg(pe.message));
    if (!v.isMap())
        return fail(QStringLiteral("expected a JSON object"));
    const QCborMap o = v.toMap();
    ClientConfig c;
    for (const char *key : {"root", "email", "token"}) {
        if (!o.value(QLatin1String(key)).isString() || o.value(QLatin1String(key)).toString().isEmpty())
            return fail(QStringLiteral("\"%1\" must be a non-empty string").arg(QLatin1String(key)));
    }
    c.root = normalizedRoot(o.value(QStringLiteral("root")).toString());
    const QUrl url(c.root);
    if (!url.isValid() || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")) ||
        url.host().isEmpty())
        return fail(QStringLiteral("\"root\" must be an http or https URL"));
    c.email = o.value(QStringLiteral("email")).toString();
    c.token = o.value(QStringLiteral("token")).toString();
    // Like the original client: a missing token_type means api_token; anything else that is not one of
    // the two names (null and non-strings included) is an error.
    const QCborValue typeValue = o.value(QStringLiteral("token_type"));
    const QString type = typeValue.isUndefined() ? QStringLiteral("api_token") : typeValue.toString();
    if (type == QLatin1String("api_token"))
        c.tokenType = TokenType::ApiToken;
    else if (type == QLatin1String("password"))
        c.tokenType = TokenType::Password;
    else
        return fail(QStringLiteral("\"token_type\" must be \"api_token\" or \"password\""));
    return c;
}

QByteArray ClientConfig::toJson() const
{
    QCborMap o{{QStringLiteral("root"), root},
               {QStringLiteral("email"), email},
               {QStringLiteral("token"), token},
               {QStringLiteral("token_type"),
                tokenType == TokenType::ApiToken ? QStringLiteral("api_token") : QStringLiteral("password")}};
    return json::writeIndented(o) + '\n';
}

bool ClientConfig::save(const QString &path, QString *error) const
{
    const QFileInfo info(path);
    QDir dir = info.absoluteDir();
    if (!dir.exists()) {
        if (!dir.mkpath(QStringLiteral("."))) {
            if (error)
                *error = QStringLiteral("cannot create %1").arg(dir.path());
            return false;
        }
        QFile::setPermissions(dir.path(),
                              QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
    }
    const QFileDevice::Permissions ownerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;
    if (!SaveFile::write(path, toJson(), error, ownerOnly))
        return false;
    if (SaveFile::isSpecialFile(path))
        return true; // /dev/stdout, say: its permissions are not ours to change
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    return true;
}

QString normalizedRoot(const QString &root)
{
    QString r = root.trimmed();
    if (!r.endsWith(QLatin1Char('/')))
        r += QLatin1Char('/');
    return r;
}

} // namespace schedy
