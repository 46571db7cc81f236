"""Tracker documents (the tracker API's InstanceData): gift groups, config and analytics per account.

The validation here is the contract with trackers in the field; the endpoint and the console's
editors both go through it, so whatever one side saves the other can read.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from giftdesk.db.models import TRACKER_DATA_TYPES, TrackerData
from giftdesk.db.types import utcnow
from giftdesk.core.errors import ValidationError
from giftdesk.core.context import ServiceContext
from giftdesk.db.lookups import account_or_error
from giftdesk.accounts.events import TrackerDataSaved

GIFT_GROUPS, CONFIG, ANALYTICS = TRACKER_DATA_TYPES
SAVE_MESSAGES = {
    GIFT_GROUPS: "Gift groups saved successfully",
    CONFIG: "Configuration saved successfully",
    ANALYTICS: "Analytics saved successfully",
}
MAX_GROUPS = 500
MAX_GIFT_IDS = 10_000
# Arrays and objects nested deeper than this are refused: far below what json, SQLAlchemy and
# the console's editors handle (they fail near 1,000 levels), far above what a tracker sends.
MAX_DEPTH = 64
NESTED_TOO_DEEPLY = f"The request body is nested too deeply: at most {MAX_DEPTH} levels of arrays and objects."
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
# One character that is neither white space nor a control character: what makes a name or a group
# id not blank. Spelt out (no \s), so that the OpenAPI document's pattern means the same to every
# regex engine that reads it as it does here.
VISIBLE_CHARACTER = (r"[^\t\n\v\f\r \x00-\x1f\x7f-\x9f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f"
                     r"\u205f\u3000\ufeff]")
_VISIBLE = re.compile(VISIBLE_CHARACTER)
# The tracker's known config keys and their types; trackers also keep "target" and "comboTimeout" (numbers).
CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "tiktokUsername": (str,),
    "theme": (str,),
    "language": (str,),
    "notifications": (bool,),
    "autoConnect": (bool,),
}
CONFIG_NUMBERS = ("target", "comboTimeout")
_TYPE_NAMES = {str: "a string", bool: "true or false"}


def _whole(value: Any) -> int | None:
    """An integer as JSON means it: 2133 and 2133.0 are both 2133 (JSON Schema's ``integer`` agrees)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value and abs(value) != float("inf")


def validate_groups(groups: Any, field: str = "groups") -> dict[str, Any]:
    """Each group: name, #rrggbb colour, whole non-negative gift ids; optional non-negative whole goal.

    Returns the groups with ids and goals as integers (2133.0 becomes 2133); fields the tracker
    adds beyond these are kept as they come.
    """
    if not isinstance(groups, dict):
        raise ValidationError(f"{field} must be an object of groups keyed by id.", field=field)
    if len(groups) > MAX_GROUPS:
        raise ValidationError(f"{field} may hold at most {MAX_GROUPS} groups.", field=field)
    normalized: dict[str, Any] = {}
    for group_id, group in groups.items():
        where = f"{field}.{group_id}"
        if not _VISIBLE.search(group_id) or len(group_id) > 100:
            raise ValidationError(f"Group ids must be 1-100 characters ({where!r}).", field=where)
        if not isinstance(group, dict):
            raise ValidationError(f"{where} must be an object.", field=where)
        name = group.get("name")
        if not isinstance(name, str) or not _VISIBLE.search(name) or len(name) > 200:
            raise ValidationError(f"{where}.name is required: text of 1-200 characters.", field=f"{where}.name")
        color = group.get("color")
        if not isinstance(color, str) or not _COLOR.match(color):
            raise ValidationError(f"{where}.color must be a colour like #ff0000.", field=f"{where}.color")
        gift_ids = group.get("giftIds")
        whole_ids = [_whole(g) for g in gift_ids] if isinstance(gift_ids, list) else None
        if whole_ids is None or not all(g is not None and g >= 0 for g in whole_ids):
            raise ValidationError(f"{where}.giftIds must be a list of whole non-negative numbers.",
                                  field=f"{where}.giftIds")
        if len(whole_ids) > MAX_GIFT_IDS:
            raise ValidationError(f"{where}.giftIds may hold at most {MAX_GIFT_IDS} ids.", field=f"{where}.giftIds")
        group = {**group, "giftIds": whole_ids}
        if group.get("goal") is not None:
            goal = _whole(group["goal"])
            if goal is None or goal < 0:
                raise ValidationError(f"{where}.goal must be a whole number of zero or more.", field=f"{where}.goal")
            group["goal"] = goal
        normalized[group_id] = group
    return normalized


def validate_gift_groups_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError("The body must be a JSON object like {\"groups\": {...}}.", field="body")
    if "groups" not in body:
        raise ValidationError("groups is required.", field="groups")
    return validate_groups(body["groups"])


def validate_config_patch(patch: Any) -> dict[str, Any]:
    if not isinstance(patch, dict):
        raise ValidationError("The body must be a JSON object of configuration keys.", field="body")
    for key, value in patch.items():
        if key in CONFIG_TYPES and not isinstance(value, CONFIG_TYPES[key]):
            raise ValidationError(f"{key} must be {_TYPE_NAMES[CONFIG_TYPES[key][0]]}.", field=key)
        if key in CONFIG_NUMBERS and not (_is_number(value) and value >= 0):
            raise ValidationError(f"{key} must be a number of zero or more.", field=key)
        if len(key) > 100:
            raise ValidationError("Configuration keys must be at most 100 characters.", field=key[:100])
    return patch


def validate_analytics(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError("The body must be a JSON object.", field="body")
    return body


def check_depth(data: Any, limit: int = MAX_DEPTH) -> None:
    """Refuses arrays and objects nested more than ``limit`` levels (the document itself is level 1)."""
    if not isinstance(data, dict | list):
        return
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if depth > limit:
            raise ValidationError(NESTED_TOO_DEEPLY, field="body")
        for child in children:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))


