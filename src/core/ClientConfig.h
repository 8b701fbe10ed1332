#pragma once

#include <QString>
#include <QUrl>

#include <optional>

namespace schedy {

// ~/.schedy/client.json, as the original client stores it (docs/protocol.md section 2).
struct ClientConfig
{
    enum class TokenType { ApiToken, Password };

    QString root; // base URL, ends with '/'
    QString email;
    QString token;
    TokenType tokenType = TokenType::ApiToken;

    static QString defaultPath();
    // Reads a config; on failure returns nullopt and a message naming the file and the problem.
    static std::optional<ClientConfig> load(const QString &path, QString *error);
    static std::optional<ClientConfig> fromJson(const QByteArray &json, QString *error);
    QByteArray toJson() const;
    // Writes atomically with permissions 0600, creating the folder (0700) if needed.
    bool save(const QString &path, QString *error) const;

    friend bool operator==(const ClientConfig &a, const ClientConfig &b)
    {
        return a.root == b.root && a.email == b.email && a.token == b.token && a.tokenType == b.tokenType;
    }
};

// Normalises a root URL so that paths can be appended (adds the trailing '/').
QString normalizedRoot(const QString &root);

} // namespace schedy
