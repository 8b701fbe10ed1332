#include "ConnectionDialog.h"

#include "Client.h"
#include "EditorSupport.h"
#include "ui_ConnectionDialog.h"

#include <QFileDialog>
#include <QMessageBox>
#include <QPushButton>

namespace schedy {

namespace {
constexpr int KindRole = Qt::UserRole;
constexpr int NameRole = Qt::UserRole + 1;
const QString NewKey = QStringLiteral("\n"); // a key no saved profile has
} // namespace

ConnectionDialog::ConnectionDialog(ConnectionManager *connections, QWidget *parent)
    : QDialog(parent)
    , m_ui(std::make_unique<Ui::ConnectionDialog>())
    , m_connections(connections)
{
    m_ui->setupUi(this);
    editors::prepareMessageLabels(this);
    m_connectButton = m_ui->buttons->addButton(tr("Save && connect"), QDialogButtonBox::AcceptRole);
    m_connectButton->setObjectName(QStringLiteral("connectButton"));
    m_connectButton->setDefault(true);
    connect(m_connectButton, &QPushButton::clicked, this, &ConnectionDialog::connectNow);
    connect(m_ui->buttons, &QDialogButtonBox::rejected, this, &ConnectionDialog::reject);
    connect(m_ui->profiles, &QListWidget::currentItemChanged, this, &ConnectionDialog::onCurrentItemChanged);
    connect(m_ui->addButton, &QPushButton::clicked, this, &ConnectionDialog::newConnection);
    connect(m_ui->removeButton, &QPushButton::clicked, this, &ConnectionDialog::removeProfile);
    connect(m_ui->importButton, &QPushButton::clicked, this, &ConnectionDialog::importConfig);
    connect(m_ui->usePassword, &QRadioButton::toggled, this, [this](bool password) {
        m_ui->secretLabel->setText(password ? tr("Password") : tr("API token"));
        setFieldError(m_ui->secret, {});
    });
    // A field's problem goes as soon as it is edited.
    for (QLineEdit *field : {m_ui->name, m_ui->root, m_ui->email, m_ui->secret}) {
        connect(field, &QLineEdit::textEdited, this, [this, field] {
            setFieldError(field, {});
            if (m_shown && kindOf(m_shown) != LocalItem)
                stashForm(); // the list marks unsaved changes while typing
        });
    }
    m_ui->addButton->setToolTip(tr("Add a connection; what you type is kept while you look at others"));
    loadProfiles(connections->current().name);
}

ConnectionDialog::~ConnectionDialog() = default;

ConnectionDialog::ItemKind ConnectionDialog::kindOf(const QListWidgetItem *item)
{
    return ItemKind(item->data(KindRole).toInt());
}

QString ConnectionDialog::keyOf(const QListWidgetItem *item)
{
    return kindOf(item) == NewItem ? NewKey : item->data(NameRole).toString();
}

QStringList ConnectionDialog::draftNames() const
{
    QStringList out;
    for (auto it = m_drafts.begin(); it != m_drafts.end(); ++it)
        out.append(it.key() == NewKey ? QString() : it.key());
    out.sort();
    return out;
}

void ConnectionDialog::loadProfiles(const QString &select)
{
    m_loading = true;
    m_shown = nullptr;
    m_ui->profiles->clear();
    m_profiles = m_connections->profiles();
    QListWidgetItem *selected = nullptr;
    for (const ConnectionProfile &p : std::as_const(m_profiles)) {
        auto *item = new QListWidgetItem(p.name, m_ui->profiles);
        item->setData(KindRole, p.local ? LocalItem : SavedItem);
        item->setData(NameRole, p.name);
        if (p.name == select || !selected)
            selected = item;
        markItem(item);
    }
    if (m_drafts.contains(NewKey))
        markItem(newItem(true));
    m_loading = false;
    m_ui->profiles->setCurrentItem(selected);
    showItem(selected);
}

QListWidgetItem *ConnectionDialog::newItem(bool create)
{
    for (int i = 0; i < m_ui->profiles->count(); ++i) {
        if (kindOf(m_ui->profiles->item(i)) == NewItem)
            return m_ui->profiles->item(i);
    }
    if (!create)
        return nullptr;
    auto *item = new QListWidgetItem(m_ui->profiles);
    item->setData(KindRole, NewItem);
    markItem(item);
    return item;
}

void ConnectionDialog::markItem(QListWidgetItem *item)
{
    const ItemKind kind = kindOf(item);
    const bool draft = m_drafts.contains(keyOf(item));
    QFont font = m_ui->profiles->font();
    font.setItalic(draft || kind == NewItem);
    item->setFont(font);
    if (kind == NewItem) {
        const QString typed = m_drafts.value(NewKey).name.trimmed();
        item->setText(typed.isEmpty() ? tr("New connection") : tr("%1 (new)").arg(typed));
        item->setToolTip(tr("Not saved yet: what you typed is kept while this dialog is open"));
    } else if (kind == SavedItem) {
        item->setText(draft ? tr("%1 •").arg(item->data(NameRole).toString())
                            : item->data(NameRole).toString());
        item->setToolTip(draft ? tr("Unsaved changes: kept while this dialog is open") : QString());
    } else {
        item->setToolTip(tr("The server inside the dashboard, on this computer"));
    }
}

ConnectionDialog::Form ConnectionDialog::savedForm(const QListWidgetItem *item) const
{
    Form f;
    if (kindOf(item) == NewItem)
        return f;
    for (const ConnectionProfile &p : m_profiles) {
        if (p.name == item->data(NameRole).toString()) {
            f.name = p.name;
            f.root = p.config.root;
            f.email = p.config.email;
            f.secret = p.config.token;
            f.password = p.config.tokenType == ClientConfig::TokenType::Password;
        }
    }
    return f;
}

ConnectionDialog::Form ConnectionDialog::formState() const
{
    Form f;
    f.name = m_ui->name->text();
    f.root = m_ui->root->text();
    f.email = m_ui->email->text();
    f.secret = m_ui->secret->text();
    f.password = m_ui->usePassword->isChecked();
    return f;
}

void ConnectionDialog::setForm(const Form &f)
{
    m_ui->name->setText(f.name);
    m_ui->root->setText(f.root);
    m_ui->email->setText(f.email);
    m_ui->secret->setText(f.secret);
    (f.password ? m_ui->usePassword : m_ui->useToken)->setChecked(true);
}

void ConnectionDialog::stashForm()
{
    if (!m_shown || kindOf(m_shown) == LocalItem)
        return;
    const Form typed = formState();
    const QString key = keyOf(m_shown);
    if (typed != savedForm(m_shown))
        m_drafts.insert(key, typed);
    else
        m_drafts.remove(key);
    markItem(m_shown);
}

void ConnectionDialog::onCurrentItemChanged(QListWidgetItem *current, QListWidgetItem *previous)
{
    if (m_loading)
        return;
    // What was typed stays with its entry; an empty new connection has nothing to keep.
    if (previous && previous == m_shown) {
        stashForm();
        if (kindOf(previous) == NewItem && !m_drafts.contains(NewKey)) {
            m_shown = nullptr;
            delete previous;
        }
    }
    showItem(current);
}

void ConnectionDialog::showItem(QListWidgetItem *item)
{
    m_shown = item;
    clearFieldErrors();
    m_ui->message->clear();
    const ItemKind kind = item ? kindOf(item) : NewItem;
    const bool local = kind == LocalItem;
    m_ui->localHint->setVisible(local);
    // The local server's URL and user are shown as they are, read-only; its token stays with it.
    for (QLineEdit *e : {m_ui->name, m_ui->root, m_ui->email}) {
        e->setReadOnly(local);
        // Read-only looks read-only: the window's colour, not an input's white.
        QPalette p = palette();
        if (local)
            p.setColor(QPalette::Base, p.color(QPalette::Window));
        e->setPalette(p);
    }
    m_connectButton->setText(local ? tr("Connect") : tr("Save && connect"));
    for (QWidget *w : {static_cast<QWidget *>(m_ui->secret), static_cast<QWidget *>(m_ui->useToken),
                       static_cast<QWidget *>(m_ui->usePassword)})
        w->setEnabled(!local);
    m_ui->secret->setPlaceholderText(local ? tr("kept by the dashboard") : QString());
    m_ui->root->setPlaceholderText(local ? tr("not started yet") : tr("https://schedy.example.org/"));
    m_ui->email->setPlaceholderText(local ? tr("created at the first start") : tr("you@example.org"));
    m_ui->removeButton->setEnabled(kind == SavedItem);
    m_ui->importButton->setEnabled(!local);
    m_ui->importButton->setToolTip(
        local ? tr("The local server's settings come from the dashboard itself; choose New to import a "
                   "client.json as another connection")
              : tr("Fill the form from a client.json (e.g. ~/.schedy/client.json)"));
    if (local) {
        const ConnectionProfile &p = m_profiles.first();
        Form f;
        f.name = p.name;
        f.root = p.config.root;
        f.email = p.config.email;
        setForm(f);
        return;
    }
    setForm(m_drafts.contains(keyOf(item)) ? m_drafts.value(keyOf(item)) : savedForm(item));
}

void ConnectionDialog::newConnection()
{
    // One new connection at a time: New returns to it, as typed.
    QListWidgetItem *item = newItem(true);
    m_ui->profiles->setCurrentItem(item);
    m_ui->name->setFocus();
}

ConnectionProfile ConnectionDialog::profileFromForm() const
{
    ConnectionProfile p;
    p.name = m_ui->name->text().trimmed();
    p.config.root = normalizedRoot(m_ui->root->text());
    p.config.email = m_ui->email->text().trimmed();
    p.config.token = m_ui->secret->text();
    p.config.tokenType = m_ui->usePassword->isChecked() ? ClientConfig::TokenType::Password
                                                        : ClientConfig::TokenType::ApiToken;
    return p;
}

void ConnectionDialog::setBusy(bool busy, const QString &message)
{
    m_ui->buttons->setEnabled(!busy);
    m_ui->message->setText(message);
}

QLabel *ConnectionDialog::errorLabelOf(QLineEdit *field) const
{
    if (field == m_ui->name)
        return m_ui->nameError;
    if (field == m_ui->root)
        return m_ui->rootError;
    if (field == m_ui->email)
        return m_ui->emailError;
    return m_ui->secretError;
}

void ConnectionDialog::setFieldError(QLineEdit *field, const QString &message)
{
    editors::markInvalid(field, message);
    editors::showMessage(errorLabelOf(field), message);
}

void ConnectionDialog::clearFieldErrors()
{
    for (QLineEdit *field : {m_ui->name, m_ui->root, m_ui->email, m_ui->secret})
        setFieldError(field, {});
}

void ConnectionDialog::importConfig()
{
    if (m_shown && kindOf(m_shown) == LocalItem)
        return;
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Import client config"), ClientConfig::defaultPath(), tr("Client config (*.json)"));
    if (path.isEmpty())
        return;
    QString error;
    const auto config = ClientConfig::load(path, &error);
    if (!config) {
        m_ui->message->setText(tr("<span style='color:#d32f2f'>%1</span>").arg(error.toHtmlEscaped()));
        return;
    }
    // Into the new connection, never over a saved one.
    newConnection();
    Form f;
    f.name = QUrl(config->root).host();
    f.root = config->root;
    f.email = config->email;
    f.secret = config->token;
    f.password = config->tokenType == ClientConfig::TokenType::Password;
    setForm(f);
    stashForm();
    m_ui->message->setText(tr("Imported %1. Check the name, then save.").arg(path));
}

void ConnectionDialog::removeProfile()
{
    if (!m_shown || kindOf(m_shown) != SavedItem)
        return;
    const QString name = m_shown->data(NameRole).toString();
    m_drafts.remove(name);
    m_connections->removeProfile(name);
    loadProfiles();
}

void ConnectionDialog::reject()
{
    stashForm();
    if (!m_drafts.isEmpty()) {
        QStringList names = draftNames();
        for (QString &n : names) {
            if (n.isEmpty())
                n = tr("the new connection");
        }
        QMessageBox box(QMessageBox::Question, tr("Unsaved connections"),
                        tr("Discard what you typed for %1?").arg(names.join(QStringLiteral(", "))),
                        QMessageBox::Discard | QMessageBox::Cancel, this);
        box.setDefaultButton(QMessageBox::Cancel);
        box.setObjectName(QStringLiteral("discardDrafts"));
        if (box.exec() != QMessageBox::Discard)
            return;
    }
    QDialog::reject();
}

void ConnectionDialog::connectNow()
{
    if (m_shown && kindOf(m_shown) == LocalItem) {
        m_connections->connectTo(ConnectionProfile::localName());
        QDialog::accept();
        return;
    }
    clearFieldErrors();
    ConnectionProfile p = profileFromForm();
    const QUrl url(p.config.root);
    const QString previousName =
        m_shown && kindOf(m_shown) == SavedItem ? m_shown->data(NameRole).toString() : QString();
    bool taken = p.name == ConnectionProfile::localName();
    for (const ConnectionProfile &other : std::as_const(m_profiles))
        taken = taken || (!other.local && other.name == p.name && other.name != previousName);
    // Every problem next to its field; the focus goes to the first.
    QList<QPair<QLineEdit *, QString>> problems;
    if (p.name.isEmpty())
        problems.append({m_ui->name, tr("Give the connection a name.")});
    else if (taken)
        problems.append(
            {m_ui->name, tr("Another connection is called %1; choose another name.").arg(p.name)});
    if (!url.isValid() || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")) ||
        url.host().isEmpty())
        problems.append({m_ui->root, tr("The server URL must start with http:// or https://.")});
    if (p.config.email.isEmpty())
        problems.append({m_ui->email, tr("Enter the email of your account.")});
    if (p.config.token.isEmpty())
        problems.append({m_ui->secret, p.config.tokenType == ClientConfig::TokenType::Password
                                           ? tr("Enter your password.")
                                           : tr("Enter your API token.")});
    for (const auto &[field, message] : std::as_const(problems))
        setFieldError(field, message);
    if (!problems.isEmpty()) {
        problems.first().first->setFocus(Qt::OtherFocusReason);
        problems.first().first->selectAll();
        return;
    }
    // Saved under its (new) name; a renamed connection leaves no copy under the old one.
    const QString draftKey = m_shown ? keyOf(m_shown) : NewKey;
    auto save = [this, previousName, draftKey](const ConnectionProfile &profile) {
        QString error;
        if (!m_connections->saveProfile(profile, &error)) {
            setFieldError(m_ui->name, error);
            m_ui->name->setFocus(Qt::OtherFocusReason);
            return false;
        }
        if (!previousName.isEmpty() && previousName != profile.name)
            m_connections->removeProfile(previousName);
        m_drafts.remove(draftKey);
        return true;
    };
    if (p.config.tokenType == ClientConfig::TokenType::ApiToken) {
        if (!save(p))
            return;
        m_connections->connectWith(p);
        QDialog::accept();
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
    connect(call, &CallBase::finished, this, [this, call, client, p, save] {
        client->deleteLater();
        if (!call->ok()) {
            setBusy(false);
            // Said next to the field to fix: the password when refused, else the URL.
            const bool refused = call->error().kind == ClientError::Kind::Authentication;
            QLineEdit *field = refused ? m_ui->secret : m_ui->root;
            setFieldError(
                field, refused
                           ? tr("The server refused this email and password: %1").arg(call->error().message)
                           : tr("Cannot sign in: %1").arg(call->error().toString()));
            field->setFocus(Qt::OtherFocusReason);
            return;
        }
        ConnectionProfile saved = p;
        saved.config = call->value();
        if (saved.config.root.isEmpty())
            saved.config.root = p.config.root;
        setBusy(false);
        if (!save(saved))
            return;
        m_connections->connectWith(saved);
        QDialog::accept();
    });
}

} // namespace schedy
