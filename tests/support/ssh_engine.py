"""An sshd on loopback in front of a test engine, for ssh://user@host engines.

``start_ssh_server(docker_host)`` runs Debian's sshd on ``127.0.0.1:<free port>`` with a host key
and an authorized test key made here, and sets ``DOCKER_HOST`` for its sessions (``SetEnv``), so
``docker system dial-stdio`` on the far side reaches the engine under test. docker-py's
``use_ssh_client`` runs the ``ssh`` program: ``ssh_wrapper`` is a folder to put first on PATH,
holding an ``ssh`` that adds this server's client config (``-F``) and nothing else; the real
user's ~/.ssh is never touched.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.tls_engine import die_with_parent

SSHD = "/usr/sbin/sshd"


@dataclass
class SshServer:
    folder: Path
    port: int
    user: str
    process: subprocess.Popen
    ssh_wrapper: Path  # a folder with an `ssh` that uses this server's client config

    @property
    def host(self) -> str:
        return f"ssh://{self.user}@127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sweep_leftovers() -> None:
    """Folders of test sshds that are gone (a test process that was killed)."""
    for folder in Path(tempfile.gettempdir()).glob("gdssh-*"):
        try:
            os.kill(int((folder / "sshd.pid").read_text().strip()), 0)
            continue
        except (OSError, ValueError):
            pass
        if time.time() - folder.stat().st_mtime > 120:
            shutil.rmtree(folder, ignore_errors=True)


def start_ssh_server(docker_host: str) -> SshServer:
    """Raises RuntimeError when sshd or ssh-keygen is missing or sshd does not come up."""
    sweep_leftovers()
    ssh = shutil.which("ssh")
    if not os.path.exists(SSHD) or shutil.which("ssh-keygen") is None or ssh is None:
        raise RuntimeError("an ssh engine needs Debian's openssh-server (sshd) and openssh-client")
    folder = Path(tempfile.mkdtemp(prefix="gdssh-"))
    os.chmod(folder, 0o700)
    for key in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / key)], check=True,
                       capture_output=True)
    shutil.copy(folder / "client_key.pub", folder / "authorized_keys")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation folder
    port = _free_port()
    user = getpass.getuser()
    (folder / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1:{port}\nHostKey {folder / 'host_key'}\nPidFile {folder / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\n"
        "UsePAM no\nStrictModes no\nAllowUsers " + user + "\n"
        f"SetEnv DOCKER_HOST={docker_host} PATH=/usr/local/bin:/usr/bin:/bin\n")
    (folder / "ssh_config").write_text(
        f"Host *\n  IdentityFile {folder / 'client_key'}\n  IdentitiesOnly yes\n  BatchMode yes\n"
        "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n")
    wrapper = folder / "bin"
    wrapper.mkdir()
    (wrapper / "ssh").write_text(f"#!/bin/sh\nexec {ssh} -F {folder / 'ssh_config'} \"$@\"\n")
    os.chmod(wrapper / "ssh", 0o755)
    log = open(folder / "sshd.log", "ab")
    try:
        process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(folder / "sshd_config")], stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                   preexec_fn=die_with_parent)
    finally:
        log.close()
    server = SshServer(folder, port, user, process, wrapper)
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            tail = (folder / "sshd.log").read_text(errors="replace")[-2000:]
            server.stop()
            raise RuntimeError(f"sshd ended at start:\n{tail}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                if probe.recv(4).startswith(b"SSH-"):
                    return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("sshd did not answer in time")
        time.sleep(0.1)
