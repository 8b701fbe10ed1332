#include "SaveFile.h"

#include <QFileInfo>

namespace schedy {

SaveFile::SaveFile(const QString &path)
    : m_path(path)
{
    if (isSpecialFile(path))
        m_direct = std::make_unique<QFile>(path);
    else
        m_save = std::make_unique<QSaveFile>(path);
}

bool SaveFile::isSpecialFile(const QString &path)
{
    const QFileInfo info(path); // follows symbolic links (/dev/stdout)
    return info.exists() && !info.isFile() && !info.isDir();
}

QFileDevice *SaveFile::device() const
{
    return m_direct ? static_cast<QFileDevice *>(m_direct.get()) : m_save.get();
}

bool SaveFile::open(QIODevice::OpenMode mode)
{
    return device()->open(mode);
}

bool SaveFile::setPermissions(QFileDevice::Permissions permissions)
{
    return m_direct ? true : m_save->setPermissions(permissions);
}

bool SaveFile::commit()
{
    if (m_save)
        return m_save->commit();
    const bool ok = m_direct->error() == QFileDevice::NoError && m_direct->flush();
    m_direct->close();
    return ok && !m_cancelled;
}

void SaveFile::cancelWriting()
{
    m_cancelled = true;
    if (m_save)
        m_save->cancelWriting();
}

bool SaveFile::write(const QString &path, const QByteArray &data, QString *error,
                     std::optional<QFileDevice::Permissions> permissions)
{
    SaveFile f(path);
    const auto fail = [&] {
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(path, f.errorString());
        return false;
    };
    if (!f.open())
        return fail();
    // Restricted before anything (a secret, say) is written.
    if (permissions)
        f.setPermissions(*permissions);
    if (f.write(data) != data.size() || !f.commit())
        return fail();
    return true;
}

} // namespace schedy
