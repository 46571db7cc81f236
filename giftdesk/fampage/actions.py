"""Which order actions apply to a selection of orders, and why not (Qt-free: the Orders view asks here).

A many-order action (sync, cancel) applies when it applies to at least one selected order and then
acts on those only; the others are reported as skipped. The rest need exactly one order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from giftdesk.fampage.parse import OPEN_STATES

REFILLABLE_STATES = ("completed", "partial")
MANY = ("sync", "cancel")
ONE = ("refill", "refill_status", "status", "reconcile", "invoice")
_VERBS = {"sync": "sync", "cancel": "cancel", "refill": "refill", "refill_status": "ask a refill status of",
          "status": "set the status of", "reconcile": "reconcile", "invoice": "show the invoice of"}


@dataclass(frozen=True)
class OrderApplicability:
    action: str
    ids: tuple[int, ...] = ()  # the orders it acts on
    skipped: tuple[int, ...] = ()
    reason: str = ""  # why it is disabled ("" when it applies)

    @property
    def enabled(self) -> bool:
        return bool(self.ids)

    def skipped_text(self) -> str:
        if not self.skipped:
            return ""
        names = ", ".join(f"#{i}" for i in self.skipped[:5]) + ("…" if len(self.skipped) > 5 else "")
        return f"{len(self.skipped)} skipped ({names}: {_SKIP_WHY[self.action]})"


_SKIP_WHY = {"sync": "never placed at Fampage", "cancel": "no longer open at Fampage"}


def _check(action: str, order: Any) -> str:
    """'' when ``action`` applies to ``order``; else why not."""
    placed = order.provider_order_id is not None
    if action in ("sync", "refill", "cancel") and not placed:
        return f"order #{order.id} never reached Fampage ({order.state.replace('_', ' ')})"
    if action == "cancel" and order.state not in OPEN_STATES:
        return f"order #{order.id} is {order.state.replace('_', ' ')}, no longer open"
    if action == "refill" and order.state not in REFILLABLE_STATES:
        return f"order #{order.id} is {order.state.replace('_', ' ')}; Fampage refills completed or partial orders"
    if action == "refill_status" and order.refill_id is None:
        return f"order #{order.id} has no refill yet; ask for one first"
    if action == "status" and order.state in ("unconfirmed", "not_placed"):
        return f"order #{order.id} is {order.state.replace('_', ' ')}: reconcile it first"
    if action == "reconcile" and order.state != "unconfirmed":
        return f"order #{order.id} is confirmed; only unconfirmed orders need reconciling"
    return ""


def order_action(action: str, orders: Sequence[Any], *, may_edit: bool = True) -> OrderApplicability:
    """``orders``: rows with ``id``, ``state``, ``provider_order_id`` and ``refill_id``."""
    if not orders:
        return OrderApplicability(action, reason="Select an order first")
    if not may_edit and action != "invoice":
        return OrderApplicability(action, reason="Viewers cannot change orders")
    if action in ONE and len(orders) != 1:
        return OrderApplicability(action, reason=f"Select one order to {_VERBS[action]}")
    why = {o.id: _check(action, o) for o in orders}
    ids = tuple(i for i, w in why.items() if not w)
    skipped = tuple(i for i, w in why.items() if w)
    if ids:
        return OrderApplicability(action, ids, skipped)
    if len(orders) == 1:
        reason = why[orders[0].id]
        return OrderApplicability(action, (), skipped, f"Cannot {_VERBS[action]} it: {reason}")
    return OrderApplicability(action, (), skipped, f"Nothing to {_VERBS[action]}: "
                              + ("no selected order is open" if action == "cancel"
                                 else "no selected order reached Fampage"))


def order_actions(orders: Sequence[Any], *, may_edit: bool = True) -> dict[str, OrderApplicability]:
    return {action: order_action(action, orders, may_edit=may_edit) for action in MANY + ONE}


def invoice_creation(order: Any, invoice: Any, *, may_edit: bool = True) -> OrderApplicability:
    """Whether a new draft invoice can be made for ``order`` (``invoices.create_for_order``'s rule, asked
    before the click): the order was placed and has no standing invoice. ``invoice`` is what
    ``orders.invoice_of`` answers for it: None (it never had one), a void one, or the standing one."""
    from giftdesk.fampage.invoices import UNBILLABLE_STATES

    if order is None:
        return OrderApplicability("create_invoice", reason="Select an order first")
    if not may_edit:
        return OrderApplicability("create_invoice", reason="Viewers cannot create invoices")
    if order.state in UNBILLABLE_STATES:
        return OrderApplicability("create_invoice", reason=f"Order #{order.id} is {order.state.replace('_', ' ')}: "
                                                           "only a placed order is invoiced")
    if invoice is not None and invoice.status != "void":
        name = invoice.number or f"draft #{invoice.id}"
        return OrderApplicability("create_invoice", reason=f"Order #{order.id} already has {name} ({invoice.status}); "
                                                           "void it first to invoice the order again")
    return OrderApplicability("create_invoice", (order.id,))
