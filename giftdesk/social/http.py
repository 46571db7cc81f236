"""``POST /api/v1/profiles/social-sync/{platform}``, without the transport.

``sync_routes(handler)`` is the route the endpoint serves (``giftdesk.core.routes``): the
endpoint frames the body (at most ``MAX_BODY_BYTES``), checks the Bearer token against its key
table and runs ``SocialSyncHandler.serve`` on a worker thread with the token's account, the
path's platform, the raw body and the client's address; it sends back the status, JSON body and
headers returned. ``openapi_fragment()`` describes the route for ``/openapi.json``.

Authentication: ``Authorization: Bearer <token>``, where the token is the API key of the TikTok
account linked to the profile. Only SHA-256 digests of keys are stored: the digest of the token
finds the credential (in the endpoint's key table; in ``handle``, for callers without the
endpoint, through the table's unique index), and the stored digest is then compared with
``hmac.compare_digest``. (The lookup's timing can only reveal something about a digest, which
says nothing usable about a key.)

The order of checks follows the route's design: authentication (401), the rate limit (429, 10 syncs a
minute per profile, the recommended limit, with ``Retry-After``; on PostgreSQL kept in the database
and shared by every endpoint on it, see ``giftdesk.social.sync_limit``), the platform (400
``Invalid platform type``), the body (400 ``Validation failed``), the profile (404). Refused
syncs of an authenticated caller are recorded as failed syncs (source ``endpoint``).

Failed authentications per client address are limited by the endpoint, with the same budget as
the tracker routes (``giftdesk.endpoint``): it answers a refused token with this route's 401, or
with its 429 once the address has used its budget, and never refuses a valid token for others'
failures.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from giftdesk.db.models import TrackerCredential
from giftdesk.db.social_models import SOCIAL_PLATFORMS
from giftdesk.core.errors import DiskFullError, NotFoundError, ValidationError
from giftdesk.core.routes import BEARER_KEY, Refusals, Route, bearer_token
from giftdesk.db.credentials import digest_key
from giftdesk.social.profile_fields import MAX_HANDLE_LENGTH, clean_handle, preferences_schema
from giftdesk.social.service import SocialService
from giftdesk.social.sync_limit import DatabaseSyncLimiter
from giftdesk.social.validation import (
    InvalidPlatformError,
    SyncValidationError,
    max_followers,
    platform_label,
    platform_name,
    platform_sentence,
    SyncValues,
    validate_sync,
)

log = logging.getLogger(__name__)

ROUTE = "/api/v1/profiles/social-sync/{platform}"
BATCH_ROUTE = "/api/v1/profiles/social-sync"
SYNCS_PER_WINDOW = 10
WINDOW_SECONDS = 60.0
MAX_BODY_BYTES = 16 * 1024

Answer = tuple[int, dict[str, Any], list[tuple[str, str]]]
_PREFIX = ROUTE.split("{", 1)[0]


def match_route(path: str) -> str | None:
    """The ``{platform}`` segment when ``path`` (without the query string) is this route, else None.

    Any segment matches, so an unknown platform gets the route's 400 rather than a 404.
    """
    if not path.startswith(_PREFIX):
        return None
    platform = path[len(_PREFIX):]
    return platform if platform and "/" not in platform else None


class SlidingWindowLimiter:
    """At most ``limit`` hits per ``window`` seconds per key; thread-safe, clock injectable."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[Any, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: Any, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def retry_after(self, key: Any) -> float | None:
        """Seconds until ``key`` may try again, or None when it may now (without counting a hit)."""
        with self._lock:
            now = self.clock()
            hits = self._recent(key, now)
            if len(hits) >= self.limit:
                return max(0.0, hits[0] + self.window - now)
            if not hits:
                del self._hits[key]
            return None

    def hit(self, key: Any) -> tuple[float | None, int, float]:
        """Counts one hit unless over the limit: (retry after or None, hits left, seconds to reset)."""
        with self._lock:
            now = self.clock()
            hits = self._recent(key, now)
            if len(hits) >= self.limit:
                wait = max(0.0, hits[0] + self.window - now)
                return wait, 0, wait
            hits.append(now)
            if len(self._hits) > 10_000:
                self._sweep(now)
            return None, self.limit - len(hits), hits[0] + self.window - now

    def hit_all_or_none(self, key: Any, count: int) -> float | None:
        """Counts ``count`` hits when all fit in the window, else none: the wait, or None when counted."""
        with self._lock:
            now = self.clock()
            hits = self._recent(key, now)
            if len(hits) + count > self.limit:
                if not hits:
                    return self.window
                return max(0.0, hits[min(len(hits) - 1, len(hits) + count - self.limit - 1)] + self.window - now)
            hits.extend([now] * count)
            return None

    def _sweep(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]


