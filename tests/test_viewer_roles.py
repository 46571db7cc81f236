"""A viewer reads and changes nothing: every public method of every service on a Desk is walked.

Each method is classified below: open to a viewer (reads, and what anyone does for themselves),
plumbing (helpers other services call inside their own checks), or refused (called here with
plausible arguments on a seeded database; it must raise PermissionDeniedError and change no row).
A method nobody classified fails the test, so a new one is covered the day it is added.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from sqlalchemy import select

from giftdesk.social.validation import validate_sync
from giftdesk.db.fleet_models import Instance
from giftdesk.db.models import Base
from giftdesk.core.errors import PermissionDeniedError
from giftdesk.fleet.spec import InstanceSettings
from giftdesk.core.context import Actor, ServiceContext
from giftdesk.core.events import EventBus
from tests.support.fake_fampage import API_KEY, FakeFampage

LINK = "https://www.tiktok.com/@seeded/video/1"

VIEWER_MAY = {
    "alerts": {"get", "instance_ids", "list", "open_subjects", "rule", "rules", "unused_keys"},
    "admins": {"count", "needs_first_admin", "list", "locked_until",
               "authenticate", "change_password"},  # logging in, and one's own password
    "analytics": {"companies", "company_overview", "history", "summary", "target"},
    "audit": {"list"},
    "backups": {"live_database", "target_path"},
    "companies": {"get", "list", "multiplier_for"},
    "customers": {"get", "list", "list_accounts", "get_account", "delete_impact", "account_delete_impact"},
    "engines": {"backend_url_of", "engine", "exists", "instance_counts", "instances_on", "list_engines",
                "on_this_computer", "sharing_ports_with", "status", "statuses", "tracker_host_of",
                "unreachable_since", "named_reachability", "suggest_engine"},
    "fampage": {"balance", "calls", "catalogue_age", "last_balance", "low_balance_threshold", "networks",
                "rate_history", "service", "services"},
    # reconcile and recover: a viewer gets the answer and nothing is written (interrupted operations,
    # relinks and missing containers wait for an operator or the runtime).
    "fleet": {"adopted_container_ids", "adoption_hints", "attach_state", "backend_url", "events", "get", "health_now", "list",
              "next_free_port", "of_account", "port_taken", "port_uses", "public_url_for", "reconcile", "recover", "resolve",
              "stats_now", "template", "templates", "tracker_state", "tracker_url", "instance_id_of_uid",
              # Swarm services: the engine's role, the services' states, their logs.
              "swarm_role", "service_states", "missing_services", "instance_id_of_service", "instance_logs",
              "open_instance_log_stream"},
    "invoice_documents": {"pdf", "month_zip"},
    "invoices": {"get", "list", "issuer", "number_to_take"},
    "keys": {"get", "list"},
    "orders": {"get", "invoice_of", "last_synced_at", "list", "preview", "rows", "stats"},
    "scheduled_backups": {"keep", "last_result", "list", "schedule"},
    "settings": {"all", "check", "environment_problems", "get", "has_fampage_api_key", "sources"},
    "social": {"check_fields", "delete_impact", "export_history_csv", "export_profiles_csv", "get", "growth",
               "history", "list", "metrics", "preview_import", "profile_for_account", "profile_for_username",
               "recent_syncs", "resolve"},
    "tracker_data": {"get"},
}

# Called by other services inside their own role checks (they take the caller's session), or
# wiring the HTTP client; never an action of their own.
PLUMBING = {
    "fampage": {"client", "close", "record_call", "share_connection", "use_http"},
    "engines": {"adapter", "believed_unreachable", "clients", "close", "note_reachable", "note_unreachable"},
    "fleet": {"close", "docker_for", "record_event", "swarm", "swarm_on"},
    "invoices": {"credit_for_order", "draft_for_order", "refresh_order_revenue"},
    "keys": {"issue"},
}


def _refused(s):
    """What a viewer must not do, with plausible arguments from the seed ``s``."""
    return {
        "alerts": {
            "add_rule": lambda d: d.alerts.add_rule("another rule", "instance-down"),
            "edit_rule": lambda d: d.alerts.edit_rule(s["alert_rule"], minutes=5),
            "remove_rule": lambda d: d.alerts.remove_rule(s["alert_rule"]),
            "ack": lambda d: d.alerts.ack(s["alert"]),
            "snooze": lambda d: d.alerts.snooze(s["alert"], 30),
            "open_alert": lambda d: d.alerts.open_alert(s["alert_rule_id"], "instance 99", "down"),
            "resolve": lambda d: d.alerts.resolve(s["alert_rule_id"], "instance 1"),
            "record_delivery": lambda d: d.alerts.record_delivery(s["alert"], 1, "HTTP 500"),
        },
        "admins": {
            "create": lambda d: d.admins.create("newcomer", "newcomer password 1", role="viewer"),
            "delete": lambda d: d.admins.delete("op"),
            "unlock": lambda d: d.admins.unlock("op"),
            "reset_password": lambda d: d.admins.reset_password("op", "a new password 1"),
            "set_role": lambda d: d.admins.set_role("watcher", "admin"),
        },
        "backups": {
            "create": lambda d: d.backups.create(s["backup_target"]),
            "check": lambda d: d.backups.check(s["backup"]),
            "restore": lambda d: d.backups.restore(s["backup"]),
            "record_restore": lambda d: d.backups.record_restore(Path(s["backup"]), Path(s["backup"])),
        },
        "scheduled_backups": {
            "run": lambda d: d.scheduled_backups.run(),
            "set_schedule": lambda d: d.scheduled_backups.set_schedule("daily 02:00", 3),
        },
        "companies": {
            "create": lambda d: d.companies.create("Another company"),
            "update": lambda d: d.companies.update(s["company"], name="Renamed"),
            "archive": lambda d: d.companies.archive(s["company"]),
            "submit": lambda d: d.companies.submit({"name": "Walk-in Ltd"}, "127.0.0.1"),
            "approve": lambda d: d.companies.approve(s["pending_company"]),
            "reject": lambda d: d.companies.reject(s["pending_company"], "unknown to us"),
        },
        "customers": {
            "create": lambda d: d.customers.create("New customer"),
            "update": lambda d: d.customers.update(s["customer"], name="Renamed"),
            "delete": lambda d: d.customers.delete(s["customer"]),
            "add_account": lambda d: d.customers.add_account(s["customer"], "someone_new"),
            "add_account_with_key": lambda d: d.customers.add_account_with_key(s["customer"], "someone_else"),
            "delete_account": lambda d: d.customers.delete_account(s["account"]),
        },
        "fampage": {
            "ensure_catalogue": lambda d: d.fampage.ensure_catalogue(),
            "refresh_services": lambda d: d.fampage.refresh_services(),
            "prune_calls": lambda d: d.fampage.prune_calls(0),
            "set_client_description": lambda d: d.fampage.set_client_description(101, "Followers"),
        },
        "engines": {
            "add": lambda d: d.engines.add("second", "unix:///var/run/docker.sock"),
            "edit": lambda d: d.engines.edit("second", backend_url="http://192.0.2.1:8080/api/instances"),
            "remove": lambda d: d.engines.remove("second", force=True),
        },
        "fleet": {
            "adopt": lambda d: d.fleet.adopt("0123456789ab"),
            "apply_public_urls": lambda d: d.fleet.apply_public_urls(),
            "bulk": lambda d: d.fleet.bulk("stop", [s["instance"]]),
            "note_missing": lambda d: d.fleet.note_missing(s["instance"], "seeded"),
            "clone": lambda d: d.fleet.clone(s["instance"], "tracker-clone"),
            "create": lambda d: d.fleet.create("tracker-new", s["keyless_account"], start=False),
            "dash_password": lambda d: d.fleet.dash_password(s["instance"]),
            "delete": lambda d: d.fleet.delete(s["instance"]),
            "delete_template": lambda d: d.fleet.delete_template(s["template"]),
            "edit": lambda d: d.fleet.edit(s["instance"], schedule_start="08:00"),
            "live_command": lambda d: d.fleet.live_command(s["instance"], "connect"),
            "move": lambda d: d.fleet.move(s["instance"], "elsewhere"),
            "recreate": lambda d: d.fleet.recreate(s["instance"]),
            "remove_orphan": lambda d: d.fleet.remove_orphan("0123456789ab"),
            "restart": lambda d: d.fleet.restart(s["instance"]),
            "save_template": lambda d: d.fleet.save_template("another", InstanceSettings()),
            "set_schedule": lambda d: d.fleet.set_schedule(s["instance"], "08:00", "20:00"),
            "start": lambda d: d.fleet.start(s["instance"]),
            "stop": lambda d: d.fleet.stop(s["instance"]),
        },
        "invoices": {
            "create_for_order": lambda d: d.invoices.create_for_order(s["order"]),
            "issue": lambda d: d.invoices.issue(s["draft_invoice"]),
            "set_tax": lambda d: d.invoices.set_tax(s["draft_invoice"], "20", "VAT"),
            "set_line_description": lambda d: d.invoices.set_line_description(s["draft_invoice"], 1, "Followers"),
            "pay": lambda d: d.invoices.pay(s["issued_invoice"]),
            "void": lambda d: d.invoices.void(s["issued_invoice"]),
        },
        "keys": {
            "generate": lambda d: d.keys.generate(s["keyless_account"]),
            "regenerate": lambda d: d.keys.regenerate(s["account"]),
            "reveal": lambda d: d.keys.reveal(s["account"]),
            "set_active": lambda d: d.keys.set_active(s["account"], False),
            "set_instance_url": lambda d: d.keys.set_instance_url(s["account"], "http://127.0.0.1:9999"),
            "tracker_environment": lambda d: d.keys.tracker_environment(s["account"], "http://127.0.0.1:8080"),
        },
        "orders": {
            "place": lambda d: d.orders.place(s["company"], 101, LINK, 100),
            "reconcile": lambda d: d.orders.reconcile(s["order"], not_placed=True),
            "create_manual": lambda d: d.orders.create_manual(s["company"], "Followers", LINK, 100, "1.00"),
            "set_status": lambda d: d.orders.set_status(s["order"], "Completed"),
            "sync": lambda d: d.orders.sync(),
            "sync_open_orders": lambda d: d.orders.sync_open_orders(),
            "refill": lambda d: d.orders.refill(s["order"]),
            "refill_status": lambda d: d.orders.refill_status(s["order"]),
            "cancel": lambda d: d.orders.cancel([s["order"]]),
        },
        "settings": {
            "update": lambda d: d.settings.update({"endpoint.port": 9000}),
            "fampage_api_key": lambda d: d.settings.fampage_api_key(),
            "set_fampage_api_key": lambda d: d.settings.set_fampage_api_key("another-key"),
        },
        "social": {
            "create": lambda d: d.social.create("Another profile"),
            "update": lambda d: d.social.update(s["profile"], display_name="Renamed"),
            "delete": lambda d: d.social.delete(s["profile"]),
            "sync": lambda d: d.social.sync(s["profile"], "tiktok", 200, source="cli"),
            "sync_batch": lambda d: d.social.sync_batch(s["profile"], {"tiktok": validate_sync("tiktok", 300)},
                                                        source="cli"),
            "record_failure": lambda d: d.social.record_failure(s["profile"], "tiktok", "cli", "refused"),
            "apply_import": lambda d: d.social.apply_import(s["import_preview"]),
        },
        "tracker_data": {
            "save_config": lambda d: d.tracker_data.save_config(s["account"], {"theme": "light"}),
            "save_gift_groups": lambda d: d.tracker_data.save_gift_groups(s["account"], {}),
        },
    }


FEATURE_PACKAGES = ("giftdesk.alerts.", "giftdesk.accounts.", "giftdesk.social.", "giftdesk.fampage.", "giftdesk.fleet.",
                    "giftdesk.system.")


def services_of(desk) -> dict[str, object]:
    """Every service a Desk offers: its public attributes that are objects of the domain layer."""
    not_services = (ServiceContext, EventBus, Actor)
    found = {}
    for name in dir(desk):
        if name.startswith("_"):
            continue
        value = getattr(desk, name)
        module = type(value).__module__
        if module.startswith(FEATURE_PACKAGES) and not isinstance(value, not_services):
            found[name] = value
    return found


def public_methods(service) -> set[str]:
    return {name for name, member in inspect.getmembers(type(service))
            if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))}


def dump(desk) -> dict[str, list]:
    with desk.db.read_session() as session:
        return {table.name: session.execute(select(table).order_by(*table.primary_key.columns)).all()
                for table in Base.metadata.sorted_tables}


def seed(desk, fake, tmp_path) -> dict:
    desk.settings.update({"fampage.base_url": fake.url})
    desk.settings.set_fampage_api_key(API_KEY)
    desk.fampage.backoff = 0.01
    desk.admins.create("root", "root password 1")
    desk.admins.create("op", "operator password 1", role="operator")
    desk.admins.create("watcher", "watch password 1", role="viewer")
    customer = desk.customers.create("Customer")
    account, _key = desk.customers.add_account_with_key(customer.id, "seeded")
    keyless = desk.customers.add_account(customer.id, "keyless")
    desk.tracker_data.save_config(account.id, {"theme": "dark"})
    company = desk.companies.create("Acme")
    pending = desk.companies.submit({"name": "Pending Ltd", "email": "ops@pending.example"}, "203.0.113.9")
    desk.fampage.ensure_catalogue()
    order, _draft = desk.orders.place(company.id, 101, LINK, 100)
    issued = desk.invoices.issue(desk.orders.invoice_of(order.id).id)
    fake.set_status(order.provider_order_id, "Completed", remains=0)
    desk.orders.sync([order.id])
    desk.orders.refill(order.id)  # so that asking the refill's status is plausible
    manual = desk.orders.create_manual(company.id, "Likes", LINK + "0", 50, "0.50")
    profile = desk.social.create("Profile")
    desk.social.sync(profile.id, "tiktok", 100, source="cli")
    template = desk.fleet.save_template("base", InstanceSettings())
    with desk.db.session() as session:
        instance = Instance(name="tracker-one", account_id=account.id, tiktok_username="seeded", port=18001,
                            backend_api_url="http://127.0.0.1:8080", image="busybox")
        session.add(instance)
        session.flush()
        instance_id = instance.id
    rule = desk.alerts.add_rule("tracker down", "instance-down")
    alert = desk.alerts.open_alert(rule.id, "instance 1", "Instance tracker-one is exited").alert
    backup = tmp_path / "seed-backup.db"
    if desk.db.sqlite_path is not None:
        desk.backups.create(backup)
    return {"customer": customer.id, "account": account.id, "keyless_account": keyless.id, "company": company.id,
            "order": order.id, "issued_invoice": issued.id, "pending_company": pending.id, "draft_invoice": desk.orders.invoice_of(manual.id).id,
            "profile": profile.id, "template": template.id, "instance": instance_id, "backup": backup,
            "backup_target": tmp_path / "viewer-backup.db",
            "alert_rule": rule.name, "alert_rule_id": rule.id, "alert": alert.id,
            "import_preview": desk.social.preview_import(f"profile,platform,followers\n{profile.id},tiktok,300\n")}


@pytest.fixture
def fake():
    with FakeFampage() as server:
        yield server


def test_a_viewer_is_refused_every_change_and_nothing_changes(any_db_desk, fake, tmp_path):
    desk = any_db_desk
    seeded = seed(desk, fake, tmp_path)
    viewer = desk.as_actor(desk.admins.authenticate("watcher", "watch password 1"))
    services = services_of(viewer)
    refused = _refused(seeded)
    assert set(services) >= set(refused) | {"fleet", "orders", "fampage", "backups", "social"}
    fampage_calls = fake.action_counts()
    before = dump(desk)
    walked, wrong = [], []
    for name, service in sorted(services.items()):
        methods, may, plumbing = public_methods(service), VIEWER_MAY.get(name, set()), PLUMBING.get(name, set())
        listed = may | plumbing | set(refused.get(name, {}))
        assert not (listed - methods), f"{name}: classified methods that do not exist: {sorted(listed - methods)}"
        assert not (methods - listed), (f"{name}: classify {sorted(methods - listed)} in {__name__}: what a viewer "
                                        "may call, plumbing, or refused with plausible arguments")
        assert not ((may | plumbing) & set(refused.get(name, {}))), f"{name}: a method is classified twice"
        for method, call in sorted(refused.get(name, {}).items()):
            walked.append(f"{name}.{method}")
            try:
                call(viewer)
                wrong.append(f"{name}.{method}: allowed")
            except PermissionDeniedError as exc:
                assert "watcher is a viewer" in str(exc)
            except Exception as exc:  # noqa: BLE001 - listed with the rest, then the test fails
                wrong.append(f"{name}.{method}: {type(exc).__name__} instead of a refusal: {exc}")
            if dump(desk) != before:
                wrong.append(f"{name}.{method}: changed the database")
                before = dump(desk)
    assert not wrong, "\n".join(wrong)
    assert len(walked) == sum(len(calls) for calls in refused.values())
    assert not seeded["backup_target"].exists()
    assert fake.action_counts() == fampage_calls  # nothing was asked of Fampage either


# The move-in imports are made by the front ends (the desk cannot import them): walked here alike.
IMPORTS_VIEWER_MAY = {"preview"}


def test_a_viewer_previews_the_move_in_imports_and_is_refused_running_them(desk, tmp_path):
    from giftdesk.move_in.hyperbuds import HyperBudsImport
    from giftdesk.move_in.social_scale import SocialScaleImport

    export = tmp_path / "export.json"
    export.write_text('{"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"}, "name": "Acme", "displayName": "Acme"}\n')
    desk.admins.create("root", "root password 1")
    desk.admins.create("watcher", "watch password 1", role="viewer")
    viewer = desk.as_actor(desk.admins.authenticate("watcher", "watch password 1"))
    importers = {"social-scale": (SocialScaleImport(viewer.ctx, viewer.settings, viewer.invoices),
                                  {"companies": export}),
                 "hyperbuds": (HyperBudsImport(viewer.ctx), {"profiles": export})}
    before = dump(desk)
    for name, (importer, files) in importers.items():
        assert public_methods(importer) == IMPORTS_VIEWER_MAY | {"run"}, f"{name}: classify its new methods here"
        assert importer.preview(**files).count("create") == 1
        with pytest.raises(PermissionDeniedError, match="watcher is a viewer"):
            importer.run(**files)
    assert dump(desk) == before
