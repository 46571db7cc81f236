"""The tracker endpoint's requests, once framed (``giftdesk.endpoint.http11``): route, key, answer.

Built for the request path trackers hammer (``GET /api/instances/{id}/gift-groups`` with the
``X-API-Key`` / ``X-Account-ID`` headers): the route is found by a dict lookup
(``giftdesk.endpoint.routes``), the key checked against the key table in memory and the request
answered with a pre-encoded body from the gateway's cache. Nothing is logged per request.

Every route's key goes through one layer here, whatever its scheme (``core.routes``): the
tracker headers are checked at the head, so a refused key costs no body; a Bearer key once the
body is in (the 100-continue was sent already, as the social sync always did). A request whose
credential proved invalid takes from one budget per client address, for every route; past it
the answer is a 429 and the connection closes.

Writes (POST) are decoded, validated and committed on the server's writer thread
(``giftdesk.endpoint.writer``: group commit), or, for routes whose handler reads and commits
through the ORM, on a small worker pool, so the event loop never waits for the database.
While a connection's write is in flight its further requests wait: responses leave in request
order and a pipelined GET after a POST sees what the POST saved.
"""

from __future__ import annotations

import asyncio
import logging

from giftdesk.core.errors import AuthenticationError
from giftdesk.core.routes import BEARER_KEY, TRACKER_KEY, bearer_token
from giftdesk.endpoint.http11 import (
    _STATUS_LINES,
    BUSY_BODY,
    NOT_FOUND_BODY,
    Http11Connection,
    encode_json,
    error_body,
    server_error,
)
from giftdesk.endpoint.limits import retry_after_seconds
from giftdesk.endpoint.routes import BAD_TARGET, Entry

log = logging.getLogger(__name__)

_WWW_AUTHENTICATE = b'WWW-Authenticate: ApiKey header="X-API-Key"\r\n'
_FALLBACK_INTERNAL = error_body("Internal server error; the details are in the GiftDesk log.")
_FALLBACK_STOPPING = error_body("The endpoint is stopping.")


def work_answer(work, principal: int, parameter: bytes, body: bytes, client: str,
                internal_error: bytes) -> tuple[int, bytes, bytes]:
    """Runs on a worker thread: the handler's answer as (status, JSON body, header lines)."""
    try:
        status, payload, headers = work(principal, parameter, body, client)
        encoded = encode_json(payload)
        extra = b"".join(f"{name}: {value}\r\n".encode("latin-1") for name, value in headers
                         if "\r" not in f"{name}{value}" and "\n" not in f"{name}{value}")
    except Exception as exc:  # the handler answers 500 itself; this is a bug in the glue
        log.error("Tracker endpoint: unexpected error in a worker route", exc_info=exc)
        return 500, internal_error, b""
    if status not in _STATUS_LINES:
        log.error("Tracker endpoint: a worker route's handler answered an unknown status %s", status)
        return 500, internal_error, b""
    return status, encoded, extra


