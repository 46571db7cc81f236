"""An informative page for areas that arrive in a later release: what it will do, what works now."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from giftdesk.gui import theme


class PlaceholderTab(QWidget):
    def __init__(self, icon_name: str, title: str, summary: str, points: list[str], meanwhile: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self._icon_name = icon_name
        outer = QVBoxLayout(self)
        outer.addStretch(2)
        card = QFrame(self)
        card.setProperty("role", "card")
        card.setFixedWidth(600)  # a fixed width lets the wrapped labels compute their height
        layout = QVBoxLayout(card)
        layout.setContentsMargins(32, 28, 32, 28)
        layout.setSpacing(10)
        self.icon = QLabel(card)
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.icon)
        heading = QLabel(title, card)
        heading.setProperty("role", "heading")
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(heading)
        badge = QLabel("Arrives in a later release", card)
        badge.setProperty("role", "muted")
        badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(badge)
        text = QLabel(summary, card)
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addSpacing(4)
        layout.addWidget(text)
        if points:
            layout.addSpacing(4)
            for point in points:
                line = QHBoxLayout()
                line.setContentsMargins(20, 0, 0, 0)
                dot = QLabel("•", card)
                dot.setAlignment(Qt.AlignmentFlag.AlignTop)
                dot.setFixedWidth(14)
                text_label = QLabel(point, card)
                text_label.setWordWrap(True)
                line.addWidget(dot)
                line.addWidget(text_label, 1)
                layout.addLayout(line)
            layout.addSpacing(4)
        if meanwhile:
            now = QLabel(meanwhile, card)
            now.setWordWrap(True)
            now.setProperty("role", "muted")
            now.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(now)
        row = QHBoxLayout()  # stretches, not an alignment flag: alignment breaks height-for-width
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(3)
        self.refresh_icon()
        theme.on_theme_changed(self.refresh_icon)

    def refresh_icon(self) -> None:
        self.icon.setPixmap(theme.icon(self._icon_name).pixmap(56, 56))

    def shutdown(self) -> None:
        theme.remove_theme_listener(self.refresh_icon)


def instances_page(parent: QWidget | None = None) -> PlaceholderTab:
    return PlaceholderTab(
        "instances", "Tracker instances",
        "Fleet management — running a gift-tracker container per TikTok account on your Docker engine — "
        "arrives in a later release.",
        [
            "Deploy a tracker for an account with its API key and a free port from the configured range",
            "Start, stop, restart and remove containers, one at a time or all at once",
            "Follow each tracker's status and logs live",
        ],
        "Today: issue keys in API Keys and Customer Accounts; trackers you run yourself already talk to "
        "the built-in endpoint shown in the status bar.",
        parent,
    )
