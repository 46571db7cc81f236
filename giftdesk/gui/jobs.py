"""The window's job runner: job lanes (giftdesk.runtime.lanes) with results on the GUI thread.

    ctx.runner.submit(desk.customers.list, text, owner=self, supersede=(self, "list"),
                      on_success=self._show, description="Loading customers…")

``owner``: a QObject; when it is gone (closed, deleted) the result is dropped silently.
``supersede``: a newer job with the same key replaces an older one still in flight, so a view
never shows an older load after a newer one. ``lane``: jobs on the same lane (a container, an
order) run in submission order. Failures go to ``on_error`` or the one error route. Cancelled
and superseded jobs call nothing. ``busy_changed`` drives the status bar's progress display;
``progress_changed(job)`` carries ``job.progress(...)`` reports to dialogs.

Work that a feature defines as an operation (``giftdesk.core.operations``) is submitted by name,
its lane and description coming from the definition:

    ctx.runner.run(fleet_operations.EDIT, fleet.edit, row.id, target=row.id, subject=row.name, ...)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot

from giftdesk.core.operations import Operation
from giftdesk.runtime.lanes import FAILED, SUCCEEDED, Job, LaneExecutor

log = logging.getLogger(__name__)

__all__ = ["Job", "JobRunner"]


class JobRunner(QObject):
    busy_changed = Signal(int, str)  # number of unfinished jobs, description of the newest
    progress_changed = Signal(object)  # Job
    _finished = Signal(object, object)  # job, callbacks
    _progressed = Signal(object)

    def __init__(self, error_route: Callable[[BaseException], None], max_workers: int = 6, parent=None):
        super().__init__(parent)
        self._error_route = error_route
        self._executor = LaneExecutor(max_workers, name="gui-job")
        # The window's runtime runs its schedules on these same lanes (``Runtime(jobs=...)``).
        self.executor = self._executor
        self._unfinished: list[Job] = []
        self._closed = False
        self._finished.connect(self._deliver)
        self._progressed.connect(self._report_progress)
        self._progress_callbacks: dict[Job, tuple[Callable[[Job], None], QObject | None]] = {}
        self._newest: dict = {}  # supersede key -> id of the newest job submitted with it
        self._held = 0  # work a view holds back to submit later (``hold_back``), counted as running

    def submit(self, fn: Callable[..., Any], *args: Any, on_success: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None, description: str = "Working…",
               owner: QObject | None = None, lane: Any = None, supersede: Any = None,
               on_progress: Callable[[Job], None] | None = None, **kwargs: Any) -> Job:
        callbacks = (on_success, on_error, owner, on_progress)
        job = self._executor.submit(
            fn, *args, lane=lane, supersede=_key(supersede, owner), description=description,
            on_done=lambda j: self._finished.emit(j, callbacks),
            on_progress=self._progressed.emit, **kwargs,
        )
        if job.finished:  # refused after shutdown
            return job
        if on_progress is not None:
            self._progress_callbacks[job] = (on_progress, owner)
        if job.supersede_key is not None:
            self._newest[job.supersede_key] = job.id
        self._unfinished.append(job)
        self.busy_changed.emit(len(self._unfinished), description)
        return job

    def run(self, operation: Operation, fn: Callable[..., Any], *args: Any, target: Any = None,
            subject: str = "", **kwargs: Any) -> Job:
        """``submit`` as ``operation``: on its lane (for ``target``), described by it unless told otherwise."""
        kwargs.setdefault("description", operation.describe(subject))
        return self.submit(fn, *args, lane=operation.lane_key(target), **kwargs)

    @Slot(object, object)
    def _deliver(self, job: Job, callbacks) -> None:
        if job in self._unfinished:
            self._unfinished.remove(job)
        self._progress_callbacks.pop(job, None)
        newest = self._unfinished[-1].description if self._unfinished else ""
        self.busy_changed.emit(len(self._unfinished), newest)
        on_success, on_error, owner, _on_progress = callbacks
        key = job.supersede_key
        if key is not None:
            newest = self._newest.get(key)
            # The newest id is forgotten only once nothing of its key is on its way: an older job can
            # finish as a newer one is submitted and arrive after it, and must not count as news then.
            if not any(j.supersede_key == key for j in self._unfinished):
                self._newest.pop(key, None)
            if newest is not None and newest > job.id:
                return  # finished before a newer load was asked for, delivered after: stale
        if self._closed or (owner is not None and not shiboken6.isValid(owner)):
            return  # the view that asked is gone: nothing to show
        try:
            if job.state == FAILED:
                (on_error or self._error_route)(job.error)
            elif job.state == SUCCEEDED and on_success is not None:
                on_success(job.result)
        except Exception as exc:  # a broken callback still reaches the user, once
            self._error_route(exc)

    def drop(self, supersede: Any, owner: QObject | None = None) -> None:
        """Results of jobs with this supersede key still on their way are dropped (the view moved on)."""
        key = _key(supersede, owner)
        for job in self._unfinished:
            if job.supersede_key == key:
                job._stop("superseded")  # noqa: SLF001 - the runner owns its jobs
        self._newest[key] = next(Job._ids)  # noqa: SLF001 - newer than every job submitted so far

    @Slot(object)
    def _report_progress(self, job: Job) -> None:
        self.progress_changed.emit(job)
        callback, owner = self._progress_callbacks.get(job, (None, None))
        if callback is not None and not self._closed and (owner is None or shiboken6.isValid(owner)):
            callback(job)

    @property
    def running(self) -> int:
        """Jobs submitted whose results have not been delivered yet, and work held back."""
        return len(self._unfinished) + self._held

    def hold_back(self, description: str) -> Callable[[], None]:
        """Work a view will submit later (after a paint): counted as running, so what waits for
        the runner to be idle (the window's background start) waits for it too, until the
        returned function is called (once the work is submitted)."""
        self._held += 1
        self.busy_changed.emit(self.running, description)
        done = False

        def submitted() -> None:
            nonlocal done
            if not done and shiboken6.isValid(self):
                done = True
                self._held -= 1
                newest = self._unfinished[-1].description if self._unfinished else ""
                self.busy_changed.emit(self.running, newest)

        return submitted

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """For tests and shutdown: block until submitted work has finished (results still queued)."""
        return self._executor.wait_idle(timeout)

    def shutdown(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=True)


def _key(supersede: Any, owner: QObject | None) -> Any:
    """Supersede keys are per owner unless they are given as a tuple with the owner already."""
    if supersede is None or owner is None:
        return supersede
    return (id(owner), supersede)
