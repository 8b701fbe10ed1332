#include "SchedulerJsonView.h"

#include "Codec.h"
#include "EditorSupport.h"
#include "Json.h"
#include "ui_SchedulerJsonView.h"

#include <QFontDatabase>

namespace schedy {

SchedulerJsonView::SchedulerJsonView(QWidget *parent)
    : QWidget(parent)
    , m_ui(std::make_unique<Ui::SchedulerJsonView>())
{
    m_ui->setupUi(this);
    editors::prepareMessageLabels(this);
    m_ui->jsonHint->setForegroundRole(QPalette::PlaceholderText);
    m_ui->jsonEdit->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    connect(m_ui->jsonEdit, &QPlainTextEdit::textChanged, this, &SchedulerJsonView::onTextChanged);
    connect(m_ui->formatButton, &QPushButton::clicked, this, &SchedulerJsonView::reformat);
    showText(Scheduler{});
}

SchedulerJsonView::~SchedulerJsonView() = default;

QString SchedulerJsonView::text() const
{
    return m_ui->jsonEdit->toPlainText();
}

void SchedulerJsonView::setScheduler(const Scheduler &scheduler)
{
    if (m_scheduler && *m_scheduler == scheduler && isValid())
        return;
    showText(scheduler);
}

void SchedulerJsonView::showText(const Scheduler &scheduler)
{
    m_settingText = true;
    m_ui->jsonEdit->setPlainText(QString::fromUtf8(json::writeIndented(codec::encode(scheduler))));
    m_settingText = false;
    m_scheduler = scheduler;
    m_error.clear();
    editors::showMessage(m_ui->jsonError, {});
}

void SchedulerJsonView::setNote(const QString &note)
{
    editors::showMessage(m_ui->noteError, note);
}

void SchedulerJsonView::reformat()
{
    if (m_scheduler && isValid())
        showText(*m_scheduler);
}

void SchedulerJsonView::onTextChanged()
{
    if (m_settingText)
        return;
    const QByteArray utf8 = m_ui->jsonEdit->toPlainText().toUtf8();
    json::ParseError pe;
    const QCborValue value = json::parse(utf8, &pe);
    if (pe.isError()) {
        // Where, in the terms of the editor: line and column of the byte offset.
        const QString before = QString::fromUtf8(utf8.left(std::max<qsizetype>(0, pe.offset)));
        const qsizetype line = before.count(QLatin1Char('\n')) + 1;
        const qsizetype column = before.size() - before.lastIndexOf(QLatin1Char('\n'));
        m_error = tr("line %1, column %2: %3").arg(line).arg(column).arg(pe.message);
    } else {
        const auto decoded = codec::decodeScheduler(value);
        if (decoded) {
            m_error.clear();
            m_scheduler = decoded.value();
        } else {
            m_error = decoded.error().message();
        }
    }
    editors::showMessage(m_ui->jsonError, m_error);
    if (m_error.isEmpty()) {
        setNote({});
        Q_EMIT schedulerEdited(*m_scheduler);
    }
    Q_EMIT edited();
}

} // namespace schedy
