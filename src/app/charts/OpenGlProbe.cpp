#include "OpenGlProbe.h"

#include <QGuiApplication>
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QOpenGLFunctions>

namespace schedy::charts {

namespace {

struct Probe
{
    bool available = false;
    QString renderer;
};

Probe probe()
{
    Probe result;
    if (!QGuiApplication::instance())
        return result;
    if (qEnvironmentVariableIsSet("SCHEDY_CHARTS_OPENGL") &&
        qEnvironmentVariableIntValue("SCHEDY_CHARTS_OPENGL") == 0)
        return result;
    const QString platform = QGuiApplication::platformName();
    if (platform == QLatin1String("offscreen") || platform == QLatin1String("minimal") ||
        platform == QLatin1String("vnc"))
        return result;
    QOpenGLContext context;
    if (!context.create() || !context.isValid())
        return result;
    QOffscreenSurface surface;
    surface.setFormat(context.format());
    surface.create();
    if (!surface.isValid() || !context.makeCurrent(&surface))
        return result;
    const auto *renderer = reinterpret_cast<const char *>(context.functions()->glGetString(GL_RENDERER));
    result.renderer = QString::fromLatin1(renderer ? renderer : "");
    context.doneCurrent();
    result.available = true;
    return result;
}

const Probe &probed()
{
    static const Probe result = probe();
    return result;
}

} // namespace

bool OpenGlProbe::available()
{
    return probed().available;
}

QString OpenGlProbe::renderer()
{
    return probed().renderer;
}

bool OpenGlProbe::isSoftware()
{
    const QString r = renderer().toLower();
    return r.contains(QLatin1String("llvmpipe")) || r.contains(QLatin1String("softpipe")) ||
           r.contains(QLatin1String("swrast")) || r.contains(QLatin1String("swiftshader"));
}

bool OpenGlProbe::worthwhile()
{
    if (!available())
        return false;
    return !isSoftware() || qEnvironmentVariableIntValue("SCHEDY_CHARTS_OPENGL") == 1;
}

} // namespace schedy::charts
