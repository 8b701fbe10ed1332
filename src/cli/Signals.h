#pragma once

#include <QObject>
#include <QSocketNotifier>

#include <memory>

namespace schedy::cli {

// Turns SIGINT and SIGTERM into a Qt signal delivered by the event loop (the
// handler only writes the signal number to a socket pair).
class SignalWatcher : public QObject
{
    Q_OBJECT
public:
    SignalWatcher();
    ~SignalWatcher() override;

Q_SIGNALS:
    void received(int signal);

private:
    std::unique_ptr<QSocketNotifier> m_notifier;
};

} // namespace schedy::cli
