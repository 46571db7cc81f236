"""Per-instance daily start and stop times, run by the runtime's scheduler (window and serve)."""

from __future__ import annotations

import logging

from giftdesk.core.errors import GiftDeskError
from giftdesk.fleet.events import InstancesChanged
from giftdesk.fleet.operations import BY_ACTION
from giftdesk.core.events import DatabaseReplaced

log = logging.getLogger(__name__)


def job_name(instance_id: int, what: str) -> str:
    return f"instance.{instance_id}.{what}"


class FleetSchedules:
    def __init__(self, desk, fleet, scheduler, lanes):
        self.desk = desk
        self.fleet = fleet
        self.scheduler = scheduler
        self.lanes = lanes  # the process's job lanes: a scheduled stop waits for the window's start
        self._unsubscribe = [desk.events.subscribe(InstancesChanged, lambda _e: self.sync()),
                             desk.events.subscribe(DatabaseReplaced, lambda _e: self.sync())]

    def sync(self) -> int:
        """Makes the scheduler's instance jobs match the records; returns how many there are."""
        try:
            rows = self.fleet.list()
        except Exception:
            log.warning("Could not read instance schedules", exc_info=True)
            return 0
        self.scheduler.cancel_prefix("instance.")
        count = 0
        for row in rows:
            for what, at in (("start", row.schedule_start), ("stop", row.schedule_stop)):
                if not at:
                    continue
                try:
                    self.scheduler.daily(job_name(row.id, what), at, self._action(row.id, row.name, what),
                                         tz=row.schedule_tz)
                    count += 1
                except GiftDeskError as exc:
                    log.warning("Schedule of %s not set: %s", row.name, exc)
        return count

    def _action(self, instance_id: int, name: str, what: str):
        def run() -> None:
            try:
                BY_ACTION[what].run_and_wait(self.lanes, getattr(self.fleet, what), instance_id, target=instance_id,
                                             subject=name)
                self.fleet.record_event(instance_id, "info", f"Scheduled {what}")
            except GiftDeskError as exc:
                self.fleet.record_event(instance_id, "error", f"Scheduled {what} failed: {exc}")
                raise

        run.__name__ = f"scheduled_{what}_{name}"
        return run

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
