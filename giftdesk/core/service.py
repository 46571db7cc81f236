"""The runtime's ``Service`` contract, and the status the supervisor keeps for each service.

Features subclass ``Service`` for what they install into the runtime; ``runtime/supervisor.py``
runs them. Living here, a feature builds on the contract without importing the runtime.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


class InFlight:
    """How many calls a service has on their way and not answered yet (``with in_flight:`` around
    each): what it waits for, told without timing it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def __enter__(self) -> "InFlight":
        with self._lock:
            self.count += 1
        return self

    def __exit__(self, *_exc) -> None:
        with self._lock:
            self.count -= 1


# starting → running → (backoff → starting …) → stopping → stopped; "off" = turned off in Settings
STATES = ("starting", "running", "off", "backoff", "stopping", "stopped")


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: str = "stopped"
    detail: str = ""  # one line for the status bar: "listening on port 8787", "port 8787 in use"
    error: str = ""  # the last failure, kept while backing off
    restarts: int = 0
    retry_at: datetime | None = None
    since: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    info: dict[str, Any] = field(default_factory=dict)  # service-specific figures (addresses, req/min…)

    @property
    def healthy(self) -> bool:
        return self.state in ("running", "off")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "state": self.state, "detail": self.detail, "error": self.error or None,
                "restarts": self.restarts, "retryAt": self.retry_at, "since": self.since, **self.info}


class Service:
    """Subclass and implement ``run``. ``report`` updates the status line from inside ``run``."""

    name = "service"

    def __init__(self) -> None:
        self._reporter: Callable[..., None] | None = None

    def run(self, stop: threading.Event) -> None:
        raise NotImplementedError

    def interrupt(self) -> None:
        """Called from another thread after ``stop`` is set: close sockets/streams ``run`` waits on."""

    def report(self, state: str | None = None, detail: str | None = None, **info: Any) -> None:
        if self._reporter is not None:
            self._reporter(state=state, detail=detail, info=info)
