"""Argument helpers shared by the Fampage command groups (company, order, invoice, analytics)."""

from __future__ import annotations

from datetime import date

from giftdesk.cli.framework import arg
from giftdesk.core.errors import ValidationError
from giftdesk.fampage.money import format_money

SINCE = arg("--since", metavar="YYYY-MM-DD", help="from this day (inclusive)")
UNTIL = arg("--until", metavar="YYYY-MM-DD", help="up to this day (inclusive)")


def day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"--{field} must be a date like 2026-11-28, not '{value}'.", field=field) from None


def date_range(args) -> tuple[date | None, date | None]:
    since, until = day(args.since, "since"), day(args.until, "until")
    if since and until and since > until:
        raise ValidationError("--since is after --until.", field="since")
    return since, until


def month(value: str) -> tuple[int, int]:
    try:
        year, mon = (int(p) for p in value.split("-"))
        date(year, mon, 1)
    except ValueError:
        raise ValidationError(f"The month must look like 2026-11, not '{value}'.", field="month") from None
    return year, mon


def company_id(desk, value: str) -> int:
    """A company by id or by exact name (case-insensitive, archived ones too)."""
    if value.strip().isdigit():
        return int(value)
    matches = [c for c in desk.companies.list(search=value) + desk.companies.list(search=value, archived=True)
               if c.name.lower() == value.strip().lower()]
    if not matches:
        raise ValidationError(f"There is no company called '{value}'.", field="company")
    return matches[0].id


def money(value, currency: str) -> str:
    return "-" if value is None else format_money(value, currency)
