"""The social service's SQL, built once: constructing SQLAlchemy statements costs more CPU than
running them on the sync path, and the profile list reads plain columns, not ORM entities."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    String,
    Text,
    bindparam,
    func,
    insert,
    select,
    type_coerce,
    update,
)

from giftdesk.db.models import Customer, TikTokAccount
from giftdesk.db.social_models import (
    SocialPlatformStat,
    SocialProfile,
    SocialSync,
    SocialSyncCounter,
)
from giftdesk.db.types import JSONText, UTCDateTime

from giftdesk.social.profile_fields import extras_of
from giftdesk.social.records import PlatformStat, Profile

_P, _S = SocialProfile.__table__, SocialPlatformStat.__table__
_H, _C = SocialSync.__table__, SocialSyncCounter.__table__


def _total_at(moment):
    """The profile's total followers right after its last successful sync at or before ``moment``."""
    return (
        select(_H.c.total_followers)
        .where(_H.c.profile_id == _P.c.id, _H.c.at <= moment, _H.c.total_followers.is_not(None))
        .order_by(_H.c.at.desc())
        .limit(1)
        .scalar_subquery()
    )


# Built once: constructing SQLAlchemy statements costs more CPU than running them on the sync path.
# Plain columns, not ORM entities: 10,000 rows without an identity map or instrumentation.
_PROFILE_COLUMNS = (
    _P.c.id, _P.c.display_name, _P.c.bio, _P.c.avatar_url, _P.c.profile_url, type_coerce(_P.c.niches, Text),
    _P.c.city, _P.c.state, _P.c.country, _P.c.is_public, _P.c.is_active, _P.c.last_seen_at, _P.c.customer_id,
    Customer.name, _P.c.account_id, TikTokAccount.username, _P.c.total_followers, _P.c.avg_engagement_centi,
    _P.c.created_at, _P.c.updated_at,
)
_AGO = (_total_at(bindparam("ago7", type_=UTCDateTime)), _total_at(bindparam("ago30", type_=UTCDateTime)))


def _with_links(query):
    return (query.outerjoin(Customer, Customer.id == _P.c.customer_id)
            .outerjoin(TikTokAccount, TikTokAccount.id == _P.c.account_id))


# The list reads its three timestamps as the driver gives them (SQLite: ISO text, parsed by
# datetime.fromisoformat, ten times cheaper than the generic DateTime processor on 10,000 rows).
_RAW_TIMES = {11: _P.c.last_seen_at, 18: _P.c.created_at, 19: _P.c.updated_at}
_PROFILES = _with_links(select(*(type_coerce(_RAW_TIMES[i], String) if i in _RAW_TIMES else column
                                 for i, column in enumerate(_PROFILE_COLUMNS))))
PROFILES_BY_NAME = _PROFILES.order_by(func.lower(_P.c.display_name), _P.c.id)
# The detail's columns beyond the list's, in ``giftdesk.social.profile_fields.extras_of``'s order.
EXTRA_COLUMNS = (_P.c.user_id, _P.c.rizz_score, _P.c.audience_min, _P.c.audience_max, _P.c.budget_min_cents,
                 _P.c.budget_max_cents, _P.c.collaboration_types, _P.c.preferred_locations, _P.c.social_links,
                 _P.c.platform_handles)
ONE_PROFILE = _with_links(select(*_PROFILE_COLUMNS, *_AGO, *EXTRA_COLUMNS)).where(_P.c.id == bindparam("pid"))
# A detailed list's parts the list query leaves out: every profile's extras and platform stats.
ALL_EXTRAS = select(_P.c.id, *EXTRA_COLUMNS)
ALL_PLATFORM_STATS = select(_S.c.profile_id, _S.c.platform, _S.c.followers, _S.c.engagement_centi, _S.c.synced_at)
BASELINES = select(_P.c.id, *_AGO)
# Successful syncs in (after, upto], oldest first: the last one per profile is its total at ``upto``.
SYNCS_BETWEEN = (select(_H.c.profile_id, _H.c.total_followers)
                  .where(_H.c.at > bindparam("after", type_=UTCDateTime), _H.c.at <= bindparam("upto", type_=UTCDateTime),
                         _H.c.total_followers.is_not(None))
                  .order_by(_H.c.at, _H.c.id))
