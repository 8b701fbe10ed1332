#pragma once

#include "ClientConfig.h"

#include <QString>
#include <QStringList>

#include <optional>

// The commands of `schedy` (docs/cli.md). Each returns the process exit code.
namespace schedy::cli {

struct GlobalOptions
{
    QString configPath; // empty: ClientConfig::defaultPath()
    int retries = 9;    // attempts after the first on connection errors, 500 and 503

    QString config() const { return configPath.isEmpty() ? ClientConfig::defaultPath() : configPath; }
};

int runCommand(const QString &command, const QStringList &args, GlobalOptions global);
QString mainUsage();
// Usage of one command; empty for an unknown one.
QString commandUsage(const QString &command);

} // namespace schedy::cli
