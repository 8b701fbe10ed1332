#pragma once

#include <QFile>
#include <QSaveFile>
#include <QString>

#include <memory>
#include <optional>

namespace schedy {

// A file written whole or not at all, like QSaveFile (a temporary file renamed
// over the target on commit()), except when the target exists and is not a
// regular file: /dev/null, /dev/stdout, a FIFO. Renaming over one of those
// replaces the device with a plain file (run as root, /dev/null of the whole
// machine), so they are written directly, as the user meant.
class SaveFile
{
public:
    explicit SaveFile(const QString &path);

    static bool isSpecialFile(const QString &path);
    bool isDirect() const { return m_direct != nullptr; }

    bool open(QIODevice::OpenMode mode = QIODevice::WriteOnly);
    QFileDevice *device() const;
    qint64 write(const QByteArray &data) { return device()->write(data); }
    // For regular files only; a device keeps its own.
    bool setPermissions(QFileDevice::Permissions permissions);
    // Renames the temporary file over the target (or closes the device).
    bool commit();
    // commit() will then leave the target as it was (a device: nothing more is written).
    void cancelWriting();
    QString errorString() const { return device()->errorString(); }
    QString fileName() const { return m_path; }

    // The whole of `data`, the same way; false with *error set on failure.
    static bool write(const QString &path, const QByteArray &data, QString *error,
                      std::optional<QFileDevice::Permissions> permissions = std::nullopt);

private:
    QString m_path;
    std::unique_ptr<QSaveFile> m_save;
    std::unique_ptr<QFile> m_direct;
    bool m_cancelled = false;
};

} // namespace schedy