BASELINE_ADVANCE_LIMIT = timedelta(days=1)  # further than that, computing afresh is the cheaper way
NONE_AGO = (None, None)
PLATFORM_STATS = select(_S.c.platform, _S.c.followers, _S.c.engagement_centi, _S.c.synced_at).where(
    _S.c.profile_id == bindparam("pid"))
LOCK_PROFILE = select(_P.c.id).where(_P.c.id == bindparam("pid")).with_for_update()
UPDATE_STAT = (update(_S).where(_S.c.profile_id == bindparam("pid"), _S.c.platform == bindparam("pf"))
                .values(followers=bindparam("f"), engagement_centi=bindparam("e"),
                        synced_at=bindparam("at", type_=UTCDateTime)))
INSERT_STAT = insert(_S).values(profile_id=bindparam("pid"), platform=bindparam("pf"), followers=bindparam("f"),
                                 engagement_centi=bindparam("e"), synced_at=bindparam("at", type_=UTCDateTime))
UPDATE_TOTALS = (update(_P).where(_P.c.id == bindparam("pid"))
                  .values(total_followers=bindparam("total"), avg_engagement_centi=bindparam("mean"),
                          last_seen_at=bindparam("at", type_=UTCDateTime),
                          updated_at=bindparam("at", type_=UTCDateTime)))
INSERT_SYNC = insert(_H)
HANDLES = select(_P.c.platform_handles).where(_P.c.id == bindparam("pid"))
SET_HANDLES = update(_P).where(_P.c.id == bindparam("pid")).values(
    platform_handles=bindparam("handles", type_=JSONText))
COUNT_SYNC = update(_C).where(_C.c.platform == bindparam("pf")).values(
    total=_C.c.total + 1, successful=_C.c.successful + bindparam("ok"), failed=_C.c.failed + bindparam("bad"),
    slow=_C.c.slow + bindparam("slow"), duration_ms_total=_C.c.duration_ms_total + bindparam("ms"))


def _utc(value: Any) -> datetime | None:
    """A stored naive-UTC timestamp (datetime from PostgreSQL, ISO text from SQLite) made aware."""
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value + "+00:00")


def parse_times(r) -> list:
    r = list(r)
    r[11], r[18], r[19] = _utc(r[11]), _utc(r[18]), _utc(r[19])
    return r


_PROFILE_FIELDS = tuple(f.name for f in fields(Profile))
_new = object.__new__


def profile_of(r, platforms: dict[str, PlatformStat] | None, niches: dict, ago: tuple | None = None) -> Profile:
    """A Profile from a row of _PROFILE_COLUMNS (+ the totals 7 and 30 days ago, in the row or ``ago``,
    + the detail's EXTRA_COLUMNS when the row has them).

    Rows may come straight from the driver (SQLite gives 0/1 for booleans)."""
    text = r[5]
    if text not in niches:
        niches[text] = tuple(json.loads(text)) if text else ()
    total = r[16]
    t7, t30 = ago if ago is not None else (r[20], r[21])
    # A frozen dataclass's __init__ sets each of its 23 fields through object.__setattr__: filling
    # the instance's dict at once is 2.5x cheaper, which counts on a list of 10,000.
    profile = _new(Profile)
    profile.__dict__.update(zip(_PROFILE_FIELDS, (
        r[0], r[1], r[2], r[3], r[4], niches[text], r[6], r[7], r[8], bool(r[9]), bool(r[10]), r[11], r[12], r[13],
        r[14], r[15], total, r[17], r[18], r[19],
        None if t7 is None else total - t7, None if t30 is None else total - t30, platforms,
        extras_of(r[22:]) if len(r) > 22 else None)))
    return profile


_COMPILED: dict[tuple[str, int], str] = {}


def driver_rows(connection, statement) -> list[tuple]:
    """The rows of a statement without parameters as the DBAPI driver gives them.

    SQLAlchemy's result processing costs more than the query itself on 10,000 rows (71 ms against
    28 ms on SQLite); the statement is compiled once per dialect."""
    key = (connection.dialect.name, id(statement))
    sql = _COMPILED.get(key)
    if sql is None:
        sql = _COMPILED[key] = str(statement.compile(dialect=connection.dialect))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()

PROFILE_TABLE = _P
