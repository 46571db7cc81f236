"""The profile routes' ``/openapi.json`` fragments (``giftdesk.social.profile_http``); the shared
schemas (``SocialStats``, ``SocialError``, ``SocialValidationError``, the ``SocialBearer`` scheme)
are the sync route's."""

from __future__ import annotations

from typing import Any

from giftdesk.db.social_models import SOCIAL_PLATFORMS
from giftdesk.social.profile_fields import MAX_HANDLE_LENGTH, handle_pattern, link_pattern, preferences_schema

from giftdesk.social.profile_http import (
    BODY_RULES,
    LOCATION_MAX_LENGTH,
    NICHE_MAX_LENGTH,
    DISK_FULL,
    INTERNAL_ERROR,
    MAX_PROFILE_BODY_BYTES,
    ME_ROUTE,
    PROFILE_NOT_FOUND,
    PUBLIC_READS_PER_MINUTE,
    PUBLIC_ROUTE,
    TOO_MANY_READS,
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str, example: dict, schema: str = "SocialError", headers: dict | None = None) -> dict:
    response: dict[str, Any] = {"description": description,
                                "content": {"application/json": {"schema": _ref(schema), "example": example}}}
    if headers:
        response["headers"] = headers
    return response


_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
_UNAUTHORIZED = _error("Missing, unknown or deactivated token.",
                       {"message": "Unauthorized", "error": "Invalid or missing token"},
                       headers={"WWW-Authenticate": {"schema": {"type": "string"}}})
_NOT_FOUND = _error("No profile (or, for the public read, none that is public and active).", PROFILE_NOT_FOUND)
_SERVER_ERRORS = {"500": _error("The request failed.", INTERNAL_ERROR),
                  "507": _error("The server's disk is full; nothing was saved.", DISK_FULL)}
_METHOD_NOT_ALLOWED = {"$ref": "#/components/responses/MethodNotAllowed"}
_LOCATION = {"type": "object", "properties": {"city": {"type": "string"}, "state": {"type": "string"},
                                              "country": {"type": "string"}}}
_LINKS = {"type": "object", "additionalProperties": {"type": "string"},
          "description": ("Each platform's page: its stored link, else its handle's page, else (TikTok) the "
                          "linked account's page.")}


def _per_platform(description: str, longest: int, pattern) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "description": description,
            "properties": {p: {"type": ["string", "null"], "maxLength": longest, "pattern": pattern(p)}
                           for p in SOCIAL_PLATFORMS}}


def _stats() -> dict[str, Any]:
    return {"allOf": [_ref("SocialStats"), {"type": "object", "properties": {
        "lastSynced": {"type": ["string", "null"], "format": "date-time"}}}]}


_DESCRIPTIONS = {"avatar": "An http(s) URL; empty or null clears it.", "niche": "Lower-cased, without repeats.",
                 "isPublic": "Whether the public read shows the profile."}


def _rule_schema(key: str) -> dict[str, Any]:
    types, longest, pattern = BODY_RULES[key]
    names = [{str: "string", list: "array", bool: "boolean", type(None): "null"}[t] for t in types]
    schema: dict[str, Any] = {"type": names if len(names) > 1 else names[0]}
    if list in types:
        schema.update(maxItems=longest, items={"type": "string", "maxLength": NICHE_MAX_LENGTH})
    elif longest is not None:
        schema["maxLength"] = longest
    if pattern is not None:
        schema["pattern"] = pattern
    if key in _DESCRIPTIONS:
        schema["description"] = _DESCRIPTIONS[key]
    return schema


