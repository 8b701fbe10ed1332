// schedy-dashboard: browse and monitor Schedy experiments.
#include "ConnectionManager.h"
#include "MainWindow.h"

#include <QApplication>
#include <QCommandLineParser>

#include <cstdio>

int main(int argc, char **argv)
{
    Q_INIT_RESOURCE(resources); // lives in a static library
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("schedy"));
    QApplication::setOrganizationName(QStringLiteral("schedy"));
    QApplication::setApplicationDisplayName(QStringLiteral("Schedy"));
    QApplication::setApplicationVersion(QStringLiteral(SCHEDY_VERSION));
    // The .desktop file's id, so that Wayland shells match the window to it (packaging/).
    QApplication::setDesktopFileName(QStringLiteral(SCHEDY_APP_ID));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/schedy.svg")));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Schedy dashboard: browse and monitor hyperparameter searches."));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption connection(QStringLiteral("connection"),
                                  QStringLiteral("Connect to this saved connection."),
                                  QStringLiteral("name"));
    QCommandLineOption local(QStringLiteral("local"), QStringLiteral("Use the embedded local server."));
    QCommandLineOption selfTest(
        QStringLiteral("self-test"),
        QStringLiteral("Start as usual, show the window and connect, print the outcome, then quit: exit "
                       "status 0 once connected, 1 when the connection fails. Checks an installation."));
    parser.addOptions({connection, local, selfTest});
    parser.process(app);

    schedy::ConnectionManager connections;
    schedy::MainWindow window(&connections);
    window.show();
    if (parser.isSet(selfTest)) {
        QObject::connect(&connections, &schedy::ConnectionManager::stateChanged, &app,
                         [](schedy::ConnectionManager::State state, const QString &message) {
                             using State = schedy::ConnectionManager::State;
                             if (state != State::Connected && state != State::Unreachable &&
                                 state != State::CredentialsRefused)
                                 return;
                             std::printf("schedy-dashboard: %s: %s\n",
                                         state == State::Connected ? "connected" : "not connected",
                                         qPrintable(message));
                             QCoreApplication::exit(state == State::Connected ? 0 : 1);
                         });
    }
    if (parser.isSet(local))
        connections.connectTo(schedy::ConnectionProfile::localName());
    else if (parser.isSet(connection))
        connections.connectTo(parser.value(connection));
    else
        connections.connectTo(connections.lastProfile());
    return app.exec();
}
