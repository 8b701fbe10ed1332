#include "Auth.h"

#include "Json.h"

#include <QCryptographicHash>
#include <QList>
#include <QMessageAuthenticationCode>
#include <QMutexLocker>
#include <QPasswordDigestor>
#include <QRandomGenerator>

#include <algorithm>
#include <atomic>

namespace schedy::server {
namespace {
constexpr auto B64 = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
std::atomic<qint64> iterationsRun{0};

QByteArray pbkdf2(const QString &password, const QByteArray &salt, int iterations, quint64 size)
{
    iterationsRun += iterations;
    return QPasswordDigestor::deriveKeyPbkdf2(QCryptographicHash::Sha256, password.toUtf8(), salt, iterations,
                                              size);
}
} // namespace

qint64 pbkdf2IterationsRun()
{
    return iterationsRun.load();
}

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    // The length is not secret (hashes and signatures have fixed sizes).
    if (a.size() != b.size())
        return false;
    unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

QByteArray randomToken(int bytes)
{
    QByteArray raw(bytes, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(raw.data()), bytes / 4);
    for (int i = bytes / 4 * 4; i < bytes; ++i)
        raw[i] = char(QRandomGenerator::system()->generate() & 0xff);
    return raw.toBase64(B64);
}

QByteArray hashPassword(const QString &password, int iterations)
{
    QByteArray salt(16, Qt::Uninitialized);
    QRandomGenerator::system()->fillRange(reinterpret_cast<quint32 *>(salt.data()), 4);
    const QByteArray key = pbkdf2(password, salt, iterations, 32);
    return "pbkdf2-sha256$" + QByteArray::number(iterations) + '$' + salt.toBase64() + '$' + key.toBase64();
}

bool verifyPassword(const QString &password, const QByteArray &stored)
{
    const QList<QByteArray> parts = stored.split('$');
    if (parts.size() != 4 || parts[0] != "pbkdf2-sha256")
        return false;
    bool ok = false;
    const int iterations = parts[1].toInt(&ok);
    if (!ok || iterations < 1)
        return false;
    const QByteArray salt = QByteArray::fromBase64(parts[2]);
    const QByteArray expected = QByteArray::fromBase64(parts[3]);
    const QByteArray key = pbkdf2(password, salt, iterations, quint64(expected.size()));
    return constantTimeEquals(key, expected);
}

int passwordIterations(const QByteArray &stored)
{
    const QList<QByteArray> parts = stored.split('$');
    if (parts.size() != 4 || parts[0] != "pbkdf2-sha256")
        return 0;
    return std::max(0, parts[1].toInt());
}

QByteArray decoyPasswordHash(int iterations)
{
    // Salt and key are fixed: no password derives to this key, and checking
    // one against it runs the same PBKDF2 as against a real hash.
    return "pbkdf2-sha256$" + QByteArray::number(iterations) + '$' + QByteArray(16, 'd').toBase64() + '$' +
           QByteArray(32, 'k').toBase64();
}

QByteArray hashApiToken(const QString &token)
{
    return QCryptographicHash::hash(token.toUtf8(), QCryptographicHash::Sha256).toHex();
}

TokenSigner::TokenSigner(QByteArray secret, qint64 lifetimeSeconds)
    : m_secret(std::move(secret))
    , m_lifetime(lifetimeSeconds)
{}

QByteArray TokenSigner::issue(qint64 userId, const QString &email, qint64 now, qint64 *expiresAt,
                              qint64 generation) const
{
    const qint64 exp = now + m_lifetime;
    if (expiresAt)
        *expiresAt = exp;
    const QByteArray header = QByteArray(R"({"alg":"HS256","typ":"JWT"})").toBase64(B64);
    QCborMap claims;
    claims.insert(QStringLiteral("sub"), QString::number(userId));
    claims.insert(QStringLiteral("email"), email);
    claims.insert(QStringLiteral("iat"), now);
    claims.insert(QStringLiteral("exp"), exp);
    claims.insert(QStringLiteral("gen"), generation);
    const QByteArray payload = json::write(claims).toBase64(B64);
    const QByteArray signingInput = header + '.' + payload;
    const QByteArray sig =
        QMessageAuthenticationCode::hash(signingInput, m_secret, QCryptographicHash::Sha256).toBase64(B64);
    return signingInput + '.' + sig;
}

TokenSigner::Check TokenSigner::verify(const QByteArray &token, qint64 now, BearerClaims *claims) const
{
    BearerClaims verified;
    bool cached = false;
    {
        QMutexLocker lock(&m_verified->mutex);
        const auto it = m_verified->claims.constFind(token);
        if (it != m_verified->claims.constEnd()) {
            verified = *it;
            cached = true;
        }
    }
    if (!cached) {
        const Check check = verifySignature(token, &verified);
        if (check != Check::Valid)
            return check;
        QMutexLocker lock(&m_verified->mutex);
        if (m_verified->claims.size() >= 1024)
            m_verified->claims.clear();
        m_verified->claims.insert(token, verified);
    }
    const Check times = checkTimes(verified, now);
    if (times == Check::Valid && claims)
        *claims = verified;
    return times;
}

TokenSigner::Check TokenSigner::checkTimes(const BearerClaims &c, qint64 now) const
{
    // Issued in the future: the clock that issued it was ahead (or it was
    // forged with our key); either way its lifetime cannot be trusted.
    if (c.issuedAt > now + Leeway)
        return Check::Expired;
    const qint64 end = std::min(c.expiresAt, c.issuedAt + m_lifetime);
    if (now > end + Leeway)
        return Check::Expired;
    return Check::Valid;
}

TokenSigner::Check TokenSigner::verifySignature(const QByteArray &token, BearerClaims *claims) const
{
    const QList<QByteArray> parts = token.split('.');
    if (parts.size() != 3)
        return Check::Malformed;
    const QByteArray signingInput = parts[0] + '.' + parts[1];
    const QByteArray expected =
        QMessageAuthenticationCode::hash(signingInput, m_secret, QCryptographicHash::Sha256).toBase64(B64);
    if (!constantTimeEquals(expected, parts[2]))
        return Check::BadSignature;
    // The signature covers the header, so only our own "alg":"HS256" gets here.
    const QCborValue payload = json::parse(QByteArray::fromBase64(parts[1], QByteArray::Base64UrlEncoding));
    if (!payload.isMap())
        return Check::Malformed;
    const QCborMap m = payload.toMap();
    bool ok = false;
    const qint64 userId = m.value(QStringLiteral("sub")).toString().toLongLong(&ok);
    const QCborValue generation = m.value(QStringLiteral("gen"));
    if (!ok || !m.value(QStringLiteral("exp")).isInteger() || !m.value(QStringLiteral("iat")).isInteger() ||
        !(generation.isUndefined() || generation.isInteger()))
        return Check::Malformed;
    claims->generation = generation.isInteger() ? generation.toInteger() : 0;
    claims->userId = userId;
    claims->email = m.value(QStringLiteral("email")).toString();
    claims->issuedAt = m.value(QStringLiteral("iat")).toInteger();
    claims->expiresAt = m.value(QStringLiteral("exp")).toInteger();
    return Check::Valid;
}

} // namespace schedy::server
