"""A label that elides its text only when it does not fit, with the whole text in its tool tip."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ClickableLabel(QLabel):
    clicked = Signal()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt)
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.clicked.emit()
        super().mouseReleaseEvent(event)


class ElidedLabel(ClickableLabel):
    """Plain text elided at the right only when it does not fit; then the whole text is in the tool tip.

    ``max_width``: the most it asks for (permanent labels); without it, as wide as its text."""

    def __init__(self, text: str = "", parent: QWidget | None = None, max_width: int | None = None):
        super().__init__(parent)
        self._full = ""
        self._tip = ""
        self._max_width = max_width
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def text(self) -> str:  # noqa: D102 (the whole text, not the elided one)
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 (Qt)
        self._full = text or ""
        self.updateGeometry()
        self._elide()

    def setToolTip(self, tip: str) -> None:  # noqa: N802 (Qt)
        self._tip = tip or ""
        self._elide()

    def is_elided(self) -> bool:
        return super().text() != self._full

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt)
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self._full) + margins.left() + margins.right() + 2
        if self._max_width is not None:
            width = min(width, self._max_width)
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt)
        return QSize(min(self.sizeHint().width(), self.fontMetrics().horizontalAdvance("Mmmmm…")),
                     super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(width, 0))
        QLabel.setText(self, shown)
        tip = self._tip
        if shown != self._full:
            tip = self._full + (f"\n\n{tip}" if tip and tip != self._full else "")
        QLabel.setToolTip(self, tip)
