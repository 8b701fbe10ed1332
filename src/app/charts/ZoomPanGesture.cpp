#include "ZoomPanGesture.h"

#include <QMouseEvent>
#include <QRubberBand>
#include <QWheelEvent>

#include <cmath>

namespace schedy::charts {

ZoomPanGesture::ZoomPanGesture(QWidget *surface, Actions actions)
    : m_surface(surface)
    , m_actions(std::move(actions))
{}

void ZoomPanGesture::press(const QMouseEvent &event)
{
    m_pressPos = m_lastPos = event.position().toPoint();
    if (m_actions.pressed)
        m_actions.pressed();
    const Qt::MouseButton button = event.button();
    if (button == Qt::RightButton || button == Qt::MiddleButton ||
        (button == Qt::LeftButton && (event.modifiers() & Qt::ShiftModifier))) {
        m_drag = Drag::Pan;
        m_surface->setCursor(Qt::ClosedHandCursor);
    } else if (button == Qt::LeftButton) {
        m_drag = Drag::Pending;
    }
}

void ZoomPanGesture::move(const QMouseEvent &event)
{
    const QPoint pos = event.position().toPoint();
    switch (m_drag) {
    case Drag::None:
        if (m_actions.hover)
            m_actions.hover(pos);
        break;
    case Drag::Pending:
        // A hand never holds perfectly still: a click may move a little.
        if ((pos - m_pressPos).manhattanLength() < 5)
            break;
        m_drag = Drag::Zoom;
        if (!m_rubberBand)
            m_rubberBand = new QRubberBand(QRubberBand::Rectangle, m_surface);
        m_rubberBand->show();
        Q_FALLTHROUGH();
    case Drag::Zoom:
        m_rubberBand->setGeometry(QRect(m_pressPos, pos).normalized());
        break;
    case Drag::Pan: {
        const QPoint d = pos - m_lastPos;
        if (!d.isNull())
            m_actions.pan(-d.x(), d.y());
        break;
    }
    }
    m_lastPos = pos;
}

void ZoomPanGesture::release(const QMouseEvent &event)
{
    const QPoint pos = event.position().toPoint();
    const Drag drag = m_drag;
    m_drag = Drag::None;
    m_surface->unsetCursor();
    if (drag == Drag::Zoom) {
        m_rubberBand->hide();
        m_actions.zoomTo(QRectF(QPointF(m_pressPos), QPointF(pos)).normalized());
    } else if (drag == Drag::Pending && event.button() == Qt::LeftButton && m_actions.click) {
        m_actions.click(pos, event.modifiers());
    }
}

void ZoomPanGesture::doubleClick(const QMouseEvent &event)
{
    const QPoint pos = event.position().toPoint();
    if (event.button() == Qt::LeftButton && !(m_actions.hasJobAt && m_actions.hasJobAt(pos)))
        m_actions.reset();
}

void ZoomPanGesture::wheel(const QWheelEvent &event)
{
    const qreal steps = event.angleDelta().y() / 120.0;
    if (steps != 0)
        m_actions.zoomBy(std::pow(1.2, steps), event.position());
}

} // namespace schedy::charts
