"""The web client's profile routes, without the transport (``giftdesk.core.routes``):

* ``GET /api/v1/profiles/me``: the profile linked to the Bearer key's TikTok account;
* ``PUT /api/v1/profiles/me``: what a creator may change of their own profile, validated as the
  window's form is (``SocialService.update``) and audited with the key's account as the actor;
* ``GET /api/v1/profiles/{profile}/public``: a public, active profile's public fields, by id or
  by ``@username`` (the linked TikTok account's handle); no key, a budget per client address.

The errors are the sync route's: ``{"message": ..., "error": ...}``, or ``{"message":
"Validation failed", "details": [...]}`` naming every refused field.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from giftdesk.core.clock import iso
from giftdesk.core.context import Actor, ServiceContext
from giftdesk.core.errors import ConflictError, DiskFullError, NotFoundError, ValidationError
from giftdesk.core.routes import BEARER_KEY, Refusals, Route
from giftdesk.social.profile_fields import BoundsCrossedError
from giftdesk.social.records import Profile
from giftdesk.social.service import SocialService

log = logging.getLogger(__name__)

ME_ROUTE = "/api/v1/profiles/me"
PUBLIC_ROUTE = "/api/v1/profiles/{profile}/public"
MAX_PROFILE_BODY_BYTES = 16 * 1024
PUBLIC_READS_PER_MINUTE = 60  # per client address

Answer = tuple[int, dict[str, Any], list[tuple[str, str]]]

PROFILE_NOT_FOUND = {"message": "Profile not found", "error": "User profile does not exist"}
INTERNAL_ERROR = {"message": "Internal server error", "error": "The request failed; see the log."}
DISK_FULL = {"message": "Insufficient storage", "error": "The server's disk is full; nothing was saved."}
TOO_MANY_READS = {"message": "Too many requests", "error": "Please wait before reading profiles again"}

# The body's names -> the service's fields (a creator's own, editable ones).
_EDITABLE = {"displayName": "display_name", "bio": "bio", "avatar": "avatar_url", "profileUrl": "profile_url",
             "niche": "niches", "isPublic": "is_public"}
_LOCATION_PARTS = ("city", "state", "country")
# What the body may hold, as /openapi.json documents it (``profile_openapi``) and checked before
# the service's own rules: (JSON types, longest length, a pattern the text must match).
_URL = (r"^(https?://[^\s/?#@\[\]\x00-\x1f\x7f-\x9f\u2028\u2029]+"
        r"([/?#][^\x00-\x1f\x7f-\x9f\u2028\u2029]*)?)?$")
BODY_RULES: dict[str, tuple[tuple[type, ...], int | None, str | None]] = {
    "displayName": ((str,), 200, r"\S"),
    "bio": ((str, type(None)), 2000, None),
    "avatar": ((str, type(None)), 500, _URL),
    "profileUrl": ((str, type(None)), 500, _URL),
    "niche": ((list, type(None)), 20, None),
    "isPublic": ((bool,), None, None),
}
LOCATION_MAX_LENGTH = 100
NICHE_MAX_LENGTH = 50
_TYPE_NAMES = {str: "string", list: "array", bool: "boolean", type(None): "null"}
# Refused with a reason rather than as unknown: the agency sets them, not the creator.
_NOT_STORED = {"userId": '"userId" is set by the agency, not by the profile\'s owner',
               "rizzScore": '"rizzScore" is set by the agency, not by the profile\'s owner'}
# preferences' parts -> the service's fields.
_PREFERENCE_BOUNDS = {"audienceSize": ("audience_min", "audience_max"), "budget": ("budget_min", "budget_max")}
_PREFERENCE_LISTS = {"collaborationTypes": "collaboration_types", "locations": "preferred_locations"}
# Per-platform maps: the body's name -> the service's field.
_PER_PLATFORM = {"socialLinks": "social_links", "platformHandles": "platform_handles"}
# The service's field -> the body's name, for a refusal the service makes (e.g. min above max).
_BODY_NAMES = {**{v: k for k, v in _EDITABLE.items()}, "audience_min": "preferences.audienceSize.min",
               "budget_min": "preferences.budget.min", "user_id": "userId"}


def social_links(profile: Profile) -> dict[str, str]:
    """Every platform's page GiftDesk knows: its stored link, else its handle's page, else (TikTok)
    the linked account's page."""
    if profile.extras is not None:
        return profile.extras.links(profile.tiktok_username)
    if not profile.tiktok_username:
        return {}
    return {"tiktok": f"https://www.tiktok.com/@{profile.tiktok_username}"}


