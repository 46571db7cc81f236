"""Field checks shared by the CLI, the dialogs and the services. Each raises ValidationError."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from giftdesk.core.errors import ValidationError
from giftdesk.core.printable import CONTROL_CHARACTER

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# TikTok: 2-24 characters, letters, digits, underscore and period, not ending in a period.
_TIKTOK = re.compile(r"^[a-z0-9_.]{2,24}$")


def text(value: str | None, field: str, *, required: bool = False, max_length: int = 200) -> str | None:
    if value is None:
        if required:
            raise ValidationError(f"{field} is required.", field=field)
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text.", field=field)
    value = value.strip()
    if not value:
        if required:
            raise ValidationError(f"{field} is required.", field=field)
        return None
    if len(value) > max_length:
        raise ValidationError(f"{field} is longer than {max_length} characters.", field=field)
    return value


_CONTROL_NAMES = {"\t": "TAB", "\n": "a line break", "\r": "a carriage return", "\x00": "NUL",
                  "\x1b": "ESC", "\x7f": "DEL", "\u2028": "a line separator", "\u2029": "a paragraph separator"}


def _control_character(value: str) -> tuple[int, str] | None:
    """The first control character (C0, DEL, C1, line/paragraph separators) and its position."""
    found = CONTROL_CHARACTER.search(value)
    if found is None:
        return None
    return found.start(), _CONTROL_NAMES.get(found.group(), f"U+{ord(found.group()):04X}")


def single_line(value: str | None, field: str) -> str | None:
    """Refuses control characters: a TAB or a line break in a name breaks tables, exports and the CLI."""
    found = None if value is None else _control_character(value)
    if found is not None:
        position, name = found
        raise ValidationError(
            f"{field} contains a control character ({name}) at position {position + 1}: "
            "use one line of visible characters.", field=field)
    return value


def name(value: str | None, field: str = "name", *, required: bool = False, max_length: int = 200) -> str | None:
    """A name (customer, company, person): trimmed text on one line, without control characters."""
    return single_line(text(value, field, required=required, max_length=max_length), field)


def email(value: str | None, field: str = "email") -> str | None:
    value = single_line(text(value, field, max_length=254), field)
    if value is None:
        return None
    if not _EMAIL.match(value):
        raise ValidationError(f"{field} '{value}' is not an e-mail address.", field=field)
    return value.lower()


def tiktok_username(value: str | None, field: str = "tiktok") -> str:
    raw = text(value, field, required=True, max_length=30)
    assert raw is not None
    name = raw.removeprefix("@").lower()
    if not _TIKTOK.match(name) or name.endswith("."):
        raise ValidationError(
            f"'{raw}' is not a TikTok username: 2-24 letters, digits, '_' or '.', not ending in '.'.",
            field=field,
        )
    return name


def http_url(value: str | None, field: str) -> str | None:
    # urlparse skips line breaks and ESC: refused here, they would split BACKEND_API_URL or a terminal line
    value = single_line(text(value, field, max_length=500), field)
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValidationError(f"{field} must be an http:// or https:// address, not '{value}'.", field=field)
    return value


def positive_id(value, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{field} must be a number, not '{value}'.", field=field) from None
    if number <= 0:
        raise ValidationError(f"{field} must be a positive number.", field=field)
    return number
