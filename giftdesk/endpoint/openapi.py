"""The OpenAPI 3.1 document of the tracker endpoint, served at ``GET /openapi.json``.

It describes what ``giftdesk.endpoint.protocol`` answers and what
``giftdesk.accounts.tracker_data`` accepts; the endpoint tests check both against it.
"""

from __future__ import annotations

from typing import Any

from giftdesk import __version__
from giftdesk.endpoint.protocol import ALLOW_DATA, ALLOW_READ_ONLY, ALLOW_SOCIAL
from giftdesk.social.http import ROUTE as SOCIAL_ROUTE
from giftdesk.social.http import openapi_fragment
from giftdesk.accounts.tracker_data import MAX_DEPTH, MAX_GIFT_IDS, MAX_GROUPS, SAVE_MESSAGES

_JSON = "application/json"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {_JSON: media}


def _error_response(description: str, headers: dict[str, Any] | None = None, with_field: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": _json(_ref("schemas", "ValidationError" if with_field else "Error")),
    }
    if headers:
        response["headers"] = headers
    return response


_EXAMPLE_GROUPS = {
    "group-1": {"name": "VIP Gifts", "goal": 50000, "color": "#ff0000", "giftIds": [5655, 5656, 5657]},
    "group-2": {"name": "Normal Gifts", "goal": 10000, "color": "#00ff00", "giftIds": [5658, 5659]},
}
_EXAMPLE_CONFIG = {"tiktokUsername": "@username", "theme": "dark", "language": "en",
                   "notifications": True, "autoConnect": False}

# (path segment, summary noun, schema of the saved document, schema of a POST body, example body)
_DATA_ROUTES = [
    ("gift-groups", "gift groups", _ref("schemas", "GiftGroups"), _ref("schemas", "SaveGiftGroups"),
     {"groups": _EXAMPLE_GROUPS}),
    ("config", "tracker configuration", _ref("schemas", "Config"), _ref("schemas", "Config"),
     {"tiktokUsername": "@newusername", "theme": "light"}),
    ("analytics", "analytics", _ref("schemas", "Analytics"), _ref("schemas", "Analytics"),
     {"totalDiamonds": 120000, "sessions": 12}),
]
_SAVE_NOTES = {
    "gift-groups": "Replaces every saved group with the groups sent.",
    "config": "Merges the keys sent into the saved configuration (keys not sent are kept).",
    "analytics": "Replaces the saved analytics document.",
}


def _data_path(segment: str, noun: str, document: dict, body: dict, example: dict) -> dict[str, Any]:
    common_errors = {
        "401": _ref("responses", "Unauthorized"),
        "404": _ref("responses", "NotFound"),
        "405": _ref("responses", "MethodNotAllowed"),
        "429": _ref("responses", "TooManyRequests"),
        "400": _ref("responses", "BadRequest"),
    }
    read_ok = {
        "description": f"The saved {noun} (an empty object when nothing is saved yet).",
        "content": _json({
            "type": "object",
            "required": ["success", "data"],
            "properties": {"success": {"const": True}, "data": document},
        }),
    }
    return {
        "parameters": [_ref("parameters", "AccountId")],
        "get": {
            "operationId": f"get_{segment.replace('-', '_')}",
            "summary": f"Load the {noun}",
            "tags": ["tracker"],
            "security": [{"ApiKey": [], "AccountHeader": []}],
            "responses": {"200": read_ok, **common_errors},
        },
        "head": {
            "operationId": f"head_{segment.replace('-', '_')}",
            "summary": "As GET, headers only",
            "tags": ["tracker"],
            "security": [{"ApiKey": [], "AccountHeader": []}],
            "responses": {"200": {"description": "As GET, without a body."}, **common_errors},
        },
        "post": {
            "operationId": f"save_{segment.replace('-', '_')}",
            "summary": f"Save the {noun}",
            "description": _SAVE_NOTES[segment] + " The answer is sent once the change is committed.",
            "tags": ["tracker"],
            "security": [{"ApiKey": [], "AccountHeader": []}],
            "requestBody": {"required": True, "content": _json(body, example)},
            "responses": {
                "200": {
                    "description": "Saved.",
                    "content": _json(_ref("schemas", "Saved"), {"success": True, "message": SAVE_MESSAGES[segment]}),
                },
                "400": _ref("responses", "BadRequest"),
                "401": _ref("responses", "Unauthorized"),
                "404": _ref("responses", "NotFound"),
                "405": _ref("responses", "MethodNotAllowed"),
                "413": _ref("responses", "ContentTooLarge"),
                "429": _ref("responses", "TooManyRequests"),
                "503": _ref("responses", "Busy"),
                "507": _ref("responses", "DiskFull"),
            },
        },
        "options": _options(ALLOW_DATA),
    }


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
                          "405": _ref("responses", "MethodNotAllowed")},
        },
        "head": {
            "operationId": f"head_{operation_id}",
            "summary": "As GET, headers only",
            "tags": ["meta"],
            "security": [],
            "responses": {"200": {"description": "As GET, without a body."}},
        },
        "options": _options(ALLOW_READ_ONLY),
    }


