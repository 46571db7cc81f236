"""The create dialog's "Run as a Swarm service" choice, clicked as a person would, on a real Swarm."""
# ruff: noqa: F811  (the fleet fixtures are imported from tests/fleet/conftest.py)

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.fleet.conftest import engine, fleet_desk, swarm, swarm_desk, unique  # noqa: F401 (fixtures)

pytestmark = pytest.mark.docker


def _dialog(ctx, qtbot):
    from giftdesk.gui.fleet.instance_edit import InstanceDialog

    dialog = InstanceDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_the_service_choice_creates_a_placed_swarm_service(ctx, swarm_desk, qtbot):
    customer = swarm_desk.customers.create("Swarm Events")
    account = swarm_desk.customers.add_account(customer.id, f"swarm_{unique('a')[2:]}".replace("-", "_"))
    dialog = _dialog(ctx, qtbot)
    qtbot.waitUntil(lambda: dialog.as_service.isEnabled() and dialog.account.count() == 1, timeout=10000)
    assert not dialog.constraints.isEnabled() and dialog.restart.isEnabled()
    qtbot.mouseClick(dialog.as_service, Qt.MouseButton.LeftButton)
    assert dialog.as_service.isChecked() and dialog.constraints.isEnabled() and dialog.spread.isEnabled()
    assert not dialog.restart.isEnabled() and dialog.restart.currentText() == "on-failure"
    name = unique("gui")
    qtbot.keyClicks(dialog.name, name)
    qtbot.keyClicks(dialog.constraints, "node.role==manager, node.labels.zone!=moon")
    qtbot.keyClicks(dialog.spread, "node.labels.zone")
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=20000)
    row = swarm_desk.fleet.get(name)
    assert row.is_service and row.service_id and row.account_id == account.id
    assert row.placement_constraints == ("node.role==manager", "node.labels.zone!=moon")
    assert row.placement_preferences == ("node.labels.zone",)


def test_a_bad_constraint_stays_in_the_dialog(ctx, swarm_desk, qtbot):
    customer = swarm_desk.customers.create("Swarm Typos")
    swarm_desk.customers.add_account(customer.id, f"typo_{unique('a')[2:]}".replace("-", "_"))
    dialog = _dialog(ctx, qtbot)
    qtbot.waitUntil(lambda: dialog.as_service.isEnabled() and dialog.account.count() == 1, timeout=10000)
    qtbot.mouseClick(dialog.as_service, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.name, unique("typo"))
    qtbot.keyClicks(dialog.constraints, "zone=eu")
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "is not a placement constraint" in dialog.error.text()
    assert swarm_desk.fleet.list() == []


def test_the_service_choice_is_off_with_the_reason_on_an_engine_that_is_no_manager(ctx, fleet_desk, qtbot):
    dialog = _dialog(ctx, qtbot)
    qtbot.waitUntil(lambda: dialog.as_service.toolTip().startswith("Not available"), timeout=10000)
    assert not dialog.as_service.isEnabled() and "not part of a Swarm" in dialog.as_service.toolTip()


def test_the_table_shows_a_service_that_cannot_be_placed_and_why(ctx, swarm_desk, qtbot):
    from giftdesk.fleet.services_mode import ServiceOptions
    from tests.gui.fleet_support import instances_tab

    customer = swarm_desk.customers.create("Swarm Table")
    accounts = [swarm_desk.customers.add_account(customer.id, f"table_{unique('a')[2:]}".replace("-", "_"))
                for _ in range(2)]
    running = swarm_desk.fleet.create(unique("runs"), accounts[0].id, service=ServiceOptions()).name
    stuck = swarm_desk.fleet.create(unique("stuck"), accounts[1].id,
                                    service=ServiceOptions(constraints=("node.labels.zone==moon",))).name
    with instances_tab(ctx, swarm_desk, qtbot, width=1300, height=300) as tab:
        views = lambda: {v.row.name: v for v in tab.views()}  # noqa: E731
        qtbot.waitUntil(lambda: {running, stuck} <= set(views()), timeout=10000)
        qtbot.waitUntil(lambda: views()[running].state == "running", timeout=20000)
        qtbot.waitUntil(lambda: views()[stuck].state_text.startswith("pending: no suitable node"), timeout=20000)
        assert views()[stuck].needs_attention and not views()[running].needs_attention
        assert views()[stuck].state_tooltip.startswith("Swarm service: pending: no suitable node")


def test_editing_a_service_changes_its_schedule_only(ctx, swarm_desk, qtbot):
    from giftdesk.fleet.services_mode import ServiceOptions
    from giftdesk.gui.fleet.instance_edit import InstanceDialog

    customer = swarm_desk.customers.create("Swarm Edits")
    account = swarm_desk.customers.add_account(customer.id, f"edit_{unique('a')[2:]}".replace("-", "_"))
    row = swarm_desk.fleet.create(unique("sched"), account.id, start=False,
                                  service=ServiceOptions(constraints=("node.role==manager",)))
    dialog = InstanceDialog(ctx, row)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.as_service.isChecked() and not dialog.as_service.isEnabled()
    assert not dialog.memory.isEnabled() and not dialog.constraints.isEnabled()
    assert dialog.constraints.text() == "node.role==manager"
    qtbot.keyClicks(dialog.start_at, "07:30")
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10000)
    edited = swarm_desk.fleet.get(row.id)
    assert edited.schedule_start == "07:30" and edited.service_id == row.service_id


def test_the_log_viewer_follows_a_services_output(ctx, swarm_desk, qtbot):
    from giftdesk.fleet.services_mode import ServiceOptions
    from giftdesk.gui.fleet.instance_logs import LogViewer

    customer = swarm_desk.customers.create("Swarm Logs")
    account = swarm_desk.customers.add_account(customer.id, f"logs_{unique('a')[2:]}".replace("-", "_"))
    row = swarm_desk.fleet.create(unique("logs"), account.id, service=ServiceOptions())
    viewer = LogViewer(ctx, row)
    qtbot.addWidget(viewer)
    viewer.show()
    qtbot.waitExposed(viewer)
    qtbot.waitUntil(lambda: "serving /www" in viewer.text.toPlainText(), timeout=20000)
    assert f"username={account.username}" in viewer.text.toPlainText()
    viewer.close()


def test_the_service_choice_follows_the_chosen_engine(ctx, fleet_desk, swarm, qtbot):
    """The local engine is no manager; a named one is: the choice comes on when that one is picked."""
    fleet_desk.fleet.engines.add("swarm", swarm.host)
    try:
        dialog = _dialog(ctx, qtbot)
        qtbot.waitUntil(lambda: dialog.engine.isEnabled() and dialog.as_service.toolTip().startswith("Not available"),
                        timeout=10000)
        assert not dialog.as_service.isEnabled()
        dialog.engine.setFocus()
        qtbot.keyClick(dialog.engine, Qt.Key.Key_Down)
        assert dialog.engine.currentText() == "swarm"
        qtbot.waitUntil(dialog.as_service.isEnabled, timeout=10000)
        qtbot.mouseClick(dialog.as_service, Qt.MouseButton.LeftButton)
        assert dialog.as_service.isChecked()
        qtbot.keyClick(dialog.engine, Qt.Key.Key_Up)  # back to the local engine: the choice goes off again
        qtbot.waitUntil(lambda: not dialog.as_service.isEnabled(), timeout=10000)
        assert not dialog.as_service.isChecked()
    finally:
        fleet_desk.fleet.engines.remove("swarm", force=True)
