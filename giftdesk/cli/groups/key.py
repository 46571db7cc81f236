"""``giftdesk key``: tracker API keys, one per TikTok account."""

from __future__ import annotations

from giftdesk.cli.framework import Output, Table, arg, record_id, warn_secret_store

ACCOUNT = arg("--account", type=record_id, required=True, help="TikTok account id")


def _key_output(desk, account_id: int, api_key: str | None, verb: str) -> Output:
    row = desk.keys.get(account_id)
    text = f"{verb} @{row.tiktok_username} (account {account_id}), status {row.status}"
    return Output(row.to_json(api_key), text + (f"\n{api_key}" if api_key else ""))


def register(cli) -> None:
    key = cli.group("key", "tracker API keys (one per TikTok account)")

    @key.command("generate", "issue the first API key of an account", ACCOUNT, arg("--instance-url"))
    def key_generate(desk, args):
        warn_secret_store(desk)
        return _key_output(desk, args.account, desk.keys.generate(args.account, args.instance_url),
                           "Generated a key for")

    @key.command("regenerate", "replace an account's key (the old one stops working at once)", ACCOUNT)
    def key_regenerate(desk, args):
        warn_secret_store(desk)
        return _key_output(desk, args.account, desk.keys.regenerate(args.account), "Regenerated the key of")

    @key.command("activate", "let the account's tracker in again", ACCOUNT)
    def key_activate(desk, args):
        desk.keys.set_active(args.account, True)
        return _key_output(desk, args.account, None, "Activated the key of")

    @key.command("deactivate", "lock the account's tracker out", ACCOUNT)
    def key_deactivate(desk, args):
        desk.keys.set_active(args.account, False)
        return _key_output(desk, args.account, None, "Deactivated the key of")

    @key.command("show", "print the key (from the keyring)", ACCOUNT)
    def key_show(desk, args):
        warn_secret_store(desk)
        return _key_output(desk, args.account, desk.keys.reveal(args.account), "Key of")

    @key.command("env", "print the variables a tracker container gets from its account", ACCOUNT)
    def key_env(desk, args):
        from giftdesk.endpoint.addressing import advertised_base_url

        settings = desk.settings.all()
        env = desk.keys.tracker_environment(args.account, advertised_base_url(settings, settings["endpoint.port"]))
        return Output(env, "\n".join(f"{name}={value}" for name, value in env.items()))

    @key.command("set-url", "set the tracker's instance URL", ACCOUNT,
                 arg("--url", required=True, help='the URL, or "" to clear it'))
    def key_set_url(desk, args):
        desk.keys.set_instance_url(args.account, args.url or None)
        return _key_output(desk, args.account, None, "Instance URL set for")

    @key.command("list", "list all keys (masked)", arg("--search"), arg("--status", choices=["active", "inactive"]))
    def key_list(desk, args):
        rows = desk.keys.list(args.search, args.status)
        return Output([r.to_json() for r in rows],
                      Table(["ACCOUNT", "CUSTOMER", "HANDLE", "KEY", "STATUS", "INSTANCE URL", "LAST ACCESSED"],
                            [(r.account_id, r.customer_name, f"@{r.tiktok_username}", r.masked_key[-9:], r.status,
                              r.instance_url, r.last_accessed_at) for r in rows]))
