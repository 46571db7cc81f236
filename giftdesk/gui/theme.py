"""Look and feel: Fusion with a palette that follows the system's light/dark setting, and icons.

``apply_theme(app)`` picks the palette from ``styleHints().colorScheme()`` and follows
``colorSchemeChanged`` while the app runs. Icons are monochrome SVGs drawn in ``#1f2328``;
``icon(name)`` recolours them to the palette's text colour so they read in both schemes.
Widgets that need a semantic colour (warning, error, success, muted text) ask ``colors()``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import (QColor, QFont, QFontDatabase, QFontInfo, QGuiApplication, QIcon, QIconEngine, QImage,
                           QPainter, QPalette, QPixmap)
from PySide6.QtWidgets import QApplication

from giftdesk.core.paths import resource_path

log = logging.getLogger(__name__)

ICON_FG = "#1f2328"
ICON_ACCENT = "#5b5bd6"
_ICON_SIZES = (16, 20, 24, 32, 40, 48, 64, 96)


@dataclass(frozen=True)
class Colors:
    dark: bool
    accent: str
    warning: str
    warning_bg: str
    error: str
    success: str
    muted: str
    text: str
    panel: str
    border: str


LIGHT = Colors(False, "#5b5bd6", "#9a5b00", "#fff4d6", "#c62828", "#2e7d32", "#6a737d", "#1f2328", "#f6f7f9", "#d0d7de")
DARK = Colors(True, "#8f8ff7", "#f5b94a", "#3d3119", "#ff7b72", "#6cc37a", "#9198a1", "#e6edf3", "#323539", "#454a52")

_state: dict = {"scheme": None, "forced": None, "connected": False}


def is_dark() -> bool:
    return bool(_state.get("dark"))


def colors() -> Colors:
    return DARK if is_dark() else LIGHT


_R = QPalette.ColorRole

# Per scheme: the roles of the active and inactive groups, then what differs between them
# (the selection), then the disabled group's roles.
_LIGHT = {
    "both": {_R.Window: "#f3f4f6", _R.WindowText: "#1f2328", _R.Base: "#ffffff", _R.AlternateBase: "#f6f8fa",
             _R.Text: "#1f2328", _R.Button: "#f6f7f9", _R.ButtonText: "#1f2328", _R.ToolTipBase: "#ffffff",
             _R.ToolTipText: "#1f2328", _R.PlaceholderText: "#8c959f", _R.Link: "#4848c8",
             _R.BrightText: "#c62828"},
    "active": {_R.Highlight: "#5b5bd6", _R.HighlightedText: "#ffffff"},
    "inactive": {_R.Highlight: "#c9cbf2", _R.HighlightedText: "#1f2328"},
    "disabled": {_R.WindowText: "#8c959f", _R.Text: "#8c959f", _R.ButtonText: "#8c959f", _R.Base: "#f3f4f6",
                 _R.Window: "#f3f4f6", _R.Button: "#eef0f2"},
}
_DARK = {
    # Fields (Base) darker than the window, as Fusion draws frames from the window colour; Fusion
    # derives its bevels from Light/Mid/Dark, set here so they are not computed from a light scheme.
    "both": {_R.Window: "#2b2d31", _R.WindowText: "#e6edf3", _R.Base: "#1c1d20", _R.AlternateBase: "#232529",
             _R.Text: "#e6edf3", _R.Button: "#363a40", _R.ButtonText: "#e6edf3", _R.ToolTipBase: "#2b2e33",
             _R.ToolTipText: "#e6edf3", _R.PlaceholderText: "#7d8590", _R.Link: "#a5a5ff",
             _R.BrightText: "#ff7b72", _R.Light: "#4a4e55", _R.Midlight: "#3c4046", _R.Mid: "#26282c",
             _R.Dark: "#151618", _R.Shadow: "#000000"},
    "active": {_R.Highlight: "#5b5bd6", _R.HighlightedText: "#ffffff"},
    "inactive": {_R.Highlight: "#3a3b66", _R.HighlightedText: "#e6edf3"},
    "disabled": {_R.WindowText: "#6e7681", _R.Text: "#6e7681", _R.ButtonText: "#6e7681", _R.Base: "#25272a",
                 _R.Window: "#2b2d31", _R.Button: "#2f3236", _R.Light: "#2b2d31"},
}


def _palette(scheme: dict) -> QPalette:
    p = QPalette()
    groups = {"active": QPalette.ColorGroup.Active, "inactive": QPalette.ColorGroup.Inactive,
              "disabled": QPalette.ColorGroup.Disabled}
    for role, colour in scheme["both"].items():
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            p.setColor(group, role, QColor(colour))
    for name in ("active", "inactive", "disabled"):
        for role, colour in scheme[name].items():
            p.setColor(groups[name], role, QColor(colour))
    return p


def _light_palette() -> QPalette:
    return _palette(_LIGHT)


def _dark_palette() -> QPalette:
    return _palette(_DARK)


def _stylesheet(c: Colors) -> str:
    """Small touches Fusion lacks; colours come from ``Colors`` so both schemes read well."""
    base = ""
    path = resource_path("style.qss")
    try:
        base = path.read_text(encoding="utf-8")
    except OSError:
        pass
    return base + f"""
