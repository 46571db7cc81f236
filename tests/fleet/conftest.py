"""Fleet tests run against the real Docker engine with the offline test images.

The busybox tracker is built under its own tag (``giftdesk-fleet-tracker:latest``) from this
worktree's ``tracker.sh``, and the Node tracker with ``build-node.sh``. Each test's desk labels
its containers with its own desk id; the fixture removes exactly those afterwards.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import time
import uuid

import pytest

from giftdesk.fleet.docker_api import DESK_LABEL
from tests.conftest import require_service
from tests.support.cli import make_cli
from tests.support.docker_engine import IMAGE_DIR, docker_host_of, ensure_engine
from tests.support.tls_engine import build_image, start_tls_engine

FLEET_IMAGE = "giftdesk-fleet-tracker:latest"
NODE_IMAGE = "giftdesk-test-node-tracker:latest"
PORT_START, PORT_END = 3300, 3699
# Not tests.support's org.giftdesk.test: other test modules sweep every container carrying that
# label at their teardown, which would remove ours mid-test (and images inherit labels).
FLEET_TEST_LABEL = "org.giftdesk.fleet-test"

pytestmark = pytest.mark.docker


def _build(client, script: str, env_name: str, image: str) -> None:
    env = dict(os.environ, DOCKER_HOST=docker_host_of(client), **{env_name: image})
    done = subprocess.run(["bash", str(IMAGE_DIR / script)], env=env, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed:\n{done.stdout}{done.stderr}")


def build_fleet_images(client) -> None:
    """The busybox tracker under FLEET_IMAGE and the Node one, offline (nothing when up to date)."""
    _build(client, "build.sh", "GIFTDESK_TEST_IMAGE", FLEET_IMAGE)
    _build(client, "build-node.sh", "GIFTDESK_TEST_NODE_IMAGE", NODE_IMAGE)


@pytest.fixture(scope="session")
def engine():
    client = ensure_engine()
    require_service(client is not None, "a Docker Engine (tests/support/dockerd.sh, DOCKER_HOST)")
    build_fleet_images(client)
    os.environ.setdefault("DOCKER_HOST", docker_host_of(client))
    yield client
    client.close()


def remove_desk_containers(client, desk_id: str) -> None:
    for item in client.api.containers(all=True, filters={"label": f"{DESK_LABEL}={desk_id}"}):
        try:
            client.api.remove_container(item["Id"], force=True)
        except Exception:
            pass


@pytest.fixture
def fleet_desk(desk, engine, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", docker_host_of(engine))
    desk.settings.update({"tracker.default_image": FLEET_IMAGE, "tracker.port_start": PORT_START,
                          "tracker.port_end": PORT_END})
    yield desk
    remove_desk_containers(engine, desk.secrets.namespace)


@pytest.fixture
def cli(fleet_desk, capsys):
    """``giftdesk --data-dir <the fleet desk's directory> …`` in-process (``cli.json`` for --json)."""
    return make_cli(capsys, "--data-dir", str(fleet_desk.paths.root))


@pytest.fixture
def account(fleet_desk):
    """A customer with a TikTok account (no key yet: create generates it)."""
    def make(username: str | None = None):
        customer = fleet_desk.customers.create(f"Fleet customer {uuid.uuid4().hex[:6]}")
        return fleet_desk.customers.add_account(customer.id, username or f"fleet_{uuid.uuid4().hex[:8]}")

    return make


@pytest.fixture
def foreign(engine):
    """Containers the console did not create (label FLEET_TEST_LABEL), removed afterwards."""
    made = []

    def run(image=FLEET_IMAGE, **kwargs):
        kwargs.setdefault("name", f"gd-foreign-{uuid.uuid4().hex[:8]}")
        labels = {FLEET_TEST_LABEL: "1", **kwargs.pop("labels", {})}
        container = engine.containers.run(image, detach=True, labels=labels, **kwargs)
        made.append(container)
        return container

    yield run
    for container in made:
        try:
            container.remove(force=True)
        except Exception:
            pass