class HttpConnection(Http11Connection):
    """One client connection: the framing of ``Http11Connection``, the routes of the server's table."""

    __slots__ = ()

    def _request(self, method: bytes, target: bytes, headers: dict[bytes, bytes], data: bytes, pos: int,
                 length: int, chunked: bool, expect: bytes | None, keep: bool, minor: bytes) -> int:
        entry, parameter = self.state.router.match(target)
        proxies = self.state.proxies
        if proxies:
            self.client = proxies.client(self.ip, headers.get(b"x-forwarded-for"))
        if entry is None:
            self._respond(404, NOT_FOUND_BODY, keep, minor, head=method == b"HEAD")
            return self._finish(data, pos, length, chunked, expect, keep)
        if entry.__class__ is not Entry:  # ``*`` or a target that is no path
            if entry is BAD_TARGET or method != b"OPTIONS":
                return self._reject(400, "The request target must be a path such as /health.")
        else:
            if entry.cors:  # a route browsers call: its answers carry the CORS lines for the Origin
                origin = headers.get(b"origin")
                self.cors_lines = (self.state.cors.preflight_lines(origin, entry.allow) if method == b"OPTIONS"
                                   else self.state.cors.answer_lines(origin))
            if entry.unserved is not None:
                self._respond(404, entry.unserved, keep, minor, head=method == b"HEAD")
                return self._finish(data, pos, length, chunked, expect, keep)
            if method == b"GET" or method == b"HEAD":
                if entry.read is not None:  # the hot path, inline: the route's pre-encoded body, on the loop
                    if entry.needs_key:
                        principal = self._authenticate(entry, parameter, headers, keep, minor)
                        if principal is None:
                            return self._finish(data, pos, length, chunked, expect, keep)
                    else:
                        principal = parameter
                    try:
                        body = entry.read(principal, entry.kind)
                    except Exception as exc:
                        status, body = server_error(exc, f"reading {entry.kind or entry.route.path} for account "
                                                         f"{principal}")
                        self._respond(status, body, False, minor)
                        return self._linger()
                    self._respond_ok(body, keep, minor, method == b"HEAD")
                    return self._finish(data, pos, length, chunked, expect, keep)
                if entry.get_work is not None:
                    return self._work_request(entry, entry.get_work, parameter, headers, data, pos, length, chunked,
                                              expect, keep, minor, method == b"HEAD")
            elif method == b"PUT":
                if entry.put_work is not None:
                    return self._work_request(entry, entry.put_work, parameter, headers, data, pos, length, chunked,
                                              expect, keep, minor)
            elif method == b"POST":
                if entry.write is not None:
                    principal = self._authenticate(entry, parameter, headers, keep, minor)
                    if principal is None:
                        return self._finish(data, pos, length, chunked, expect, keep)
                    return self._read_body((entry, principal, None, keep, minor), data, pos, length, chunked,
                                           expect, minor)
                if entry.work is not None:
                    return self._work_request(entry, entry.work, parameter, headers, data, pos, length, chunked,
                                              expect, keep, minor)
        # A known route and a method it does not take (or OPTIONS).
        if method == b"OPTIONS":
            self._respond_empty(entry.allow_line, keep, minor)
        else:
            message = f"{method.decode()} is not allowed here; allowed: {entry.allow}."
            self._respond(405, error_body(message), keep, minor, entry.allow_line, head=method == b"HEAD")
        return self._finish(data, pos, length, chunked, expect, keep)

    def _work_request(self, entry, handler, parameter: bytes, headers: dict[bytes, bytes], data: bytes, pos: int,
                      length: int, chunked: bool, expect: bytes | None, keep: bool, minor: bytes,
                      head: bool = False) -> int:
        """A request for one of a worker route's handlers: the address's budget (on a route with
        one), the body read within the route's own limit, then the key checked and the handler run
        on the worker pool."""
        if entry.address_limits is not None:
            wait = entry.address_limits.take(self.client)
            if wait:
                seconds = retry_after_seconds(wait)
                body = entry.refusals.too_many_requests or error_body(
                    f"Too many requests from this address; retry in {seconds} s.")
                self._respond(429, body, keep, minor, b"Retry-After: %d\r\n" % seconds, head=head)
                return self._finish(data, pos, length, chunked, expect, keep)
        limit = entry.max_body if entry.max_body is not None else self.state.max_body
        too_large = entry.refusals.too_large
        if length > limit:
            if too_large is None:
                return self._reject(413, f"The request body is larger than {limit // 1024} KiB.")
            self._respond(413, too_large, False, minor)
            return self._linger()
        action = (entry, parameter, headers.get(b"authorization"), keep, minor, handler, head)
        return self._read_body(action, data, pos, length, chunked, expect, minor, limit, too_large,
                               continue_first=True)

    # ---- keys: one layer for every route --------------------------------------------------------
    def _authenticate(self, entry, parameter: bytes, headers: dict[bytes, bytes], keep: bool,
                      minor: bytes) -> int | None:
        """The account id of a route whose key is in the head, or None once a 401/429 has been sent."""
        state = self.state
        if entry.auth != TRACKER_KEY:
            raise ValueError(f"Route {entry.route.path}: {entry.auth} keys are not checked at the head")
        api_key = headers.get(b"x-api-key")
        header_account = headers.get(b"x-account-id")
        try:
            account_id = state.authenticate(
                parameter.decode("latin-1"),
                None if header_account is None else header_account.decode("latin-1"),
                None if api_key is None else api_key.decode("latin-1"),
            )
        except (AuthenticationError, ValueError) as exc:  # ValueError: int() of e.g. "²", which isdigit()
            message = str(exc) if isinstance(exc, AuthenticationError) else "Invalid API key or account ID."
            seconds = self._failed_authentication()
            if not seconds:
                self._respond(401, error_body(message), keep, minor, _WWW_AUTHENTICATE)
                return None
            self._respond(429, error_body(f"Too many failed authentications from this address; retry in {seconds} s."),
                          False, minor, b"Retry-After: %d\r\n" % seconds)
            self._linger()
            return None
        if not self.authenticated:
            self._note_authenticated()
        if entry.rate_limited:
            wait = state.account_limits.take(account_id)
            if wait:
                seconds = retry_after_seconds(wait)
                self._respond(429, error_body(f"Too many requests for this API key; retry in {seconds} s."),
                              keep, minor, b"Retry-After: %d\r\n" % seconds)
                return None
        return account_id

    def _authenticate_bearer(self, entry, authorization: bytes | None, keep: bool, minor: bytes) -> int | None:
        """The account id of ``Authorization: Bearer <key>``, or None once a 401/429 has been sent
        (then the connection has been closed or made ready for the next request)."""
        token = bearer_token(authorization)
        account_id = None if token is None else self.state.account_for_key(token)
        if account_id is not None:
            if not self.authenticated:
                self._note_authenticated()
            return account_id
        refusals = entry.refusals
        seconds = self._failed_authentication()
        if seconds:  # as on the tracker routes: the guesser's connection closes
            body = refusals.too_many_failures or error_body(
                f"Too many failed authentications from this address; retry in {seconds} s.")
            self._respond(429, body, False, minor, b"Retry-After: %d\r\n" % seconds)
            self._close()
            return None
        body, challenge = (refusals.missing_key if token is None else refusals.invalid_key) or (
            error_body("Invalid API key."), "Bearer")
        keep = keep and not self.state.stopping
        self._respond(401, body, keep, minor, b"WWW-Authenticate: " + challenge.encode("latin-1") + b"\r\n")
        if keep:
            self._idle()
        else:
            self._close()
        return None

    def _note_authenticated(self) -> None:
        self.authenticated = True
        self.state.note_authenticated(self)

    def _failed_authentication(self) -> int:
        """Counts a request without a valid credential against this address (one budget for every
        route); 0 while the address has failed attempts left, else the seconds for ``Retry-After``.
        Only called once the credential proved invalid, so a valid one is never refused here."""
        wait = self.state.auth_failures.take(self.client)
        if not wait:
            return 0
        self.state.note_failure_flood(self.client)
        return retry_after_seconds(wait)

    # ---- work off the loop ----------------------------------------------------------------------
    def _body_complete(self, action: tuple, body: bytes | bytearray) -> None:
        if len(action) == 5:  # a tracker write: (entry, account, None, keep, minor)
            self._start_write(action, body)
        else:
            self._start_work(action, body)

    def _start_write(self, action: tuple, body: bytes | bytearray) -> None:
        entry, account_id, _, keep, minor = action
        state = self.state
        self.busy = True
        self.deadline = 0.0
        future = state.writers[entry.write].submit(account_id, entry.kind, body)
        state.inflight.add(future)
        future.add_done_callback(lambda done: self._write_done(done, keep, minor))

    def _write_done(self, future: asyncio.Future, keep: bool, minor: bytes) -> None:
        self.state.inflight.discard(future)
        self.busy = False
        if self.closed:
            return
        if future.cancelled():
            status, body = 503, BUSY_BODY
        else:
            error = future.exception()
            status, body = server_error(error, "saving") if error is not None else future.result()
        self._answer_work(status, body, keep, minor)

    def _start_work(self, action: tuple, body: bytes | bytearray) -> None:
        entry, parameter, authorization, keep, minor, handler, head = action
        account_id = None
        if entry.auth == BEARER_KEY:
            account_id = self._authenticate_bearer(entry, authorization, keep, minor)
            if account_id is None:
                return
        elif entry.needs_key:
            raise ValueError(f"Route {entry.route.path}: {entry.auth} keys are not checked once the body is in")
        state = self.state
        self.busy = True
        self.deadline = 0.0
        internal_error = entry.refusals.internal_error or _FALLBACK_INTERNAL
        future = state.loop.run_in_executor(state.work_pool, work_answer, handler, account_id, parameter,
                                            bytes(body), self.client, internal_error)
        state.inflight.add(future)
        future.add_done_callback(lambda done: self._work_done(done, entry, keep, minor, head,
                                                              handler is not entry.get_work))

    def _work_done(self, future: asyncio.Future, entry, keep: bool, minor: bytes, head: bool, writes: bool) -> None:
        state = self.state
        state.inflight.discard(future)
        self.busy = False
        if future.cancelled() or future.exception() is not None:  # the pool was shut down under it
            status, body, extra = 503, entry.refusals.stopping or _FALLBACK_STOPPING, b""
        else:
            status, body, extra = future.result()
        state.work_committed += writes and status == 200  # committed, whether or not the client is still there
        if self.closed:
            return
        self._answer_work(status, body, keep, minor, extra, head)

    def _answer_work(self, status: int, body: bytes, keep: bool, minor: bytes, extra: bytes = b"",
                     head: bool = False) -> None:
        """The answer to a request whose work ran off the loop; then the connection reads on or closes."""
        try:
            keep = keep and status < 500 and not self.state.stopping
            self._respond(status, body, keep, minor, extra, head)
            if not keep:
                self._close()
                return
            self._idle()
            self._resume()
        except Exception as exc:
            self._crashed(exc)
        self._flush()
