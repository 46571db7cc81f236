"""The create dialog's placement on a real two-node Swarm, clicked as a person would: a node label
constraint puts the tracker on the worker, and the table shows its figures through the worker's
registered engine."""
# ruff: noqa: F811  (the fleet fixtures are imported from tests/fleet/conftest.py)

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.fleet.conftest import engine, fleet_desk, nodes, nodes_desk, unique  # noqa: F401 (fixtures)

pytestmark = pytest.mark.docker


@pytest.mark.timeout(120)
def test_a_constraint_from_the_dialog_places_the_tracker_on_the_worker_with_its_figures(
        ctx, nodes_desk, nodes, qtbot, tmp_path):
    from giftdesk.gui.fleet.instance_edit import InstanceDialog
    from tests.gui.fleet_support import instances_tab

    nodes_desk.fleet.engines.add("worker", nodes.worker.host)
    zone = unique("zone")
    nodes.label_node(nodes.worker, zone=zone)
    customer = nodes_desk.customers.create("Swarm Nodes")
    account = nodes_desk.customers.add_account(customer.id, f"node_{unique('a')[2:]}".replace("-", "_"))
    dialog = InstanceDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.as_service.isEnabled() and dialog.account.count() == 1, timeout=10000)
    qtbot.mouseClick(dialog.as_service, Qt.MouseButton.LeftButton)
    name = unique("gui")
    qtbot.keyClicks(dialog.name, name)
    qtbot.keyClicks(dialog.constraints, f"node.labels.zone=={zone}")
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Save), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=20000)
    assert nodes_desk.fleet.get(name).placement_constraints == (f"node.labels.zone=={zone}",)

    with instances_tab(ctx, nodes_desk, qtbot, width=1300, height=260) as tab:
        views = lambda: {v.row.name: v for v in tab.views()}  # noqa: E731
        qtbot.waitUntil(lambda: name in views() and views()[name].state == "running", timeout=45000)
        view = views()[name]
        assert view.state_tooltip == f"Swarm service on node {nodes.worker.hostname}: running"
        qtbot.waitUntil(lambda: views()[name].memory_text != "", timeout=20000)
        assert views()[name].stats_tooltip is None
        tab.grab().save(str(tmp_path / "swarm-worker.png"))
