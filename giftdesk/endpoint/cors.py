"""CORS for the routes a browser calls (``Route.cors``): the web client on another origin.

Only the exact origins of ``endpoint.cors_origins`` are answered with ``Access-Control-Allow-*``
headers; any other origin gets none (the browser then withholds the answer from its page). Every
answer of such a route says ``Vary: Origin``, so a cache never hands one origin's answer to another.
Credentials are allowed (the client sends ``Authorization: Bearer``), which is why the origin is
echoed, never ``*``.
"""

from __future__ import annotations

from collections.abc import Iterable

PREFLIGHT_MAX_AGE_SECONDS = 600
ALLOWED_REQUEST_HEADERS = b"Authorization, Content-Type"
EXPOSED_HEADERS = b"Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset"
VARY_ORIGIN = b"Vary: Origin\r\n"


class CorsPolicy:
    """The header lines for a request's ``Origin`` on a CORS route; built once per server."""

    __slots__ = ("_answers", "_preflights")

    def __init__(self, origins: Iterable[str]):
        self._answers: dict[bytes, bytes] = {}
        self._preflights: dict[bytes, bytes] = {}
        for origin in origins:
            encoded = origin.encode("ascii")
            allow = (b"Access-Control-Allow-Origin: " + encoded + b"\r\n"
                     b"Access-Control-Allow-Credentials: true\r\n")
            self._answers[encoded] = allow + b"Access-Control-Expose-Headers: " + EXPOSED_HEADERS + b"\r\n" + VARY_ORIGIN
            self._preflights[encoded] = allow + VARY_ORIGIN

    def answer_lines(self, origin: bytes | None) -> bytes:
        """For an actual request's answer: the Allow-* lines for a listed origin, else only Vary."""
        if origin is None:
            return VARY_ORIGIN
        return self._answers.get(origin, VARY_ORIGIN)

    def preflight_lines(self, origin: bytes | None, allow: str) -> bytes:
        """For an ``OPTIONS`` preflight (``allow``: the route's methods)."""
        lines = self._preflights.get(origin) if origin is not None else None
        if lines is None:
            return VARY_ORIGIN
        return lines + (b"Access-Control-Allow-Methods: " + allow.encode("ascii") + b"\r\n"
                        b"Access-Control-Allow-Headers: " + ALLOWED_REQUEST_HEADERS + b"\r\n"
                        b"Access-Control-Max-Age: %d\r\n" % PREFLIGHT_MAX_AGE_SECONDS)
