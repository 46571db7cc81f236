"""The Fampage services catalogue, client companies, orders, invoices and the call log.

Money columns are ``DecimalText`` (exact). Orders also carry ``cost_units``/``revenue_units``:
the same amounts as integers of 10⁻⁸ (exact for the panel's 4–5 decimal charges times whole
quantities / 1000) so that analytics over 100,000 orders can be summed by the database.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from giftdesk.db.base import Base, TimestampMixin
from giftdesk.db.types import DecimalText, JSONText, UTCDateTime, utcnow

COMPANY_STATUSES = ("active", "inactive", "suspended")  # what an operator sets by hand
# A company that asked through the intake form waits as "pending" until approved (then "active") or rejected.
INTAKE_STATUSES = ("pending", "rejected")
INVOICE_STATUSES = ("draft", "sent", "paid", "void")
INVOICE_KINDS = ("invoice", "credit_note")


class FampageService(Base):
    """One service of the provider's catalogue; ``id`` is Fampage's service id."""

    __tablename__ = "fampage_services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(500), nullable=False)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    category: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    network: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    rate: Mapped[Decimal] = mapped_column(DecimalText, nullable=False)
    min_quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    max_quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    refill: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    cancel: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    dripfeed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="INR")
    # What clients read on an invoice line; None: the name without the provider's bracketed tags.
    client_description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # False once a refresh no longer lists it: old orders still point at it.
    available: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class FampageServiceRate(Base):
    """A rate as first seen at a refresh; a new row only when the rate changed."""

    __tablename__ = "fampage_service_rates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("fampage_services.id", ondelete="CASCADE"), nullable=False,
                                            index=True)
    rate: Mapped[Decimal] = mapped_column(DecimalText, nullable=False)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class Company(TimestampMixin, Base):
    """A client company billed for orders. Archived, never deleted: its invoices must stay."""

    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    address: Mapped[str | None] = mapped_column(Text)
    tax_id: Mapped[str | None] = mapped_column(String(50))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="INR")
    invoice_multiplier: Mapped[Decimal | None] = mapped_column(DecimalText)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FampageOrder(TimestampMixin, Base):
    __tablename__ = "fampage_orders"
    # Covering indexes: the analytics views are answered from these without reading the table.
    __table_args__ = (
        Index("ix_fampage_orders_company_created", "company_id", "created_at"),
        Index("ix_fampage_orders_company_rollup", "company_id", "state", "created_at", "cost_units", "revenue_units"),
        Index("ix_fampage_orders_company_services", "company_id", "service_name", "state", "created_at"),
        Index("ix_fampage_orders_rollup", "state", "service_type", "network", "created_at", "cost_units",
              "revenue_units"),
        Index("ix_fampage_orders_link_key", "link_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"), nullable=False)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("fampage_services.id", ondelete="SET NULL"))
    # Snapshots: the catalogue may change or drop the service later.
    service_name: Mapped[str] = mapped_column(String(500), nullable=False)
    service_type: Mapped[str] = mapped_column(String(64), nullable=False)
    network: Mapped[str] = mapped_column(String(64), nullable=False, default="Other")
    link: Mapped[str] = mapped_column(String(1000), nullable=False)
    link_key: Mapped[str] = mapped_column(String(1000), nullable=False)  # normalised, for "by target"
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    comments: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int | None] = mapped_column(Integer)
    interval: Mapped[int | None] = mapped_column(Integer)
    rate: Mapped[Decimal] = mapped_column(DecimalText, nullable=False)  # the rate used when ordering
    cost: Mapped[Decimal] = mapped_column(DecimalText, nullable=False)  # rate × quantity / 1000, exact
    charge: Mapped[Decimal | None] = mapped_column(DecimalText)  # what the provider says it charged
    refund: Mapped[Decimal] = mapped_column(DecimalText, nullable=False, default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="INR")
    multiplier: Mapped[Decimal] = mapped_column(DecimalText, nullable=False)
    provider_order_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    status_raw: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    start_count: Mapped[int | None] = mapped_column(Integer)
    remains: Mapped[int | None] = mapped_column(Integer)
    manual: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    refill_id: Mapped[int | None] = mapped_column(BigInteger)
    refill_status: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Analytics in integer 10⁻⁸ units: net provider cost, net revenue (0 once the invoice is void).
    cost_units: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    revenue_units: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)

    company: Mapped[Company] = relationship()


class InvoiceCounter(Base):
    """The last number issued per series ("INV-2026", "CN-2026"): bumped in the issuing transaction."""

    __tablename__ = "invoice_counters"

    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Invoice(TimestampMixin, Base):
    __tablename__ = "invoices"
    __table_args__ = (Index("ix_invoices_company", "company_id"), Index("ix_invoices_issue_date", "issue_date"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)  # given when issued
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="invoice")
    credited_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"), nullable=False)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("fampage_orders.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    tax_rate: Mapped[Decimal] = mapped_column(DecimalText, nullable=False, default=Decimal(0))  # percent
    tax_label: Mapped[str | None] = mapped_column(String(50))
    subtotal: Mapped[Decimal] = mapped_column(DecimalText, nullable=False, default=Decimal(0))
    tax: Mapped[Decimal] = mapped_column(DecimalText, nullable=False, default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(DecimalText, nullable=False, default=Decimal(0))
    issue_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issuer: Mapped[Any | None] = mapped_column(JSONText)  # our details, frozen when issued
    client: Mapped[Any | None] = mapped_column(JSONText)  # the company's details, frozen when issued
    notes: Mapped[str | None] = mapped_column(Text)

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )
    company: Mapped[Company] = relationship()


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "position", name="uq_invoice_lines_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False)
    link: Mapped[str | None] = mapped_column(String(1000))
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    unit_price: Mapped[Decimal] = mapped_column(DecimalText, nullable=False)  # exact, per ``per`` units
    per: Mapped[int] = mapped_column(Integer, nullable=False, default=1000)  # 1000, or 1 for a pack
    amount: Mapped[Decimal] = mapped_column(DecimalText, nullable=False)  # rounded once, half-up

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class FampageCall(Base):
    """The integration log: every call to Fampage (never the key)."""

    __tablename__ = "fampage_calls"
    __table_args__ = (Index("ix_fampage_calls_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    params: Mapped[Any] = mapped_column(JSONText, nullable=False)
    http_status: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    company_id: Mapped[int | None] = mapped_column(Integer)  # for ?companyId= logging
