"""A two-node Swarm for the tests: a manager and a worker, each a dockerd in a network namespace of its own.

``TwoNodeSwarm.start(image)`` makes two network namespaces (``ip netns add``) joined by a veth
pair on a free private /24 (the manager's end .1, the worker's .2), loopback up in each. In each
it runs a ``dockerd`` (through ``ip netns exec``, which also gives it a mount namespace whose
/sys shows that namespace's links, and ``unshare --uts`` for a host name of its own, so the two
Swarm nodes are told apart by name as two computers are): its own data root, exec root, pid file
and unix socket under a temporary folder (a unix socket is reached from the root namespace
through the shared file system), ``--iptables=false``. The manager ``swarm init``s on its veth
address; the worker joins with the manager's worker token (read over its API); both get the
fleet's busybox tracker imported.

Why both in namespaces, not the manager in the root one: Swarm's gossip port (7946) is fixed, and
the session's one-node manager (``swarm_engine.py``) holds it in the root namespace. Here all
Swarm traffic (2377, 7946, 4789) stays on the veth between two namespaces the tests made, and the
root namespace gets no link, address, route or firewall rule, unless a test asks for a way in:
``reach_from_root()`` adds one more veth pair, between the root namespace and the manager's, on a
/24 of its own, with a route in the root namespace to the nodes' /24 through the manager (which
forwards) and one back in the worker's. The console then calls a tracker on the worker at the
worker's veth address, as it would a Swarm node on the office network. Only that link and its
route are added in the root namespace (no firewall rule, nothing on the first engine's bridge),
and they go with the manager's namespace.

``stop()`` removes the services, leaves the Swarm on both, stops both engines (their mounts live
in the mount namespaces ``ip netns exec`` made and end with them), deletes the namespaces (and so
the veth), removes the folder, and checks that neither veth end is in the root namespace and that
the first engine's ``docker0`` is still there.

Root, ``ip`` (iproute2), ``unshare`` and ``dockerd`` are needed; ``available()`` says why not.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import docker

from tests.support.docker_engine import IMAGE_DIR
from tests.support.swarm_engine import DOCKER_CLI, FIRST_BRIDGE, _link_exists, _run, _used_networks, free_subnet

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
ADDRESS_POOL = "10.228.0.0/16"  # overlay subnets, inside the namespaces only
NODE_READY_TIMEOUT_S = 30.0


def available() -> str:
    """'' when two namespaced engines can be started here, else the reason they cannot."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "root (network namespaces and engines of their own)"
    for tool in ("dockerd", "ip", "unshare"):
        if shutil.which(tool) is None:
            return f"{tool} on PATH (apt-get install docker.io iproute2 util-linux)"
    probe = f"gdprobe{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"network namespaces (ip netns add: {made.stderr.strip()})"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return ""


def _cgroup_mounts() -> str:
    """Shell commands mounting the cgroup hierarchies again where the root mount namespace has them:
    ``ip netns exec`` mounts a fresh /sys (one showing the namespace's links), which hides them."""
    commands = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        kind, where, fs, options = line.split()[:4]
        if not where.startswith("/sys/fs/cgroup"):
            continue
        wanted = [o for o in options.split(",") if o not in ("rw", "ro", "relatime", "nosuid", "nodev", "noexec")]
        option = f"-o {','.join(wanted)} " if wanted else ""
        commands.append(f"mkdir -p {where} && mount -t {fs} {option}{kind} {where}")
    return " && ".join(commands) or "true"


def _root_links() -> set[str]:
    return {line.split(":")[1].strip().split("@")[0] for line in _run("ip", "-o", "link", "show").stdout.splitlines()}


