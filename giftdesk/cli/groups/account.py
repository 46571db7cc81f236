"""``giftdesk account``: TikTok accounts of customers."""

from __future__ import annotations

from giftdesk.cli.framework import YES, Fields, Output, Table, arg, confirm, record_id, warn_secret_store
from giftdesk.core.errors import ValidationError


def register(cli) -> None:
    account = cli.group("account", "TikTok accounts of customers")

    @account.command("add", "add a TikTok account to a customer",
                     arg("--customer", type=record_id, required=True, help="customer id"),
                     arg("--tiktok", required=True, help="TikTok handle, e.g. @creator"),
                     arg("--generate-key", action="store_true", help="also issue the tracker API key"),
                     arg("--instance-url", help="the tracker's URL (stored with the key: needs --generate-key)"))
    def account_add(desk, args):
        if not args.generate_key:
            if args.instance_url is not None:
                raise ValidationError("--instance-url is stored with the API key: add --generate-key "
                                      "(or set it later with 'giftdesk key set-url').", field="instance_url")
            row = desk.customers.add_account(args.customer, args.tiktok)
            return Output(row.to_json(), f"Added account {row.id}: {row.handle}")
        warn_secret_store(desk)
        # One transaction: a bad URL or a failing keyring leaves no account behind.
        row, api_key = desk.customers.add_account_with_key(args.customer, args.tiktok, args.instance_url)
        data = desk.customers.get_account(row.id).to_json()
        return Output({**data, "apiKey": api_key}, f"Added account {row.id}: {row.handle} with API key {api_key}")

    @account.command("list", "list TikTok accounts", arg("--customer", type=record_id, help="only this customer's accounts"))
    def account_list(desk, args):
        rows = desk.customers.list_accounts(args.customer)
        return Output([r.to_json() for r in rows],
                      Table(["ID", "OLD ID", "CUSTOMER", "HANDLE", "KEY", "STATUS", "LAST ACCESSED"],
                            [(r.id, r.legacy_id or "", r.customer_id, r.handle, r.has_key, r.key_status,
                              r.last_accessed_at) for r in rows]))

    @account.command("show", "one TikTok account: its ids, key status and last access", arg("id", type=record_id))
    def account_show(desk, args):
        row = desk.customers.get_account(args.id)
        return Output(row.to_json(), Fields([
            ("ID", row.id), ("Old ID", row.legacy_id), ("Customer", row.customer_id), ("Handle", row.handle),
            ("Key", row.key_status or "none"), ("Instance URL", row.instance_url),
            ("Last accessed", row.last_accessed_at)]))

    @account.command("delete", "delete an account with its API key and tracker data", arg("id", type=record_id), YES)
    def account_delete(desk, args):
        impact = desk.customers.account_delete_impact(args.id)
        confirm(args, impact.sentence())
        desk.customers.delete_account(args.id)
        return Output({"deleted": args.id, **impact.to_json()}, f"Deleted account {args.id}. {impact.sentence()}")
