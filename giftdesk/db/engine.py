"""Engine and session set-up shared by the GUI, the CLI and the endpoint.

SQLite runs in WAL mode with foreign keys on and ``synchronous=FULL``: a commit has reached the
disk (fsync of the WAL) when it returns, so a write a tracker was told is saved survives a power
cut, not only a crash of the process. The endpoint keeps its throughput with group commit. Write sessions start with ``BEGIN IMMEDIATE`` so two
writers (the console and the endpoint thread) queue on the busy timeout instead of failing
with a stale-snapshot error halfway through a transaction; read sessions use a plain ``BEGIN``.

A full disk or a damaged file, wherever SQLAlchemy meets it (connecting, a query, a commit),
is raised as ``DiskFullError`` / ``DatabaseDamagedError``: one sentence for every front end.
"""

from __future__ import annotations

import copy
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from giftdesk.core.context import ACTOR_KEY
from giftdesk.core.errors import DatabaseDamagedError
from giftdesk.core.storage import check_verdict, storage_error

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.orm import Session

_READ_OPTION = "giftdesk_read_only"
_ONE_STATEMENT_OPTION = "giftdesk_one_statement"
# Files up to this size are read whole at the window's and serve's start-up (about 1 s from a
# cold, slow disk; a few hundredths of a second from the page cache).
QUICK_CHECK_LIMIT = 64 * 1024 * 1024


def _prepare_sqlite_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Created owner-only before SQLite touches it; SQLite gives -wal/-shm the same mode.
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


# The URL every data directory has (``sqlite:///<path>``): read without importing SQLAlchemy.
_PLAIN_SQLITE_URL = re.compile(r"sqlite(\+pysqlite)?:///(?P<path>[^?%]+)")


