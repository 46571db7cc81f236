"""The Engines page, the Engine column and filter, and the create dialog's engine choice, clicked
as a person would, against the real Docker engine.

A second engine here is mostly the same real engine under another name (its socket, added through
the dialog, the connection tested for real); one test adds the second dockerd with mutual TLS
(tests/support/tls_engine.py) through the dialog's certificate fields.
"""
# ruff: noqa: F811  (the fleet fixtures are imported from tests/fleet)

from __future__ import annotations

import os

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from giftdesk.gui import theme
from tests.fleet.conftest import account, engine, fleet_desk, free_port, unique  # noqa: F401 (fixtures)
from tests.gui.conftest import idle
from tests.gui.fleet_support import instances_tab

pytestmark = pytest.mark.docker
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def tab(ctx, fleet_desk, qtbot):
    with instances_tab(ctx, fleet_desk, qtbot, width=1300, height=360, runtime=False) as widget:
        yield widget


def _open_engines(tab, qtbot):
    tab.actions["engines"].trigger()
    page = tab.dialog
    qtbot.waitExposed(page)
    qtbot.waitUntil(lambda: not page.loading and page.table.row_count() >= 1, timeout=15000)
    return page


def _click_row(qtbot, table, text: str, column: int = 0) -> None:
    for row in range(table.source.rowCount()):
        index = table.source.index(row, column)
        if index.data() == text:
            qtbot.mouseClick(table.viewport(), LEFT, pos=table.visualRect(index).center())
            return
    raise AssertionError(f"{text} is not in the table")


def _closed(dialog) -> bool:
    return not shiboken6.isValid(dialog) or not dialog.isVisible()


def _shown(table) -> dict[str, list[str]]:
    """Each row's cells as shown (through the filter), by its first cell."""
    model = table.model()
    return {model.index(r, 0).data(): [model.index(r, c).data() for c in range(model.columnCount())]
            for r in range(model.rowCount())}


def _add_through_dialog(page, qtbot, name: str, host: str):
    qtbot.mouseClick(page.add_button, LEFT)
    dialog = page.dialog
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.name, name)
    qtbot.keyClicks(dialog.host, host)
    qtbot.mouseClick(dialog.save_button, LEFT)
    return dialog


def _engine_column(tab) -> int:
    return [c.title for c in tab.table.source.columns].index("Engine")


def test_the_page_lists_the_local_engine_with_its_figures(tab, qtbot):
    # With the local engine alone, the table has no Engine column nor filter to show.
    assert not tab.table.column_visible(_engine_column(tab)) and not tab.engine_filter.isVisible()
    page = _open_engines(tab, qtbot)
    rows = _shown(page.table)
    assert list(rows) == ["local"]
    local = dict(zip([c.title for c in page.table.source.columns], rows["local"]))
    assert local["Reachable"] == "yes" and local["Version"] and local["Swarm"]
    assert local["Host"] == os.environ["DOCKER_HOST"] and local["Instances"] == 0
    # The local engine is Settings' business: no Edit or Remove, but Test.
    assert page.add_button.isEnabled() and page.test_button.isEnabled()
    assert not page.edit_button.isEnabled() and not page.remove_button.isEnabled()
    assert "Settings" in page.remove_button.toolTip()
    qtbot.mouseClick(page.test_button, LEFT)
    qtbot.waitUntil(lambda: page.result.text().startswith("✓ The engine 'local'"), timeout=10000)


