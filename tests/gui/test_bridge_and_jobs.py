"""Typed events on the GUI thread (owners, coalesced batches per frame) and the job runner's lanes."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from PySide6.QtCore import QObject, QThread
from PySide6.QtWidgets import QWidget

from giftdesk.gui.bridge import FRAME_MS, EventBridge
from giftdesk.gui.jobs import JobRunner
from giftdesk.accounts.events import CustomerChanged, KeyChanged
from giftdesk.core.events import Event, EventBus


@dataclass(frozen=True)
class Sample(Event):
    coalesce: ClassVar[bool] = True
    container: str
    cpu: float

    @property
    def coalesce_key(self) -> Any:
        return self.container


def test_events_reach_the_gui_thread_by_type_in_order(qtbot):
    bus = EventBus()
    bridge = EventBridge(bus)
    seen = []
    bridge.subscribe(CustomerChanged, lambda e: seen.append((e.customer_id, QThread.currentThread() is bridge.thread())))
    publisher = threading.Thread(target=lambda: [bus.publish(CustomerChanged(n)) for n in range(50)])
    publisher.start()
    publisher.join()
    bus.publish(KeyChanged(1, "url"))  # another type: not delivered to this subscriber
    qtbot.waitUntil(lambda: len(seen) == 50)
    assert seen == [(n, True) for n in range(50)]
    bridge.close()


def test_a_deleted_owner_gets_nothing_and_is_forgotten(qtbot):
    bus = EventBus()
    bridge = EventBridge(bus)
    owner = QWidget()
    seen = []
    bridge.subscribe(CustomerChanged, seen.append, owner=owner)
    bus.publish(CustomerChanged(1))
    qtbot.waitUntil(lambda: len(seen) == 1)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not bridge._subscriptions)
    bus.publish(CustomerChanged(2))
    bridge.flush()
    assert len(seen) == 1
    bridge.close()


def test_high_rate_events_arrive_as_at_most_one_batch_per_frame(qtbot):
    bus = EventBus()
    bridge = EventBridge(bus)
    batches = []
    delivered_at = []

    def on_batch(batch):
        delivered_at.append(time.monotonic())
        batches.append(batch)

    bridge.subscribe_batch(Sample, on_batch)

    def flood():
        for n in range(20_000):
            bus.publish(Sample(f"c{n % 100}", float(n)))

    threads = [threading.Thread(target=flood) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    qtbot.waitUntil(lambda: bool(batches) and max(s.cpu for b in batches for s in b) == 19_999.0, timeout=5000)
    # At most one batch a frame: consecutive deliveries are a frame apart or more (a loaded
    # machine only spreads them further; 2 ms for the timer's own rounding).
    gaps = [b - a for a, b in zip(delivered_at, delivered_at[1:])]
    assert all(gap >= (FRAME_MS - 2) / 1000 for gap in gaps), gaps
    assert all(len({s.container for s in b}) == len(b) for b in batches)  # newest per key only
    assert len(batches[-1]) <= 100
    bridge.close()


def test_the_first_batch_after_a_quiet_spell_goes_at_once_and_a_burst_waits_a_frame(qtbot):
    """A change after a quiet spell is not held back a frame; the ones right after it are."""
    from giftdesk.gui.bridge import FRAME_MS

    bus = EventBus()
    bridge = EventBridge(bus)
    arrived: list[tuple[float, list]] = []
    bridge.subscribe_batch(Sample, lambda batch: arrived.append((time.monotonic(), batch)))
    qtbot.wait(FRAME_MS * 2)  # quiet
    bus.publish(Sample("a", 1.0))  # published on the GUI thread: the bridge drains it right away
    assert len(arrived) == 1  # delivered in the same turn, no frame waited out
    bus.publish(Sample("b", 2.0))  # within the frame that just began: held for the rest of it
    bus.publish(Sample("b", 3.0))
    assert len(arrived) == 1
    qtbot.waitUntil(lambda: len(arrived) == 2, timeout=2000)
    first, second = arrived
    assert [s.cpu for s in first[1]] == [1.0] and [s.cpu for s in second[1]] == [3.0]  # newest per key
    assert second[0] - first[0] >= FRAME_MS / 1000 * 0.9
    bridge.close()


def test_runner_drops_results_for_an_owner_that_is_gone(qtbot):
    delivered, errors = [], []
    runner = JobRunner(errors.append)
    owner = QObject()
    release = threading.Event()
    runner.submit(lambda: release.wait(5) and "late result", owner=owner, on_success=delivered.append)
    owner.deleteLater()
    qtbot.waitUntil(lambda: not _alive(owner))
    release.set()
    qtbot.waitUntil(lambda: runner.running == 0)
    assert delivered == [] and errors == []
    runner.shutdown()


def _alive(obj) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)


def test_a_newer_load_supersedes_an_older_one_in_flight(qtbot):
    shown, errors = [], []
    runner = JobRunner(errors.append)
    owner = QObject()
    slow_release = threading.Event()

    def load(n, cancel):
        if n == 1:
            slow_release.wait(5)
        return n

    first = runner.submit(load, 1, owner=owner, supersede="customers", on_success=shown.append)
    second = runner.submit(load, 2, owner=owner, supersede="customers", on_success=shown.append)
    qtbot.waitUntil(lambda: shown == [2])
    slow_release.set()
    qtbot.waitUntil(lambda: runner.running == 0)
    assert shown == [2] and first.state == "superseded" and second.state == "succeeded"
    runner.shutdown()


def test_cancelled_queued_jobs_end_and_the_busy_count_returns_to_zero(qtbot):
    errors, counts = [], []
    runner = JobRunner(errors.append, max_workers=1)
    runner.busy_changed.connect(lambda n, _d: counts.append(n))
    release = threading.Event()
    blocker = runner.submit(release.wait, 5)
    queued = [runner.submit(time.sleep, 0) for _ in range(3)]
    for job in queued:
        job.cancel()
    release.set()
    qtbot.waitUntil(lambda: runner.running == 0)
    assert counts[-1] == 0 and blocker.state == "succeeded"
    assert [j.state for j in queued] == ["cancelled"] * 3
    runner.shutdown()


def test_failures_go_to_the_error_route_and_progress_to_the_gui_thread(qtbot):
    errors, progress = [], []
    runner = JobRunner(errors.append)

    def work(job):
        job.progress(1, 2, "half")
        raise ValueError("bad")

    runner.submit(work, on_progress=lambda j: progress.append((j.done_count, j.total, j.message)))
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], ValueError)
    assert progress == [(1, 2, "half")]
    runner.shutdown()


def test_a_load_finished_before_a_newer_one_was_asked_for_is_not_shown(qtbot):
    shown, errors = [], []
    runner = JobRunner(errors.append)
    owner = QObject()
    first = runner.submit(lambda: "old", owner=owner, supersede="list", on_success=shown.append)
    assert first.wait(5)  # done on its worker; its delivery is still queued for the GUI thread
    release = threading.Event()
    runner.submit(lambda: release.wait(5) and "new", owner=owner, supersede="list", on_success=shown.append)
    qtbot.waitUntil(lambda: runner.running == 1)  # the old delivery has been processed (dropped)
    assert shown == []
    release.set()
    qtbot.waitUntil(lambda: shown == ["new"])
    runner.shutdown()


def test_an_older_result_arriving_after_the_newest_is_dropped(qtbot):
    """A load that finished just as a newer one was submitted can reach the GUI thread after it:
    the view keeps the newer rows (a filter change never ends showing the previous filter's rows)."""
    from giftdesk.runtime.lanes import SUCCEEDED

    shown, errors = [], []
    runner = JobRunner(errors.append)
    owner = QObject()
    go, hold = threading.Event(), threading.Event()
    older = runner.submit(lambda: go.wait(5) and "previous filter's rows", owner=owner, supersede="list",
                          on_success=shown.append)
    finish_older = older._on_done
    older._on_done = lambda job: (hold.wait(5), finish_older(job))  # its worker is slow to report it
    go.set()
    qtbot.waitUntil(lambda: older.state == SUCCEEDED)  # done, but not yet on its way to the GUI thread
    runner.submit(lambda: "current filter's rows", owner=owner, supersede="list", on_success=shown.append)
    qtbot.waitUntil(lambda: shown == ["current filter's rows"])
    hold.set()
    qtbot.waitUntil(lambda: runner.running == 0)
    assert shown == ["current filter's rows"] and errors == []
    runner.shutdown()


def test_work_held_for_a_paint_runs_after_it_and_counts_as_running(qtbot):
    """``AfterPaint``: what the first paint does not need waits until it has been handled (the
    newest call per key), and the runner counts it as running until then, so the window's
    background start waits for it too; a widget never painted releases it at the latest."""
    from giftdesk.gui.widgets.after_paint import AfterPaint

    runner = JobRunner(lambda exc: None)
    widget = QWidget()
    widget.resize(200, 100)
    gate = AfterPaint(widget, runner, widget)
    ran = []
    gate.hold("detail", lambda: ran.append("old"))
    gate.hold("detail", lambda: ran.append("detail"))
    gate.hold("dashboard", lambda: ran.append("dashboard"))
    assert ran == [] and runner.running == 1 and gate.held
    widget.show()
    qtbot.waitUntil(lambda: ran == ["detail", "dashboard"])
    assert runner.running == 0 and not gate.held
    gate.hold("detail", lambda: ran.append("now"))  # painted already: at once
    assert ran[-1] == "now"
    unseen = AfterPaint(QWidget(), runner)
    unseen.hold("detail", lambda: ran.append("at the latest"))
    qtbot.waitUntil(lambda: ran[-1] == "at the latest", timeout=5000)
    assert runner.running == 0
    runner.shutdown()


def test_work_held_by_a_view_gone_before_its_paint_is_not_counted_any_more(qtbot):
    from giftdesk.gui.widgets.after_paint import AfterPaint

    runner = JobRunner(lambda exc: None)
    widget = QWidget()
    gate = AfterPaint(widget, runner, widget)
    ran = []
    gate.hold("detail", lambda: ran.append("detail"))
    assert runner.running == 1
    widget.deleteLater()
    qtbot.waitUntil(lambda: runner.running == 0)
    assert ran == []
    runner.shutdown()
