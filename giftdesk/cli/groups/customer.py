"""``giftdesk customer``: the agency's customers and their details."""

from __future__ import annotations

from giftdesk.cli.framework import YES, Fields, Output, Table, arg, confirm, record_id
from giftdesk.core.errors import ValidationError

DETAILS = ("name", "email", "company", "notes")


def register(cli) -> None:
    customer = cli.group("customer", "customers and their details")

    @customer.command("add", "add a customer",
                      arg("--name", required=True), arg("--email"), arg("--company"), arg("--notes"))
    def customer_add(desk, args):
        row = desk.customers.create(args.name, args.email, args.company, args.notes)
        return Output(row.to_json(), f"Added customer {row.id}: {row.name}")

    @customer.command("list", "list customers",
                      arg("--search", help="match name, e-mail, company, notes or a TikTok handle (literally)"))
    def customer_list(desk, args):
        rows = desk.customers.list(args.search)
        return Output([r.to_json() for r in rows],
                      Table(["ID", "NAME", "EMAIL", "COMPANY", "ACCOUNTS", "CREATED"],
                            [(r.id, r.name, r.email, r.company, r.account_count, r.created_at) for r in rows]))

    @customer.command("show", "show a customer with their TikTok accounts", arg("id", type=record_id))
    def customer_show(desk, args):
        row = desk.customers.get(args.id)
        return Output(row.to_json(), [
            Fields([("ID", row.id), ("Name", row.name), ("E-mail", row.email), ("Company", row.company),
                    ("Notes", row.notes), ("Created", row.created_at), ("Updated", row.updated_at)]),
            Table(["ACCOUNT", "HANDLE", "KEY", "STATUS", "INSTANCE URL", "LAST ACCESSED"],
                  [(a.id, a.handle, a.has_key, a.key_status, a.instance_url, a.last_accessed_at)
                   for a in row.accounts or ()]),
        ])

    @customer.command("edit", 'change a customer\'s details ("" clears a field)',
                      arg("id", type=record_id), *(arg(f"--{name}") for name in DETAILS))
    def customer_edit(desk, args):
        changes = {k: getattr(args, k) for k in DETAILS if getattr(args, k) is not None}
        if not changes:
            raise ValidationError("Nothing to change: give --name, --email, --company or --notes.")
        row = desk.customers.update(args.id, **changes)
        return Output(row.to_json(), f"Updated customer {row.id}: {row.name}")

    @customer.command("delete", "delete a customer with their accounts, keys and tracker data",
                      arg("id", type=record_id), YES)
    def customer_delete(desk, args):
        impact = desk.customers.delete_impact(args.id)
        confirm(args, impact.sentence())
        desk.customers.delete(args.id)
        return Output({"deleted": args.id, **impact.to_json()}, f"Deleted customer {args.id}. {impact.sentence()}")
