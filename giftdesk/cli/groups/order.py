"""``giftdesk order``: Fampage orders — place, list, sync, refill, cancel, manual edits."""

from __future__ import annotations

from pathlib import Path

from giftdesk.cli.framework import YES, Fields, Output, Table, arg, confirm
from giftdesk.cli.groups._fampage_args import SINCE, UNTIL, company_id, date_range
from giftdesk.core.errors import ValidationError
from giftdesk.fampage.money import round_money
from giftdesk.fampage.operations import CANCEL_ORDERS
from giftdesk.fampage.parse import STATES
from giftdesk.fampage.orders import OrderFilter


def order_fields(o) -> Fields:
    return Fields([
        ("Order", o.id), ("Company", f"{o.company_name} (#{o.company_id})"),
        ("Service", f"{o.service_name} (#{o.service_id})" if o.service_id else o.service_name),
        ("Type", o.service_type), ("Network", o.network), ("Link", o.link), ("Quantity", o.quantity),
        ("Drip-feed", f"{o.runs} runs every {o.interval} min" if o.runs else None),
        ("Fampage order", o.provider_order_id), ("Status", f"{o.status_raw or '-'} ({o.state})"),
        ("Start count", o.start_count), ("Remains", o.remains),
        ("Provider cost", f"{round_money(o.cost, o.currency)} {o.currency}"),
        ("Charged", None if o.charge is None else round_money(o.charge, o.currency)),
        ("Refund", round_money(o.refund, o.currency)), ("Revenue", round_money(o.revenue, o.currency)),
        ("Profit", o.profit_shown), ("Multiplier", o.multiplier),
        ("Refill", f"{o.refill_id} ({o.refill_status})" if o.refill_id else None),
        ("Problem", o.last_error), ("Placed", o.created_at), ("Synced", o.synced_at),
    ])


def invoice_fields(i) -> Fields:
    return Fields([("Invoice", i.id), ("Number", i.number or "draft (not issued)"), ("Status", i.display_status),
                   ("Subtotal", i.subtotal), ("Tax", i.tax), ("Total", f"{i.total} {i.currency}"),
                   ("Credited", i.credited or None), ("Due", i.due_date)])


def _table(rows) -> Table:
    return Table(["ID", "COMPANY", "SERVICE", "LINK", "QTY", "STATE", "REMAINS", "COST", "REVENUE", "PROFIT"],
                 [(o.id, o.company_name[:20], o.service_name[:30], o.link[:40], o.quantity, o.state, o.remains,
                   round_money(o.net_cost, o.currency), round_money(o.revenue, o.currency), o.profit_shown)
                  for o in rows])


def _ids(values: list[str]) -> list[int]:
    try:
        return [int(v) for v in values]
    except ValueError:
        raise ValidationError("Order ids are numbers.", field="order") from None


