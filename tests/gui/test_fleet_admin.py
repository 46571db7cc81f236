"""Fleet administration in the window, driven with the mouse and the keyboard against the real
engine: reconcile (recreate a missing container, adopt one orphan, remove another), templates
saved from the create dialog and applied, export → delete → import, nginx site files."""
# ruff: noqa: F811  (the fleet fixtures are imported from tests/fleet/conftest.py)

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from giftdesk.fleet.reconcile import Reconciliation
from tests.fleet.conftest import FLEET_IMAGE, engine, fleet_desk, foreign, free_port, unique  # noqa: F401
from tests.gui.fleet_support import instances_tab

pytestmark = pytest.mark.docker
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def accounts(fleet_desk):
    customer = fleet_desk.customers.create("Borealis Media")
    return [fleet_desk.customers.add_account(customer.id, unique("bm").replace("-", "_")) for _ in range(3)]


@pytest.fixture
def tab(ctx, fleet_desk, qtbot):
    with instances_tab(ctx, fleet_desk, qtbot, width=1250) as widget:
        yield widget


def click_row(qtbot, table, text: str, column: int = 0, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    model = table.source
    row = next((r for r in range(model.rowCount()) if model.index(r, column).data() == text), None)
    assert row is not None, f"{text} is not in {table.objectName()}"
    qtbot.mouseClick(table.viewport(), LEFT, modifier, table.visualRect(model.index(row, column)).center())


def column_values(table, column: int = 0) -> list:
    model = table.source
    return [model.index(r, column).data() for r in range(model.rowCount())]


def type_into(qtbot, line_edit, text: str) -> None:
    line_edit.setFocus()
    line_edit.selectAll()
    qtbot.keyClick(line_edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(line_edit, text)


@pytest.fixture
def reconcile(ctx, tab, qtbot, fleet_desk, accounts, engine, foreign):
    """The reconcile dialog, opened from the tab's menu over one record whose container was removed
    behind the console's back (``gone``) and one orphan with an account in its environment (``keep``)."""
    fleet = fleet_desk.fleet
    # Ports outside the range other test runs on this engine draw from: recreate keeps the port.
    gone = fleet.create(unique("gone"), accounts[0].id, port=free_port())
    engine.api.remove_container(gone.container_id, force=True)
    keep_name, port = unique("stray"), free_port()
    keep = foreign(name=f"gift-tracker-{keep_name}", labels={"app": "gift-tracker", "managed-by": "giftdesk"},
                   environment={"ACCOUNT_ID": str(accounts[1].id), "TIKTOK_USERNAME": f"@{accounts[1].username}"},
                   ports={"3000/tcp": ("127.0.0.1", port)})
    tab.actions["sync"].trigger()
    dialog = tab.dialog
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.loads >= 1, timeout=15000)
    return SimpleNamespace(dialog=dialog, gone=gone, keep=keep, keep_name=f"gift-tracker-{keep_name}", port=port)


def _check_again(qtbot, dialog) -> None:
    loads = dialog.loads
    qtbot.mouseClick(dialog.refresh_button, LEFT)
    qtbot.waitUntil(lambda: dialog.loads > loads, timeout=15000)


def _lose_another(fleet_desk, accounts, engine):
    """A stopped record whose container goes too."""
    lost = fleet_desk.fleet.create(unique("lost"), accounts[2].id, port=free_port(), start=False)
    engine.api.remove_container(lost.container_id, force=True)
    return lost


def test_reconcile_lists_the_missing_record_and_the_orphan_with_its_account(reconcile, tab, qtbot, accounts):
    dialog, gone = reconcile.dialog, reconcile.gone
    assert column_values(dialog.missing_table) == [gone.name]
    orphans = column_values(dialog.orphan_table)
    assert reconcile.keep_name in orphans
    assert column_values(dialog.orphan_table, 5)[orphans.index(reconcile.keep_name)] == f"@{accounts[1].username}"
    assert "1 missing" in dialog.status.text()
    qtbot.waitUntil(lambda: any(v.row.name == gone.name and v.state == "missing" for v in tab.views()), timeout=5000)


def test_a_container_left_by_an_interrupted_create_says_so(reconcile, qtbot, fleet_desk, accounts, foreign):
    """A container of this desk with an identity no record has: a console died between the two."""
    from giftdesk.fleet.docker_api import DESK_LABEL, UID_LABEL

    dialog = reconcile.dialog
    left_name = f"gift-tracker-{unique('left')}"
    foreign(name=left_name, labels={"app": "gift-tracker", "managed-by": "giftdesk", UID_LABEL: "f" * 32,
                                     DESK_LABEL: fleet_desk.fleet.desk_id})
    _check_again(qtbot, dialog)
    names = column_values(dialog.orphan_table)
    origins = dict(zip(names, column_values(dialog.orphan_table, 6)))
    assert origins[left_name] == "interrupted create"
    assert origins[reconcile.keep_name] == "orphan"


def test_check_again_shows_what_went_missing_meanwhile(reconcile, qtbot, fleet_desk, accounts, engine, foreign):
    dialog = reconcile.dialog
    lost = _lose_another(fleet_desk, accounts, engine)
    drop_name = f"gift-tracker-{unique('junk')}"
    foreign(name=drop_name, labels={"app": "gift-tracker", "managed-by": "giftdesk"})
    _check_again(qtbot, dialog)
    assert sorted(column_values(dialog.missing_table)) == sorted([reconcile.gone.name, lost.name])
    assert {reconcile.keep_name, drop_name} <= set(column_values(dialog.orphan_table))


def test_recreate_brings_back_both_missing_containers(reconcile, qtbot, fleet_desk, accounts, engine):
    dialog, gone, fleet = reconcile.dialog, reconcile.gone, fleet_desk.fleet
    lost = _lose_another(fleet_desk, accounts, engine)
    _check_again(qtbot, dialog)
    # ctrl-click selects the second
    click_row(qtbot, dialog.missing_table, gone.name)
    click_row(qtbot, dialog.missing_table, lost.name, modifier=Qt.KeyboardModifier.ControlModifier)
    assert len(dialog.missing_table.selected_rows()) == 2
    qtbot.mouseClick(dialog.recreate_button, LEFT)
    qtbot.waitUntil(lambda: dialog.outcome.text() != "", timeout=30000)
    assert dialog.outcome.text().startswith("Recreated"), dialog.outcome.text()
    assert gone.name in dialog.outcome.text() and lost.name in dialog.outcome.text()
    # A record whose container was running gets a running one again; a stopped one a created one.
    assert fleet.get(gone.id, with_state=True).state == "running"
    assert fleet.get(lost.id, with_state=True).state in ("running", "created")
    qtbot.waitUntil(lambda: dialog.missing_table.row_count() == 0, timeout=15000)


def test_recreate_all_brings_back_every_missing_container_without_a_selection(reconcile, qtbot, fleet_desk):
    dialog, gone = reconcile.dialog, reconcile.gone
    assert dialog.missing_table.selected_rows() == []
    qtbot.mouseClick(dialog.recreate_all_button, LEFT)
    qtbot.waitUntil(lambda: dialog.outcome.text() != "", timeout=30000)
    assert dialog.outcome.text() == f"Recreated {gone.name}.", dialog.outcome.text()
    assert dialog.outcome.property("role") == "success"
    assert fleet_desk.fleet.get(gone.id, with_state=True).state == "running"
    qtbot.waitUntil(lambda: dialog.missing_table.row_count() == 0, timeout=15000)


def test_adopt_refuses_a_taken_name_beside_the_field_then_adopts(reconcile, tab, qtbot, fleet_desk, accounts, engine):
    dialog, keep = reconcile.dialog, reconcile.keep
    click_row(qtbot, dialog.orphan_table, reconcile.keep_name)
    qtbot.mouseClick(dialog.adopt_button, LEFT)
    adopt = dialog.adopt_dialog
    qtbot.waitExposed(adopt)
    qtbot.waitUntil(lambda: adopt.loaded, timeout=5000)
    assert adopt.name.text() == reconcile.keep_name.removeprefix("gift-tracker-")
    assert adopt.account.currentData() == accounts[1].id
    type_into(qtbot, adopt.name, reconcile.gone.name)
    qtbot.mouseClick(adopt.ok_button, LEFT)
    qtbot.waitUntil(lambda: adopt.field_errors["name"].isVisible(), timeout=10000)
    assert "exists already" in adopt.field_errors["name"].text() and not adopt.field_errors["account"].isVisible()
    keep.reload()  # the orphan stays as it was
    assert keep.name == reconcile.keep_name and keep.status == "running"
    adopted_name = unique("adopted")
    type_into(qtbot, adopt.name, adopted_name)
    assert not adopt.field_errors["name"].isVisible()  # typing clears the message
    qtbot.mouseClick(adopt.ok_button, LEFT)
    errors = [adopt.error, *adopt.field_errors.values()]
    qtbot.waitUntil(lambda: "Adopted" in dialog.outcome.text() or any(e.isVisible() for e in errors), timeout=60000)
    assert not any(e.isVisible() for e in errors), [e.text() for e in errors]
    adopted = fleet_desk.fleet.get(adopted_name, with_state=True)
    assert adopted.account_id == accounts[1].id and adopted.port == reconcile.port and adopted.state == "running"
    assert not engine.api.containers(all=True, filters={"id": keep.id})
    qtbot.waitUntil(lambda: any(v.row.name == adopted_name for v in tab.views()), timeout=10000)
    qtbot.waitUntil(lambda: reconcile.keep_name not in column_values(dialog.orphan_table), timeout=15000)


def test_removing_an_orphan_asks_first_and_removes_exactly_that_one(reconcile, qtbot, engine, foreign, answers):
    dialog = reconcile.dialog
    drop_name = f"gift-tracker-{unique('junk')}"
    drop = foreign(name=drop_name, labels={"app": "gift-tracker", "managed-by": "giftdesk"})
    _check_again(qtbot, dialog)
    click_row(qtbot, dialog.orphan_table, drop_name)
    answers.extend([False])
    qtbot.mouseClick(dialog.remove_button, LEFT)
    assert not answers and engine.api.containers(all=True, filters={"id": drop.id})
    answers.extend([True])
    qtbot.mouseClick(dialog.remove_button, LEFT)
    qtbot.waitUntil(lambda: "Removed" in dialog.outcome.text(), timeout=15000)
    assert not engine.api.containers(all=True, filters={"id": drop.id})
    qtbot.waitUntil(lambda: drop_name not in column_values(dialog.orphan_table), timeout=15000)
    assert reconcile.keep_name in column_values(dialog.orphan_table)  # only that one


def test_nothing_to_reconcile_shows_the_all_clear_page(ctx, qtbot, fleet_desk, accounts):
    from giftdesk.gui.fleet.reconcile import ReconcileDialog

    fleet_desk.fleet.create(unique("fine"), accounts[0].id, start=False)
    dialog = ReconcileDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.loads >= 1, timeout=15000)
    assert dialog.missing_table.row_count() == 0
    if not dialog.hints:  # another test on the shared engine may hold an orphan of its own meanwhile
        assert dialog.pages.currentWidget() is dialog.all_clear
    dialog._show((Reconciliation([], [], []), [], {}))  # an empty result shows the all-clear page
    assert dialog.pages.currentWidget() is dialog.all_clear and dialog.all_clear.isVisible()


