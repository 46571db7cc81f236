"""The profile dialog's preferences and links pages, and the detail that shows them, driven with
the keyboard and mouse; screenshots in both palettes for a look at alignment and clipping."""

from __future__ import annotations

import os

import pytest

from giftdesk.gui import theme
from tests.gui.conftest import idle
from tests.gui.test_social_stats import LEFT, click_row, make_tab, names, wait_detail  # noqa: F401

SHOTS = os.environ.get("GIFTDESK_SHOTS")  # a directory: the test saves its screenshots there


def _shot(widget, name: str) -> None:
    if SHOTS:
        widget.grab().save(os.path.join(SHOTS, f"{name}.png"))


def _type(qtbot, widget, text: str) -> None:
    widget.clear()
    qtbot.keyClicks(widget, text)


def _show_page(qtbot, dialog, title: str) -> None:
    bar = dialog.tabs.tabBar()
    index = next(i for i in range(dialog.tabs.count()) if dialog.tabs.tabText(i) == title)
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(index).center())
    assert dialog.tabs.currentIndex() == index


@pytest.fixture
def yash(desk):
    return desk.social.create("Yash Gupta", city="Delhi", country="India", niches="music")


def test_typing_preferences_links_and_handles_saves_them(make_tab, ctx, desk, yash, qtbot):
    tab = make_tab(ctx)
    click_row(qtbot, tab, "Yash Gupta")
    wait_detail(qtbot, tab, "Yash Gupta")
    assert tab.profile_preferences.text().startswith("Rizz score 0 · audience 0–1,000,000")
    qtbot.mouseClick(tab.edit_button, LEFT)
    dialog = tab.dialog
    qtbot.waitUntil(lambda: dialog.loaded, timeout=5000)

    _show_page(qtbot, dialog, "Preferences")
    _type(qtbot, dialog.user_id, "68cec2a59b8985cfa07fe80a")
    _type(qtbot, dialog.rizz_score, "79")
    _type(qtbot, dialog.audience_min, "1000")
    _type(qtbot, dialog.audience_max, "50,000")
    _type(qtbot, dialog.budget_max, "2500.50")
    _type(qtbot, dialog.collaboration_types, "Shoutout, live")
    _type(qtbot, dialog.preferred_locations, "Delhi, Mumbai")
    _shot(dialog, "profile-preferences")
    _show_page(qtbot, dialog, "Links and handles")
    _type(qtbot, dialog.handles["tiktok"], "@yash.gupta")
    _type(qtbot, dialog.links["instagram"], "instagram.com/yash")  # no scheme: refused, page kept in front
    _shot(dialog, "profile-links")
    _show_page(qtbot, dialog, "Profile")
    _shot(dialog, "profile-main")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    idle(qtbot, ctx)
    assert dialog.isVisible() and dialog.error.isVisible()
    assert "Instagram link must be an http:// or https:// address" in dialog.error.text()
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Links and handles"
    assert dialog.links["instagram"].property("invalid") and dialog.links["instagram"].hasFocus()
    assert desk.social.get(yash.id).extras.rizz_score == 0  # nothing stored
    _shot(dialog, "profile-links-error")
    _type(qtbot, dialog.links["instagram"], "https://www.instagram.com/yash")
    assert not dialog.error.isVisible()
    qtbot.mouseClick(dialog.ok_button, LEFT)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    qtbot.waitUntil(lambda: tab.profile is not None and tab.profile.extras.rizz_score == 79, timeout=5000)

    stored = desk.social.get(yash.id).extras
    assert stored.user_id == "68cec2a59b8985cfa07fe80a"
    assert (stored.preferences.audience_min, stored.preferences.audience_max) == (1000, 50000)
    assert stored.preferences.budget_max_cents == 250050
    assert stored.preferences.collaboration_types == ("shoutout", "live")
    assert stored.preferences.locations == ("Delhi", "Mumbai")
    assert stored.platform_handles == {"tiktok": "yash.gupta"}
    assert stored.social_links == {"instagram": "https://www.instagram.com/yash"}
    text = tab.profile_preferences.text()
    assert "Rizz score 79" in text and "audience 1,000–50,000" in text and "budget 0.00–2,500.50" in text
    assert "collaborations: shoutout, live" in text and "in Delhi, Mumbai" in text
    assert tab.cards["tiktok"].page.text() == '<a href="https://www.tiktok.com/@yash.gupta">@yash.gupta</a>'
    assert tab.cards["instagram"].page.toolTip() == "https://www.instagram.com/yash"
    assert tab.cards["twitch"].page.text() == "&nbsp;"
    tops = {card.followers.mapTo(tab, card.followers.rect().topLeft()).y() for card in tab.cards.values()}
    assert len(tops) == 1  # the cards' lines stay aligned with or without a handle
    _shot(tab, "stats-detail")

    # The dialog opens with what is stored, and emptying a link clears it (other platforms stay).
    qtbot.mouseClick(tab.edit_button, LEFT)
    dialog = tab.dialog
    qtbot.waitUntil(lambda: dialog.loaded, timeout=5000)
    assert dialog.rizz_score.text() == "79" and dialog.budget_max.text() == "2500.50"
    assert dialog.handles["tiktok"].text() == "yash.gupta"
    dialog.links["instagram"].clear()
    qtbot.mouseClick(dialog.ok_button, LEFT)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    stored = desk.social.get(yash.id).extras
    assert stored.social_links == {} and stored.platform_handles == {"tiktok": "yash.gupta"}


