// schedy-dashboard: browse and monitor Schedy experiments.
#include "ConnectionManager.h"
#include "MainWindow.h"

#include <QApplication>
#include <QCommandLineParser>

int main(int argc, char **argv)
{
    Q_INIT_RESOURCE(resources); // lives in a static library
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("schedy"));
    QApplication::setOrganizationName(QStringLiteral("schedy"));
    QApplication::setApplicationDisplayName(QStringLiteral("Schedy"));
    QApplication::setApplicationVersion(QStringLiteral(SCHEDY_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("schedy-dashboard"));
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
    parser.addOptions({connection, local});
    parser.process(app);

    schedy::ConnectionManager connections;
    schedy::MainWindow window(&connections);
    window.show();
    if (parser.isSet(local))
        connections.connectTo(schedy::ConnectionProfile::localName());
    else if (parser.isSet(connection))
        connections.connectTo(parser.value(connection));
    else
        connections.connectTo(connections.lastProfile());
    return app.exec();
}