def test_an_engine_that_does_not_answer_is_refused_in_the_dialog_and_nothing_is_stored(tab, qtbot, fleet_desk):
    page = _open_engines(tab, qtbot)
    address = f"tcp://127.0.0.1:{free_port()}"
    dialog = _add_through_dialog(page, qtbot, "gone", address)
    qtbot.waitUntil(lambda: not dialog.testing, timeout=15000)
    assert dialog.isVisible()
    assert dialog.error.text() == (f"The engine 'gone' at {address} cannot be used: nothing listens there "
                                   "(connection refused).")
    assert [e.name for e in fleet_desk.fleet.engines.list_engines()] == ["local"]
    # A bad address is the service's sentence too, before anything is asked.
    dialog.host.clear()
    qtbot.keyClicks(dialog.host, "http://example.org")
    qtbot.mouseClick(dialog.save_button, LEFT)
    qtbot.waitUntil(lambda: not dialog.testing, timeout=5000)
    assert "is not an engine address" in dialog.error.text()
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Cancel), LEFT)
    assert _closed(dialog) and list(_shown(page.table)) == ["local"]


def test_a_second_engine_is_added_tested_edited_and_removed(tab, qtbot, fleet_desk, account, answers):
    page = _open_engines(tab, qtbot)
    dialog = _add_through_dialog(page, qtbot, "twin", os.environ["DOCKER_HOST"])
    qtbot.waitUntil(lambda: _closed(dialog), timeout=15000)
    qtbot.waitUntil(lambda: "twin" in _shown(page.table), timeout=15000)
    assert page.result.text().startswith("✓ The engine 'twin'")
    assert fleet_desk.fleet.engines.engine("twin").host == os.environ["DOCKER_HOST"]
    _click_row(qtbot, page.table, "twin")
    assert page.edit_button.isEnabled() and page.remove_button.isEnabled()
    qtbot.mouseClick(page.test_button, LEFT)
    qtbot.waitUntil(lambda: page.result.text().startswith("✓ The engine 'twin'"), timeout=10000)

    qtbot.mouseClick(page.edit_button, LEFT)
    edit = page.dialog
    qtbot.waitExposed(edit)
    assert not edit.name.isEnabled() and edit.host.text() == os.environ["DOCKER_HOST"]
    qtbot.keyClicks(edit.backend, "http://127.0.0.1:8123/api/instances")
    qtbot.mouseClick(edit.save_button, LEFT)
    qtbot.waitUntil(lambda: _closed(edit), timeout=15000)
    assert fleet_desk.fleet.engines.engine("twin").backend_url == "http://127.0.0.1:8123/api/instances"

    # An instance lives there: the removal is refused with the sentence, then forced after a yes.
    name = unique("twin")
    fleet_desk.fleet.create(name, account().id, engine="twin")
    qtbot.waitUntil(lambda: _shown(page.table).get("twin", [""] * 7)[6] == 1, timeout=10000)
    _click_row(qtbot, page.table, "twin")
    answers.extend([True, False])  # remove? yes; forget its instance too? not yet
    qtbot.mouseClick(page.remove_button, LEFT)
    idle(qtbot, tab.ctx)
    qtbot.waitUntil(lambda: "still runs 1 instance(s)" in page.result.text(), timeout=5000)
    assert fleet_desk.fleet.engines.exists("twin") and fleet_desk.fleet.get(name).engine == "twin"
    answers.extend([True, True])
    qtbot.mouseClick(page.remove_button, LEFT)
    qtbot.waitUntil(lambda: page.result.text().startswith("Removed the engine 'twin' and forgot 1"), timeout=10000)
    assert not fleet_desk.fleet.engines.exists("twin")
    assert name not in {r.name for r in fleet_desk.fleet.list()}
    qtbot.waitUntil(lambda: list(_shown(page.table)) == ["local"], timeout=10000)


def test_a_viewer_sees_the_engines_but_cannot_change_them(viewer_ctx, fleet_desk, qtbot):
    with instances_tab(viewer_ctx, fleet_desk, qtbot, width=1100, runtime=False) as tab:
        page = _open_engines(tab, qtbot)
        assert list(_shown(page.table)) == ["local"]
        for button in (page.add_button, page.edit_button, page.remove_button):
            assert not button.isEnabled() and button.toolTip().startswith("Only an administrator")
        assert page.test_button.isEnabled()


