"""Sync validation, shared by the dialog, the CSV import, the CLI and the endpoint.

Rules: ``followers`` required and a number, not negative (0 is valid),
at most 100,000,000 (Twitch 10,000,000), floored to an integer; ``engagement`` optional, 0-100,
kept as a percentage with two decimals (integer hundredths, rounded half up). Numbers are
handled as ``Decimal`` throughout: JSON bodies are parsed with ``parse_float=Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from giftdesk.db.social_models import SOCIAL_PLATFORMS
from giftdesk.core.errors import ValidationError

MAX_FOLLOWERS = 100_000_000
MAX_FOLLOWERS_BY_PLATFORM = {"twitch": 10_000_000}
MAX_ENGAGEMENT = Decimal(100)
_HUNDREDTH = Decimal("0.01")


class SyncValidationError(ValidationError):
    """``details`` in the route's shape: ``[{message, path, type, context}]``."""

    def __init__(self, details: list[dict[str, Any]]):
        first = details[0]
        super().__init__(f"Validation failed: {first['message']}", field=first["path"][0])
        self.details = details

    def to_json(self) -> dict[str, Any]:
        return {"message": "Validation failed", "details": self.details}

    def message_for(self, field: str) -> str | None:
        """The sentence to show beside ``field`` in a dialog, if that field is wrong."""
        for detail in self.details:
            if detail["path"] == [field]:
                return detail["message"]
        return None


class InvalidPlatformError(ValidationError):
    def __init__(self, platform: str):
        super().__init__(f"Invalid platform type: '{platform}'. {platform_sentence()}", field="platform")
        self.platform = platform


def platform_sentence() -> str:
    return "Platform must be one of: " + ", ".join(SOCIAL_PLATFORMS)


def platform_name(value: Any) -> str:
    """The platform key, lower-case; raises InvalidPlatformError."""
    name = value.strip().lower() if isinstance(value, str) else ""
    if name not in SOCIAL_PLATFORMS:
        raise InvalidPlatformError(str(value))
    return name


def platform_label(platform: str) -> str:
    """As the route's messages write it: "Tiktok", "Youtube"."""
    return platform.capitalize()


DISPLAY_NAMES = {"tiktok": "TikTok", "instagram": "Instagram", "youtube": "YouTube", "twitch": "Twitch",
                 "twitter": "Twitter"}


def display_name(platform: str) -> str:
    """How people write it (windows, tables); the route's messages use ``platform_label``."""
    return DISPLAY_NAMES.get(platform, platform)


def max_followers(platform: str) -> int:
    return MAX_FOLLOWERS_BY_PLATFORM.get(platform, MAX_FOLLOWERS)


@dataclass(frozen=True)
class SyncValues:
    followers: int
    engagement_centi: int

    @property
    def engagement(self) -> Decimal:
        return centi_to_decimal(self.engagement_centi)


def centi_to_decimal(centi: int) -> Decimal:
    return (Decimal(centi) / 100).quantize(_HUNDREDTH)


def centi_to_json(centi: int) -> int | float:
    """A JSON number as the route's answers write it (7.5, 0, 2.91); exact for two decimals."""
    if centi % 100 == 0:
        return centi // 100
    return float(centi_to_decimal(centi))


def _number(value: Any, allow_text: bool) -> Decimal | None:
    """The value as a finite Decimal, or None when it is not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # the decimal the sender wrote, not the binary float
    elif isinstance(value, str) and allow_text:
        try:
            number = Decimal(value.strip().replace(",", "").replace("_", ""))
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_sync(platform: str, followers: Any, engagement: Any = None, *, allow_text: bool = False) -> SyncValues:
    """Checks one sync's values for ``platform`` (already a valid key). Raises SyncValidationError.

    ``allow_text``: the CLI and CSV give numbers as text; a JSON body must send numbers.
    """
    details: list[dict[str, Any]] = []
    follower_count = None
    if _missing(followers):
        details.append(_detail("followers", '"followers" is required', "any.required", label="followers"))
    else:
        number = _number(followers, allow_text)
        limit = max_followers(platform)
        if number is None:
            details.append(_detail("followers", '"followers" must be a number', "number.base", value=_shown(followers)))
        elif number < 0:
            details.append(_detail("followers", '"followers" must be a positive number', "number.positive",
                                   value=_shown(followers)))
        elif number > limit:
            details.append(_detail("followers", f'"followers" must be less than or equal to {limit:,}', "number.max",
                                   value=_shown(followers), limit=limit))
        else:
            follower_count = int(number.to_integral_value(rounding=ROUND_FLOOR))
    engagement_centi = 0
    if not _missing(engagement):
        number = _number(engagement, allow_text)
        if number is None:
            details.append(_detail("engagement", '"engagement" must be a number', "number.base",
                                   value=_shown(engagement)))
        elif number < 0 or number > MAX_ENGAGEMENT:
            details.append(_detail("engagement", '"engagement" must be between 0 and 100', "number.range",
                                   value=_shown(engagement)))
        else:
            engagement_centi = int((number * 100).to_integral_value(rounding=ROUND_HALF_UP))
    if details:
        raise SyncValidationError(details)
    assert follower_count is not None
    return SyncValues(follower_count, engagement_centi)


def _shown(value: Any) -> Any:
    """The offending value as JSON can carry it (a Decimal becomes its exact text)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value if not isinstance(value, str) else value[:100]
    return repr(value)[:100]


def _detail(key: str, message: str, type_: str, **context: Any) -> dict[str, Any]:
    return {"message": message, "path": [key], "type": type_, "context": {"key": key, **context}}
