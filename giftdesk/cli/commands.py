"""The subcommands. Each handler opens the Desk, calls one service and prints the result."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

from giftdesk.cli.output import emit_json, fields, table, warn
from giftdesk.desk import Desk
from giftdesk.docker_engine import DockerEngine
from giftdesk.errors import ValidationError
from giftdesk.logs import setup_logging
from giftdesk.paths import resolve_data_dir
from giftdesk.services.context import Actor


def open_desk(args, migrate: bool = True) -> Desk:
    # The person running the CLI owns the data directory: they act with the admin role.
    setup_logging(resolve_data_dir(args.data_dir).ensure().logs)
    return Desk.open(args.data_dir, args.database_url, actor=Actor(f"cli:{getpass.getuser()}", "admin"), migrate=migrate)


def _secret_store_warning(desk: Desk) -> None:
    if desk.secrets.warning:
        warn(desk.secrets.warning)


def _read_password(args, prompt: str = "Password") -> str:
    if args.password is not None:
        return args.password
    if not sys.stdin.isatty():
        raise ValidationError("Give --password, or run in a terminal to be asked for it.", field="password")
    first = getpass.getpass(f"{prompt}: ")
    if getpass.getpass(f"{prompt} (again): ") != first:
        raise ValidationError("The two passwords differ.", field="password")
    return first


def _confirm(args, question: str) -> None:
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise ValidationError(f"{question} Refusing without --yes (no terminal to ask).", field="yes")
    answer = input(f"{question} Type 'yes' to go on: ")
    if answer.strip().lower() != "yes":
        raise ValidationError("Cancelled; nothing was changed.")


# ---- admin ---------------------------------------------------------------------------------
def admin_create(args) -> None:
    desk = open_desk(args)
    row = desk.admins.create(args.username, _read_password(args), args.role)
    emit_json(row.to_json()) if args.json else print(f"Created {row.role} '{row.username}'" + (" (super admin)" if row.is_super else ""))


def admin_list(args) -> None:
    rows = open_desk(args).admins.list()
    if args.json:
        return emit_json([r.to_json() for r in rows])
    table(["ID", "USERNAME", "ROLE", "SUPER", "CREATED", "LAST LOGIN"],
          [(r.id, r.username, r.role, r.is_super, r.created_at, r.last_login_at) for r in rows])


def admin_reset_password(args) -> None:
    desk = open_desk(args)
    desk.admins.reset_password(args.username, _read_password(args, "New password"))
    emit_json({"username": args.username, "reset": True}) if args.json else print(f"Password of '{args.username}' reset.")


def admin_set_role(args) -> None:
    row = open_desk(args).admins.set_role(args.username, args.role)
    emit_json(row.to_json()) if args.json else print(f"'{row.username}' is now {row.role}.")


def admin_delete(args) -> None:
    desk = open_desk(args)
    _confirm(args, f"Delete administrator '{args.username}'?")
    desk.admins.delete(args.username)
    emit_json({"deleted": args.username}) if args.json else print(f"Deleted '{args.username}'.")


# ---- customers -----------------------------------------------------------------------------
def customer_add(args) -> None:
    row = open_desk(args).customers.create(args.name, args.email, args.company, args.notes)
    emit_json(row.to_json()) if args.json else print(f"Added customer {row.id}: {row.name}")


def customer_list(args) -> None:
    rows = open_desk(args).customers.list(args.search)
    if args.json:
        return emit_json([r.to_json() for r in rows])
    table(["ID", "NAME", "EMAIL", "COMPANY", "ACCOUNTS", "CREATED"],
          [(r.id, r.name, r.email, r.company, r.account_count, r.created_at) for r in rows])


def customer_show(args) -> None:
    row = open_desk(args).customers.get(args.id)
    if args.json:
        return emit_json(row.to_json())
    fields([("ID", row.id), ("Name", row.name), ("E-mail", row.email), ("Company", row.company),
            ("Notes", row.notes), ("Created", row.created_at), ("Updated", row.updated_at)])
    print()
    table(["ACCOUNT", "HANDLE", "KEY", "STATUS", "INSTANCE URL", "LAST ACCESSED"],
          [(a.id, a.handle, a.has_key, a.key_status, a.instance_url, a.last_accessed_at) for a in row.accounts])


def customer_edit(args) -> None:
    changes = {k: getattr(args, k) for k in ("name", "email", "company", "notes") if getattr(args, k) is not None}
    if not changes:
        raise ValidationError("Nothing to change: give --name, --email, --company or --notes.")
    row = open_desk(args).customers.update(args.id, **changes)
    emit_json(row.to_json()) if args.json else print(f"Updated customer {row.id}: {row.name}")


def customer_delete(args) -> None:
    desk = open_desk(args)
    impact = desk.customers.delete_impact(args.id)
    _confirm(args, impact.sentence())
    desk.customers.delete(args.id)
    emit_json({"deleted": args.id, **impact.to_json()}) if args.json else print(f"Deleted customer {args.id}. {impact.sentence()}")


# ---- TikTok accounts -----------------------------------------------------------------------
def account_add(args) -> None:
    desk = open_desk(args)
    row = desk.customers.add_account(args.customer, args.tiktok)
    api_key = None
    if args.generate_key:
        _secret_store_warning(desk)
        api_key = desk.keys.generate(row.id, args.instance_url)
    if args.json:
        data = desk.customers.get_account(row.id).to_json()
        if api_key:
            data["apiKey"] = api_key
        return emit_json(data)
    print(f"Added account {row.id}: {row.handle}" + (f" with API key {api_key}" if api_key else ""))


def account_list(args) -> None:
    rows = open_desk(args).customers.list_accounts(args.customer)
    if args.json:
        return emit_json([r.to_json() for r in rows])
    table(["ID", "CUSTOMER", "HANDLE", "KEY", "STATUS", "LAST ACCESSED"],
          [(r.id, r.customer_id, r.handle, r.has_key, r.key_status, r.last_accessed_at) for r in rows])


def account_delete(args) -> None:
    desk = open_desk(args)
    impact = desk.customers.account_delete_impact(args.id)
    _confirm(args, impact.sentence())
    desk.customers.delete_account(args.id)
    emit_json({"deleted": args.id, **impact.to_json()}) if args.json else print(f"Deleted account {args.id}. {impact.sentence()}")


# ---- API keys ------------------------------------------------------------------------------
def _print_key(args, desk: Desk, account_id: int, api_key: str | None, verb: str) -> None:
    row = desk.keys.get(account_id)
    if args.json:
        return emit_json(row.to_json(api_key))
    print(f"{verb} @{row.tiktok_username} (account {account_id}), status {row.status}")
    if api_key:
        print(api_key)


def key_generate(args) -> None:
    desk = open_desk(args)
    _secret_store_warning(desk)
    _print_key(args, desk, args.account, desk.keys.generate(args.account, args.instance_url), "Generated a key for")


def key_regenerate(args) -> None:
    desk = open_desk(args)
    _secret_store_warning(desk)
    _print_key(args, desk, args.account, desk.keys.regenerate(args.account), "Regenerated the key of")


def key_activate(args) -> None:
    desk = open_desk(args)
    desk.keys.set_active(args.account, True)
    _print_key(args, desk, args.account, None, "Activated the key of")


def key_deactivate(args) -> None:
    desk = open_desk(args)
    desk.keys.set_active(args.account, False)
    _print_key(args, desk, args.account, None, "Deactivated the key of")


def key_show(args) -> None:
    desk = open_desk(args)
    _secret_store_warning(desk)
    _print_key(args, desk, args.account, desk.keys.reveal(args.account), "Key of")


def key_set_url(args) -> None:
    desk = open_desk(args)
    desk.keys.set_instance_url(args.account, args.url or None)
    _print_key(args, desk, args.account, None, "Instance URL set for")


def key_list(args) -> None:
    rows = open_desk(args).keys.list(args.search, args.status)
    if args.json:
        return emit_json([r.to_json() for r in rows])
    table(["ACCOUNT", "CUSTOMER", "HANDLE", "KEY", "STATUS", "INSTANCE URL", "LAST ACCESSED"],
          [(r.account_id, r.customer_name, f"@{r.tiktok_username}", r.masked_key[-9:], r.status, r.instance_url,
            r.last_accessed_at) for r in rows])


def key_env(args) -> None:
    from giftdesk.endpoint.addressing import advertised_base_url

    desk = open_desk(args)
    settings = desk.settings.all()
    env = desk.keys.tracker_environment(args.account, advertised_base_url(settings, settings["endpoint.port"]))
    if args.json:
        return emit_json(env)
    for name, value in env.items():
        print(f"{name}={value}")


# ---- tracker data --------------------------------------------------------------------------
def data_get(args) -> None:
    emit_json(open_desk(args).tracker_data.get(args.account, args.type))


def data_set(args) -> None:
    raw = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    try:
        document = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{args.file} is not valid JSON: {exc}", field="file") from None
    desk = open_desk(args)
    if args.type == "gift-groups":
        saved = desk.tracker_data.save_gift_groups(args.account, document.get("groups", document) if isinstance(document, dict) else document)
    elif args.type == "config":
        saved = desk.tracker_data.save_config(args.account, document)
    else:
        raise ValidationError("Only gift-groups and config are edited from the console; analytics come from trackers.",
                              field="type")
    emit_json(saved) if args.json else print(f"Saved {args.type} of account {args.account}.")


# ---- settings ------------------------------------------------------------------------------
def settings_list(args) -> None:
    from giftdesk.services.settings import SPECS

    desk = open_desk(args)
    values = desk.settings.all()
    if args.json:
        return emit_json({**values, "fampage.api_key_set": desk.settings.has_fampage_api_key()})
    table(["KEY", "VALUE", "DESCRIPTION"], [(k, json.dumps(v), SPECS[k].label) for k, v in values.items()])
    print(f"\nFampage API key: {'set' if desk.settings.has_fampage_api_key() else 'not set'} ({desk.secrets.backend_name})")


def settings_set(args) -> None:
    try:
        value = json.loads(args.value)
    except json.JSONDecodeError:
        value = args.value  # plain text values need no quotes
    if isinstance(value, float):
        value = args.value  # decimals stay exact text, never float
    merged = open_desk(args).settings.update({args.key: value})
    emit_json({args.key: merged[args.key]}) if args.json else print(f"{args.key} = {json.dumps(merged[args.key])}")


def settings_fampage_key(args) -> None:
    desk = open_desk(args)
    _secret_store_warning(desk)
    if args.clear:
        desk.settings.set_fampage_api_key(None)
    else:
        value = args.value
        if value is None:
            if not sys.stdin.isatty():
                value = sys.stdin.readline().strip()
            else:
                value = getpass.getpass("Fampage API key: ")
        desk.settings.set_fampage_api_key(value)
    state = {"set": desk.settings.has_fampage_api_key(), "backend": desk.secrets.backend_name}
    emit_json(state) if args.json else print(f"Fampage API key {'stored in ' + state['backend'] if state['set'] else 'removed'}.")


# ---- database ------------------------------------------------------------------------------
def db_upgrade(args) -> None:
    from giftdesk.db.migrate import current_revision, head_revision, upgrade

    # No Desk here: it would read tables that may not exist before the upgrade.
    from giftdesk.db import Database
    from giftdesk.paths import resolve_database_url

    paths = resolve_data_dir(args.data_dir).ensure()
    setup_logging(paths.logs)
    db = Database(resolve_database_url(paths, args.database_url))
    before = current_revision(db)
    copy = upgrade(db, paths.backups)
    db.dispose()
    result = {"from": before, "to": head_revision(), "copy": copy}
    emit_json(result) if args.json else print(
        f"Schema at {result['to']}" + (f" (was {before}; copy at {copy})" if before != result["to"] else " (already current)")
    )


def backup_create(args) -> None:
    target = open_desk(args).backups.create(args.path)
    result = {"path": str(target), "bytes": target.stat().st_size}
    emit_json(result) if args.json else print(f"Backup written to {target} ({result['bytes']} bytes)")


def backup_restore(args) -> None:
    from giftdesk.db.backup import check_giftdesk_database

    path = Path(args.path)
    check_giftdesk_database(path)  # before touching anything, even the data directory
    desk = open_desk(args, migrate=False)
    desk.backups.check(path)
    _confirm(args, f"Replace the database {desk.backups.live_database()} with {path}? "
                   f"The current one is kept in {desk.paths.backups}.")
    kept = desk.backups.restore(path)
    result = {"restored": str(path), "previous": str(kept)}
    emit_json(result) if args.json else print(f"Restored {path}. The previous database is at {kept}.")


# ---- audit, status, serve --------------------------------------------------------------------
def audit_list(args) -> None:
    desk = open_desk(args)
    rows = desk.audit.list(limit=args.limit)
    if args.json:
        return emit_json([{"id": r.id, "at": r.at, "actor": r.actor, "action": r.action, "targetType": r.target_type,
                           "targetId": r.target_id, "summary": r.summary} for r in rows])
    table(["AT", "ACTOR", "ACTION", "SUMMARY"], [(r.at, r.actor, r.action, r.summary) for r in rows])


def status(args) -> None:
    from giftdesk.db.migrate import current_revision

    desk = open_desk(args)
    data = {
        "version": __import__("giftdesk").__version__,
        "dataDir": str(desk.paths.root),
        "database": desk.db.display_name,
        "schema": current_revision(desk.db),
        "keyringBackend": desk.secrets.backend_name,
        "keyringWarning": desk.secrets.warning,
        "administrators": desk.admins.count(),
        "customers": len(desk.customers.list()),
    }
    engine = DockerEngine(str(desk.settings.get("docker.host") or ""))
    docker_state = engine.probe()
    engine.close()
    if args.json:
        return emit_json({**data, "docker": docker_state.to_json()})
    docker_line = docker_state.label.removeprefix("Docker: ")
    if not docker_state.reachable:
        docker_line += f" ({docker_state.error})"
    fields([*data.items(), ("docker", docker_line), ("dockerHost", docker_state.host or "default")])


def serve(args) -> int:
    from giftdesk.runtime.headless import serve as serve_runtime

    if args.port is not None and not 0 <= args.port <= 65535:
        raise ValidationError("--port must be between 0 and 65535.", field="port")
    desk = open_desk(args)
    setup_logging(desk.paths.logs, console=True)
    try:
        return serve_runtime(desk, port=args.port, bind=args.bind, hosts=args.host,
                              rate_limit_per_minute=args.rate_limit, port_file=args.port_file)
    finally:
        desk.close()


# ---- wiring --------------------------------------------------------------------------------
def register(sub, common) -> None:
    def add(parent, name, handler, help_text):
        parser = parent.add_parser(name, parents=[common], help=help_text, description=help_text)
        parser.set_defaults(handler=handler)
        return parser

    def group(name, help_text):
        parser = sub.add_parser(name, help=help_text, description=help_text)
        return parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True)

    admin = group("admin", "administrators who log in to the console")
    p = add(admin, "create", admin_create, "create an administrator (the first one becomes the super admin)")
    p.add_argument("username")
    p.add_argument("--password", help="the password (asked for when omitted)")
    p.add_argument("--role", default="admin", choices=["admin", "operator", "viewer"])
    add(admin, "list", admin_list, "list administrators")
    p = add(admin, "reset-password", admin_reset_password, "set a new password (for the owner of the data directory)")
    p.add_argument("username")
    p.add_argument("--password", help="the new password (asked for when omitted)")
    p = add(admin, "set-role", admin_set_role, "change an administrator's role")
    p.add_argument("username")
    p.add_argument("role", choices=["admin", "operator", "viewer"])
    p = add(admin, "delete", admin_delete, "delete an administrator")
    p.add_argument("username")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    customer = group("customer", "customers and their details")
    p = add(customer, "add", customer_add, "add a customer")
    p.add_argument("--name", required=True)
    p.add_argument("--email")
    p.add_argument("--company")
    p.add_argument("--notes")
    p = add(customer, "list", customer_list, "list customers")
    p.add_argument("--search", help="match name, e-mail, company, notes or a TikTok handle")
    p = add(customer, "show", customer_show, "show a customer with their TikTok accounts")
    p.add_argument("id", type=int)
    p = add(customer, "edit", customer_edit, "change a customer's details (\"\" clears a field)")
    p.add_argument("id", type=int)
    p.add_argument("--name")
    p.add_argument("--email")
    p.add_argument("--company")
    p.add_argument("--notes")
    p = add(customer, "delete", customer_delete, "delete a customer with their accounts, keys and tracker data")
    p.add_argument("id", type=int)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    account = group("account", "TikTok accounts of customers")
    p = add(account, "add", account_add, "add a TikTok account to a customer")
    p.add_argument("--customer", type=int, required=True, help="customer id")
    p.add_argument("--tiktok", required=True, help="TikTok handle, e.g. @creator")
    p.add_argument("--generate-key", action="store_true", help="also issue the tracker API key")
    p.add_argument("--instance-url", help="the tracker's URL (with --generate-key)")
    p = add(account, "list", account_list, "list TikTok accounts")
    p.add_argument("--customer", type=int, help="only this customer's accounts")
    p = add(account, "delete", account_delete, "delete an account with its API key and tracker data")
    p.add_argument("id", type=int)
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    key = group("key", "tracker API keys (one per TikTok account)")
    for name, handler, text in [
        ("generate", key_generate, "issue the first API key of an account"),
        ("regenerate", key_regenerate, "replace an account's key (the old one stops working at once)"),
        ("activate", key_activate, "let the account's tracker in again"),
        ("deactivate", key_deactivate, "lock the account's tracker out"),
        ("show", key_show, "print the key (from the keyring)"),
        ("env", key_env, "print the environment a tracker container gets"),
        ("set-url", key_set_url, "set the tracker's instance URL"),
    ]:
        p = add(key, name, handler, text)
        p.add_argument("--account", type=int, required=True, help="TikTok account id")
        if name == "generate":
            p.add_argument("--instance-url")
        if name == "set-url":
            p.add_argument("--url", required=True, help='the URL, or "" to clear it')
    p = add(key, "list", key_list, "list all keys (masked)")
    p.add_argument("--search")
    p.add_argument("--status", choices=["active", "inactive"])

    data = group("data", "documents trackers load and save (gift groups, config, analytics)")
    p = add(data, "get", data_get, "print a tracker document as JSON")
    p.add_argument("--account", type=int, required=True)
    p.add_argument("--type", required=True, choices=["gift-groups", "config", "analytics"])
    p = add(data, "set", data_set, "replace gift groups or config from a JSON file ('-' for stdin)")
    p.add_argument("--account", type=int, required=True)
    p.add_argument("--type", required=True, choices=["gift-groups", "config"])
    p.add_argument("--file", required=True)

    settings = group("settings", "console settings")
    add(settings, "list", settings_list, "list settings")
    p = add(settings, "set", settings_set, "change one setting")
    p.add_argument("key")
    p.add_argument("value")
    p = add(settings, "fampage-key", settings_fampage_key, "store the Fampage API key in the keyring")
    p.add_argument("--value", help="the key (read from stdin or asked for when omitted)")
    p.add_argument("--clear", action="store_true", help="remove the stored key")

    db = group("db", "database maintenance")
    add(db, "upgrade", db_upgrade, "migrate the schema to this version (copying the file first)")

    backup = group("backup", "consistent copies of the SQLite database")
    p = add(backup, "create", backup_create, "write a backup (safe while the console runs)")
    p.add_argument("path", nargs="?", help="file or folder (default: the data directory's backups/)")
    p = add(backup, "restore", backup_restore, "replace the database with a backup")
    p.add_argument("path")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    audit = group("audit", "who changed what")
    p = add(audit, "list", audit_list, "recent audit entries, newest first")
    p.add_argument("--limit", type=int, default=50)

    add(sub, "status", status, "data directory, database, keyring backend")
    p = add(sub, "serve", serve, "run the background work without the window: the tracker endpoint, schedules and syncs (until Ctrl+C or SIGTERM)")
    p.add_argument("--host", action="append", metavar="ADDRESS",
                   help="address to listen on (repeatable; overrides --bind)")
    p.add_argument("--port", type=int, help="port (default: the endpoint.port setting; 0 = any free port)")
    p.add_argument("--bind", choices=["local", "all"],
                   help="local: loopback and the Docker bridge; all: every interface (default: setting)")
    p.add_argument("--rate-limit", type=int, metavar="PER_MINUTE", help="requests per minute per API key")
    p.add_argument("--port-file", help="write the port to this file once listening")
