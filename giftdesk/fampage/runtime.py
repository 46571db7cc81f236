"""Fampage in the background runtime (window and ``giftdesk serve``): the runtime's httpx client
for Fampage, a sync of all open orders every ``fampage.sync_interval_minutes`` and a balance
check after it (``BalanceChanged`` with ``low`` set is what the tab and the tray warn from), and
the integration log trimmed to 30 days every night.

Installed by ``giftdesk.runtime.FEATURES``; nothing runs while no Fampage key is set.
"""

from __future__ import annotations

import logging
import os

from giftdesk.fampage.client import FampageError, FampageUnavailable
from giftdesk.fampage.operations import SYNC_OPEN_ORDERS
from giftdesk.core.events import SettingsChanged
from giftdesk.core.secrets import FAMPAGE_API_KEY_SECRET

log = logging.getLogger(__name__)

SYNC_JOB = "fampage.sync-open-orders"
PRUNE_JOB = "fampage.prune-call-log"
CALL_LOG_DAYS = 30


def install(runtime) -> None:
    desk = runtime.desk
    desk.fampage.use_http(runtime.http.get("fampage"))

    def configured() -> bool:
        return bool(os.environ.get("FAMPAGE_API_KEY") or desk.secrets.get(FAMPAGE_API_KEY_SECRET))

    def sync_and_check() -> dict | None:
        if not configured():
            return None
        try:
            # On the window's sync lane: the schedule never overlaps a sync a person started.
            result = SYNC_OPEN_ORDERS.run_and_wait(runtime.jobs, desk.orders.sync_open_orders)
            desk.fampage.balance()
        except (FampageError, FampageUnavailable) as exc:
            log.warning("Scheduled Fampage sync failed: %s", exc)
            raise
        return result.to_json()

    def schedule() -> None:
        minutes = int(desk.settings.get("fampage.sync_interval_minutes"))
        runtime.scheduler.every(SYNC_JOB, minutes * 60, sync_and_check, first_in=min(60, minutes * 60))

    def on_settings(event: SettingsChanged) -> None:
        if "fampage.sync_interval_minutes" in event.keys:
            schedule()

    schedule()
    runtime.scheduler.daily(PRUNE_JOB, "04:30", lambda: desk.fampage.prune_calls(CALL_LOG_DAYS))
    desk.events.subscribe(SettingsChanged, on_settings, owner=runtime)