DISK_FULL_ANSWER = {"message": "Insufficient storage", "error": "The server's disk is full; the sync was not saved."}
INTERNAL_ERROR = {"message": "Internal server error", "error": "The sync could not be saved; see the log."}
MISSING_TOKEN = {"message": "Unauthorized", "error": "Access token required"}
MISSING_TOKEN_CHALLENGE = "Bearer"
INVALID_TOKEN = {"message": "Unauthorized", "error": "Invalid or missing token"}
INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'


class SocialSyncHandler:
    def __init__(self, social: SocialService, *, clock: Callable[[], float] | None = None,
                 limit: int = SYNCS_PER_WINDOW, window: float = WINDOW_SECONDS):
        self.social = social
        self.db = social.ctx.db
        # PostgreSQL may have several endpoints (serve processes behind a load balancer): the limit
        # lives in the database and holds across them. SQLite has one writing process: memory does.
        self.syncs: SlidingWindowLimiter | DatabaseSyncLimiter
        if self.db.is_sqlite:
            self.syncs = SlidingWindowLimiter(limit, window, clock or time.monotonic)
        else:
            self.syncs = DatabaseSyncLimiter(self.db.engine, limit, window, clock)

    def handle(self, platform: str, authorization: bytes | None, body: bytes, client: str) -> Answer:
        """The whole route for a caller without the endpoint: the token, then ``serve``."""
        try:
            token = bearer_token(authorization)
            if token is None:
                return 401, MISSING_TOKEN, [("WWW-Authenticate", MISSING_TOKEN_CHALLENGE)]
            account_id = self._account_for(token)
        except Exception as exc:
            return _failed(exc, client)
        if account_id is None:
            return 401, INVALID_TOKEN, [("WWW-Authenticate", INVALID_TOKEN_CHALLENGE)]
        return self.serve(account_id, platform, body, client)

    def serve(self, account_id: int, platform: str | bytes, body: bytes, client: str) -> Answer:
        """A sync by the account whose key the caller has proved; ``platform`` as in the path."""
        started = time.perf_counter()
        if isinstance(platform, bytes):
            platform = platform.decode("utf-8", "replace")
        try:
            return self._sync(account_id, platform, body, started)
        except Exception as exc:
            return _failed(exc, client)

    def _sync(self, account_id: int, platform_text: str, body: bytes, started: float) -> Answer:
        wait, left, reset = self.syncs.hit(account_id)
        if wait is not None:
            return _too_many(wait)
        limit_headers = [("RateLimit-Limit", str(self.syncs.limit)), ("RateLimit-Remaining", str(left)),
                         ("RateLimit-Reset", str(math.ceil(reset)))]

        try:
            platform = platform_name(platform_text)
        except InvalidPlatformError:
            return 400, {"message": "Invalid platform type", "error": platform_sentence()}, limit_headers
        profile_id = self.social.profile_for_account(account_id)

        if len(body) > MAX_BODY_BYTES:
            return self._refused(profile_id, platform, started, 413, {
                "message": "Payload too large", "error": f"The body may be at most {MAX_BODY_BYTES} bytes."},
                limit_headers)
        data = _json_object(body)
        if data is None:
            error = SyncValidationError([{"message": '"value" must be of type object', "path": ["body"],
                                          "type": "object.base", "context": {"label": "value"}}])
            return self._refused(profile_id, platform, started, 400, error.to_json(), limit_headers)
        if data.get(HANDLE_FIELD) is not None and data.get("followers") is None:
            error = SyncValidationError([{
                "message": '"followers" is required: GiftDesk does not fetch a platform\'s numbers from a username '
                           "or id; send followers (and engagement) with it",
                "path": ["followers"], "type": "any.required", "context": {"key": "followers", "label": "followers"}}])
            return self._refused(profile_id, platform, started, 400, error.to_json(), limit_headers)
        try:
            validate_sync(platform, data.get("followers"), data.get("engagement"))
            handle = check_handle(platform, data)
        except SyncValidationError as exc:
            return self._refused(profile_id, platform, started, 400, exc.to_json(), limit_headers)
        if profile_id is None:
            return self._refused(None, platform, started, 404, _PROFILE_NOT_FOUND, limit_headers)

        try:
            profile = self.social.sync(profile_id, platform, data.get("followers"), data.get("engagement"),
                                       source="endpoint", started=started, check_role=False, handle=handle)
        except SyncValidationError as exc:  # pragma: no cover - validated above with the same rules
            return 400, exc.to_json(), limit_headers
        except NotFoundError:  # deleted since the lookup; the service recorded the failure
            return 404, _PROFILE_NOT_FOUND, limit_headers
        return 200, {"success": True, "message": f"Social media {platform_label(platform)} synced successfully",
                     "profile": profile.to_json()}, limit_headers

    def serve_batch(self, account_id: int, _parameter: bytes, body: bytes, client: str) -> Answer:
        """``POST /api/v1/profiles/social-sync`` with ``{"platforms": {"tiktok": {...}, ...}}``:
        every platform validated first (one 400 naming every bad field), each counted against the
        sync limit (all or none: 429), then all stored in one transaction."""
        started = time.perf_counter()
        try:
            return self._sync_batch(account_id, body, started)
        except Exception as exc:
            return _failed(exc, client)

    def _sync_batch(self, account_id: int, body: bytes, started: float) -> Answer:
        data = _json_object(body)
        details: list[dict[str, Any]] = []
        values: dict[str, SyncValues] = {}
        handles: dict[str, str] = {}
        platforms = data.get("platforms") if data is not None else None
        if data is None:
            details.append(_batch_detail(["body"], '"value" must be of type object', "object.base"))
        elif not isinstance(platforms, dict) or not platforms:
            details.append(_batch_detail(["platforms"], '"platforms" must be an object naming at least one platform',
                                         "object.base"))
        for key in (data or {}):
            if key != "platforms":
                details.append(_batch_detail([str(key)[:100]], f'"{str(key)[:100]}" is not allowed', "object.unknown"))
        for name, stats in (platforms.items() if isinstance(platforms, dict) else ()):
            try:
                platform = platform_name(name)
            except InvalidPlatformError:
                details.append(_batch_detail(["platforms", str(name)[:100]], platform_sentence(), "any.only"))
                continue
            if platform in values:
                details.append(_batch_detail(["platforms", str(name)[:100]], f'"{platform}" is named twice',
                                             "object.duplicate"))
                continue
            if not isinstance(stats, dict):
                details.append(_batch_detail(["platforms", platform], f'"{platform}" must be of type object',
                                             "object.base"))
                continue
            try:
                values[platform] = validate_sync(platform, stats.get("followers"), stats.get("engagement"))
            except SyncValidationError as exc:
                details += [{**d, "path": ["platforms", platform, *d["path"]]} for d in exc.details]
            try:
                handle = check_handle(platform, stats)
            except SyncValidationError as exc:
                details += [{**d, "path": ["platforms", platform, *d["path"]]} for d in exc.details]
            else:
                if handle is not None:
                    handles[platform] = handle
        if details:
            return 400, SyncValidationError(details).to_json(), []
        profile_id = self.social.profile_for_account(account_id)
        if profile_id is None:
            return 404, _PROFILE_NOT_FOUND, []
        wait = self.syncs.hit_all_or_none(account_id, len(values))
        if wait is not None:
            return _too_many(wait)
        try:
            profile = self.social.sync_batch(profile_id, values, source="endpoint", started=started, check_role=False,
                                             handles=handles)
        except NotFoundError:
            return 404, _PROFILE_NOT_FOUND, []
        names = ", ".join(platform_label(p) for p in values)
        return 200, {"success": True, "message": f"Social media {names} synced successfully",
                     "profile": profile.to_json()}, []

    def _refused(self, profile_id: int | None, platform: str, started: float, status: int, body: dict,
                 headers: list[tuple[str, str]]) -> Answer:
        reason = body.get("error") or "; ".join(d["message"] for d in body.get("details", ())) or body["message"]
        self.social.record_failure(profile_id, platform, "endpoint", f"{status} {body['message']}: {reason}",
                                   started=started, check_role=False)
        return status, body, headers

    def _account_for(self, token: str) -> int | None:
        """The account whose active API key is ``token``, or None."""
        digest = digest_key(token)
        with self.db.read_session() as session:
            row = session.execute(
                select(TrackerCredential.account_id, TrackerCredential.api_key_sha256, TrackerCredential.status)
                .where(TrackerCredential.api_key_sha256 == digest)
            ).first()
        stored = row[1] if row is not None else "0" * 64
        matches = hmac.compare_digest(stored.encode(), digest.encode())
        if row is None or not matches or row[2] != "active":
            return None
        return row[0]


