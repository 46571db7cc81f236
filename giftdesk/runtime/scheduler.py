"""Scheduled work: every N seconds, or daily at a time of day in the user's time zone.

    scheduler.every("fampage.order-sync", 300, sync_open_orders)
    scheduler.daily("instance.7.start", "08:30", start_instance, tz="Europe/Berlin")

One thread keeps the timetable; due jobs run on a small pool so a slow one delays no other. A
job never overlaps itself (a run still going when the next is due is skipped and counted). The
scheduler is a supervised ``Service``; jobs can be added before or while it runs.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo

from giftdesk.core.clock import next_daily, parse_time_of_day, resolve_zone
from giftdesk.core.errors import ValidationError
from giftdesk.core.service import Service

log = logging.getLogger(__name__)

MAX_PARALLEL_JOBS = 4


@dataclass(order=True)
class _Entry:
    due: float  # time.time()
    seq: int
    name: str = field(compare=False)


@dataclass
class ScheduledJob:
    name: str
    fn: Callable[[], object]
    interval: float | None = None  # every N seconds
    daily: tuple[int, int] | None = None
    zone: tzinfo | None = None
    next_run: datetime | None = None
    last_run: datetime | None = None
    last_error: str = ""
    runs: int = 0
    skipped: int = 0
    running: bool = False

    def following(self, now: float) -> float:
        if self.interval is not None:
            return now + self.interval
        hours, minutes = self.daily  # type: ignore[misc]
        return next_daily(datetime.fromtimestamp(now, timezone.utc), hours, minutes, self.zone).timestamp()

    def to_json(self) -> dict:
        return {"name": self.name, "every": self.interval,
                "daily": f"{self.daily[0]:02d}:{self.daily[1]:02d}" if self.daily else None,
                "nextRun": self.next_run, "lastRun": self.last_run, "lastError": self.last_error or None,
                "runs": self.runs, "skipped": self.skipped}


class Scheduler(Service):
    name = "scheduler"

    def __init__(self, clock: Callable[[], float] = time.time, max_parallel: int = MAX_PARALLEL_JOBS):
        super().__init__()
        self._clock = clock
        self._jobs: dict[str, ScheduledJob] = {}
        self._heap: list[_Entry] = []
        self._seq = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._pool = ThreadPoolExecutor(max_parallel, thread_name_prefix="scheduled")

    # ---- timetable -----------------------------------------------------------------------
    def every(self, name: str, seconds: float, fn: Callable[[], object], first_in: float | None = None) -> ScheduledJob:
        if seconds <= 0:
            raise ValidationError("An interval must be more than 0 seconds.", field="interval")
        job = ScheduledJob(name, fn, interval=float(seconds))
        return self._add(job, self._clock() + (seconds if first_in is None else first_in))

    def daily(self, name: str, time_of_day: str, fn: Callable[[], object], tz: str | None = None) -> ScheduledJob:
        job = ScheduledJob(name, fn, daily=parse_time_of_day(time_of_day), zone=resolve_zone(tz))
        return self._add(job, job.following(self._clock()))

    def cancel(self, name: str) -> bool:
        with self._lock:
            found = self._jobs.pop(name, None) is not None
            self._changed.notify_all()
        return found

    def cancel_prefix(self, prefix: str) -> int:
        with self._lock:
            names = [n for n in self._jobs if n.startswith(prefix)]
            for n in names:
                del self._jobs[n]
            self._changed.notify_all()
        return len(names)

    def jobs(self) -> list[ScheduledJob]:
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.name)

    def run_now(self, name: str) -> bool:
        with self._lock:
            job = self._jobs.get(name)
            if job is None:
                return False
            now = self._clock()
            # The heap keeps only the entry matching next_run: run now, then on the usual rhythm.
            job.next_run = datetime.fromtimestamp(now, timezone.utc)
            self._push(name, now)
            self._changed.notify_all()
        return True

    def _add(self, job: ScheduledJob, due: float) -> ScheduledJob:
        with self._lock:
            self._jobs[job.name] = job  # replaces a job of the same name
            job.next_run = datetime.fromtimestamp(due, timezone.utc)
            self._push(job.name, due)
            self._changed.notify_all()
        return job

    def _push(self, name: str, due: float) -> None:
        self._seq += 1
        heapq.heappush(self._heap, _Entry(due, self._seq, name))

    # ---- Service -------------------------------------------------------------------------
    def run(self, stop) -> None:
        self.report("running", self._summary())
        while not stop.is_set():
            due_now: list[ScheduledJob] = []
            with self._lock:
                now = self._clock()
                while self._heap and self._heap[0].due <= now:
                    entry = heapq.heappop(self._heap)
                    job = self._jobs.get(entry.name)
                    if job is None or job.next_run is None or abs(job.next_run.timestamp() - entry.due) > 1e-3:
                        continue  # cancelled or rescheduled: a stale heap entry
                    following = job.following(now)
                    job.next_run = datetime.fromtimestamp(following, timezone.utc)
                    self._push(job.name, following)
                    due_now.append(job)
                wait = min(0.5, max(0.0, self._heap[0].due - now)) if self._heap else 0.5
            for job in due_now:
                self._launch(job)
            if due_now:
                self.report(detail=self._summary())
            with self._lock:
                self._changed.wait(wait)

    def interrupt(self) -> None:
        with self._lock:
            self._changed.notify_all()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _launch(self, job: ScheduledJob) -> None:
        with self._lock:
            if job.running:
                job.skipped += 1
                log.info("Scheduled job %s is still running; this run is skipped", job.name)
                return
            job.running = True

        def work() -> None:
            try:
                job.fn()
                job.last_error = ""
            except Exception as exc:  # reported on the job; the schedule goes on
                log.warning("Scheduled job %s failed: %s", job.name, exc, exc_info=True)
                job.last_error = str(exc) or type(exc).__name__
            finally:
                with self._lock:
                    job.running = False
                    job.runs += 1
                    job.last_run = datetime.now(timezone.utc)

        try:
            self._pool.submit(work)
        except RuntimeError:  # shutting down
            job.running = False

    def _summary(self) -> str:
        count = len(self._jobs)
        return f"{count} scheduled job{'s' if count != 1 else ''}"
