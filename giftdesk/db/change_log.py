"""The change log: one row per changed record, written in the same transaction as the change.

Other processes on the same database follow it (``giftdesk/feed``) to see each other's changes
without a manual refresh. Recording is generic, from Session events on the write sessions, so no
service has to remember it: every flushed insert, update or delete of a tracked mapped class is
collected after each flush, then written (one row per record, collapsed per transaction) just
before the commit. On PostgreSQL each row is also announced with ``pg_notify``, which the server
delivers only when the transaction commits, so a rollback announces nothing.

The actor is who the write session acts for: each ServiceContext's database handle names its
actor (``Database.acting_as``), and an audit entry names it too; writes made outside any service
(start-up, the tracker endpoint's own bookkeeping) are recorded as ``system``.

ORM bulk UPDATEs by primary key are recorded too; statements that name no rows (WHERE-based
UPDATE/DELETE, Core statements on a connection) call ``note_change`` themselves where their change
is one a console should see.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, Integer, String, delete, event, func, insert, inspect, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from giftdesk.core.context import ACTOR_KEY
from giftdesk.db.models import Base
from giftdesk.db.types import UTCDateTime, utcnow

NOTIFY_CHANNEL = "giftdesk_changes"
RETENTION = timedelta(days=7)
ACTIONS = ("created", "updated", "deleted")
_PENDING_KEY = "giftdesk_pending_changes"
_TABLE_KNOWN_KEY = "giftdesk_change_log_exists"
_schema_epoch = [0]
_SYSTEM_ACTOR = "system"
_PAYLOAD_LIMIT = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more


class ChangeLogEntry(Base):
    __tablename__ = "change_log"
    # AUTOINCREMENT on SQLite: ids are never reused after pruning, so a gap means rows were missed.
    __table_args__ = (Index("ix_change_log_at", "at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(100), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


# "alert": noted by the alerts when one opens (not its every update), so consoles attached to the
# runtime that opened it can tell it too.
ENTITIES = ("account", "alert", "company", "customer", "instance", "invoice", "key", "order", "setting",
            "social_profile")
_tracked: dict[type, tuple[str, str, bool]] = {}


def tracked_classes() -> dict[type, tuple[str, str, bool]]:
    """class -> (entity name, the attribute naming the record, whether it is a child row). A child
    (an invoice line, a platform's figures) reports its parent as updated. Made on first use: the
    model modules import this one (for its table) before they are complete."""
    if not _tracked:
        from giftdesk.db.fampage_models import Company, FampageOrder, Invoice, InvoiceLine
        from giftdesk.db.fleet_models import Instance
        from giftdesk.db.models import AccountLegacyId, Customer, Setting, TikTokAccount, TrackerCredential
        from giftdesk.db.social_models import SocialPlatformStat, SocialProfile

        _tracked.update({
            Customer: ("customer", "id", False),
            TikTokAccount: ("account", "id", False),
            AccountLegacyId: ("account", "account_id", True),  # the old id an imported account keeps
            TrackerCredential: ("key", "account_id", False),  # one key per account: named by its account
            Instance: ("instance", "id", False),
            FampageOrder: ("order", "id", False),
            Invoice: ("invoice", "id", False),
            InvoiceLine: ("invoice", "invoice_id", True),
            Company: ("company", "id", False),
            SocialProfile: ("social_profile", "id", False),
            SocialPlatformStat: ("social_profile", "profile_id", True),
            Setting: ("setting", "key", False),
        })
    return _tracked


def note_change(session: Session, entity: str, entity_id: Any, action: str) -> None:
    """Record a change the ORM does not see (a Core UPDATE), in the session's transaction."""
    if action not in ACTIONS:
        raise ValueError(f"unknown change action {action!r}")
    pending: dict = session.info.setdefault(_PENDING_KEY, {})
    key = (entity, str(entity_id))
    before = pending.get(key)
    # created then updated stays created; anything then deleted is deleted.
    if before is None or action == "deleted" or (before != "created" and action == "created"):
        pending[key] = action


def _collect(session: Session, _flush_context) -> None:
    tracked_of = tracked_classes()
    for objects, action in ((session.new, "created"), (session.dirty, "updated"), (session.deleted, "deleted")):
        for obj in objects:
            tracked = tracked_of.get(type(obj))
            if tracked is None:
                continue
            entity, attribute, is_child = tracked
            if action == "updated" and not session.is_modified(obj, include_collections=False):
                continue
            record_id = getattr(obj, attribute, None)
            if record_id is None:
                continue
            note_change(session, entity, record_id, "updated" if is_child else action)


def _collect_bulk(state) -> None:
    """ORM bulk UPDATE by primary key (``session.execute(update(Order), [{"id": 1, …}, …])``): each
    row given is a change. A WHERE-based bulk statement names no rows; its caller notes them."""
    if not state.is_update or state.bind_mapper is None or not isinstance(state.parameters, list):
        return
    tracked = tracked_classes().get(state.bind_mapper.class_)
    if tracked is None:
        return
    entity, attribute, is_child = tracked
    for row in state.parameters:
        if isinstance(row, dict) and row.get(attribute) is not None:
            note_change(state.session, entity, row[attribute], "updated")


def _write(session: Session) -> None:
    session.flush()  # the last objects' ids and changes are collected by _collect
    pending = session.info.pop(_PENDING_KEY, {})
    if not pending:
        return
    actor = str(session.info.get(ACTOR_KEY) or _SYSTEM_ACTOR)[:100]
    at = utcnow()
    connection = session.connection()
    if not _has_change_log(connection):
        return
    notify = connection.dialect.name == "postgresql"
    for (entity, entity_id), action in pending.items():
        seq = connection.execute(insert(ChangeLogEntry).values(
            entity=entity, entity_id=entity_id[:100], action=action, actor=actor, at=at)
            .returning(ChangeLogEntry.id)).scalar_one()
        _written_here_in(connection.engine.url).add(_mark(seq, at))
        if notify:
            payload = json.dumps({"entity": entity, "id": entity_id, "action": action, "actor": actor,
                                  "at": at.isoformat(), "seq": seq})
            if len(payload.encode()) > _PAYLOAD_LIMIT:  # listeners read the row itself by seq
                payload = json.dumps({"seq": seq})
            connection.execute(text("SELECT pg_notify(:channel, :payload)"),
                               {"channel": NOTIFY_CHANNEL, "payload": payload})


def _mark(seq: int, at: datetime) -> tuple[int, int]:
    """A change row told apart from another with the same id: ids start again in a database that was
    restored or recreated, so the time (to the microsecond) goes with it."""
    return seq, round(at.timestamp() * 1_000_000)


class _RecentSeqs:
    """The change rows this process wrote (the newest ``size``), as ``_mark``s: its own changes reached
    its views through its events already, so the feed tells them apart. A rolled-back row is never
    read back, so remembering it is harmless."""

    def __init__(self, size: int = 10_000):
        self._order: deque[int] = deque()
        self._ids: set[int] = set()
        self._size = size
        self._lock = threading.Lock()

    def add(self, seq) -> None:
        with self._lock:
            self._ids.add(seq)
            self._order.append(seq)
            if len(self._order) > self._size:
                self._ids.discard(self._order.popleft())

    def __contains__(self, seq) -> bool:
        with self._lock:
            return seq in self._ids


_WRITTEN_HERE: dict[str, _RecentSeqs] = {}  # per database: ids are the database's own
_WRITTEN_HERE_LOCK = threading.Lock()


def _written_here_in(url) -> _RecentSeqs:
    key = url.render_as_string(hide_password=True)
    with _WRITTEN_HERE_LOCK:
        return _WRITTEN_HERE.setdefault(key, _RecentSeqs())


def written_here(url, seq: int, at: datetime) -> bool:
    """Whether this process wrote change ``seq`` (made at ``at``) of the database at ``url``, among
    its recent ones."""
    return _mark(seq, at) in _written_here_in(url)


def _has_change_log(connection) -> bool:
    """False on a database not yet migrated to the change log. Asked once per pooled connection
    and schema change (a migration in this process may add or drop the table)."""
    known = connection.info.get(_TABLE_KNOWN_KEY)
    if known is not None and known[0] == _schema_epoch[0]:
        return known[1]
    found = inspect(connection).has_table(ChangeLogEntry.__tablename__)
    connection.info[_TABLE_KNOWN_KEY] = (_schema_epoch[0], found)
    return found


def schema_changed() -> None:
    """Called by the migration environment: every connection checks for the table again."""
    _schema_epoch[0] += 1


def _forget(session: Session, _previous=None) -> None:
    session.info.pop(_PENDING_KEY, None)
    session.info.pop(ACTOR_KEY, None)


def install_change_recording(sessions) -> None:
    """Record tracked changes made through ``sessions`` (a sessionmaker)."""
    event.listen(sessions, "after_flush", _collect)
    event.listen(sessions, "do_orm_execute", _collect_bulk)
    event.listen(sessions, "before_commit", _write)
    event.listen(sessions, "after_rollback", _forget)
    event.listen(sessions, "after_commit", _forget)


def prune_change_log(session: Session, now: datetime | None = None, keep: timedelta = RETENTION) -> int:
    """Delete rows older than ``keep``; returns how many."""
    cutoff = (now or utcnow()) - keep
    return session.execute(delete(ChangeLogEntry).where(ChangeLogEntry.at < cutoff)).rowcount or 0


def oldest_change_id(session: Session) -> int | None:
    return session.execute(select(func.min(ChangeLogEntry.id))).scalar()
