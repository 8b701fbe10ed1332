#pragma once

#include <QByteArray>
#include <QHash>
#include <QMutex>
#include <QString>

#include <memory>
#include <optional>

namespace schedy::server {

// Comparison whose time does not depend on where the inputs differ.
bool constantTimeEquals(const QByteArray &a, const QByteArray &b);

// Random URL-safe text of `bytes` random bytes (base64url, no padding).
QByteArray randomToken(int bytes = 32);

// PBKDF2-HMAC-SHA256; stored as "pbkdf2-sha256$ITER$SALT$HASH" (base64).
QByteArray hashPassword(const QString &password, int iterations = 100000);
bool verifyPassword(const QString &password, const QByteArray &stored);

// API tokens are 256 random bits, so one SHA-256 is enough to store them.
QByteArray hashApiToken(const QString &token);

struct BearerClaims
{
    qint64 userId = 0;
    QString email;
    qint64 expiresAt = 0;
};

// HS256 JSON Web Tokens.
class TokenSigner
{
public:
    explicit TokenSigner(QByteArray secret, qint64 lifetimeSeconds = 3600);
    QByteArray issue(qint64 userId, const QString &email, qint64 now, qint64 *expiresAt) const;
    enum class Check { Valid, Malformed, BadSignature, Expired };
    // Tokens that verified are remembered (up to 1024), so that a worker's
    // every request costs a hash lookup rather than an HMAC and a JSON parse;
    // expiry is still checked against `now` on every call.
    Check verify(const QByteArray &token, qint64 now, BearerClaims *claims) const;
    qint64 lifetime() const { return m_lifetime; }
    // Tokens are accepted this long after expiresAt: the original client renews
    // 60 s before expiry by its own clock, which may run behind ours.
    static constexpr qint64 Leeway = 60;

private:
    Check verifySignature(const QByteArray &token, qint64 now, BearerClaims *claims) const;

    struct VerifiedCache
    {
        QMutex mutex;
        QHash<QByteArray, BearerClaims> claims;
    };
    QByteArray m_secret;
    qint64 m_lifetime;
    std::shared_ptr<VerifiedCache> m_verified = std::make_shared<VerifiedCache>();
};

} // namespace schedy::server