def test_the_engine_column_and_filter_and_an_unreachable_engines_greyed_rows(ctx, fleet_desk, account, qtbot):
    from giftdesk.db.fleet_models import DockerEngineRecord, Instance
    from tests.fleet.conftest import FLEET_IMAGE

    engines = fleet_desk.fleet.engines
    engines.add("twin", os.environ["DOCKER_HOST"])
    near, far = unique("near"), unique("far")
    fleet_desk.fleet.create(near, account().id)
    fleet_desk.fleet.create(far, account().id, engine="twin")
    gone = account()
    with fleet_desk.db.session() as session:  # an engine that stopped answering, with its instance
        session.add(DockerEngineRecord(name="gone", host=f"tcp://127.0.0.1:{free_port()}"))
        session.add(Instance(name="lost", account_id=gone.id, tiktok_username=gone.username, port=3398,
                             backend_api_url="http://192.0.2.1/api/instances", image=FLEET_IMAGE, engine="gone",
                             container_id="e" * 64, status="running"))
    with instances_tab(ctx, fleet_desk, qtbot, width=1300, height=300, runtime=False) as tab:
        qtbot.waitUntil(lambda: len(_shown(tab.table)) == 3, timeout=15000)
        column = _engine_column(tab)
        qtbot.waitUntil(lambda: tab.table.column_visible(column), timeout=5000)
        shown = _shown(tab.table)
        assert {n: cells[column] for n, cells in shown.items()} == {near: "local", far: "twin", "lost": "gone"}
        # The unreachable engine's row: grey, and since when.
        model = tab.table.model()
        lost = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == "lost")
        since = tab.ctx.desk.fleet.engines.unreachable_since("gone")  # the list the tab made noted it
        assert since is not None
        assert model.index(lost, 0).data(Qt.ItemDataRole.ToolTipRole) == f"engine unreachable since {since:%H:%M}"
        assert model.index(lost, column).data(Qt.ItemDataRole.ForegroundRole).name() == theme.colors().muted
        near_row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == near)
        assert model.index(near_row, column).data(Qt.ItemDataRole.ToolTipRole) is None

        combo = tab.engine_filter
        assert combo.isVisible() and [combo.itemText(i) for i in range(combo.count())] == [
            "All engines", "local", "gone", "twin"]
        combo.setFocus()
        qtbot.keyClick(combo, Qt.Key.Key_End)  # the last engine, as a person picks it from the keyboard
        assert combo.currentText() == "twin"
        qtbot.waitUntil(lambda: list(_shown(tab.table)) == [far], timeout=5000)
        qtbot.keyClick(combo, Qt.Key.Key_Home)  # back to all engines from the keyboard
        qtbot.waitUntil(lambda: len(_shown(tab.table)) == 3, timeout=5000)

        # The Engines page: the one that does not answer says why when chosen.
        page = _open_engines(tab, qtbot)
        qtbot.waitUntil(lambda: len(_shown(page.table)) == 3, timeout=15000)
        assert {n: cells[2] for n, cells in _shown(page.table).items()} == {"local": "yes", "gone": "no",
                                                                            "twin": "yes"}
        _click_row(qtbot, page.table, "gone")
        assert page.result.text().startswith("✗ The engine 'gone' does not answer: nothing listens there")


def test_the_create_dialog_runs_the_instance_on_the_chosen_engine(ctx, fleet_desk, account, qtbot):
    from giftdesk.gui.fleet.instance_edit import InstanceDialog
    from tests.fleet.conftest import FLEET_IMAGE

    fleet_desk.fleet.engines.add("twin", os.environ["DOCKER_HOST"])
    acct = account()
    dialog = InstanceDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.engine.isEnabled() and dialog.account.count() >= 1, timeout=10000)
    assert dialog.engine.currentText() == "local"
    assert [dialog.engine.itemText(i) for i in range(dialog.engine.count())] == ["local", "twin"]
    dialog.account.setCurrentIndex(dialog.account.findData(acct.id))
    dialog.engine.setFocus()
    qtbot.keyClick(dialog.engine, Qt.Key.Key_Down)
    assert dialog.engine.currentText() == "twin"
    assert not dialog.as_service.isEnabled()  # until the engine says whether it is a Swarm manager
    idle(qtbot, ctx)  # the images offered are the chosen engine's; what was typed stays
    assert not dialog.as_service.isEnabled()
    assert dialog.as_service.toolTip().startswith("Not available on 'twin': the engine is not part of a Swarm")
    assert dialog.image.currentText() == FLEET_IMAGE
    assert FLEET_IMAGE in [dialog.image.itemText(i) for i in range(dialog.image.count())]
    name = unique("chosen")
    qtbot.keyClicks(dialog.name, name)
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), LEFT)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=30000)
    assert fleet_desk.fleet.get(name).engine == "twin"
    QApplication.processEvents()


