"""The fleet's operation journal (``instance_operations``) and the crash test hook.

A multi-step fleet operation writes its entry in a committed transaction before it touches the
engine, moves its ``step`` on after each engine step and deletes the entry in the transaction of
its final record change. An entry whose owner process is gone is ABANDONED: ``FleetService.recover``
finishes or rolls it back. A live owner's entry (another thread of the window, another CLI) is
never touched.
"""

from __future__ import annotations

import os
import signal
import socket
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from giftdesk.db.fleet_models import InstanceOperation
from giftdesk.db.types import utcnow
from giftdesk.core.processes import process_start, same_process

FAILPOINT_ENV = "GIFTDESK_FAILPOINT"
_FAILPOINT = os.environ.get(FAILPOINT_ENV) or None
# Another host's process cannot be asked whether it lives: its entry is abandoned once it has not
# moved for this long (a step is one engine call; the longest, a container's start, takes seconds).
OTHER_HOST_ABANDONED_AFTER = timedelta(minutes=5)
RELEASED_PID = 0  # an owner gave its entry up for recovery (its rollback failed)


def failpoint(name: str) -> None:
    """Test hook: when the environment variable GIFTDESK_FAILPOINT names this step (read once at
    import), the process kills itself with SIGKILL right here, as a crash or ``kill -9`` would.
    The crash tests run the CLI once per named step. Unset, this is one comparison."""
    if _FAILPOINT is not None and _FAILPOINT == name:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


@dataclass(frozen=True)
class Owner:
    """A process: host, pid and its start time (a reused pid is another process)."""

    host: str
    pid: int
    started: str

    @classmethod
    def me(cls) -> "Owner":
        return cls(socket.gethostname(), os.getpid(), process_start(os.getpid()) or "")

    def is_alive(self, updated_at, now=None) -> bool:
        if self.pid == RELEASED_PID:
            return False
        if self.host != socket.gethostname():
            return (now or utcnow()) - updated_at < OTHER_HOST_ABANDONED_AFTER
        return same_process(self.pid, self.started)


def owner_of(entry: InstanceOperation) -> Owner:
    return Owner(entry.owner_host, entry.owner_pid, entry.owner_started or "")


class Journal:
    def __init__(self, db):
        self.db = db
        self.me = Owner.me()

    def add(self, session, kind: str, uid: str, instance_id: int | None = None, **fields) -> InstanceOperation:
        """An entry in the caller's transaction (``session.flush()`` gives its id)."""
        entry = InstanceOperation(kind=kind, instance_uid=uid, instance_id=instance_id,
                                  step=fields.pop("step", "begun"), owner_host=self.me.host,
                                  owner_pid=self.me.pid, owner_started=self.me.started, **fields)
        session.add(entry)
        return entry

    def begin(self, kind: str, uid: str, instance_id: int | None = None, **fields) -> int:
        """An entry in a transaction of its own, committed before the caller touches the engine."""
        with self.db.session() as session:
            entry = self.add(session, kind, uid, instance_id, **fields)
            session.flush()
            return entry.id

    def step(self, entry_id: int, step: str, **fields) -> None:
        with self.db.session() as session:
            session.execute(update(InstanceOperation).where(InstanceOperation.id == entry_id)
                            .values(step=step, updated_at=utcnow(), **fields))

    @staticmethod
    def finish(session, entry_id: int) -> None:
        """Deleted in the transaction of the operation's final record change."""
        session.execute(delete(InstanceOperation).where(InstanceOperation.id == entry_id))

    def drop(self, entry_id: int) -> None:
        with self.db.session() as session:
            self.finish(session, entry_id)

    def release(self, entry_id: int) -> None:
        """Give the entry up for recovery now (the owner could not finish or undo it)."""
        with self.db.session() as session:
            session.execute(update(InstanceOperation).where(InstanceOperation.id == entry_id)
                            .values(owner_pid=RELEASED_PID, owner_started="", updated_at=utcnow()))

    def pending(self) -> bool:
        """One cheap query: is there any entry at all?"""
        with self.db.read_session() as session:
            return session.scalar(select(InstanceOperation.id).limit(1)) is not None

    def entries(self) -> list[InstanceOperation]:
        with self.db.read_session() as session:
            found = list(session.scalars(select(InstanceOperation).order_by(InstanceOperation.id)))
            session.expunge_all()
            return found

    def busy_uids(self) -> set[str]:
        """Instances an operation is under way for (or waits for recovery): nobody else judges them."""
        with self.db.read_session() as session:
            return set(session.scalars(select(InstanceOperation.instance_uid)))

    def abandoned(self) -> list[InstanceOperation]:
        now = utcnow()
        return [e for e in self.entries() if not owner_of(e).is_alive(e.updated_at, now)]

    def claim(self, entry: InstanceOperation) -> bool:
        """Take an abandoned entry over (only if nobody else did meanwhile): one conditional update."""
        with self.db.session() as session:
            result = session.execute(
                update(InstanceOperation)
                .where(InstanceOperation.id == entry.id, InstanceOperation.owner_host == entry.owner_host,
                       InstanceOperation.owner_pid == entry.owner_pid,
                       InstanceOperation.owner_started == entry.owner_started)
                .values(owner_host=self.me.host, owner_pid=self.me.pid, owner_started=self.me.started,
                        updated_at=utcnow()))
            return result.rowcount == 1
