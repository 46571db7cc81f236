"""The endpoint's writer thread: decodes tracker POST bodies and commits them in groups.

A tracker is told "saved" only once its write is durable (SQLite runs ``synchronous=FULL``, so
every commit is an fsync). To keep the throughput of one fsync per write out of the way, writes
that arrive together share a commit: the thread takes every write waiting in its queue (up to
``max_group``), hands them to ``TrackerGateway.save_group`` as one transaction and answers each
of them after that commit. A write that breaks a rule gets its 400 without touching the others;
a database error in a group makes the gateway redo that group one write at a time, so only the
write that caused it fails.
"""

from __future__ import annotations

import asyncio
import json
import math
import queue
import threading
from typing import Any

from giftdesk.endpoint.protocol import error_body, server_error
from giftdesk.core.errors import NotFoundError, ValidationError
from giftdesk.accounts.tracker_data import MAX_DEPTH, NESTED_TOO_DEEPLY, check_depth

DEFAULT_MAX_GROUP = 256
MAX_INT_DIGITS = 4300  # Python's default int-from-text limit: what the endpoint always accepted


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows; numbers must be finite")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses to inf, which could never be written back as JSON
        raise ValueError(f"{text} is too large for a number; numbers must be finite")
    return value


def _bounded_int(text: str) -> int:
    # int() past Python's digit limit fails with a hint about sys.set_int_max_str_digits: say it plainly
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise ValueError(f"a number with {digits} digits is too long; numbers may have at most "
                         f"{MAX_INT_DIGITS} digits")
    return int(text)


def decode_body(raw: bytes | bytearray) -> Any:
    """The JSON document of a POST body; ValidationError (field ``body``) says what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"The request body is not valid UTF-8 (byte {exc.start}).", field="body") from None
    if not text.strip():
        raise ValidationError("The request body must be a JSON object.", field="body")
    try:
        document = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float,
                              parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"The request body is not valid JSON: {exc.msg} (line {exc.lineno}, "
                              f"column {exc.colno}).", field="body") from None
    except RecursionError:
        raise ValidationError(NESTED_TOO_DEEPLY, field="body") from None
    except ValueError as exc:  # NaN/Infinity/1e400, integers past MAX_INT_DIGITS
        raise ValidationError(f"The request body is not valid JSON: {exc}.", field="body") from None
    check_depth(document, MAX_DEPTH)
    if "\\u" in text or "\\U" in text:
        try:  # "\ud800" parses to a lone surrogate, which could never be encoded back
            json.dumps(document, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("The request body contains an unpaired UTF-16 surrogate escape.",
                                  field="body") from None
    return document


def answer_for(result: bytes | BaseException, account_id: int, data_type: str) -> tuple[int, bytes]:
    """(status, body) for what ``save_group`` returned for one write."""
    if isinstance(result, bytes):
        return 200, result
    if isinstance(result, ValidationError):
        return 400, error_body(str(result), result.field or "body")
    if isinstance(result, NotFoundError):
        return 404, error_body(str(result))
    if isinstance(result, RecursionError):
        return 400, error_body(NESTED_TOO_DEEPLY, "body")
    return server_error(result, f"saving {data_type} for account {account_id}")


class GroupWriter:
    """One thread; ``submit`` runs on the event loop and returns a future of (status, body)."""

    def __init__(self, gateway, *, max_group: int = DEFAULT_MAX_GROUP):
        if max_group < 1:
            raise ValueError("max_group must be at least 1.")
        self.gateway = gateway
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

    def submit(self, account_id: int, data_type: str, raw: bytes | bytearray) -> asyncio.Future:
        future = self.loop.create_future()
        self._queue.put((future, account_id, data_type, raw))
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
        answers: list[tuple[int, bytes] | None] = [None] * len(group)
        writes: list[tuple[int, str, Any]] = []
        positions: list[int] = []
        for index, (_future, account_id, data_type, raw) in enumerate(group):
            try:
                writes.append((account_id, data_type, decode_body(raw)))
                positions.append(index)
            except ValidationError as exc:
                answers[index] = (400, error_body(str(exc), exc.field or "body"))
        if writes:
            try:
                results: list[Any] = self.gateway.save_group(writes)
            except Exception as exc:  # save_group answers per write; this is a bug or a dead database
                results = [exc] * len(writes)
            for index, (account_id, data_type, _document), result in zip(positions, writes, results):
                answers[index] = answer_for(result, account_id, data_type)
            self.groups_committed += 1
            self.writes_committed += sum(isinstance(result, bytes) for result in results)
        delivery = [(entry[0], answer) for entry, answer in zip(group, answers)]
        try:
            self.loop.call_soon_threadsafe(_deliver, delivery)
        except RuntimeError:
            pass  # the loop is gone (stop timed out): nobody is waiting for these answers


def _deliver(delivery: list[tuple[asyncio.Future, tuple[int, bytes]]]) -> None:
    for future, answer in delivery:
        if not future.done():
            future.set_result(answer)
