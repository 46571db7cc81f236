"""The four analytics views, summed by the database over integer 10⁻⁸ units.

Cost is what Fampage kept (its charge, else our estimate, less its refunds); revenue is what we
invoiced before tax, less credit notes (nothing once an invoice is void); profit = revenue − cost.
Unconfirmed and not-placed orders count nowhere until reconciled.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from giftdesk.db.fampage_models import Company, FampageOrder
from giftdesk.core.errors import NotFoundError
from giftdesk.fampage.money import from_units, plain, round_money, shown_profit
from giftdesk.fampage.companies import CompanyRow
from giftdesk.core.context import ServiceContext
from giftdesk.core.csv_cells import safe_writer
from giftdesk.fampage.orders import OrderRow, _date_range, link_key

UNCOUNTED = ("unconfirmed", "not_placed")
_COUNTED = FampageOrder.state.not_in(UNCOUNTED)


@dataclass(frozen=True)
class Totals:
    orders: int
    cost: Decimal
    revenue: Decimal
    currency: str = ""  # for the shown figures' minor unit; "" (mixed or unknown) shows two decimals

    @property
    def profit(self) -> Decimal:
        """Exact; ``profit_shown`` is what to display."""
        return self.revenue - self.cost

    @property
    def profit_shown(self) -> Decimal:
        return shown_profit(self.revenue, self.cost, self.currency)

    @property
    def margin(self) -> Decimal | None:
        return None if not self.revenue else (self.profit / self.revenue * 100).quantize(Decimal("0.1"))

    def to_json(self) -> dict:
        """Money in minor units, rounded once (profit = revenue − cost as shown); the exact cost and
        profit also, under ``costExact`` and ``profitExact``."""
        return {"orders": self.orders, "cost": str(round_money(self.cost, self.currency)),
                "revenue": str(round_money(self.revenue, self.currency)), "profit": str(self.profit_shown),
                "marginPercent": None if self.margin is None else str(self.margin),
                "costExact": str(self.cost), "profitExact": str(plain(self.profit))}


def _totals(orders, cost_units, revenue_units, currency: str = "") -> Totals:
    return Totals(int(orders or 0), from_units(int(cost_units or 0)), from_units(int(revenue_units or 0)), currency)


def _sums():
    return (func.count(), func.coalesce(func.sum(FampageOrder.cost_units), 0),
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


@dataclass(frozen=True)
class CompanyOverview:
    """A company with its spend (cost), revenue and profit: the Companies view's row."""

    company: CompanyRow
    totals: Totals

    @property
    def id(self) -> int:
        return self.company.id