def register(cli) -> None:
    order = cli.group("order", "Fampage orders: place, sync, refill, cancel")

    @order.command("add", "place an order at Fampage; prints the order and its invoice",
                   arg("--company", required=True, help="company id or name"),
                   arg("--service", required=True, type=int, help="Fampage service id"),
                   arg("--link", required=True, help="the post or profile address"),
                   arg("--quantity", help="how many (packages: optional; custom comments: the line count)"),
                   arg("--multiplier", help="invoice multiplier (default: the company's, else Settings')"),
                   arg("--comments-file", type=Path, help="custom comments, one per line"),
                   arg("--runs", type=int, help="drip-feed: number of runs"),
                   arg("--interval", type=int, help="drip-feed: minutes between runs"),
                   arg("--preview", action="store_true", help="only show cost, invoice amount and profit"))
    def add(desk, args):
        comments = None
        if args.comments_file:
            try:
                comments = args.comments_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise ValidationError(f"Cannot read {args.comments_file}: {exc.strerror}.", field="comments") from None
        desk.fampage.ensure_catalogue()
        cid = company_id(desk, args.company)
        params = dict(quantity=args.quantity, multiplier=args.multiplier, comments=comments, runs=args.runs,
                      interval=args.interval)
        if args.preview:
            desk.fampage.balance()
            p = desk.orders.preview(cid, args.service, args.link, **params)
            shown = p.to_json()
            return Output(shown, Fields([
                ("Quantity", p.quantity), ("Provider cost", f"{shown['cost']} {p.currency}"),
                ("Invoice amount", f"{shown['invoiceAmount']} {p.currency} (× {p.multiplier}, before tax)"),
                ("Profit", shown["profit"]), ("Balance", shown["balance"]), ("Balance after", shown["balanceAfter"])]))
        placed, invoice = desk.orders.place(cid, args.service, args.link, **params)
        return Output({"order": placed.to_json(), "invoice": invoice.to_json()},
                      [order_fields(placed), invoice_fields(invoice)])

    @order.command("list", "list orders",
                   arg("--company", help="company id or name"), arg("--state", choices=STATES),
                   arg("--open", action="store_true", help="only open orders"), arg("--network"),
                   arg("--service", type=int), arg("--link", help="part of the link"), SINCE, UNTIL,
                   arg("--limit", type=int, default=200))
    def list_(desk, args):
        since, until = date_range(args)
        rows = desk.orders.list(OrderFilter(
            company_id=company_id(desk, args.company) if args.company else None, state=args.state,
            network=args.network, service_id=args.service, link=args.link, since=since, until=until,
            open_only=args.open, limit=max(1, args.limit)))
        return Output([r.to_json() for r in rows], _table(rows))

    @order.command("show", "an order with its invoice and credit notes", arg("order", type=int))
    def show(desk, args):
        row = desk.orders.get(args.order)
        invoice = desk.orders.invoice_of(row.id)
        notes = [desk.invoices.get(i) for i in invoice.credit_note_ids] if invoice else []
        return Output({**row.to_json(), "invoice": invoice.to_json() if invoice else None,
                       "creditNotes": [n.to_json() for n in notes]},
                      [order_fields(row)] + ([invoice_fields(invoice)] if invoice else [])
                      + [invoice_fields(n) for n in notes])

    @order.command("stats", "order counts by state and totals")
    def stats(desk, args):
        data = desk.orders.stats()
        return Output(data, [Fields([("Orders", data["total"]), ("Open", data["open"]), ("Cost", data["cost"]),
                                     ("Revenue", data["revenue"]), ("Profit", data["profit"])]),
                             Table(["STATE", "ORDERS"], sorted(data["byState"].items()))])

    @order.command("sync", "ask Fampage for statuses (all open orders when no id is given)",
                   arg("orders", nargs="*", help="order ids"))
    def sync(desk, args):
        result = desk.orders.sync(_ids(args.orders) if args.orders else None)
        text = [Fields([("Asked", result.requested), ("Updated", result.updated), ("Changed", result.changed),
                        ("Refunds", result.refunds)])]
        if result.errors:
            text.append(Table(["ORDER", "ERROR"], sorted(result.errors.items())))
        return Output(result.to_json(), text)

    @order.command("refill", "ask Fampage for a refill, or with --status, the refill's status",
                   arg("order", type=int), arg("--status", action="store_true"))
    def refill(desk, args):
        row = desk.orders.refill_status(args.order) if args.status else desk.orders.refill(args.order)
        return Output(row.to_json(), f"Order #{row.id}: refill {row.refill_id} is {row.refill_status}.")

    @order.command("cancel", "ask Fampage to cancel orders", arg("orders", nargs="+"), YES)
    def cancel(desk, args):
        ids = _ids(args.orders)
        names = ", ".join(f"#{i}" for i in ids[:6]) + ("…" if len(ids) > 6 else "")
        confirm(args, CANCEL_ORDERS.confirmation(orders=f"order{'s' if len(ids) != 1 else ''} {names}"))
        outcome = desk.orders.cancel(ids)
        data = [{"orderId": oid, "cancelled": error is None, "error": error} for oid, error in outcome.items()]
        refused = any(error for error in outcome.values())
        return Output(data, Table(["ORDER", "CANCELLED", "WHY NOT"], [(d["orderId"], d["cancelled"], d["error"])
                                                                     for d in data]), exit_code=1 if refused else 0)

    @order.command("set-status", "set an order's status and stats by hand",
                   arg("order", type=int), arg("status", help="as Fampage writes it: Completed, Partial, …"),
                   arg("--remains", type=int), arg("--start-count", type=int), arg("--charge"))
    def set_status(desk, args):
        row = desk.orders.set_status(args.order, args.status, args.remains, args.start_count, args.charge)
        return Output(row.to_json(), order_fields(row))

    @order.command("reconcile", "settle an unconfirmed order (its placement timed out)",
                   arg("order", type=int), arg("--provider-id", type=int, help="Fampage's order id, if it exists"),
                   arg("--not-placed", action="store_true", help="Fampage has no such order"))
    def reconcile(desk, args):
        row = desk.orders.reconcile(args.order, args.provider_id, args.not_placed)
        return Output(row.to_json(), order_fields(row))

    @order.command("manual", "record an order placed elsewhere, with its cost",
                   arg("--company", required=True), arg("--service-name", required=True),
                   arg("--link", required=True), arg("--quantity", required=True), arg("--cost", required=True),
                   arg("--multiplier"), arg("--provider-id", type=int), arg("--status", default="Pending"),
                   arg("--service", type=int, help="Fampage service id, if known"))
    def manual(desk, args):
        row = desk.orders.create_manual(company_id(desk, args.company), args.service_name, args.link, args.quantity,
                                        args.cost, args.multiplier, args.provider_id, args.service, args.status)
        invoice = desk.orders.invoice_of(row.id)
        return Output({"order": row.to_json(), "invoice": invoice.to_json() if invoice else None},
                      [order_fields(row)] + ([invoice_fields(invoice)] if invoice else []))