def test_the_create_dialog_suggests_the_engine_with_the_most_memory_free_that_has_the_image(ctx, fleet_desk, account,
                                                                                         qtbot):
    from giftdesk.gui.fleet.instance_edit import InstanceDialog
    from tests.fleet.conftest import FLEET_IMAGE

    fleet_desk.fleet.engines.add("twin", os.environ["DOCKER_HOST"])
    assert fleet_desk.fleet.engines.suggest_engine(FLEET_IMAGE) == ""  # a tie: the local one
    assert fleet_desk.fleet.engines.suggest_engine("giftdesk-no-such-image:none") == ""
    fleet_desk.fleet.create(unique("held"), account().id, start=False)  # 256 MiB promised on the local engine
    assert fleet_desk.fleet.engines.suggest_engine(FLEET_IMAGE) == "twin"
    dialog = InstanceDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.engine.currentText() == "twin", timeout=10000)
    assert dialog.engine.toolTip() == "Suggested: 'twin' has the image and the most memory free."


@pytest.fixture(scope="module")
def tls_engine(engine):
    """The second real dockerd on loopback TCP with mutual TLS (no image needed: nothing runs on it here)."""
    from tests.conftest import require_service
    from tests.support.tls_engine import start_tls_engine

    try:
        started = start_tls_engine()
    except RuntimeError as exc:
        require_service(False, f"a second Docker engine with TLS ({exc})")
    try:
        yield started
    finally:
        started.stop()


@pytest.mark.timeout(120)
def test_a_tls_engine_is_added_with_its_certificate_files_and_a_wrong_ca_is_refused(tab, qtbot, fleet_desk,
                                                                                    tls_engine):
    page = _open_engines(tab, qtbot)
    qtbot.mouseClick(page.add_button, LEFT)
    dialog = page.dialog
    qtbot.waitExposed(dialog)
    assert dialog.tls_ca.button.toolTip() == "Choose the CA certificate"  # the file picker beside each path
    qtbot.keyClicks(dialog.name, "tls")
    qtbot.keyClicks(dialog.host, tls_engine.host)
    qtbot.keyClicks(dialog.tls_ca.edit, str(tls_engine.other_ca))
    qtbot.keyClicks(dialog.tls_cert.edit, str(tls_engine.cert))
    qtbot.keyClicks(dialog.tls_key.edit, str(tls_engine.key))
    qtbot.mouseClick(dialog.save_button, LEFT)
    qtbot.waitUntil(lambda: not dialog.testing, timeout=30000)
    assert dialog.isVisible() and dialog.error.text().startswith(f"The engine 'tls' at {tls_engine.host} cannot "
                                                                 "be used: its certificate is not signed by the given CA")
    assert not fleet_desk.fleet.engines.exists("tls") and fleet_desk.secrets.get("engine-tls-key/tls") is None
    dialog.tls_ca.edit.clear()
    qtbot.keyClicks(dialog.tls_ca.edit, str(tls_engine.ca))
    qtbot.mouseClick(dialog.save_button, LEFT)
    qtbot.waitUntil(lambda: _closed(dialog), timeout=30000)
    qtbot.waitUntil(lambda: "tls" in _shown(page.table), timeout=15000)
    cells = dict(zip([c.title for c in page.table.source.columns], _shown(page.table)["tls"]))
    assert cells["Host"] == tls_engine.host and cells["TLS"] == "mutual TLS"
    assert cells["Reachable"] == "yes", page.table.row_for("tls").error
    assert fleet_desk.secrets.get("engine-tls-key/tls").startswith("-----BEGIN")
    # An edit that leaves the key field empty keeps the certificates and the stored key.
    _click_row(qtbot, page.table, "tls")
    qtbot.mouseClick(page.edit_button, LEFT)
    edit = page.dialog
    qtbot.waitExposed(edit)
    assert edit.tls_ca.text() == str(tls_engine.ca.resolve()) and edit.tls_key.text() == ""
    qtbot.keyClicks(edit.backend, "http://127.0.0.1:8124/api/instances")
    qtbot.mouseClick(edit.save_button, LEFT)
    qtbot.waitUntil(lambda: _closed(edit), timeout=30000)
    changed = fleet_desk.fleet.engines.engine("tls")
    assert changed.tls and changed.backend_url == "http://127.0.0.1:8124/api/instances"
    assert fleet_desk.secrets.get("engine-tls-key/tls").startswith("-----BEGIN")


