#include "ConnectionDialog.h"

#include "Client.h"
#include "ui_ConnectionDialog.h"

#include <QFileDialog>
#include <QPushButton>

namespace schedy {

ConnectionDialog::ConnectionDialog(ConnectionManager *connections, QWidget *parent)
    : QDialog(parent)
    , m_ui(std::make_unique<Ui::ConnectionDialog>())
    , m_connections(connections)
{
    m_ui->setupUi(this);
    auto *connectButton = m_ui->buttons->addButton(tr("Save && connect"), QDialogButtonBox::AcceptRole);
    connectButton->setDefault(true);
    connect(connectButton, &QPushButton::clicked, this, &ConnectionDialog::connectNow);
    connect(m_ui->buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_ui->profiles, &QListWidget::currentRowChanged, this, &ConnectionDialog::showProfile);
    connect(m_ui->addButton, &QPushButton::clicked, this, [this] {
        m_ui->profiles->clearSelection();
        m_ui->profiles->setCurrentRow(-1);
        showProfile();
        m_ui->name->setFocus();
    });
    connect(m_ui->removeButton, &QPushButton::clicked, this, &ConnectionDialog::removeProfile);
    connect(m_ui->importButton, &QPushButton::clicked, this, &ConnectionDialog::importConfig);
    connect(m_ui->usePassword, &QRadioButton::toggled, this, [this](bool password) {
        m_ui->secretLabel->setText(password ? tr("Password") : tr("API token"));
    });
    loadProfiles(connections->current().name);
}

ConnectionDialog::~ConnectionDialog() = default;

void ConnectionDialog::loadProfiles(const QString &select)
{
    m_ui->profiles->clear();
    int selectRow = 0;
    const auto profiles = m_connections->profiles();
    for (int i = 0; i < profiles.size(); ++i) {
        m_ui->profiles->addItem(profiles[i].name);
        if (profiles[i].name == select)
            selectRow = i;
    }
    m_ui->profiles->setCurrentRow(selectRow);
}

void ConnectionDialog::showProfile()
{
    const int row = m_ui->profiles->currentRow();
    const auto profiles = m_connections->profiles();
    const bool local = row == 0;
    m_ui->localHint->setVisible(local);
    for (QWidget *w : {static_cast<QWidget *>(m_ui->name), static_cast<QWidget *>(m_ui->root),
                       static_cast<QWidget *>(m_ui->email), static_cast<QWidget *>(m_ui->secret),
                       static_cast<QWidget *>(m_ui->useToken), static_cast<QWidget *>(m_ui->usePassword)})
        w->setEnabled(!local);
    m_ui->removeButton->setEnabled(row > 0);
    m_ui->message->clear();
    if (row >= 0 && row < profiles.size()) {
        const ConnectionProfile &p = profiles[row];
        m_ui->name->setText(p.name);
        m_ui->root->setText(p.config.root);
        m_ui->email->setText(p.config.email);
        m_ui->secret->setText(p.config.token);
        (p.config.tokenType == ClientConfig::TokenType::Password ? m_ui->usePassword : m_ui->useToken)->setChecked(true);
    } else {
        for (QLineEdit *e : {m_ui->name, m_ui->root, m_ui->email, m_ui->secret})
            e->clear();
        m_ui->useToken->setChecked(true);
    }
}

ConnectionProfile ConnectionDialog::profileFromForm() const
{
    ConnectionProfile p;
    p.name = m_ui->name->text().trimmed();
    p.config.root = normalizedRoot(m_ui->root->text());
    p.config.email = m_ui->email->text().trimmed();
    p.config.token = m_ui->secret->text();
    p.config.tokenType = m_ui->usePassword->isChecked() ? ClientConfig::TokenType::Password : ClientConfig::TokenType::ApiToken;
    return p;
}

void ConnectionDialog::setBusy(bool busy, const QString &message)
{
    m_ui->buttons->setEnabled(!busy);
    m_ui->message->setText(message);
}

void ConnectionDialog::importConfig()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Import client config"), ClientConfig::defaultPath(),
                                                      tr("Client config (*.json)"));
    if (path.isEmpty())
        return;
    QString error;
    const auto config = ClientConfig::load(path, &error);
    if (!config) {
        m_ui->message->setText(tr("<span style='color:#d32f2f'>%1</span>").arg(error.toHtmlEscaped()));
        return;
    }
    m_ui->profiles->setCurrentRow(-1);
    showProfile();
    m_ui->name->setText(QUrl(config->root).host());
    m_ui->root->setText(config->root);
    m_ui->email->setText(config->email);
    m_ui->secret->setText(config->token);
    (config->tokenType == ClientConfig::TokenType::Password ? m_ui->usePassword : m_ui->useToken)->setChecked(true);
    m_ui->message->setText(tr("Imported %1. Check the name, then save.").arg(path));
}

void ConnectionDialog::removeProfile()
{
    const int row = m_ui->profiles->currentRow();
    if (row <= 0)
        return;
    m_connections->removeProfile(m_ui->profiles->item(row)->text());
    loadProfiles();
}

void ConnectionDialog::connectNow()
{
    if (m_ui->profiles->currentRow() == 0) {
        m_connections->connectTo(ConnectionProfile::localName());
        accept();
        return;
    }
    ConnectionProfile p = profileFromForm();
    const QUrl url(p.config.root);
    QString problem;
    if (p.name.isEmpty())
        problem = tr("Give the connection a name.");
    else if (!url.isValid() || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")) || url.host().isEmpty())
        problem = tr("The server URL must start with http:// or https://.");
    else if (p.config.email.isEmpty())
        problem = tr("Enter the email of your account.");
    else if (p.config.token.isEmpty())
        problem = p.config.tokenType == ClientConfig::TokenType::Password ? tr("Enter your password.") : tr("Enter your API token.");
    if (!problem.isEmpty()) {
        m_ui->message->setText(tr("<span style='color:#d32f2f'>%1</span>").arg(problem));
        return;
    }
    if (p.config.tokenType == ClientConfig::TokenType::ApiToken) {
        QString error;
        if (!m_connections->saveProfile(p, &error)) {
            m_ui->message->setText(error);
            return;
        }
        m_connections->connectWith(p);
        accept();
        return;
    }
    // Password: log in and exchange it for an API token; the password is not stored.
    setBusy(true, tr("Signing in to %1…").arg(p.config.root));
    auto *client = new Client(p.config, this);
    RetryPolicy policy;
    policy.maxAttempts = 2;
    policy.timeoutMs = 15000;
    client->setRetryPolicy(policy);
    auto *call = client->resetToken();
    connect(call, &CallBase::finished, this, [this, call, client, p] {
        client->deleteLater();
        if (!call->ok()) {
            setBusy(false, tr("<span style='color:#d32f2f'>%1</span>").arg(call->error().toString().toHtmlEscaped()));
            return;
        }
        ConnectionProfile saved = p;
        saved.config = call->value();
        if (saved.config.root.isEmpty())
            saved.config.root = p.config.root;
        QString error;
        if (!m_connections->saveProfile(saved, &error)) {
            setBusy(false, error);
            return;
        }
        m_connections->connectWith(saved);
        accept();
    });
}

} // namespace schedy
