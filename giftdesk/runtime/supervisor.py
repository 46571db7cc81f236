"""The supervisor: named background services, each in its own thread, restarted with backoff.

A ``Service`` blocks in ``run(stop)`` until ``stop`` is set (returning) or it fails (raising).
Failure means: status ``backoff`` with the error, a wait of 1, 2, 4 … 60 s (reset after a minute
of healthy running), then ``run`` again. ``stop()`` stops services in the reverse order of their
start, each within a shared deadline, calling ``interrupt()`` so a service blocked on a socket
returns at once; a service that still does not return is reported and abandoned (daemon thread).
Every status change is published as ``ServiceStatusChanged`` on the Desk's event bus.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from giftdesk.core.errors import GiftDeskError
from giftdesk.core.events import EventBus, ServiceStatusChanged
from giftdesk.core.service import Service, ServiceStatus

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
HEALTHY_AFTER_S = 60.0

class _Slot:
    def __init__(self, service: Service):
        self.service = service
        self.stop = threading.Event()
        self.restart_now = threading.Event()
        self.thread: threading.Thread | None = None
        self.status = ServiceStatus(service.name)
        self.lock = threading.Lock()


class Supervisor:
    def __init__(self, events: EventBus | None = None, backoff_first: float = BACKOFF_FIRST_S,
                 backoff_max: float = BACKOFF_MAX_S):
        self._events = events
        self._slots: dict[str, _Slot] = {}
        self._order: list[str] = []
        self._lock = threading.Lock()
        self._backoff_first = backoff_first
        self._backoff_max = backoff_max

    # ---- registry ------------------------------------------------------------------------
    def add(self, service: Service, start: bool = False) -> Service:
        with self._lock:
            if service.name in self._slots:
                raise ValueError(f"a service named {service.name!r} is already supervised")
            slot = _Slot(service)
            self._slots[service.name] = slot
            self._order.append(service.name)
        service._reporter = lambda **kw: self._update(slot, **kw)
        if start:
            self._start_slot(slot)
        return service

    def get(self, name: str) -> Service | None:
        slot = self._slots.get(name)
        return slot.service if slot else None

    def names(self) -> list[str]:
        return list(self._order)

    def statuses(self) -> list[ServiceStatus]:
        return [self._slots[name].status for name in self._order]

    def status(self, name: str) -> ServiceStatus:
        return self._slots[name].status

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        for name in list(self._order):
            self._start_slot(self._slots[name])

    def restart(self, name: str) -> None:
        """Stop ``run`` and call it again at once (settings changed); no backoff."""
        slot = self._slots[name]
        if slot.thread is None or not slot.thread.is_alive():
            self._start_slot(slot)
            return
        slot.restart_now.set()
        self._interrupt(slot)

    def stop(self, timeout: float = 15.0) -> list[str]:
        """Stops every service, newest first, within ``timeout`` in all; returns those that hung."""
        deadline = time.monotonic() + timeout
        hung = []
        for name in reversed(self._order):
            if not self.stop_one(name, max(0.1, deadline - time.monotonic())):
                hung.append(name)
        return hung

    def stop_one(self, name: str, timeout: float = 10.0) -> bool:
        slot = self._slots[name]
        slot.stop.set()
        if slot.thread is None:
            return True
        if slot.thread.is_alive():
            self._update(slot, state="stopping")
            self._interrupt(slot)
            slot.thread.join(timeout)
        if slot.thread.is_alive():
            log.error("Background service %s did not stop within %.1f s", name, timeout)
            return False
        slot.thread = None
        return True

    # ---- internals -----------------------------------------------------------------------
    def _start_slot(self, slot: _Slot) -> None:
        if slot.thread is not None and slot.thread.is_alive():
            return
        slot.stop.clear()
        slot.thread = threading.Thread(target=self._loop, args=(slot,), name=f"service-{slot.service.name}",
                                       daemon=True)
        slot.thread.start()

    @staticmethod
    def _interrupt(slot: _Slot) -> None:
        try:
            slot.service.interrupt()
        except Exception:
            log.exception("Interrupting %s failed", slot.service.name)

    def _loop(self, slot: _Slot) -> None:
        backoff = self._backoff_first
        restarts = 0
        while not slot.stop.is_set():
            slot.restart_now.clear()
            run_stop = _EitherEvent(slot.stop, slot.restart_now)
            self._update(slot, state="starting", detail="", error="", retry_at=None, restarts=restarts)
            started = time.monotonic()
            try:
                slot.service.run(run_stop)
                error = None if (slot.stop.is_set() or slot.restart_now.is_set()) else "stopped by itself"
            except Exception as exc:  # any failure: report it and try again after a pause
                if slot.stop.is_set():
                    break
                # Expected failures (a taken port, an engine that went away) are one line in the
                # log; anything else keeps its traceback for the bug report.
                expected = isinstance(exc, (GiftDeskError, OSError))
                log.warning("Background service %s failed: %s", slot.service.name, exc, exc_info=not expected)
                error = _sentence(exc)
            if slot.stop.is_set():
                break
            if error is None:  # a restart was asked for
                continue
            if time.monotonic() - started >= HEALTHY_AFTER_S:
                backoff = self._backoff_first
            restarts += 1
            retry_at = datetime.fromtimestamp(time.time() + backoff, timezone.utc)
            self._update(slot, state="backoff", error=error, retry_at=retry_at, restarts=restarts)
            if _wait_either(slot.stop, slot.restart_now, timeout=backoff):
                if slot.stop.is_set():
                    break
            backoff = min(backoff * 2, self._backoff_max)
        self._update(slot, state="stopped", retry_at=None)

    def _update(self, slot: _Slot, state: str | None = None, detail: str | None = None,
                info: dict | None = None, **changes: Any) -> None:
        with slot.lock:
            old = slot.status
            fields: dict[str, Any] = dict(changes)
            if state is not None and state != old.state:
                fields["state"] = state
                fields["since"] = datetime.now(timezone.utc)
            if detail is not None:
                fields["detail"] = detail
            if info:
                fields["info"] = {**old.info, **info}
            new = replace(old, **fields)
            if new == old:
                return
            slot.status = new
        if self._events is not None:
            self._events.publish(ServiceStatusChanged(new.name, new))


class _EitherEvent:
    """What ``run`` waits on: set when the service must stop or restart."""

    def __init__(self, *events: threading.Event):
        self._events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self._events)

    def wait(self, timeout: float | None = None) -> bool:
        return _wait_either(*self._events, timeout=timeout)


def _wait_either(*events: threading.Event, timeout: float | None = None) -> bool:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        if any(e.is_set() for e in events):
            return True
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            return False
        events[0].wait(0.05 if remaining is None else min(0.05, remaining))


def _sentence(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
