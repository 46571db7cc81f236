"""The main window's status bar: database, Docker engine, tracker endpoint, keyring and busy state.

The Docker engine is pinged every ``DOCKER_INTERVAL_MS`` by ``DockerMonitor`` on its own
single worker thread (one serial worker per outside resource); the SDK client is created in
that thread, never on the GUI thread. A ping that is still running is not stacked up.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QStatusBar, QWidget

from giftdesk.services.events import SETTINGS_CHANGED

log = logging.getLogger(__name__)

DOCKER_INTERVAL_MS = 10_000
DOCKER_TIMEOUT_S = 3
BUSY_SHOW_DELAY_MS = 250  # quick jobs do not flash the progress bar


@dataclass(frozen=True)
class DockerState:
    reachable: bool | None  # None: not checked yet
    host: str = ""
    version: str = ""
    containers: int = 0
    running: int = 0
    error: str = ""

    @property
    def label(self) -> str:
        if self.reachable is None:
            return "Docker: checking…"
        if not self.reachable:
            return "Docker: not reachable"
        count = f"{self.containers} container{'s' if self.containers != 1 else ''}"
        if self.containers:
            count += f" ({self.running} running)"
        return f"Docker: {self.version}, {count}"

    @property
    def tooltip(self) -> str:
        where = self.host or "the default Docker host"
        if self.reachable is None:
            return f"Checking the Docker engine at {where}…"
        if not self.reachable:
            return f"The Docker engine at {where} did not answer:\n{self.error}\n\nSet the Docker host in File → Settings."
        return f"Docker engine {self.version} at {where}\n{self.containers} containers, {self.running} running"


def probe_docker(host: str, clients: dict) -> DockerState:
    """Runs in the Docker worker thread. ``clients`` caches one SDK client per host."""
    import docker  # imported here: the SDK is only ever touched off the GUI thread

    where = host or os.environ.get("DOCKER_HOST", "")
    try:
        client = clients.get(host)
        if client is None:
            for old in clients.values():
                try:
                    old.close()
                except Exception:
                    pass
            clients.clear()
            client = (docker.DockerClient(base_url=host, timeout=DOCKER_TIMEOUT_S) if host
                      else docker.from_env(timeout=DOCKER_TIMEOUT_S))
            clients[host] = client
        version = client.version().get("Version", "?")
        info = client.info()
        return DockerState(True, where, version, int(info.get("Containers", 0) or 0),
                           int(info.get("ContainersRunning", 0) or 0))
    except Exception as exc:  # refused, timeout, bad host URL, permission denied on the socket...
        failed = clients.pop(host, None)
        if failed is not None:
            try:
                failed.close()
            except Exception:
                pass
        message = str(exc) or type(exc).__name__
        return DockerState(False, where, error=message[:500])


class DockerMonitor(QObject):
    """Pings the Docker engine off the GUI thread; ``state_changed(DockerState)`` on the GUI thread."""

    state_changed = Signal(object)
    _probed = Signal(object)

    def __init__(self, desk, bridge=None, interval_ms: int = DOCKER_INTERVAL_MS, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.state = DockerState(None)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docker-ping")
        self._clients: dict = {}
        self._pending = False
        self._closed = False
        self._lock = threading.Lock()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.probe)
        self._probed.connect(self._deliver)
        if bridge is not None:
            bridge.event.connect(self._on_event)

    def start(self) -> None:
        self.probe()
        self._timer.start()

    def probe(self) -> None:
        if self._pending or self._closed:
            return
        self._pending = True
        self._pool.submit(self._work)

    def _work(self) -> None:
        try:
            host = str(self.desk.settings.get("docker.host") or "").strip()
            state = probe_docker(host, self._clients)
        except Exception as exc:  # settings unreadable: still report, never kill the worker
            state = DockerState(False, error=f"{type(exc).__name__}: {exc}")
        with self._lock:
            if not self._closed:
                self._probed.emit(state)

    def _deliver(self, state: DockerState) -> None:
        self._pending = False
        if self._closed:
            return
        changed = state != self.state
        self.state = state
        if changed:
            self.state_changed.emit(state)

    def _on_event(self, topic: str, payload: dict) -> None:
        if topic == SETTINGS_CHANGED and "docker.host" in payload.get("keys", ()):
            self.probe()

    def stop(self) -> None:
        with self._lock:
            self._closed = True
        self._timer.stop()

        def close_clients() -> None:
            for client in self._clients.values():
                try:
                    client.close()
                except Exception:
                    pass

        self._pool.submit(close_clients)
        self._pool.shutdown(wait=False, cancel_futures=False)


class StatusBar(QStatusBar):
    """Permanent widgets on the right; transient messages (``showMessage``) on the left."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        desk = ctx.desk
        self.setSizeGripEnabled(True)

        # Busy: a small indeterminate bar and what is running, after a short delay.
        self.busy = QWidget(self)
        busy_layout = QHBoxLayout(self.busy)
        busy_layout.setContentsMargins(0, 0, 0, 0)
        self.busy_bar = QProgressBar(self.busy)
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setFixedSize(80, 12)
        self.busy_bar.setTextVisible(False)
        self.busy_label = QLabel(self.busy)
        busy_layout.addWidget(self.busy_bar)
        busy_layout.addWidget(self.busy_label)
        self.busy.hide()
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.timeout.connect(self._show_busy)
        self._busy_count = 0
        ctx.runner.busy_changed.connect(self.set_busy)

        # Database
        self.database = QLabel(self)
        sqlite = desk.db.sqlite_path
        if sqlite is not None:
            self.database.setText(f"Database: {Path(sqlite).name}")
            self.database.setToolTip(f"SQLite database\n{sqlite}")
        else:
            self.database.setText(f"Database: {desk.db.engine.dialect.name}")
            self.database.setToolTip(desk.db.display_name)
        self.database.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # Docker and endpoint (filled by their monitors)
        self.docker = QLabel(DockerState(None).label, self)
        self.docker.setToolTip(DockerState(None).tooltip)
        self.endpoint = QLabel("Endpoint: off", self)

        # Keyring: the backend in use, and a visible warning when it is the file fallback
        self.keyring = QLabel("Keyring: …", self)
        # Choosing the backend imports keyring and may ask D-Bus: off the GUI thread.
        secrets = desk.secrets
        ctx.runner.submit(lambda: (secrets.backend_name, secrets.warning, secrets.is_fallback),
                          on_success=lambda state: self.set_keyring_state(*state),
                          description="Checking the keyring…")

        for widget in (self.busy, self.database, self.docker, self.endpoint, self.keyring):
            self.addPermanentWidget(widget)

    def set_keyring_state(self, backend: str, warning: str | None, is_fallback: bool) -> None:
        if warning or is_fallback:
            self.keyring.setText("⚠ Secrets in a file, not the keyring" if warning else "Keyring: file")
            self.keyring.setProperty("role", "warning" if warning else None)
            self.keyring.setToolTip(warning or f"Secrets are kept in {backend}")
        else:
            self.keyring.setText(f"Keyring: {_short_backend(backend)}")
            self.keyring.setToolTip(f"API keys are stored in the system keyring ({backend})")

    # ---- busy ----------------------------------------------------------------------------
    def set_busy(self, count: int, description: str) -> None:
        self._busy_count = count
        if count <= 0:
            self._busy_timer.stop()
            self.busy.hide()
            return
        text = description or "Working…"
        if count > 1:
            text += f" (+{count - 1})"
        self.busy_label.setText(text)
        if not self.busy.isVisible() and not self._busy_timer.isActive():
            self._busy_timer.start(BUSY_SHOW_DELAY_MS)

    def _show_busy(self) -> None:
        if self._busy_count > 0:
            self.busy.show()

    # ---- monitors ------------------------------------------------------------------------
    def set_docker_state(self, state: DockerState) -> None:
        self.docker.setText(state.label)
        self.docker.setToolTip(state.tooltip)
        self.docker.setProperty("role", "muted" if state.reachable is False else None)
        self._restyle(self.docker)

    def set_endpoint_state(self, state) -> None:
        self.endpoint.setText(state.label)
        self.endpoint.setToolTip(state.tooltip)
        self.endpoint.setProperty("role", "error" if state.status == "error" else None)
        self._restyle(self.endpoint)

    @staticmethod
    def _restyle(label: QLabel) -> None:
        label.style().unpolish(label)
        label.style().polish(label)


def _short_backend(name: str) -> str:
    """``SecretService.Keyring`` → ``SecretService``; ``macOS.Keyring`` → ``macOS``."""
    head = name.split(" ")[0]
    parts = head.split(".")
    if len(parts) >= 2 and parts[-1] == "Keyring":
        return parts[-2]
    return head
