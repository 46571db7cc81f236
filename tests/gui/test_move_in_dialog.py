"""File → Move in…: the exports are typed in, previewed (nothing written), then imported with a click;
a viewer previews but cannot import; a file that is not there is a sentence on the page."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from tests.gui.conftest import idle
from tests.move_in.test_hyperbuds import backend_profile
from tests.move_in.test_social_scale import companies, invoices, lines, orders


def _exports(tmp_path) -> dict:
    paths = {"companies": tmp_path / "Company.json", "orders": tmp_path / "Order.json",
             "invoices": tmp_path / "Invoice.json", "profiles": tmp_path / "profiles.json"}
    paths["companies"].write_text(lines(companies()))
    paths["orders"].write_text(json.dumps(orders()))
    paths["invoices"].write_text(lines(invoices()))
    paths["profiles"].write_text(json.dumps(backend_profile()) + "\n")
    return paths


def _type_files(qtbot, page, paths: dict) -> None:
    for key, edit in page.paths.items():
        edit.clear()
        qtbot.keyClicks(edit, str(paths[key]))


def _show_tab(qtbot, dialog, page) -> None:
    """Clicks the page's tab, as a person does."""
    bar = dialog.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(dialog.tabs.indexOf(page)).center())
    assert dialog.tabs.currentWidget() is page


def _open(qtbot, window):
    window.move_in_action.trigger()
    dialog = window.dialog
    qtbot.waitExposed(dialog)
    return dialog


def test_the_orders_backend_is_previewed_then_imported_with_the_mouse(qtbot, window, desk, tmp_path):
    paths = _exports(tmp_path)
    dialog = _open(qtbot, window)
    page = dialog.pages["social-scale"]
    _show_tab(qtbot, dialog, page)
    _type_files(qtbot, page, paths)
    assert not page.import_button.isEnabled()
    qtbot.mouseClick(page.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.previews == 1, timeout=5000)
    assert page.summary.text().startswith("Would import 2 companies, 3 orders, 3 invoices")
    assert [r.outcome_text for r in page.table.visible_rows()] == ["will be created"] * 8
    assert len(page.rounded.visible_rows()) == 7 and "INV-" in page.notes.text()
    assert desk.companies.list() == []  # a preview writes nothing
    dialog.grab().save("/tmp/move-in-preview.png")

    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(desk.orders.list()) == 3, timeout=5000)
    idle(qtbot, window.ctx)
    assert page.summary.text().startswith("Imported 2 companies, 3 orders, 3 invoices")
    assert {r.outcome_text for r in page.table.visible_rows()} == {"created"}
    assert not page.import_button.isEnabled()

    qtbot.mouseClick(page.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.previews == 2, timeout=5000)
    assert page.summary.text().startswith("Nothing to import: every document was imported before")
    assert not page.import_button.isEnabled()

    _show_tab(qtbot, dialog, dialog.pages["hyperbuds"])
    profiles = dialog.pages["hyperbuds"]
    _type_files(qtbot, profiles, paths)
    qtbot.mouseClick(profiles.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: profiles.previews == 1, timeout=5000)
    qtbot.mouseClick(profiles.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(desk.social.list()) == 1, timeout=5000)
    idle(qtbot, window.ctx)
    dialog.grab().save("/tmp/move-in-profiles.png")


def test_a_missing_file_is_said_on_the_page(qtbot, window, tmp_path):
    dialog = _open(qtbot, window)
    page = dialog.pages["social-scale"]
    _show_tab(qtbot, dialog, page)
    qtbot.keyClicks(page.paths["companies"], str(tmp_path / "nowhere.json"))
    qtbot.mouseClick(page.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.error.isVisible(), timeout=5000)
    assert "nowhere.json does not exist" in page.error.text()
    assert not page.import_button.isEnabled()


def test_a_viewer_previews_but_cannot_import(qtbot, viewer_ctx, desk, tmp_path):
    from giftdesk.gui.move_in.dialog import MoveInDialog

    paths = _exports(tmp_path)
    dialog = MoveInDialog(viewer_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    page = dialog.pages["social-scale"]
    _show_tab(qtbot, dialog, page)
    _type_files(qtbot, page, paths)
    qtbot.mouseClick(page.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.previews == 1, timeout=5000)
    assert not page.import_button.isEnabled()
    assert page.import_button.toolTip() == "Only administrators with the admin role can import"


def test_every_source_is_the_same_page_with_the_same_columns(qtbot, window):
    dialog = _open(qtbot, window)
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == [
        "Instance manager", "Tracker backend", "Orders backend", "HyperBuds profiles"]
    for key, page in dialog.pages.items():
        _show_tab(qtbot, dialog, page)
        header = page.table.source
        assert [header.headerData(c, Qt.Orientation.Horizontal) for c in range(header.columnCount())] == [
            "Kind", "What", "Outcome", "Here", "Why"]
        assert (page.rounded is not None) == (key in ("social-scale", "hyperbuds"))
        assert not page.import_button.isEnabled() and not page.error.isVisible()