def ensure_storable(data: Any) -> Any:
    """Refuses what could not be stored and read back as JSON: nesting past ``MAX_DEPTH``,
    non-finite numbers (NaN, Infinity, 1e400) and unpaired surrogates from ``\\ud800`` escapes."""
    check_depth(data)
    try:
        json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("The data holds text that is not valid Unicode (an unpaired surrogate).",
                              field="body") from None
    except ValueError:
        raise ValidationError("Numbers must be finite (no NaN, Infinity or numbers too large for JSON).",
                              field="body") from None
    return data


def apply_write(current: dict[str, Any] | None, data_type: str, body: Any) -> dict[str, Any]:
    """What a POST of ``body`` makes of the saved document: groups replace, config merges."""
    if data_type == GIFT_GROUPS:
        return ensure_storable(validate_gift_groups_body(body))
    if data_type == CONFIG:
        return ensure_storable({**(current or {}), **validate_config_patch(body)})
    if data_type == ANALYTICS:
        return ensure_storable(validate_analytics(body))
    raise ValidationError(f"Unknown data type '{data_type}'.", field="dataType")


def load_document(session: Session, account_id: int, data_type: str) -> tuple[dict[str, Any] | None, datetime | None]:
    row = session.execute(
        select(TrackerData.data, TrackerData.updated_at).where(
            TrackerData.account_id == account_id, TrackerData.data_type == data_type
        )
    ).first()
    return (row[0], row[1]) if row else (None, None)


def find_document(session: Session | Connection, account_id: int, data_type: str) -> tuple[int | None, dict[str, Any] | None]:
    """Row id and data of a document (one statement; the endpoint's write path)."""
    row = session.execute(
        select(TrackerData.id, TrackerData.data).where(
            TrackerData.account_id == account_id, TrackerData.data_type == data_type
        )
    ).first()
    return (row[0], row[1]) if row else (None, None)


def write_document(session: Session | Connection, account_id: int, data_type: str, data: dict[str, Any], row_id: int | None) -> datetime:
    """Insert or update by id in one Core statement; returns the new ``updated_at``."""
    now = utcnow()
    if row_id is None:
        session.execute(insert(TrackerData).values(account_id=account_id, data_type=data_type, data=data,
                                                   created_at=now, updated_at=now))
    else:
        session.execute(update(TrackerData).where(TrackerData.id == row_id).values(data=data, updated_at=now))
    return now


class TrackerDataService:
    """The console's side: read and edit what trackers read, with roles and audit."""

    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def get(self, account_id: int, data_type: str) -> dict[str, Any]:
        self._check_type(data_type)
        with self.ctx.db.read_session() as session:
            account_or_error(session, account_id)
            data, _ = load_document(session, account_id, data_type)
        return data or {}

    def save_gift_groups(self, account_id: int, groups: dict[str, Any]) -> dict[str, Any]:
        return self._save(account_id, GIFT_GROUPS, ensure_storable(validate_groups(groups)), "Saved the gift groups")

    def save_config(self, account_id: int, config: dict[str, Any]) -> dict[str, Any]:
        """Replaces the whole config (the editor shows all of it, so removed keys go)."""
        return self._save(account_id, CONFIG, ensure_storable(validate_config_patch(config)), "Saved the tracker config")

    def _save(self, account_id: int, data_type: str, data: dict[str, Any], summary: str) -> dict[str, Any]:
        self.ctx.require("operator", "edit tracker data")
        with self.ctx.db.session() as session:
            account = account_or_error(session, account_id)
            row_id, before = find_document(session, account_id, data_type)
            write_document(session, account_id, data_type, data, row_id)
            self.ctx.audit(session, f"tracker_data.{data_type}", f"{summary} of @{account.username}",
                           "account", account_id, details={"before": before, "after": data})
        self.ctx.events.publish(TrackerDataSaved(account_id, data_type, "console"))
        return data

    @staticmethod
    def _check_type(data_type: str) -> None:
        if data_type not in TRACKER_DATA_TYPES:
            raise ValidationError(f"Data type must be one of: {', '.join(TRACKER_DATA_TYPES)}.", field="dataType")

