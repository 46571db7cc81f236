"""Lenient reading of Fampage answers: numbers as strings or numbers, statuses in any case.

Money goes straight from the JSON text to ``Decimal`` (``json.loads(..., parse_float=Decimal)``);
a value that is already a float here is a bug upstream, so it is refused.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

# Normalised order states. "unconfirmed": our add timed out, the provider may or may not have it;
# "not_placed": the user confirmed it never reached the provider.
OPEN_STATES = ("unconfirmed", "pending", "in_progress")
FINAL_STATES = ("completed", "partial", "canceled", "failed", "refunded", "not_placed")
STATES = OPEN_STATES + FINAL_STATES

_STATUS_MAP = {
    "pending": "pending",
    "awaiting": "pending",
    "in progress": "in_progress",
    "inprogress": "in_progress",
    "processing": "in_progress",
    "completed": "completed",
    "complete": "completed",
    "partial": "partial",
    "canceled": "canceled",
    "cancelled": "canceled",
    "fail": "failed",
    "failed": "failed",
    "refunded": "refunded",
}

# Refunds follow these: the provider gives back charge × remains / quantity.
REFUNDING_STATES = ("partial", "canceled")


def normalise_status(raw: str | None) -> str:
    """Known Fampage status text → our state; anything unknown stays pending-like (it is kept raw too)."""
    if raw is None:
        return "pending"
    key = " ".join(str(raw).replace("_", " ").split()).lower()
    return _STATUS_MAP.get(key, "pending")


def loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def to_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError("money must come from the JSON text, not a float")
    try:
        number = Decimal(value) if isinstance(value, int | Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def to_int(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    number = to_decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal):
        return value != 0
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def network_of(category: str | None) -> str:
    """"TikTok : Followers", "Tiktok: Likes", "TIKTOK : Views" → "TikTok"; the part before the colon."""
    head = (category or "").split(":", 1)[0] if ":" in (category or "") else ""
    key = "".join(head.split()).lower()
    if not key:
        return "Other"
    return _NETWORK_NAMES.get(key, " ".join(head.split()).title())


_NETWORK_NAMES = {
    "tiktok": "TikTok",
    "instagram": "Instagram",
    "youtube": "YouTube",
    "facebook": "Facebook",
    "twitter": "Twitter",
    "x": "X",
    "telegram": "Telegram",
    "linkedin": "LinkedIn",
    "soundcloud": "SoundCloud",
    "spotify": "Spotify",
    "twitch": "Twitch",
    "threads": "Threads",
}
