#pragma once

#include "ConnectionManager.h"

#include <QDialog>

#include <memory>

namespace Ui {
class ConnectionDialog;
}

namespace schedy {

// Choose a saved connection, add one (root URL with email and API token, or
// email and password exchanged for an API token), or import a client.json.
class ConnectionDialog : public QDialog
{
    Q_OBJECT
public:
    ConnectionDialog(ConnectionManager *connections, QWidget *parent = nullptr);
    ~ConnectionDialog() override;

private:
    void loadProfiles(const QString &select = {});
    void showProfile();
    void importConfig();
    void connectNow();
    void removeProfile();
    ConnectionProfile profileFromForm() const;
    void setBusy(bool busy, const QString &message = {});

    std::unique_ptr<Ui::ConnectionDialog> m_ui;
    ConnectionManager *m_connections;
};

} // namespace schedy