def _schemas() -> dict[str, Any]:
    gift_group = {
        "type": "object",
        "description": "One gift group. Fields beyond these are kept as sent. Whole numbers may be sent as "
                       "integral floats (`2133.0`); they are saved as integers (`2133`).",
        "required": ["name", "color", "giftIds"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S",
                     "description": "Not blank."},
            "color": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$", "example": "#ff0000"},
            "giftIds": {"type": "array", "maxItems": MAX_GIFT_IDS, "items": {"type": "integer", "minimum": 0}},
            "goal": {"type": ["integer", "null"], "minimum": 0},
        },
        "additionalProperties": True,
    }
    return {
        "GiftGroup": gift_group,
        "GiftGroups": {
            "type": "object",
            "description": "Gift groups keyed by group id (1-100 characters).",
            "maxProperties": MAX_GROUPS,
            "propertyNames": {"minLength": 1, "maxLength": 100, "pattern": "\\S"},
            "additionalProperties": _ref("schemas", "GiftGroup"),
            "example": _EXAMPLE_GROUPS,
        },
        "SaveGiftGroups": {
            "type": "object",
            "required": ["groups"],
            "properties": {"groups": _ref("schemas", "GiftGroups")},
            "additionalProperties": True,
        },
        "Config": {
            "type": "object",
            "description": "Tracker configuration. Keys beyond these are kept as sent (at most 100 characters each).",
            "properties": {
                "tiktokUsername": {"type": "string"},
                "theme": {"type": "string"},
                "language": {"type": "string"},
                "notifications": {"type": "boolean"},
                "autoConnect": {"type": "boolean"},
                "target": {"type": "number", "minimum": 0},
                "comboTimeout": {"type": "number", "minimum": 0},
            },
            "propertyNames": {"maxLength": 100},
            "additionalProperties": True,
            "example": _EXAMPLE_CONFIG,
        },
        "Analytics": {"type": "object", "description": "Any JSON object; stored as sent.", "additionalProperties": True},
        "Saved": {
            "type": "object",
            "required": ["success", "message"],
            "properties": {"success": {"const": True}, "message": {"type": "string"}},
        },
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


def build_openapi(social: bool = False) -> dict[str, Any]:
    """The whole document (a fresh dict each call); ``social``: with the social sync route."""
    paths: dict[str, Any] = {
        f"/api/instances/{{accountId}}/{segment}": _data_path(segment, noun, document, body, example)
        for segment, noun, document, body, example in _DATA_ROUTES
    }
    paths["/health"] = _read_only_path("health", "Is the endpoint up? (no key, no data)",
                                       _json(_ref("schemas", "Health"), {"status": "ok"}))
    paths["/openapi.json"] = _read_only_path("openapi", "This document", _json({"type": "object"}))
    document = _tracker_document(paths)
    if social:
        _merge_social(document)
    return document


def _merge_social(document: dict[str, Any]) -> None:
    """Adds the social sync route (its own fragment, plus OPTIONS and 405 as every route has)."""
    fragment = openapi_fragment()
    path_item = fragment["paths"][SOCIAL_ROUTE]
    path_item["post"]["responses"]["405"] = _ref("responses", "MethodNotAllowed")
    # OPTIONS answers for any platform segment (the 400 for an unknown platform is POST's).
    path_item["options"] = {**_options(ALLOW_SOCIAL), "parameters": [{
        "name": "platform", "in": "path", "required": True,
        "schema": {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}}]}
    document["paths"][SOCIAL_ROUTE] = path_item
    components = document["components"]
    for kind, entries in fragment["components"].items():
        target = components.setdefault(kind, {})
        clashes = set(target) & set(entries)
        if clashes:
            raise ValueError(f"The social route's OpenAPI components clash with the tracker's: {sorted(clashes)}")
        target.update(entries)
    document["tags"].append({"name": "social", "description": "Creator social stats"})
    document["info"]["description"] += (
        " `POST /api/v1/profiles/social-sync/{platform}` takes `Authorization: Bearer <token>`, the API "
        "key of the TikTok account linked to the profile; its errors are `{\"message\": ..., \"error\": ...}` "
        "(or `details` for validation) and its body may be at most 16 KiB.")


def _tracker_document(paths: dict[str, Any]) -> dict[str, Any]:
    retry_after = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer", "minimum": 1}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "GiftDesk tracker endpoint",
            "version": __version__,
            "description": (
                "The API gift-tracker instances call to load and save their data. Every "
                "`/api/instances/{accountId}/...` call needs the `X-API-Key` and `X-Account-ID` headers; "
                "`X-Account-ID` must equal `{accountId}`. Bodies are JSON (UTF-8), at most 1 MiB, sent with "
                "`Content-Length` or `Transfer-Encoding: chunked`. HTTP/1.1 keep-alive and pipelining are "
                "supported; responses keep request order. HTTP/1.1 requests need one `Host` header. Numbers in "
                "bodies must be finite (no NaN, Infinity or 1e400) and arrays and objects may nest at most "
                f"{MAX_DEPTH} levels deep (400 otherwise). `HEAD` is answered wherever `GET` is; `OPTIONS` "
                "answers 204 with `Allow`. Errors are `{\"success\": false, \"message\": ...}` (plus `field` "
                "on validation errors). Beyond the responses listed per operation: 400 for a malformed request "
                "line or header, 408 when a request head or body arrives too slowly, 417 for an unsupported "
                "`Expect`, 431 for a request head over 16 KiB, 505 for an HTTP version other than 1.0 and 1.1 "
                "(these close the connection). Requests are "
                "rate-limited per account (429 with `Retry-After`); failed authentications are rate-limited "
                "per client address (429, connection closed)."
            ),
        },
        "servers": [{"url": "/", "description": "This GiftDesk endpoint"}],
        "tags": [{"name": "tracker", "description": "Tracker data"},
                 {"name": "meta", "description": "Health and discovery"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                           "description": "The account's API key (UUID), as shown in the console."},
                "AccountHeader": {"type": "apiKey", "in": "header", "name": "X-Account-ID",
                                  "description": "The account id; must equal `{accountId}` in the path."},
            },
            "parameters": {
                "AccountId": {"name": "accountId", "in": "path", "required": True,
                              "description": "The TikTok account's id in GiftDesk.",
                              "schema": {"type": "string", "pattern": "^[0-9]+$"}},
            },
            "schemas": _schemas(),
            "responses": {
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
            },
        },
    }
