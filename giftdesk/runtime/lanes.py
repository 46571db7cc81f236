"""Job lanes: the one way to run work off the GUI thread (and off the CLI's, in the runtime).

    executor = LaneExecutor(max_workers=6)
    job = executor.submit(desk.fleet.start, 7, lane="container:7", description="Starting tracker-7")
    job = executor.submit(load_rows, supersede="customers.list")   # a newer load replaces this one

- Parallelism is bounded by ``max_workers`` overall.
- Jobs on the same ``lane`` (a container, an order, a profile) run one at a time, in submission
  order; different lanes and lane-less jobs run in parallel.
- ``supersede=KEY``: submitting a job with the same key supersedes every older one not finished
  (a queued one never runs; a running one is asked to cancel and its result is dropped).
- ``job.cancel()`` works queued (the job never runs) and running (cooperatively: the function
  takes a ``job`` argument and calls ``job.raise_if_cancelled()`` or reads ``job.cancelled``;
  a ``cancel`` argument gets the ``threading.Event`` instead, for plain functions).
- Progress: ``job.progress(done, total, message)`` from inside the function.
- Every job reaches exactly one final state (succeeded, failed, cancelled, superseded), and
  ``on_done(job)`` is called once, from the worker (or the cancelling) thread.
Long streams (logs, events) are not jobs: they are runtime services or streams with their own
threads.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

QUEUED, RUNNING = "queued", "running"
SUCCEEDED, FAILED, CANCELLED, SUPERSEDED = "succeeded", "failed", "cancelled", "superseded"
FINAL_STATES = (SUCCEEDED, FAILED, CANCELLED, SUPERSEDED)


class JobCancelled(Exception):
    """Raised inside a job by ``raise_if_cancelled``; ends it as cancelled, not failed."""


class Job:
    _ids = itertools.count(1)

    def __init__(self, fn: Callable, args: tuple, kwargs: dict, description: str, lane: Any, supersede: Any,
                 on_done: Callable[[Job], None] | None, on_progress: Callable[[Job], None] | None):
        self.id = next(self._ids)
        self.description = description
        self.lane = lane
        self.supersede_key = supersede
        self.state = QUEUED
        self.result: Any = None
        self.error: BaseException | None = None
        self.done_count: int | None = None
        self.total: int | None = None
        self.message = ""
        self.cancel_event = threading.Event()
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._on_done, self._on_progress = on_done, on_progress
        self._final_as = CANCELLED
        self._finished = threading.Event()
        self._lock = threading.Lock()

    # ---- inside the job ------------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def raise_if_cancelled(self) -> None:
        if self.cancel_event.is_set():
            raise JobCancelled()

    def progress(self, done: int | None = None, total: int | None = None, message: str = "") -> None:
        self.done_count, self.total, self.message = done, total, message or self.message
        if self._on_progress is not None:
            try:
                self._on_progress(self)
            except Exception:
                log.exception("Progress callback of %s failed", self.description)

    # ---- outside -------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES

    def cancel(self) -> None:
        self._stop(CANCELLED)

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def _stop(self, final_state: str) -> None:
        with self._lock:
            if self.state in FINAL_STATES:
                return
            self._final_as = final_state
            self.cancel_event.set()
            queued = self.state == QUEUED
        if queued:
            self._finish(final_state)

    def _run(self) -> None:
        with self._lock:
            if self.state != QUEUED:
                return
            self.state = RUNNING
        try:
            result = self._fn(*self._args, **self._kwargs)
        except JobCancelled:
            self._finish(self._final_as)
        except BaseException as exc:  # handed to the caller's error route
            self.error = exc
            self._finish(self._final_as if self.cancel_event.is_set() else FAILED)
        else:
            self._finish(SUCCEEDED, result)

    def _finish(self, state: str, result: Any = None) -> None:
        with self._lock:
            if self.state in FINAL_STATES:
                return
            if state == SUCCEEDED and self.cancel_event.is_set():
                state = self._final_as  # cancelled or superseded while it ran: its result is dropped
            elif state == SUCCEEDED:
                self.result = result
            self.state = state
        self._finished.set()
        if self._on_done is not None:
            try:
                self._on_done(self)
            except Exception:
                log.exception("Completion callback of %s failed", self.description)

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.description!r} lane={self.lane!r} {self.state}>"


class LaneExecutor:
    def __init__(self, max_workers: int = 6, name: str = "job"):
        self.max_workers = max_workers
        self._name = name
        self._lock = threading.Condition()
        self._ready: deque[Job] = deque()
        self._lanes: dict[Any, deque[Job]] = {}  # waiting jobs of a lane whose head is running
        self._busy_lanes: set[Any] = set()
        self._by_key: dict[Any, list[Job]] = {}
        self._active: set[Job] = set()
        self._workers: list[threading.Thread] = []
        self._idle_workers = 0
        self._closed = False

    def submit(self, fn: Callable, *args: Any, lane: Any = None, supersede: Any = None, description: str = "",
               on_done: Callable[[Job], None] | None = None, on_progress: Callable[[Job], None] | None = None,
               **kwargs: Any) -> Job:
        job = Job(fn, args, kwargs, description or getattr(fn, "__name__", "job"), lane, supersede,
                  self._wrap_done(on_done), on_progress)
        params = _parameters(fn)
        if "job" in params:
            kwargs["job"] = job
        elif "cancel" in params:
            kwargs["cancel"] = job.cancel_event
        if self._closed:
            log.debug("Ignored job after shutdown: %s", job.description)
            job._stop(CANCELLED)
            return job
        older: list[Job] = []
        with self._lock:
            self._active.add(job)
            if supersede is not None:
                older = [j for j in self._by_key.get(supersede, []) if not j.finished]
                self._by_key[supersede] = [job]
            if lane is None:
                self._ready.append(job)
            elif lane in self._busy_lanes:
                self._lanes.setdefault(lane, deque()).append(job)
            else:
                self._busy_lanes.add(lane)
                self._ready.append(job)
            self._spawn_if_needed()
            self._lock.notify()
        for old in older:
            old._stop(SUPERSEDED)
        return job

    @property
    def pending(self) -> int:
        """Jobs not yet in a final state."""
        with self._lock:
            return len(self._active)

    def active_jobs(self) -> list[Job]:
        with self._lock:
            return sorted(self._active, key=lambda j: j.id)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: not self._active, timeout)

    def shutdown(self, wait: bool = True, timeout: float = 10.0) -> None:
        with self._lock:
            self._closed = True
            jobs = list(self._active)
            self._lock.notify_all()
        for job in jobs:
            job.cancel()
        if wait:
            for worker in list(self._workers):
                worker.join(timeout)

    # ---- workers -------------------------------------------------------------------------
    def _wrap_done(self, on_done: Callable[[Job], None] | None) -> Callable[[Job], None]:
        def done(job: Job) -> None:
            with self._lock:
                self._active.discard(job)
                key = job.supersede_key
                if key is not None and job in self._by_key.get(key, ()):
                    self._by_key[key].remove(job)
                    if not self._by_key[key]:
                        del self._by_key[key]
                self._lock.notify_all()
            if on_done is not None:
                on_done(job)

        return done

    def _spawn_if_needed(self) -> None:  # under the lock
        if len(self._ready) > self._idle_workers and len(self._workers) < self.max_workers:
            worker = threading.Thread(target=self._work, name=f"{self._name}-{len(self._workers) + 1}", daemon=True)
            self._workers.append(worker)
            self._idle_workers += 1
            worker.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._ready and not self._closed:
                    self._lock.wait()
                if not self._ready and self._closed:
                    self._idle_workers -= 1
                    return
                job = self._ready.popleft()
                self._idle_workers -= 1
            try:
                job._run()
            finally:
                with self._lock:
                    self._idle_workers += 1
                    if job.lane is not None:
                        self._release_lane(job.lane)

    def _release_lane(self, lane: Any) -> None:  # under the lock
        waiting = self._lanes.get(lane)
        while waiting:
            following = waiting.popleft()
            if following.state == QUEUED:  # a cancelled one already reached its final state
                self._ready.append(following)
                self._spawn_if_needed()
                self._lock.notify()
                return
        self._lanes.pop(lane, None)
        self._busy_lanes.discard(lane)


def _parameters(fn: Callable) -> set[str]:
    try:
        return set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return set()
