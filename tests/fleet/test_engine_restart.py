"""The engine restarts during a test: the watcher reconnects with ``since`` and reconciles.

A second private engine of this test's own (another directory, a bridge of its own, no iptables,
so it cannot disturb the shared engine other tests use) is started, stopped and started again.
Its trackers use host networking and are reached on 127.0.0.1.

Never start a second engine with ``--bridge=none``: dockerd then deletes the host's ``docker0``
interface, which the shared engine's containers need.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from giftdesk.fleet.events import FleetConnectionChanged, InstanceStateChanged
from giftdesk.fleet.runtime import install
from giftdesk.fleet.spec import InstanceSettings
from giftdesk.runtime import Runtime
from tests.conftest import require_service
from tests.fleet.conftest import FLEET_IMAGE, unique
from tests.fleet.test_runtime import Recorder
from tests.support.docker_engine import IMAGE_DIR

pytestmark = pytest.mark.docker


def _has_interface(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True).returncode == 0


class PrivateEngine:
    def __init__(self):
        token = uuid.uuid4().hex[:6]
        self.dir = Path(f"/tmp/gd-fleet-{token}")
        self.host = f"unix://{self.dir}/docker.sock"
        self.bridge = f"gdfl{token}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> None:
        self.dir.mkdir(exist_ok=True)
        if not _has_interface(self.bridge):
            for command in (["ip", "link", "add", self.bridge, "type", "bridge"],
                            ["ip", "addr", "add", "172.31.251.1/24", "dev", self.bridge],
                            ["ip", "link", "set", self.bridge, "up"]):
                subprocess.run(command, check=True, capture_output=True)
        with open(self.dir / "log", "ab") as log:
            self.process = subprocess.Popen(
                ["dockerd", f"--host={self.host}", f"--data-root={self.dir}/root", f"--exec-root={self.dir}/exec",
                 f"--pidfile={self.dir}/pid", f"--bridge={self.bridge}", "--iptables=false", "--ip-masq=false"],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.answers():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the private engine did not start:\n{(self.dir / 'log').read_text()[-2000:]}")
            time.sleep(0.2)

    def answers(self) -> bool:
        done = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True,
                              env=dict(os.environ, DOCKER_HOST=self.host), timeout=10)
        return done.returncode == 0

    def stop(self, timeout: float = 30) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout)
        self.process = None

    def remove(self) -> None:
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
        # dockerd leaves its default network namespace mounted under exec-root.
        subprocess.run(["umount", str(self.dir / "exec" / "netns" / "default")], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def private_engine():
    require_service(shutil.which("dockerd") is not None and os.geteuid() == 0, "dockerd and root")
    had_docker0 = _has_interface("docker0")
    engine = PrivateEngine()
    engine.start()
    done = subprocess.run(["bash", str(IMAGE_DIR / "build.sh")], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, DOCKER_HOST=engine.host, GIFTDESK_TEST_IMAGE=FLEET_IMAGE))
    assert done.returncode == 0, done.stderr
    yield engine
    engine.stop()
    engine.remove()
    assert _has_interface("docker0") == had_docker0, "the private engine must leave the shared docker0 alone"


def test_engine_restart_reconnects_with_since_and_reconciles(desk, private_engine):
    desk.settings.update({"docker.host": private_engine.host, "tracker.default_image": FLEET_IMAGE,
                          "tracker.port_start": 3700, "tracker.port_end": 3799})
    customer = desk.customers.create("Restart customer")
    acct = desk.customers.add_account(customer.id, f"restart_{uuid.uuid4().hex[:6]}")
    runtime = Runtime(desk, endpoint=False, features=False)
    fleet = install(runtime, probe_interval=0.5, probe_grace=2.0)
    recorder = Recorder(desk, InstanceStateChanged, FleetConnectionChanged)
    runtime.start()
    try:
        row = desk.fleet.create(unique("survivor"), acct.id, settings=InstanceSettings(network="host"))
        recorder.wait(lambda e: isinstance(e, InstanceStateChanged) and e.instance_id == row.id and e.state == "running")
        gone = desk.fleet.create(unique("gone"), acct.id, settings=InstanceSettings(network="host"), start=False)

        private_engine.stop()
        recorder.wait(lambda e: isinstance(e, FleetConnectionChanged) and e.state == "reconnecting")
        assert "reconnecting" in runtime.supervisor.status("fleet-watcher").detail
        mark = len(recorder.events)

        private_engine.start()
        # Changed behind the watcher's back as soon as the engine is up, before it reconnects.
        subprocess.run(["docker", "rm", "-f", gone.container_name], check=True, capture_output=True,
                       env=dict(os.environ, DOCKER_HOST=private_engine.host))
        recorder.wait(lambda e: isinstance(e, FleetConnectionChanged) and e.state == "connected", timeout=30,
                      after=mark)
        assert "reconnected" in runtime.supervisor.status("fleet-watcher").detail
        assert fleet.watcher.reconnects >= 1
        # The unless-stopped tracker came back with the engine; the removed one is missing.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (fleet.live.get(row.id).state, fleet.live.get(gone.id).state) != (
                "running", "missing"):
            time.sleep(0.1)
        assert fleet.live.get(row.id).state == "running"
        assert fleet.live.get(gone.id).state == "missing"
        assert desk.fleet.get(gone.id).status == "missing"
        later = [e for _, e in recorder.events[mark:] if isinstance(e, InstanceStateChanged)]
        assert any(e.instance_id == gone.id and e.state == "missing" for e in later)
        # And the stream works again: a stop now shows up.
        mark = len(recorder.events)
        desk.fleet.stop(row.id)
        recorder.wait(lambda e: isinstance(e, InstanceStateChanged) and e.instance_id == row.id and e.state == "exited",
                      after=mark)
    finally:
        runtime.stop()
        for item in desk.fleet.list():
            try:
                desk.fleet.delete(item.id)
            except Exception:
                pass
        desk.fleet.close()
