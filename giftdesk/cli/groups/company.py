"""``giftdesk company``: client companies billed for Fampage orders."""

from __future__ import annotations

from giftdesk.cli.framework import Fields, Output, Table, arg
from giftdesk.cli.groups._fampage_args import company_id
from giftdesk.core.errors import ValidationError
from giftdesk.fampage.orders import OrderFilter

_FIELD_ARGS = (
    arg("--contact", dest="contact_name", help="contact person"),
    arg("--email"),
    arg("--phone"),
    arg("--address"),
    arg("--tax-id", dest="tax_id"),
    arg("--notes"),
    arg("--status", choices=("active", "inactive", "suspended")),
    arg("--currency", help="three-letter code (default: Settings' invoice currency)"),
    arg("--multiplier", dest="invoice_multiplier", help="default invoice multiplier (empty: Settings')"),
)
_FIELDS = ("contact_name", "email", "phone", "address", "tax_id", "notes", "status", "currency", "invoice_multiplier")


def _fields(row) -> Fields:
    return Fields([("ID", row.id), ("Name", row.name), ("Contact", row.contact_name), ("E-mail", row.email),
                   ("Phone", row.phone), ("Address", (row.address or "").replace("\n", ", ") or None),
                   ("Tax id", row.tax_id), ("Status", row.status), ("Currency", row.currency),
                   ("Invoice multiplier", row.invoice_multiplier or "Settings' default"),
                   ("Archived", row.archived), ("Notes", row.notes)])


def register(cli) -> None:
    company = cli.group("company", "client companies billed for Fampage orders")

    @company.command("add", "add a company", arg("name"), *_FIELD_ARGS)
    def add(desk, args):
        row = desk.companies.create(args.name, **{k: getattr(args, k) for k in _FIELDS if getattr(args, k) is not None})
        return Output(row.to_json(), _fields(row))

    @company.command("list", "list companies", arg("--search"),
                     arg("--status", choices=("active", "inactive", "suspended", "pending", "rejected"),
                         help="pending: asked through the intake form, waiting for approval"),
                     arg("--archived", action="store_true", help="list archived companies instead"))
    def list_(desk, args):
        rows = desk.companies.list(args.search, args.status, archived=args.archived)
        return Output([r.to_json() for r in rows], Table(
            ["ID", "NAME", "CONTACT", "E-MAIL", "STATUS", "CURRENCY", "MULTIPLIER"],
            [(r.id, r.name, r.contact_name, r.email, r.status, r.currency, r.invoice_multiplier) for r in rows]))

    @company.command("show", "a company with its orders, invoices, spend, revenue and profit", arg("company"))
    def show(desk, args):
        cid = company_id(desk, args.company)
        row = desk.companies.get(cid)
        history = desk.analytics.history(cid)
        invoices = desk.invoices.list(company_id=cid)
        orders = desk.orders.list(OrderFilter(company_id=cid, limit=20))
        totals = history["total"]
        data = {**row.to_json(), "totals": totals.to_json(), "openOrders": sum(o.is_open for o in orders),
                "invoices": [i.to_json() for i in invoices], "recentOrders": [o.to_json() for o in orders]}
        return Output(data, [
            _fields(row),
            Fields([("Orders", totals.orders), ("Spend (provider cost)", data["totals"]["cost"]),
                    ("Revenue", data["totals"]["revenue"]), ("Profit", data["totals"]["profit"]),
                    ("Margin", f"{totals.margin}%" if totals.margin is not None else None)]),
            Table(["INVOICE", "NUMBER", "STATUS", "TOTAL", "DUE"],
                  [(i.id, i.number or "draft", i.display_status, f"{i.total} {i.currency}", i.due_date)
                   for i in invoices]),
            Table(["ORDER", "SERVICE", "LINK", "QTY", "STATE", "PROFIT"],
                  [(o.id, o.service_name[:40], o.link[:50], o.quantity, o.state, o.profit_shown) for o in orders]),
        ])

    @company.command("edit", "change a company's details", arg("company"), arg("--name"), *_FIELD_ARGS)
    def edit(desk, args):
        changes = {k: getattr(args, k) for k in ("name", *_FIELDS) if getattr(args, k) is not None}
        if not changes:
            raise ValidationError("Nothing to change: give --name, --email, --status, --multiplier, …")
        row = desk.companies.update(company_id(desk, args.company), **changes)
        return Output(row.to_json(), _fields(row))

    @company.command("approve", "approve a company that asked through the intake form (it can then order)",
                     arg("company"))
    def approve(desk, args):
        row = desk.companies.approve(company_id(desk, args.company))
        return Output(row.to_json(), f"{row.name} is approved and active.")

    @company.command("reject", "reject a company that asked through the intake form (it is archived)",
                     arg("company"), arg("--reason", help="kept in the audit log"))
    def reject(desk, args):
        row = desk.companies.reject(company_id(desk, args.company), args.reason)
        return Output(row.to_json(), f"{row.name} is rejected.")

    @company.command("archive", "archive a company (its orders and invoices stay)", arg("company"),
                     arg("--restore", action="store_true", help="bring an archived company back"))
    def archive(desk, args):
        row = desk.companies.archive(company_id(desk, args.company), archived=not args.restore)
        return Output(row.to_json(), f"{row.name} is {'archived' if row.archived else 'active again'}.")
