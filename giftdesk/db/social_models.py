"""Social stats: creator profiles, their per-platform stats, every sync, sync counters.

Engagement is a percentage with two decimals, stored as an integer number of hundredths
(``engagement_centi``: 7.5 % is 750) so sums and means are exact on both databases.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from giftdesk.db.base import Base, TimestampMixin
from giftdesk.db.types import JSONText, UTCDateTime, utcnow

SOCIAL_PLATFORMS = ("tiktok", "instagram", "youtube", "twitch", "twitter")
SYNC_SOURCES = ("dialog", "csv", "endpoint", "cli", "import")  # import: the figures a profile came with


class SocialProfile(TimestampMixin, Base):
    __tablename__ = "social_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    bio: Mapped[str | None] = mapped_column(Text)
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    profile_url: Mapped[str | None] = mapped_column(String(500))
    niches: Mapped[Any] = mapped_column(JSONText, nullable=False, default=list)
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(100))
    is_public: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    # One profile per TikTok account: its API key authenticates the endpoint's sync for this profile.
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("tiktok_accounts.id", ondelete="SET NULL"), unique=True
    )
    # Aggregates recomputed in every sync's transaction ("Recalculate Aggregates").
    total_followers: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    avg_engagement_centi: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The creator's id in the web app (a 24-hex-digit ObjectId), one profile per user.
    user_id: Mapped[str | None] = mapped_column(String(24), unique=True, index=True)
    rizz_score: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default=text("0"))
    # Preferences: the audience size and budget a creator looks for in a collaboration (budget in
    # cents, so amounts stay exact), the kinds of collaboration and the places they want.
    audience_min: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default=text("0"))
    audience_max: Mapped[int] = mapped_column(BigInteger, nullable=False, default=1_000_000,
                                              server_default=text("1000000"))
    budget_min_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default=text("0"))
    budget_max_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=1_000_000,
                                                  server_default=text("1000000"))
    collaboration_types: Mapped[Any] = mapped_column(JSONText, nullable=False, default=list,
                                                     server_default=text("'[]'"))
    preferred_locations: Mapped[Any] = mapped_column(JSONText, nullable=False, default=list,
                                                     server_default=text("'[]'"))
    # Per platform: the page's address, and the handle (what the sync route's ``usernameOrId`` sends).
    social_links: Mapped[Any] = mapped_column(JSONText, nullable=False, default=dict, server_default=text("'{}'"))
    platform_handles: Mapped[Any] = mapped_column(JSONText, nullable=False, default=dict,
                                                  server_default=text("'{}'"))

    platforms: Mapped[list[SocialPlatformStat]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", passive_deletes=True
    )


class SocialPlatformStat(Base):
    """The current followers and engagement of one profile on one platform."""

    __tablename__ = "social_platform_stats"
    __table_args__ = (UniqueConstraint("profile_id", "platform", name="uq_social_platform_stats_profile_platform"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int] = mapped_column(ForeignKey("social_profiles.id", ondelete="CASCADE"), nullable=False)
    platform: Mapped[str] = mapped_column(String(16), nullable=False)
    followers: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    engagement_centi: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    profile: Mapped[SocialProfile] = relationship(back_populates="platforms")


class SocialSync(Base):
    """Every sync attempt, kept: the growth history (successful rows) and the failures.

    ``total_followers`` is the profile's total right after this sync, so "total 7 days ago" is one
    index seek per profile on (profile_id, at).
    """

    __tablename__ = "social_syncs"
    __table_args__ = (
        Index("ix_social_syncs_profile_at", "profile_id", "at", "total_followers"),
        Index("ix_social_syncs_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    profile_id: Mapped[int | None] = mapped_column(ForeignKey("social_profiles.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16), nullable=False)
    success: Mapped[bool] = mapped_column(Boolean, nullable=False)
    followers: Mapped[int | None] = mapped_column(Integer)
    engagement_centi: Mapped[int | None] = mapped_column(Integer)
    total_followers: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class SocialSyncCounter(Base):
    """Sync metrics, one row per platform, bumped in the sync's own transaction.

    Kept as counters so ``giftdesk social metrics`` does not scan millions of history rows.
    """

    __tablename__ = "social_sync_counters"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    successful: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    slow: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    duration_ms_total: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class SocialSyncWindow(Base):
    """The sync route's recent syncs per TikTok account (so per profile), for its rate limit.

    Kept in the database so that several endpoints on one PostgreSQL database share one limit:
    ``recent`` holds the times (seconds since the epoch, space-separated) of the syncs counted in
    the last window, read and rewritten under the row's lock (``giftdesk.social.sync_limit``).
    One row per account that ever synced, not a foreign key: its times expire within the window,
    so a row left by a deleted account holds nothing that counts.
    """

    __tablename__ = "social_sync_windows"

    account_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    recent: Mapped[str] = mapped_column(Text, nullable=False, default="")