HANDLE_FIELD = "usernameOrId"


def check_handle(platform: str, data: dict[str, Any]) -> str | None:
    """The client's ``usernameOrId`` (the platform's handle) beside the numbers: kept as the
    profile's handle on that platform. GiftDesk never looks stats up by handle, so a handle
    without numbers is refused saying so (before this is called)."""
    handle = data.get(HANDLE_FIELD)
    if handle is None:
        return None
    try:
        cleaned = clean_handle(platform, handle)
        if cleaned is None:
            raise ValidationError("empty", field=HANDLE_FIELD)
        return cleaned
    except ValidationError:
        raise SyncValidationError([{
            "message": f'"{HANDLE_FIELD}" must be a username or id of at most {MAX_HANDLE_LENGTH} characters, '
                       "without spaces or slashes",
            "path": [HANDLE_FIELD], "type": "string.base",
            "context": {"key": HANDLE_FIELD, "label": HANDLE_FIELD}}]) from None


def _batch_detail(path: list[str], message: str, type_: str) -> dict[str, Any]:
    return {"message": message, "path": path, "type": type_, "context": {"key": path[-1], "label": ".".join(path)}}


def _failed(exc: Exception, client: str) -> Answer:
    """507 on a full disk, else 500; both logged."""
    if isinstance(exc, DiskFullError):
        log.error("Social sync from %s not saved: %s", client, exc)
        return 507, DISK_FULL_ANSWER, []
    log.error("Social sync from %s failed", client, exc_info=exc)
    return 500, INTERNAL_ERROR, []


