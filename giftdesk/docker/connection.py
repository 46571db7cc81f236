"""How a named engine is reached: an address (unix://, tcp:// with mutual TLS, ssh://user@host) or a
Docker CLI context, and the docker-py client made from it.

TLS clients get a fixed API version (nothing connects while the client is built) and
``trust_env`` off: requests would otherwise take REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the
environment over the engine's own CA. ssh engines go through the ``ssh`` program
(``use_ssh_client``), so the user's ssh config, keys and agent apply.

The client key comes from the keyring; docker-py (through the ssl module) wants a file, so it is
written to a 0600 file in a 0700 temporary folder for as long as the pool lives.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from giftdesk.core.errors import ValidationError

# Docker 20.10's API; later engines still accept it. A fixed version means no probe at construction.
FIXED_API_VERSION = "1.41"
HOST_SCHEMES = ("unix", "tcp", "ssh")


@dataclass(frozen=True)
class TlsFiles:
    ca: str
    cert: str
    key: str  # a path: the key file docker-py reads


@dataclass(frozen=True)
class EngineConnection:
    """What a client is made from. ``key_pem`` is the TLS client key itself (from the keyring)."""

    name: str
    host: str
    tls_ca: str | None = None
    tls_cert: str | None = None
    key_pem: str | None = field(default=None, repr=False)
    context: str | None = None

    @property
    def uses_tls(self) -> bool:
        return bool(self.tls_ca and self.tls_cert and self.key_pem)


@dataclass(frozen=True)
class ContextEndpoint:
    """A Docker CLI context's docker endpoint, as ``docker context inspect`` shows it."""

    name: str
    host: str
    skip_tls_verify: bool
    tls: TlsFiles | None


def docker_config_dir() -> Path:
    """Where the Docker CLI keeps its config and contexts: DOCKER_CONFIG, else ~/.docker."""
    configured = os.environ.get("DOCKER_CONFIG", "").strip()
    return Path(configured) if configured else Path.home() / ".docker"


