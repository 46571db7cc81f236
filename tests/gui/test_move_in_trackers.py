"""File → Move in…, used as a person does: type the files, Preview (nothing changes), Import;
the trackers keep running through it. A viewer previews and cannot import."""
# ruff: noqa: F811  (the fleet and manager fixtures are imported)

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from giftdesk.gui.move_in.dialog import MoveInDialog
from tests.fleet.conftest import engine, fleet_desk  # noqa: F401
from tests.move_in.test_instance_manager import GROUPS, _write_exports, manager  # noqa: F401

LEFT = Qt.MouseButton.LeftButton
pytestmark = pytest.mark.docker


def _show_tab(qtbot, dialog, page) -> None:
    """Clicks the page's tab, as a person does."""
    bar = dialog.tabs.tabBar()
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(dialog.tabs.indexOf(page)).center())
    assert dialog.tabs.currentWidget() is page


def _rows(table) -> list[list[str]]:
    model = table.source
    return [[model.index(r, c).data() or "" for c in range(model.columnCount())] for r in range(model.rowCount())]


@pytest.mark.timeout(120)
def test_previewing_and_importing_both_sources(ctx, fleet_desk, manager, engine, qtbot, tmp_path):
    path, instances = manager
    dialog = MoveInDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    page = dialog.pages["manager"]
    _show_tab(qtbot, dialog, page)
    qtbot.mouseClick(page.preview_button, LEFT)  # no file yet: said, nothing runs
    assert page.error.isVisible() and "Choose the instance manager database first" in page.error.text()
    qtbot.keyClicks(page.paths["database"], str(path))
    qtbot.mouseClick(page.preview_button, LEFT)
    qtbot.waitUntil(lambda: page.previews == 1)
    assert [row[2] for row in _rows(page.table)] == ["will be adopted", "will be adopted", "skipped"]
    assert _rows(page.table)[2][:2] == ["Setting", "backend_api_url"]  # its settings table, with why not
    assert "Would import 2 instances" in page.summary.text() and fleet_desk.fleet.list() == []
    qtbot.mouseClick(page.options["users"], LEFT)  # the option previews again with the manager's users
    qtbot.waitUntil(lambda: page.previews == 2)
    assert [row[:3] for row in _rows(page.table)][2:3] == [["User", "manager-admin (admin)", "will be created"]]
    assert "1 administrator" in page.summary.text() and page.import_button.isEnabled()
    dialog.grab().save(str(tmp_path / "move-in-preview.png"))
    qtbot.mouseClick(page.import_button, LEFT)
    qtbot.waitUntil(lambda: page.imports == 1)
    assert "Imported 2 instances" in page.summary.text()
    assert {r.name for r in fleet_desk.fleet.list()} == {i["name"] for i in instances}
    for item in instances:
        assert engine.api.inspect_container(item["container_id"])["State"]["StartedAt"] == item["started_at"]

    data_page = dialog.pages["tracker-data"]
    _show_tab(qtbot, dialog, data_page)
    keys, data = _write_exports(tmp_path, instances)
    qtbot.keyClicks(data_page.paths["instances"], keys)
    qtbot.keyClicks(data_page.paths["data"], data)
    qtbot.mouseClick(data_page.preview_button, LEFT)
    qtbot.waitUntil(lambda: data_page.previews == 1)
    assert data_page.import_button.isEnabled()
    qtbot.mouseClick(data_page.import_button, LEFT)
    qtbot.waitUntil(lambda: data_page.imports == 1)
    account_id = fleet_desk.fleet.get(instances[0]["name"]).account_id
    assert fleet_desk.tracker_data.get(account_id, "gift-groups") == GROUPS
    dialog.grab().save(str(tmp_path / "move-in-done.png"))

    qtbot.mouseClick(data_page.preview_button, LEFT)  # a second time: nothing to do, Import stays off
    qtbot.waitUntil(lambda: data_page.previews == 2)
    assert "Nothing to import" in data_page.summary.text() and not data_page.import_button.isEnabled()


def test_a_viewer_previews_and_cannot_import(viewer_ctx, tmp_path, qtbot):
    dialog = MoveInDialog(viewer_ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    page = dialog.pages["manager"]
    _show_tab(qtbot, dialog, page)
    assert not page.options["users"].isEnabled()
    qtbot.keyClicks(page.paths["database"], str(tmp_path / "missing.db"))
    qtbot.mouseClick(page.preview_button, LEFT)
    qtbot.waitUntil(lambda: page.error.isVisible())
    assert "viewer" in page.error.text() and not page.import_button.isEnabled()
    assert page.import_button.toolTip() == "Only operators and administrators can import"