def test_template_saved_from_the_create_dialog_applied_and_deleted(ctx, tab, qtbot, fleet_desk, accounts, answers):
    qtbot.mouseClick(tab.button("new"), LEFT)
    dialog = tab.dialog
    qtbot.waitUntil(lambda: dialog.account.count() == 3, timeout=10000)
    dialog.memory.setFocus()
    dialog.memory.selectAll()
    qtbot.keyClicks(dialog.memory, "96")
    dialog.restart.setCurrentText("always")
    type_into(qtbot, dialog.cpus, "0.5")
    template_name = unique("small")
    answers.extend([template_name])
    qtbot.mouseClick(dialog.save_template_button, LEFT)
    qtbot.waitUntil(lambda: "Saved as template" in dialog.template_note.text(), timeout=5000)
    saved = fleet_desk.fleet.template(template_name)
    assert (saved.settings.memory_limit_mb, saved.settings.restart_policy, saved.settings.cpu_millis) == (96, "always", 500)
    assert dialog.template.currentText() == template_name
    dialog.reject()

    # A new dialog starts from the defaults; choosing the template fills the fields.
    qtbot.mouseClick(tab.button("new"), LEFT)
    dialog = tab.dialog
    qtbot.waitUntil(lambda: dialog.template.findText(template_name) >= 0, timeout=10000)
    assert dialog.memory.value() == 256 and dialog.restart.currentText() == "unless-stopped"
    dialog.template.setCurrentIndex(dialog.template.findText(template_name))
    assert (dialog.memory.value(), dialog.restart.currentText(), dialog.cpus.text()) == (96, "always", "0.5")
    assert "96 MiB" in dialog.template_note.text()
    name = unique("fromtpl")
    qtbot.keyClicks(dialog.name, name)
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), LEFT)
    qtbot.waitUntil(lambda: any(v.row.name == name for v in tab.views()), timeout=20000)
    row = fleet_desk.fleet.get(name)
    assert (row.memory_limit_mb, row.restart_policy, row.cpu_millis, row.template_id) == (96, "always", 500, saved.id)

    # ---- the manager lists it with its settings; delete asks first --------------------------------
    tab.actions["templates"].trigger()
    manager = tab.dialog
    qtbot.waitExposed(manager)
    qtbot.waitUntil(lambda: manager.loads >= 1, timeout=5000)
    assert column_values(manager.table) == [template_name]
    assert column_values(manager.table, 5) == ["96 MiB"] and column_values(manager.table, 4) == ["always"]
    click_row(qtbot, manager.table, template_name)
    answers.extend([False])
    qtbot.mouseClick(manager.delete_button, LEFT)
    assert fleet_desk.fleet.templates() and not answers
    answers.extend([True])
    qtbot.mouseClick(manager.delete_button, LEFT)
    qtbot.waitUntil(lambda: manager.table.row_count() == 0, timeout=5000)
    assert fleet_desk.fleet.templates() == [] and f"'{template_name}'" in manager.outcome.text()
    assert fleet_desk.fleet.get(name).template_id is None and fleet_desk.fleet.get(name).memory_limit_mb == 96


