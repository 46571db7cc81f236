"""One test per command group (giftdesk/cli/groups/): text for people, camelCase JSON for scripts."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from giftdesk.cli.framework import Output, Table, render
from giftdesk.cli.groups import GROUP_MODULES
from giftdesk.cli.main import build_parser
from tests.support.cli import cli  # noqa: F401 - fixture

CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")


def camel_case_problems(data, path="$"):
    """Every JSON key that is not camelCase, with where it is."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            if not CAMEL.match(key):
                found.append(f"{path}.{key}")
            found += camel_case_problems(value, f"{path}.{key}")
    elif isinstance(data, list):
        for i, item in enumerate(data):
            found += camel_case_problems(item, f"{path}[{i}]")
    return found


@pytest.fixture
def seeded(cli):
    """An administrator, a customer with two accounts (one with a key) and some audit entries."""
    cli("admin", "create", "root", "--password", "s3cret-pass")
    cid = cli.json("customer", "add", "--name", "Ann Lee", "--email", "ann@example.com")["id"]
    keyed = cli.json("account", "add", "--customer", str(cid), "--tiktok", "@ann.lee", "--generate-key",
                     "--instance-url", "https://ann.example.com")
    plain = cli.json("account", "add", "--customer", str(cid), "--tiktok", "@ann.two")
    return {"customer": cid, "keyed": keyed["id"], "plain": plain["id"], "apiKey": keyed["apiKey"]}


def test_every_group_module_registers_and_has_help():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse has no public listing
    for name in ("admin", "customer", "account", "key", "data", "settings", "db", "backup", "audit", "events", "status", "serve"):
        assert name in commands and commands[name].description
    assert "system" in GROUP_MODULES


def test_json_keys_are_camel_case_in_every_command(cli, seeded, tmp_path):
    aid = str(seeded["keyed"])
    outputs = {
        "admin list": cli.json("admin", "list"),
        "customer list": cli.json("customer", "list"),
        "customer show": cli.json("customer", "show", str(seeded["customer"])),
        "account list": cli.json("account", "list"),
        "key list": cli.json("key", "list"),
        "key show": cli.json("key", "show", "--account", aid),
        "settings fampage-key": cli.json("settings", "fampage-key", "--value", "fp-1"),
        "backup create": cli.json("backup", "create", str(tmp_path / "b.db")),
        "audit list": [{k: v for k, v in e.items() if k != "details"} for e in cli.json("audit", "list")],
        "db upgrade": cli.json("db", "upgrade"),
        "status": cli.json("status"),
        "customer delete": cli.json("customer", "delete", str(seeded["customer"]), "--yes"),
        "alert rule add": cli.json("alert", "rule", "add", "low", "--when", "balance-below", "--below", "5"),
        "alert rule list": cli.json("alert", "rule", "list"),
        "alert list": cli.json("alert", "list"),
    }
    settings = cli.json("settings", "list")
    outputs["settings list"] = {k: v for k, v in settings.items() if k not in ("settings", "sources")}  # keyed by setting names
    problems = {name: camel_case_problems(data) for name, data in outputs.items()}
    assert {name: p for name, p in problems.items() if p} == {}


def test_events_prints_the_recent_changes_one_line_each(cli, seeded):
    out, _ = cli("--json", "events")
    changes = [json.loads(line) for line in out.splitlines()]
    assert {"entity": "customer", "id": seeded["customer"], "action": "created"}.items() <= changes[
        [c["entity"] for c in changes].index("customer")].items()
    assert all(set(c) == {"entity", "id", "action", "actor", "at", "seq"} for c in changes)
    assert {c["entity"] for c in changes} >= {"customer", "account", "key"}
    text, _ = cli("events", "--since", "10m")
    assert f"customer {seeded['customer']} created by " in text
    assert cli("events", "--since", "2999-01-01T00:00")[0] == ""  # nothing after a time to come
    _, err = cli("events", "--since", "yesterday", expect=2)
    assert "--since" in err


