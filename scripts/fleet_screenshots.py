"""README screenshots of the Instances tab and its dialogs, and of the Move in page adopting running
trackers, against the real Docker engine.

    scripts/screenshot.sh python scripts/fleet_screenshots.py resources/screenshots

Needs the engine of tests/support/dockerd.sh (DOCKER_HOST) and builds the offline test images as
the fleet tests do. The reconcile picture also starts the fleet tests' second engine
(tests/support/tls_engine.py: root, dockerd and openssl) for an orphan there; without it, that
picture shows the local engine alone. Each part runs on a throw-away desk of its own, like a test;
every container and image it made is removed at the end. Writes the files in OUTPUTS.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.screenshot_kit import Shots, docker_engine, run

OUTPUTS = (
    "instances-create.png", "instances-tab.png", "instances-logs.png", "instances-stats.png",
    "instances-stats-dark.png", "instances-banner.png", "instances-toolbar-narrow.png", "instances-toolbar-dark.png",
    "engine-panel.png", "engine-panel-dark.png", "images-build.png", "images-build-dark.png", "images-dialog.png",
    "instances-reconcile.png", "instances-nginx.png", "move-in-manager.png",
)


@contextmanager
def session(engine, width: int, height: int = 520, runtime: bool = True):
    """A desk on a temporary data directory, logged in as an admin, with the Instances tab shown;
    afterwards the desk's containers go."""
    from giftdesk.desk import Desk
    from giftdesk.gui.context import GuiContext
    from giftdesk.gui.fleet.instances_tab import InstancesTab
    from giftdesk.core.context import Actor
    from tests.fleet.conftest import FLEET_IMAGE, PORT_END, PORT_START, remove_desk_containers
    from tests.gui.fleet_support import start_runtime, stop_runtime

    with tempfile.TemporaryDirectory(prefix="giftdesk-fleet-shots-") as tmp:
        desk = Desk.open(tmp)
        desk.settings.update({"tracker.default_image": FLEET_IMAGE, "tracker.port_start": PORT_START,
                              "tracker.port_end": PORT_END})
        ctx = GuiContext.create(desk.as_actor(Actor("alice", "admin")))
        started = start_runtime(ctx, desk) if runtime else None
        tab = InstancesTab(ctx)
        tab.resize(width, height)
        tab.show()
        try:
            yield desk, ctx, tab
        finally:
            tab.close()
            if started is not None:
                stop_runtime(ctx, started)
            ctx.runner.wait_idle()
            ctx.close()
            remove_desk_containers(engine, desk.secrets.namespace)
            desk.close()


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _view(tab, name: str):
    return next((v for v in tab.views() if v.row.name == name), None)


def _select(tab, name: str) -> None:
    tab.table.clearSelection()
    tab.table.select_key(_view(tab, name).row.id)


