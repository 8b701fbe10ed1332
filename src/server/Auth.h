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
// OWASP's recommendation for PBKDF2-SHA256 (2023).
constexpr int DefaultPasswordIterations = 600000;
QByteArray hashPassword(const QString &password, int iterations = DefaultPasswordIterations);
bool verifyPassword(const QString &password, const QByteArray &stored);
// The iteration count of a stored hash (0 when it is not one of ours).
int passwordIterations(const QByteArray &stored);
// A stored hash of no password, costing `iterations` to check against, so that
// an unknown email or a user without a password takes the same work.
QByteArray decoyPasswordHash(int iterations);
// PBKDF2 iterations run by this process so far (tests compare the work done).
qint64 pbkdf2IterationsRun();

// API tokens are 256 random bits, so one SHA-256 is enough to store them.
QByteArray hashApiToken(const QString &token);

struct BearerClaims
{
    qint64 userId = 0;
    QString email;
    qint64 issuedAt = 0;
    qint64 expiresAt = 0;
    // The user's token generation when it was issued: a token reset raises the
    // stored one, revoking every bearer issued before (absent: 0).
    qint64 generation = 0;
};

// HS256 JSON Web Tokens.
class TokenSigner
{
public:
    explicit TokenSigner(QByteArray secret, qint64 lifetimeSeconds = 3600);
    QByteArray issue(qint64 userId, const QString &email, qint64 now, qint64 *expiresAt,
                     qint64 generation = 0) const;
    enum class Check { Valid, Malformed, BadSignature, Expired };
    // Tokens that verified are remembered (up to 1024), so that a worker's
    // every request costs a hash lookup rather than an HMAC and a JSON parse;
    // the times are still checked against `now` on every call. A token lives
    // at most lifetime() from its issue time, whatever its exp says, and one
    // issued in the future (a clock that was ahead) is refused.
    Check verify(const QByteArray &token, qint64 now, BearerClaims *claims) const;
    qint64 lifetime() const { return m_lifetime; }
    // Tokens are accepted this long after expiresAt: the original client renews
    // 60 s before expiry by its own clock, which may run behind ours.
    static constexpr qint64 Leeway = 60;

private:
    Check verifySignature(const QByteArray &token, BearerClaims *claims) const;
    Check checkTimes(const BearerClaims &claims, qint64 now) const;

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
