"""What the social service hands out: profiles with their platform stats, sync records, metrics, and
what deleting a profile takes with it. Plain frozen values, safe to pass between threads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


from giftdesk.core.clock import iso
from giftdesk.db.social_models import (
    SOCIAL_PLATFORMS,
)
from giftdesk.social.profile_fields import ProfileExtras
from giftdesk.social.validation import (
    centi_to_decimal,
    centi_to_json,
)

@dataclass(frozen=True)
class PlatformStat:
    followers: int
    engagement_centi: int
    synced_at: datetime | None = None

    @property
    def engagement(self) -> Decimal:
        return centi_to_decimal(self.engagement_centi)


@dataclass(frozen=True)
class Profile:
    id: int
    display_name: str
    bio: str | None
    avatar_url: str | None
    profile_url: str | None
    niches: tuple[str, ...]
    city: str | None
    state: str | None
    country: str | None
    is_public: bool
    is_active: bool
    last_seen_at: datetime | None
    customer_id: int | None
    customer_name: str | None
    account_id: int | None
    tiktok_username: str | None
    total_followers: int
    avg_engagement_centi: int
    created_at: datetime
    updated_at: datetime
    change_7d: int | None = None  # None: no sync that old to compare with
    change_30d: int | None = None
    # Per platform; None in lists (``list`` does not load them), {} for a profile never synced.
    platforms: dict[str, PlatformStat] | None = field(default_factory=dict)
    # The web app's user id, rizz score, preferences, links and handles: None in lists.
    extras: ProfileExtras | None = None

    @property
    def avg_engagement(self) -> Decimal:
        return centi_to_decimal(self.avg_engagement_centi)

    @property
    def location(self) -> str:
        return ", ".join(part for part in (self.city, self.state, self.country) if part)

    def stats_json(self) -> dict[str, Any]:
        """The ``stats`` view: every platform (0/0 when never synced), the total and the mean.

        Rows of a list carry no platforms: their ``stats`` has the total and the mean only.
        """
        stats: dict[str, Any] = {}
        if self.platforms is not None:
            breakdown = {}
            for platform in SOCIAL_PLATFORMS:
                stat = self.platforms.get(platform, PlatformStat(0, 0))
                breakdown[platform] = {"followers": stat.followers,
                                       "engagement": centi_to_json(stat.engagement_centi)}
            stats["platformBreakdown"] = breakdown
        stats["totalFollowers"] = self.total_followers
        stats["avgEngagement"] = centi_to_json(self.avg_engagement_centi)
        return stats

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "displayName": self.display_name, "bio": self.bio or "", "avatar": self.avatar_url or "",
            "profileUrl": self.profile_url or "", "niche": list(self.niches),
            "location": {"city": self.city or "", "state": self.state or "", "country": self.country or ""},
            "isPublic": self.is_public, "isActive": self.is_active, "lastSeen": iso(self.last_seen_at),
            "customerId": self.customer_id, "customerName": self.customer_name, "accountId": self.account_id,
            "tiktokUsername": f"@{self.tiktok_username}" if self.tiktok_username else None,
            "stats": self.stats_json(), "change7d": self.change_7d, "change30d": self.change_30d,
            "createdAt": iso(self.created_at), "updatedAt": iso(self.updated_at),
            **self.extras_json(),
        }

    def extras_json(self) -> dict[str, Any]:
        """The detail's ``userId``, ``rizzScore``, ``preferences``, ``socialLinks`` (every platform's
        page) and ``platformHandles``; nothing for a row of a list."""
        extras = self.extras
        if extras is None:
            return {}
        return {"userId": extras.user_id, "rizzScore": extras.rizz_score, "preferences": extras.preferences.to_json(),
                "socialLinks": extras.links(self.tiktok_username), "platformHandles": dict(extras.platform_handles)}


@dataclass(frozen=True)
class SyncRecord:
    id: int
    profile_id: int | None
    platform: str
    success: bool
    followers: int | None
    engagement_centi: int | None
    total_followers: int | None
    source: str
    duration_ms: int
    error: str | None
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "profileId": self.profile_id, "platform": self.platform, "success": self.success,
            "followers": self.followers,
            "engagement": None if self.engagement_centi is None else centi_to_json(self.engagement_centi),
            "totalFollowers": self.total_followers, "source": self.source, "durationMs": self.duration_ms,
            "error": self.error, "at": iso(self.at),
        }


@dataclass(frozen=True)
class PlatformMetrics:
    total: int
    successful: int
    failed: int
    slow: int
    duration_ms_total: int


@dataclass(frozen=True)
class SyncMetrics:
    """``syncMetrics`` and ``syncPerformance``, over every sync ever recorded."""

    platforms: dict[str, PlatformMetrics]

    @property
    def total(self) -> int:
        return sum(p.total for p in self.platforms.values())

    @property
    def successful(self) -> int:
        return sum(p.successful for p in self.platforms.values())

    @property
    def failed(self) -> int:
        return sum(p.failed for p in self.platforms.values())

    @property
    def slow(self) -> int:
        return sum(p.slow for p in self.platforms.values())

    @property
    def average_duration_ms(self) -> Decimal:
        """The true mean (a running ``(avg + d) / 2`` weighs the last sync as half)."""
        if not self.total:
            return Decimal(0)
        duration = sum(p.duration_ms_total for p in self.platforms.values())
        return (Decimal(duration) / self.total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def to_json(self) -> dict[str, Any]:
        return {
            "totalSyncs": self.total, "successfulSyncs": self.successful, "failedSyncs": self.failed,
            "platformBreakdown": {p: m.total for p, m in self.platforms.items()},
            "platforms": {p: {"total": m.total, "successful": m.successful, "failed": m.failed, "slow": m.slow}
                          for p, m in self.platforms.items()},
            "slowSyncs": self.slow, "averageDurationMs": float(self.average_duration_ms),
        }


@dataclass(frozen=True)
class ProfileDeleteImpact:
    platform_stats: int
    syncs: int

    def sentence(self) -> str:
        return (f"This deletes the profile with its {self.platform_stats} platform "
                f"stat{'s' if self.platform_stats != 1 else ''} and {self.syncs} recorded "
                f"sync{'s' if self.syncs != 1 else ''} (its growth history).")

    def to_json(self) -> dict[str, int]:
        return {"platformStats": self.platform_stats, "syncs": self.syncs}


def compute_aggregates(stats: list[tuple[int, int]]) -> tuple[int, int]:
    """(total followers, mean engagement in hundredths) from (followers, engagement_centi) pairs.

    As the original design computes it: the total is the sum; the mean is over platforms with engagement > 0.
    """
    total = sum(followers for followers, _ in stats)
    engaged = [centi for _, centi in stats if centi > 0]
    if not engaged:
        return total, 0
    mean = (Decimal(sum(engaged)) / len(engaged)).to_integral_value(rounding=ROUND_HALF_UP)
    return total, int(mean)