_PROFILE_NOT_FOUND = {"message": "Profile not found", "error": "User profile does not exist"}


TOO_MANY = {"message": "Too many sync requests", "error": "Please wait before syncing again"}


def _too_many(wait: float) -> Answer:
    return 429, TOO_MANY, [("Retry-After", str(max(1, math.ceil(wait))))]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _json_object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object with exact decimals, or None."""
    try:
        data = json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


# ---- the route ------------------------------------------------------------------------------------
def _encoded(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def sync_routes(handler: SocialSyncHandler | None) -> list[Route]:
    """The sync route; without a handler it answers 404 (not served) and is not in /openapi.json."""
    if handler is None:
        return [Route(ROUTE, unserved=_encoded({"message": "Not found",
                                                "error": "Social sync is not served by this endpoint."}))]
    refusals = Refusals(
        missing_key=(_encoded(MISSING_TOKEN), MISSING_TOKEN_CHALLENGE),
        invalid_key=(_encoded(INVALID_TOKEN), INVALID_TOKEN_CHALLENGE),
        too_many_failures=_encoded(TOO_MANY),
        too_large=_encoded({"message": "Payload too large", "error": f"The body may be at most {MAX_BODY_BYTES} bytes."}),
        internal_error=_encoded(INTERNAL_ERROR),
        stopping=_encoded({"message": "Service unavailable", "error": "The endpoint is stopping."}),
    )
    return [Route(ROUTE, work=handler.serve, auth=BEARER_KEY, max_body=MAX_BODY_BYTES, refusals=refusals,
                  openapi=_served_fragment, cors=True),
            Route(BATCH_ROUTE, work=handler.serve_batch, auth=BEARER_KEY, max_body=MAX_BODY_BYTES,
                  refusals=refusals, openapi=_batch_fragment, cors=True)]


def profile_routes_beside(handler: SocialSyncHandler | None) -> list[Route]:
    """The web client's profile routes (``giftdesk.social.profile_http``) on the sync handler's
    service, with its token refusals; none where the sync is not served."""
    from giftdesk.social.profile_http import ProfileHandler, profile_routes

    if handler is None:
        return []
    return profile_routes(ProfileHandler(handler.social), sync_routes(handler)[0].refusals)


def _batch_fragment() -> dict[str, Any]:
    """``POST /api/v1/profiles/social-sync`` for /openapi.json (schemas shared with the single sync's)."""
    single = openapi_fragment()["paths"][ROUTE]["post"]
    responses = {code: single["responses"][code] for code in ("200", "401", "404", "413", "429", "500", "507")}
    responses["400"] = {"description": "One or more platforms failed validation (every bad field named).",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SocialValidationError"}}}}
    responses["405"] = {"$ref": "#/components/responses/MethodNotAllowed"}
    def one(platform: str) -> dict[str, Any]:
        return {"type": "object", "required": ["followers"], "properties": {
            "followers": {"type": "number", "minimum": 0, "maximum": max_followers(platform)},
            "engagement": {"type": ["number", "null"], "minimum": 0, "maximum": 100}}}

    return {"paths": {BATCH_ROUTE: {"post": {
        "operationId": "social_sync_batch",
        "summary": "Record several platforms' followers and engagement at once",
        "description": ("Every platform is validated first; all are stored in one transaction or none. Each "
                        f"platform counts as one of the {SYNCS_PER_WINDOW} syncs a minute; a batch that would "
                        "exceed them is refused whole (429)."),
        "tags": ["social"], "security": [{"SocialBearer": []}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"type": "object", "required": ["platforms"], "additionalProperties": False, "properties": {
                "platforms": {"type": "object", "minProperties": 1, "additionalProperties": False,
                              "properties": {p: one(p) for p in SOCIAL_PLATFORMS}}}},
            "example": {"platforms": {"tiktok": {"followers": 1000, "engagement": 7.5},
                                      "instagram": {"followers": 15000, "engagement": 4.2}}}}}},
        "responses": responses,
    }}}}


