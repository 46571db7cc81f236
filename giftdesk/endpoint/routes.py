"""The endpoint's route table: the features' ``Route`` objects (``giftdesk.core.routes``) plus its own
``/health`` and ``/openapi.json``, matched by a dict lookup or two per request.

Paths are matched as the trackers have always been answered: a literal path (``/health``, and
``/health/`` where the route allows a trailing slash), or a literal prefix, one parameter segment
(percent-decoded, never empty, never containing ``/``) and a literal rest. A literal path wins
over a parameter (``/api/v1/profiles/me`` over ``/api/v1/profiles/{profile}/public``), and a
longer literal prefix over a shorter one (``/api/v1/profiles/social-sync/{platform}`` takes
``/api/v1/profiles/social-sync/public``): literal segments beat parameters. A target that starts
with the longest matching prefix but matches none of its rests is a 404 (no other route is tried).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote_to_bytes

from giftdesk.core.routes import NO_KEY, Route

HEALTH_BODY = b'{"status":"ok"}'
_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class Entry:
    """A route as the connection serves it (the hot path reads plain attributes)."""

    __slots__ = ("address_limits", "allow", "allow_line", "auth", "cors", "get_work", "kind", "max_body", "needs_key",
                 "put_work", "rate_limited", "read", "refusals", "route", "unserved", "work", "write")

    def __init__(self, route: Route):
        self.route = route
        self.kind = route.kind
        self.read = route.read
        self.write = route.write
        self.work = route.work
        self.auth = route.auth
        self.needs_key = route.auth != NO_KEY
        self.rate_limited = route.rate_limited
        self.max_body = route.max_body
        self.refusals = route.refusals
        self.unserved = route.unserved
        self.cors = route.cors
        self.get_work = route.get_work
        self.put_work = route.put_work
        # Per client address; the server's state sets it (``per_address_per_minute``), on the loop only.
        self.address_limits = None
        self.allow = ", ".join(route.methods)
        self.allow_line = b"Allow: " + self.allow.encode() + b"\r\n"


class _Star:
    """``OPTIONS *``: every method some route takes."""

    __slots__ = ("allow", "allow_line")

    def __init__(self, allow: str):
        self.allow = allow
        self.allow_line = b"Allow: " + allow.encode() + b"\r\n"


class _BadTarget:
    __slots__ = ()


BAD_TARGET = _BadTarget()  # neither a path nor ``*`` nor an absolute URL: a 400


class Router:
    def __init__(self, routes: Sequence[Route]):
        self.entries = [Entry(route) for route in routes]
        self._exact: dict[bytes, Entry] = {}
        self._prefixed: dict[bytes, dict[bytes | None, Entry]] = {}  # prefix -> rest after the parameter -> entry
        for entry in self.entries:
            path = entry.route.path
            if "{" not in path:
                self._add(self._exact, path.encode(), entry)
                if entry.route.trailing_slash:
                    self._add(self._exact, path.encode() + b"/", entry)
                continue
            prefix, _, rest = path.partition("{")
            rest = rest.partition("}")[2]
            if not prefix.endswith("/") or (rest and not rest.startswith("/")) or "{" in rest:
                raise ValueError(f"A route's parameter must be one whole path segment: {path}")
            rests = self._prefixed.setdefault(prefix.encode(), {})
            # The parameter's own segment ends the path (None) or a "/" and then the rest.
            self._add(rests, rest[1:].encode() if rest else None, entry)
            if rest and entry.route.trailing_slash:
                self._add(rests, rest[1:].encode() + b"/", entry)
        # Longest first, so a literal segment wins over another route's parameter; the trackers'
        # prefix stays the first tried among equals (a stable sort keeps registration order).
        self._prefixes = sorted(self._prefixed, key=len, reverse=True)
        methods = {method for entry in self.entries for method in entry.route.methods}
        self.star = _Star(", ".join(m for m in _METHOD_ORDER if m in methods))

    @staticmethod
    def _add(table: dict, key, entry: Entry) -> None:
        if key in table:
            raise ValueError(f"Two routes for one path: {entry.route.path}")
        table[key] = entry

    def match(self, target: bytes) -> tuple[Entry | _Star | object | None, bytes]:
        """(entry, the path parameter) for a request target; (None, b"") when no route has it,
        (``star``, b"") for ``*``, (``BAD_TARGET``, b"") for a target that is no path."""
        path = target
        query = path.find(b"?")
        if query >= 0:
            path = path[:query]
        if path[:1] != b"/":
            if target == b"*":
                return self.star, b""
            if not path.startswith((b"http://", b"https://")):  # absolute-form is allowed; others are not
                return BAD_TARGET, b""
            slash = path.find(b"/", path.find(b"//") + 2)
            path = path[slash:] if slash >= 0 else b"/"
        exact = self._exact.get(path)
        if exact is not None:
            return exact, b""
        for prefix in self._prefixes:
            if path.startswith(prefix):
                parameter, slash, rest = path[len(prefix):].partition(b"/")
                entry = self._prefixed[prefix].get(rest if slash else None)
                if entry is None or not parameter:
                    return None, b""
                if b"%" in parameter:
                    parameter = unquote_to_bytes(parameter)
                return entry, parameter
        return None, b""


def health_route() -> Route:
    return Route("/health", read=lambda _parameter, _kind: HEALTH_BODY, trailing_slash=True)


def openapi_route(body: bytes) -> Route:
    return Route("/openapi.json", read=lambda _parameter, _kind: body)
