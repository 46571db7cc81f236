"""``Change`` records and reading them from ``change_log``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select

from giftdesk.db import Database
from giftdesk.db.change_log import ChangeLogEntry

RESYNC = "resync"  # the action of the one change a follower gets when it missed pruned changes


@dataclass(frozen=True)
class Change:
    entity: str
    id: Any  # an int for records, the key for a setting, None for a resync
    action: str
    actor: str
    at: datetime
    seq: int

    def to_json(self) -> dict[str, Any]:
        return {"entity": self.entity, "id": self.id, "action": self.action, "actor": self.actor,
                "at": self.at.isoformat(), "seq": self.seq}

    def line(self) -> str:
        """One readable line, like ``docker events``."""
        if self.action == RESYNC:
            return f"{self.at.isoformat(timespec='seconds')} changes were missed: reload everything (seq {self.seq})"
        return (f"{self.at.isoformat(timespec='seconds')} {self.entity} {self.id} {self.action} "
                f"by {self.actor} (seq {self.seq})")


def _entity_id(text: str) -> Any:
    return int(text) if text.isdigit() else text


def _utc(value: Any) -> datetime:
    """A stored naive-UTC time: a datetime from psycopg, ISO text from a raw SQLite connection."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def change_of(row) -> Change:
    """From a row (id, entity, entity_id, action, actor, at)."""
    seq, entity, entity_id, action, actor, at = row
    return Change(entity, _entity_id(entity_id), action, actor, _utc(at), int(seq))


def resync_change(seq: int) -> Change:
    return Change("*", None, RESYNC, "system", datetime.now(timezone.utc), seq)


ROWS_AFTER = ("SELECT id, entity, entity_id, action, actor, at FROM change_log WHERE id > {p} "
              "ORDER BY id LIMIT {limit}")
# Two subqueries: SQLite answers a lone min() or max() from the primary key, but scans the whole
# table for both in one SELECT.
BOUNDS = "SELECT (SELECT min(id) FROM change_log), (SELECT max(id) FROM change_log)"


def read_changes_since(db: Database, since: datetime, limit: int = 100_000) -> tuple[list[Change], int]:
    """Changes at or after ``since``, oldest first, and the newest id (to follow on from)."""
    c = ChangeLogEntry
    with db.read_session() as session:
        rows = session.execute(select(c.id, c.entity, c.entity_id, c.action, c.actor, c.at)
                               .where(c.at >= since).order_by(c.id).limit(limit)).all()
        head = session.execute(select(func.max(c.id))).scalar() or 0
    return [change_of(r) for r in rows], head
