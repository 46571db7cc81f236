"""``ChangeFollower``: one thread delivering other processes' (and this one's) changes.

SQLite: a dedicated connection polls ``PRAGMA data_version``, which moves only when another
connection committed; only then are the rows after the last seen id read. Ids come from
AUTOINCREMENT and SQLite commits one writer at a time, so they arrive in commit order and a gap
after the last seen id means rows were pruned before this follower read them.

PostgreSQL: a dedicated psycopg connection LISTENs (a NOTIFY is delivered on commit). After every
(re)connect it reads the rows it may have missed, from a little before the last seen id, since
ids from a sequence are handed out at insert and may commit out of order; a set of recently seen
ids drops what arrives twice. A lost connection is retried with backoff.

Either way, a follower whose last seen row was pruned (it was away longer than the retention),
or whose database was replaced by an older copy (a restored backup), gets one ``resync`` change
and continues from the newest row.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import make_url

from giftdesk.db import Database
from giftdesk.db.change_log import NOTIFY_CHANNEL, RETENTION, prune_change_log
from giftdesk.feed.changes import BOUNDS, RESYNC, ROWS_AFTER, Change, change_of, resync_change

log = logging.getLogger(__name__)

# 250 ms between polls keeps the worst wait for a change under a second with room for a slow
# read; an idle poll is one PRAGMA on an open connection.
POLL_INTERVAL = 0.25
# PostgreSQL waits on the socket for this many poll intervals (1 s by default) between stop checks.
LISTEN_WAIT_POLLS = 4
PRUNE_EVERY = 3600.0  # seconds; retention is days, so hourly is precise enough
BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)
# How far below the last seen id a PostgreSQL catch-up reads (transactions committing out of order).
LOOKBACK_IDS = 1000
_SEEN_LIMIT = 10_000
_BATCH = 1000


class _Reconnect(Exception):
    """Asked for by ``reconnect()``: open the dedicated connection afresh, at once."""


class ChangeFollower:
    """``callback(change)`` on the follower's thread for every change after ``after_id`` (default:
    from now on). ``start()``, then ``stop()``, which returns False if the thread did not end."""

    def __init__(self, db: Database, callback: Callable[[Change], None], *, after_id: int | None = None,
                 poll_interval: float = POLL_INTERVAL, prune: bool = False, retention: timedelta = RETENTION,
                 on_state: Callable[[str, str], None] | None = None):
        self.db = db
        self.callback = callback
        self.last_id = after_id
        # Never delivered: what was there before the follower started (a catch-up reads below it).
        self._floor = after_id
        self.backend_pid: int | None = None  # the PostgreSQL listener's server process
        self.poll_interval = poll_interval
        self.prune = prune
        self.retention = retention
        self.on_state = on_state or (lambda state, detail: None)
        self._stop = threading.Event()
        self._reconnect = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: set[int] = set()
        self._seen_order: deque[int] = deque()
        self._pruned_at = 0.0
        self.listening = threading.Event()  # set while caught up and waiting (tests wait for it)
        self.connections = 0  # how many times it (re)connected

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self) -> "ChangeFollower":
        self._thread = threading.Thread(target=self.run, name="change-follower", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> bool:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def reconnect(self) -> None:
        """After the database file was replaced (a damaged one restored by renaming a copy in), the
        dedicated connection still reads the old file: open a new one."""
        self._reconnect.set()

    def _check_reconnect(self) -> None:
        if self._reconnect.is_set():
            self._reconnect.clear()
            raise _Reconnect()

    def run(self, stop: threading.Event | None = None) -> None:
        """The follower's loop, on the caller's thread (a runtime service passes its stop event)."""
        if stop is not None:
            self._stop = stop
        attempt = 0
        while not self._stop.is_set():
            try:
                self.connections += 1
                if self.db.is_sqlite:
                    self._follow_sqlite()
                else:
                    self._follow_postgres()
                return
            except _Reconnect:
                continue
            except Exception as exc:  # a lost connection or a locked file: retry, later and later
                if self.listening.is_set():  # it had been following: start the backoff afresh
                    attempt = 0
                self.listening.clear()
                delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
                attempt += 1
                log.warning("The change feed lost its connection (%s); retrying in %.1f s", exc, delay)
                self.on_state("running", f"reconnecting: {exc}")
                self._stop.wait(delay)

    # ---- delivering ---------------------------------------------------------------------------
    def _deliver(self, change: Change) -> None:
        if change.action != RESYNC:
            if change.seq in self._seen or (self._floor is not None and change.seq <= self._floor):
                return
            self._seen.add(change.seq)
            self._seen_order.append(change.seq)
            if len(self._seen_order) > _SEEN_LIMIT:
                self._seen.discard(self._seen_order.popleft())
        self.last_id = max(self.last_id or 0, change.seq)
        try:
            self.callback(change)
        except Exception:  # one broken subscriber must not stop the feed
            log.exception("A change feed subscriber failed on %s", change)

    def _check_gap(self, cursor, gap_allowed: bool) -> None:
        """Resync when rows after the last seen id were pruned before they were read, or when the
        database was replaced by an older copy (a restored backup: its ids end below ours)."""
        lowest, highest = cursor.execute(BOUNDS).fetchone()
        if self.last_id is None:
            self.last_id = self._floor = highest or 0
            return
        if lowest is None:
            return
        replaced = highest < self.last_id
        # SQLite's ids have no gaps; PostgreSQL's do (rolled-back inserts), so there only a pruned
        # last seen row itself tells.
        if replaced or lowest > self.last_id + (0 if gap_allowed else 1):
            if replaced:
                self._seen.clear()
                self._seen_order.clear()
            self.last_id = self._floor = highest  # continue from the newest row
            self._deliver(resync_change(highest))

    def _read_after(self, cursor, after: int, placeholder: str) -> int:
        delivered = 0
        while not self._stop.is_set():
            rows = cursor.execute(ROWS_AFTER.format(p=placeholder, limit=_BATCH), (after,)).fetchall()
            for row in rows:
                self._deliver(change_of(row))
            delivered += len(rows)
            if len(rows) < _BATCH:
                return delivered
            after = rows[-1][0]
        return delivered

    def _maybe_prune(self) -> None:
        if not self.prune or (self._pruned_at and time.monotonic() - self._pruned_at < PRUNE_EVERY):
            return
        self._pruned_at = time.monotonic()
        try:
            with self.db.session() as session:
                pruned = prune_change_log(session, keep=self.retention)
            if pruned:
                log.info("Pruned %d change log rows older than %s", pruned, self.retention)
        except Exception:
            log.exception("Pruning the change log failed")

    # ---- SQLite -----------------------------------------------------------------------------
    def _follow_sqlite(self) -> None:
        connection = self.db.engine.raw_connection()  # WAL, busy timeout; autocommit (no open snapshot)
        try:
            cursor = connection.cursor()
            version = None
            self.on_state("running", "following the change log")
            while not self._stop.is_set():
                self._check_reconnect()
                self._maybe_prune()
                current = cursor.execute("PRAGMA data_version").fetchone()[0]
                if current != version:
                    self._check_gap(cursor, gap_allowed=False)
                    version = current
                    self._read_after(cursor, self.last_id, "?")
                self.listening.set()
                self._stop.wait(self.poll_interval)
        finally:
            self.listening.clear()
            connection.close()

    # ---- PostgreSQL ---------------------------------------------------------------------------
    def _follow_postgres(self) -> None:
        import psycopg

        url = make_url(self.db.url).set(drivername="postgresql")
        connection = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True,
                                     connect_timeout=10)
        try:
            self.backend_pid = connection.info.backend_pid
            connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
            cursor = connection.cursor()
            # Caught up after LISTEN: what commits meanwhile is both read and notified (seen once).
            self._check_gap(cursor, gap_allowed=True)
            self._read_after(cursor, max(self._floor, self.last_id - LOOKBACK_IDS), "%s")
            self.on_state("running", "listening for changes")
            self.listening.set()
            while not self._stop.is_set():
                self._check_reconnect()
                self._maybe_prune()
                # A notification ends the wait at once; the timeout only bounds how late a stop is seen.
                for notification in connection.notifies(timeout=self.poll_interval * LISTEN_WAIT_POLLS):
                    self._on_notification(cursor, notification.payload)
                    if self._stop.is_set():
                        break
        finally:
            self.listening.clear()
            try:
                connection.close()
            except Exception:
                pass

    def _on_notification(self, cursor, payload: str) -> None:
        try:
            fields = json.loads(payload)
            seq = int(fields["seq"])
        except (ValueError, KeyError, TypeError):
            log.warning("An unreadable change notification was ignored: %.200s", payload)
            return
        if seq in self._seen:
            return
        if "entity" not in fields:  # too long to notify whole: read the row
            self._read_after(cursor, seq - 1, "%s")
            return
        self._deliver(change_of((seq, fields["entity"], str(fields["id"]), fields["action"], fields["actor"],
                                 fields["at"])))
