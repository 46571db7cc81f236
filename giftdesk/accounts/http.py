"""The tracker routes (``/api/instances/{accountId}/gift-groups``, ``/config``, ``/analytics``) as the
endpoint serves them: ``tracker_routes(gateway)`` returns their ``Route`` objects
(``giftdesk.core.routes``), built on the ``TrackerGateway`` (the endpoint's fast path), and their
part of ``/openapi.json``.

GET/HEAD answer the gateway's pre-encoded body on the event loop; POST bodies are decoded,
validated and committed here on the endpoint's writer thread, many writes in one transaction
(``giftdesk.endpoint.writer``). The key is the ``X-API-Key`` / ``X-Account-ID`` pair, checked by
the endpoint against the gateway's key table, and requests are rate-limited per account.
"""

from __future__ import annotations

import json
import math
from typing import Any

from giftdesk.core.errors import NotFoundError, ValidationError
from giftdesk.core.routes import TRACKER_KEY, Route, component_ref, json_content
from giftdesk.db.models import TRACKER_DATA_TYPES
from giftdesk.accounts.tracker_data import (
    VISIBLE_CHARACTER,
    MAX_DEPTH,
    MAX_GIFT_IDS,
    MAX_GROUPS,
    NESTED_TOO_DEEPLY,
    SAVE_MESSAGES,
    check_depth,
)


def tracker_routes(gateway) -> list[Route]:
    """One route per tracker document; they share one writer (one group commit for all three)."""
    handlers = TrackerHandlers(gateway)
    fragment = openapi_fragment
    routes = []
    for data_type in TRACKER_DATA_TYPES:
        routes.append(Route(f"/api/instances/{{accountId}}/{data_type}", kind=data_type, read=handlers.read,
                            write=handlers.write, auth=TRACKER_KEY, rate_limited=True, trailing_slash=True,
                            openapi=fragment))
        fragment = None  # one fragment describes all three
    return routes


def _error_body(message: str, field: str | None = None) -> bytes:
    """The endpoint's error shape, ``{"success": false, "message": ..., "field": ...}``."""
    payload: dict[str, Any] = {"success": False, "message": message}
    if field is not None:
        payload["field"] = field
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# ---- POST bodies, on the endpoint's writer thread --------------------------------------------------
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


class TrackerHandlers:
    """The tracker routes' ``read`` and ``write`` (the gateway's methods are looked up per call,
    so that a gateway patched in a test is what answers)."""

    def __init__(self, gateway):
        self.gateway = gateway

    def read(self, account_id: int, data_type: str) -> bytes:
        return self.gateway.read_body(account_id, data_type)

    def write(self, writes: list[tuple[int, str, bytes]]) -> tuple[list, int]:
        """Decodes each body on the writer thread, commits the valid ones in one transaction."""
        answers: list[Any] = [None] * len(writes)
        decoded: list[tuple[int, str, Any]] = []
        positions: list[int] = []
        for index, (account_id, data_type, raw) in enumerate(writes):
            try:
                decoded.append((account_id, data_type, decode_body(raw)))
                positions.append(index)
            except ValidationError as exc:
                answers[index] = (400, _error_body(str(exc), exc.field or "body"))
        if not decoded:
            return answers, 0
        try:
            results: list[Any] = self.gateway.save_group(decoded)
        except Exception as exc:  # save_group answers per write; this is a bug or a dead database
            results = [exc] * len(decoded)
        for index, (account_id, data_type, _document), result in zip(positions, decoded, results):
            answers[index] = answer_for(result, account_id, data_type)
        return answers, 1


def answer_for(result: bytes | BaseException, account_id: int, data_type: str) -> tuple:
    """(status, body) for what ``save_group`` returned for one write; (exception, what was being
    done) for the endpoint to answer 500/503/507."""
    if isinstance(result, bytes):
        return 200, result
    if isinstance(result, ValidationError):
        return 400, _error_body(str(result), result.field or "body")
    if isinstance(result, NotFoundError):
        return 404, _error_body(str(result))
    if isinstance(result, RecursionError):
        return 400, _error_body(NESTED_TOO_DEEPLY, "body")
    return result, f"saving {data_type} for account {account_id}"


# ---- OpenAPI ------------------------------------------------------------------------------------


_EXAMPLE_GROUPS = {
    "group-1": {"name": "VIP Gifts", "goal": 50000, "color": "#ff0000", "giftIds": [5655, 5656, 5657]},
    "group-2": {"name": "Normal Gifts", "goal": 10000, "color": "#00ff00", "giftIds": [5658, 5659]},
}
_EXAMPLE_CONFIG = {"tiktokUsername": "@username", "theme": "dark", "language": "en",
                   "notifications": True, "autoConnect": False}

