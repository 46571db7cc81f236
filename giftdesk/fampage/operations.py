"""Fampage's operations (see ``giftdesk.core.operations``).

What is done to one order (refill, reconcile) or one invoice (pay, void) runs on its lane; syncs
run one at a time (the tab's sync and the orders view's sync share the lane: two syncs of the same
orders would race to write the same statuses), and so do cancels.
"""

from __future__ import annotations

from giftdesk.core.operations import Operation

ORDER_LANE = "order"
INVOICE_LANE = "invoice"

SYNC_ORDERS = Operation("orders.sync", "Syncing orders", lane="fampage-sync", per_target=False)
SYNC_OPEN_ORDERS = Operation("orders.sync_open", "Syncing open orders with Fampage", lane="fampage-sync",
                             per_target=False)
CANCEL_ORDERS = Operation(
    "orders.cancel", "Cancelling at Fampage", lane="fampage-cancel", per_target=False,
    confirm="Ask Fampage to cancel {orders}? What Fampage refunds is credited on the invoice with a credit note.")
REFILL = Operation("order.refill", "Asking for a refill", lane=ORDER_LANE)
REFILL_STATUS = Operation("order.refill_status", "Reading the refill status", lane=ORDER_LANE)
RECONCILE = Operation("order.reconcile", "Reconciling the order", lane=ORDER_LANE)
MARK_NOT_PLACED = Operation("order.not_placed", "Reconciling the order", lane=ORDER_LANE,
                            confirm="Mark order #{id} as not placed? It will count nowhere and get no invoice.")
CREATE_INVOICE = Operation("invoice.create", "Drafting the order's invoice", lane=ORDER_LANE)
PAY_INVOICE = Operation("invoice.pay", "Marking the invoice paid", lane=INVOICE_LANE)
VOID_INVOICE = Operation(
    "invoice.void", "Voiding the invoice", lane=INVOICE_LANE,
    confirm="Void {label}? Its number stays used; its credit notes are voided with it, and the order's "
            "revenue drops to zero.")
