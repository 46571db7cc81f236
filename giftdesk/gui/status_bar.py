"""The main window's status bar: database, Docker engine, tracker endpoint, keyring and busy state.

The Docker engine is pinged every ``DOCKER_INTERVAL_MS`` by ``DockerMonitor`` on its own
single worker thread (one serial worker per outside resource); the SDK client is created in
that thread, never on the GUI thread. A ping that is still running is not stacked up.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QStatusBar, QWidget

from giftdesk.docker_engine import DockerEngine, DockerState
from giftdesk.services.events import SETTINGS_CHANGED

log = logging.getLogger(__name__)

DOCKER_INTERVAL_MS = 10_000
BUSY_SHOW_DELAY_MS = 250  # quick jobs do not flash the progress bar


class DockerMonitor(QObject):
    """Pings the Docker engine off the GUI thread; ``state_changed(DockerState)`` on the GUI thread."""

    state_changed = Signal(object)
    _probed = Signal(object)

    def __init__(self, desk, bridge=None, interval_ms: int = DOCKER_INTERVAL_MS, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.state = DockerState(None)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docker-ping")
        self._engine: DockerEngine | None = None  # one per Docker host setting; used on the worker only
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
            if self._engine is None or self._engine.host != host:
                if self._engine is not None:
                    self._engine.close()
                self._engine = DockerEngine(host)
            state = self._engine.probe()
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

        def close_engine() -> None:
            if self._engine is not None:
                self._engine.close()

        self._pool.submit(close_engine)
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