def test_crossed_bounds_are_named_on_the_preferences_page(make_tab, ctx, desk, yash, qtbot):
    tab = make_tab(ctx)
    click_row(qtbot, tab, "Yash Gupta")
    wait_detail(qtbot, tab, "Yash Gupta")
    qtbot.mouseClick(tab.edit_button, LEFT)
    dialog = tab.dialog
    qtbot.waitUntil(lambda: dialog.loaded, timeout=5000)
    _show_page(qtbot, dialog, "Preferences")
    _type(qtbot, dialog.budget_min, "20000")
    _show_page(qtbot, dialog, "Profile")
    qtbot.mouseClick(dialog.ok_button, LEFT)
    idle(qtbot, ctx)
    assert dialog.error.text() == "The smallest budget must not be more than the largest."
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Preferences" and dialog.budget_min.property("invalid")
    assert desk.social.get(yash.id).extras.preferences.budget_min_cents == 0


def test_the_dialog_in_the_dark_palette(make_tab, ctx, desk, yash, qtbot, qapp):
    desk.social.update(yash.id, rizz_score=79, platform_handles={"tiktok": "yash"},
                       social_links={"youtube": "https://www.youtube.com/@yash"}, collaboration_types="shoutout")
    theme.apply_theme(qapp, "dark")
    try:
        tab = make_tab(ctx)
        click_row(qtbot, tab, "Yash Gupta")
        wait_detail(qtbot, tab, "Yash Gupta")
        _shot(tab, "stats-detail-dark")
        qtbot.mouseClick(tab.edit_button, LEFT)
        dialog = tab.dialog
        qtbot.waitUntil(lambda: dialog.loaded, timeout=5000)
        for title in ("Profile", "Preferences", "Links and handles"):
            _show_page(qtbot, dialog, title)
            _shot(dialog, f"dark-{title.split()[0].lower()}")
        for widget in (dialog.links["youtube"], dialog.handles["tiktok"], dialog.rizz_score):
            assert widget.width() >= 120  # readable, not squeezed
        dialog.reject()
    finally:
        theme.apply_theme(qapp, "light")


def test_every_label_of_the_dialog_has_its_own_access_key(make_tab, ctx, yash, qtbot):
    from PySide6.QtWidgets import QAbstractButton, QLabel

    tab = make_tab(ctx)
    click_row(qtbot, tab, "Yash Gupta")
    wait_detail(qtbot, tab, "Yash Gupta")
    qtbot.mouseClick(tab.edit_button, LEFT)
    dialog = tab.dialog
    texts = [w.text() for w in dialog.findChildren(QLabel) + dialog.findChildren(QAbstractButton)]
    keys = [text[text.index("&") + 1].lower() for text in texts if "&" in text.replace("&&", "")]
    assert len(keys) == len(set(keys)) and len(keys) >= 15, keys
    dialog.reject()
