"""A profile's fields beyond its name and location: the web app's user id, the rizz score, the
creator's collaboration preferences, and a link and handle per platform.

Each ``clean_*`` takes what a person, a CSV cell or a JSON body gives (numbers may come as text
from the CLI and the window) and returns the stored value, or raises a ValidationError whose
message is one sentence naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlparse

from giftdesk.core import validation
from giftdesk.core.errors import ValidationError
from giftdesk.db.social_models import SOCIAL_PLATFORMS
from giftdesk.social.validation import display_name

MAX_RIZZ_SCORE = 100
MAX_AUDIENCE = 10_000_000_000
MAX_BUDGET_CENTS = 100_000_000_000  # 1,000,000,000.00
DEFAULT_AUDIENCE = (0, 1_000_000)
DEFAULT_BUDGET_CENTS = (0, 1_000_000)  # 0 to 10,000.00, the web app's defaults
MAX_LIST_ITEMS = 20
MAX_COLLABORATION_TYPE_LENGTH = 50
MAX_PREFERRED_LOCATION_LENGTH = 100
MAX_HANDLE_LENGTH = 100
_OBJECT_ID = re.compile(r"[0-9a-f]{24}")
_HANDLE_CHARACTER = r"[^\s\x00-\x1f\x7f-\x9f\u2028\u2029/?#@\\]"
_HANDLE = re.compile(_HANDLE_CHARACTER + "+")
# The hosts each platform's pages live on (any subdomain of them: www., m., …).
PLATFORM_HOSTS = {
    "tiktok": ("tiktok.com",),
    "instagram": ("instagram.com",),
    "youtube": ("youtube.com", "youtu.be"),
    "twitch": ("twitch.tv",),
    "twitter": ("twitter.com", "x.com"),
}
# A handle's page, for a platform with a handle and no link.
_PAGE_OF_HANDLE = {
    "tiktok": "https://www.tiktok.com/@{}",
    "instagram": "https://www.instagram.com/{}",
    "youtube": "https://www.youtube.com/@{}",
    "twitch": "https://www.twitch.tv/{}",
    "twitter": "https://x.com/{}",
}
EXTRA_FIELDS = ("user_id", "rizz_score", "audience_min", "audience_max", "budget_min", "budget_max",
                "collaboration_types", "preferred_locations", "social_links", "platform_handles")


@dataclass(frozen=True)
class Preferences:
    audience_min: int = DEFAULT_AUDIENCE[0]
    audience_max: int = DEFAULT_AUDIENCE[1]
    budget_min_cents: int = DEFAULT_BUDGET_CENTS[0]
    budget_max_cents: int = DEFAULT_BUDGET_CENTS[1]
    collaboration_types: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()

    @property
    def budget_min(self) -> Decimal:
        return cents_to_decimal(self.budget_min_cents)

    @property
    def budget_max(self) -> Decimal:
        return cents_to_decimal(self.budget_max_cents)

    def to_json(self) -> dict[str, Any]:
        return {"audienceSize": {"min": self.audience_min, "max": self.audience_max},
                "budget": {"min": cents_to_json(self.budget_min_cents), "max": cents_to_json(self.budget_max_cents)},
                "collaborationTypes": list(self.collaboration_types), "locations": list(self.locations)}


@dataclass(frozen=True)
class ProfileExtras:
    """What a profile's detail carries besides the list's columns."""

    user_id: str | None = None
    rizz_score: int = 0
    preferences: Preferences = field(default_factory=Preferences)
    social_links: dict[str, str] = field(default_factory=dict)  # platform -> page address, as stored
    platform_handles: dict[str, str] = field(default_factory=dict)  # platform -> handle, without "@"

    def links(self, tiktok_username: str | None = None) -> dict[str, str]:
        """Every platform's page: the stored link, else the handle's page, else (TikTok) the linked
        account's page."""
        pages: dict[str, str] = {}
        for platform in SOCIAL_PLATFORMS:
            if platform in self.social_links:
                pages[platform] = self.social_links[platform]
            elif platform in self.platform_handles:
                pages[platform] = _PAGE_OF_HANDLE[platform].format(self.platform_handles[platform])
            elif platform == "tiktok" and tiktok_username:
                pages[platform] = _PAGE_OF_HANDLE["tiktok"].format(tiktok_username)
        return pages


