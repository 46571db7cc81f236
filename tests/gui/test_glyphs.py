"""A customer's name with an emoji or a symbol renders those glyphs, not the missing-glyph box."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QFontDatabase, QFontInfo, QFontMetrics, QRawFont, QTextLayout
from PySide6.QtWidgets import QApplication, QLabel

from giftdesk.gui import theme

NAME = "Zoë Müller 🎁 ★ ✓"


def _glyph_runs(text: str, font) -> list[tuple[str, list[int]]]:
    layout = QTextLayout(text, font)
    layout.beginLayout()
    layout.createLine()
    layout.endLayout()
    return [(run.rawFont().familyName(), list(run.glyphIndexes())) for run in layout.glyphRuns()]


def _covering_families(char: str) -> list[str]:
    return [f for f in theme.FALLBACK_FAMILIES if f in QFontDatabase.families()
            and QRawFont.fromFont(_font(f)).supportsCharacter(ord(char))]


def _font(family: str):
    from PySide6.QtGui import QFont

    return QFont(family)


def test_the_application_font_falls_back_to_emoji_and_symbol_fonts(qapp):
    if not _covering_families("🎁"):
        pytest.skip("no emoji font on this system (fonts-noto-color-emoji on Debian)")
    families = QApplication.font().families()
    # The UI font stays the main one (its metrics size every label), the fallbacks after it.
    assert QFontInfo(QApplication.font()).family() not in _covering_families("🎁")
    assert QFontMetrics(QApplication.font()).averageCharWidth() < 20
    assert set(_covering_families("🎁")) & set(families[1:])
    assert set(_covering_families("★")) & set(families)


def test_a_name_with_an_emoji_and_a_symbol_has_no_missing_glyph(qapp, qtbot):
    if not _covering_families("🎁"):
        pytest.skip("no emoji font on this system (fonts-noto-color-emoji on Debian)")
    label = QLabel(NAME)
    qtbot.addWidget(label)
    runs = _glyph_runs(NAME, label.font())
    assert runs and all(0 not in glyphs for _family, glyphs in runs), runs  # glyph 0: the box
    assert any(family in _covering_families("🎁") for family, _glyphs in runs)
    for scheme in ("light", "dark"):
        theme.apply_theme(qapp, scheme)
        label.resize(label.sizeHint())
        label.grab().save(f"/tmp/glyphs-{scheme}.png")
    theme.apply_theme(qapp, "light")