class AnalyticsService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def _base(self, query, since: date | None, until: date | None):
        return _date_range(query.where(_COUNTED), FampageOrder.created_at, since, until)

    @staticmethod
    def _scan(query, since: date | None, until: date | None):
        """For the whole-table views: no state filter in SQL (a NOT IN per row triples the scan);
        they group by state and drop the uncounted states here."""
        return _date_range(query, FampageOrder.created_at, since, until)

    def companies(self, since: date | None = None, until: date | None = None) -> list[CompanyFigures]:
        """Per company: orders, distinct services, spend (cost), revenue, profit."""
        sums = self._scan(select(FampageOrder.company_id, FampageOrder.state, *_sums())
                          .group_by(FampageOrder.company_id, FampageOrder.state), since, until)
        services = self._scan(select(FampageOrder.company_id, FampageOrder.service_name, FampageOrder.state)
                              .distinct(), since, until)
        with self.ctx.db.read_session() as session:
            companies = {c.id: (c.name, c.archived_at is not None, c.currency) for c in session.scalars(select(Company))}
            rows = session.execute(sums).all()
            used: dict[int, set[str]] = {}
            for cid, service_name, state in session.execute(services):
                if state not in UNCOUNTED:
                    used.setdefault(cid, set()).add(service_name)
        service_counts = {cid: len(names_used) for cid, names_used in used.items()}
        per_company: dict[int, list[int]] = {}
        for cid, state, n, cost, revenue in rows:
            if state in UNCOUNTED:
                continue
            acc = per_company.setdefault(cid, [0, 0, 0])
            acc[0] += n
            acc[1] += cost
            acc[2] += revenue
        figures = [CompanyFigures(cid, *companies[cid][:2], service_counts.get(cid, 0), _totals(*acc, companies[cid][2]))
                   for cid, acc in per_company.items()]
        return sorted(figures, key=lambda f: (-f.totals.profit, f.name.lower()))

    def company_overview(self, include_archived: bool = False) -> list[CompanyOverview]:
        """Every company (archived ones only when asked), with its totals, zero when it has no orders."""
        figures = {f.company_id: f.totals for f in self.companies()}
        query = select(Company).order_by(func.lower(Company.name), Company.id)
        if not include_archived:
            query = query.where(Company.archived_at.is_(None))
        with self.ctx.db.read_session() as session:
            companies = [CompanyRow.of(c) for c in session.scalars(query)]
        return [CompanyOverview(c, figures.get(c.id, Totals(0, Decimal(0), Decimal(0), c.currency)))
                for c in companies]

    def summary(self, since: date | None = None, until: date | None = None) -> dict:
        """Real cost vs revenue overall, by status, by service type and by network: one pass over
        the rollup index, grouped finely and added up here."""
        query = self._scan(select(FampageOrder.state, FampageOrder.service_type, FampageOrder.network, *_sums())
                           .group_by(FampageOrder.state, FampageOrder.service_type, FampageOrder.network),
                           since, until)
        with self.ctx.db.read_session() as session:
            rows = session.execute(query).all()
        groups: dict[str, dict[str, list[int]]] = {"byStatus": {}, "byServiceType": {}, "byNetwork": {}}
        grand = [0, 0, 0]
        for state, service_type, network, n, cost, revenue in rows:
            if state in UNCOUNTED:
                continue
            for group, key in (("byStatus", state), ("byServiceType", service_type), ("byNetwork", network)):
                acc = groups[group].setdefault(key, [0, 0, 0])
                acc[0] += n
                acc[1] += cost
                acc[2] += revenue
            grand[0] += n
            grand[1] += cost
            grand[2] += revenue
        return {"total": _totals(*grand),
                **{group: {k: _totals(*v) for k, v in sorted(items.items())} for group, items in groups.items()}}

    def target(self, url: str, since: date | None = None, until: date | None = None,
               limit: int = 100) -> dict:
        """Orders for one target link (however it was written), with profit; the newest ``limit``."""
        key = link_key(url)
        with self.ctx.db.read_session() as session:
            total = session.execute(self._base(select(*_sums()).where(FampageOrder.link_key == key),
                                               since, until)).one()
            rows = self._orders(session, self._base(select(FampageOrder, Company.name).join(Company)
                                                    .where(FampageOrder.link_key == key), since, until), limit)
        return {"target": key, "total": _totals(*total), "orders": rows}

    def history(self, company_id: int, since: date | None = None, until: date | None = None,
                limit: int = 100, offset: int = 0) -> dict:
        """A company's orders with their profit (newest first, a page of ``limit``) and the summary."""
        with self.ctx.db.read_session() as session:
            company = session.get(Company, company_id)
            if company is None:
                raise NotFoundError(f"There is no company with id {company_id}.")
            total = session.execute(self._base(select(*_sums()).where(FampageOrder.company_id == company_id),
                                               since, until)).one()
            rows = self._orders(session, self._base(select(FampageOrder, Company.name).join(Company)
                                                    .where(FampageOrder.company_id == company_id), since, until),
                                limit, offset)
        return {"companyId": company_id, "name": company.name, "total": _totals(*total, company.currency),
                "orders": rows, "offset": offset}

    @staticmethod
    def _orders(session, query, limit: int, offset: int = 0) -> list[OrderRow]:
        query = query.order_by(FampageOrder.id.desc()).limit(max(1, limit)).offset(max(0, offset))
        return [OrderRow.of(order, name) for order, name in session.execute(query)]


# --- CSV --------------------------------------------------------------------------------------
def _flat(value):
    if isinstance(value, Totals):
        return value.to_json()
    return value


def to_csv(view: str, data, path: str | Path | None = None) -> str:
    """One analytics view as CSV (camelCase headers, money in minor units as shown); written to ``path`` if given."""
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
    rows = [{k: v for k, v in row.items() if not k.endswith("Exact")} for row in rows]
    buffer = io.StringIO()
    if rows:
        writer = safe_writer(buffer, lineterminator="\n")
        header = list(rows[0])
        writer.writerow(header)
        writer.writerows([row[name] for name in header] for row in rows)
    text = buffer.getvalue()
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
