#include "Auth.h"

#include "Json.h"

#include <QCryptographicHash>
#include <QList>
#include <QMessageAuthenticationCode>
#include <QMutexLocker>
#include <QPasswordDigestor>
#include <QRandomGenerator>

namespace schedy::server {
namespace {
constexpr auto B64 = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
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
    const QByteArray key = QPasswordDigestor::deriveKeyPbkdf2(QCryptographicHash::Sha256, password.toUtf8(),
                                                              salt, iterations, 32);
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
    const QByteArray key = QPasswordDigestor::deriveKeyPbkdf2(QCryptographicHash::Sha256, password.toUtf8(),
                                                              salt, iterations, quint64(expected.size()));
    return constantTimeEquals(key, expected);
}

QByteArray hashApiToken(const QString &token)
{
    return QCryptographicHash::hash(token.toUtf8(), QCryptographicHash::Sha256).toHex();
}

TokenSigner::TokenSigner(QByteArray secret, qint64 lifetimeSeconds)
    : m_secret(std::move(secret))
    , m_lifetime(lifetimeSeconds)
{}

QByteArray TokenSigner::issue(qint64 userId, const QString &email, qint64 now, qint64 *expiresAt) const
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
    const QByteArray payload = json::write(claims).toBase64(B64);
    const QByteArray signingInput = header + '.' + payload;
    const QByteArray sig =
        QMessageAuthenticationCode::hash(signingInput, m_secret, QCryptographicHash::Sha256).toBase64(B64);
    return signingInput + '.' + sig;
}

TokenSigner::Check TokenSigner::verify(const QByteArray &token, qint64 now, BearerClaims *claims) const
{
    {
        QMutexLocker lock(&m_verified->mutex);
        const auto it = m_verified->claims.constFind(token);
        if (it != m_verified->claims.constEnd()) {
            if (now > it->expiresAt + Leeway)
                return Check::Expired;
            if (claims)
                *claims = *it;
            return Check::Valid;
        }
    }
    BearerClaims verified;
    const Check check = verifySignature(token, now, &verified);
    if (check == Check::Valid) {
        QMutexLocker lock(&m_verified->mutex);
        if (m_verified->claims.size() >= 1024)
            m_verified->claims.clear();
        m_verified->claims.insert(token, verified);
        if (claims)
            *claims = verified;
    }
    return check;
}

TokenSigner::Check TokenSigner::verifySignature(const QByteArray &token, qint64 now,
                                                BearerClaims *claims) const
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
    if (!ok || !m.value(QStringLiteral("exp")).isInteger())
        return Check::Malformed;
    const qint64 exp = m.value(QStringLiteral("exp")).toInteger();
    if (now > exp + Leeway)
        return Check::Expired;
    if (claims) {
        claims->userId = userId;
        claims->email = m.value(QStringLiteral("email")).toString();
        claims->expiresAt = exp;
    }
    return Check::Valid;
}

} // namespace schedy::server
