"""Typed events of the Fampage side (one dataclass per type; order statuses coalesce per frame)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from giftdesk.core.events import Event


@dataclass(frozen=True)
class OrderStatusChanged(Event):
    """A sync or an edit moved an order to another state; thousands may come from one sync."""

    coalesce: ClassVar[bool] = True
    order_id: int
    status: str

    @property
    def coalesce_key(self) -> Any:
        return self.order_id


@dataclass(frozen=True)
class OrdersChanged(Event):
    """Orders were added or removed (placement, manual order, reconcile)."""

    company_id: int | None = None


@dataclass(frozen=True)
class CompanyChanged(Event):
    company_id: int


@dataclass(frozen=True)
class CompanySubmitted(Event):
    """A company asked to be added through the intake form; it waits for approval."""

    company_id: int
    name: str


@dataclass(frozen=True)
class InvoiceChanged(Event):
    invoice_id: int
    status: str


@dataclass(frozen=True)
class BalanceChanged(Event):
    amount: Decimal
    currency: str
    low: bool


@dataclass(frozen=True)
class CatalogueRefreshed(Event):
    services: int
