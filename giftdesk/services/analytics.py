"""Seed 003's four analytics views, summed by the database over integer 10⁻⁸ units.

Cost is what Fampage kept (its charge, else our estimate, less its refunds); revenue is what we
invoiced before tax, less credit notes (nothing once an invoice is void); profit = revenue − cost.
Unconfirmed and not-placed orders count nowhere until reconciled.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import distinct, func, select

from giftdesk.db.fampage_models import Company, FampageOrder
from giftdesk.errors import NotFoundError
from giftdesk.fampage.money import from_units
from giftdesk.services.context import ServiceContext
from giftdesk.services.orders import OrderFilter, _date_range, link_key

_COUNTED = FampageOrder.state.not_in(("unconfirmed", "not_placed"))


@dataclass(frozen=True)
class Totals:
    orders: int
    cost: Decimal
    revenue: Decimal

    @property
    def profit(self) -> Decimal:
        return self.revenue - self.cost

    @property
    def margin(self) -> Decimal | None:
        return None if not self.revenue else (self.profit / self.revenue * 100).quantize(Decimal("0.1"))

    def to_json(self) -> dict:
        return {"orders": self.orders, "cost": str(self.cost), "revenue": str(self.revenue),
                "profit": str(self.profit), "marginPercent": None if self.margin is None else str(self.margin)}


def _totals(orders, cost_units, revenue_units) -> Totals:
    return Totals(int(orders or 0), from_units(int(cost_units or 0)), from_units(int(revenue_units or 0)))


def _sums():
    return (func.count(FampageOrder.id), func.coalesce(func.sum(FampageOrder.cost_units), 0),
            func.coalesce(func.sum(FampageOrder.revenue_units), 0))


@dataclass(frozen=True)
class CompanyFigures:
    company_id: int
    name: str
    archived: bool
    services: int
    totals: Totals

    def to_json(self) -> dict:
        return {"companyId": self.company_id, "name": self.name, "archived": self.archived,
                "services": self.services, **self.totals.to_json()}


class AnalyticsService:
    def __init__(self, ctx: ServiceContext, orders):
        self.ctx = ctx
        self.orders = orders

    def _base(self, query, since: date | None, until: date | None):
        return _date_range(query.where(_COUNTED), FampageOrder.created_at, since, until)

    def companies(self, since: date | None = None, until: date | None = None) -> list[CompanyFigures]:
        """Per company: orders, distinct services, spend (cost), revenue, profit."""
        query = self._base(select(FampageOrder.company_id, func.count(distinct(FampageOrder.service_name)), *_sums())
                           .group_by(FampageOrder.company_id), since, until)
        with self.ctx.db.read_session() as session:
            names = {c.id: (c.name, c.archived_at is not None) for c in session.scalars(select(Company))}
            rows = session.execute(query).all()
        figures = [CompanyFigures(cid, *names[cid], services, _totals(n, cost, revenue))
                   for cid, services, n, cost, revenue in rows]
        return sorted(figures, key=lambda f: (-f.totals.profit, f.name.lower()))

    def summary(self, since: date | None = None, until: date | None = None) -> dict:
        """Real cost vs revenue overall, by status and by service type."""
        with self.ctx.db.read_session() as session:
            total = session.execute(self._base(select(*_sums()), since, until)).one()
            by_state = session.execute(self._base(select(FampageOrder.state, *_sums())
                                                  .group_by(FampageOrder.state), since, until)).all()
            by_type = session.execute(self._base(select(FampageOrder.service_type, *_sums())
                                                 .group_by(FampageOrder.service_type), since, until)).all()
            by_network = session.execute(self._base(select(FampageOrder.network, *_sums())
                                                    .group_by(FampageOrder.network), since, until)).all()
        return {"total": _totals(*total), "byStatus": {k: _totals(*v) for k, *v in by_state},
                "byServiceType": {k: _totals(*v) for k, *v in by_type},
                "byNetwork": {k: _totals(*v) for k, *v in by_network}}

    def target(self, url: str, since: date | None = None, until: date | None = None) -> dict:
        """Orders for one target link (however it was written), with profit."""
        key = link_key(url)
        with self.ctx.db.read_session() as session:
            total = session.execute(self._base(select(*_sums()).where(FampageOrder.link_key == key),
                                               since, until)).one()
            ids = session.scalars(self._base(select(FampageOrder.id).where(FampageOrder.link_key == key)
                                             .order_by(FampageOrder.id.desc()), since, until)).all()
        rows = [self.orders.get(i) for i in ids[:500]]
        return {"target": key, "total": _totals(*total), "orders": rows}

    def history(self, company_id: int, since: date | None = None, until: date | None = None) -> dict:
        """A company's orders with their profit, and the summary."""
        with self.ctx.db.read_session() as session:
            company = session.get(Company, company_id)
            if company is None:
                raise NotFoundError(f"There is no company with id {company_id}.")
            total = session.execute(self._base(select(*_sums()).where(FampageOrder.company_id == company_id),
                                               since, until)).one()
        rows = [o for o in self.orders.list(OrderFilter(company_id=company_id, since=since, until=until))
                if o.state not in ("unconfirmed", "not_placed")]
        return {"companyId": company_id, "name": company.name, "total": _totals(*total), "orders": rows}


# --- CSV --------------------------------------------------------------------------------------
def _flat(value):
    if isinstance(value, Totals):
        return value.to_json()
    return value


def to_csv(view: str, data, path: str | Path | None = None) -> str:
    """One analytics view as CSV (camelCase headers, exact decimals); written to ``path`` if given."""
    rows: list[dict] = []
    if view == "companies":
        rows = [f.to_json() for f in data]
    elif view == "summary":
        for group in ("total", "byStatus", "byServiceType", "byNetwork"):
            part = data[group]
            items = {"": part}.items() if isinstance(part, Totals) else part.items()
            rows += [{"group": group, "key": key, **totals.to_json()} for key, totals in items]
    elif view in ("target", "history"):
        rows = [{k: v for k, v in o.to_json().items()
                 if k in ("id", "createdAt", "companyName", "serviceName", "link", "quantity", "status", "state",
                          "netCost", "revenue", "profit", "currency")} for o in data["orders"]]
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    text = buffer.getvalue()
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
