"""The endpoint's writer thread: hands POST bodies to their route's ``write`` in groups.

A tracker is told "saved" only once its write is durable (SQLite runs ``synchronous=FULL``, so
every commit is an fsync). To keep the throughput of one fsync per write out of the way, writes
that arrive together share a commit: the thread takes every write waiting in its queue (up to
``max_group``), hands them to the route's ``write`` (the tracker routes': decode, validate and
``TrackerGateway.save_group`` as one transaction, ``giftdesk.accounts.http``) and answers each
of them after that commit. A write that breaks a rule gets its 400 without touching the others;
a database error in a group makes the gateway redo that group one write at a time, so only the
write that caused it fails. Decoding runs here too, never on the event loop.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Any

from giftdesk.endpoint.http11 import server_error

DEFAULT_MAX_GROUP = 256


class GroupWriter:
    """One thread; ``submit`` runs on the event loop and returns a future of (status, body)."""

    def __init__(self, write: Callable[[list[tuple[Any, str, bytes]]], tuple[list, int]], *,
                 max_group: int = DEFAULT_MAX_GROUP):
        """``write``: a route's (``giftdesk.core.routes``): per write ``(status, body)`` or
        ``(exception, what was being done)``, and how many transactions committed."""
        if max_group < 1:
            raise ValueError("max_group must be at least 1.")
        self.write = write
        self.max_group = max_group
        self.loop: asyncio.AbstractEventLoop | None = None
        self.groups_committed = 0  # counters for the benchmark and the stats
        self.writes_committed = 0
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._thread = threading.Thread(target=self._run, name="endpoint-writer", daemon=True)
        self._thread.start()

    def submit(self, principal: Any, kind: str, raw: bytes | bytearray) -> asyncio.Future:
        future = self.loop.create_future()
        self._queue.put((future, principal, kind, raw))
        return future

    def shutdown(self, wait: bool = True) -> None:
        """Commits what was handed over, then ends the thread."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._queue.put(None)
        if wait:
            thread.join()

    # ---- the writer thread -------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            group = [item]
            stop = False
            while len(group) < self.max_group:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                group.append(item)
            self._commit(group)
            if stop:
                return

    def _commit(self, group: list[tuple]) -> None:
        writes = [(principal, kind, raw) for _future, principal, kind, raw in group]
        try:
            results, transactions = self.write(writes)
        except Exception as exc:  # the route answers per write; this is a bug or a dead database
            results = [(exc, f"saving {kind} for account {principal}") for principal, kind, _raw in writes]
            transactions = 0
        answers = [result if type(result[0]) is int else server_error(*result) for result in results]
        self.groups_committed += transactions
        self.writes_committed += sum(status == 200 for status, _ in answers)
        delivery = [(entry[0], answer) for entry, answer in zip(group, answers)]
        try:
            self.loop.call_soon_threadsafe(_deliver, delivery)
        except RuntimeError:
            pass  # the loop is gone (stop timed out): nobody is waiting for these answers


def _deliver(delivery: list[tuple[asyncio.Future, tuple[int, bytes]]]) -> None:
    for future, answer in delivery:
        if not future.done():
            future.set_result(answer)
