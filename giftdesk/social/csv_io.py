"""CSV import (preview, then apply) and CSV export of social profiles and their sync history.

Import file: a header row naming ``profile`` (an id, a display name or the linked ``@handle``;
``profileId`` and ``displayName`` are accepted too), ``platform``, ``followers`` and optionally
``engagement``; one sync per row.

The import is **not** one transaction for the whole file: each row is one sync, applied in its
own transaction (platform row, aggregates, history and counters together), so a row is applied
entirely or not at all, and one bad row does not hold back the good ones. The preview shows, row
by row, what applying will do; rows that turned bad in between (a profile deleted meanwhile) are
rejected at apply time with their reason. Rejected rows are recorded as failed syncs (source
``csv``) when their platform is known, so the metrics count them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, TextIO

from sqlalchemy import func, select

from giftdesk.db.models import Customer, TikTokAccount
from giftdesk.db.social_models import (
    SOCIAL_PLATFORMS,
    SocialPlatformStat,
    SocialProfile,
    SocialSync,
)
from giftdesk.core.errors import GiftDeskError, ValidationError
from giftdesk.core.csv_cells import safe_writer
from giftdesk.social.profile_fields import cents_to_decimal
from giftdesk.social.validation import (
    InvalidPlatformError,
    SyncValidationError,
    SyncValues,
    centi_to_decimal,
    platform_name,
    validate_sync,
)

MAX_IMPORT_ROWS = 50_000
MAX_IMPORT_CHARS = 20_000_000
_PROFILE_COLUMNS = ("profile", "profileid", "profile_id", "displayname", "display_name")


@dataclass(frozen=True)
class ImportRow:
    line: int
    profile_ref: str
    platform: str
    followers: str
    engagement: str
    profile_id: int | None = None
    profile_name: str | None = None
    values: SyncValues | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line, "profile": self.profile_ref, "profileId": self.profile_id,
            "profileName": self.profile_name, "platform": self.platform,
            "followers": self.values.followers if self.values else self.followers,
            "engagement": str(self.values.engagement) if self.values else self.engagement,
            "status": "ok" if self.ok else "rejected", "error": self.error,
        }


@dataclass(frozen=True)
class ImportPreview:
    rows: tuple[ImportRow, ...]

    @property
    def valid(self) -> int:
        return sum(1 for r in self.rows if r.ok)

    @property
    def rejected(self) -> int:
        return len(self.rows) - self.valid

    def to_json(self, applied: bool = False) -> dict[str, Any]:
        key = "applied" if applied else "wouldApply"
        return {key: self.valid, "rejected": self.rejected, "rows": [r.to_json() for r in self.rows]}


def read_rows(text: str) -> list[ImportRow]:
    """The file's rows, unchecked; raises ValidationError when the file itself is unusable."""
    if len(text) > MAX_IMPORT_CHARS:
        raise ValidationError(f"The file is larger than {MAX_IMPORT_CHARS // 1_000_000} MB.", field="file")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ValidationError("The file is empty; it needs a header row: profile,platform,followers,engagement.",
                                  field="file")
        columns = {name.strip().lower(): i for i, name in enumerate(header)}
        profile_col = next((columns[c] for c in _PROFILE_COLUMNS if c in columns), None)
        missing = [name for name, col in (("profile", profile_col), ("platform", columns.get("platform")),
                                          ("followers", columns.get("followers"))) if col is None]
        if missing:
            raise ValidationError(f"The header row lacks the column{'s' if len(missing) > 1 else ''} "
                                  f"{', '.join(missing)} (expected: profile,platform,followers,engagement).",
                                  field="file")
        engagement_col = columns.get("engagement")
        rows = []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise ValidationError(f"The file has more than {MAX_IMPORT_ROWS:,} rows; split it.", field="file")
            rows.append(ImportRow(reader.line_num, _cell(record, profile_col), _cell(record, columns["platform"]),
                                  _cell(record, columns["followers"]), _cell(record, engagement_col)))
    except csv.Error as exc:
        raise ValidationError(f"The file is not valid CSV: {exc}.", field="file") from None
    return rows


def _cell(record: list[str], index: int | None) -> str:
    return record[index].strip() if index is not None and index < len(record) else ""


def check_rows(session, rows: Iterable[ImportRow]) -> ImportPreview:
    """Each row resolved and validated, as the preview shows it."""
    resolver = _ProfileResolver(session)
    checked = []
    for row in rows:
        profile_id, name, error = resolver.resolve(row.profile_ref)
        row = replace(row, profile_id=profile_id, profile_name=name)
        try:
            platform = platform_name(row.platform)
            values = validate_sync(platform, row.followers, row.engagement, allow_text=True)
        except InvalidPlatformError:
            error = error or f"Invalid platform type '{row.platform}'; use one of: {', '.join(SOCIAL_PLATFORMS)}."
            values = None
        except SyncValidationError as exc:
            error = error or "; ".join(d["message"] for d in exc.details)
            values = None
        else:
            row = replace(row, platform=platform)
        checked.append(replace(row, values=values, error=error))
    return ImportPreview(tuple(checked))