def instances(shots: Shots, engine) -> None:
    """The tab with two running trackers and a stopped one, the create dialog, logs, stats, banner, toolbar."""
    from PySide6.QtWidgets import QApplication

    from giftdesk.gui import theme
    from giftdesk.gui.fleet.instances_tab import InstancesTab
    from tests.fleet.conftest import FLEET_IMAGE

    wait = shots.wait
    with session(engine, width=1400) as (desk, ctx, tab):
        customer = desk.customers.create("Aurora Events")
        accounts = [desk.customers.add_account(customer.id, f"aurora_{uuid.uuid4().hex[:8]}") for _ in range(3)]
        wait(lambda: ctx.runner.running == 0)
        tab.button("new").click()
        dialog = tab.dialog
        wait(lambda: dialog.account.count() == 3 and dialog.image.findText(FLEET_IMAGE) >= 0, what="create dialog")
        first = _unique("aurora")
        dialog.name.setText(first)
        dialog.memory.setValue(128)
        shots.save(dialog, "instances-create.png")
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
        wait(lambda: _view(tab, first) is not None, what="the created row")
        others = [a for a in accounts if a.id != _view(tab, first).row.account_id]
        second = desk.fleet.create(_unique("borealis"), others[0].id).name
        third = desk.fleet.create(_unique("comet"), others[1].id).name
        wait(lambda: {v.row.name for v in tab.views()} == {first, second, third}, what="three rows")
        wait(lambda: all(v.state == "running" and v.health == "healthy" for v in tab.views()), what="healthy")
        desk.fleet.stop(second, timeout=5)
        wait(lambda: _view(tab, second).state == "exited", what="stopped")
        _select(tab, first)
        net_column = [c.title for c in tab.table.source.columns].index("Net I/O")
        row_of = {tab.table.source.index(r, 0).data(): r for r in range(tab.table.source.rowCount())}
        wait(lambda: all(v.live.cpu_percent is not None and v.live.live_status and (v.live.net_tx_rate or 0) > 0
                         and tab.table.source.index(row_of[v.row.name], net_column).data().startswith("↓ ")
                         for v in tab.views() if v.state == "running")
             and "2/3 running" in tab.summary.text() and "network ↓ " in tab.summary.text(), what="stats columns")
        shots.save(tab, "instances-tab.png")

        tab.button("logs").click()
        viewer = tab.dialog
        wait(lambda: "serving /www" in viewer.text.toPlainText(), what="log lines")
        viewer.search.setText("tracker")
        viewer.pause_button.click()
        subprocess.run(["docker", "exec", f"gift-tracker-{first}", "sh", "-c", "echo while-paused > /proc/1/fd/1"],
                       check=True, capture_output=True)
        wait(lambda: "Resume (1 new)" in viewer.pause_button.text(), what="paused line")
        shots.save(viewer, "instances-logs.png")
        viewer.close()

        tab.button("stats").click()
        stats = tab.dialog
        wait(lambda: stats.cpu.count() >= 3 and stats.net_rx.count() >= 3 and stats.net_tx.count() >= 3,
             what="stats samples")
        shots.save(stats, "instances-stats.png")
        stats.close()
        with shots.dark():  # the charts follow the palette when opened in it
            tab.button("stats").click()
            dark = tab.dialog
            wait(lambda: dark.net_rx.count() >= 3, what="dark stats samples")
            shots.save(dark, "instances-stats-dark.png")
            dark.close()

        # The engine away: the records still show under the banner.
        good = desk.settings.get("docker.host")
        ctx.desk.settings.update({"docker.host": "unix:///tmp/no-such-docker.sock"})
        tab.reload()
        wait(lambda: tab.banner.isVisible(), what="banner")
        shots.save(tab, "instances-banner.png")
        ctx.desk.settings.update({"docker.host": good})
        tab.retry_button.click()
        wait(lambda: not tab.banner.isVisible(), what="banner gone")

        # Narrow: the toolbar folds behind its arrow.
        tab.resize(520, 400)
        wait(lambda: not tab.button("delete").isVisible(), what="folded toolbar")
        shots.save(tab, "instances-toolbar-narrow.png")
        tab.resize(1400, 520)
        theme.apply_theme(QApplication.instance(), "dark")
        try:
            toolbar = InstancesTab(ctx)
            toolbar.resize(900, 160)
            toolbar.show()
            shots.save(toolbar, "instances-toolbar-dark.png")
            toolbar.close()
        finally:
            theme.apply_theme(QApplication.instance(), "light")


def engine_and_images(shots: Shots, engine) -> None:
    """The engine panel after its test; the images dialog filtered to this run's images and a build."""
    from giftdesk.fleet.images import ImageCatalog
    from giftdesk.fleet.spec import InstanceSettings
    from tests.fleet.test_engine_images import Builds

    wait = shots.wait
    with tempfile.TemporaryDirectory(prefix="giftdesk-builds-") as root, \
            session(engine, width=1100, height=480, runtime=False) as (desk, ctx, tab):
        built = Builds(engine, root)
        try:
            customer = desk.customers.create("Fleet customer")
            account = desk.customers.add_account(customer.id, f"fleet_{uuid.uuid4().hex[:8]}")
            desk.fleet.create(_unique("panel"), account.id)
            tab.actions["engine"].trigger()
            panel = tab.dialog
            wait(lambda: panel.info is not None, what="engine figures")
            panel.test_button.click()
            wait(lambda: panel.check is not None, what="engine test")
            shots.light_and_dark(panel, "engine-panel.png")
            panel.close()

            mark = uuid.uuid4().hex[:8]
            folder, used = built(name=f"gift-tracker-gdt{mark}")
            ImageCatalog(desk.fleet).build(folder, used)
            desk.fleet.create(_unique("img"), account.id, settings=InstanceSettings(image=used), start=False)
            tab.actions["images"].trigger()
            dialog = tab.dialog
            wait(lambda: not dialog.loading and any(used in r.tags for r in dialog.table.rows), what="images")
            dialog.filter.setText(mark)
            dialog.build_button.click()
            build = dialog.build_dialog
            folder, tag = built("RUN echo step-output-line && echo second-line\n", name=f"gd-gui-{mark}-built")
            build.folder.setText(folder)
            build.tag.setText(tag)
            build.build_button.click()
            wait(lambda: build.outcome == "built", timeout=120, what="build")
            wait(lambda: not dialog.loading and any(tag in r.tags for r in dialog.table.rows), what="built image listed")
            dialog.table.select_key(next(r for r in dialog.table.rows if used in r.tags).id)
            shots.light_and_dark(build, "images-build.png")
            build.close()
            shots.save(dialog, "images-dialog.png")
            dialog.close()
        finally:
            built.remove()  # with the instance's container, which holds its image


