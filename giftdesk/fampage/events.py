"""Typed events of the Fampage side (issue 6's bus: one dataclass per type, coalescing for statuses).

Until the typed bus lands on main, ``publish`` also speaks the string-topic bus (topic = the
class name, payload = the fields), so the services publish the same way on either.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import ClassVar

try:  # the typed bus (issue 6)
    from giftdesk.services.events import Event
    _TYPED = True
except ImportError:  # pragma: no cover - the string-topic bus of today's main
    _TYPED = False

    @dataclass(frozen=True)
    class Event:  # type: ignore[no-redef]
        coalesce: ClassVar[bool] = False

        def coalesce_key(self):
            return None


@dataclass(frozen=True)
class OrderStatusChanged(Event):
    coalesce: ClassVar[bool] = True
    order_id: int
    status: str

    def coalesce_key(self):
        return self.order_id


@dataclass(frozen=True)
class OrdersChanged(Event):
    """Orders were added or removed (placement, manual order, reconcile)."""

    company_id: int | None = None


@dataclass(frozen=True)
class CompanyChanged(Event):
    company_id: int


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


def publish(bus, event: Event) -> None:
    if _TYPED:
        bus.publish(event)
    else:
        bus.publish(type(event).__name__, **asdict(event))
