"""SQLAlchemy models. Schema changes go through Alembic migrations in ``migrations/versions``.

Later waves add fleet instances, Fampage companies/orders/invoices and
social profiles as new tables that reference ``tiktok_accounts`` / ``customers``;
nothing here needs reshaping for them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from giftdesk.db.base import Base, TimestampMixin
from giftdesk.db.types import JSONText, UTCDateTime, utcnow

ROLES = ("admin", "operator", "viewer")
CREDENTIAL_STATUSES = ("active", "inactive")
TRACKER_DATA_TYPES = ("gift-groups", "config", "analytics")


class Administrator(Base):
    __tablename__ = "administrators"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="admin")
    # The first administrator is the super admin; it cannot be demoted or deleted.
    is_super: Mapped[bool] = mapped_column(default=False, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Customer(TimestampMixin, Base):
    """The tracker API's "User": the agency's customer who owns TikTok accounts."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    company: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)

    accounts: Mapped[list[TikTokAccount]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", passive_deletes=True
    )


class TikTokAccount(TimestampMixin, Base):
    __tablename__ = "tiktok_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True)
    # Stored without the leading "@", lower-case: TikTok handles are case-insensitive.
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)

    customer: Mapped[Customer] = relationship(back_populates="accounts")
    credential: Mapped[TrackerCredential | None] = relationship(
        back_populates="account", cascade="all, delete-orphan", passive_deletes=True, uselist=False
    )
    legacy: Mapped[AccountLegacyId | None] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                          uselist=False)

    @property
    def legacy_id(self) -> str | None:
        return self.legacy.legacy_id if self.legacy is not None else None


class AccountLegacyId(Base):
    """The id an imported account had in the system it came from (a 24-hex MongoDB ObjectId):
    trackers started there keep calling the endpoint with it, so it names the account as well."""

    __tablename__ = "account_legacy_ids"

    account_id: Mapped[int] = mapped_column(ForeignKey("tiktok_accounts.id", ondelete="CASCADE"), primary_key=True)
    legacy_id: Mapped[str] = mapped_column(String(24), unique=True, nullable=False)


class TrackerCredential(TimestampMixin, Base):
    """The tracker API's TrackerInstance: one per account.

    Only a SHA-256 digest of the API key lives here (unique, for lookups); the key itself is in
    the keyring so it can be shown and handed to the tracker container.
    """

    __tablename__ = "tracker_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("tiktok_accounts.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    api_key_sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    key_hint: Mapped[str] = mapped_column(String(8), nullable=False)  # last 4 chars, for masked display
    instance_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    last_accessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    key_generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    account: Mapped[TikTokAccount] = relationship(back_populates="credential")


class CredentialsGeneration(Base):
    """One row whose ``token`` is a new random value after every change to who may authenticate.

    Database triggers (migration 0005) replace it whenever a credential row is added, deleted, or
    gets another digest, status or account, whichever process or statement did it; a restore sets
    one too. A process that keeps credentials in memory (the tracker endpoint) compares it with the
    token it loaded to know it must reload. A token, not a counter: a restored file brings back an
    older value, and a counter could climb back to the very value the endpoint last saw.
    """

    __tablename__ = "credentials_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), nullable=False)


class TrackerData(TimestampMixin, Base):
    """The tracker API's InstanceData: one JSON document per account and data type."""

    __tablename__ = "tracker_data"
    __table_args__ = (UniqueConstraint("account_id", "data_type", name="uq_tracker_data_account_type"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("tiktok_accounts.id", ondelete="CASCADE"), nullable=False)
    data_type: Mapped[str] = mapped_column(String(32), nullable=False)
    data: Mapped[Any] = mapped_column(JSONText, nullable=False)


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONText, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class AuditEntry(Base):
    """Every change an administrator makes: who, what, when. Actor is text so it outlives the admin."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    details: Mapped[Any | None] = mapped_column(JSONText)


# Feature tables live in their own modules (fewer merge conflicts); importing them here registers
# them on Base.metadata for Alembic and the tests.
from giftdesk.db import social_models as _social_models  # noqa: E402,F401
from giftdesk.db import fampage_models  # noqa: E402,F401
from giftdesk.db import fleet_models  # noqa: E402,F401
from giftdesk.db import change_log as _change_log  # noqa: E402,F401  (the change_log table)
from giftdesk.db import alerts_models as _alerts_models  # noqa: E402,F401
from giftdesk.db import imported_models as _imported_models  # noqa: E402,F401
