#pragma once

#include <QString>

namespace schedy::charts {

// Whether Qt Charts' OpenGL series may be used: never on the offscreen and
// minimal platforms (Qt Charts crashes there), only when a real context can
// be created and made current, and not when SCHEDY_CHARTS_OPENGL=0. Probed
// once per process; needs a QGuiApplication.
class OpenGlProbe
{
public:
    static bool available();
    // GL_RENDERER of the probed context (empty when unavailable).
    static QString renderer();
    // A software rasteriser (llvmpipe, softpipe, SwiftShader): slower than
    // painting with QPainter, measured in docs/performance.md.
    static bool isSoftware();
    // OpenGL is worth it: available and accelerated, or asked for with
    // SCHEDY_CHARTS_OPENGL=1.
    static bool worthwhile();
};

} // namespace schedy::charts
