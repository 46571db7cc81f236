"""Moving the creator profiles in: a ``mongoexport`` of HyperBuds' profiles becomes our social
profiles, with their numbers on each platform and when each was last synced.

- The platform numbers are read from ``stats.platformBreakdown`` (the backend's own schema) or from
  ``socialStats`` (an export of the web client's shape, per platform, with its ``lastSynced``); they
  pass the same validation as a sync (followers floored to a whole number, engagement kept to two
  decimals), and every value that changed doing so is reported. A platform at 0 followers and 0 %
  engagement is the schema's default, not a sync, and is left out.
- Each platform's figures become its current stats at its last sync time and one history row
  (source ``import``), so the growth charts start from them; the aggregates are computed here
  as a sync computes them (the export's own totals are not trusted).
- Matched by the old ObjectIds, kept in ``imported_records``: a second run changes nothing. The
  whole file is one transaction; a document that cannot be imported stops it with a sentence.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from giftdesk.core.context import ServiceContext
from giftdesk.core.errors import ConflictError, ValidationError
from giftdesk.db.social_models import SOCIAL_PLATFORMS, SocialPlatformStat, SocialProfile, SocialSync
from giftdesk.db.types import utcnow
from giftdesk.move_in.imports import Document, ImportReport, Rounded, Step, imported_ids, read_documents, remember, \
    unique_ids
from giftdesk.social.events import SocialProfileChanged
from giftdesk.social.records import compute_aggregates
from giftdesk.social.service import SocialService
from giftdesk.social.validation import SyncValidationError, centi_to_decimal, validate_sync

SOURCE = "hyperbuds"
NOUNS = {"social_profile": ("profile", "profiles")}
_SYNCED_KEYS = ("lastSynced", "lastSyncedAt", "syncedAt", "lastSync", "updatedAt")


class HyperBudsImport:
    """``giftdesk import hyperbuds``: preview (changes nothing) and run."""

    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def preview(self, profiles: Path | str) -> ImportReport:
        """What ``run`` would do with this export; nothing is written."""
        documents = read_documents(profiles)
        with self.ctx.db.read_session() as session:
            return self._plan(session, documents, dry_run=True)[0]

    def run(self, profiles: Path | str) -> ImportReport:
        """Imports the export in one transaction; a second run of the same file changes nothing."""
        self.ctx.require("admin", "import data from another system")
        documents = read_documents(profiles)
        try:
            report = self._run(documents)
        except IntegrityError:
            raise ConflictError("Another import wrote some of these profiles at the same moment; nothing was "
                                "imported: run it again.") from None
        report.finished_at = utcnow()
        if report.changes:
            self.ctx.events.publish(SocialProfileChanged(None))
        return report

    def _run(self, documents: list[Document]) -> ImportReport:
        with self.ctx.db.session() as session:
            report, specs = self._plan(session, documents, dry_run=False)
            if report.changes:
                for step, spec in specs:
                    if step.action == "create":
                        step.record_id = self._write(session, spec)
                        remember(session, SOURCE, "social_profile", step.legacy_id, step.record_id)
                self.ctx.audit(session, "import.hyperbuds", f"The HyperBuds profiles export: {report.summary(NOUNS)}",
                               "import", None, details={"created": report.count("create"),
                                                        "skipped": report.count("skip"),
                                                        "rounded": [r.to_json() for r in report.rounded[:200]]})
        return report

    def _plan(self, session, documents: list[Document], dry_run: bool) -> tuple[ImportReport, list[tuple[Step, dict]]]:
        report = ImportReport(SOURCE, dry_run)
        known = imported_ids(session, "social_profile")
        specs = []
        for legacy, doc in unique_ids(documents, "profile").items():
            spec = _profile_spec(doc, legacy, report)
            name = spec["fields"]["display_name"]
            platforms = ", ".join(f"{p} {v[0]:,}" for p, v in spec["platforms"].items()) or "no platform numbers"
            label = f"{name} ({platforms})"
            if legacy in known:
                step = Step("social_profile", legacy, "skip", label, "imported before", known[legacy])
            else:
                step = Step("social_profile", legacy, "create", label)
                same = session.scalar(select(SocialProfile.id).where(
                    func.lower(SocialProfile.display_name) == name.lower()).limit(1))
                if same is not None:
                    report.notes.append(f"A profile called '{name}' is here already (#{same}); the imported one "
                                        f"is added beside it: name one of them by its id.")
            report.steps.append(step)
            specs.append((step, spec))
        return report, specs

    @staticmethod
    def _write(session, spec: dict) -> int:
        profile = SocialProfile(**{k: v for k, v in spec["fields"].items()
                                   if v is not None or k not in ("created_at", "updated_at")})
        session.add(profile)
        session.flush()
        stats = spec["platforms"]
        total, mean = compute_aggregates([(followers, centi) for followers, centi, _at in stats.values()])
        profile.total_followers, profile.avg_engagement_centi = total, mean
        for platform, (followers, centi, at) in stats.items():
            session.add(SocialPlatformStat(profile_id=profile.id, platform=platform, followers=followers,
                                           engagement_centi=centi, synced_at=at))
            session.add(SocialSync(profile_id=profile.id, platform=platform, success=True, followers=followers,
                                   engagement_centi=centi, total_followers=total, source="import", duration_ms=0,
                                   at=at))
        session.flush()
        return profile.id


def _profile_spec(doc: Document, legacy: str, report: ImportReport) -> dict:
    name = doc.text("displayName", "name", "username", max_length=200)
    if name is None:
        raise doc.refuse("the profile has no displayName.", "displayName")
    fields: dict[str, Any] = {"display_name": name, "bio": doc.text("bio", max_length=2_000),
                              "niches": doc.first("niche", "niches") or [],
                              "city": doc.text("location.city", max_length=100),
                              "state": doc.text("location.state", max_length=100),
                              "country": doc.text("location.country", max_length=100)}
    for key, label in (("avatar_url", "avatar"), ("profile_url", "profileUrl")):
        value = doc.text(label, max_length=500)
        if value and not value.lower().startswith(("http://", "https://")):
            report.notes.append(f"{doc.where}: {label} '{value[:80]}' is not a web address; left out.")
            value = None
        fields[key] = value
    for key, label in (("is_public", "isPublic"), ("is_active", "isActive")):
        value = doc.first(label)
        if value is not None and not isinstance(value, bool):
            raise doc.refuse(f"{label} must be true or false.", label)
        fields[key] = value
    try:
        fields = SocialService.check_fields(fields)
    except ValidationError as exc:
        raise doc.refuse(str(exc), exc.field or "file") from None
    fields.update(last_seen_at=doc.moment("lastSeen", "lastActive"), created_at=doc.moment("createdAt"),
                  updated_at=doc.moment("updatedAt"))
    profile_synced = (doc.moment(*(f"stats.{k}" for k in _SYNCED_KEYS[:-1]))
                      or doc.moment(*(f"socialStats.{k}" for k in _SYNCED_KEYS[:-1]))
                      or doc.moment("lastSyncedAt", "updatedAt") or utcnow())
    return {"fields": fields, "platforms": _platforms(doc, legacy, report, profile_synced)}


def _platforms(doc: Document, legacy: str, report: ImportReport,
               profile_synced: datetime) -> dict[str, tuple[int, int, datetime]]:
    breakdown = doc.first("socialStats.platformBreakdown", "stats.platformBreakdown", "socialStats")
    if breakdown is None:
        return {}
    if not isinstance(breakdown, dict):
        raise doc.refuse("its platform stats are not an object.", "stats")
    found: dict[str, tuple[int, int, datetime]] = {}
    for platform, values in breakdown.items():
        if platform not in SOCIAL_PLATFORMS:
            if isinstance(values, dict) and platform not in ("platformBreakdown",):
                report.notes.append(f"{doc.where}: the platform '{platform}' is not one we track; left out.")
            continue
        if not isinstance(values, dict):
            raise doc.refuse(f"its {platform} stats are not an object.", "stats")
        entry = Document(values, doc.path, doc.position)
        followers, engagement = entry.number("followers", "followerCount"), entry.number("engagement", "engagementRate")
        if not followers and not engagement:
            continue  # the schema's 0/0 default: never synced
        try:
            checked = validate_sync(platform, followers, engagement)
        except SyncValidationError as exc:
            raise doc.refuse(f"its {platform} numbers are refused: {exc.details[0]['message']}.", "stats") from None
        if followers is not None and Decimal(checked.followers) != followers:
            report.rounded.append(Rounded("social_profile", legacy, f"{platform}.followers", followers,
                                          Decimal(checked.followers)))
        if engagement is not None and centi_to_decimal(checked.engagement_centi) != engagement:
            report.rounded.append(Rounded("social_profile", legacy, f"{platform}.engagement", engagement,
                                          centi_to_decimal(checked.engagement_centi)))
        synced = entry.moment(*_SYNCED_KEYS[:-1]) or profile_synced
        found[platform] = (checked.followers, checked.engagement_centi, synced)
    return found
