"""Social stats: creator profiles, per-platform syncs, growth history and sync metrics.

A sync is one transaction: the platform's row, the profile's aggregates, a history row and the
platform's counters commit together. A sync that fails validation (or finds no profile) is
recorded too, in its own transaction, so the metrics count failures too.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TextIO

from sqlalchemy import (
    Text,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from giftdesk.db.change_log import note_change
from giftdesk.db.models import Customer, TikTokAccount
from giftdesk.db.social_models import (
    SOCIAL_PLATFORMS,
    SYNC_SOURCES,
    SocialPlatformStat,
    SocialProfile,
    SocialSync,
    SocialSyncCounter,
)
from giftdesk.db.types import utcnow
from giftdesk.core.errors import ConflictError, NotFoundError, ValidationError
from giftdesk.core import validation
from giftdesk.core.context import ServiceContext
from giftdesk.core.events import DatabaseReplaced
from giftdesk.db.lookups import account_or_error, customer_or_error
from giftdesk.core.search import contains
from giftdesk.social.events import SocialProfileChanged
from giftdesk.core.wording import counted
from giftdesk.social.csv_io import (
    ImportPreview,
    apply_rows,
    check_rows,
    read_rows,
    write_history,
    write_profiles,
)
from giftdesk.social.validation import (
    SyncValues,
    platform_name,
    validate_sync,
)

from giftdesk.social.profile_fields import EXTRA_FIELDS, check_ranges, clean_extras, clean_handle, extras_of, merged
from giftdesk.social.records import (PlatformMetrics, PlatformStat, Profile, ProfileDeleteImpact,
                                      SyncMetrics, SyncRecord, compute_aggregates)
from giftdesk.social.queries import (ALL_EXTRAS, ALL_PLATFORM_STATS, BASELINE_ADVANCE_LIMIT, BASELINES,
                                     COUNT_SYNC, HANDLES, INSERT_STAT,
                                     INSERT_SYNC, LOCK_PROFILE, SET_HANDLES, NONE_AGO, ONE_PROFILE, PLATFORM_STATS, PROFILE_TABLE,
                                     PROFILES_BY_NAME, SYNCS_BETWEEN, UPDATE_STAT, UPDATE_TOTALS, driver_rows,
                                     parse_times, profile_of)

SLOW_SYNC_MS = 5_000
MAX_ID = 2**63 - 1  # the largest id SQLite and PostgreSQL's bigint hold
SORT_KEYS = ("name", "followers", "engagement", "change7", "change30", "updated", "lastseen")
_UNSET: Any = object()


class SocialService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx
        self._baseline_cache: tuple[datetime, dict[int, tuple[int | None, int | None]]] | None = None
        service = weakref.ref(self)  # the bus must not keep every Desk.as_actor's service alive

        def forget(_event) -> None:
            alive = service()
            if alive is not None:
                alive._forget_baselines()

        ctx.events.subscribe(DatabaseReplaced, forget, owner=self)

    # ---- events ---------------------------------------------------------------------------
    def _changed(self, profile_id: int | None) -> None:
        self.ctx.events.publish(SocialProfileChanged(profile_id=profile_id))

    # ---- profiles: reading ----------------------------------------------------------------
    def list(self, search: str | None = None, sort: str = "name", descending: bool = False,
             now: datetime | None = None, detailed: bool = False) -> list[Profile]:
        """Every profile with its totals and its change in total followers over 7 and 30 days;
        ``detailed``: with what ``get`` gives besides (platform stats, user id, preferences, links,
        handles), for a script's export. The plain list stays lean for the table of 10,000 rows."""
        if sort not in SORT_KEYS:
            raise ValidationError(f"sort must be one of: {', '.join(SORT_KEYS)}.", field="sort")
        now = now or utcnow()
        query = PROFILES_BY_NAME
        if search and search.strip():
            text = search.strip().lower()
            query = query.where(or_(
                contains(func.lower(PROFILE_TABLE.c.display_name), text),
                contains(func.lower(PROFILE_TABLE.c.bio), text),
                contains(func.lower(type_coerce(PROFILE_TABLE.c.niches, Text)), text),
                contains(func.lower(PROFILE_TABLE.c.city), text),
                contains(func.lower(PROFILE_TABLE.c.state), text),
                contains(func.lower(PROFILE_TABLE.c.country), text),
                contains(func.lower(Customer.name), text),
                contains(TikTokAccount.username, text.removeprefix("@")),
            ))
        niches: dict = {}
        with self.ctx.db.read_session() as session:
            connection = session.connection()
            baselines = self._baselines(connection, now)
            found = driver_rows(connection, query) if query is PROFILES_BY_NAME else connection.execute(query).all()
            rows = [profile_of(parse_times(r), None, niches, baselines.get(r[0], NONE_AGO)) for r in found]
            if detailed:
                rows = self._detailed(connection, rows)
        if sort == "name" and not descending:
            return rows  # the query's order
        return self._sorted(rows, sort, descending)

    @staticmethod
    def _detailed(connection, rows: list[Profile]) -> list[Profile]:
        extras = {r[0]: extras_of(r[1:]) for r in connection.execute(ALL_EXTRAS)}
        stats: dict[int, dict[str, PlatformStat]] = {}
        for profile_id, platform, followers, centi, at in connection.execute(ALL_PLATFORM_STATS):
            stats.setdefault(profile_id, {})[platform] = PlatformStat(followers, centi, at)
        return [replace(p, platforms=stats.get(p.id, {}), extras=extras.get(p.id)) for p in rows]

    @staticmethod
    def _ages(now: datetime) -> dict[str, datetime]:
        """The moments the 7- and 30-day changes compare with: rounded up to the minute, so a list
        can reuse them for a minute (a sync made exactly 7 days ago still counts)."""
        minute = now.replace(second=0, microsecond=0)
        if minute != now:
            minute += timedelta(minutes=1)
        return {"ago7": minute - timedelta(days=7), "ago30": minute - timedelta(days=30)}

    def _baselines(self, connection, now: datetime) -> dict[int, tuple[int | None, int | None]]:
        """Every profile's total followers 7 and 30 days ago (see ``_ages``).

        Computed in SQL (two index seeks per profile) once, then kept: syncs are recorded at the
        time they happen, so history that old no longer changes, and a new profile has none. A
        later minute only moves the two moments forward: the syncs made in between (a range of
        the index on ``at``) update the profiles they concern, which costs a few milliseconds
        where computing again took 0.15 s (SQLite) to 0.3 s (PostgreSQL) on 10,000 profiles.
        Backdated syncs (``now=``) and a restored database drop the cache.
        """
        ages = self._ages(now)
        cached = self._baseline_cache
        if cached is not None and cached[0] == ages["ago7"]:
            return cached[1]
        if cached is not None and timedelta(0) < ages["ago7"] - cached[0] <= BASELINE_ADVANCE_LIMIT:
            values = dict(cached[1])
            passed = ages["ago7"] - cached[0]
            for slot, upto in enumerate((ages["ago7"], ages["ago30"])):
                for pid, total in connection.execute(SYNCS_BETWEEN, {"after": upto - passed, "upto": upto}):
                    before = values.get(pid, NONE_AGO)
                    values[pid] = (total, before[1]) if slot == 0 else (before[0], total)
        else:
            values = {pid: (t7, t30) for pid, t7, t30 in connection.execute(BASELINES, ages)}
        self._baseline_cache = (ages["ago7"], values)
        return values

    def _forget_baselines(self, *_args) -> None:
        self._baseline_cache = None

    @staticmethod
    def _sorted(rows: list[Profile], sort: str, descending: bool) -> list[Profile]:
        if sort == "name":
            return sorted(rows, key=lambda r: (r.display_name.lower(), r.id), reverse=descending)
        attribute = {"followers": "total_followers", "engagement": "avg_engagement_centi", "change7": "change_7d",
                     "change30": "change_30d", "updated": "updated_at", "lastseen": "last_seen_at"}[sort]
        present = [r for r in rows if getattr(r, attribute) is not None]
        missing = [r for r in rows if getattr(r, attribute) is None]  # always last
        present.sort(key=lambda r: (getattr(r, attribute), r.id), reverse=descending)
        return present + missing

    def get(self, profile_id: int, now: datetime | None = None) -> Profile:
        now = now or utcnow()
        with self.ctx.db.read_session() as session:
            return self._load(session, profile_id, now)

    def _load(self, session: Session, profile_id: int, now: datetime) -> Profile:
        connection = session.connection()
        row = connection.execute(ONE_PROFILE, {"pid": profile_id, **self._ages(now)}).first()
        if row is None:
            raise NotFoundError(f"There is no social profile with id {profile_id}.")
        stats = {platform: PlatformStat(followers, centi, at)
                 for platform, followers, centi, at in connection.execute(PLATFORM_STATS, {"pid": profile_id})}
        return profile_of(row, stats, {})

    def resolve(self, reference: str) -> int:
        """A profile id from what a person types: its id, or its display name (case-insensitive)."""
        text = (reference or "").strip()
        if not text:
            raise ValidationError("Name a profile by its id or display name.", field="profile")
        with self.ctx.db.read_session() as session:
            if text.isascii() and text.isdigit() and len(text) < 12 and session.get(SocialProfile, int(text)):
                return int(text)
            ids = list(session.scalars(
                select(SocialProfile.id).where(func.lower(SocialProfile.display_name) == text.lower()).limit(2)
            ))
        if not ids:
            raise NotFoundError(f"There is no social profile '{text}'.")
        if len(ids) > 1:
            raise ValidationError(f"More than one profile is called '{text}'; use its id.", field="profile")
        return ids[0]

    def profile_for_account(self, account_id: int) -> int | None:
        with self.ctx.db.read_session() as session:
            return session.scalar(select(SocialProfile.id).where(SocialProfile.account_id == account_id))

    def profile_for_username(self, username: str) -> int | None:
        """The profile linked to the TikTok account ``username`` (with or without "@", any case)."""
        handle = username.strip().removeprefix("@").lower()
        if not handle or len(handle) > 64:
            return None
        with self.ctx.db.read_session() as session:
            return session.scalar(select(SocialProfile.id).join(TikTokAccount, TikTokAccount.id == SocialProfile.account_id)
                                  .where(TikTokAccount.username == handle))

    # ---- profiles: changing ---------------------------------------------------------------
    def create(self, display_name: str, **fields: Any) -> Profile:
        self.ctx.require("operator", "add social profiles")
        cleaned = self._clean({"display_name": display_name, **fields}, partial=False)
        for key in ("social_links", "platform_handles"):
            cleaned[key] = merged({}, cleaned[key])
        check_ranges(cleaned)
        with self.ctx.db.session() as session:
            self._check_links(session, cleaned, None)
            self._check_user_id(session, cleaned["user_id"], None)
            profile = SocialProfile(**cleaned)
            session.add(profile)
            session.flush()
            self.ctx.audit(session, "social.profile.create", f"Added social profile '{profile.display_name}'",
                           "social_profile", profile.id)
            result = self._load(session, profile.id, utcnow())
        self._changed(result.id)
        return result

    def update(self, profile_id: int, **fields: Any) -> Profile:
        """Changes only the fields given; None or "" clears an optional one."""
        self.ctx.require("operator", "edit social profiles")
        cleaned = self._clean(fields, partial=True)
        with self.ctx.db.session() as session:
            profile = self._profile_or_error(session, profile_id)
            merged_links = {"customer_id": profile.customer_id, "account_id": profile.account_id}
            merged_links.update({k: cleaned[k] for k in ("customer_id", "account_id") if k in cleaned})
            if "account_id" in cleaned and "customer_id" not in cleaned and cleaned["account_id"] is not None:
                merged_links["customer_id"] = None  # the customer follows the newly linked account
            if "customer_id" in cleaned and "account_id" not in cleaned and merged_links["account_id"] is not None:
                # A new customer keeps the account link only if the account is theirs.
                merged_links["account_id"] = self._account_if_owned(session, merged_links["account_id"],
                                                                    merged_links["customer_id"])
            self._check_links(session, merged_links, profile_id)
            cleaned.update(merged_links)
            for key in ("social_links", "platform_handles"):  # the platforms named change, the others stay
                if key in cleaned:
                    cleaned[key] = merged(getattr(profile, key) or {}, cleaned[key])
            check_ranges({key: cleaned.get(key, getattr(profile, key)) for key in
                          ("audience_min", "audience_max", "budget_min_cents", "budget_max_cents")})
            if cleaned.get("user_id") is not None:
                self._check_user_id(session, cleaned["user_id"], profile_id)
            changed = [k for k, v in cleaned.items() if getattr(profile, k) != v]
            for key in changed:
                setattr(profile, key, cleaned[key])
            if changed:
                self.ctx.audit(session, "social.profile.update",
                               f"Edited social profile '{profile.display_name}': {', '.join(changed)}",
                               "social_profile", profile_id)
            session.flush()
            result = self._load(session, profile_id, utcnow())
        self._changed(profile_id)
        return result

    def delete_impact(self, profile_id: int) -> ProfileDeleteImpact:
        with self.ctx.db.read_session() as session:
            self._profile_or_error(session, profile_id)
            return self._impact(session, profile_id)

    def delete(self, profile_id: int) -> ProfileDeleteImpact:
        self.ctx.require("operator", "delete social profiles")
        with self.ctx.db.session() as session:
            profile = self._profile_or_error(session, profile_id)
            impact = self._impact(session, profile_id)
            name = profile.display_name
            session.delete(profile)
            self.ctx.audit(session, "social.profile.delete", f"Deleted social profile '{name}'. {impact.sentence()}",
                           "social_profile", profile_id, details=impact.to_json())
        self._changed(profile_id)
        return impact

    @staticmethod
    def _impact(session: Session, profile_id: int) -> ProfileDeleteImpact:
        stats = session.scalar(select(func.count(SocialPlatformStat.id)).where(SocialPlatformStat.profile_id == profile_id))
        syncs = session.scalar(select(func.count(SocialSync.id)).where(SocialSync.profile_id == profile_id))
        return ProfileDeleteImpact(stats or 0, syncs or 0)

    # ---- syncing --------------------------------------------------------------------------
    def sync(self, profile_id: int, platform: str, followers: Any, engagement: Any = None, *, source: str,
             allow_text: bool = False, started: float | None = None, now: datetime | None = None,
             check_role: bool = True, notify: bool = True, handle: str | None = None) -> Profile:
        """Validates and applies one sync; a refused one is recorded as failed and raised.

        ``handle``: the platform's username or id sent with the numbers, kept as the profile's
        handle on that platform.
        ``started`` (a ``time.perf_counter()`` value) lets the endpoint include parsing in the
        duration; ``check_role=False`` is for the endpoint, whose caller proved itself by token.
        """
        started = time.perf_counter() if started is None else started
        if source not in SYNC_SOURCES:
            raise ValueError(f"unknown sync source {source!r}")
        if check_role:
            self.ctx.require("operator", "sync social stats")
        platform = platform_name(platform)  # an unknown platform has no counters: refused unrecorded
        try:
            values = validate_sync(platform, followers, engagement, allow_text=allow_text)
            handles = {} if handle is None else {platform: clean_handle(platform, handle)}
            result = self._apply_all(profile_id, {platform: values}, source, started, now or utcnow(), handles)
        except (ValidationError, NotFoundError) as exc:
            self.record_failure(profile_id, platform, source, str(exc), started=started, now=now, notify=notify,
                                check_role=False)  # checked (or waived for the endpoint) above
            raise
        if notify:
            self._changed(profile_id)
        return result

    def sync_batch(self, profile_id: int, values: dict[str, SyncValues], *, source: str,
                   started: float | None = None, check_role: bool = True,
                   handles: dict[str, str] | None = None) -> Profile:
        """Applies syncs of several platforms, validated already (``validate_sync``), in one
        transaction: all are stored or none. ``handles``: platform -> handle sent with the numbers
        (checked already, ``clean_handle``)."""
        started = time.perf_counter() if started is None else started
        if source not in SYNC_SOURCES:
            raise ValueError(f"unknown sync source {source!r}")
        if check_role:
            self.ctx.require("operator", "sync social stats")
        result = self._apply_all(profile_id, values, source, started, utcnow(), handles or {})
        self._changed(profile_id)
        return result

    def _apply_all(self, profile_id: int, values: dict[str, SyncValues], source: str, started: float,
                   now: datetime, handles: dict[str, str | None] | None = None) -> Profile:
        with self.ctx.db.session() as session:
            connection = session.connection()
            # Row lock on PostgreSQL (SQLite's BEGIN IMMEDIATE already serialises writers): two
            # syncs of one profile never compute aggregates from each other's half.
            if connection.execute(LOCK_PROFILE, {"pid": profile_id}).first() is None:
                raise NotFoundError(f"There is no social profile with id {profile_id}.")
            stats: dict[str, PlatformStat] = {}
            for platform, value in values.items():
                followers, engagement_centi = value.followers, value.engagement_centi
                row_values = {"pid": profile_id, "pf": platform, "f": followers, "e": engagement_centi, "at": now}
                if connection.execute(UPDATE_STAT, row_values).rowcount == 0:
                    connection.execute(INSERT_STAT, row_values)
                stats = {p: PlatformStat(f, e, at)
                         for p, f, e, at in connection.execute(PLATFORM_STATS, {"pid": profile_id})}
                total, mean = compute_aggregates([(st.followers, st.engagement_centi) for st in stats.values()])
                connection.execute(UPDATE_TOTALS, {"pid": profile_id, "total": total, "mean": mean, "at": now})
                duration_ms = _elapsed_ms(started)
                connection.execute(INSERT_SYNC, {"profile_id": profile_id, "platform": platform, "success": True,
                                                  "followers": followers, "engagement_centi": engagement_centi,
                                                  "total_followers": total, "source": source,
                                                  "duration_ms": duration_ms, "error": None, "at": now})
                self._count(session, platform, True, duration_ms)
            if handles:
                stored = connection.execute(HANDLES, {"pid": profile_id}).scalar() or {}
                if merged(stored, handles) != stored:
                    connection.execute(SET_HANDLES, {"pid": profile_id, "handles": merged(stored, handles)})
            note_change(session, "social_profile", profile_id, "updated")  # Core UPDATEs: the ORM sees none
            if now < utcnow() - timedelta(minutes=1):
                self._forget_baselines()  # backdated: it may change what was true an hour ago
            row = connection.execute(ONE_PROFILE, {"pid": profile_id, **self._ages(now)}).first()
            return profile_of(row, stats, {})

    def record_failure(self, profile_id: int | None, platform: str, source: str, error: str, *,
                       started: float | None = None, now: datetime | None = None, notify: bool = True,
                       check_role: bool = True) -> None:
        """A refused sync, kept in the history and counted in the metrics (its own transaction).

        ``check_role=False`` as for ``sync``: the endpoint's caller proved itself by token."""
        if check_role:
            self.ctx.require("operator", "record social sync failures")
        duration_ms = _elapsed_ms(started) if started is not None else 0
        with self.ctx.db.session() as session:
            if profile_id is not None and session.get(SocialProfile, profile_id) is None:
                profile_id = None
            session.add(SocialSync(profile_id=profile_id, platform=platform, success=False, source=source,
                                   duration_ms=duration_ms, error=error[:1000], at=now or utcnow()))
            self._count(session, platform, False, duration_ms)
        if notify:
            self._changed(profile_id)

    @staticmethod
    def _count(session: Session, platform: str, success: bool, duration_ms: int) -> None:
        session.connection().execute(COUNT_SYNC, {"pf": platform, "ok": int(success), "bad": int(not success),
                                              "slow": int(duration_ms > SLOW_SYNC_MS), "ms": duration_ms})

    # ---- history and metrics --------------------------------------------------------------
    def history(self, profile_id: int, platform: str | None = None, since: datetime | None = None,
                until: datetime | None = None, include_failed: bool = True, limit: int | None = None) -> list[SyncRecord]:
        """The profile's syncs, oldest first (the newest ``limit`` when given)."""
        query = select(SocialSync).where(SocialSync.profile_id == profile_id)
        if platform is not None:
            query = query.where(SocialSync.platform == platform_name(platform))
        if since is not None:
            query = query.where(SocialSync.at >= since)
        if until is not None:
            query = query.where(SocialSync.at <= until)
        if not include_failed:
            query = query.where(SocialSync.success.is_(True))
        query = query.order_by(SocialSync.at.desc(), SocialSync.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self.ctx.db.read_session() as session:
            self._profile_or_error(session, profile_id)
            rows = [self._record(s) for s in session.scalars(query)]
        rows.reverse()
        return rows

    def growth(self, profile_id: int, days: int | None = None, now: datetime | None = None
               ) -> dict[str, list[tuple[datetime, int, int]]]:
        """Per platform, (at, followers, engagement hundredths) of each successful sync in the range.

        Each line starts with the last value known before the range, moved to the range's start,
        so a 7-day view of a weekly-synced profile still draws a line.
        """
        now = now or utcnow()
        since = None if days is None else now - timedelta(days=days)
        s = SocialSync
        query = (select(s.platform, s.at, s.followers, s.engagement_centi)
                 .where(s.profile_id == profile_id, s.total_followers.is_not(None))
                 .order_by(s.at, s.id))
        if since is not None:
            query = query.where(s.at >= since)
        series: dict[str, list[tuple[datetime, int, int]]] = {}
        with self.ctx.db.read_session() as session:
            self._profile_or_error(session, profile_id)
            if since is not None:
                for platform in SOCIAL_PLATFORMS:
                    before = session.execute(
                        select(s.followers, s.engagement_centi)
                        .where(s.profile_id == profile_id, s.platform == platform, s.at < since,
                               s.total_followers.is_not(None))
                        .order_by(s.at.desc(), s.id.desc()).limit(1)
                    ).first()
                    if before is not None:
                        series[platform] = [(since, before[0], before[1])]
            for platform, at, followers, engagement in session.execute(query):
                series.setdefault(platform, []).append((at, followers, engagement))
        return series

    def metrics(self) -> SyncMetrics:
        with self.ctx.db.read_session() as session:
            rows = {c.platform: c for c in session.scalars(select(SocialSyncCounter))}
        return SyncMetrics({
            p: PlatformMetrics(rows[p].total, rows[p].successful, rows[p].failed, rows[p].slow, rows[p].duration_ms_total)
            if p in rows else PlatformMetrics(0, 0, 0, 0, 0)
            for p in SOCIAL_PLATFORMS
        })

    def recent_syncs(self, limit: int = 200) -> list[SyncRecord]:
        with self.ctx.db.read_session() as session:
            rows = [self._record(s) for s in session.scalars(
                select(SocialSync).order_by(SocialSync.at.desc(), SocialSync.id.desc()).limit(limit))]
        return rows

    # ---- CSV ------------------------------------------------------------------------------
    def preview_import(self, text: str) -> ImportPreview:
        """What importing ``text`` would do, row by row; changes nothing."""
        rows = read_rows(text)
        with self.ctx.db.read_session() as session:
            return check_rows(session, rows)

    def apply_import(self, preview: ImportPreview) -> ImportPreview:
        """Applies a preview's rows, each in its own transaction (see giftdesk.social.csv_io)."""
        self.ctx.require("operator", "import social stats")
        result = apply_rows(self, preview)
        with self.ctx.db.session() as session:
            self.ctx.audit(session, "social.import", f"Imported social stats: {counted(result.valid, 'row')} applied, "
                           f"{result.rejected} rejected", "social_profile", None,
                           details={"applied": result.valid, "rejected": result.rejected})
        self._changed(None)
        return result

    def export_profiles_csv(self, out: TextIO) -> int:
        """Writes every profile with its platforms; returns the number of profiles."""
        with self.ctx.db.read_session() as session:
            return write_profiles(session, out)

    def export_history_csv(self, out: TextIO, profile_id: int | None = None) -> int:
        """Writes every recorded sync (of one profile, or all), oldest first; returns the count."""
        with self.ctx.db.read_session() as session:
            if profile_id is not None:
                self._profile_or_error(session, profile_id)
            return write_history(session, out, profile_id)

    # ---- helpers --------------------------------------------------------------------------
    @staticmethod
    def _record(s: SocialSync) -> SyncRecord:
        return SyncRecord(s.id, s.profile_id, s.platform, s.success, s.followers, s.engagement_centi,
                          s.total_followers, s.source, s.duration_ms, s.error, s.at)

    @staticmethod
    def _profile_or_error(session: Session, profile_id: int) -> SocialProfile:
        profile = session.get(SocialProfile, profile_id)
        if profile is None:
            raise NotFoundError(f"There is no social profile with id {profile_id}.")
        return profile

    @staticmethod
    def check_fields(fields: dict[str, Any]) -> dict[str, Any]:
        """``update``'s checks of the fields given, without saving: their cleaned values, or the
        ValidationError of the first refused one."""
        return SocialService._clean(fields, partial=True)

    @staticmethod
    def _clean(given: dict[str, Any], partial: bool) -> dict[str, Any]:
        known = {"display_name", "bio", "avatar_url", "profile_url", "niches", "city", "state", "country",
                 "is_public", "is_active", "customer_id", "account_id", *EXTRA_FIELDS}
        unknown = set(given) - known
        if unknown:
            raise TypeError(f"unknown profile fields: {', '.join(sorted(unknown))}")
        cleaned: dict[str, Any] = {}

        def wanted(key: str) -> bool:
            return key in given or not partial

        if wanted("display_name"):
            cleaned["display_name"] = validation.text(given.get("display_name"), "display name", required=True)
        if wanted("bio"):
            cleaned["bio"] = validation.text(given.get("bio"), "bio", max_length=2_000)
        for key, label in (("avatar_url", "avatar URL"), ("profile_url", "profile URL")):
            if wanted(key):
                cleaned[key] = validation.http_url(given.get(key), label)
        if wanted("niches"):
            cleaned["niches"] = clean_niches(given.get("niches"))
        for key in ("city", "state", "country"):
            if wanted(key):
                cleaned[key] = validation.text(given.get(key), key, max_length=100)
        for key in ("is_public", "is_active"):
            if key in given and given[key] is not None:
                if not isinstance(given[key], bool):
                    raise ValidationError(f"{key.replace('is_', '')} must be yes or no.", field=key)
                cleaned[key] = given[key]
            elif not partial:
                cleaned[key] = True
        for key, label in (("customer_id", "customer"), ("account_id", "TikTok account")):
            if wanted(key):
                value = given.get(key)
                cleaned[key] = None if value in (None, "") else _record_id(value, label)
        cleaned.update(clean_extras({k: v for k, v in given.items() if k in EXTRA_FIELDS}, partial))
        return cleaned

    @staticmethod
    def _check_user_id(session: Session, user_id: str | None, profile_id: int | None) -> None:
        if user_id is None:
            return
        other = session.scalar(select(SocialProfile).where(SocialProfile.user_id == user_id))
        if other is not None and other.id != profile_id:
            raise ConflictError(f"The user id {user_id} already belongs to the profile '{other.display_name}'.")

    @staticmethod
    def _account_if_owned(session: Session, account_id: int, customer_id: int | None) -> int | None:
        account = session.get(TikTokAccount, account_id)
        return account_id if account is not None and account.customer_id == customer_id else None

    @staticmethod
    def _check_links(session: Session, fields: dict[str, Any], profile_id: int | None) -> None:
        """The account must be the customer's (a link to an account alone implies its customer)."""
        account_id, customer_id = fields.get("account_id"), fields.get("customer_id")
        if customer_id is not None:
            customer_or_error(session, customer_id)
        if account_id is None:
            return
        account = account_or_error(session, account_id)
        if customer_id is None:
            fields["customer_id"] = account.customer_id
        elif account.customer_id != customer_id:
            raise ValidationError(f"@{account.username} is not an account of customer {customer_id}.",
                                  field="account_id")
        other = session.scalar(select(SocialProfile).where(SocialProfile.account_id == account_id))
        if other is not None and other.id != profile_id:
            raise ConflictError(f"@{account.username} is already linked to the profile '{other.display_name}'.")


def _record_id(value: Any, label: str) -> int:
    number = validation.positive_id(value, label)
    if number > MAX_ID:
        raise ValidationError(f"There is no {label} with id {number}.", field=label)
    return number


def clean_niches(value: Any) -> list[str]:
    """Niches from a list or comma-separated text: trimmed, lower-case, unique, in order."""
    if value is None or value == "":
        return []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ValidationError("niches must be a list of words.", field="niches")
    niches: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise ValidationError("niches must be a list of words.", field="niches")
        niche = item.strip().lower()
        if len(niche) > 50:
            raise ValidationError(f"The niche '{niche[:50]}…' is longer than 50 characters.", field="niches")
        if niche and niche not in niches:
            niches.append(niche)
    if len(niches) > 20:
        raise ValidationError("A profile has at most 20 niches.", field="niches")
    return niches


def _elapsed_ms(started: float) -> int:
    return max(0, int((time.perf_counter() - started) * 1000))