@pytest.fixture(scope="session")
def swarm(engine):
    """A second engine, a one-node Swarm manager, with the fleet's test tracker (tests/support/swarm_engine.py)."""
    from tests.support import swarm_engine

    missing = swarm_engine.available()
    require_service(not missing, f"a second Docker engine for a Swarm: {missing}")
    yield swarm_engine.acquire(FLEET_IMAGE)
    swarm_engine.release()


@pytest.fixture
def swarm_desk(fleet_desk, swarm):
    """The fleet desk on the Swarm engine, through its Docker host setting; its services removed after."""
    # Ports of their own: host-mode publishing binds every address, and the shared engine's other
    # test runs take ports from PORT_START on.
    start = random.randrange(4000, 4400)
    fleet_desk.settings.update({"docker.host": swarm.host, "tracker.port_start": start,
                                "tracker.port_end": start + 39})
    yield fleet_desk
    swarm.remove_services(f"{DESK_LABEL}={fleet_desk.secrets.namespace}")


@pytest.fixture(scope="module")
def nodes(engine):
    """A two-node Swarm, a manager and a worker each in a network namespace of its own, started once
    per module (tests/support/swarm_nodes.py)."""
    from tests.support import swarm_nodes

    missing = swarm_nodes.available()
    require_service(not missing, f"a two-node Swarm in network namespaces: {missing}")
    pair = swarm_nodes.TwoNodeSwarm().start(FLEET_IMAGE)
    yield pair
    pair.stop()
    assert engine.ping()  # the first engine never saw any of it


@pytest.fixture
def nodes_desk(fleet_desk, nodes):
    """The fleet desk on the manager; its services removed, the node labels and engines it set undone after."""
    start = random.randrange(4000, 4400)
    fleet_desk.settings.update({"docker.host": nodes.manager.host, "tracker.port_start": start,
                                "tracker.port_end": start + 39})
    yield fleet_desk
    nodes.remove_services(f"{DESK_LABEL}={fleet_desk.secrets.namespace}")
    for engine in nodes.engines:
        nodes.unlabel_node(engine, "zone")


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def tls_engine(engine):
    """A second dockerd on loopback TCP with mutual TLS (tests/support/tls_engine.py), with the
    busybox tracker built on it; the ssh engine is this one behind an sshd."""
    try:
        started = start_tls_engine()
    except RuntimeError as exc:
        require_service(False, f"a second Docker engine with TLS ({exc})")
    try:
        build_image(started, IMAGE_DIR / "build.sh", FLEET_IMAGE)
        assert subprocess.run(["ip", "link", "show", "docker0"], capture_output=True).returncode == 0
        yield started
    finally:
        started.stop()


@pytest.fixture
def second(tls_engine, fleet_desk):
    """The TLS engine's own client (its unix socket); this desk's containers on it go afterwards."""
    client = tls_engine.client()
    yield client
    remove_desk_containers(client, fleet_desk.secrets.namespace)
    client.close()


def add_engine(cli, name: str, host: str, tls=None, **options) -> dict:
    """``giftdesk engine add`` as JSON. ``tls``: an engine of tests/support/tls_engine.py, whose CA,
    client certificate and key go with it; ``options`` are more flags (backend_url → --backend-url)."""
    argv = ["engine", "add", name, "--host", host]
    if tls is not None:
        argv += ["--tls-ca", str(tls.ca), "--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]
    for key, value in options.items():
        argv += [f"--{key.replace('_', '-')}", value]
    return cli.json(*argv)


def wait_state(cli, name: str, state: str, timeout: float = 20.0) -> dict:
    """``giftdesk instance show`` once the instance is in ``state`` (or as it is when time runs out)."""
    deadline = time.monotonic() + timeout
    while True:
        shown = cli.json("instance", "show", name)
        if shown["state"] == state or time.monotonic() > deadline:
            return shown
        time.sleep(0.2)
