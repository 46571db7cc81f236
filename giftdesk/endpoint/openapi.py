"""The OpenAPI 3.1 document of the tracker endpoint, served at ``GET /openapi.json``.

Assembled from the registered routes' fragments (``Route.openapi``: their ``paths`` and
``components``, in registration order) and the endpoint's own part: ``/health``,
``/openapi.json``, the error responses every route shares and the framing rules. The endpoint
adds every route's OPTIONS operation (the ``Allow`` it answers). The endpoint tests check what
the server answers against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from giftdesk import __version__
from giftdesk.core.routes import component_ref, json_content
from giftdesk.endpoint.routes import Entry



def _error_response(description: str, headers: dict[str, Any] | None = None, with_field: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": json_content(component_ref("schemas", "ValidationError" if with_field else "Error")),
    }
    if headers:
        response["headers"] = headers
    return response


def _options(allow: str) -> dict[str, Any]:
    return {
        "summary": "Which methods the route takes (no key needed)",
        "tags": ["meta"],
        "security": [],
        "responses": {"204": {"description": "No content.", "headers": {"Allow": {
            "description": f"`{allow}`", "schema": {"type": "string", "example": allow}}}}},
    }


def _read_only_path(operation_id: str, summary: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["meta"],
            "security": [],
            "responses": {"200": {"description": "OK.", "content": content},
                          "405": component_ref("responses", "MethodNotAllowed")},
        },
        "head": {
            "operationId": f"head_{operation_id}",
            "summary": "As GET, headers only",
            "tags": ["meta"],
            "security": [],
            "responses": {"200": {"description": "As GET, without a body."}},
        },
    }


def _own_schemas() -> dict[str, Any]:
    return {
        "Error": {
            "type": "object",
            "required": ["success", "message"],
            "properties": {"success": {"const": False}, "message": {"type": "string"}},
        },
        "ValidationError": {
            "type": "object",
            "required": ["success", "message"],
            "properties": {
                "success": {"const": False},
                "message": {"type": "string"},
                "field": {"type": "string", "description": "The offending field, e.g. `groups.vip.color` or `body`."},
            },
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"const": "ok"}},
        },
    }


def build_openapi(entries: Sequence[Entry]) -> dict[str, Any]:
    """The whole document (a fresh dict each call) for the routes served (``unserved`` ones left out)."""
    fragments = []
    for entry in entries:
        if entry.unserved is None and entry.route.openapi is not None:
            fragments.append(entry.route.openapi())
    paths: dict[str, Any] = {}
    tags: list[dict[str, str]] = []
    components: dict[str, dict[str, Any]] = {}
    own = {
        "paths": {
            "/health": _read_only_path("health", "Is the endpoint up? (no key, no data)",
                                       json_content(component_ref("schemas", "Health"), {"status": "ok"})),
            "/openapi.json": _read_only_path("openapi", "This document", json_content({"type": "object"})),
        },
        "tags": [{"name": "meta", "description": "Health and discovery"}],
        "components": {"schemas": _own_schemas(), "responses": _responses()},
    }
    # The first fragment (the tracker routes') leads the document, as it always did.
    for fragment in fragments[:1] + [own] + fragments[1:]:
        paths.update(fragment.get("paths", {}))
        tags += fragment.get("tags", [])
        for kind, entries_ in fragment.get("components", {}).items():
            target = components.setdefault(kind, {})
            clashes = set(target) & set(entries_)
            if clashes:
                raise ValueError(f"Routes' OpenAPI components clash: {sorted(clashes)}")
            target.update(entries_)
    for entry in entries:
        item = paths.get(entry.route.path)
        if item is not None and entry.unserved is None:
            item["options"] = {**_options(entry.allow), **item.get("options", {})}
    description = " ".join(
        [f["intro"] for f in fragments if f.get("intro")]
        + [_FRAMING.format(body_rules="".join(" " + f["body_rules"] for f in fragments if f.get("body_rules")))]
    ) + "".join(f["notes"] for f in fragments if f.get("notes"))
    return {
        "openapi": "3.1.0",
        "info": {"title": "GiftDesk tracker endpoint", "version": __version__, "description": description},
        "servers": [{"url": "/", "description": "This GiftDesk endpoint"}],
        "tags": tags,
        "paths": paths,
        "components": components,
    }


_FRAMING = (
    "Bodies are JSON (UTF-8), at most 1 MiB, "
    "sent with `Content-Length` or `Transfer-Encoding: chunked`. HTTP/1.1 keep-alive and pipelining are "
    "supported; responses keep request order. HTTP/1.1 requests need one `Host` header.{body_rules} `HEAD` is "
    "answered wherever `GET` is; `OPTIONS` answers 204 with `Allow`. Errors are `{{\"success\": false, "
    "\"message\": ...}}` (plus `field` on validation errors). Beyond the responses listed per operation: 400 "
    "for a malformed request line or header, 408 when a request head or body arrives too slowly, 417 for an "
    "unsupported `Expect`, 431 for a request head over 16 KiB, 505 for an HTTP version other than 1.0 and 1.1 "
    "(these close the connection). Requests are rate-limited per account (429 with `Retry-After`); failed "
    "authentications are rate-limited per client address (429, connection closed)."
)


def _responses() -> dict[str, Any]:
    retry_after = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer", "minimum": 1}}}
    return {
        "BadRequest": _error_response(
            "Malformed JSON, a body that is not UTF-8, or a value that breaks a rule (`field` says which).",
            with_field=True),
        "Unauthorized": _error_response("Missing, wrong or deactivated API key, or the account in the "
                                        "path and X-Account-ID disagree.",
                                        {"WWW-Authenticate": {"schema": {"type": "string"}}}),
        "NotFound": _error_response("No such route, or the account no longer exists."),
        "MethodNotAllowed": _error_response(
            "The route does not take this method.",
            {"Allow": {"description": "The methods the route takes.", "schema": {"type": "string"}}}),
        "ContentTooLarge": _error_response("The body is over 1 MiB; the connection is closed."),
        "TooManyRequests": _error_response("Rate limit reached for this account (or too many failed "
                                           "authentications from this address).", retry_after),
        "Busy": _error_response("The database stayed locked or unreachable, or it is damaged; retry later."),
        "DiskFull": _error_response("The server's disk is full; nothing was saved. Retry later."),
    }