def is_sqlite_url(url: str) -> bool:
    return url.partition(":")[0].partition("+")[0] == "sqlite"


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for another database or an in-memory one."""
    plain = _PLAIN_SQLITE_URL.fullmatch(url)
    if plain is not None:
        return None if plain["path"] == ":memory:" else Path(plain["path"])
    from sqlalchemy.engine import make_url  # any other URL: parsed (and a malformed one refused) as ever

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_engine(url: str) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True, future=True)

        @event.listens_for(engine, "handle_error")
        def _on_server_error(context):
            problem = storage_error(context.original_exception, None, None)
            if problem is not None:  # the server's disk is full: one sentence, as for a file
                raise problem from context.original_exception

        return engine

    path = sqlite_file(url)
    if path is not None:
        _prepare_sqlite_file(path)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 10},
        future=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: durable at commit (NORMAL in WAL mode may lose the last commits to an OS crash).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        options = connection.get_execution_options()
        if options.get(_ONE_STATEMENT_OPTION, False):
            return  # autocommit: the statement is its own (read) transaction
        connection.exec_driver_sql("BEGIN" if options.get(_READ_OPTION, False) else "BEGIN IMMEDIATE")

    if path is not None:
        @event.listens_for(engine, "handle_error")
        def _on_error(context):
            problem = storage_error(context.original_exception, path, path.parent)
            if problem is not None:
                raise problem from context.original_exception

    return engine


class _Engine:
    """The SQLAlchemy engine and session factories of one URL, made on first use (SQLAlchemy's
    import is most of a start-up that a first read of a SQLite file does not need)."""

    def __init__(self, url: str):
        self.url = url
        self._lock = threading.Lock()
        self._made: tuple | None = None

    @property
    def made(self) -> bool:
        return self._made is not None

    def get(self) -> tuple:
        made = self._made
        if made is None:
            with self._lock:
                if self._made is None:
                    from sqlalchemy.orm import sessionmaker

                    from giftdesk.db.change_log import install_change_recording

                    engine = make_engine(self.url)
                    write_sessions = sessionmaker(engine, expire_on_commit=False)
                    install_change_recording(write_sessions)
                    read_sessions = sessionmaker(engine.execution_options(**{_READ_OPTION: True}),
                                                 expire_on_commit=False)
                    self._made = (engine, write_sessions, read_sessions)
                made = self._made
        return made


class Database:
    """One database: engine, session factories, and what kind it is.

    For a SQLite file the engine is made when first used (the file itself, owner-only, at once):
    the window's first paint reads the file without SQLAlchemy (``sqlite_reading``)."""

    def __init__(self, url: str):
        self.url = url
        self.actor_name: str | None = None  # who the change log names for this handle's writes
        self._engine = _Engine(url)  # shared by every acting_as copy
        path = sqlite_file(url)
        if path is not None:
            _prepare_sqlite_file(path)
        else:  # a server (or memory): made now, so a bad URL or a missing driver is said at once
            self._engine.get()

    @property
    def engine(self) -> Engine:
        return self._engine.get()[0]

    @property
    def _write_sessions(self):
        return self._engine.get()[1]

    @property
    def _read_sessions(self):
        return self._engine.get()[2]

    def acting_as(self, actor_name: str) -> "Database":
        """The same database (engine, pool, sessions), its writes recorded in the change log as
        ``actor_name``'s: each ServiceContext holds one, so no service has to pass its actor on."""
        other = copy.copy(self)
        other.actor_name = actor_name
        return other

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite_url(self.url)

    @property
    def sqlite_path(self) -> Path | None:
        return sqlite_file(self.url)

    @property
    def display_name(self) -> str:
        """What the status bar shows: a path for SQLite, the URL without password otherwise."""
        if self.sqlite_path:
            return str(self.sqlite_path)
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on any exception."""
        with self._write_sessions() as session, session.begin():
            if self.actor_name is not None:
                session.info[ACTOR_KEY] = self.actor_name
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        with self._read_sessions() as session, session.begin():
            yield session

    @contextmanager
    def one_statement_read(self) -> Iterator[Connection]:
        """A connection for ONE read statement, outside any transaction: a single SELECT reads one
        consistent snapshot on its own (SQLite and PostgreSQL alike), so ``read_session``'s BEGIN
        and ROLLBACK would only add two round trips (on SQLite, two more waits for the GIL while
        other threads run). Never for two statements that must agree with each other."""
        options = {_ONE_STATEMENT_OPTION: True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"}
        with self.engine.connect() as connection:
            connection.execution_options(**options)
            yield connection

    @staticmethod
    def add_audit_entry(session: Session, **fields) -> None:
        """One audit row in the caller's transaction (``ServiceContext.audit``: core/ names no model)."""
        from giftdesk.db.models import AuditEntry

        session.add(AuditEntry(**fields))

    def check_integrity(self) -> None:
        """``PRAGMA quick_check`` of a SQLite file: DatabaseDamagedError if it finds damage.

        It reads every page: for 275 MB, 0.19 s from the page cache but 4.7 s from a cold VM disk.
        So only the long-lived front ends (the window, ``serve``) run it at start-up, and only on
        files up to QUICK_CHECK_LIMIT; elsewhere damage is reported where a query meets it.
        """
        path = self.sqlite_path
        try:
            if path is None or path.stat().st_size > QUICK_CHECK_LIMIT:
                return
        except OSError:  # not there yet: the first connection creates it
            return
        with sqlite_reading(path) as connection:
            finding = check_verdict(connection.execute("PRAGMA quick_check(1)").fetchone()[0])
        if finding is not None:
            raise DatabaseDamagedError(path, finding)

    def dispose(self) -> None:
        if self._engine.made:
            self.engine.dispose()


@contextmanager
def sqlite_reading(path: Path):
    """A plain ``sqlite3`` connection to read ``path`` before SQLAlchemy is loaded (start-up), with
    a damaged file or a full disk raised as their sentence, as the engine raises them."""
    import sqlite3

    try:
        connection = sqlite3.connect(path, timeout=10, check_same_thread=False)
    except sqlite3.Error as exc:
        problem = storage_error(exc, path, path.parent)
        raise (problem or exc) from exc
    try:
        yield connection
    except sqlite3.Error as exc:
        problem = storage_error(exc, path, path.parent)
        if problem is None:
            raise
        raise problem from exc
    finally:
        connection.close()