def test_the_file_menu_opens_the_engines_page(fleet_desk, window, qtbot):
    file_menu = window.menuBar().actions()[0].menu()
    assert window.engines_action in file_menu.actions()
    window.engines_action.trigger()
    page = window.dialog
    qtbot.waitExposed(page)
    qtbot.waitUntil(lambda: not page.loading and list(_shown(page.table)) == ["local"], timeout=15000)


@pytest.fixture(scope="module")
def tls_with_image(tls_engine):
    """The TLS engine with the fleet's test tracker image (an orphan there is adopted from it)."""
    from tests.fleet.conftest import FLEET_IMAGE
    from tests.support.docker_engine import IMAGE_DIR
    from tests.support.tls_engine import build_image

    build_image(tls_engine, IMAGE_DIR / "build.sh", FLEET_IMAGE)
    return tls_engine


@pytest.mark.timeout(120)
def test_the_reconcile_dialog_removes_and_adopts_orphans_on_the_tls_engine(tab, qtbot, fleet_desk, account,
                                                                          tls_with_image, answers):
    from tests.fleet.conftest import FLEET_IMAGE, remove_desk_containers

    from giftdesk.db.fleet_models import DockerEngineRecord

    fleet_desk.engines.add("tls", tls_with_image.host, tls_ca=str(tls_with_image.ca),
                           tls_cert=str(tls_with_image.cert), tls_key=str(tls_with_image.key))
    with fleet_desk.db.session() as session:  # and one that does not answer: named, not an error
        session.add(DockerEngineRecord(name="gone", host=f"tcp://127.0.0.1:{free_port()}"))
    client = tls_with_image.client()
    desk_id = fleet_desk.secrets.namespace
    acct = account()
    labels = {"app": "gift-tracker", "managed-by": "giftdesk", "giftdesk.desk": desk_id}
    keep_name, drop_name, port = f"gift-tracker-{unique('keep')}", f"gift-tracker-{unique('drop')}", free_port()
    try:
        keep = client.containers.run(FLEET_IMAGE, name=keep_name, labels=labels, detach=True,
                                     environment={"ACCOUNT_ID": str(acct.id), "TIKTOK_USERNAME": f"@{acct.username}"},
                                     ports={"3000/tcp": ("127.0.0.1", port)})
        drop = client.containers.run(FLEET_IMAGE, name=drop_name, labels=labels, detach=True)
        tab.actions["sync"].trigger()
        dialog = tab.dialog
        qtbot.waitExposed(dialog)
        qtbot.waitUntil(lambda: dialog.loads >= 1, timeout=15000)
        table = dialog.orphan_table
        titles = [c.title for c in table.source.columns]
        engine_column = titles.index("Engine")
        assert table.column_visible(engine_column)  # three engines were asked
        assert "Not answering: 'gone'" in dialog.status.text() and "2 orphans" in dialog.status.text()
        shown = _shown(table)
        assert shown[keep_name][engine_column] == "tls" and shown[drop_name][engine_column] == "tls"
        assert shown[keep_name][titles.index("Account")] == f"@{acct.username}"
        dialog.grab().save("/tmp/gd-reconcile-tls.png")

        _click_row(qtbot, table, drop_name)
        answers.extend([True])
        qtbot.mouseClick(dialog.remove_button, LEFT)
        qtbot.waitUntil(lambda: "Removed" in dialog.outcome.text(), timeout=15000)
        assert dialog.outcome.text() == f"Removed {drop_name}.", dialog.outcome.text()
        assert not client.api.containers(all=True, filters={"id": drop.id})
        qtbot.waitUntil(lambda: drop_name not in _shown(table), timeout=15000)

        _click_row(qtbot, table, keep_name)
        qtbot.mouseClick(dialog.adopt_button, LEFT)
        adopt = dialog.adopt_dialog
        qtbot.waitExposed(adopt)
        qtbot.waitUntil(lambda: adopt.loaded, timeout=5000)
        assert adopt.account.currentData() == acct.id
        adopt.grab().save("/tmp/gd-adopt-tls.png")
        qtbot.mouseClick(adopt.ok_button, LEFT)
        errors = [adopt.error, *adopt.field_errors.values()]
        qtbot.waitUntil(lambda: "Adopted" in dialog.outcome.text() or any(e.isVisible() for e in errors),
                        timeout=60000)
        assert not any(e.isVisible() for e in errors), [e.text() for e in errors]
        assert "on the engine 'tls'" in dialog.outcome.text()
        adopted = fleet_desk.fleet.get(keep_name.removeprefix("gift-tracker-"), with_state=True)
        assert adopted.engine == "tls" and adopted.state == "running" and adopted.port == port
        assert client.api.inspect_container(adopted.container_id)["State"]["Running"]
        assert not client.api.containers(all=True, filters={"id": keep.id})
        qtbot.waitUntil(lambda: keep_name not in _shown(table), timeout=15000)
        fleet_desk.fleet.delete(adopted.id)
    finally:
        remove_desk_containers(client, desk_id)
        client.close()