def last_synced(profile: Profile) -> str | None:
    moments = [stat.synced_at for stat in (profile.platforms or {}).values() if stat.synced_at is not None]
    return iso(max(moments)) if moments else None


def own_profile_json(profile: Profile) -> dict[str, Any]:
    """What the creator sees of their own profile: everything, plus the client's names."""
    data = profile.to_json()
    data["username"] = profile.tiktok_username
    data["stats"]["lastSynced"] = last_synced(profile)
    data["socialLinks"] = social_links(profile)
    return data


def public_profile_json(profile: Profile) -> dict[str, Any]:
    """What anyone may see: no customer, account, history or timestamps but the last sync."""
    stats = profile.stats_json()
    stats["lastSynced"] = last_synced(profile)
    return {"id": profile.id, "username": profile.tiktok_username, "displayName": profile.display_name,
            "bio": profile.bio or "", "avatar": profile.avatar_url or "", "profileUrl": profile.profile_url or "",
            "niche": list(profile.niches),
            "location": {"city": profile.city or "", "state": profile.state or "", "country": profile.country or ""},
            "stats": stats, "socialLinks": social_links(profile),
            **({"rizzScore": profile.extras.rizz_score} if profile.extras is not None else {})}


def _detail(key: str, message: str, type_: str, **context: Any) -> dict[str, Any]:
    return {"message": message, "path": key.split("."), "type": type_, "context": {"key": key, "label": key, **context}}


def _validation_failed(details: list[dict[str, Any]]) -> Answer:
    return 400, {"message": "Validation failed", "details": details}, []