@contextmanager
def second_engine():
    """The fleet tests' second engine (tests/support/tls_engine.py) with the test tracker image,
    or None when this machine cannot start one (the reconcile picture then shows the local engine alone)."""
    from tests.fleet.conftest import FLEET_IMAGE
    from tests.support.docker_engine import IMAGE_DIR
    from tests.support.tls_engine import build_image, start_tls_engine

    try:
        started = start_tls_engine()
    except RuntimeError as exc:
        print(f"fleet_screenshots: the reconcile picture shows one engine: {exc}", file=sys.stderr)
        yield None
        return
    try:
        build_image(started, IMAGE_DIR / "build.sh", FLEET_IMAGE)
        yield started
    finally:
        started.stop()


def _orphan(client, account, port: int):
    """A gift-tracker container without a record, its environment naming ``account``."""
    from tests.fleet.conftest import FLEET_IMAGE, FLEET_TEST_LABEL

    return client.containers.run(
        FLEET_IMAGE, detach=True, name=f"gift-tracker-{_unique('stray')}",
        labels={FLEET_TEST_LABEL: "1", "app": "gift-tracker", "managed-by": "giftdesk"},
        environment={"ACCOUNT_ID": str(account.id), "TIKTOK_USERNAME": f"@{account.username}"},
        ports={"3000/tcp": ("127.0.0.1", port)})


def reconcile_and_nginx(shots: Shots, engine) -> None:
    """Reconcile with one missing container, an orphan on the local engine and one on a second engine
    (when one can be started) and an engine that does not answer; the public URLs after writing the
    site files."""
    from giftdesk.db.fleet_models import DockerEngineRecord
    from tests.fleet.conftest import free_port

    wait = shots.wait
    orphans = []
    try:
        with second_engine() as rack, session(engine, width=1250) as (desk, ctx, tab):
            customer = desk.customers.create("Borealis Media")
            accounts = [desk.customers.add_account(customer.id, f"bm_{uuid.uuid4().hex[:8]}") for _ in range(3)]
            gone = desk.fleet.create(_unique("gone"), accounts[0].id, port=free_port())
            engine.api.remove_container(gone.container_id, force=True)
            orphans.append(_orphan(engine, accounts[1], free_port()))
            if rack is not None:
                desk.fleet.engines.add("rack-2", rack.host, tls_ca=str(rack.ca), tls_cert=str(rack.cert),
                                       tls_key=str(rack.key))
                client = rack.client()
                try:
                    _orphan(client, accounts[2], free_port())  # goes with the engine
                finally:
                    client.close()
                with desk.db.session() as db:  # a record pointing at a closed loopback port
                    db.add(DockerEngineRecord(name="rack-3", host=f"tcp://127.0.0.1:{free_port()}"))
            tab.actions["sync"].trigger()
            dialog = tab.dialog
            wait(lambda: dialog.loads >= 1 and dialog.missing_table.row_count() == 1
                 and dialog.orphan_table.row_count() == (2 if rack is not None else 1), timeout=60, what="reconcile")
            shots.save(dialog, "instances-reconcile.png")
            dialog.close()

        with tempfile.TemporaryDirectory(prefix="giftdesk-nginx-") as sites, \
                session(engine, width=1250) as (desk, ctx, tab):
            customer = desk.customers.create("Borealis Media")
            for _ in range(2):
                account = desk.customers.add_account(customer.id, f"bm_{uuid.uuid4().hex[:8]}")
                desk.fleet.create(_unique("web"), account.id, start=False)
            tab.actions["public_urls"].trigger()
            dialog = tab.dialog
            wait(lambda: dialog.loads >= 1, what="public URLs")
            dialog.pattern.setText("https://{name}.live.example.com")
            dialog.save_pattern_button.click()
            wait(lambda: all(v.startswith("https://") for v in
                             (dialog.table.source.index(r, 2).data() for r in range(dialog.table.source.rowCount()))),
                 what="URLs")
            dialog.folder.setText(sites)
            dialog.write_button.click()
            wait(lambda: dialog.result.isVisible(), what="site files")
            dialog.copy_button.click()
            shots.save(dialog, "instances-nginx.png")
            dialog.close()
    finally:
        for container in orphans:
            container.remove(force=True)