def test_events_since_reads_durations_and_iso_times():
    from datetime import datetime, timedelta, timezone

    from giftdesk.cli.groups.events import parse_since

    now = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_since(None, now) == now - timedelta(hours=1)
    assert parse_since("90s", now) == now - timedelta(seconds=90)
    assert parse_since("1h30m", now) == now - timedelta(minutes=90)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("2026-05-01T09:30", now) == datetime(2026, 5, 1, 9, 30, tzinfo=timezone.utc)
    assert parse_since("2026-05-01T09:30+02:00", now) == datetime(2026, 5, 1, 7, 30, tzinfo=timezone.utc)


def test_customer_list_has_no_false_empty_accounts(cli, seeded):
    listed = cli.json("customer", "list")[0]
    assert listed["accountCount"] == 2 and "accounts" not in listed
    shown = cli.json("customer", "show", str(seeded["customer"]))
    assert shown["accountCount"] == 2 and [a["tiktokUsername"] for a in shown["accounts"]] == ["@ann.lee", "@ann.two"]


def test_admin_group(cli, seeded, monkeypatch):
    cli("admin", "create", "op", "--password", "s3cret-pass", "--role", "operator")
    out, _ = cli("admin", "set-role", "op", "viewer")
    assert out == "'op' is now viewer.\n"
    out, _ = cli("admin", "list")
    assert re.search(r"^2\s+op\s+viewer\s+no\b", out, re.M), out
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    _, err = cli("admin", "delete", "op", expect=2)
    assert "--yes" in err
    _, err = cli("admin", "delete", "root", "--yes", expect=2)
    assert "super admin" in err
    assert cli.json("admin", "delete", "op", "--yes") == {"deleted": "op"}
    assert [a["username"] for a in cli.json("admin", "list")] == ["root"]


def test_customer_group_text(cli, seeded):
    cid = str(seeded["customer"])
    out, _ = cli("customer", "show", cid)
    assert "E-mail   ann@example.com" in out and "@ann.lee" in out and "https://ann.example.com" in out
    out, _ = cli("customer", "edit", cid, "--notes", "VIP")
    assert out == f"Updated customer {cid}: Ann Lee\n"
    _, err = cli("customer", "edit", cid, expect=2)
    assert "Nothing to change" in err
    out, _ = cli("customer", "list")
    assert out.splitlines()[0].split() == ["ID", "NAME", "EMAIL", "COMPANY", "ACCOUNTS", "CREATED"]


def test_account_group(cli, seeded):
    out, _ = cli("account", "list", "--customer", str(seeded["customer"]))
    assert "@ann.lee" in out and "@ann.two" in out
    deleted = cli.json("account", "delete", str(seeded["plain"]), "--yes")
    assert deleted == {"deleted": seeded["plain"], "customers": 0, "accounts": 1, "credentials": 0, "trackerDocuments": 0}


def test_key_group(cli, seeded):
    aid = str(seeded["keyed"])
    out, _ = cli("key", "show", "--account", aid)
    assert out.splitlines() == [f"Key of @ann.lee (account {aid}), status active", seeded["apiKey"]]
    env = cli.json("key", "env", "--account", aid)
    assert env["API_KEY"] == seeded["apiKey"] and env["BACKEND_API_URL"].endswith("/api/instances")
    out, _ = cli("key", "env", "--account", aid)
    assert f"ACCOUNT_ID={aid}" in out.splitlines()
    assert cli.json("key", "list", "--status", "inactive") == []
    _, err = cli("key", "generate", "--account", aid, expect=2)
    assert "already has an API key" in err


def test_data_group(cli, seeded, tmp_path):
    aid = str(seeded["keyed"])
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"theme": "dark", "title": "Ünïcode"}), encoding="utf-8")
    out, _ = cli("data", "set", "--account", aid, "--type", "config", "--file", str(config))
    assert out == f"Saved config of account {aid}.\n"
    out, _ = cli("data", "get", "--account", aid, "--type", "config")
    assert json.loads(out)["title"] == "Ünïcode" and "Ünïcode" in out  # JSON text, not \u escapes


