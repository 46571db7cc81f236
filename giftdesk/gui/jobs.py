"""Work off the GUI thread: database queries, keyring, Docker, HTTP and PDFs run in a pool.

``JobRunner.submit`` runs ``fn`` in a worker thread and calls ``on_success(result)`` or the
error route back on the GUI thread. ``busy_changed`` drives the status bar's progress display.
A job that accepts a ``cancel`` keyword gets a ``threading.Event`` it should poll.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger(__name__)


class Job:
    def __init__(self, description: str):
        self.description = description
        self.cancel_event = threading.Event()
        self.future: Future | None = None

    def cancel(self) -> None:
        self.cancel_event.set()
        if self.future is not None:
            self.future.cancel()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()


class JobRunner(QObject):
    busy_changed = Signal(int, str)  # number of running jobs, description of the newest
    _finished = Signal(object, object, object, object)  # job, callback, result, error

    def __init__(self, error_route: Callable[[BaseException], None], max_workers: int = 4, parent=None):
        super().__init__(parent)
        self._error_route = error_route
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="gui-job")
        self._running: list[Job] = []
        self._lock = threading.Lock()
        self._closed = False
        self._finished.connect(self._deliver)

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_success: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        description: str = "Working…",
        **kwargs: Any,
    ) -> Job:
        job = Job(description)
        if self._closed:
            # Timers and queued events can still fire while the window shuts down.
            log.debug("Ignored job after shutdown: %s", description)
            job.cancel_event.set()
            return job
        if "cancel" in inspect.signature(fn).parameters:
            kwargs["cancel"] = job.cancel_event

        def work() -> None:
            try:
                result, error = fn(*args, **kwargs), None
            except BaseException as exc:  # delivered to the error route on the GUI thread
                result, error = None, exc
            self._finished.emit(job, (on_success, on_error), result, error)

        with self._lock:
            self._running.append(job)
        self.busy_changed.emit(len(self._running), description)
        job.future = self._pool.submit(work)
        return job

    @Slot(object, object, object, object)
    def _deliver(self, job: Job, callbacks, result, error) -> None:
        with self._lock:
            if job in self._running:
                self._running.remove(job)
            remaining = len(self._running)
            newest = self._running[-1].description if self._running else ""
        self.busy_changed.emit(remaining, newest)
        if job.cancelled:
            return
        on_success, on_error = callbacks
        try:
            if error is not None:
                (on_error or self._error_route)(error)
            elif on_success is not None:
                on_success(result)
        except Exception as exc:  # a broken callback still reaches the user, once
            self._error_route(exc)

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """For tests and shutdown: block until submitted work has finished (results still queued)."""
        with self._lock:
            futures = [j.future for j in self._running if j.future is not None]
        for future in futures:
            try:
                future.result(timeout=timeout)
            except Exception:
                pass

    def shutdown(self) -> None:
        self._closed = True
        for job in list(self._running):
            job.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