def me_fragment() -> dict[str, Any]:
    own = {"allOf": [_ref("SocialProfile"), {"type": "object", "required": ["username", "socialLinks"], "properties": {
        "username": {"type": ["string", "null"], "description": "The linked TikTok account's handle, without @."},
        "stats": _stats(), "socialLinks": _LINKS, "rizzScore": {"type": "integer", "minimum": 0, "maximum": 100}}}]}
    answer = {"type": "object", "required": ["success", "profile"],
              "properties": {"success": {"const": True}, "message": {"type": "string"}, "profile": own}}
    update = {
        "type": "object", "minProperties": 1, "additionalProperties": False,
        "properties": {
            **{key: _rule_schema(key) for key in BODY_RULES},
            "location": {"type": "object", "additionalProperties": False, "properties": {
                p: {"type": ["string", "null"], "maxLength": LOCATION_MAX_LENGTH} for p in ("city", "state", "country")}},
            "preferences": {**preferences_schema(), "description": (
                "Any part; the parts not sent stay. min is not more than max (with the stored other bound).")},
            "socialLinks": _per_platform("A platform's page, a full http(s) address on that platform's site; null "
                                         "or empty clears it; the platforms not sent keep theirs.", 500, link_pattern),
            "platformHandles": _per_platform("A platform's handle (a leading @ is dropped); null or empty clears "
                                             "it; the platforms not sent keep theirs.", MAX_HANDLE_LENGTH + 1,
                                             lambda _platform: handle_pattern()),
        },
    }
    bearer = [{"SocialBearer": []}]
    return {"paths": {ME_ROUTE: {
        "get": {"operationId": "social_profile_me", "summary": "The profile linked to the token's TikTok account",
                "tags": ["social"], "security": bearer,
                "responses": {"200": {"description": "The profile.",
                                      "content": {"application/json": {"schema": answer}}},
                              "401": _UNAUTHORIZED, "404": _NOT_FOUND, "405": _METHOD_NOT_ALLOWED,
                              "500": _SERVER_ERRORS["500"]}},
        "put": {"operationId": "social_profile_update_me",
                "summary": ("Change one's own profile (display name, bio, avatar, niches, location, visibility, "
                            "preferences, social links and handles)"),
                "description": ("Only the fields sent change; empty or null clears an optional one. Validated as "
                                "the console's profile form is; every refused field is named in one 400. "
                                f"The body may be at most {MAX_PROFILE_BODY_BYTES // 1024} KiB."),
                "tags": ["social"], "security": bearer,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": update, "example": {"avatar": "https://cdn.example.com/me.png"}}}},
                "responses": {"200": {"description": "Saved.", "content": {"application/json": {"schema": answer}}},
                              "400": _error("The body failed validation.",
                                            {"message": "Validation failed", "details": [{
                                                "message": "avatar URL must be an http(s) URL", "path": ["avatar"],
                                                "type": "any.invalid", "context": {"key": "avatar"}}]},
                                            "SocialValidationError"),
                              "401": _UNAUTHORIZED, "404": _NOT_FOUND,
                              "409": _error("A smallest preference bound above the largest (with the other bound as "
                                            "sent or as stored); nothing was saved.",
                                            {"message": "Conflicting values",
                                             "error": "The smallest budget must not be more than the largest."}),
                              "413": _error("The body is too large.", {"message": "Payload too large",
                                                                       "error": "The body is too large."}),
                              **_SERVER_ERRORS}},
    }}}


def public_fragment() -> dict[str, Any]:
    public = {"type": "object", "required": ["id", "displayName", "stats", "socialLinks"], "properties": {
        "id": {"type": "integer"}, "username": {"type": ["string", "null"]}, "displayName": {"type": "string"},
        "bio": {"type": "string"}, "avatar": {"type": "string"}, "profileUrl": {"type": "string"},
        "niche": {"type": "array", "items": {"type": "string"}}, "location": _LOCATION,
        "stats": _stats(), "socialLinks": _LINKS, "rizzScore": {"type": "integer", "minimum": 0, "maximum": 100}}}
    return {"paths": {PUBLIC_ROUTE: {"get": {
        "operationId": "social_profile_public",
        "summary": "A public, active profile's public fields, by id or by @username",
        "description": (f"No key. At most {PUBLIC_READS_PER_MINUTE} reads a minute per client address. "
                        "`{profile}` is the profile's id or `@` and its linked TikTok account's handle."),
        "tags": ["social"],
        "parameters": [{"name": "profile", "in": "path", "required": True,
                        "schema": {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}}],
        "responses": {"200": {"description": "The public profile.", "content": {"application/json": {"schema": {
                          "type": "object", "required": ["success", "profile"],
                          "properties": {"success": {"const": True}, "profile": public}}}}},
                      "404": _NOT_FOUND, "405": _METHOD_NOT_ALLOWED,
                      "429": _error("Too many reads from this address.", TOO_MANY_READS, headers=_RETRY_AFTER),
                      "500": _SERVER_ERRORS["500"]},
    }}}}