def test_export_delete_import_round_trip_with_a_preview(ctx, tab, qtbot, fleet_desk, accounts, tmp_path):
    fleet = fleet_desk.fleet
    first = fleet.create(unique("exp"), accounts[0].id, start=False)
    second = fleet.create(unique("exp"), accounts[1].id, start=False)
    qtbot.waitUntil(lambda: len(tab.views()) == 2, timeout=10000)
    target = tmp_path / "fleet.json"
    tab.ask_save_path = lambda *_a: str(target)
    tab.actions["export"].trigger()
    qtbot.waitUntil(target.exists, timeout=5000)
    exported = target.read_text()
    for account in accounts[:2]:
        assert fleet_desk.keys.tracker_environment(account.id, "http://x/api/instances")["API_KEY"] not in exported
    assert fleet.dash_password(first.id) not in exported
    data = json.loads(exported)
    assert sorted(i["name"] for i in data["instances"]) == sorted([first.name, second.name])
    # The file also brings one whose account this desk does not have.
    ghost = unique("ghost")
    data["instances"].append({**data["instances"][0], "name": ghost, "tiktokUsername": "@nobody_on_this_desk",
                              "port": None})
    target.write_text(json.dumps(data))
    fleet.delete(first.id)
    qtbot.waitUntil(lambda: len(tab.views()) == 1, timeout=10000)

    tab.actions["import"].trigger()
    dialog = tab.dialog
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.path, str(target))
    qtbot.mouseClick(dialog.preview_button, LEFT)
    qtbot.waitUntil(lambda: dialog.previews >= 1, timeout=10000)
    assert column_values(dialog.table, 2)[column_values(dialog.table).index(first.name)] == first.port
    # Other programs on this machine may take the freed port meanwhile: let the console choose new ones.
    qtbot.mouseClick(dialog.new_ports, LEFT)
    qtbot.waitUntil(lambda: dialog.previews >= 2, timeout=10000)
    assert column_values(dialog.table, 2)[column_values(dialog.table).index(first.name)] == "new"
    outcomes = dict(zip(column_values(dialog.table), column_values(dialog.table, 3)))
    reasons = dict(zip(column_values(dialog.table), column_values(dialog.table, 4)))
    assert outcomes == {first.name: "will be created", second.name: "skipped", ghost: "refused"}, reasons
    assert "no TikTok account @nobody_on_this_desk" in reasons[ghost]
    assert "1 will be created, 1 skipped" in dialog.summary.text()
    assert {r.name for r in fleet.list()} == {second.name}  # a preview changes nothing
    qtbot.mouseClick(dialog.start, LEFT)
    assert dialog.start.isChecked()
    qtbot.mouseClick(dialog.import_button, LEFT)
    qtbot.waitUntil(lambda: dialog.results is not None, timeout=30000)
    assert {r.name: r.outcome for r in dialog.results} == {first.name: "ok", second.name: "skipped", ghost: "failed"}
    assert dict(zip(column_values(dialog.table), column_values(dialog.table, 3)))[first.name] == "created"
    back = fleet.get(first.name, with_state=True)
    window = fleet_desk.settings.get("tracker.port_start"), fleet_desk.settings.get("tracker.port_end")
    assert window[0] <= back.port <= window[1] and back.state == "running" and back.account_id == accounts[0].id
    assert back.memory_limit_mb == first.memory_limit_mb and back.image == first.image
    qtbot.waitUntil(lambda: len(tab.views()) == 2, timeout=10000)
    assert not dialog.import_button.isEnabled()  # a second press would only skip them all

    # A file that is not an export: one sentence, nothing else.
    (tmp_path / "notes.json").write_text("[1, 2")
    type_into(qtbot, dialog.path, str(tmp_path / "notes.json"))
    qtbot.keyClick(dialog.path, Qt.Key.Key_Return)
    qtbot.waitUntil(dialog.error.isVisible, timeout=5000)
    assert "is not JSON" in dialog.error.text() and not dialog.import_button.isEnabled()


