#pragma once

#include <QPoint>
#include <QPointer>
#include <QRect>

#include <functional>

class QMouseEvent;
class QRubberBand;
class QWheelEvent;
class QWidget;

namespace schedy::charts {

// The mouse gestures every zoomable chart shares, so that they behave alike:
// a left drag draws a rectangle to zoom into; a right or middle drag (or
// Shift and the left one) pans; the wheel zooms about the pointer; a left
// press and release that did not move is a click; a double-click where no
// job is resets. Each chart says what a gesture means for it, in the
// surface's pixels (the widget that gets the mouse events).
class ZoomPanGesture
{
public:
    struct Actions
    {
        std::function<void(const QPoint &)> hover;  // moved with no button down
        std::function<void()> pressed;              // any button went down
        std::function<void(const QRectF &)> zoomTo; // the rectangle dragged
        std::function<void(int dx, int dy)> pan;    // positive dx shows what is to the right
        std::function<void(qreal factor, const QPointF &at)> zoomBy;
        std::function<void(const QPoint &, Qt::KeyboardModifiers)> click;
        std::function<bool(const QPoint &)> hasJobAt; // a double-click there does not reset
        std::function<void()> reset;
    };

    ZoomPanGesture(QWidget *surface, Actions actions);

    bool isDragging() const { return m_drag != Drag::None; }
    void press(const QMouseEvent &event);
    void move(const QMouseEvent &event);
    void release(const QMouseEvent &event);
    void doubleClick(const QMouseEvent &event);
    void wheel(const QWheelEvent &event);

private:
    enum class Drag { None, Pending, Zoom, Pan };
    QWidget *m_surface;
    Actions m_actions;
    Drag m_drag = Drag::None;
    QPoint m_pressPos;
    QPoint m_lastPos;
    QPointer<QRubberBand> m_rubberBand;
};

} // namespace schedy::charts
