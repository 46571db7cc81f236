"""README screenshots of several engines: the Engines page, its add dialog refusing an engine that
does not answer, and the Instances tab's Engine column with the rows of an unreachable engine.

    scripts/screenshot.sh python scripts/engines_screenshots.py resources/screenshots

Needs the engine of tests/support/dockerd.sh (DOCKER_HOST). The second engine is that engine's
socket added under another name (the page and the table look the same for a TLS or ssh one); the
engine that does not answer is a record pointing at a closed loopback port, as the tests make it.
Runs on a throw-away desk; its containers go at the end. Writes the files in OUTPUTS.
"""
from __future__ import annotations

import os
import socket
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.screenshot_kit import Shots, docker_engine, run

OUTPUTS = ("engines.png", "engines-dark.png", "engines-add.png", "engines-instances.png",
           "engines-instances-dark.png")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def shots_on(engine, shots: Shots) -> None:
    from giftdesk.db.fleet_models import DockerEngineRecord, Instance
    from giftdesk.fleet.events import EnginesChanged
    from scripts.fleet_screenshots import session
    from tests.fleet.conftest import FLEET_IMAGE

    wait = shots.wait
    mark = uuid.uuid4().hex[:4]
    with session(engine, width=1560, height=230, runtime=True) as (desk, ctx, tab):
        customer = desk.customers.create("Borealis Media")
        accounts = [desk.customers.add_account(customer.id, f"borealis_{n}_{mark}") for n in ("one", "two", "three")]
        desk.fleet.engines.add("rack-2", os.environ["DOCKER_HOST"],
                               backend_url="http://127.0.0.1:8080/api/instances")
        desk.fleet.create(f"aurora-{mark}", accounts[0].id)
        desk.fleet.create(f"comet-{mark}", accounts[1].id, engine="rack-2")
        with desk.db.session() as db:
            db.add(DockerEngineRecord(name="rack-3", host=f"tcp://127.0.0.1:{_closed_port()}"))
            db.add(Instance(name=f"dorado-{mark}", account_id=accounts[2].id, tiktok_username=accounts[2].username,
                            port=3698, backend_api_url="http://192.0.2.1/api/instances", image=FLEET_IMAGE,
                            engine="rack-3", container_id="e" * 64, status="running"))
        desk.events.publish(EnginesChanged("rack-3"))  # made by hand here: the tab lists the engines again
        tab.reload()
        wait(lambda: len(tab.views()) == 3 and tab.engine_filter.isVisible()
             and sum(v.running and v.health == "healthy" for v in tab.views()) == 2, timeout=60,
             what="two healthy trackers and an unreachable one")
        shots.light_and_dark(tab, "engines-instances.png")

        tab.actions["engines"].trigger()
        page = tab.dialog
        page.resize(1080, 250)
        wait(lambda: not page.loading and page.table.row_count() == 3, what="the engines")
        page.table.select_key("rack-2")
        page.test_button.click()
        wait(lambda: page.result.text().startswith("✓"), what="the test")
        shots.light_and_dark(page, "engines.png")

        page.add_button.click()
        dialog = page.dialog
        dialog.name.setText("rack-4")
        dialog.host.setText(f"tcp://127.0.0.1:{_closed_port()}")
        dialog.backend.setText("http://10.0.0.5:8080/api/instances")
        dialog.save_button.click()
        wait(lambda: not dialog.testing and "cannot be used" in dialog.error.text(), what="the refusal")
        shots.save(dialog, "engines-add.png")
        dialog.close()
        page.close()


def shoot(shots: Shots) -> None:
    with docker_engine() as engine:
        shots_on(engine, shots)


def main(argv: list[str]) -> int:
    return run("engines_screenshots", argv, __doc__, OUTPUTS, shoot)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
