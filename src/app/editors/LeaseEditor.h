#pragma once

#include "Types.h"

#include <QGroupBox>

#include <optional>

class QCheckBox;
class QSpinBox;

namespace schedy {

// The "Lost workers" section of the experiment editor (docs/protocol.md 8.3):
// whether a RUNNING job whose worker fell silent is declared lost, after how
// many seconds, and how many times it is replaced.
class LeaseEditor : public QGroupBox
{
    Q_OBJECT
public:
    explicit LeaseEditor(QWidget *parent = nullptr);

    void setLease(const std::optional<LeaseSpec> &lease); // emits nothing
    std::optional<LeaseSpec> lease() const;               // nullopt: jobs are never declared lost

Q_SIGNALS:
    void edited();

private:
    void showState();

    QCheckBox *m_enabled;
    QSpinBox *m_seconds;
    QSpinBox *m_retries;
};

} // namespace schedy
