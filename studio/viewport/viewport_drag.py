"""What every drag on the 3D view shares: it is an event filter on the interactor that
takes a left press only when ``_press`` grabs something (else the press goes on to the
next filter and the camera), then owns the moves and the release; Esc drops it and the
document's preview, so what was dragged goes back."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt


class ViewportDrag(QObject):
    """Subclasses set ``self._document`` and implement ``_press(x, y) -> bool`` (grab
    or not), ``_move(x, y)`` and ``_release()``, in Qt pixels; ``self._drag`` holds a
    drag's state (None when none is going on)."""

    _drag: dict | None = None

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            return self._press(event.position().x(), event.position().y())
        if kind == QEvent.Type.MouseMove and self._drag is not None:
            self._move(event.position().x(), event.position().y())
            return True
        if kind == QEvent.Type.MouseMove and not event.buttons():
            self._hover(event.position().x(), event.position().y())
            return False
        if kind == QEvent.Type.MouseButtonRelease and self._drag is not None:
            self._release()
            return True
        if kind == QEvent.Type.KeyPress and self._drag is not None \
                and event.key() == Qt.Key.Key_Escape:
            self.cancel()
            return True
        return False

    def _hover(self, x: float, y: float) -> None:
        """The pointer moved with no button down (to show what a press would grab)."""

    def cancel(self) -> None:
        """Drop a drag in progress: what it moved goes back."""
        if self._drag is not None:
            self._drag = None
            self._document.cancel_preview()

    @property
    def dragging(self) -> bool:
        return self._drag is not None
