"""Alert tables: the rules a person sets and the alerts they open.

One alert per rule and subject is open at a time (``resolved_at`` is null); a condition that comes
back after a resolve opens a new row, so the history stays. The webhook's delivery state is kept on
the alert it was sent for, so ``giftdesk alert list`` shows a failing receiver.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from giftdesk.db.base import Base
from giftdesk.db.types import DecimalText, UTCDateTime, utcnow

ALERT_KINDS = ("instance-down", "instance-unhealthy", "restart-loop", "live-ended", "balance-below",
               "key-unused", "endpoint-errors", "backup-failed")


class AlertRule(Base):
    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)  # the condition held this long
    threshold: Mapped[Decimal | None] = mapped_column(DecimalText)  # balance-below: exact, never a float
    days: Mapped[int | None] = mapped_column(Integer)  # key-unused
    webhook_url: Mapped[str | None] = mapped_column(String(1000))
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_rule_subject_resolved", "rule_id", "subject", "resolved_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)  # "instance 3 tracker-alice", "balance"
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    webhook_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    webhook_last_error: Mapped[str | None] = mapped_column(Text)
    webhook_delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
