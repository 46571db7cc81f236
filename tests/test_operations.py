"""Operations defined once (giftdesk.core.operations and each feature's operations.py)."""

from __future__ import annotations

import threading
import time

import pytest

from giftdesk.accounts import operations as accounts
from giftdesk.core.errors import ConflictError
from giftdesk.core.operations import Operation
from giftdesk.fampage import operations as fampage
from giftdesk.fleet import operations as fleet
from giftdesk.runtime.lanes import LaneExecutor


def test_work_on_one_target_shares_its_lane_and_other_targets_do_not():
    assert fleet.EDIT.lane_key(7) == fleet.START.lane_key(7) != fleet.START.lane_key(8)
    assert fampage.REFILL.lane_key(3) == fampage.RECONCILE.lane_key(3)
    assert fampage.PAY_INVOICE.lane_key(3) != fampage.REFILL.lane_key(3)  # an invoice is not its order


def test_syncs_run_one_at_a_time_whatever_starts_them():
    assert fampage.SYNC_ORDERS.lane_key() == fampage.SYNC_OPEN_ORDERS.lane_key() == "fampage-sync"
    assert fleet.CREATE.lane_key() is None and accounts.REVEAL_KEY.lane_key() is None


def test_a_per_target_operation_needs_its_target():
    with pytest.raises(ValueError, match="target"):
        fleet.STOP.lane_key()


def test_descriptions_and_confirmations():
    assert fleet.EDIT.describe("web-1") == "Saving web-1…" and fleet.START.describe() == "Start…"
    assert fleet.instance_operation("restart") is fleet.RESTART
    assert fleet.DELETE.confirmation(count=2, names="a, b") == "Delete 2 instance(s) and their containers (a, b)?"
    with pytest.raises(ValueError):
        Operation("x", "Doing").confirmation()


class _RecordingFleet:
    def __init__(self, log):
        self.log = log

    def stop(self, instance_id):
        self.log.append(("stop", instance_id))
        if instance_id == 13:
            raise ConflictError("the container is gone")

    def record_event(self, instance_id, level, message):
        self.log.append(("event", instance_id, level, message))


def _wait_for_jobs(lanes, count: int) -> list:
    deadline = time.monotonic() + 30
    while len(lanes.active_jobs()) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return lanes.active_jobs()


def test_a_scheduled_stop_queues_behind_what_a_person_started_on_that_instance(desk):
    from giftdesk.fleet.schedules import FleetSchedules

    lanes = LaneExecutor(4, name="test-lanes")
    log: list = []
    release = threading.Event()
    try:
        schedules = FleetSchedules(desk, _RecordingFleet(log), scheduler=None, lanes=lanes)
        started = lanes.submit(lambda: (log.append(("window edit", 7)), release.wait(30)),
                               lane=fleet.EDIT.lane_key(7))
        scheduled = threading.Thread(target=schedules._action(7, "web-7", "stop"))
        other = threading.Thread(target=schedules._action(8, "web-8", "stop"))
        scheduled.start()
        other.start()
        other.join(30)  # another instance's lane is free: its stop runs now
        assert ("stop", 8) in log and ("stop", 7) not in log
        on_seven = [j for j in _wait_for_jobs(lanes, 2) if j.lane == fleet.STOP.lane_key(7)]
        assert on_seven[0] is started and [j.state for j in on_seven] == ["running", "queued"]  # behind the edit
        release.set()
        scheduled.join(30)
        assert started.wait(30)
        assert log.index(("window edit", 7)) < log.index(("stop", 7))
        assert ("event", 7, "info", "Scheduled stop") in log
        with pytest.raises(ConflictError, match="gone"):  # the scheduler records the failure
            schedules._action(13, "web-13", "stop")()
        assert ("event", 13, "error", "Scheduled stop failed: the container is gone") in log
    finally:
        release.set()
        lanes.shutdown(wait=True, timeout=10)
        schedules.close()
