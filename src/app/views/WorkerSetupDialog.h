#pragma once

#include "ConnectionManager.h"

#include <QDialog>

class QLabel;
class QPlainTextEdit;

namespace schedy {

// How workers reach the current server: its root URL and the client config
// they need, written to ~/.schedy/client.json (asking before overwriting) or
// copied to the clipboard.
class WorkerSetupDialog : public QDialog
{
    Q_OBJECT
public:
    WorkerSetupDialog(const ConnectionProfile &profile, QWidget *parent = nullptr);
    // Writes the config; asks before replacing a different existing file.
    static bool writeConfig(QWidget *parent, const ClientConfig &config, const QString &path,
                            QString *message);

private:
    ClientConfig m_config;
    QLabel *m_message;
};

} // namespace schedy