def _served_fragment() -> dict[str, Any]:
    """``openapi_fragment()`` as the endpoint serves it: with its 405, the OPTIONS parameter, a tag
    and a note in the document's description."""
    fragment = openapi_fragment()
    path_item = fragment["paths"][ROUTE]
    path_item["post"]["responses"]["405"] = {"$ref": "#/components/responses/MethodNotAllowed"}
    # OPTIONS answers for any platform segment (the 400 for an unknown platform is POST's).
    path_item["options"] = {"parameters": [{
        "name": "platform", "in": "path", "required": True,
        "schema": {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}}]}
    fragment["tags"] = [{"name": "social", "description": "Creator social stats"}]
    fragment["notes"] = (
        " `POST /api/v1/profiles/social-sync/{platform}` takes `Authorization: Bearer <token>`, the API "
        "key of the TikTok account linked to the profile; its errors are `{\"message\": ..., \"error\": ...}` "
        "(or `details` for validation) and its body may be at most 16 KiB.")
    return fragment


# ---- OpenAPI --------------------------------------------------------------------------------
def openapi_fragment() -> dict[str, Any]:
    """The route's ``paths`` entry and the ``components`` it refers to, to merge into /openapi.json."""

    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{name}"}

    def error(description: str, schema: str, example: dict, headers: dict | None = None) -> dict[str, Any]:
        response: dict[str, Any] = {"description": description,
                                    "content": {"application/json": {"schema": ref(schema), "example": example}}}
        if headers:
            response["headers"] = headers
        return response

    platform_stat = {"type": "object", "required": ["followers", "engagement"], "additionalProperties": False,
                     "properties": {"followers": {"type": "integer", "minimum": 0},
                                    "engagement": {"type": "number", "minimum": 0, "maximum": 100}}}
    nullable_text = {"type": ["string", "null"]}
    example_profile_stats = {
        "platformBreakdown": {"tiktok": {"followers": 1000, "engagement": 7.5},
                              "instagram": {"followers": 15925, "engagement": 2.91},
                              "youtube": {"followers": 7100, "engagement": 2.66},
                              "twitch": {"followers": 0, "engagement": 0},
                              "twitter": {"followers": 0, "engagement": 0}},
        "totalFollowers": 24025, "avgEngagement": 4.36,
    }
    rate_headers = {
        "RateLimit-Limit": {"schema": {"type": "integer"}, "description": "Syncs allowed per minute for this profile."},
        "RateLimit-Remaining": {"schema": {"type": "integer"}},
        "RateLimit-Reset": {"schema": {"type": "integer"}, "description": "Seconds until the window frees a sync."},
    }
    return {
        "paths": {ROUTE: {"post": {
            "operationId": "social_sync",
            "summary": "Record a creator's followers and engagement on one platform",
            "description": ("Updates the platform's stats of the profile linked to the token's TikTok account, "
                            "recomputes `totalFollowers` (the sum) and `avgEngagement` (the mean over platforms "
                            "with engagement above 0), keeps the sync in the profile's history, and answers with "
                            f"the whole profile once committed. At most {SYNCS_PER_WINDOW} syncs a minute per "
                            "profile."),
            "tags": ["social"],
            "security": [{"SocialBearer": []}],
            "parameters": [{"name": "platform", "in": "path", "required": True,
                            "schema": {"type": "string", "enum": list(SOCIAL_PLATFORMS)}}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": ref("SocialSyncRequest"), "example": {"followers": 1000, "engagement": 7.5}}}},
            "responses": {
                "200": {"description": "Synced.", "headers": rate_headers, "content": {"application/json": {
                    "schema": ref("SocialSyncResponse"),
                    "example": {"success": True, "message": "Social media Tiktok synced successfully",
                                "profile": {"id": 1, "displayName": "Yash Gupta", "stats": example_profile_stats}}}}},
                "400": {"description": "Invalid platform type, or the body failed validation.",
                        "content": {"application/json": {"schema": {"oneOf": [ref("SocialError"),
                                                                              ref("SocialValidationError")]}}}},
                "401": error("Missing, unknown or deactivated token.", "SocialError",
                             {"message": "Unauthorized", "error": "Invalid or missing token"},
                             {"WWW-Authenticate": {"schema": {"type": "string"}}}),
                "404": error("No profile is linked to the token's TikTok account.", "SocialError",
                             {"message": "Profile not found", "error": "User profile does not exist"}),
                "413": error("The body is too large.", "SocialError",
                             {"message": "Payload too large", "error": f"The body may be at most {MAX_BODY_BYTES} bytes."}),
                "429": error("Too many syncs for this profile (or failed authentications from this address).",
                             "SocialError", {"message": "Too many sync requests", "error": "Please wait before syncing again"},
                             {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}),
                "500": error("The sync could not be saved.", "SocialError",
                             {"message": "Internal server error", "error": "The sync could not be saved; see the log."}),
                "507": error("The server's disk is full; nothing was saved.", "SocialError", DISK_FULL_ANSWER),
            },
        }}},
        "components": {
            "securitySchemes": {"SocialBearer": {
                "type": "http", "scheme": "bearer",
                "description": "The API key of the TikTok account linked to the profile (as shown in the console)."}},
            "schemas": {
                "SocialSyncRequest": {
                    "type": "object", "required": ["followers"],
                    "properties": {
                        "followers": {"type": "number", "minimum": 0, "maximum": max_followers("tiktok"),
                                      "description": "Floored to a whole number. Twitch: at most "
                                                     f"{max_followers('twitch'):,}."},
                        "engagement": {"type": ["number", "null"], "minimum": 0, "maximum": 100,
                                       "description": "Percent; kept with two decimals. Missing or null: 0."},
                    },
                },
                "SocialStats": {
                    "type": "object", "required": ["platformBreakdown", "totalFollowers", "avgEngagement"],
                    "properties": {
                        "platformBreakdown": {"type": "object", "required": list(SOCIAL_PLATFORMS),
                                              "properties": {p: platform_stat for p in SOCIAL_PLATFORMS}},
                        "totalFollowers": {"type": "integer", "minimum": 0},
                        "avgEngagement": {"type": "number", "minimum": 0, "maximum": 100},
                    },
                },
                "SocialProfile": {
                    "type": "object",
                    "required": ["id", "displayName", "stats", "isPublic", "isActive", "location", "niche"],
                    "properties": {
                        "id": {"type": "integer"}, "displayName": {"type": "string"}, "bio": {"type": "string"},
                        "avatar": {"type": "string"}, "profileUrl": {"type": "string"},
                        "niche": {"type": "array", "items": {"type": "string"}},
                        "location": {"type": "object", "properties": {
                            "city": {"type": "string"}, "state": {"type": "string"}, "country": {"type": "string"}}},
                        "isPublic": {"type": "boolean"}, "isActive": {"type": "boolean"},
                        "lastSeen": {"type": ["string", "null"], "format": "date-time"},
                        "customerId": {"type": ["integer", "null"]}, "customerName": nullable_text,
                        "accountId": {"type": ["integer", "null"]}, "tiktokUsername": nullable_text,
                        "stats": ref("SocialStats"),
                        "change7d": {"type": ["integer", "null"]}, "change30d": {"type": ["integer", "null"]},
                        "createdAt": {"type": "string", "format": "date-time"},
                        "updatedAt": {"type": "string", "format": "date-time"},
                        "userId": {"type": ["string", "null"], "pattern": "^[0-9a-f]{24}$",
                                   "description": "The creator's id in the web app (an ObjectId)."},
                        "rizzScore": {"type": "integer", "minimum": 0, "maximum": 100},
                        "preferences": ref("SocialPreferences"),
                        "socialLinks": {"type": "object", "additionalProperties": {"type": "string"},
                                        "description": "Each platform's page: its stored link, else its handle's page."},
                        "platformHandles": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                },
                "SocialPreferences": preferences_schema(),
                "SocialSyncResponse": {
                    "type": "object", "required": ["success", "message", "profile"],
                    "properties": {"success": {"const": True}, "message": {"type": "string"},
                                   "profile": ref("SocialProfile")},
                },
                "SocialError": {
                    "type": "object", "required": ["message", "error"],
                    "properties": {"message": {"type": "string"}, "error": {"type": "string"}},
                },
                "SocialValidationError": {
                    "type": "object", "required": ["message", "details"],
                    "properties": {
                        "message": {"const": "Validation failed"},
                        "details": {"type": "array", "minItems": 1, "items": {
                            "type": "object", "required": ["message", "path", "type", "context"],
                            "properties": {"message": {"type": "string"},
                                           "path": {"type": "array", "items": {"type": "string"}},
                                           "type": {"type": "string"}, "context": {"type": "object"}}}},
                    },
                },
            },
        },
    }
