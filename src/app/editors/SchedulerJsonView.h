#pragma once

#include "Types.h"

#include <QWidget>

#include <memory>
#include <optional>

namespace Ui {
class SchedulerJsonView;
}

namespace schedy {

// The scheduler definition as raw JSON (the "scheduler" value of docs/protocol.md
// section 3), editable. Text that the core codec accepts is announced with
// schedulerEdited(); anything else says why, with line and column.
class SchedulerJsonView : public QWidget
{
    Q_OBJECT
public:
    explicit SchedulerJsonView(QWidget *parent = nullptr);
    ~SchedulerJsonView() override;

    // Shows `scheduler` (the form's state). Text that already decodes to the
    // same value is left alone, so the cursor stays where the user typed.
    void setScheduler(const Scheduler &scheduler);
    // The text decoded, when valid.
    std::optional<Scheduler> scheduler() const { return m_scheduler; }
    bool isValid() const { return m_error.isEmpty(); }
    QString error() const { return m_error; }
    QString text() const;
    // A note above the text, e.g. that the form has problems and the text shows the last valid state.
    void setNote(const QString &note);

Q_SIGNALS:
    // The user's text decodes to this scheduler.
    void schedulerEdited(const schedy::Scheduler &scheduler);
    // The user's text changed (valid or not).
    void edited();

private:
    void onTextChanged();
    void reformat();
    void showText(const Scheduler &scheduler);

    std::unique_ptr<Ui::SchedulerJsonView> m_ui;
    std::optional<Scheduler> m_scheduler;
    QString m_error;
    bool m_settingText = false;
};

} // namespace schedy