QLabel[role="muted"] {{ color: {c.muted}; }}
QLabel[role="heading"] {{ font-size: 15pt; font-weight: 600; }}
QLabel[role="subheading"] {{ font-weight: 600; }}
QLabel[role="error"] {{ color: {c.error}; }}
QLabel[role="success"] {{ color: {c.success}; }}
QLabel[role="warning"] {{ color: {c.warning}; background: {c.warning_bg}; border-radius: 4px; padding: 2px 8px; }}
QLabel[role="banner-warning"] {{ color: {c.warning}; background: {c.warning_bg}; border: 1px solid {c.warning};
    border-radius: 6px; padding: 8px 10px; }}
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"], QSpinBox[invalid="true"] {{ border: 1px solid {c.error}; }}
QFrame[role="card"] {{ background: {c.panel}; border: 1px solid {c.border}; border-radius: 8px; }}
QStatusBar QLabel {{ padding: 0 6px; }}
QTabWidget::pane {{ border-top: 1px solid {c.border}; }}
"""


def scheme_from_system() -> str:
    hints = QGuiApplication.styleHints()
    return "dark" if hints.colorScheme() == Qt.ColorScheme.Dark else "light"


def apply_theme(app: QApplication, scheme: str | None = None) -> str:
    """Fusion + palette for ``scheme`` ("light", "dark" or None: follow the system). Returns the scheme."""
    app.setStyle("Fusion")
    apply_font_fallbacks(app)
    _state["forced"] = scheme
    chosen = scheme or scheme_from_system()
    _set_scheme(app, chosen)
    if not _state["connected"]:
        QGuiApplication.styleHints().colorSchemeChanged.connect(lambda *_: _follow_system(app))
        _state["connected"] = True
    return chosen


# Where the UI font lacks a glyph (an emoji or a symbol in a customer's name), Qt tries these next,
# in order, instead of drawing a box. Only those the system has are added.
FALLBACK_FAMILIES = ("Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", "Twemoji", "Noto Emoji",
                     "Segoe UI Symbol", "Noto Sans Symbols", "Noto Sans Symbols 2", "Symbola", "DejaVu Sans")


def with_fallbacks(font: QFont) -> QFont:
    """``font`` with the installed emoji and symbol families after its own."""
    installed = set(QFontDatabase.families())
    own = list(font.families()) or [font.family()]
    # After an alias ("Sans Serif") the first real family in the list would become the main font (an
    # emoji font's metrics everywhere, labels thousands of pixels wide): the family it resolves to goes first.
    resolved = QFontInfo(font).family()
    if resolved in installed:
        own = [resolved] + [f for f in own if f != resolved]
    font = QFont(font)
    font.setFamilies(own + [f for f in FALLBACK_FAMILIES if f in installed and f not in own])
    return font


def apply_font_fallbacks(app: QApplication) -> None:
    app.setFont(with_fallbacks(app.font()))


def _follow_system(app: QApplication) -> None:
    if _state.get("forced"):
        return
    scheme = scheme_from_system()
    if scheme != _state.get("scheme"):
        log.info("System colour scheme changed to %s", scheme)
        _set_scheme(app, scheme)


def _set_scheme(app: QApplication, scheme: str) -> None:
    _state["scheme"] = scheme
    _state["dark"] = scheme == "dark"
    _cached_icon.cache_clear()
    app.setPalette(_dark_palette() if scheme == "dark" else _light_palette())
    app.setStyleSheet(_stylesheet(colors()))
    for listener in list(_listeners):
        try:
            listener()
        except Exception:  # a stale listener must not break the theme switch
            log.exception("Theme listener failed")


_listeners: list = []


def set_role(widget, role: str | None) -> None:
    """Gives ``widget`` the style sheet's colours of ``role`` ("success", "error", "muted", …;
    None: none): the property, then a new polish so the style sheet reads it again."""
    widget.setProperty("role", role)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def on_theme_changed(callback) -> None:
    """``callback()`` after each palette switch (e.g. to re-fetch icons)."""
    _listeners.append(callback)


def remove_theme_listener(callback) -> None:
    if callback in _listeners:
        _listeners.remove(callback)


# ---- icons ---------------------------------------------------------------------------------
def svg_data(name: str) -> bytes | None:
    path = resource_path("icons", f"{name}.svg")
    try:
        return path.read_bytes()
    except OSError:
        log.warning("Icon %s not found at %s", name, path)
        return None


def render_svg(data: bytes, size: int, ratio: float = 1.0) -> QPixmap:
    from PySide6.QtSvg import QSvgRenderer

    pixels = max(1, round(size * ratio))
    image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    renderer = QSvgRenderer(QByteArray(data))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, pixels, pixels))
    painter.end()
    pixmap = QPixmap.fromImage(image)
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


class _SvgIconEngine(QIconEngine):
    """Renders an SVG at the size and mode asked for, on first use, and keeps the pixmap.

    Rendering every icon at every size up front cost a quarter of a second at start-up.
    """

    def __init__(self, normal: bytes, disabled: bytes | None = None):
        super().__init__()
        self._normal = normal
        self._disabled = disabled if disabled is not None else normal
        self._pixmaps: dict[tuple[int, int, bool], QPixmap] = {}

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        disabled = mode == QIcon.Mode.Disabled
        side = max(1, min(size.width(), size.height()))
        key = (side, 0, disabled)
        cached = self._pixmaps.get(key)
        if cached is None:
            cached = render_svg(self._disabled if disabled else self._normal, side)
            self._pixmaps[key] = cached
        return cached

    def paint(self, painter: QPainter, rect, mode: QIcon.Mode, state: QIcon.State) -> None:
        painter.drawPixmap(rect, self.pixmap(rect.size(), mode, state))

    def availableSizes(self, mode=QIcon.Mode.Normal, state=QIcon.State.Off) -> list[QSize]:
        return [QSize(s, s) for s in _ICON_SIZES]

    def clone(self) -> "_SvgIconEngine":
        return _SvgIconEngine(self._normal, self._disabled)


_engines: list[QIconEngine] = []  # the QIcons own them in C++; keep the Python side alive too


def _svg_icon(normal: bytes, disabled: bytes | None = None) -> QIcon:
    engine = _SvgIconEngine(normal, disabled)
    _engines.append(engine)
    return QIcon(engine)


@lru_cache(maxsize=128)
def _cached_icon(name: str, dark: bool) -> QIcon:
    data = svg_data(name)
    if data is None:
        return QIcon()
    c = DARK if dark else LIGHT
    tinted = data.replace(ICON_FG.encode(), c.text.encode()).replace(ICON_ACCENT.encode(), c.accent.encode())
    disabled = data.replace(ICON_FG.encode(), c.muted.encode()).replace(ICON_ACCENT.encode(), c.muted.encode())
    return _svg_icon(tinted, disabled)


def icon(name: str) -> QIcon:
    """A themed icon from ``resources/icons/<name>.svg``."""
    return _cached_icon(name, is_dark())


@lru_cache(maxsize=1)
def app_icon() -> QIcon:
    data = svg_data("giftdesk")
    if data is not None:
        return _svg_icon(data)
    png = resource_path("icons", "giftdesk.png")
    if png.exists():
        return QIcon(str(png))
    log.warning("No application icon in %s", resource_path("icons"))
    return QIcon()


def icon_size(size: int = 16) -> QSize:
    return QSize(size, size)
