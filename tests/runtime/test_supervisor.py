"""The supervisor and the scheduler: restart with backoff, bounded orderly stop, schedules."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from giftdesk.core.errors import ValidationError
from giftdesk.core.clock import next_daily, parse_time_of_day
from giftdesk.runtime.scheduler import Scheduler
from giftdesk.core.service import Service
from giftdesk.runtime.supervisor import Supervisor
from giftdesk.core.events import EventBus, ServiceStatusChanged


# Generous: a loaded machine may take seconds for what takes milliseconds here; success returns at once.
def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


class Flaky(Service):
    name = "flaky"

    def __init__(self, failures: int):
        super().__init__()
        self.failures = failures
        self.runs = 0

    def run(self, stop):
        self.runs += 1
        if self.runs <= self.failures:
            raise ConnectionError(f"engine went away (run {self.runs})")
        self.report("running", "all good")
        stop.wait()


def test_a_failing_service_is_restarted_with_growing_backoff_and_reports_why():
    bus = EventBus()
    seen = []
    bus.subscribe(ServiceStatusChanged, lambda e: seen.append((e.status.state, e.status.error)))
    supervisor = Supervisor(bus, backoff_first=0.05, backoff_max=0.2)
    service = supervisor.add(Flaky(failures=3))
    supervisor.start()
    assert wait_for(lambda: supervisor.status("flaky").state == "running")
    status = supervisor.status("flaky")
    assert service.runs == 4 and status.restarts == 3 and status.detail == "all good"
    backoffs = [error for state, error in seen if state == "backoff"]
    assert backoffs == [f"engine went away (run {n})" for n in (1, 2, 3)]
    assert supervisor.stop(2) == []
    assert supervisor.status("flaky").state == "stopped"


class Blocking(Service):
    """Blocks on a 'socket' that only interrupt() closes."""

    def __init__(self, name, order):
        super().__init__()
        self.name = name
        self.order = order
        self.closed = threading.Event()

    def run(self, stop):
        self.closed.wait()
        self.order.append(self.name)

    def interrupt(self):
        self.closed.set()


class Stubborn(Service):
    """Ignores stop and interrupt: runs until the test lets it go."""

    name = "stubborn"

    def __init__(self):
        super().__init__()
        self.released = threading.Event()

    def run(self, stop):
        self.released.wait()


def test_stop_is_orderly_newest_first_and_bounded():
    order = []
    supervisor = Supervisor()
    for name in ("endpoint", "fleet", "orders"):
        supervisor.add(Blocking(name, order))
    stubborn = Stubborn()
    supervisor.add(stubborn)
    supervisor.start()
    # Bounded: stop returns while the stubborn service still runs (an unbounded stop would wait
    # for it forever, and the test's deadline would fail it).
    hung = supervisor.stop(timeout=1.0)
    assert hung == ["stubborn"] and not stubborn.released.is_set()
    stubborn.released.set()
    assert order == ["orders", "fleet", "endpoint"]


def test_restart_runs_the_service_again_without_backoff():
    class Counting(Service):
        name = "counting"
        runs = 0

        def run(self, stop):
            Counting.runs += 1
            stop.wait()

    supervisor = Supervisor()
    supervisor.add(Counting())
    supervisor.start()
    assert wait_for(lambda: Counting.runs == 1)
    supervisor.restart("counting")
    assert wait_for(lambda: Counting.runs == 2)
    assert supervisor.status("counting").restarts == 0
    supervisor.stop(2)


def test_scheduler_runs_every_n_seconds_and_never_overlaps_a_job():
    supervisor = Supervisor()
    scheduler = supervisor.add(Scheduler())
    runs = []
    slow_runs = []
    release = threading.Event()
    scheduler.every("fast", 0.05, lambda: runs.append(time.monotonic()), first_in=0)
    scheduler.every("slow", 0.02, lambda: (slow_runs.append(1), release.wait(5)), first_in=0)
    supervisor.start()
    assert wait_for(lambda: len(runs) >= 5)
    slow = {j.name: j for j in scheduler.jobs()}["slow"]
    assert wait_for(lambda: slow.skipped >= 3)
    assert len(slow_runs) == 1  # still running: the later runs were skipped, not stacked
    release.set()
    assert scheduler.cancel("fast")
    count = len(runs)
    assert wait_for(lambda: slow.runs >= 2)
    assert len(runs) <= count + 1
    supervisor.stop(2)
    scheduler.close()


def test_a_failing_job_is_reported_and_keeps_its_schedule():
    supervisor = Supervisor()
    scheduler = supervisor.add(Scheduler())
    calls = []

    def broken():
        calls.append(1)
        raise RuntimeError("Fampage did not answer")

    job = scheduler.every("sync", 0.03, broken, first_in=0)
    supervisor.start()
    assert wait_for(lambda: len(calls) >= 3)
    assert job.last_error == "Fampage did not answer"
    supervisor.stop(2)
    scheduler.close()


def test_daily_times_follow_the_time_zone_and_daylight_saving():
    berlin = ZoneInfo("Europe/Berlin")
    after = datetime(2026, 3, 28, 12, 0, tzinfo=timezone.utc)  # the day before spring-forward
    first = next_daily(after, 8, 30, berlin)
    assert first == datetime(2026, 3, 29, 6, 30, tzinfo=timezone.utc)  # 08:30 CEST
    assert next_daily(first, 8, 30, berlin) == datetime(2026, 3, 30, 6, 30, tzinfo=timezone.utc)
    # 02:30 does not exist on 29 March in Berlin: the first minute after the gap instead.
    gap = next_daily(datetime(2026, 3, 29, 0, 0, tzinfo=timezone.utc), 2, 30, berlin)
    assert gap.astimezone(berlin).hour == 3
    # 02:30 happens twice on 25 October: once.
    autumn = next_daily(datetime(2026, 10, 24, 12, 0, tzinfo=timezone.utc), 2, 30, berlin)
    assert autumn == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)
    assert next_daily(autumn, 2, 30, berlin).date().isoformat() == "2026-10-26"


def test_daily_job_with_a_fake_clock():
    now = [datetime(2026, 5, 1, 7, 59, 59, tzinfo=timezone.utc).timestamp()]
    scheduler = Scheduler(clock=lambda: now[0])
    job = scheduler.daily("start", "08:00", lambda: None, tz="UTC")
    assert job.next_run == datetime(2026, 5, 1, 8, 0, tzinfo=timezone.utc)
    scheduler.close()


@pytest.mark.parametrize("text", ["8", "25:00", "08:60", "ab:cd", "", "08:00:00"])
def test_bad_times_of_day_are_sentences(text):
    with pytest.raises(ValidationError):
        parse_time_of_day(text)
    with pytest.raises(ValidationError):
        Scheduler().daily("x", text, lambda: None)


def test_unknown_time_zone_is_a_sentence():
    with pytest.raises(ValidationError, match="time zone"):
        Scheduler().daily("x", "08:00", lambda: None, tz="Mars/Olympus")


def test_run_now_runs_a_job_at_once_and_then_keeps_its_rhythm():
    supervisor = Supervisor()
    scheduler = supervisor.add(Scheduler())
    calls = []
    scheduler.every("sync", 3600, lambda: calls.append(time.monotonic()))
    supervisor.start()
    assert scheduler.run_now("sync")
    assert wait_for(lambda: len(calls) == 1)
    job = scheduler.jobs()[0]
    assert job.next_run.timestamp() > time.time() + 3000  # the next one an interval later
    assert not scheduler.run_now("nothing-by-that-name")
    supervisor.stop(2)
    scheduler.close()