def test_public_urls_and_nginx_site_files(ctx, tab, qtbot, fleet_desk, accounts, tmp_path):
    fleet = fleet_desk.fleet
    rows = [fleet.create(unique("web"), accounts[i].id, start=False) for i in range(2)]
    tab.actions["public_urls"].trigger()
    dialog = tab.dialog
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.loads >= 1, timeout=5000)
    assert not dialog.write_button.isEnabled()  # no public host yet: nothing to write
    assert all("URL pattern" in v for v in column_values(dialog.table, 3))

    type_into(qtbot, dialog.pattern, "https://app.example.com")  # no {name}: refused with a sentence
    qtbot.mouseClick(dialog.save_pattern_button, LEFT)
    qtbot.waitUntil(dialog.error.isVisible, timeout=5000)
    assert "{name}" in dialog.error.text() and not fleet_desk.settings.get("tracker.url_pattern")
    type_into(qtbot, dialog.pattern, "https://{name}.live.example.com")
    qtbot.mouseClick(dialog.save_pattern_button, LEFT)
    urls = [f"https://{r.name}.live.example.com" for r in rows]
    qtbot.waitUntil(lambda: sorted(column_values(dialog.table, 2)) == sorted(urls), timeout=5000)
    assert fleet_desk.keys.get(accounts[0].id).instance_url == urls[0]

    qtbot.mouseClick(dialog.write_button, LEFT)  # no folder yet
    assert dialog.error.isVisible() and "folder" in dialog.error.text()
    qtbot.keyClicks(dialog.folder, str(tmp_path))
    qtbot.mouseClick(dialog.write_button, LEFT)
    qtbot.waitUntil(dialog.result.isVisible, timeout=5000)
    for row in rows:
        conf = (tmp_path / f"gift-tracker-{row.name}.conf").read_text()
        assert f"server_name {row.name}.live.example.com;" in conf
        assert f"proxy_pass http://127.0.0.1:{row.port};" in conf and "Upgrade $http_upgrade" in conf
    assert "Wrote 2 site files." in dialog.written.text()
    assert sorted(dialog.files.toPlainText().splitlines()) == sorted(
        str(tmp_path / f"gift-tracker-{r.name}.conf") for r in rows)
    command = dialog.certbot.text()
    assert command.startswith("sudo certbot --nginx ") and all(f"-d {r.name}.live.example.com" in command for r in rows)
    qtbot.mouseClick(dialog.copy_button, LEFT)
    assert QGuiApplication.clipboard().text() == command


