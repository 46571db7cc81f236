"""The backend recovery's rules with a stand-in fleet and engine (no Docker): when it looks, what it
restarts, and what it leaves alone."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from giftdesk.core.errors import NotFoundError, ServiceUnavailableError
from giftdesk.core.events import EventBus, ServiceStatusChanged
from giftdesk.core.service import ServiceStatus
from giftdesk.fleet.backend_recovery import AUDIT_ACTION, BackendRecovery
from giftdesk.fleet.events import InstanceStateChanged
from giftdesk.runtime.lanes import LaneExecutor

GRACE = 20.0


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"  # the engine's nanoseconds


@dataclass
class Row:
    id: int
    name: str
    container_id: str
    account_id: int
    state: str = "running"


class FakeFleet:
    def __init__(self):
        self.rows: dict[int, Row] = {}
        self.started: dict[str, datetime] = {}  # container -> StartedAt (running)
        self.accessed: dict[int, datetime | None] = {}
        self.restarted: list[int] = []
        self.events: list[tuple[int, str, str]] = []
        self.audits: list[tuple[str, str, int]] = []
        self.engine_away = False
        self.docker = SimpleNamespace(inspect=self._inspect)
        self.keys = SimpleNamespace(get=lambda account: SimpleNamespace(last_accessed_at=self.accessed.get(account)))
        self.ctx = SimpleNamespace(db=SimpleNamespace(session=contextlib.nullcontext),
                                   audit=lambda _s, action, summary, _t, target: self.audits.append(
                                       (action, summary, target)))
        self.on_restart = None

    def add(self, instance_id: int, started_ago: float, accessed_ago: float | None) -> Row:
        now = datetime.now(timezone.utc)
        row = Row(instance_id, f"t{instance_id}", f"c{instance_id}", 100 + instance_id)
        self.rows[instance_id] = row
        self.started[row.container_id] = now - timedelta(seconds=started_ago)
        self.accessed[row.account_id] = None if accessed_ago is None else now - timedelta(seconds=accessed_ago)
        return row

    def list(self, with_state=False):
        if self.engine_away:
            raise ServiceUnavailableError("the engine does not answer")
        return [r for r in self.rows.values() if r.container_id in self.started]

    def get(self, instance_id):
        return self.rows[instance_id]

    def _inspect(self, container_id):
        if self.engine_away:
            raise ServiceUnavailableError("the engine does not answer")
        if container_id not in self.started:
            raise NotFoundError("no such container")
        return {"Id": container_id, "State": {"Running": True, "StartedAt": stamp(self.started[container_id])}}

    def restart(self, instance_id):
        if self.on_restart:
            self.on_restart(instance_id)
        self.restarted.append(instance_id)
        self.started[self.rows[instance_id].container_id] = datetime.now(timezone.utc)

    def record_event(self, instance_id, level, message, details=None):
        self.events.append((instance_id, level, message))


@pytest.fixture
def setup():
    bus = EventBus()
    fleet = FakeFleet()
    lanes = LaneExecutor(4, name="test-job")
    recovery = BackendRecovery(SimpleNamespace(events=bus), fleet, lanes, grace=GRACE)
    yield bus, fleet, recovery
    recovery.close()
    lanes.shutdown(wait=True)


def endpoint(bus, state: str, name: str = "endpoint") -> None:
    bus.publish(ServiceStatusChanged(name, ServiceStatus(name, state)))


def test_nothing_is_looked_at_while_the_endpoint_does_not_run(setup):
    bus, fleet, recovery = setup
    fleet.add(1, started_ago=60, accessed_ago=None)
    endpoint(bus, "backoff")
    endpoint(bus, "running", name="fleet-watcher")  # another service's status says nothing
    bus.publish(InstanceStateChanged(1, "t1", "running", container_id="c1"))
    recovery.step()
    assert fleet.restarted == [] and recovery.verdicts == {}


def test_when_the_endpoint_comes_up_only_trackers_that_have_not_loaded_since_their_start_are_restarted(setup):
    bus, fleet, recovery = setup
    fleet.add(1, started_ago=600, accessed_ago=None)  # booted before the endpoint: never loaded
    fleet.add(2, started_ago=600, accessed_ago=700)  # loaded before this start only (an older run)
    fleet.add(3, started_ago=600, accessed_ago=590)  # loaded after it started
    fleet.add(4, started_ago=5, accessed_ago=None)  # still in its grace
    endpoint(bus, "running")
    wait = recovery.step()
    assert sorted(fleet.restarted) == [1, 2]
    assert recovery.verdicts["c3"][1] == "loaded"
    assert "c4" not in recovery.verdicts and GRACE - 6 < wait <= GRACE - 5 + 0.1
    assert sorted(target for _a, _s, target in fleet.audits) == [1, 2]
    assert (AUDIT_ACTION, "restarted t1: it started while the endpoint was down", 1) in fleet.audits
    assert any(i == 1 and m.startswith("Restarted: it started while the endpoint was down")
               for i, _l, m in fleet.events)
    # Another step before anything changed restarts nobody again.
    recovery.step()
    assert sorted(fleet.restarted) == [1, 2]


def test_a_tracker_still_not_loading_after_its_restart_is_not_restarted_again(setup):
    bus, fleet, recovery = setup
    fleet.add(1, started_ago=600, accessed_ago=None)
    endpoint(bus, "running")
    recovery.step()
    assert fleet.restarted == [1]
    fleet.started["c1"] -= timedelta(seconds=GRACE + 1)  # its new start is past the grace, still no access
    bus.publish(InstanceStateChanged(1, "t1", "running", container_id="c1"))
    recovery.step()
    assert fleet.restarted == [1]
    assert recovery.verdicts["c1"][1] == "gave-up"
    assert any("not restarted again" in m for _i, level, m in fleet.events if level == "warning")
    # The endpoint going down and coming back is a new chance.
    endpoint(bus, "stopped")
    endpoint(bus, "running")
    fleet.started["c1"] -= timedelta(seconds=1)
    recovery.step()
    assert fleet.restarted == [1, 1]


def test_a_tracker_restarted_or_stopped_by_someone_else_before_the_job_ran_is_left_alone(setup):
    bus, fleet, recovery = setup
    fleet.add(1, started_ago=600, accessed_ago=None)
    fleet.add(2, started_ago=600, accessed_ago=None)
    original = fleet._inspect
    calls = {"c1": 0, "c2": 0}

    def inspect(container_id):  # between the judgement and the job: c1 restarted by a person, c2 stopped
        calls[container_id] += 1
        if calls[container_id] == 2:
            if container_id == "c1":
                fleet.started["c1"] = datetime.now(timezone.utc)
            else:
                raise NotFoundError("gone")
        return original(container_id)

    fleet.docker.inspect = inspect
    endpoint(bus, "running")
    recovery.step()
    assert fleet.restarted == [] and fleet.audits == []


def test_an_engine_that_does_not_answer_is_asked_again_later(setup):
    bus, fleet, recovery = setup
    fleet.add(1, started_ago=600, accessed_ago=None)
    fleet.engine_away = True
    endpoint(bus, "running")
    assert recovery.step() == 5.0
    assert fleet.restarted == []
    fleet.engine_away = False
    recovery.step()
    assert fleet.restarted == [1]