class _ProfileResolver:
    """Profile references looked up once per distinct text."""

    def __init__(self, session):
        self.session = session
        self.cache: dict[str, tuple[int | None, str | None, str | None]] = {}

    def resolve(self, ref: str) -> tuple[int | None, str | None, str | None]:
        key = ref.strip().lower()
        if key not in self.cache:
            self.cache[key] = self._lookup(ref.strip())
        return self.cache[key]

    def _lookup(self, ref: str) -> tuple[int | None, str | None, str | None]:
        if not ref:
            return None, None, "No profile named in this row."
        if ref.isascii() and ref.isdigit() and len(ref) < 12:
            found = self.session.get(SocialProfile, int(ref))
            if found is not None:
                return found.id, found.display_name, None
        if ref.startswith("@"):
            found = self.session.scalar(select(SocialProfile).join(TikTokAccount, TikTokAccount.id == SocialProfile.account_id)
                                        .where(TikTokAccount.username == ref[1:].lower()))
            if found is not None:
                return found.id, found.display_name, None
        matches = list(self.session.scalars(
            select(SocialProfile).where(func.lower(SocialProfile.display_name) == ref.lower()).limit(2)))
        if len(matches) == 1:
            return matches[0].id, matches[0].display_name, None
        if matches:
            return None, None, f"More than one profile is called '{ref}'; use its id."
        return None, None, f"There is no social profile '{ref}'."


# ---- export -------------------------------------------------------------------------------
def write_profiles(session, out: TextIO) -> int:
    writer = safe_writer(out)
    header = ["id", "displayName", "customer", "tiktokUsername", "city", "state", "country", "niches",
              "isPublic", "isActive", "lastSeen"]
    for platform in SOCIAL_PLATFORMS:
        header += [f"{platform}Followers", f"{platform}Engagement"]
    header += ["totalFollowers", "avgEngagement", "updatedAt", "userId", "rizzScore", "audienceSizeMin",
               "audienceSizeMax", "budgetMin", "budgetMax", "collaborationTypes", "preferredLocations"]
    for platform in SOCIAL_PLATFORMS:
        header += [f"{platform}Handle", f"{platform}Link"]
    writer.writerow(header)
    stats: dict[int, dict[str, tuple[int, int]]] = {}
    for s in session.execute(select(SocialPlatformStat.profile_id, SocialPlatformStat.platform,
                                    SocialPlatformStat.followers, SocialPlatformStat.engagement_centi)):
        stats.setdefault(s[0], {})[s[1]] = (s[2], s[3])
    query = (select(SocialProfile, Customer.name, TikTokAccount.username)
             .outerjoin(Customer, Customer.id == SocialProfile.customer_id)
             .outerjoin(TikTokAccount, TikTokAccount.id == SocialProfile.account_id)
             .order_by(func.lower(SocialProfile.display_name), SocialProfile.id))
    count = 0
    for p, customer, username in session.execute(query):
        row = [p.id, p.display_name, customer or "", f"@{username}" if username else "",
               p.city or "", p.state or "", p.country or "",
               ";".join(p.niches or []), p.is_public, p.is_active,
               p.last_seen_at.isoformat() if p.last_seen_at else ""]
        mine = stats.get(p.id, {})
        for platform in SOCIAL_PLATFORMS:
            followers, centi = mine.get(platform, (0, 0))
            row += [followers, centi_to_decimal(centi)]
        row += [p.total_followers, centi_to_decimal(p.avg_engagement_centi), p.updated_at.isoformat(),
                p.user_id or "", p.rizz_score, p.audience_min, p.audience_max, cents_to_decimal(p.budget_min_cents),
                cents_to_decimal(p.budget_max_cents), ";".join(p.collaboration_types or []),
                ";".join(p.preferred_locations or [])]
        for platform in SOCIAL_PLATFORMS:
            row += [(p.platform_handles or {}).get(platform, ""), (p.social_links or {}).get(platform, "")]
        writer.writerow(row)
        count += 1
    return count


def write_history(session, out: TextIO, profile_id: int | None = None) -> int:
    writer = safe_writer(out)
    writer.writerow(["at", "profileId", "profile", "platform", "success", "followers", "engagement",
                     "totalFollowers", "source", "durationMs", "error"])
    query = (select(SocialSync, SocialProfile.display_name)
             .outerjoin(SocialProfile, SocialProfile.id == SocialSync.profile_id)
             .order_by(SocialSync.at, SocialSync.id)
             .execution_options(yield_per=5_000))
    if profile_id is not None:
        query = query.where(SocialSync.profile_id == profile_id)
    count = 0
    for s, name in session.execute(query):
        writer.writerow([
            s.at.isoformat(), s.profile_id or "", name or "", s.platform, s.success,
            "" if s.followers is None else s.followers,
            "" if s.engagement_centi is None else centi_to_decimal(s.engagement_centi),
            "" if s.total_followers is None else s.total_followers, s.source, s.duration_ms,
            s.error or "",
        ])
        count += 1
    return count


def apply_rows(service, preview: ImportPreview) -> ImportPreview:
    """Applies each row in its own transaction; returns the rows with their final outcome."""
    outcome = []
    for row in preview.rows:
        if row.profile_id is None:
            try:
                service.record_failure(None, platform_name(row.platform), "csv", row.error or "No such profile.",
                                       notify=False, check_role=False)
            except InvalidPlatformError:
                pass
            outcome.append(row)
            continue
        try:
            service.sync(row.profile_id, row.platform, row.followers, row.engagement, source="csv",
                         allow_text=True, check_role=False, notify=False)
        except SyncValidationError as exc:
            outcome.append(replace(row, values=None, error=row.error or "; ".join(d["message"] for d in exc.details)))
        except GiftDeskError as exc:
            outcome.append(replace(row, values=None, error=row.error or str(exc)))
        else:
            outcome.append(row)
    return ImportPreview(tuple(outcome))
