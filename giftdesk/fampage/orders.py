"""Fampage orders: preview, placement with its invoice, status sync, refill, cancel, refunds.

Placement, done safely: the attempt is written first (state "unconfirmed"), then
``add`` is sent once. A clear refusal removes the attempt; a success turns it into a pending
order and creates its draft invoice in one transaction; a time-out leaves it "unconfirmed" until
the user reconciles it (``reconcile``: give Fampage's order id, or confirm it was not placed).
A Partial/Canceled/Refunded status records the provider's refund (charge × remains / quantity)
and credits the invoice with a credit note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select, update

from giftdesk.core.clock import iso
from giftdesk.db.fampage_models import INTAKE_STATUSES, Company, FampageOrder, FampageService, Invoice
from giftdesk.db.types import utcnow
from giftdesk.core.errors import ConflictError, NotFoundError, ValidationError
from giftdesk.fampage import money
from giftdesk.fampage.invoices import live_invoice_of
from giftdesk.fampage.client import (
    FampageError, FampageTimeout, FampageUnavailable, NewOrder, OrderStatus, comment_lines,
)
from giftdesk.fampage.events import OrdersChanged, OrderStatusChanged
from giftdesk.fampage.parse import OPEN_STATES, REFUNDING_STATES, STATES, normalise_status
from giftdesk.core import validation
from giftdesk.fampage.companies import clean_amount, clean_multiplier
from giftdesk.core.context import ServiceContext


def link_key(link: str) -> str:
    """One key per target: no scheme, no "www.", lower-case host, no trailing slash, query or fragment."""
    text = link.strip()
    parts = urlsplit(text if "://" in text else f"https://{text}")
    host = parts.netloc.lower().removeprefix("www.").removeprefix("m.")
    return f"{host}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class OrderRow:
    id: int
    company_id: int
    company_name: str
    service_id: int | None
    service_name: str
    service_type: str
    network: str
    link: str
    quantity: int
    runs: int | None
    interval: int | None
    rate: Decimal
    cost: Decimal
    charge: Decimal | None
    refund: Decimal
    currency: str
    multiplier: Decimal
    provider_order_id: int | None
    status_raw: str | None
    state: str
    start_count: int | None
    remains: int | None
    manual: bool
    refill_id: int | None
    refill_status: str | None
    last_error: str | None
    synced_at: datetime | None
    created_at: datetime
    revenue: Decimal

    @classmethod
    def of(cls, o: FampageOrder, company_name: str) -> "OrderRow":
        return cls(o.id, o.company_id, company_name, o.service_id, o.service_name, o.service_type, o.network, o.link,
                   o.quantity, o.runs, o.interval, o.rate, o.cost, o.charge, o.refund, o.currency, o.multiplier,
                   o.provider_order_id, o.status_raw, o.state, o.start_count, o.remains, o.manual, o.refill_id,
                   o.refill_status, o.last_error, o.synced_at, o.created_at, money.from_units(o.revenue_units))

    @property
    def net_cost(self) -> Decimal:
        return money.plain((self.charge if self.charge is not None else self.cost) - self.refund)

    @property
    def profit(self) -> Decimal:
        return money.plain(self.revenue - self.net_cost)

    @property
    def profit_shown(self) -> Decimal:
        return money.shown_profit(self.revenue, self.net_cost, self.currency)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def to_json(self) -> dict:
        """Money in minor units, rounded once (profit = revenue − net cost as shown); the provider's
        exact figures also, under ``costExact``, ``chargeExact``, ``refundExact``, ``netCostExact``
        and ``profitExact``, to reconcile with the panel."""
        shown = lambda value: str(money.round_money(value, self.currency))  # noqa: E731
        return {"id": self.id, "companyId": self.company_id, "companyName": self.company_name,
                "serviceId": self.service_id, "serviceName": self.service_name, "serviceType": self.service_type,
                "network": self.network, "link": self.link, "quantity": self.quantity, "runs": self.runs,
                "interval": self.interval, "rate": str(self.rate), "cost": shown(self.cost),
                "charge": None if self.charge is None else shown(self.charge),
                "refund": shown(self.refund), "netCost": shown(self.net_cost),
                "revenue": shown(self.revenue), "profit": str(self.profit_shown),
                "costExact": str(money.plain(self.cost)),
                "chargeExact": None if self.charge is None else str(money.plain(self.charge)),
                "refundExact": str(money.plain(self.refund)), "netCostExact": str(self.net_cost),
                "profitExact": str(self.profit),
                "currency": self.currency, "multiplier": str(self.multiplier),
                "providerOrderId": self.provider_order_id, "status": self.status_raw, "state": self.state,
                "startCount": self.start_count, "remains": self.remains, "manual": self.manual,
                "refillId": self.refill_id, "refillStatus": self.refill_status, "lastError": self.last_error,
                "syncedAt": iso(self.synced_at), "createdAt": iso(self.created_at)}


@dataclass(frozen=True)
class Preview:
    """What an order will cost and earn, before it is sent."""

    service_id: int
    quantity: int
    cost: Decimal  # provider cost, exact
    invoice_amount: Decimal  # rounded once, before tax
    profit: Decimal
    multiplier: Decimal
    currency: str
    balance: Decimal | None
    balance_after: Decimal | None

    @property
    def profit_shown(self) -> Decimal:
        return money.shown_profit(self.invoice_amount, self.cost, self.currency)

    def to_json(self) -> dict:
        """Money in minor units, rounded once (profit = invoice amount − cost as shown); the exact
        cost, profit and balance after also, under ``…Exact`` keys."""
        shown = lambda value: None if value is None else str(money.round_money(value, self.currency))  # noqa: E731
        return {"serviceId": self.service_id, "quantity": self.quantity, "cost": shown(self.cost),
                "invoiceAmount": shown(self.invoice_amount), "profit": str(self.profit_shown),
                "multiplier": str(self.multiplier), "currency": self.currency,
                "balance": shown(self.balance), "balanceAfter": shown(self.balance_after),
                "costExact": str(self.cost), "profitExact": str(self.profit),
                "balanceAfterExact": None if self.balance_after is None else str(self.balance_after)}


@dataclass(frozen=True)
class SyncResult:
    requested: int
    updated: int
    changed: int
    errors: dict[int, str]
    refunds: int

    def to_json(self) -> dict:
        return {"requested": self.requested, "updated": self.updated, "changed": self.changed,
                "refunds": self.refunds, "errors": {str(k): v for k, v in self.errors.items()}}


@dataclass(frozen=True)
class OrderFilter:
    company_id: int | None = None
    state: str | None = None
    network: str | None = None
    service_id: int | None = None
    link: str | None = None
    since: date | None = None
    until: date | None = None
    open_only: bool = False
    limit: int | None = None


class OrderService:
    def __init__(self, ctx: ServiceContext, settings, fampage, companies, invoices):
        self.ctx = ctx
        self.settings = settings
        self.fampage = fampage
        self.companies = companies
        self.invoices = invoices

    # --- reading ------------------------------------------------------------------------
    def get(self, order_id: int) -> OrderRow:
        with self.ctx.db.read_session() as session:
            order = self._get(session, order_id)
            return OrderRow.of(order, order.company.name)

    @staticmethod
    def _get(session, order_id: int, lock: bool = False) -> FampageOrder:
        """``lock``: the row is locked until commit (PostgreSQL), so two refunds cannot race."""
        order = session.get(FampageOrder, order_id, with_for_update=lock or None)
        if order is None:
            raise NotFoundError(f"There is no order with id {order_id}.")
        return order

    def list(self, flt: OrderFilter | None = None) -> list[OrderRow]:
        flt = flt or OrderFilter()
        query = (select(FampageOrder, Company.name).join(Company, Company.id == FampageOrder.company_id)
                 .order_by(FampageOrder.id.desc()))
        if flt.company_id is not None:
            query = query.where(FampageOrder.company_id == flt.company_id)
        if flt.state:
            if flt.state not in STATES:
                raise ValidationError(f"state must be one of: {', '.join(STATES)}.", field="state")
            query = query.where(FampageOrder.state == flt.state)
        if flt.open_only:
            query = query.where(FampageOrder.state.in_(OPEN_STATES))
        if flt.network:
            query = query.where(func.lower(FampageOrder.network) == flt.network.lower())
        if flt.service_id is not None:
            query = query.where(FampageOrder.service_id == flt.service_id)
        if flt.link:
            needle = f"%{flt.link.strip().lower()}%"
            query = query.where(or_(func.lower(FampageOrder.link).like(needle), FampageOrder.link_key.like(needle)))
        query = _date_range(query, FampageOrder.created_at, flt.since, flt.until)
        if flt.limit:
            query = query.limit(flt.limit)
        with self.ctx.db.read_session() as session:
            return [OrderRow.of(order, name) for order, name in session.execute(query)]

    def rows(self, order_ids) -> list[OrderRow]:
        """These orders as rows (a live table's update after a status batch); missing ids are skipped."""
        ids = list(order_ids)
        found: list[OrderRow] = []
        with self.ctx.db.read_session() as session:
            for start in range(0, len(ids), 900):
                query = (select(FampageOrder, Company.name).join(Company, Company.id == FampageOrder.company_id)
                         .where(FampageOrder.id.in_(ids[start:start + 900])))
                found += [OrderRow.of(order, name) for order, name in session.execute(query)]
        return found

    def last_synced_at(self) -> datetime | None:
        """When any order's status was last read from Fampage (the tab header's "last sync")."""
        with self.ctx.db.read_session() as session:
            newest = session.scalar(select(func.max(FampageOrder.synced_at)))
        if newest is not None and not isinstance(newest, datetime):  # func.max bypasses the type on SQLite
            newest = datetime.fromisoformat(str(newest))
        if newest is not None and newest.tzinfo is None:
            newest = newest.replace(tzinfo=utcnow().tzinfo)
        return newest

    def stats(self) -> dict:
        """The ``/orders/stats`` view: counts by state, open orders, totals."""
        with self.ctx.db.read_session() as session:
            by_state = dict(session.execute(select(FampageOrder.state, func.count()).group_by(FampageOrder.state)).all())
            # Money as the analytics count it: unconfirmed and not-placed orders cost nothing yet.
            cost, revenue = session.execute(select(func.coalesce(func.sum(FampageOrder.cost_units), 0),
                                                   func.coalesce(func.sum(FampageOrder.revenue_units), 0))
                                            .where(FampageOrder.state.not_in(("unconfirmed", "not_placed")))).one()
        return {"total": sum(by_state.values()), "open": sum(by_state.get(s, 0) for s in OPEN_STATES),
                "byState": by_state, "cost": str(money.round_money(money.from_units(cost), "")),
                "revenue": str(money.round_money(money.from_units(revenue), "")),
                "profit": str(money.shown_profit(money.from_units(revenue), money.from_units(cost), "")),
                "costExact": str(money.from_units(cost)), "profitExact": str(money.from_units(revenue - cost))}

    # --- placing ------------------------------------------------------------------------
    def _validate(self, company_id: int, service_id: int, link: str, quantity: Any, multiplier: Any,
                  comments: str | None, runs: Any, interval: Any):
        company = self.companies.get(validation.positive_id(company_id, "company"))
        if company.archived:
            raise ValidationError(f"{company.name} is archived; restore it before ordering.", field="company")
        if company.status != "active":
            raise ValidationError(f"{company.name} is {company.status}; only active companies can order.",
                                  field="company")
        service = self.fampage.service(validation.positive_id(service_id, "service"))
        if not service.available:
            raise ValidationError(f"Fampage no longer lists service {service.id}; pick another.", field="service")
        link = validation.http_url(link, "link")
        if link is None:
            raise ValidationError("link is required: the full address of the post or profile.", field="link")
        if service.type == "Custom Comments":
            lines = comment_lines(comments)
            if not lines:
                raise ValidationError("Custom comments need the comments, one per line.", field="comments")
            quantity = len(lines)
        elif money.is_package(service.type):
            quantity = service.min if service.min == service.max or quantity in (None, "") else quantity
        if isinstance(quantity, bool) or quantity in (None, ""):
            raise ValidationError("quantity is required.", field="quantity")
        try:
            quantity = int(quantity)
        except (TypeError, ValueError):
            raise ValidationError(f"quantity must be a whole number, not '{quantity}'.", field="quantity") from None
        if not service.min <= quantity <= service.max:
            what = "comments" if service.type == "Custom Comments" else "quantity"
            raise ValidationError(f"{service.name} takes {service.min:,} to {service.max:,}; a {what} of "
                                  f"{quantity:,} is outside that.", field="quantity")
        runs_n = interval_n = None
        if runs not in (None, "", 0):
            if not service.dripfeed:
                raise ValidationError(f"{service.name} has no drip-feed.", field="runs")
            runs_n, interval_n = validation.positive_id(runs, "runs"), validation.positive_id(interval, "interval")
        mult = clean_multiplier(multiplier) or company.invoice_multiplier or \
            Decimal(self.settings.get("invoice.multiplier"))
        if company.currency != service.currency:
            raise ValidationError(f"{company.name} is billed in {company.currency} but Fampage charges in "
                                  f"{service.currency}; set the company's currency to {service.currency}.",
                                  field="company")
        return company, service, link, quantity, mult, runs_n, interval_n

    def preview(self, company_id: int, service_id: int, link: str | None, quantity: Any, multiplier: Any = None,
                comments: str | None = None, runs: Any = None, interval: Any = None,
                balance: Decimal | None = None) -> Preview:
        """Cost, invoice amount and profit; the balance after, from ``balance`` or the last one fetched."""
        company, service, _link, quantity, mult, runs_n, _ = self._validate(
            company_id, service_id, link or "https://example.com/preview", quantity, multiplier, comments, runs,
            interval)
        cost = money.provider_cost(service.rate, quantity, service.type, runs_n)
        q, unit, per = money.line_terms(service.rate, quantity, service.type, mult, runs_n)
        amount = money.line_amount(q, unit, per, company.currency)
        if balance is None and self.fampage.last_balance is not None:
            balance = self.fampage.last_balance.amount
        return Preview(service.id, quantity, cost, amount, amount - cost, mult, company.currency, balance,
                       None if balance is None else balance - cost)

    def place(self, company_id: int, service_id: int, link: str, quantity: Any = None, multiplier: Any = None,
              comments: str | None = None, runs: Any = None, interval: Any = None) -> tuple[OrderRow, Any]:
        """Sends the order to Fampage once; returns (order, its draft invoice).

        Raises a FampageError sentence when Fampage refuses (nothing kept), FampageTimeout when the
        answer is lost (the order stays "unconfirmed": reconcile it)."""
        self.ctx.require("operator", "place Fampage orders")
        company, service, link, quantity, mult, runs_n, interval_n = self._validate(
            company_id, service_id, link, quantity, multiplier, comments, runs, interval)
        client = self.fampage.client(company.id)
        cost = money.provider_cost(service.rate, quantity, service.type, runs_n)
        with self.ctx.db.session() as session:
            order = FampageOrder(
                company_id=company.id, service_id=service.id, service_name=service.name, service_type=service.type,
                network=service.network, link=link, link_key=link_key(link), quantity=quantity,
                comments="\n".join(comment_lines(comments)) or None, runs=runs_n, interval=interval_n,
                rate=service.rate, cost=cost, currency=service.currency, multiplier=mult, state="unconfirmed",
                status_raw=None, cost_units=money.to_units(cost))
            session.add(order)
            session.flush()
            self.ctx.audit(session, "order.attempt", f"Sending order for {company.name}: {service.name} × {quantity}",
                           "order", order.id)
            order_id = order.id
        request = NewOrder(service.id, link, quantity, service.type, comments, runs_n, interval_n)
        try:
            provider_id = client.add(request)
        except FampageUnavailable as exc:
            if not exc.maybe_processed:  # never reached Fampage: nothing to keep but the call log
                self._drop_attempt(order_id)
                raise
            reason = "no answer in time" if isinstance(exc, FampageTimeout) else str(exc).split(";")[0]
            with self.ctx.db.session() as session:
                order = self._get(session, order_id)
                order.last_error = (f"Fampage's answer to this order was lost ({reason}); the order may exist "
                                    "there: check Fampage's order list, then reconcile it here.")
            self.ctx.events.publish(OrdersChanged(company.id))
            raise FampageTimeout(f"Fampage's answer to the order was lost ({reason}). Order #{order_id} is kept as "
                                 f"unconfirmed and was not sent again: check Fampage's order list, then "
                                 f"`giftdesk order reconcile {order_id} --provider-id N` or `--not-placed`.") from None
        except FampageError:
            self._drop_attempt(order_id)  # a clear refusal: nothing was placed
            raise
        with self.ctx.db.session() as session:
            order = self._get(session, order_id)
            self._confirm(session, order, provider_id)
            invoice = self.invoices.draft_for_order(session, order, session.get(Company, company.id))
            self.invoices.refresh_order_revenue(session, order.id)
            self.ctx.audit(session, "order.place", f"Placed Fampage order {provider_id} for {company.name}",
                           "order", order.id, {"providerOrderId": provider_id, "cost": str(cost)})
            row = OrderRow.of(order, company.name)
            invoice_id = invoice.id
        self.ctx.events.publish(OrdersChanged(company.id))
        try:
            self.fampage.balance()  # the header's balance follows each order
        except (FampageError, FampageUnavailable):
            pass
        return row, self.invoices.get(invoice_id)

    def _drop_attempt(self, order_id: int) -> None:
        with self.ctx.db.session() as session:
            session.delete(self._get(session, order_id))

    @staticmethod
    def _confirm(session, order: FampageOrder, provider_id: int) -> None:
        clash = session.scalar(select(FampageOrder.id).where(FampageOrder.provider_order_id == provider_id,
                                                             FampageOrder.id != order.id))
        if clash is not None:
            raise ConflictError(f"Fampage order {provider_id} is already recorded as order #{clash}.")
        order.provider_order_id = provider_id
        order.state = "pending"
        order.status_raw = "Pending"
        order.last_error = None

    def reconcile(self, order_id: int, provider_order_id: int | None = None, not_placed: bool = False) -> OrderRow:
        """Settles an unconfirmed order: Fampage's id found (then synced and invoiced), or not placed."""
        self.ctx.require("operator", "reconcile orders")
        if (provider_order_id is None) == (not not_placed):
            raise ValidationError("Give Fampage's order id, or say the order was not placed.", field="provider_id")
        with self.ctx.db.session() as session:
            order = self._get(session, order_id)
            if order.state != "unconfirmed":
                raise ConflictError(f"Order #{order_id} is {order.state}, not unconfirmed; nothing to reconcile.")
            if not_placed:
                order.state, order.status_raw, order.cost_units = "not_placed", None, 0
                order.last_error = None
                self.ctx.audit(session, "order.reconcile", f"Order #{order_id} was not placed at Fampage",
                               "order", order_id)
            else:
                self._confirm(session, order, validation.positive_id(provider_order_id, "provider id"))
                self.invoices.draft_for_order(session, order, session.get(Company, order.company_id))
                self.invoices.refresh_order_revenue(session, order.id)
                self.ctx.audit(session, "order.reconcile", f"Order #{order_id} is Fampage order {provider_order_id}",
                               "order", order_id)
            company_id = order.company_id
        self.ctx.events.publish(OrdersChanged(company_id))
        if not not_placed:
            self.sync([order_id])
        return self.get(order_id)

    def create_manual(self, company_id: int, service_name: str, link: str, quantity: Any, cost: Any,
                      multiplier: Any = None, provider_order_id: Any = None, service_id: int | None = None,
                      status: str = "Pending", service_type: str = "Default", network: str | None = None,
                      with_invoice: bool = True) -> OrderRow:
        """The ``POST /orders`` case: an order placed elsewhere, recorded with its cost."""
        self.ctx.require("operator", "add orders")
        company = self.companies.get(validation.positive_id(company_id, "company"))
        if company.status in INTAKE_STATUSES:  # asked through the intake form: not billable until approved
            raise ValidationError(f"{company.name} is {company.status}; approve it before recording its orders.",
                                  field="company")
        name = validation.text(service_name, "service", required=True, max_length=500)
        link = validation.http_url(link, "link")
        if link is None:
            raise ValidationError("link is required.", field="link")
        quantity = validation.positive_id(quantity, "quantity")
        cost_d = clean_amount(cost, "cost")
        if cost_d is None:
            raise ValidationError("cost is required: what Fampage charged.", field="cost")
        mult = clean_multiplier(multiplier) or company.invoice_multiplier or Decimal(self.settings.get("invoice.multiplier"))
        rate = cost_d * 1000 / quantity if not money.is_package(service_type) else cost_d
        if provider_order_id is None or (isinstance(provider_order_id, str) and not provider_order_id.strip()):
            provider_order_id = None  # typed text from the window, a number from the CLI
        else:
            provider_order_id = validation.positive_id(provider_order_id, "provider id")
            if provider_order_id > 2**63 - 1:  # what the id column holds on both databases
                raise ValidationError("provider id is too large for a Fampage order id.", field="provider id")
        with self.ctx.db.session() as session:
            if service_id is not None and session.get(FampageService, service_id) is None:
                service_id = None
            order = FampageOrder(
                company_id=company.id, service_id=service_id, service_name=name, service_type=service_type,
                network=network or "Other", link=link, link_key=link_key(link), quantity=quantity, rate=rate,
                cost=cost_d, charge=cost_d, currency=company.currency, multiplier=mult, manual=True,
                provider_order_id=provider_order_id, status_raw=status, state=normalise_status(status),
                cost_units=money.to_units(cost_d))
            session.add(order)
            session.flush()
            if provider_order_id is not None:
                self._confirm(session, order, provider_order_id)
                order.status_raw, order.state = status, normalise_status(status)
            if with_invoice:
                self.invoices.draft_for_order(session, order, session.get(Company, company.id))
                self.invoices.refresh_order_revenue(session, order.id)
            self.ctx.audit(session, "order.manual", f"Recorded a manual order for {company.name}", "order", order.id)
            row = OrderRow.of(order, company.name)
        self.ctx.events.publish(OrdersChanged(company.id))
        return row

    # --- status ---------------------------------------------------------------------------
    def set_status(self, order_id: int, status: str, remains: Any = None, start_count: Any = None,
                   charge: Any = None) -> OrderRow:
        """Manual status and stats edits (``PUT /orders/:id/status`` and ``/stats``)."""
        self.ctx.require("operator", "edit orders")
        status = validation.text(status, "status", required=True, max_length=64)
        ints = {}
        for key, value in (("remains", remains), ("start_count", start_count)):
            if value not in (None, ""):
                try:
                    ints[key] = int(value)
                except (TypeError, ValueError):
                    raise ValidationError(f"{key.replace('_', ' ')} must be a whole number.", field=key) from None
        with self.ctx.db.session() as session:
            order = self._get(session, order_id, lock=True)
            before = order.state
            self._apply(session, order, OrderStatus(order.provider_order_id or 0, status,
                                                    clean_amount(charge, "charge"),
                                                    ints.get("start_count"), ints.get("remains")))
            self.ctx.audit(session, "order.status", f"Set order #{order_id} to {status}", "order", order_id)
            row = OrderRow.of(order, order.company.name)
        if before != row.state:
            self.ctx.events.publish(OrderStatusChanged(row.id, row.state))
        return row

    def sync(self, order_ids: list[int] | None = None) -> SyncResult:
        """Asks Fampage for these orders' statuses (all open orders when None) and applies them.

        Applying them can issue numbered credit notes, so it needs the operator role."""
        self.ctx.require("operator", "sync orders with Fampage")
        with self.ctx.db.read_session() as session:
            query = select(FampageOrder.id, FampageOrder.provider_order_id).where(
                FampageOrder.provider_order_id.is_not(None))
            if order_ids is None:
                query = query.where(FampageOrder.state.in_(OPEN_STATES))
            else:
                query = query.where(FampageOrder.id.in_(order_ids))
            pairs = session.execute(query).all()
        if not pairs:
            return SyncResult(0, 0, 0, {}, 0)
        statuses = self.fampage.client().status_many([p for _, p in pairs])
        changed, refunds, errors, updated, untouched, light, heavy, failed = [], 0, {}, 0, [], [], [], []
        now = utcnow()
        ids = [oid for oid, _ in pairs]
        with self.ctx.db.session() as session:
            current = {}
            for start in range(0, len(ids), 900):  # bound the IN list (SQLite's variable limit)
                current.update((row.provider_order_id, row) for row in session.execute(
                    select(*_SYNC_COLUMNS).where(FampageOrder.id.in_(ids[start:start + 900]))))
            for provider_id, status in statuses.items():
                row = current.get(provider_id)
                if row is None:
                    continue
                if status.error:
                    errors[row.id] = status.error
                    failed.append({"id": row.id, "last_error": status.error})
                    continue
                updated += 1
                if _same(row, status):
                    untouched.append(row.id)
                    continue
                fields = _status_fields(row, status)
                if fields["state"] != row.state:
                    changed.append((row.id, fields["state"]))
                if _needs_refund(fields["state"], row.refund):
                    heavy.append((row.id, status))  # credit notes: through the ORM, one by one
                else:
                    light.append({**fields, "synced_at": now})
            # The common cases in bulk: progress and status changes by primary key, untouched ones' time.
            for batch in (light, failed):
                for start in range(0, len(batch), 500):
                    session.execute(update(FampageOrder), batch[start:start + 500])
            for start in range(0, len(untouched), 900):
                session.execute(update(FampageOrder).where(FampageOrder.id.in_(untouched[start:start + 900]))
                                .values(synced_at=now).execution_options(synchronize_session=False))
            for order_id, status in heavy:
                order = self._get(session, order_id, lock=True)  # re-read under the lock: refunded once
                refund_before = order.refund
                self._apply(session, order, status)
                order.synced_at = now
                refunds += order.refund != refund_before
        for oid, state in changed:
            self.ctx.events.publish(OrderStatusChanged(oid, state))
        return SyncResult(len(pairs), updated, len(changed), errors, refunds)

    def sync_open_orders(self) -> SyncResult:
        """What the runtime's scheduler calls every ``fampage.sync_interval_minutes``."""
        return self.sync(None)

    def _apply(self, session, order: FampageOrder, status: OrderStatus) -> None:
        for key, value in _status_fields(order, status).items():
            if key != "id":
                setattr(order, key, value)
        credited = False
        if order.state in REFUNDING_STATES + ("refunded",) and order.refund == 0:
            undelivered = order.quantity if order.state == "refunded" else money.clamp_remains(order.remains,
                                                                                               order.quantity)
            refund = money.refund_of(order.charge if order.charge is not None else order.cost, undelivered,
                                     order.quantity)
            if refund > 0:
                order.refund = refund
                reason = {"partial": "Partially delivered", "canceled": "Canceled",
                          "refunded": "Refunded"}[order.state]
                credited = self.invoices.credit_for_order(session, order, undelivered, reason) is not None
                self.ctx.audit(session, "order.refund", f"Order #{order.id} {order.state}: provider refund "
                               f"{refund} {order.currency}", "order", order.id)
        if order.state == "failed" and order.refund == 0:
            # A failed order is not charged: the invoice is credited in full.
            order.refund = order.charge if order.charge is not None else order.cost
            credited = self.invoices.credit_for_order(session, order, order.quantity, "Failed") is not None
        net = (order.charge if order.charge is not None else order.cost) - order.refund
        order.cost_units = money.to_units(net)
        if credited:  # revenue changes only with a credit note
            session.flush()
            self.invoices.refresh_order_revenue(session, order.id)

    # --- refill and cancel ----------------------------------------------------------------
    def refill(self, order_id: int) -> OrderRow:
        self.ctx.require("operator", "request refills")
        order = self.get(order_id)
        provider_id = self._provider_id(order)
        [result] = self.fampage.client().refill([provider_id])
        if result.error:
            raise FampageError(f"Fampage refused the refill of order #{order_id}: {result.error}", result.error)
        with self.ctx.db.session() as session:
            row = self._get(session, order_id)
            row.refill_id, row.refill_status = result.refill_id, "Pending"
            self.ctx.audit(session, "order.refill", f"Asked a refill of order #{order_id}", "order", order_id)
        return self.get(order_id)

    def refill_status(self, order_id: int) -> OrderRow:
        self.ctx.require("operator", "update refill statuses")
        order = self.get(order_id)
        if order.refill_id is None:
            raise ValidationError(f"Order #{order_id} has no refill; ask for one first.", field="order")
        [status] = self.fampage.client().refill_status([order.refill_id])
        if status.error:
            raise FampageError(f"Fampage has no status for refill {order.refill_id}: {status.error}", status.error)
        with self.ctx.db.session() as session:
            self._get(session, order_id).refill_status = status.status
        return self.get(order_id)

    def cancel(self, order_ids: list[int]) -> dict[int, str | None]:
        """Asks Fampage to cancel; returns {order id: None if accepted, else why not}. Accepted ones
        are synced right away so the refund and credit note follow."""
        self.ctx.require("operator", "cancel orders")
        orders = [self.get(i) for i in order_ids]
        by_provider = {self._provider_id(o): o.id for o in orders}
        results = self.fampage.client().cancel(list(by_provider))
        outcome = {by_provider[r.order_id]: (None if r.ok else (r.error or "not cancelled")) for r in results}
        accepted = [oid for oid, error in outcome.items() if error is None]
        with self.ctx.db.session() as session:
            for oid in accepted:
                self.ctx.audit(session, "order.cancel", f"Asked Fampage to cancel order #{oid}", "order", oid)
        if accepted:
            self.sync(accepted)
        return outcome

    @staticmethod
    def _provider_id(order: OrderRow) -> int:
        if order.provider_order_id is None:
            raise ValidationError(f"Order #{order.id} has no Fampage order id ({order.state}).", field="order")
        return order.provider_order_id

    def invoice_of(self, order_id: int):
        with self.ctx.db.read_session() as session:
            # The standing invoice; else the newest voided one, so that a voided order still shows its history.
            standing = live_invoice_of(session, order_id)
            invoice_id = standing.id if standing is not None else session.scalar(
                select(Invoice.id).where(Invoice.order_id == order_id, Invoice.kind == "invoice")
                .order_by(Invoice.id.desc()).limit(1))
        return None if invoice_id is None else self.invoices.get(invoice_id)


_SYNC_COLUMNS = (FampageOrder.id, FampageOrder.provider_order_id, FampageOrder.status_raw, FampageOrder.state,
                 FampageOrder.remains, FampageOrder.start_count, FampageOrder.charge, FampageOrder.cost,
                 FampageOrder.refund, FampageOrder.last_error)


def _same(row, status: OrderStatus) -> bool:
    return (row.status_raw == status.status and row.remains == status.remains
            and row.start_count == status.start_count and row.charge == status.charge
            and row.last_error is None)


def _status_fields(row, status: OrderStatus) -> dict[str, Any]:
    """An order's columns after a status answer (``row``: the order or its sync columns)."""
    charge = status.charge if status.charge is not None else row.charge
    return {
        "id": row.id,
        "status_raw": status.status or row.status_raw,
        "state": normalise_status(status.status) if status.status is not None else row.state,
        "charge": charge,
        "start_count": status.start_count if status.start_count is not None else row.start_count,
        "remains": status.remains if status.remains is not None else row.remains,
        "last_error": None,
        "cost_units": money.to_units((charge if charge is not None else row.cost) - row.refund),
    }


def _needs_refund(state: str, refund: Decimal) -> bool:
    return refund == 0 and state in REFUNDING_STATES + ("refunded", "failed")


def _date_range(query, column, since: date | None, until: date | None):
    from datetime import time as dtime, timedelta, timezone
    if since is not None:
        query = query.where(column >= datetime.combine(since, dtime.min, tzinfo=timezone.utc))
    if until is not None:
        query = query.where(column < datetime.combine(until + timedelta(days=1), dtime.min, tzinfo=timezone.utc))
    return query