# (path segment, summary noun, schema of the saved document, schema of a POST body, example body)
_DATA_ROUTES = [
    ("gift-groups", "gift groups", component_ref("schemas", "GiftGroups"), component_ref("schemas", "SaveGiftGroups"),
     {"groups": _EXAMPLE_GROUPS}),
    ("config", "tracker configuration", component_ref("schemas", "Config"), component_ref("schemas", "Config"),
     {"tiktokUsername": "@newusername", "theme": "light"}),
    ("analytics", "analytics", component_ref("schemas", "Analytics"), component_ref("schemas", "Analytics"),
     {"totalDiamonds": 120000, "sessions": 12}),
]
_SAVE_NOTES = {
    "gift-groups": "Replaces every saved group with the groups sent.",
    "config": "Merges the keys sent into the saved configuration (keys not sent are kept).",
    "analytics": "Replaces the saved analytics document.",
}


def _data_path(segment: str, noun: str, document: dict, body: dict, example: dict) -> dict[str, Any]:
    common_errors = {
        "401": component_ref("responses", "Unauthorized"),
        "404": component_ref("responses", "NotFound"),
        "405": component_ref("responses", "MethodNotAllowed"),
        "429": component_ref("responses", "TooManyRequests"),
        "400": component_ref("responses", "BadRequest"),
    }
    read_ok = {
        "description": f"The saved {noun} (an empty object when nothing is saved yet).",
        "content": json_content({
            "type": "object",
            "required": ["success", "data"],
            "properties": {"success": {"const": True}, "data": document},
        }),
    }
    return {
        "parameters": [component_ref("parameters", "AccountId")],
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
            "requestBody": {"required": True, "content": json_content(body, example)},
            "responses": {
                "200": {
                    "description": "Saved.",
                    "content": json_content(component_ref("schemas", "Saved"), {"success": True, "message": SAVE_MESSAGES[segment]}),
                },
                "400": component_ref("responses", "BadRequest"),
                "401": component_ref("responses", "Unauthorized"),
                "404": component_ref("responses", "NotFound"),
                "405": component_ref("responses", "MethodNotAllowed"),
                "413": component_ref("responses", "ContentTooLarge"),
                "429": component_ref("responses", "TooManyRequests"),
                "503": component_ref("responses", "Busy"),
                "507": component_ref("responses", "DiskFull"),
            },
        },
    }


def _schemas() -> dict[str, Any]:
    gift_group = {
        "type": "object",
        "description": "One gift group. Fields beyond these are kept as sent. Whole numbers may be sent as "
                       "integral floats (`2133.0`); they are saved as integers (`2133`).",
        "required": ["name", "color", "giftIds"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": VISIBLE_CHARACTER,
                     "description": "Not blank: at least one character that is neither white space nor a control "
                                    "character."},
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
            "propertyNames": {"minLength": 1, "maxLength": 100, "pattern": VISIBLE_CHARACTER},
            "additionalProperties": component_ref("schemas", "GiftGroup"),
            "example": _EXAMPLE_GROUPS,
        },
        "SaveGiftGroups": {
            "type": "object",
            "required": ["groups"],
            "properties": {"groups": component_ref("schemas", "GiftGroups")},
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
    }


def openapi_fragment() -> dict[str, Any]:
    """The tracker routes' part of /openapi.json (the endpoint adds OPTIONS and its own responses)."""
    return {
        "intro": ("The API gift-tracker instances call to load and save their data. Every "
                  "`/api/instances/{accountId}/...` call needs the `X-API-Key` and `X-Account-ID` headers; "
                  "`X-Account-ID` must equal `{accountId}`."),
        "body_rules": ("Numbers in bodies must be finite (no NaN, Infinity or 1e400) and arrays and objects may "
                       f"nest at most {MAX_DEPTH} levels deep (400 otherwise)."),
        "tags": [{"name": "tracker", "description": "Tracker data"}],
        "paths": {
            f"/api/instances/{{accountId}}/{segment}": _data_path(segment, noun, document, body, example)
            for segment, noun, document, body, example in _DATA_ROUTES
        },
        "components": {
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                           "description": "The account's API key (UUID), as shown in the console."},
                "AccountHeader": {"type": "apiKey", "in": "header", "name": "X-Account-ID",
                                  "description": "The account id; must equal `{accountId}` in the path."},
            },
            "parameters": {
                "AccountId": {"name": "accountId", "in": "path", "required": True,
                              "description": "The TikTok account's id in GiftDesk, or the 24-hex id an imported "
                                             "account had where it came from.",
                              "schema": {"type": "string", "pattern": "^([0-9]+|[0-9a-fA-F]{24})$"}},
            },
            "schemas": _schemas(),
        },
    }