def move_in(shots: Shots, engine) -> None:
    """File → Move in…'s instance manager page previewing a manager's database: its two running
    trackers, its administrator and its settings table (two taken over, two skipped with the reason)."""
    import sqlite3

    from giftdesk.gui.move_in.dialog import MoveInDialog
    from tests.fleet.conftest import FLEET_IMAGE, FLEET_TEST_LABEL, free_port
    from tests.move_in.test_instance_manager import BACKEND, MANAGER_SCHEMA, _bcrypt, object_id

    from giftdesk.core.context import Actor
    from giftdesk.desk import Desk
    from giftdesk.gui.context import GuiContext

    wait = shots.wait
    made = []
    # A desk of its own: the manager's default image and port range are not set here yet.
    with tempfile.TemporaryDirectory(prefix="giftdesk-manager-") as folder:
        desk = Desk.open(Path(folder) / "desk")
        ctx = GuiContext.create(desk.as_actor(Actor("alice", "admin")))
        path = Path(folder) / "instances.db"
        connection = sqlite3.connect(path)
        connection.executescript(MANAGER_SCHEMA)
        connection.executemany("INSERT INTO settings (key, value) VALUES (?, ?)", (
            ("backend_api_url", BACKEND), ("docker_image", FLEET_IMAGE), ("port_range", "4100-4199"),
            ("jwt_secret", "not shown")))
        for number, creator in enumerate(("lumen_live", "nova_nights"), start=1):
            name, key, account, port = f"{creator.split('_')[0]}-{uuid.uuid4().hex[:4]}", str(uuid.uuid4()), \
                object_id(), free_port()
            row = connection.execute(
                "INSERT INTO instances (name, status, api_key, account_id, tiktok_username, port, backend_api_url, "
                "dash_password, debug_mode, docker_image) VALUES (?, 'creating', ?, ?, ?, ?, ?, ?, 0, ?)",
                (name, key, account, creator, port, BACKEND, f"dash-{name}", FLEET_IMAGE)).lastrowid
            container = engine.containers.run(  # as the manager runs a tracker
                FLEET_IMAGE, detach=True, name=f"gift-tracker-{name}",
                labels={"app": "gift-tracker", "managed-by": "gift-instance-manager", "instance.id": str(row),
                        FLEET_TEST_LABEL: "1"},
                environment={"API_KEY": key, "ACCOUNT_ID": account, "TIKTOK_USERNAME": creator, "PORT": "3000",
                             "BACKEND_API_URL": BACKEND, "DASH_PASSWORD": f"dash-{name}", "DEBUG_MODE": "false",
                             "TRACKER_SKIP_BACKEND": "1"},
                ports={"3000/tcp": ("127.0.0.1", port)})
            made.append(container)
            connection.execute("UPDATE instances SET container_id = ?, status = 'running' WHERE id = ?",
                               (container.id, row))
        connection.execute("INSERT INTO users (username, password_hash, role) VALUES ('manager-admin', ?, 'admin')",
                           (_bcrypt("manager password 1"),))
        connection.commit()
        connection.close()
        try:
            dialog = MoveInDialog(ctx)
            dialog.resize(1180, 560)
            dialog.show()
            page = dialog.pages["manager"]
            dialog.tabs.setCurrentWidget(page)
            page.paths["database"].setText(str(path))
            page.options["users"].setChecked(True)
            page.preview_button.click()
            wait(lambda: page.previews >= 1 and page.table.row_count() >= 7, timeout=60, what="the preview")
            page.paths["database"].deselect()
            shots.save(dialog, "move-in-manager.png")
            dialog.close()
        finally:
            ctx.runner.wait_idle()
            ctx.close()
            desk.close()
            for container in made:
                container.remove(force=True)


def shoot(shots: Shots) -> None:
    with docker_engine() as engine:
        instances(shots, engine)
        engine_and_images(shots, engine)
        reconcile_and_nginx(shots, engine)
        move_in(shots, engine)


def main(argv: list[str]) -> int:
    return run("fleet_screenshots", argv, __doc__, OUTPUTS, shoot)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