def read_context(name: str) -> ContextEndpoint:
    """The context ``name`` from the Docker CLI's own store (meta/<sha256 of name>/meta.json and
    tls/<sha256>/docker/{ca,cert,key}.pem). Raises ValidationError with one sentence."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("Give the name of a Docker context.", field="context")
    digest = hashlib.sha256(name.encode()).hexdigest()
    root = docker_config_dir() / "contexts"
    meta_path = root / "meta" / digest / "meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(f"There is no Docker context called '{name}' (looked in {root}).",
                              field="context") from None
    except (OSError, ValueError) as exc:
        raise ValidationError(f"The Docker context '{name}' cannot be read ({meta_path}: {exc}).",
                              field="context") from None
    endpoint = ((meta.get("Endpoints") or {}).get("docker") or {}) if isinstance(meta, dict) else {}
    host = str(endpoint.get("Host") or "").strip()
    if not host:
        raise ValidationError(f"The Docker context '{name}' has no Docker endpoint address.", field="context")
    tls_dir = root / "tls" / digest / "docker"
    files = [tls_dir / f for f in ("ca.pem", "cert.pem", "key.pem")]
    tls = TlsFiles(*(str(f) for f in files)) if all(f.is_file() for f in files) else None
    return ContextEndpoint(name, host, bool(endpoint.get("SkipTLSVerify")), tls)


def check_host(host: str) -> str:
    """An engine address docker-py can use, or one sentence why not."""
    host = (host or "").strip()
    if not host:
        raise ValidationError("The engine needs an address (--host) or a Docker context (--context).", field="host")
    if any(ord(c) < 32 for c in host):
        raise ValidationError("The engine address must be one line.", field="host")
    parsed = urlparse(host)
    if parsed.scheme not in HOST_SCHEMES:
        raise ValidationError(f"'{host}' is not an engine address: use unix:///path, tcp://host:port or "
                              "ssh://user@host.", field="host")
    if parsed.scheme == "unix" and not parsed.path:
        raise ValidationError(f"'{host}' names no socket file.", field="host")
    if parsed.scheme == "tcp":
        try:
            port = parsed.port
        except ValueError:
            port = None
        if not parsed.hostname or port is None:
            raise ValidationError(f"'{host}' needs a host and a port, like tcp://host:2376.", field="host")
    if parsed.scheme == "ssh" and not parsed.hostname:
        raise ValidationError(f"'{host}' needs a host, like ssh://user@host.", field="host")
    return host


def is_loopback_host(hostname: str | None) -> bool:
    if not hostname:
        return False
    if hostname.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def on_this_computer(host: str) -> bool:
    """Whether containers of the engine at ``host`` run on this computer (a socket, or loopback TCP)."""
    parsed = urlparse(host or "")
    return parsed.scheme in ("", "unix", "npipe") or (parsed.scheme == "tcp" and is_loopback_host(parsed.hostname))


class KeyFile:
    """The TLS client key as a 0600 file in a 0700 folder, removed by ``remove()``."""

    def __init__(self, pem: str):
        self._folder = tempfile.mkdtemp(prefix="giftdesk-engine-")
        self.path = os.path.join(self._folder, "key.pem")
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(pem)

    def remove(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)


class ClientMaker:
    """Makes docker-py clients for one connection (the key file, when there is one, is shared by
    the pool's clients and removed by ``close()``)."""

    def __init__(self, connection: EngineConnection):
        self.connection = connection
        self._key_file: KeyFile | None = None
        self._lock = threading.Lock()
        self.host, self._tls = self._resolve()

    def _resolve(self) -> tuple[str, TlsFiles | None]:
        conn = self.connection
        if conn.context:
            endpoint = read_context(conn.context)
            if endpoint.tls is not None and not endpoint.skip_tls_verify:
                return endpoint.host, endpoint.tls
            return endpoint.host, None
        if conn.uses_tls:
            return conn.host, TlsFiles(conn.tls_ca, conn.tls_cert, "")
        return conn.host, None

    def _key_path(self) -> str:
        if self._tls is not None and self._tls.key:
            return self._tls.key  # a context's own key file
        with self._lock:
            if self._key_file is None:
                self._key_file = KeyFile(self.connection.key_pem or "")
            return self._key_file.path

    def make(self, timeout: float | None, pool: int):
        import docker

        options = {"timeout": timeout, "max_pool_size": pool, "version": FIXED_API_VERSION}
        if self.host.startswith("ssh://"):
            _tidy_ssh_close()
            return docker.DockerClient(base_url=self.host, use_ssh_client=True, **options)
        if self._tls is not None:
            from docker.tls import TLSConfig

            tls = TLSConfig(client_cert=(self._tls.cert, self._key_path()), ca_cert=self._tls.ca, verify=True)
            client = docker.DockerClient(base_url=self.host, tls=tls, **options)
            client.api.trust_env = False  # the engine's CA, not REQUESTS_CA_BUNDLE's
            return client
        client = docker.DockerClient(base_url=self.host, **options)
        client.api.trust_env = False
        return client

    def close(self) -> None:
        with self._lock:
            key_file, self._key_file = self._key_file, None
        if key_file is not None:
            key_file.remove()


_ssh_close_tidied = False


def _tidy_ssh_close() -> None:
    """docker-py's ssh socket ends its ``ssh`` process without waiting for it or closing its pipes
    (a zombie and two open files per connection, for as long as the console runs): its close
    does all of that here, and closes the socket it also is."""
    global _ssh_close_tidied
    if _ssh_close_tidied:
        return
    import socket
    import subprocess

    from docker.transport import sshconn

    def close(self) -> None:
        socket.socket.close(self)  # it is a socket too (an unused one docker-py opens)
        proc = self.proc
        if proc is None or (proc.returncode is not None and proc.stdin.closed):
            return
        try:
            if not proc.stdin.closed:
                try:
                    proc.stdin.write(b"\n\n")
                    proc.stdin.flush()
                except OSError:
                    pass
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        finally:
            for pipe in (proc.stdin, proc.stdout):
                try:
                    pipe.close()
                except OSError:
                    pass

    sshconn.SSHSocket.close = close
    _ssh_close_tidied = True
