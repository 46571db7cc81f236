"""A second Docker engine for the tests, reached over loopback TCP with mutual TLS.

``start_tls_engine()`` makes a CA, a server certificate for 127.0.0.1/localhost and a client
certificate with openssl (and a second, unrelated CA to prove a wrong one is refused), then starts
``dockerd`` with its own data root, exec root, pid file and bridge (``gdbre<N>``, made here with
``ip link``), iptables off (an engine starting with iptables on recreates the chains the first
engine uses), listening on ``tcp://127.0.0.1:<free port>`` with ``--tlsverify`` and on a unix
socket the tests use to set up and clean up. ``stop()`` ends it and removes the bridge and the
folder. The first engine's bridge (docker0) is checked after the start: it must still be there.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 60
FIRST_ENGINE_BRIDGE = "docker0"


@dataclass
class TlsEngine:
    folder: Path
    host: str  # tcp://127.0.0.1:PORT
    socket_host: str  # unix://…/docker.sock (set-up and clean-up only)
    ca: Path
    cert: Path
    key: Path
    other_ca: Path  # a CA that signed nothing the engine uses
    bridge: str
    process: subprocess.Popen

    def client(self):
        """A docker-py client on the engine's unix socket (for the tests' own set-up)."""
        import docker

        return docker.DockerClient(base_url=self.socket_host, version="1.41", timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        subprocess.run(["ip", "link", "delete", self.bridge], capture_output=True)
        subprocess.run(["umount", "-R", str(self.folder / "exec")], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def _openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {done.stderr}")


def make_certificates(folder: Path) -> None:
    """ca.pem, server-{cert,key}.pem (127.0.0.1, localhost), cert.pem/key.pem (client), other-ca.pem."""
    for ca in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=giftdesk test {ca}",
                 "-keyout", f"{ca}-key.pem", "-out", f"{ca}.pem", cwd=folder)
    (folder / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    (folder / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for who, subject in (("server", "/CN=127.0.0.1"), ("client", "/CN=giftdesk test client")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", f"{who}-key.pem",
                 "-out", f"{who}.csr", cwd=folder)
        _openssl("x509", "-req", "-in", f"{who}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
                 "-days", "2", "-extfile", f"{who}.ext", "-out", f"{who}-cert.pem", cwd=folder)
    os.replace(folder / "client-cert.pem", folder / "cert.pem")
    os.replace(folder / "client-key.pem", folder / "key.pem")


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when the test process ends, even by SIGKILL or a watchdog's
    exit (no teardown runs then): no engine or sshd is left behind."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def sweep_leftovers() -> None:
    """Folders (and bridges) of second engines whose dockerd is gone: a test process that was killed."""
    for folder in Path("/tmp").glob("gdte-*"):
        pid_file = folder / "pid"
        try:
            pid = int(pid_file.read_text().strip())
            os.kill(pid, 0)
            continue  # its engine runs (another test session's)
        except (OSError, ValueError):
            pass
        if time.time() - folder.stat().st_mtime < 120:
            continue  # starting right now, perhaps
        bridge = (folder / "bridge").read_text().strip() if (folder / "bridge").exists() else ""
        if bridge:
            subprocess.run(["ip", "link", "delete", bridge], capture_output=True)
        subprocess.run(["umount", "-R", str(folder / "exec")], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _link_exists(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True).returncode == 0


def _make_bridge() -> tuple[str, str]:
    """A bridge of our own, gdbre<N>, with the address 10.232.<N>.1/24 (a range no engine hands out)."""
    used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    for number in range(1, 250):
        name, address = f"gdbre{number}", f"10.232.{number}.1/24"
        if _link_exists(name) or f"10.232.{number}." in used:
            continue
        made = subprocess.run(["ip", "link", "add", name, "type", "bridge"], capture_output=True, text=True)
        if made.returncode != 0:
            continue  # made by someone else meanwhile
        subprocess.run(["ip", "addr", "add", address, "dev", name], check=True, capture_output=True)
        subprocess.run(["ip", "link", "set", name, "up"], check=True, capture_output=True)
        return name, address
    raise RuntimeError("no free gdbre<N> bridge name")


def start_tls_engine() -> TlsEngine:
    """Starts the engine and waits until it answers over TLS. Raises RuntimeError when it cannot."""
    if shutil.which("dockerd") is None or shutil.which("openssl") is None or os.geteuid() != 0:
        raise RuntimeError("a second engine needs root, dockerd and openssl")
    sweep_leftovers()
    folder = Path(tempfile.mkdtemp(prefix="gdte-", dir="/tmp"))
    certs = folder / "certs"
    certs.mkdir()
    make_certificates(certs)
    bridge, _address = _make_bridge()
    (folder / "bridge").write_text(bridge)
    port = free_port()
    host, socket_host = f"tcp://127.0.0.1:{port}", f"unix://{folder}/docker.sock"
    log = open(folder / "log", "ab")
    try:
        process = subprocess.Popen(
            ["dockerd", f"--host={host}", f"--host={socket_host}", "--tlsverify", f"--tlscacert={certs / 'ca.pem'}",
             f"--tlscert={certs / 'server-cert.pem'}", f"--tlskey={certs / 'server-key.pem'}",
             f"--data-root={folder / 'root'}", f"--exec-root={folder / 'exec'}", f"--pidfile={folder / 'pid'}",
             f"--bridge={bridge}", "--iptables=false", "--ip-masq=false"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=die_with_parent)
    finally:
        log.close()
    engine = TlsEngine(folder, host, socket_host, certs / "ca.pem", certs / "cert.pem", certs / "key.pem",
                       certs / "other-ca.pem", bridge, process)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            tail = (folder / "log").read_text(errors="replace")[-2000:]
            engine.stop()
            raise RuntimeError(f"the second dockerd ended at start:\n{tail}")
        try:
            # A raw connect first: docker-py leaks the socket of a failed connect (a ResourceWarning).
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.settimeout(2)
                probe.connect(str(folder / "docker.sock"))
            client = engine.client()
            try:
                client.ping()
            finally:
                client.close()
            break
        except Exception:
            if time.monotonic() > deadline:
                engine.stop()
                raise RuntimeError("the second dockerd did not answer in time") from None
            time.sleep(0.3)
    if not _link_exists(FIRST_ENGINE_BRIDGE) and _had_first_bridge:
        engine.stop()
        raise RuntimeError("starting the second engine removed docker0, the first engine's bridge")
    return engine


_had_first_bridge = _link_exists(FIRST_ENGINE_BRIDGE)


def build_image(engine: TlsEngine, script: Path, image: str, env_name: str = "GIFTDESK_TEST_IMAGE") -> None:
    """The offline test image built on the engine the way the first engine gets it (``docker import``)."""
    env = dict(os.environ, DOCKER_HOST=engine.socket_host, **{env_name: image})
    for name in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT"):
        env.pop(name, None)
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise RuntimeError(f"{script.name} failed on the second engine:\n{done.stdout}{done.stderr}")
