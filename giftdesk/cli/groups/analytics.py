"""``giftdesk analytics``: the four analytics views — per company, summary, by target, history."""

from __future__ import annotations

from pathlib import Path

from giftdesk.cli.framework import Fields, Output, Table, arg
from giftdesk.cli.groups._fampage_args import SINCE, UNTIL, company_id, date_range
from giftdesk.core.errors import ValidationError
from giftdesk.fampage.analytics import to_csv
from giftdesk.fampage.money import round_money

CSV = arg("--csv", type=Path, metavar="FILE", help="also write the view as CSV")


def _totals_row(label, t) -> tuple:
    shown = t.to_json()
    return (label, t.orders, shown["cost"], shown["revenue"], shown["profit"],
            f"{t.margin}%" if t.margin is not None else "-")


_HEAD = ["", "ORDERS", "COST", "REVENUE", "PROFIT", "MARGIN"]


def _csv(args, view, data) -> None:
    if args.csv:
        try:
            to_csv(view, data, args.csv)
        except OSError as exc:
            raise ValidationError(f"Cannot write {args.csv}: {exc.strerror}.", field="csv") from None


def _orders_table(rows) -> Table:
    return Table(["ORDER", "PLACED", "COMPANY", "SERVICE", "LINK", "STATE", "COST", "REVENUE", "PROFIT"],
                 [(o.id, o.created_at, o.company_name[:20], o.service_name[:30], o.link[:40], o.state,
                   round_money(o.net_cost, o.currency), round_money(o.revenue, o.currency), o.profit_shown)
                  for o in rows])


def register(cli) -> None:
    analytics = cli.group("analytics", "cost, revenue and profit of Fampage orders")

    @analytics.command("companies", "per company: orders, services, spend, revenue, profit", SINCE, UNTIL, CSV)
    def companies(desk, args):
        rows = desk.analytics.companies(*date_range(args))
        _csv(args, "companies", rows)
        return Output([r.to_json() for r in rows], Table(
            ["ID", "COMPANY", "SERVICES", *_HEAD[1:]],
            [(r.company_id, r.name, r.services, *_totals_row("", r.totals)[1:]) for r in rows]))

    @analytics.command("summary", "real cost vs revenue, by status and by service type", SINCE, UNTIL, CSV)
    def summary(desk, args):
        data = desk.analytics.summary(*date_range(args))
        _csv(args, "summary", data)
        as_json = {"total": data["total"].to_json(),
                   **{group: {k: v.to_json() for k, v in data[group].items()}
                      for group in ("byStatus", "byServiceType", "byNetwork")}}
        return Output(as_json, [
            Table(_HEAD, [_totals_row("Total", data["total"])]),
            Table(["STATUS", *_HEAD[1:]], [_totals_row(k, v) for k, v in sorted(data["byStatus"].items())]),
            Table(["SERVICE TYPE", *_HEAD[1:]], [_totals_row(k, v) for k, v in sorted(data["byServiceType"].items())]),
            Table(["NETWORK", *_HEAD[1:]], [_totals_row(k, v) for k, v in sorted(data["byNetwork"].items())]),
        ])

    @analytics.command("target", "orders for one target link, with profit", arg("url"), SINCE, UNTIL, CSV)
    def target(desk, args):
        data = desk.analytics.target(args.url, *date_range(args))
        _csv(args, "target", data)
        return Output({"target": data["target"], "total": data["total"].to_json(),
                       "orders": [o.to_json() for o in data["orders"]]},
                      [Fields([("Target", data["target"])]), Table(_HEAD, [_totals_row("Total", data["total"])]),
                       _orders_table(data["orders"])])

    @analytics.command("history", "a company's order history with profit", arg("company", help="id or name"),
                       SINCE, UNTIL, CSV)
    def history(desk, args):
        data = desk.analytics.history(company_id(desk, args.company), *date_range(args))
        _csv(args, "history", data)
        return Output({"companyId": data["companyId"], "name": data["name"], "total": data["total"].to_json(),
                       "orders": [o.to_json() for o in data["orders"]]},
                      [Fields([("Company", data["name"])]), Table(_HEAD, [_totals_row("Total", data["total"])]),
                       _orders_table(data["orders"])])