def test_a_bulk_stop_over_two_engines_names_the_engine_of_a_failure(tab, qtbot, fleet_desk, account, engine):
    """Rows on the local engine and on 'twin' (the same engine under another name) stopped together:
    the one whose container went behind the console's back fails, and the message says on which engine."""
    fleet_desk.fleet.engines.add("twin", os.environ["DOCKER_HOST"])
    near = fleet_desk.fleet.create(unique("near"), account().id)
    far = fleet_desk.fleet.create(unique("far"), account().id, engine="twin")
    tab.reload()
    qtbot.waitUntil(lambda: {v.row.name for v in tab.views()} == {near.name, far.name}, timeout=15000)
    engine.api.remove_container(far.container_id, force=True)
    messages: list[str] = []
    tab.message.connect(messages.append)
    for name, modifier in ((near.name, Qt.KeyboardModifier.NoModifier), (far.name, Qt.KeyboardModifier.ControlModifier)):
        model = tab.table.model()
        row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == name)
        qtbot.mouseClick(tab.table.viewport(), LEFT, modifier, tab.table.visualRect(model.index(row, 0)).center())
    assert {v.row.name for v in tab.selected()} == {near.name, far.name}
    qtbot.mouseClick(tab.button("stop"), LEFT)
    qtbot.waitUntil(lambda: tab.bulk_results is not None, timeout=30000)
    assert {(r.name, r.engine, r.outcome) for r in tab.bulk_results} == {(near.name, "", "ok"),
                                                                         (far.name, "twin", "failed")}
    qtbot.waitUntil(lambda: bool(messages), timeout=5000)
    assert f"1 failed: {far.name} on the engine 'twin': " in messages[-1] and near.name not in messages[-1]
