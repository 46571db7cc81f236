"""The change feed in the background runtime (window and ``giftdesk serve``): follows the change
log and publishes each change on the desk's bus as ``ChangeArrived`` (``ResyncNeeded`` after a
gap), so views refresh from what other consoles did. It also prunes the log to its retention,
at most hourly. Installed by ``giftdesk.runtime.FEATURES``.
"""

from __future__ import annotations

import threading

from giftdesk.core.events import DatabaseReplaced, EventBus
from giftdesk.core.service import Service
from giftdesk.db import Database
from giftdesk.db.change_log import written_here
from giftdesk.feed.changes import RESYNC, Change
from giftdesk.feed.events import ChangeArrived, ResyncNeeded
from giftdesk.feed.follower import POLL_INTERVAL, ChangeFollower


class ChangeFeedService(Service):
    name = "change-feed"

    def __init__(self, db: Database, events: EventBus, poll_interval: float = POLL_INTERVAL):
        super().__init__()
        self.db = db
        self.events = events
        self.poll_interval = poll_interval
        self.delivered = 0
        self.follower: ChangeFollower | None = None
        self._own_stop = threading.Event()
        events.subscribe(DatabaseReplaced, self._on_database_replaced, owner=self)

    def _on_database_replaced(self, _event: DatabaseReplaced) -> None:
        if self.follower is not None:
            self.follower.reconnect()

    def run(self, stop: threading.Event) -> None:
        # The follower sleeps on an Event of its own, set by ``interrupt`` (the supervisor calls it
        # on stop and restart): waiting on the supervisor's pair of events would wake it every 50 ms.
        own_stop = self._own_stop = threading.Event()
        if stop.is_set():
            return
        # A restart follows on from the last change published, so none is lost or repeated.
        after = self.follower.last_id if self.follower is not None else None
        self.follower = ChangeFollower(self.db, self.publish, after_id=after, poll_interval=self.poll_interval,
                                       prune=True, on_state=lambda state, detail: self.report(state, detail))
        self.follower.run(own_stop)

    def interrupt(self) -> None:
        self._own_stop.set()

    def publish(self, change: Change) -> None:
        self.delivered += 1
        if change.action == RESYNC:
            self.events.publish(ResyncNeeded(change.seq))
        else:
            self.events.publish(ChangeArrived(change.entity, change.id, change.action, change.actor, change.at,
                                              change.seq, written_here(self.db.engine.url, change.seq, change.at)))


def install(runtime) -> None:
    runtime.add(ChangeFeedService(runtime.desk.db, runtime.desk.events))