class NamespacedEngine:
    """One dockerd in the network namespace ``netns``: ``host`` (its DOCKER_HOST) and ``client``."""

    def __init__(self, folder: Path, netns: str, hostname: str, address: str):
        self.folder = folder
        self.netns = netns
        self.hostname = hostname
        self.address = address  # its veth address
        self.host = f"unix://{folder}/docker.sock"
        self.process: subprocess.Popen | None = None
        self.client: docker.DockerClient | None = None
        self.node_id = ""

    @property
    def env(self) -> dict:
        return dict(os.environ, DOCKER_HOST=self.host)

    def docker(self, *argv: str, check: bool = True, timeout: float = 60.0) -> subprocess.CompletedProcess:
        return _run(DOCKER_CLI, *argv, env=self.env, check=check, timeout=timeout)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        script = (f'hostname "$1" && {_cgroup_mounts()} && exec dockerd --host={self.host} '
                  f'--data-root={self.folder}/root --exec-root={self.folder}/exec --pidfile={self.folder}/pid '
                  '--iptables=false')
        with open(self.folder / "log", "ab") as log:
            self.process = subprocess.Popen(
                ["ip", "netns", "exec", self.netns, "unshare", "--uts", "sh", "-c", script, "sh", self.hostname],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while self.docker("version", "--format", "{{.Server.Version}}", check=False).returncode != 0:
            if self.process is None or self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the engine in {self.netns} did not start:\n{self.log_tail()}")
            time.sleep(0.3)
        self.client = docker.DockerClient(base_url=self.host, version="auto", timeout=30)

    def import_image(self, image: str) -> None:
        build = _run("bash", str(IMAGE_DIR / "build.sh"), env=dict(self.env, GIFTDESK_TEST_IMAGE=image), check=False,
                     timeout=180)
        if build.returncode != 0:
            raise RuntimeError(f"building {image} on the engine in {self.netns} failed:\n{build.stderr}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join((self.folder / "log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.client is not None:
            try:
                for item in self.client.api.containers(all=True):
                    self.client.api.remove_container(item["Id"], force=True)
            except Exception:
                pass
            self.client.close()
            self.client = None
        if self.process is not None and self.process.poll() is None:
            self.docker("swarm", "leave", "--force", check=False, timeout=30)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


class TwoNodeSwarm:
    """``manager`` and ``worker`` (``NamespacedEngine``s); the worker's Swarm node id is ``worker.node_id``."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="gd-swarm2-"))
        tag = uuid.uuid4().hex[:6]
        self.namespaces = (f"gd-swm-{tag}", f"gd-sww-{tag}")
        self.veths = (f"gdsm{tag}", f"gdsw{tag}")
        self.root_veths = (f"gdsr{tag}", f"gdsx{tag}")  # the root namespace's end, the manager's end
        self.subnet: ipaddress.IPv4Network | None = None
        self.reached_from_root = False
        self.made_namespaces: list[str] = []
        self.manager: NamespacedEngine | None = None
        self.worker: NamespacedEngine | None = None
        self._root_links_before: set[str] = set()

    @property
    def engines(self) -> list[NamespacedEngine]:
        return [e for e in (self.manager, self.worker) if e is not None]

    def start(self, image: str) -> "TwoNodeSwarm":
        try:
            self._start(image)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, image: str) -> None:
        self._root_links_before = _root_links()
        subnet = self.subnet = free_subnet("10.233.0.0/16", _used_networks())
        addresses = (str(subnet.network_address + 1), str(subnet.network_address + 2))
        for netns in self.namespaces:
            _run("ip", "netns", "add", netns)
            self.made_namespaces.append(netns)
            _run("ip", "-n", netns, "link", "set", "lo", "up")
        # Made inside the manager's namespace, its peer moved into the worker's: never in the root one.
        _run("ip", "-n", self.namespaces[0], "link", "add", self.veths[0], "type", "veth", "peer", "name",
             self.veths[1], "netns", self.namespaces[1])
        for netns, veth, address in zip(self.namespaces, self.veths, addresses):
            _run("ip", "-n", netns, "addr", "add", f"{address}/{subnet.prefixlen}", "dev", veth)
            _run("ip", "-n", netns, "link", "set", veth, "up")
        self.manager = NamespacedEngine(self.folder / "manager", self.namespaces[0], "gd-manager", addresses[0])
        self.worker = NamespacedEngine(self.folder / "worker", self.namespaces[1], "gd-worker", addresses[1])
        for engine in self.engines:  # both start at once: their waits overlap
            engine.start()
        for engine in self.engines:
            engine.wait_ready()
        self.manager.docker("swarm", "init", "--advertise-addr", self.manager.address,
                            "--listen-addr", f"{self.manager.address}:2377", "--default-addr-pool", ADDRESS_POOL)
        token = self.manager.client.api.inspect_swarm()["JoinTokens"]["Worker"]
        self.worker.docker("swarm", "join", "--token", token, "--advertise-addr", self.worker.address,
                           "--listen-addr", f"{self.worker.address}:2377", f"{self.manager.address}:2377")
        for engine in self.engines:
            engine.node_id = engine.docker("info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
        deadline = time.monotonic() + NODE_READY_TIMEOUT_S
        while not self._worker_ready():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not become ready: {self.manager.client.api.nodes()}")
            time.sleep(0.3)
        for engine in self.engines:
            engine.import_image(image)

    def reach_from_root(self) -> None:
        """A way from the root namespace to both nodes' veth addresses (see the module's text); once."""
        if self.reached_from_root:
            return
        assert self.manager is not None and self.worker is not None and self.subnet is not None
        manager_ns, worker_ns = self.namespaces
        root_end, manager_end = self.root_veths
        link = free_subnet("10.234.0.0/16", _used_networks() + [self.subnet])
        root_address, manager_address = str(link.network_address + 1), str(link.network_address + 2)
        # Made in the root namespace, its peer moved at once into the manager's (which deletes both at stop).
        _run("ip", "link", "add", root_end, "type", "veth", "peer", "name", manager_end, "netns", manager_ns)
        self.reached_from_root = True
        _run("ip", "addr", "add", f"{root_address}/{link.prefixlen}", "dev", root_end)
        _run("ip", "link", "set", root_end, "up")
        _run("ip", "-n", manager_ns, "addr", "add", f"{manager_address}/{link.prefixlen}", "dev", manager_end)
        _run("ip", "-n", manager_ns, "link", "set", manager_end, "up")
        _run("ip", "netns", "exec", manager_ns, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        _run("ip", "route", "add", str(self.subnet), "via", manager_address, "dev", root_end)
        _run("ip", "-n", worker_ns, "route", "add", str(link), "via", self.manager.address)

    def _worker_ready(self) -> bool:
        nodes = {n["ID"]: n for n in self.manager.client.api.nodes()}
        node = nodes.get(self.worker.node_id) or {}
        return (node.get("Status") or {}).get("State") == "ready"

    def label_node(self, engine: NamespacedEngine, **labels: str) -> None:
        """Sets labels on the node of ``engine`` (through the manager)."""
        node = self.manager.client.api.inspect_node(engine.node_id)
        spec = node["Spec"]
        spec["Labels"] = {**(spec.get("Labels") or {}), **labels}
        self.manager.client.api.update_node(engine.node_id, node["Version"]["Index"], spec)

    def unlabel_node(self, engine: NamespacedEngine, *keys: str) -> None:
        node = self.manager.client.api.inspect_node(engine.node_id)
        spec = node["Spec"]
        spec["Labels"] = {k: v for k, v in (spec.get("Labels") or {}).items() if k not in keys}
        self.manager.client.api.update_node(engine.node_id, node["Version"]["Index"], spec)

    def remove_services(self, label: str) -> None:
        """Every service carrying ``label`` (KEY=VALUE), then waits for their task containers on both
        nodes and for the manager to forget their tasks (until then the scheduler counts them on
        their node, and the next test's trackers would go to the other one)."""
        if self.manager is None or self.manager.client is None:
            return
        api = self.manager.client.api
        removed = [service["ID"] for service in api.services(filters={"label": label})]
        for service_id in removed:
            try:
                api.remove_service(service_id)
            except docker.errors.APIError:
                pass
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (any(
                e.client.api.containers(all=True, filters={"label": label}) for e in self.engines if e.client)
                or any(task.get("ServiceID") in removed for task in api.tasks())):
            time.sleep(0.2)

    def stop(self) -> None:
        if self.manager is not None and self.manager.client is not None:
            try:
                for service in self.manager.client.api.services():
                    self.manager.client.api.remove_service(service["ID"])
            except Exception:
                pass
        for engine in reversed(self.engines):  # the worker leaves first
            engine.stop()
        for netns in self.made_namespaces:
            pids = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True).stdout.split()
            for pid in pids:  # only processes in a namespace these tests made: theirs
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            _run("ip", "netns", "del", netns, check=False)
        self.made_namespaces = []
        if self.reached_from_root:  # its peer went with the manager's namespace; this only makes sure
            _run("ip", "link", "del", self.root_veths[0], check=False)
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
                  if line.split()[1].startswith(str(self.folder))]
        for mount in sorted(mounts, key=len, reverse=True):
            _run("umount", "-l", mount, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)
        left = _root_links() & {*self.veths, *self.root_veths}
        if left:
            raise RuntimeError(f"the two-node Swarm left links in the root namespace: {sorted(left)}")
        if self._root_links_before - _root_links() >= {FIRST_BRIDGE}:
            raise RuntimeError(f"the first engine's {FIRST_BRIDGE} bridge went while the two-node Swarm ran")
        if not _link_exists(FIRST_BRIDGE):
            raise RuntimeError(f"the first engine's {FIRST_BRIDGE} bridge is gone after the two-node Swarm stopped")