class ProfileHandler:
    def __init__(self, social: SocialService):
        self.social = social

    # ---- GET /api/v1/profiles/me ----------------------------------------------------------
    def me(self, account_id: int, _parameter: bytes, _body: bytes, client: str) -> Answer:
        try:
            profile_id = self.social.profile_for_account(account_id)
            if profile_id is None:
                return 404, PROFILE_NOT_FOUND, []
            return 200, {"success": True, "profile": own_profile_json(self.social.get(profile_id))}, []
        except NotFoundError:
            return 404, PROFILE_NOT_FOUND, []
        except Exception as exc:
            return _failed(exc, client)

    # ---- PUT /api/v1/profiles/me ----------------------------------------------------------
    def update_me(self, account_id: int, _parameter: bytes, body: bytes, client: str) -> Answer:
        try:
            data = _json_object(body)
            if data is None:
                return _validation_failed([_detail("body", '"value" must be of type object', "object.base")])
            fields, details = self._fields(data)
            if details:
                return _validation_failed(details)
            profile_id = self.social.profile_for_account(account_id)
            if profile_id is None:
                return 404, PROFILE_NOT_FOUND, []
            profile = self._as_creator(account_id).update(profile_id, **fields)
            return 200, {"success": True, "message": "Profile updated", "profile": own_profile_json(profile)}, []
        except NotFoundError:
            return 404, PROFILE_NOT_FOUND, []
        except BoundsCrossedError as exc:  # each bound fine alone: a conflict with the other (maybe stored) one
            return 409, {"message": "Conflicting values", "error": str(exc)}, []
        except (ValidationError, ConflictError) as exc:  # checked above; a race or a rule of the service
            field = getattr(exc, "field", None)
            return _validation_failed([_detail(_BODY_NAMES.get(field, field) or "body", str(exc), "any.invalid")])
        except Exception as exc:
            return _failed(exc, client)

    def _fields(self, data: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The service's fields from the body, and a detail for every refused one (all at once)."""
        given: dict[str, tuple[str, Any]] = {}  # service field -> (the body's name, value)
        details: list[dict[str, Any]] = []
        for key, value in data.items():
            if key in _EDITABLE:
                problem = _against_rules(key, value)
                if problem is not None:
                    details.append(_detail(key, problem, "any.invalid"))
                    continue
                given[_EDITABLE[key]] = (key, value)
            elif key == "location":
                if not isinstance(value, dict):
                    details.append(_detail("location", '"location" must be of type object', "object.base"))
                    continue
                for part, text in value.items():
                    if part in _LOCATION_PARTS:
                        if text is not None and (not isinstance(text, str) or len(text) > LOCATION_MAX_LENGTH):
                            details.append(_detail(f"location.{part}", f'"location.{part}" must be a string of at '
                                                   f"most {LOCATION_MAX_LENGTH} characters", "string.base"))
                            continue
                        given[part] = (f"location.{part}", text)
                    else:
                        details.append(_detail(f"location.{part}", f'"location.{part}" is not allowed',
                                               "object.unknown"))
            elif key == "preferences":
                details += self._preferences(value, given)
            elif key in _PER_PLATFORM:
                details += self._per_platform(key, value, given)
            elif key in _NOT_STORED:
                details.append(_detail(key, _NOT_STORED[key], "object.unknown"))
            else:
                details.append(_detail(str(key)[:100], f'"{str(key)[:100]}" is not allowed', "object.unknown"))
        cleaned: dict[str, Any] = {}
        for field, (name, value) in given.items():
            try:
                SocialService.check_fields({field: value})
            except (ValidationError, ValueError) as exc:  # ValueError: urlparse's, e.g. on a bad IPv6 host
                details.append(_detail(name, str(exc), "any.invalid"))
            else:
                cleaned[field] = value
        if not data:
            details.append(_detail("body", '"value" must have at least 1 key', "object.min"))
        return cleaned, details

    @staticmethod
    def _preferences(value: Any, given: dict[str, tuple[str, Any]]) -> list[dict[str, Any]]:
        """``preferences``' parts into ``given``; a detail for each refused part."""
        if not isinstance(value, dict):
            return [_detail("preferences", '"preferences" must be of type object', "object.base")]
        details = []
        for part, inner in value.items():
            name = f"preferences.{str(part)[:100]}"
            if part in _PREFERENCE_BOUNDS:
                if not isinstance(inner, dict):
                    details.append(_detail(name, f'"{name}" must be an object with min and max', "object.base"))
                    continue
                for bound, text in inner.items():
                    if bound not in ("min", "max"):
                        details.append(_detail(f"{name}.{str(bound)[:20]}", f'"{name}.{str(bound)[:20]}" is not '
                                               "allowed", "object.unknown"))
                    elif isinstance(text, bool) or not isinstance(text, (int, float)):
                        details.append(_detail(f"{name}.{bound}", f'"{name}.{bound}" must be a number',
                                               "number.base"))
                    else:
                        field = _PREFERENCE_BOUNDS[part][0 if bound == "min" else 1]
                        given[field] = (f"{name}.{bound}", text)
            elif part in _PREFERENCE_LISTS:
                if inner is not None and not (isinstance(inner, list) and all(isinstance(i, str) for i in inner)):
                    details.append(_detail(name, f'"{name}" must be an array of strings', "array.base"))
                else:
                    given[_PREFERENCE_LISTS[part]] = (name, inner)
            else:
                details.append(_detail(name, f'"{name}" is not allowed', "object.unknown"))
        return details

    @staticmethod
    def _per_platform(key: str, value: Any, given: dict[str, tuple[str, Any]]) -> list[dict[str, Any]]:
        """``socialLinks`` or ``platformHandles``: platform -> text (null or "" clears it); the
        platforms not sent keep theirs."""
        if not isinstance(value, dict):
            return [_detail(key, f'"{key}" must be of type object', "object.base")]
        details = []
        for platform, text in value.items():
            name = f"{key}.{str(platform)[:100]}"
            if text is not None and (not isinstance(text, str) or len(text) > 500):
                details.append(_detail(name, f'"{name}" must be a string of at most 500 characters or null',
                                       "string.base"))
                continue
            try:
                SocialService.check_fields({_PER_PLATFORM[key]: {platform: text}})
            except (ValidationError, ValueError) as exc:
                details.append(_detail(name, str(exc), "any.invalid"))
                continue
            field = _PER_PLATFORM[key]
            changes = given.get(field, (key, {}))[1]
            given[field] = (key, {**changes, platform: text})
        return details

    def _as_creator(self, account_id: int) -> SocialService:
        """The service acting as the key's account (its audit entries and change log name it)."""
        ctx = self.social.ctx
        actor = Actor(f"api key of account {account_id}", role="operator")
        return SocialService(ServiceContext(ctx.db, ctx.secrets, ctx.events, actor))

    # ---- GET /api/v1/profiles/{profile}/public ------------------------------------------------
    def public(self, _account: None, parameter: bytes, _body: bytes, client: str) -> Answer:
        try:
            reference = parameter.decode("utf-8")
        except UnicodeDecodeError:
            return 404, PROFILE_NOT_FOUND, []
        try:
            if reference.startswith("@"):
                profile_id = self.social.profile_for_username(reference)
            elif reference.isascii() and reference.isdigit() and len(reference) < 12:
                profile_id = int(reference)
            else:
                profile_id = None
            if profile_id is None:
                return 404, PROFILE_NOT_FOUND, []
            profile = self.social.get(profile_id)
            if not (profile.is_public and profile.is_active):
                return 404, PROFILE_NOT_FOUND, []
            return 200, {"success": True, "profile": public_profile_json(profile)}, []
        except NotFoundError:
            return 404, PROFILE_NOT_FOUND, []
        except Exception as exc:
            return _failed(exc, client)


def _against_rules(key: str, value: Any) -> str | None:
    """Why ``value`` breaks the documented rules for ``key``, or None."""
    types, longest, pattern = BODY_RULES[key]
    if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
        return f'"{key}" must be of type {" or ".join(_TYPE_NAMES[t] for t in types)}'
    if isinstance(value, list):
        if len(value) > longest or not all(isinstance(item, str) and len(item) <= NICHE_MAX_LENGTH for item in value):
            return f'"{key}" must be at most {longest} strings of at most {NICHE_MAX_LENGTH} characters'
    elif isinstance(value, str):
        if len(value) > longest:
            return f'"{key}" must be at most {longest} characters'
        if pattern is not None and re.search(pattern, value) is None:
            return f'"{key}" must match {pattern}'
    return None


def _failed(exc: Exception, client: str) -> Answer:
    if isinstance(exc, DiskFullError):
        log.error("Profile request from %s not saved: %s", client, exc)
        return 507, DISK_FULL, []
    log.error("Profile request from %s failed", client, exc_info=exc)
    return 500, INTERNAL_ERROR, []


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _encoded(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


# ---- the routes ------------------------------------------------------------------------------
def profile_routes(handler: ProfileHandler | None, bearer_refusals: Refusals) -> list[Route]:
    """The profile routes (none without a handler); ``bearer_refusals``: the sync route's 401s."""
    if handler is None:
        return []
    refusals = Refusals(
        missing_key=bearer_refusals.missing_key, invalid_key=bearer_refusals.invalid_key,
        too_many_failures=bearer_refusals.too_many_failures, too_many_requests=_encoded(TOO_MANY_READS),
        too_large=_encoded({"message": "Payload too large",
                            "error": f"The body may be at most {MAX_PROFILE_BODY_BYTES} bytes."}),
        internal_error=_encoded(INTERNAL_ERROR), stopping=bearer_refusals.stopping,
    )
    from giftdesk.social.profile_openapi import me_fragment, public_fragment

    return [
        Route(ME_ROUTE, get_work=handler.me, put_work=handler.update_me, auth=BEARER_KEY,
              max_body=MAX_PROFILE_BODY_BYTES, refusals=refusals, cors=True, openapi=me_fragment),
        Route(PUBLIC_ROUTE, get_work=handler.public, per_address_per_minute=PUBLIC_READS_PER_MINUTE,
              max_body=MAX_PROFILE_BODY_BYTES, refusals=refusals, cors=True, openapi=public_fragment),
    ]
