#include "WorkerSetupDialog.h"

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QFile>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace schedy {

WorkerSetupDialog::WorkerSetupDialog(const ConnectionProfile &profile, QWidget *parent)
    : QDialog(parent)
    , m_config(profile.config)
{
    setWindowTitle(tr("Worker setup"));
    resize(620, 420);
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(this);
    intro->setWordWrap(true);
    intro->setTextInteractionFlags(Qt::TextSelectableByMouse);
    intro->setText(
        tr("<p>Workers connect to <b>%1</b> as <b>%2</b>.</p>"
           "<p>The original Python client, the <tt>schedy</tt> command line and libschedy read their "
           "settings from <tt>~/.schedy/client.json</tt>:</p>")
            .arg(m_config.root.toHtmlEscaped(), m_config.email.toHtmlEscaped()));
    layout->addWidget(intro);
    auto *text = new QPlainTextEdit(QString::fromUtf8(m_config.toJson()), this);
    text->setReadOnly(true);
    text->setFont(QFont(QStringLiteral("monospace")));
    layout->addWidget(text);
    auto *example = new QLabel(
        tr("<p>Then, for example: <tt>schedy run MyExperiment python train.py --hyperparameters %h</tt> "
           "— <tt>%h</tt> is all the hyperparameters as one JSON object, such as "
           "<tt>{\"lr\":0.01,\"layers\":3}</tt>.</p>"),
        this);
    example->setWordWrap(true);
    example->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(example);
    m_message = new QLabel(this);
    m_message->setWordWrap(true);
    layout->addWidget(m_message);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto *write = buttons->addButton(tr("Write ~/.schedy/client.json"), QDialogButtonBox::ActionRole);
    auto *copy = buttons->addButton(tr("Copy"), QDialogButtonBox::ActionRole);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(copy, &QPushButton::clicked, this, [this] {
        QApplication::clipboard()->setText(QString::fromUtf8(m_config.toJson()));
        m_message->setText(tr("Copied to the clipboard."));
    });
    connect(write, &QPushButton::clicked, this, [this] {
        QString message;
        writeConfig(this, m_config, ClientConfig::defaultPath(), &message);
        m_message->setText(message);
    });
    if (m_config.token.isEmpty()) {
        write->setEnabled(false);
        copy->setEnabled(false);
        m_message->setText(tr("Not connected yet."));
    }
}

bool WorkerSetupDialog::writeConfig(QWidget *parent, const ClientConfig &config, const QString &path,
                                    QString *message)
{
    if (QFile::exists(path)) {
        QString error;
        const auto existing = ClientConfig::load(path, &error);
        if (existing && *existing == config) {
            *message = tr("%1 already holds this config.").arg(path);
            return true;
        }
        const auto answer = QMessageBox::question(
            parent, tr("Replace client config?"),
            tr("%1 exists%2. Replace it? Workers using it will then connect to %3.")
                .arg(path, existing ? tr(" (for %1 at %2)").arg(existing->email, existing->root) : QString(),
                     config.root),
            QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
        if (answer != QMessageBox::Yes) {
            *message = tr("%1 was left unchanged.").arg(path);
            return false;
        }
    }
    QString error;
    if (!config.save(path, &error)) {
        *message = error;
        return false;
    }
    *message = tr("Written to %1 (readable only by you).").arg(path);
    return true;
}

} // namespace schedy
