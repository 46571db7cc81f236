"""What a feature's HTTP route is, as the tracker endpoint serves it: plain data, no transport.

A feature's ``http.py`` returns ``Route`` objects built from its services (``accounts.http``:
the tracker routes, ``social.http``: the sync route); ``desk.py`` hands them to the endpoint,
which frames HTTP/1.1, matches paths, checks keys and limits failed authentications for every
route in one place (``giftdesk.endpoint``). The type lives on the ground floor so that features
and the endpoint can both name it without importing each other.

A route's handlers, by how their work is done:

* ``read(principal, kind) -> bytes``: GET/HEAD on the event loop (the fast path); the 200 body,
  pre-encoded JSON. ``principal`` is the account id when the route needs a key, else the path
  parameter as bytes.
* ``write(writes) -> (answers, transactions)``: POST bodies committed together on the endpoint's
  writer thread (group commit). ``writes`` is a list of ``(principal, kind, body)``; ``answers``
  has one entry per write: ``(status, body)``, or ``(exception, what was being done)`` for the
  endpoint to turn into 500/503/507 and log. Routes that share one ``write`` share one thread.
* ``work(principal, parameter, body, client) -> (status, payload, headers)``: POST on a worker
  thread (a handler that reads and commits with the ORM); ``payload`` is encoded as JSON,
  ``headers`` are ``(name, value)`` pairs. ``get_work`` and ``put_work`` take the same arguments
  for GET/HEAD and PUT (``body`` is empty for GET). A worker handler's ``principal`` is the
  Bearer key's account id, or None on a route that needs no key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# How a route's caller proves who it is (the endpoint checks every scheme against one key table).
NO_KEY = "none"
TRACKER_KEY = "tracker-key"  # X-API-Key and X-Account-ID (equal to the path's account), checked at the head
BEARER_KEY = "bearer-key"  # Authorization: Bearer <the account's API key>, checked once the body is in


@dataclass(frozen=True)
class Refusals:
    """A route's refusals in its own error shape (JSON bodies, encoded). Empty: the endpoint's
    ``{"success": false, "message": ...}``."""

    missing_key: tuple[bytes, str] | None = None  # 401 body and WWW-Authenticate value: no usable credential
    invalid_key: tuple[bytes, str] | None = None  # ... a credential that matches no active key
    too_many_failures: bytes | None = None  # 429 once the address has used its failed-authentication budget
    too_many_requests: bytes | None = None  # 429 once the address has used ``per_address_per_minute``
    too_large: bytes | None = None  # 413 past the route's body limit
    internal_error: bytes | None = None  # 500: the handler itself failed
    stopping: bytes | None = None  # 503: the endpoint stopped under a request on a worker thread


@dataclass(frozen=True)
class Route:
    """One path (``/api/instances/{accountId}/config``: at most one ``{parameter}``, a whole segment)."""

    path: str
    kind: str = ""  # passed to ``read`` and ``write`` (the tracker's data type)
    read: Callable[[Any, str], bytes] | None = None
    write: Callable[[list[tuple[Any, str, bytes]]], tuple[list, int]] | None = None
    work: Callable[[int, bytes, bytes, str], tuple[int, dict[str, Any], list[tuple[str, str]]]] | None = None
    auth: str = NO_KEY
    rate_limited: bool = False  # per account, ``endpoint.rate_limit_per_minute``
    # Worker-thread GET/HEAD and PUT handlers (see the module docstring).
    get_work: Callable[[int | None, bytes, bytes, str], tuple[int, dict[str, Any], list[tuple[str, str]]]] | None = None
    put_work: Callable[[int | None, bytes, bytes, str], tuple[int, dict[str, Any], list[tuple[str, str]]]] | None = None
    # Requests a minute per client address (token buckets, a minute's worth of burst); None: unlimited.
    per_address_per_minute: int | None = None
    max_body: int | None = None  # None: the endpoint's limit (1 MiB)
    trailing_slash: bool = False  # ``/health/`` is ``/health``
    # Browsers may call it from the origins of ``endpoint.cors_origins`` (preflight and answers
    # carry the CORS headers for a listed origin only); trackers' routes leave it off.
    cors: bool = False
    refusals: Refusals = field(default_factory=Refusals)
    # Not served here (its handler was not given): every method answers 404 with this body.
    unserved: bytes | None = None
    # ``paths`` and ``components`` to merge into /openapi.json, plus optional ``tags`` and
    # ``intro`` / ``notes`` (text put before / after the endpoint's own description). Routes that
    # share one fragment list it once (the first route carrying it wins).
    openapi: Callable[[], dict[str, Any]] | None = None

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods answered (OPTIONS always is; HEAD wherever GET is)."""
        methods = ("GET", "HEAD") if self.read is not None or self.get_work is not None else ()
        if self.write is not None or self.work is not None:
            methods += ("POST",)
        if self.put_work is not None:
            methods += ("PUT",)
        return methods + ("OPTIONS",)


# OpenAPI fragments, as the routes' ``openapi`` callables build them.
def component_ref(kind: str, name: str) -> dict[str, str]:
    """``{"$ref": "#/components/<kind>/<name>"}``."""
    return {"$ref": f"#/components/{kind}/{name}"}


def json_content(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    """A ``content`` map with one JSON media type."""
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"application/json": media}


def bearer_token(header: bytes | None) -> str | None:
    """The token of ``Authorization: Bearer <token>``, or None when there is no usable one."""
    if not header:
        return None
    try:
        text = header.decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    scheme, _, token = text.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200 or " " in token:
        return None
    return token