def test_a_viewer_sees_the_lists_but_no_changing_buttons(viewer_ctx, qtbot, fleet_desk):
    from giftdesk.gui.fleet.nginx import PublicUrlsDialog
    from giftdesk.gui.fleet.reconcile import ReconcileDialog
    from giftdesk.gui.fleet.templates import TemplatesDialog

    reconcile = ReconcileDialog(viewer_ctx)
    qtbot.addWidget(reconcile)
    reconcile.show()
    qtbot.waitUntil(lambda: reconcile.loads >= 1, timeout=10000)
    assert not any(b.isVisible() for b in (reconcile.recreate_button, reconcile.recreate_all_button,
                                           reconcile.adopt_button, reconcile.remove_button))
    templates = TemplatesDialog(viewer_ctx)
    qtbot.addWidget(templates)
    templates.show()
    assert not templates.delete_button.isVisible()
    urls = PublicUrlsDialog(viewer_ctx)
    qtbot.addWidget(urls)
    urls.show()
    assert urls.pattern.isReadOnly() and not urls.save_pattern_button.isVisible()
    assert "administrator" in urls.pattern_note.text()


def test_reconcile_with_the_engine_away_says_so_and_lists_nothing(ctx, qtbot, fleet_desk, accounts, engine):
    from giftdesk.gui.fleet.reconcile import ReconcileDialog

    fleet_desk.fleet.create(unique("away"), accounts[0].id, start=False)
    good = fleet_desk.settings.get("docker.host")
    ctx.desk.settings.update({"docker.host": "unix:///tmp/no-such-docker.sock"})
    try:
        dialog = ReconcileDialog(ctx)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: dialog.loads >= 1, timeout=15000)
        assert dialog.status.text().startswith("Could not check the local Docker engine:")
        assert dialog.missing_table.row_count() == 0 and dialog.pages.currentWidget() is not dialog.all_clear
        assert not dialog.recreate_all_button.isEnabled()
    finally:
        ctx.desk.settings.update({"docker.host": good})
    qtbot.mouseClick(dialog.refresh_button, LEFT)
    qtbot.waitUntil(lambda: dialog.loads >= 2, timeout=15000)
    assert dialog.status.text().startswith("Checked at")
