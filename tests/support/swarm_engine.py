"""A second Docker engine, made a one-node Swarm manager, for the Swarm service tests.

``SwarmEngine.start()`` runs a ``dockerd`` of its own beside the tests' first engine: its own
data root, exec root, pid file and unix socket under a temporary folder, its own bridge
(``gdbrs``, an address on a free private subnet, ``--bridge gdbrs``) and ``--iptables=false``
(an engine starting with iptables on flushes the DOCKER chains the first engine uses). It creates
``docker_gwbridge`` on a free subnet, then ``docker swarm init`` on loopback with a default address
pool of its own, and imports the busybox test tracker the way the fleet tests do for the first
engine. ``stop()`` leaves the Swarm, stops the engine, unmounts what it left, removes its links and
folder, and checks that the first engine's ``docker0`` is still there.

Root and Debian's ``docker.io`` are needed; ``available()`` says why not otherwise. Swarm's gossip
port (7946) is fixed: one Swarm engine per network namespace, so one per test session.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import docker

from tests.support.docker_engine import IMAGE_DIR

BRIDGE = "gdbrs"
GWBRIDGE = "docker_gwbridge"
FIRST_BRIDGE = "docker0"
ADDRESS_POOL = "10.229.0.0/16"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
DOCKER_CLI = "/usr/bin/docker" if os.path.exists("/usr/bin/docker") else "docker"


_shared: "SwarmEngine | None" = None
_users = 0


def acquire(image: str) -> "SwarmEngine":
    """The session's one Swarm engine, started by its first user (gossip's fixed port allows one)."""
    global _shared, _users
    if _shared is None:
        sweep_leftovers()
        _shared = SwarmEngine().start(image)
    _users += 1
    return _shared


def sweep_leftovers() -> None:
    """Swarm engines a killed test session left behind. Started in a session of their own, they
    outlive it, handed to init: one still running holds the gossip port, and the next session's
    Swarm cannot form. An engine whose test process still runs (another session's) is left alone,
    and its links with it."""
    running = swept = False
    for folder in Path(tempfile.gettempdir()).glob("gd-swarm-*"):
        try:
            pid = int((folder / "pid").read_text().strip())
        except (OSError, ValueError):
            pid = None
        parent = _parent_of(pid) if pid is not None else None
        if parent not in (None, 1):
            running = True
            continue  # its test session runs
        if parent is None and time.time() - folder.stat().st_mtime < 120:
            continue  # being made right now, perhaps
        if parent == 1:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while _parent_of(pid) is not None and time.monotonic() < deadline:
                time.sleep(0.2)
            if _parent_of(pid) is not None:
                os.kill(pid, signal.SIGKILL)
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
                  if line.split()[1].startswith(f"{folder}/")]
        for mount in sorted(mounts, key=len, reverse=True):
            _run("umount", "-l", mount, check=False)
        shutil.rmtree(folder, ignore_errors=True)
        swept = True
    if swept and not running:
        for link in (GWBRIDGE, BRIDGE):
            if _link_exists(link):
                _run("ip", "link", "del", link, check=False)


def _parent_of(pid: int) -> int | None:
    """The parent of a running process; None when there is none (or only its zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after the command name, which may hold spaces
    return None if fields[0] == "Z" else int(fields[1])


def release() -> None:
    """Its last user stops it."""
    global _shared, _users
    _users -= 1
    if _users <= 0 and _shared is not None:
        engine, _shared, _users = _shared, None, 0
        engine.stop()


def available() -> str:
    """'' when a Swarm engine can be started here, else the reason it cannot."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "root (a second dockerd and a bridge of its own)"
    for tool in ("dockerd", "ip"):
        if shutil.which(tool) is None:
            return f"{tool} on PATH (apt-get install docker.io iproute2)"
    if not _link_exists(FIRST_BRIDGE):
        return f"the first engine's {FIRST_BRIDGE} bridge"
    return ""


def _run(*argv: str, env: dict | None = None, check: bool = True, timeout: float = 60.0) -> subprocess.CompletedProcess:
    done = subprocess.run(list(argv), env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return done


def _link_exists(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True).returncode == 0


def _used_networks() -> list[ipaddress.IPv4Network]:
    out = _run("ip", "-4", "-o", "addr", "show").stdout + _run("ip", "-4", "route", "show").stdout
    found = []
    for word in out.split():
        try:
            found.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            continue
    return [n for n in found if n.prefixlen < 32 or str(n.network_address) != "0.0.0.0"]


def free_subnet(prefix: str, avoid: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    """The first /24 of ``prefix`` (e.g. 172.30.0.0/16) that overlaps nothing in ``avoid``."""
    for candidate in ipaddress.ip_network(prefix).subnets(new_prefix=24):
        if not any(candidate.overlaps(used) for used in avoid if used.prefixlen > 0):
            return candidate
    raise RuntimeError(f"no free /24 in {prefix}")


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SwarmEngine:
    """One second engine, a Swarm manager: ``host`` (its DOCKER_HOST) and ``client``."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="gd-swarm-"))
        self.host = f"unix://{self.folder}/docker.sock"
        self.process: subprocess.Popen | None = None
        self.client: docker.DockerClient | None = None
        self.node_id = ""
        self.made_bridge = False
        self.made_gateway = False

    @property
    def env(self) -> dict:
        return dict(os.environ, DOCKER_HOST=self.host)

    def docker(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        return _run(DOCKER_CLI, *argv, env=self.env, check=check)

    def start(self, image: str) -> "SwarmEngine":
        try:
            self._start(image)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, image: str) -> None:
        if _link_exists(BRIDGE):  # left by a killed session: ours by its name
            _run("ip", "link", "del", BRIDGE, check=False)
        used = _used_networks()
        bridge_net = free_subnet("172.30.0.0/16", used)
        _run("ip", "link", "add", BRIDGE, "type", "bridge")
        self.made_bridge = True
        _run("ip", "addr", "add", f"{bridge_net.network_address + 1}/{bridge_net.prefixlen}", "dev", BRIDGE)
        _run("ip", "link", "set", BRIDGE, "up")
        with open(self.folder / "log", "ab") as log:  # the engine keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                ["dockerd", f"--host={self.host}", f"--data-root={self.folder}/root",
                 f"--exec-root={self.folder}/exec", f"--pidfile={self.folder}/pid", f"--bridge={BRIDGE}",
                 "--iptables=false"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while self.docker("version", "--format", "{{.Server.Version}}", check=False).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Swarm test engine did not start:\n{self.log_tail()}")
            time.sleep(0.3)
        if not _link_exists(FIRST_BRIDGE):
            raise RuntimeError(f"starting the second engine removed {FIRST_BRIDGE}")
        gateway_net = free_subnet("10.231.0.0/16", _used_networks())
        self.docker("network", "create", "--driver", "bridge", "--subnet", str(gateway_net),
                    "-o", f"com.docker.network.bridge.name={GWBRIDGE}",
                    "-o", "com.docker.network.bridge.enable_icc=false",
                    "-o", "com.docker.network.bridge.enable_ip_masquerade=true", GWBRIDGE)
        self.made_gateway = True
        port = free_tcp_port()
        self.docker("swarm", "init", "--advertise-addr", f"127.0.0.1:{port}", "--listen-addr", f"127.0.0.1:{port}",
                    "--default-addr-pool", ADDRESS_POOL)
        self.node_id = self.docker("info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
        build = _run("bash", str(IMAGE_DIR / "build.sh"), env=dict(self.env, GIFTDESK_TEST_IMAGE=image), timeout=180)
        if build.returncode != 0:
            raise RuntimeError(f"building {image} on the Swarm engine failed:\n{build.stderr}")
        self.client = docker.DockerClient(base_url=self.host, version="auto", timeout=30)

    def remove_services(self, label: str) -> None:
        """Every service carrying ``label`` (KEY=VALUE), then waits for their task containers."""
        if self.client is None:
            return
        for service in self.client.api.services(filters={"label": label}):
            try:
                self.client.api.remove_service(service["ID"])
            except docker.errors.APIError:
                pass
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and self.client.api.containers(all=True, filters={"label": label}):
            time.sleep(0.2)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join((self.folder / "log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.process is not None and self.process.poll() is None:
            self.docker("swarm", "leave", "--force", check=False)
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None
        # What dockerd mounted under its folders (the default network namespace, overlay layers).
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
                  if line.split()[1].startswith(str(self.folder))]
        for mount in sorted(mounts, key=len, reverse=True):
            _run("umount", "-l", mount, check=False)
        for link, made in ((GWBRIDGE, self.made_gateway), (BRIDGE, self.made_bridge)):
            if made and _link_exists(link):
                _run("ip", "link", "del", link, check=False)
        shutil.rmtree(self.folder, ignore_errors=True)
        if not _link_exists(FIRST_BRIDGE):
            raise RuntimeError(f"the first engine's {FIRST_BRIDGE} bridge is gone after the Swarm engine stopped")
