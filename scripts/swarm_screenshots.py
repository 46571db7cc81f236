"""README screenshots of trackers as Swarm services: the create dialog's choice and the table.

    scripts/screenshot.sh python scripts/swarm_screenshots.py resources/screenshots

Starts the tests' one-node Swarm (tests/support/swarm_engine.py: a second dockerd, root needed)
beside the engine of tests/support/dockerd.sh, points a throw-away desk at it through its Docker
host setting, and stops it all at the end. Writes the files in OUTPUTS.
"""
from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.screenshot_kit import Shots, Unavailable, run

OUTPUTS = ("swarm-create-dialog.png", "swarm-instances-tab.png")


def shots_on(swarm, shots: Shots) -> None:
    from giftdesk.core.context import Actor
    from giftdesk.desk import Desk
    from giftdesk.fleet.docker_api import DESK_LABEL
    from giftdesk.fleet.services_mode import ServiceOptions
    from giftdesk.gui.context import GuiContext
    from giftdesk.gui.fleet.instance_edit import InstanceDialog
    from giftdesk.gui.fleet.instances_tab import InstancesTab
    from tests.fleet.conftest import FLEET_IMAGE, PORT_END, PORT_START
    from tests.gui.fleet_support import start_runtime, stop_runtime

    with tempfile.TemporaryDirectory(prefix="giftdesk-swarm-shots-") as tmp:
        desk = Desk.open(tmp)
        desk.settings.update({"tracker.default_image": FLEET_IMAGE, "tracker.port_start": PORT_START,
                              "tracker.port_end": PORT_END, "docker.host": swarm.host})
        ctx = GuiContext.create(desk.as_actor(Actor("alice", "admin")))
        customer = desk.customers.create("Borealis Media")
        accounts = [desk.customers.add_account(customer.id, f"borealis_{uuid.uuid4().hex[:6]}") for _ in range(3)]
        started = start_runtime(ctx, desk)
        try:
            dialog = InstanceDialog(ctx)
            dialog.show()
            shots.wait(lambda: dialog.as_service.isEnabled() and dialog.account.count() == 3, what="the dialog")
            dialog.name.setText("borealis-eu")
            dialog.as_service.click()
            dialog.constraints.setText("node.labels.zone==eu")
            dialog.spread.setText("node.labels.rack")
            shots.save(dialog, "swarm-create-dialog.png")
            dialog.close()
            desk.fleet.create("borealis-one", accounts[0].id, service=ServiceOptions())
            desk.fleet.create("borealis-two", accounts[1].id, service=ServiceOptions())
            desk.fleet.create("borealis-eu", accounts[2].id,
                              service=ServiceOptions(constraints=("node.labels.zone==eu",)))
            tab = InstancesTab(ctx)
            tab.resize(1400, 260)
            tab.show()
            views = lambda: {v.row.name: v for v in tab.views()}  # noqa: E731
            shots.wait(lambda: len(views()) == 3 and all(views()[n].state == "running" and views()[n].health == "healthy"
                                                         for n in ("borealis-one", "borealis-two"))
                       and views()["borealis-eu"].state_text.startswith("pending: no suitable node"),
                       timeout=60, what="two running services and a pending one")
            shots.save(tab, "swarm-instances-tab.png")
            tab.close()
        finally:
            stop_runtime(ctx, started)
            ctx.runner.wait_idle()
            ctx.close()
            swarm.remove_services(f"{DESK_LABEL}={desk.secrets.namespace}")
            desk.close()


def shoot(shots: Shots) -> None:
    from tests.fleet.conftest import FLEET_IMAGE
    from tests.support import swarm_engine

    missing = swarm_engine.available()
    if missing:
        raise Unavailable(f"a Swarm engine needs {missing}")
    swarm = swarm_engine.acquire(FLEET_IMAGE)
    try:
        shots_on(swarm, shots)
    finally:
        swarm_engine.release()


def main(argv: list[str]) -> int:
    return run("swarm_screenshots", argv, __doc__, OUTPUTS, shoot)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