def test_settings_group(cli, seeded):
    out, _ = cli("settings", "list")
    assert "invoice.multiplier" in out and "Fampage API key: not set" in out
    assert cli.json("settings", "list")["fampageApiKeySet"] is False
    _, err = cli("settings", "fampage-key", "--value", "x", "--clear", expect=2)
    assert "not both" in err


def test_the_tracker_managers_environment_replaces_defaults_but_not_stored_settings(cli, seeded, monkeypatch):
    monkeypatch.setenv("GIFT_TRACKER_IMAGE", "registry.example/gift-tracker:2")
    monkeypatch.setenv("INSTANCE_PORT_START", "4100")
    monkeypatch.setenv("INSTANCE_PORT_END", "not a port")
    monkeypatch.setenv("DOCKER_SOCKET_PATH", "/run/user/1000/docker.sock")
    shown = cli.json("settings", "list")
    assert shown["settings"]["tracker.default_image"] == "registry.example/gift-tracker:2"
    assert shown["settings"]["tracker.port_start"] == 4100
    assert shown["settings"]["docker.host"] == "unix:///run/user/1000/docker.sock"
    assert shown["settings"]["tracker.port_end"] == 3999  # a bad value is ignored, and said so
    assert shown["sources"]["tracker.port_start"] == "environment" and shown["sources"]["tracker.port_end"] == "default"
    [problem] = shown["environmentProblems"]
    assert problem.startswith("INSTANCE_PORT_END is ignored:")
    out, _ = cli("settings", "list")
    assert re.search(r"^tracker\.port_start\s+4100\s+\$INSTANCE_PORT_START\s", out, re.M)
    assert "INSTANCE_PORT_END is ignored" in out
    cli("settings", "set", "tracker.port_start", "3500")  # what an admin stores wins over the variable
    shown = cli.json("settings", "list")
    assert shown["settings"]["tracker.port_start"] == 3500 and shown["sources"]["tracker.port_start"] == "stored"


def test_db_backup_audit_and_status_groups(cli, seeded, tmp_path):
    out, _ = cli("db", "upgrade")
    assert "already current" in out
    target = tmp_path / "copy.db"
    out, _ = cli("backup", "create", str(target))
    assert out.startswith(f"Backup written to {target}")
    assert sqlite3.connect(target).execute("SELECT count(*) FROM tiktok_accounts").fetchone()[0] == 2
    entries = cli.json("audit", "list", "--limit", "2")
    assert len(entries) == 2 and entries[0]["targetType"] == "account"
    assert [e["action"] for e in cli.json("audit", "list", "--search", "generated")] == ["key.generate"]
    _, err = cli("audit", "list", "--limit", "0", expect=2)
    assert "limit" in err
    out, _ = cli("status")
    assert re.search(r"^Administrators\s+1$", out, re.M) and re.search(r"^Customers\s+1$", out, re.M)
    # People read labels; the camelCase keys are --json's.
    assert re.search(r"^Data directory\s+\S", out, re.M) and re.search(r"^Docker host\s+\S", out, re.M)
    assert not re.search(r"dataDir|keyringBackend|dockerHost", out)


def test_renderer_prints_text_or_json(capsys):
    result = Output([{"id": 1, "name": "Ann"}], Table(["ID", "NAME"], [(1, "Ann")]))
    assert render(result, as_json=True) == 0
    assert json.loads(capsys.readouterr().out) == [{"id": 1, "name": "Ann"}]
    render(result, as_json=False)
    assert capsys.readouterr().out.splitlines() == ["ID  NAME", "--  ----", "1   Ann"]
    render(Output({"a": 1}), as_json=False)  # no text given: the data as fields
    assert capsys.readouterr().out == "a  1\n"
    assert render(Output(None, None, exit_code=3), as_json=True) == 3 and capsys.readouterr().out == ""
