#pragma once

#include "ConnectionManager.h"

#include <QDialog>
#include <QHash>

#include <memory>

namespace Ui {
class ConnectionDialog;
}
class QLabel;
class QLineEdit;
class QListWidgetItem;
class QPushButton;

namespace schedy {

// Choose a saved connection, add one (root URL with email and API token, or
// email and password exchanged for an API token), or import a client.json.
// Input is never lost: what was typed for an entry is kept as its draft while
// another entry is shown (the list marks it), and closing with drafts asks.
class ConnectionDialog : public QDialog
{
    Q_OBJECT
public:
    ConnectionDialog(ConnectionManager *connections, QWidget *parent = nullptr);
    ~ConnectionDialog() override;

    // Names of the entries with unsaved changes ("" for the new connection).
    QStringList draftNames() const;

public Q_SLOTS:
    void reject() override;

private:
    // What the form holds for one entry.
    struct Form
    {
        QString name, root, email, secret;
        bool password = false;
        bool operator==(const Form &o) const
        {
            return name == o.name && root == o.root && email == o.email && secret == o.secret &&
                   password == o.password;
        }
        bool operator!=(const Form &o) const { return !(*this == o); }
    };
    enum ItemKind { LocalItem, SavedItem, NewItem };

    void loadProfiles(const QString &select = {});
    void onCurrentItemChanged(QListWidgetItem *current, QListWidgetItem *previous);
    void showItem(QListWidgetItem *item);
    void stashForm();
    void markItem(QListWidgetItem *item);
    void newConnection();
    QListWidgetItem *newItem(bool create);
    static ItemKind kindOf(const QListWidgetItem *item);
    static QString keyOf(const QListWidgetItem *item);
    Form savedForm(const QListWidgetItem *item) const;
    Form formState() const;
    void setForm(const Form &form);
    void importConfig();
    void connectNow();
    void removeProfile();
    ConnectionProfile profileFromForm() const;
    void setBusy(bool busy, const QString &message = {});
    // A problem next to its field, which gets the focus; empty clears it.
    void setFieldError(QLineEdit *field, const QString &message);
    void clearFieldErrors();
    QLabel *errorLabelOf(QLineEdit *field) const;

    std::unique_ptr<Ui::ConnectionDialog> m_ui;
    ConnectionManager *m_connections;
    QList<ConnectionProfile> m_profiles;
    QHash<QString, Form> m_drafts; // by keyOf(item)
    QListWidgetItem *m_shown = nullptr;
    QPushButton *m_connectButton = nullptr;
    bool m_loading = false;
};

} // namespace schedy
