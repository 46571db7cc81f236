"""The console's own background work in the runtime (window and ``giftdesk serve``): scheduled
backups. Installed by ``giftdesk.runtime.FEATURES``; the schedule follows the settings as they change.

The scheduler triggers every day at the schedule's time (in this machine's zone); a weekly schedule
lets the other days' triggers pass.
"""

from __future__ import annotations

import logging
from datetime import datetime

from giftdesk.core.events import SettingsChanged

log = logging.getLogger(__name__)

BACKUP_JOB = "system.scheduled-backup"


def install(runtime) -> None:
    desk = runtime.desk
    backups = desk.scheduled_backups

    def take_backup() -> dict | None:
        schedule = backups.schedule()
        if not schedule.due_on(datetime.now().astimezone()):
            return None
        result = backups.run()
        if not result.ok:
            log.warning("Scheduled backup failed: %s", result.error)
        return result.to_json()

    def schedule() -> None:
        runtime.scheduler.cancel(BACKUP_JOB)
        current = backups.schedule()
        if current.kind != "off":
            runtime.scheduler.daily(BACKUP_JOB, current.time, take_backup)

    def on_settings(event: SettingsChanged) -> None:
        if "backup.schedule" in event.keys:
            schedule()

    schedule()
    desk.events.subscribe(SettingsChanged, on_settings, owner=runtime)
