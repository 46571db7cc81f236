"""HTTP/1.1 framing for the tracker endpoint: one ``asyncio.Protocol`` per connection, apart from
what is routed (``giftdesk.endpoint.protocol`` routes, checks keys and hands work on).

The head is found with one ``find(b"\\r\\n\\r\\n")`` and checked and split by two compiled regular
expressions; answers are written from pre-encoded pieces. Nothing is logged per request.

Taking turns (a client that pipelines thousands of requests must not starve the others):

* a connection answers at most ``_BATCH`` requests per turn (``_BATCH_UNAUTHENTICATED`` until
  it has sent a valid key); what is left of the bytes it read
  waits (reading paused) while the loop serves everyone else, then it gets its next turn;
* the answers of one turn leave in one ``transport.write``; once the transport holds more than
  ``_WRITE_HIGH`` unsent bytes (a client that does not read), the connection stops answering and
  stops reading until the client has caught up, so what is buffered per connection is bounded;
* a connection whose transport is closing (reset by the client) is dropped at once: no further
  request is parsed and nothing more is written to it (asyncio would log every such write).

Framing decisions, for the record:

* ``Content-Length`` bodies up to ``max_body`` (1 MiB, or the route's own smaller limit); a
  larger declared length is answered 413 at once, without reading the body, and the connection
  is closed.
* ``Transfer-Encoding: chunked`` request bodies are decoded into one buffer (same limit, 413 as
  soon as the decoded size passes it). Trailer lines are checked like header lines and then
  dropped. Any other transfer coding, or both ``Transfer-Encoding`` and ``Content-Length``, is a
  400 and closes the connection.
* ``Expect: 100-continue`` gets an interim 100 once the request has passed routing, the key check
  and the rate limit (for a route whose key is checked once the body is in: routing and the body
  limit); a rejected request gets its final answer instead and the connection closes.
* ``HEAD`` is answered wherever ``GET`` is (same status and headers, no body); ``OPTIONS`` is a
  204 with ``Allow`` and needs no key. Other methods on a known route: 405 with ``Allow``.
* Malformed request lines or header lines, control characters in header values, trailers or
  chunk extensions, a missing or repeated ``Host`` in HTTP/1.1: 400 and close. A head over
  16 KiB: 431 and close. ``HTTP/x.y`` other than 1.0 and 1.1: 505 and close (the only 5xx client
  input can cause). ``Content-Type`` is not checked (bodies must be JSON).
* Connections that are closed because of an error are closed gracefully: the answer is sent,
  then our side shuts down and whatever the client still sends is read and dropped for a moment,
  so the client sees the answer instead of a connection reset.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from giftdesk.endpoint.server import ServerState

log = logging.getLogger(__name__)

MAX_HEAD = 16 * 1024
MAX_BODY = 1024 * 1024
_HOLD_LIMIT = 256 * 1024  # bytes buffered behind a busy request before reading pauses
_MAX_CHUNK_LINE = 4096
_BATCH = 32  # requests one connection answers per turn before the others get theirs
_BATCH_UNAUTHENTICATED = 4  # ... before it has sent a valid key (a /health pipeliner gets little)
_CORK_LIMIT = 64 * 1024  # answers of a turn are written together, at the latest past this size
_WRITE_HIGH = 64 * 1024  # unsent bytes in the transport past which a connection stops answering
_WRITE_LOW = 16 * 1024

REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
    404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict",
    413: "Content Too Large", 417: "Expectation Failed", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 500: "Internal Server Error", 503: "Service Unavailable",
    505: "HTTP Version Not Supported", 507: "Insufficient Storage",
}
_STATUS_LINES = {code: b"HTTP/1.1 %d %s\r\n" % (code, reason.encode()) for code, reason in REASONS.items()}
_JSON_HEAD = b"Content-Type: application/json; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: "
_OK_JSON_HEAD = _STATUS_LINES[200] + _JSON_HEAD
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_CLOSE = b"Connection: close\r\n"
_KEEP_ALIVE = b"Connection: keep-alive\r\n"

_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_VALUE = rb"[\t\x20-\x7e\x80-\xff]*"  # field-value: tab, printable ASCII, obs-text; no control characters
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([!-~]+) HTTP/([0-9])\.([0-9])\r\n")
_FIELD_LINES = re.compile(rb"(?:" + _TOKEN + rb":" + _VALUE + rb"\r\n)*")
_FIELD = re.compile(rb"(" + _TOKEN + rb"):[ \t]*(" + _VALUE + rb")\r\n")  # values are right-stripped in code
_FIELD_LINE = re.compile(_TOKEN + rb":" + _VALUE)
_NAMED_LINE = re.compile(_TOKEN + rb":")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,8})[ \t]*(?:;" + _VALUE + rb")?")
# Headers that must not repeat: a second copy is a 400 (request smuggling, ambiguous credentials).
_UNIQUE = frozenset((b"content-length", b"transfer-encoding", b"x-api-key", b"x-account-id", b"expect", b"host"))

# Connection modes
HEAD, BODY, CHUNKED, SKIP, LINGER = range(5)
# Chunked-body phases
_SIZE, _DATA, _DATA_END, _TRAILER = range(4)


def encode_json(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def error_body(message: str, field: str | None = None) -> bytes:
    payload: dict[str, Any] = {"success": False, "message": message}
    if field is not None:
        payload["field"] = field
    return encode_json(payload)


NOT_FOUND_BODY = error_body("Not found. The tracker API is /api/instances/{accountId}/gift-groups, /config and /analytics.")
INTERNAL_BODY = error_body("Internal server error; the details are in the GiftDesk log.")
BUSY_BODY = error_body("The database is busy; try again shortly.")
DISK_FULL_BODY = error_body("The server's disk is full; nothing was saved. Try again once space has been freed.")
DAMAGED_BODY = error_body("The server's database is damaged; nothing was saved. Its owner has to restore a backup.")


def _has_token(value: bytes, token: bytes) -> bool:
    return any(part.strip() == token for part in value.lower().split(b","))


def _bad_field_message(lines: bytes, what: str) -> str:
    """Why a block of header (or trailer) lines did not parse, in one sentence."""
    for line in lines.split(b"\r\n"):
        if line and not _FIELD_LINE.fullmatch(line):
            if _NAMED_LINE.match(line):
                return f"A {what} value contains a control character (only tab and printable characters are allowed)."
            break
    return f"Malformed {what} line."



def server_error(exc: BaseException, doing: str) -> tuple[int, bytes]:
    """507 on a full disk, 503 when the database is damaged, locked or unreachable, else 500; all
    logged (never with headers)."""
    from sqlalchemy.exc import OperationalError

    from giftdesk.core.errors import DatabaseDamagedError, DiskFullError

    if isinstance(exc, DiskFullError):
        log.error("Tracker endpoint: nothing saved while %s: %s", doing, exc)
        return 507, DISK_FULL_BODY
    if isinstance(exc, DatabaseDamagedError):
        log.error("Tracker endpoint: nothing saved while %s: %s", doing, exc)
        return 503, DAMAGED_BODY
    if isinstance(exc, OperationalError):
        log.warning("Tracker endpoint: database unavailable while %s: %s", doing, exc.__class__.__name__)
        return 503, BUSY_BODY
    log.error("Tracker endpoint: unexpected error while %s", doing, exc_info=exc)
    return 500, INTERNAL_BODY


READ_SIZE = 64 * 1024  # bytes taken from the socket per read (asyncio's own default is 256 KiB)
_READ_SIZE_UNAUTHENTICATED = 16 * 1024  # ... before the connection has sent a valid key



class Http11Connection(asyncio.BufferedProtocol):
    """One client connection's framing; ``protocol.HttpConnection`` answers what it frames. All
    methods run on the endpoint's event-loop thread.

    A ``BufferedProtocol`` so that we choose how much one read takes: every connection reads into
    the server's one read buffer (safe: the loop fills it and hands it over in one go), a
    connection that has not authenticated yet a quarter as much, so a flood of pipelined requests
    costs little per turn."""

    __slots__ = (
        "state", "transport", "ip", "buf", "mode", "need", "body", "action", "chunk_phase", "chunk_total",
        "chunk_extra", "busy", "write_paused", "reading_paused", "eof", "closed", "deadline", "head_started",
        "pending", "pending_at", "turn_scheduled", "cork", "cork_size", "authenticated", "idle_since", "accepted_at",
        "body_limit", "body_refusal", "cors_lines", "client",
    )

    def __init__(self, state: ServerState):
        self.state = state
        self.transport: asyncio.Transport | None = None
        self.ip = "?"
        self.client = "?"  # the address budgets count: ``ip``, or who a trusted proxy forwarded
        self.buf = bytearray()  # the start of a head or chunk line whose end has not arrived yet
        self.mode = HEAD
        self.need = 0  # BODY / SKIP: bytes still to come
        self.body: bytearray | None = None  # BODY / CHUNKED: the body so far, in one buffer
        self.action: tuple | None = None  # what to do with the body once it is in (the subclass's)
        self.chunk_phase = _SIZE
        self.chunk_total = 0
        self.chunk_extra = 0  # trailer bytes seen
        self.busy = False  # a write is on the writer thread: later requests wait in ``pending``
        self.write_paused = False
        self.reading_paused = False
        self.eof = False
        self.closed = False
        self.deadline = 0.0  # on the state's coarse clock; 0 = none
        self.head_started = False
        self.pending: bytes | None = None  # bytes read but not processed yet (from ``pending_at`` on)
        self.pending_at = 0
        self.turn_scheduled = False
        self.cork: list[bytes] = []  # answers of this turn, written together
        self.cork_size = 0
        self.authenticated = False  # a request on this connection carried a valid key
        self.cors_lines = b""  # the CORS header lines of the request being answered (``Route.cors``)
        self.idle_since = 0.0  # when it last went idle (0 while a request is under way)
        self.accepted_at = 0.0  # loop time
        self.body_limit = state.max_body  # CHUNKED: the decoded size past which the body is a 413
        self.body_refusal: bytes | None = None  # CHUNKED: that 413's body in the route's own shape, if it has one

    # ---- asyncio callbacks -------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        state = self.state
        self.transport = transport
        state.transports.add(transport)
        peer = transport.get_extra_info("peername")
        if peer:
            self.ip = self.client = peer[0]
        self.accepted_at = state.loop.time()
        if state.stopping or not state.admit(self):
            transport.abort()
            self.closed = True
            return
        transport.set_write_buffer_limits(high=_WRITE_HIGH, low=_WRITE_LOW)
        state.connections_total += 1
        self.deadline = state.clock + state.header_timeout
        self.idle_since = state.clock

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.state.forget(self)
        self.buf = bytearray()
        self.body = None
        self.pending = None
        self.cork.clear()

    def get_buffer(self, sizehint: int) -> memoryview:
        view = self.state.read_buffer
        return view if self.authenticated else view[:_READ_SIZE_UNAUTHENTICATED]

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(self.state.read_buffer[:nbytes]))

    def data_received(self, data: bytes) -> None:
        if self.closed or self.mode == LINGER or self.state.stopping:
            return
        if self.pending is not None:
            data = self.pending[self.pending_at:] + data
            self.pending = None
        elif self.buf:
            self.buf += data
            data = bytes(self.buf)
            self.buf.clear()
        if self.busy or self.write_paused or self.turn_scheduled:
            self._hold(data, 0)
            return
        try:
            self._process(data, 0)
        except Exception as exc:
            self._crashed(exc)
        self._flush()

    def eof_received(self) -> bool:
        self.eof = True
        if self.closed or self.mode == LINGER:
            return False
        # Half-closed by the client: answer what is in flight or waiting, then close.
        return self.busy or self.write_paused or self.turn_scheduled or self.pending is not None

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        self._take_turn()

    # ---- taking turns ------------------------------------------------------------------------
    def _hold(self, data: bytes, pos: int) -> None:
        """Keeps unprocessed bytes for later and stops reading until they are processed."""
        self.pending = data
        self.pending_at = pos
        if not self.reading_paused and self.mode != LINGER:
            self.reading_paused = True
            self.transport.pause_reading()

    def _yield_turn(self, data: bytes, pos: int) -> None:
        self.turn_scheduled = True
        self.state.loop.call_soon(self._next_turn)
        self._hold(data, pos)

    def _next_turn(self) -> None:
        self.turn_scheduled = False
        self._take_turn()

    def _take_turn(self) -> None:
        try:
            self._resume()
        except Exception as exc:
            self._crashed(exc)
        self._flush()

    def _resume(self) -> None:
        """Carries on with bytes that waited behind a write, a full send buffer or another turn."""
        if (self.closed or self.mode == LINGER or self.busy or self.write_paused or self.turn_scheduled
                or self.state.stopping):
            return
        if self.pending is not None:
            data, pos = self.pending, self.pending_at
            self.pending = None
            self._process(data, pos)
        elif self.eof:
            self._close()
            return
        if (self.reading_paused and self.pending is None and not self.busy and not self.write_paused
                and not self.turn_scheduled and not self.closed and self.mode != LINGER):
            self.reading_paused = False
            self.transport.resume_reading()

    # ---- request processing ----------------------------------------------------------------
    def _process(self, data: bytes, pos: int) -> None:
        size = len(data)
        answered = 0
        transport = self.transport
        while pos < size:
            if self.closed or transport.is_closing():
                return  # reset by the client or closed by us: the rest is never looked at
            if self.busy or self.write_paused:
                self._hold(data, pos)
                return
            mode = self.mode
            if mode == HEAD:
                if answered == (_BATCH if self.authenticated else _BATCH_UNAUTHENTICATED):
                    self._yield_turn(data, pos)
                    return
                answered += 1
                pos = self._head(data, pos)
            elif mode == BODY:
                pos = self._body(data, pos)
            elif mode == SKIP:
                take = min(self.need, size - pos)
                pos += take
                self.need -= take
                if not self.need:
                    self.mode = HEAD
                    self._idle()
            elif mode == CHUNKED:
                pos = self._chunked(data, pos)
            else:
                return
            if pos < 0:
                return
        if self.eof and not self.busy and not self.write_paused and not self.closed:
            self._close()

    def _head(self, data: bytes, pos: int) -> int:
        """Parses and answers one request head at ``pos``; returns where the next bytes start."""
        state = self.state
        while data.startswith(b"\r\n", pos):  # empty lines before a request line are ignored
            pos += 2
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            if len(data) - pos > MAX_HEAD:
                return self._reject(431, "The request head is larger than 16 KiB.")
            if pos < len(data):
                if not self.head_started:
                    self.head_started = True
                    self.idle_since = 0.0
                    self.deadline = state.clock + state.header_timeout
                self.buf += data[pos:] if pos else data
            return -1
        if end - pos > MAX_HEAD:
            return self._reject(431, "The request head is larger than 16 KiB.")
        self.idle_since = 0.0
        line = _REQUEST_LINE.match(data, pos, end + 2)
        if line is None:
            return self._reject(400, "Malformed request line; expected e.g. 'GET /health HTTP/1.1'.")
        method, target, major, minor = line.groups()
        if major != b"1" or (minor != b"1" and minor != b"0"):
            return self._reject(505, f"HTTP/{major.decode()}.{minor.decode()} is not supported; use HTTP/1.1.")
        fields_at = line.end()
        headers: dict[bytes, bytes] = {}
        if fields_at < end + 2:
            if _FIELD_LINES.fullmatch(data, fields_at, end + 2) is None:
                return self._reject(400, _bad_field_message(data[fields_at:end], "header"))
            for name, value in _FIELD.findall(data, fields_at, end + 2):
                name = name.lower()
                value = value.rstrip(b" \t")
                if name in headers:
                    if name in _UNIQUE:
                        return self._reject(400, f"The {name.decode()} header appears more than once.")
                    headers[name] += b", " + value
                else:
                    headers[name] = value
        pos = end + 4
        self.head_started = False
        if minor == b"1" and b"host" not in headers:
            return self._reject(400, "HTTP/1.1 requests need a Host header.")

        # Framing: how long is the body?
        length = 0
        chunked = False
        encoding = headers.get(b"transfer-encoding")
        declared = headers.get(b"content-length")
        if encoding is not None:
            if declared is not None:
                return self._reject(400, "Send either Content-Length or Transfer-Encoding, not both.")
            if encoding.lower() != b"chunked" or minor == b"0":
                return self._reject(400, "Only the chunked transfer coding is supported (HTTP/1.1).")
            chunked = True
        elif declared is not None:
            if not declared.isdigit() or len(declared) > 15:
                return self._reject(400, "Content-Length must be a whole number.")
            length = int(declared)
            if length > state.max_body:
                return self._reject(413, f"The request body is larger than {state.max_body // 1024} KiB.")
        connection = headers.get(b"connection")
        if minor == b"1":
            keep = connection is None or not _has_token(connection, b"close")
        else:
            keep = connection is not None and _has_token(connection, b"keep-alive")
        expect = headers.get(b"expect")
        if expect is not None and expect.lower() != b"100-continue":
            return self._reject(417, "Only 'Expect: 100-continue' is supported.")

        return self._request(method, target, headers, data, pos, length, chunked, expect, keep, minor)

    def _request(self, method: bytes, target: bytes, headers: dict[bytes, bytes], data: bytes, pos: int,
                 length: int, chunked: bool, expect: bytes | None, keep: bool, minor: bytes) -> int:
        """Answers a framed request head (the body, if any, starts at ``pos``); returns where the
        next bytes start, or -1 once the connection waits or closes."""
        raise NotImplementedError

    def _body_complete(self, action: tuple, body: bytes | bytearray) -> None:
        """A body read for ``action`` (see ``_read_body``) has arrived whole."""
        raise NotImplementedError

    def _read_body(self, action: tuple, data: bytes, pos: int, length: int, chunked: bool, expect: bytes | None,
                   minor: bytes, limit: int | None = None, too_large: bytes | None = None,
                   continue_first: bool = False) -> int:
        """Reads the request's body for ``action``; ``_body_complete`` gets it. ``Expect:
        100-continue`` gets its 100 only when the body is still to come, or at once with
        ``continue_first``. ``limit``/``too_large``: a chunked body's limit and 413 body."""
        if expect is not None and minor == b"1" and (continue_first or chunked or len(data) - pos < length):
            self._send(_CONTINUE)
        if chunked:
            return self._start_chunked(action, pos, limit, too_large)
        if len(data) - pos >= length:
            self._body_complete(action, data[pos:pos + length])
            return pos + length
        self.mode = BODY
        self.action = action
        self.body = bytearray(data[pos:])
        self.need = length - (len(data) - pos)
        self.deadline = self.state.clock + self.state.body_timeout
        return len(data)

    def _finish(self, data: bytes, pos: int, length: int, chunked: bool, expect: bytes | None, keep: bool) -> int:
        """After an answer that did not need the body: drop the body, keep the connection if we can."""
        if self.closed or self.mode == LINGER:
            return -1
        if not keep:
            return self._close()
        if chunked:
            if expect is not None:
                return self._linger()  # the client waits for a 100 that will not come
            return self._start_chunked(None, pos)
        if length:
            have = len(data) - pos
            if have >= length:
                self._idle()
                return pos + length
            if expect is not None:
                return self._linger()
            self.mode = SKIP
            self.need = length - have
            self.deadline = self.state.clock + self.state.body_timeout
            return len(data)
        self._idle()
        return pos

    def _body(self, data: bytes, pos: int) -> int:
        take = min(self.need, len(data) - pos)
        self.body += memoryview(data)[pos:pos + take]
        self.need -= take
        pos += take
        if not self.need:
            body, self.body = self.body, None
            action, self.action = self.action, None
            self.mode = HEAD
            self._body_complete(action, body)
        return pos

    def _start_chunked(self, action: tuple | None, pos: int, limit: int | None = None,
                       too_large: bytes | None = None) -> int:
        self.mode = CHUNKED
        self.body_limit = self.state.max_body if limit is None else limit
        self.body_refusal = too_large
        self.action = action
        self.body = bytearray() if action is not None else None
        self.chunk_phase = _SIZE
        self.chunk_total = 0
        self.chunk_extra = 0
        self.deadline = self.state.clock + self.state.body_timeout
        return pos

    def _chunked(self, data: bytes, pos: int) -> int:
        size = len(data)
        while pos < size:
            phase = self.chunk_phase
            if phase == _DATA:
                take = min(self.need, size - pos)
                if self.body is not None:
                    self.body += memoryview(data)[pos:pos + take]
                pos += take
                self.need -= take
                if not self.need:
                    self.chunk_phase = _DATA_END
            elif phase == _DATA_END:
                if size - pos < 2:
                    self.buf += data[pos:]
                    return -1
                if data[pos:pos + 2] != b"\r\n":
                    return self._reject(400, "Malformed chunked body: a chunk is longer than its size.")
                pos += 2
                self.chunk_phase = _SIZE
            else:
                eol = data.find(b"\r\n", pos)
                if eol < 0:
                    if size - pos > _MAX_CHUNK_LINE:
                        return self._reject(400, "Malformed chunked body: chunk size line too long.")
                    self.buf += data[pos:]
                    return -1
                if phase == _TRAILER:
                    if eol > pos:
                        self.chunk_extra += eol - pos + 2
                        if self.chunk_extra > MAX_HEAD:
                            return self._reject(431, "The chunked body's trailer is larger than 16 KiB.")
                        if _FIELD_LINE.fullmatch(data, pos, eol) is None:
                            return self._reject(400, "Malformed chunked body: " + _bad_field_message(data[pos:eol], "trailer"))
                        pos = eol + 2
                        continue
                    return self._chunked_done(eol + 2)
                match = _CHUNK_SIZE.fullmatch(data, pos, eol)
                pos = eol + 2
                if match is None:
                    return self._reject(400, "Malformed chunked body: bad chunk size line (a size in hex, then "
                                             "optional extensions without control characters).")
                chunk = int(match.group(1), 16)
                if not chunk:
                    self.chunk_phase = _TRAILER
                    continue
                self.chunk_total += chunk
                if self.chunk_total > self.body_limit:
                    if self.body_refusal is not None:
                        self._respond(413, self.body_refusal, False, b"1")
                        return self._linger()
                    return self._reject(413, f"The request body is larger than {self.body_limit // 1024} KiB.")
                self.need = chunk
                self.chunk_phase = _DATA
        return pos

    def _chunked_done(self, pos: int) -> int:
        self.mode = HEAD
        action, self.action = self.action, None
        body, self.body = self.body, None
        if action is None:
            self._idle()
        else:
            self._body_complete(action, body)
        return pos

    # ---- answers ------------------------------------------------------------------------------
    def _send(self, data: bytes) -> None:
        self.cork.append(data)
        self.cork_size += len(data)
        if self.cork_size > _CORK_LIMIT:
            self._flush()

    def _flush(self) -> None:
        cork = self.cork
        if not cork:
            return
        data = cork[0] if len(cork) == 1 else b"".join(cork)
        cork.clear()
        self.cork_size = 0
        transport = self.transport
        if not transport.is_closing():  # never write to a reset connection: asyncio logs each such write
            transport.write(data)

    def _count(self, status: int) -> None:
        state = self.state
        state.requests_total += 1
        counts = state.status_counts
        counts[status] = counts.get(status, 0) + 1

    @staticmethod
    def _connection_header(keep: bool, minor: bytes) -> bytes:
        if keep:
            return b"" if minor == b"1" else _KEEP_ALIVE
        return _CLOSE

    def _respond_ok(self, body: bytes, keep: bool, minor: bytes, head: bool) -> None:
        """The hot path: 200 with a JSON body."""
        self._count(200)
        self._send(b"".join((
            _OK_JSON_HEAD, b"%d\r\n" % len(body), self.state.date_line, self.cors_lines,
            self._connection_header(keep, minor), b"\r\n",
            b"" if head else body,
        )))

    def _respond(self, status: int, body: bytes, keep: bool, minor: bytes, extra: bytes = b"", head: bool = False) -> None:
        self._count(status)
        self._send(b"".join((
            _STATUS_LINES[status], _JSON_HEAD, b"%d\r\n" % len(body), self.state.date_line, extra, self.cors_lines,
            self._connection_header(keep, minor), b"\r\n", b"" if head else body,
        )))

    def _respond_empty(self, extra: bytes, keep: bool, minor: bytes) -> None:
        self._count(204)
        self._send(b"".join((
            _STATUS_LINES[204], self.state.date_line, extra, self.cors_lines, self._connection_header(keep, minor), b"\r\n",
        )))

    def _reject(self, status: int, message: str) -> int:
        """An answer after which the byte stream cannot be trusted: answer, then close."""
        self._respond(status, error_body(message), False, b"1")
        return self._linger()

    def _crashed(self, exc: BaseException) -> None:
        log.error("Tracker endpoint: unexpected error handling a request", exc_info=exc)
        if not self.closed and self.mode != LINGER and self.transport is not None:
            self._respond(500, INTERNAL_BODY, False, b"1")
            self._linger()

    # ---- connection state ------------------------------------------------------------------
    def _idle(self) -> None:
        state = self.state
        self.cors_lines = b""
        self.idle_since = state.clock
        self.deadline = state.clock + state.idle_timeout_now(self.authenticated)

    def _close(self) -> int:
        if self.closed:
            return -1
        self._flush()
        self.closed = True
        self.mode = LINGER
        self.pending = None
        self.transport.close()
        return -1

    def _linger(self) -> int:
        """Close gracefully: send what is queued, shut our side, drop what still comes for a moment."""
        if self.closed or self.mode == LINGER:
            return -1
        self._flush()
        self.mode = LINGER
        self.buf = bytearray()
        self.body = None
        self.pending = None
        self.deadline = self.state.clock + self.state.linger_timeout
        transport = self.transport
        if transport.can_write_eof() and not transport.is_closing():
            transport.write_eof()
            if self.reading_paused:
                self.reading_paused = False
                transport.resume_reading()
        else:
            self._close()
        return -1

    def evict(self) -> None:
        """Makes room for another connection (see ``ServerState.admit``): closed at once."""
        self.state.forget(self)
        if not self.closed:
            self.closed = True
            self.mode = LINGER
            self.pending = None
            self.cork.clear()
        transport = self.transport
        if transport.get_write_buffer_size():
            transport.abort()  # a close would wait for a client that does not read, in a slot no longer counted
        elif not transport.is_closing():
            transport.close()

    def timed_out(self) -> None:
        """Called by the server's sweeper once ``deadline`` has passed."""
        if self.closed:
            return
        if self.mode == LINGER:
            self.closed = True
            self.transport.abort()
        elif self.mode == HEAD and not self.head_started and not self.buf and self.pending is None:
            self._close()  # an idle keep-alive connection (or one that never sent anything)
        else:
            self._reject(408, "The request took too long to arrive.")

    def shutdown(self) -> None:
        """Server stop: close now (in-flight writes have been answered by then)."""
        if not self.closed:
            self._flush()
            self.closed = True
            self.mode = LINGER
            self.pending = None
            self.transport.close()