def cents_to_decimal(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def cents_to_json(cents: int) -> int | float:
    """A JSON number as the web app writes it (10000, 49.99); exact for two decimals."""
    return cents // 100 if cents % 100 == 0 else float(cents_to_decimal(cents))


def _number(value: Any, label: str, field_name: str) -> Decimal | None:
    """A finite Decimal from a JSON number or typed text; None for nothing given."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, (int, Decimal)):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", "").replace("_", ""))
        except InvalidOperation:
            number = None
    else:
        number = None
    if number is None or not number.is_finite():
        raise ValidationError(f"The {label} must be a number, not '{str(value)[:50]}'.", field=field_name)
    return number


def clean_user_id(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = value.strip().lower() if isinstance(value, str) else ""
    if not _OBJECT_ID.fullmatch(text):
        raise ValidationError("The user id must be 24 hexadecimal digits (the web app's ObjectId).",
                              field="user_id")
    return text


def clean_rizz_score(value: Any) -> int:
    number = _number(value, "rizz score", "rizz_score")
    if number is None:
        return 0
    if number != number.to_integral_value() or not 0 <= number <= MAX_RIZZ_SCORE:
        raise ValidationError(f"The rizz score must be a whole number from 0 to {MAX_RIZZ_SCORE}.", field="rizz_score")
    return int(number)


def clean_audience(value: Any, field_name: str) -> int | None:
    """An audience size bound: a whole number of people from 0 to 10,000,000,000; None for nothing given."""
    label = "smallest audience size" if field_name == "audience_min" else "largest audience size"
    number = _number(value, label, field_name)
    if number is None:
        return None
    if number != number.to_integral_value() or not 0 <= number <= MAX_AUDIENCE:
        raise ValidationError(f"The {label} must be a whole number from 0 to {MAX_AUDIENCE:,}.", field=field_name)
    return int(number)


def clean_budget(value: Any, field_name: str) -> int | None:
    """A budget bound in cents (rounded half up, as engagement is): from 0 to 1,000,000,000.00;
    None for nothing given."""
    label = "smallest budget" if field_name == "budget_min" else "largest budget"
    number = _number(value, label, field_name)
    if number is None:
        return None
    cents = (number * 100).to_integral_value(rounding=ROUND_HALF_UP)
    if not 0 <= cents <= MAX_BUDGET_CENTS:
        raise ValidationError(f"The {label} must be from 0 to {cents_to_decimal(MAX_BUDGET_CENTS):,}.",
                              field=field_name)
    return int(cents)


class BoundsCrossedError(ValidationError):
    """A smallest bound above the largest: each may be fine alone (the other may be the stored one)."""


def check_range(low: int, high: int, what: str, field_name: str) -> None:
    if low > high:
        raise BoundsCrossedError(f"The smallest {what} must not be more than the largest.", field=field_name)


def clean_words(value: Any, field_name: str, label: str, longest: int) -> list[str]:
    """A list of short texts from a list or comma-separated text: trimmed, unique (any case), in order."""
    if value is None or value == "":
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
        raise ValidationError(f"The {label} must be a list of texts.", field=field_name)
    words: list[str] = []
    for item in items:
        try:
            word = validation.single_line(item.strip(), f"The {label}") or ""
        except ValidationError as exc:
            raise ValidationError(str(exc), field=field_name) from None
        if len(word) > longest:
            raise ValidationError(f"Each of the {label} has at most {longest} characters, not '{word[:longest]}…'.",
                                  field=field_name)
        if word and word.lower() not in (w.lower() for w in words):
            words.append(word)
    if len(words) > MAX_LIST_ITEMS:
        raise ValidationError(f"A profile has at most {MAX_LIST_ITEMS} {label}.", field=field_name)
    return words


def clean_collaboration_types(value: Any) -> list[str]:
    return [w.lower() for w in clean_words(value, "collaboration_types", "collaboration types",
                                           MAX_COLLABORATION_TYPE_LENGTH)]


def clean_preferred_locations(value: Any) -> list[str]:
    return clean_words(value, "preferred_locations", "preferred locations", MAX_PREFERRED_LOCATION_LENGTH)


def _per_platform(value: Any, field_name: str, label: str) -> dict[Any, Any]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise ValidationError(f"The {label} must name a platform for each.", field=field_name)
    unknown = [str(k)[:30] for k in value if not isinstance(k, str) or k.strip().lower() not in SOCIAL_PLATFORMS]
    if unknown:
        raise ValidationError(f"The {label} name unknown platforms ({', '.join(unknown)}); "
                              f"platforms are {', '.join(SOCIAL_PLATFORMS)}.", field=field_name)
    return {k.strip().lower(): v for k, v in value.items()}


def clean_social_link(platform: str, value: Any) -> str | None:
    """A platform's page: a full http(s) address on that platform's site; None clears it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    label = f"{display_name(platform)} link"
    field_name = f"social_links.{platform}"
    if not isinstance(value, str):
        raise ValidationError(f"The {label} must be an address.", field=field_name)
    try:
        url = validation.http_url(value.strip(), label)
        host = (urlparse(url).hostname or "").lower()
    except ValueError as exc:  # urlparse's, e.g. a bad IPv6 host
        raise ValidationError(f"The {label} is not a valid address: {exc}.", field=field_name) from None
    except ValidationError as exc:
        raise ValidationError(f"The {exc}", field=field_name) from None
    sites = PLATFORM_HOSTS[platform]
    if not any(host == site or host.endswith("." + site) for site in sites):
        raise ValidationError(f"The {label} must be an address on {' or '.join(sites)}, not on '{host}'.",
                              field=field_name)
    return url


def clean_social_links(value: Any) -> dict[str, str | None]:
    """Platform -> page address; None for a platform given as empty or null (cleared)."""
    return {platform: clean_social_link(platform, url)
            for platform, url in _per_platform(value, "social_links", "social links").items()}


def clean_handle(platform: str, value: Any) -> str | None:
    """A platform's handle without a leading "@": one word of at most 100 characters; None clears it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = value.strip().removeprefix("@") if isinstance(value, str) else None
    if text is None or not _HANDLE.fullmatch(text) or len(text) > MAX_HANDLE_LENGTH:
        raise ValidationError(f"The {display_name(platform)} handle must be one word of at most {MAX_HANDLE_LENGTH} characters "
                              "(no spaces, slashes or @ inside).", field=f"platform_handles.{platform}")
    return text


def clean_platform_handles(value: Any) -> dict[str, str | None]:
    """Platform -> handle; None for a platform given as empty or null (cleared)."""
    return {platform: clean_handle(platform, handle)
            for platform, handle in _per_platform(value, "platform_handles", "handles").items()}


def merged(stored: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    """``stored`` with ``changes`` applied (None removes a platform), in the platforms' order."""
    result = {**stored, **changes}
    return {p: result[p] for p in SOCIAL_PLATFORMS if result.get(p) is not None}


def clean_extras(given: dict[str, Any], partial: bool) -> dict[str, Any]:
    """The stored columns for the extra fields in ``given`` (all of them with defaults when not
    ``partial``). Range checks across two bounds are the caller's (``check_range``): an update may
    give one bound only."""
    cleaned: dict[str, Any] = {}

    def wanted(key: str) -> bool:
        return key in given or not partial

    if wanted("user_id"):
        cleaned["user_id"] = clean_user_id(given.get("user_id"))
    if wanted("rizz_score"):
        cleaned["rizz_score"] = clean_rizz_score(given.get("rizz_score"))
    for key, default in (("audience_min", DEFAULT_AUDIENCE[0]), ("audience_max", DEFAULT_AUDIENCE[1])):
        if wanted(key):
            number = clean_audience(given.get(key), key)
            cleaned[key] = default if number is None else number
    for key, default in (("budget_min", DEFAULT_BUDGET_CENTS[0]), ("budget_max", DEFAULT_BUDGET_CENTS[1])):
        if wanted(key):
            cents = clean_budget(given.get(key), key)
            cleaned[f"{key}_cents"] = default if cents is None else cents
    if wanted("collaboration_types"):
        cleaned["collaboration_types"] = clean_collaboration_types(given.get("collaboration_types"))
    if wanted("preferred_locations"):
        cleaned["preferred_locations"] = clean_preferred_locations(given.get("preferred_locations"))
    if wanted("social_links"):
        cleaned["social_links"] = clean_social_links(given.get("social_links"))
    if wanted("platform_handles"):
        cleaned["platform_handles"] = clean_platform_handles(given.get("platform_handles"))
    return cleaned


def check_ranges(values: dict[str, Any]) -> None:
    """``values``: the stored columns after a change (all four bounds)."""
    check_range(values["audience_min"], values["audience_max"], "audience size", "audience_min")
    check_range(values["budget_min_cents"], values["budget_max_cents"], "budget", "budget_min")


def extras_of(row: Any) -> ProfileExtras:
    """From the detail query's extra columns, in ``EXTRA_COLUMNS`` order (``giftdesk.social.queries``)."""
    (user_id, rizz, a_min, a_max, b_min, b_max, types, places, links, handles) = row
    return ProfileExtras(user_id, rizz, Preferences(a_min, a_max, b_min, b_max, tuple(types or ()),
                                                    tuple(places or ())),
                         dict(links or {}), dict(handles or {}))


def preferences_schema() -> dict[str, Any]:
    """``preferences`` for /openapi.json: as answered, and as a ``PUT`` may send it (any part)."""
    def bounds(maximum: int | float, integer: bool) -> dict[str, Any]:
        number = {"type": "integer" if integer else "number", "minimum": 0, "maximum": maximum}
        if not integer:
            number["description"] = "Kept in cents (rounded half up)."
        return {"type": "object", "additionalProperties": False, "properties": {"min": number, "max": number},
                "description": "min is not more than max (409 otherwise)."}

    def words(longest: int) -> dict[str, Any]:
        return {"type": "array", "maxItems": MAX_LIST_ITEMS, "items": {
            "type": "string", "maxLength": longest, "pattern": "^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"}}

    return {"type": "object", "additionalProperties": False, "properties": {
        "audienceSize": bounds(MAX_AUDIENCE, True),
        "budget": bounds(MAX_BUDGET_CENTS // 100, False),
        "collaborationTypes": words(MAX_COLLABORATION_TYPE_LENGTH),
        "locations": words(MAX_PREFERRED_LOCATION_LENGTH)}}


def link_pattern(platform: str) -> str:
    """/openapi.json's pattern of a link the rules accept for ``platform`` (empty clears)."""
    sites = "|".join(re.escape(site) for site in PLATFORM_HOSTS[platform])
    return (rf"^(https?://([A-Za-z0-9-]+\.)*({sites})(:[0-9]{{1,5}})?"
            r"([/?#][^\x00-\x1f\x7f-\x9f\u2028\u2029]*)?)?$")


def handle_pattern() -> str:
    return rf"^(@?{_HANDLE_CHARACTER}{{1,{MAX_HANDLE_LENGTH}}})?$"
