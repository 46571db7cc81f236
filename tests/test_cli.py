"""The command line: every command, --json output, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

import giftdesk
from tests.support.cli import cli  # noqa: F401 - fixture


def test_version_and_module_entry_point():
    result = subprocess.run([sys.executable, "-m", "giftdesk", "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == f"giftdesk {giftdesk.__version__}"


def test_admin_lifecycle(cli):
    created = cli.json("admin", "create", "root", "--password", "s3cret-pass")
    assert created["isSuper"] and created["role"] == "admin"
    cli("admin", "create", "viewer1", "--password", "s3cret-pass", "--role", "viewer")
    assert [a["username"] for a in cli.json("admin", "list")] == ["root", "viewer1"]
    cli("admin", "reset-password", "root", "--password", "n3w-password")
    _, err = cli("admin", "reset-password", "ghost", "--password", "n3w-password", expect=2)
    assert err.count("\n") == 1 and "ghost" in err


def test_customer_and_account_commands(cli):
    customer = cli.json("customer", "add", "--name", "Ann Lee", "--email", "ann@example.com", "--company", "Acme")
    cid = str(customer["id"])
    account = cli.json("account", "add", "--customer", cid, "--tiktok", "@ann.lee", "--generate-key")
    assert account["tiktokUsername"] == "@ann.lee" and len(account["apiKey"]) == 36
    assert cli.json("customer", "show", cid)["accounts"][0]["hasKey"] is True
    cli("customer", "edit", cid, "--company", "")
    assert cli.json("customer", "list", "--search", "ann")[0]["company"] is None
    assert [a["id"] for a in cli.json("account", "list", "--customer", cid)] == [account["id"]]
    deleted = cli.json("customer", "delete", cid, "--yes")
    assert deleted["accounts"] == 1 and deleted["credentials"] == 1
    assert cli.json("customer", "list") == []


def test_key_commands_speak_the_seed_field_names(cli):
    cid = str(cli.json("customer", "add", "--name", "K")["id"])
    aid = str(cli.json("account", "add", "--customer", cid, "--tiktok", "keyed")["id"])
    generated = cli.json("key", "generate", "--account", aid)
    assert generated["status"] == "active" and generated["apiKey"]
    assert cli.json("key", "show", "--account", aid)["apiKey"] == generated["apiKey"]
    regenerated = cli.json("key", "regenerate", "--account", aid)
    assert regenerated["apiKey"] != generated["apiKey"]
    assert cli.json("key", "deactivate", "--account", aid)["status"] == "inactive"
    assert cli.json("key", "activate", "--account", aid)["status"] == "active"
    listed = cli.json("key", "list")
    assert "apiKey" not in listed[0] and listed[0]["apiKeyMasked"].endswith(regenerated["apiKey"][-4:])
    assert cli.json("key", "set-url", "--account", aid, "--url", "https://t.example.com")["instanceUrl"] == "https://t.example.com"


def test_tracker_data_commands(cli, tmp_path):
    cid = str(cli.json("customer", "add", "--name", "D")["id"])
    aid = str(cli.json("account", "add", "--customer", cid, "--tiktok", "data_user")["id"])
    groups = tmp_path / "groups.json"
    groups.write_text(json.dumps({"groups": {"g1": {"name": "VIP", "color": "#ff0000", "giftIds": [1, 2]}}}))
    cli("data", "set", "--account", aid, "--type", "gift-groups", "--file", str(groups))
    assert cli.json("data", "get", "--account", aid, "--type", "gift-groups")["g1"]["giftIds"] == [1, 2]
    groups.write_text(json.dumps({"groups": {"g1": {"name": "VIP", "color": "red", "giftIds": []}}}))
    _, err = cli("data", "set", "--account", aid, "--type", "gift-groups", "--file", str(groups), expect=2)
    assert "color" in err
    assert cli.json("data", "get", "--account", aid, "--type", "gift-groups")["g1"]["color"] == "#ff0000"


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["customer", "add"], "--name"),
        (["customer", "add", "--name", "X", "--email", "nope"], "e-mail"),
        (["customer", "show", "abc"], "invalid int"),
        (["customer", "show", "42"], "no customer"),
        (["account", "add", "--customer", "1", "--tiktok", "@"], "TikTok username"),
        (["account", "add", "--customer", "9", "--tiktok", "@valid"], "no customer"),
        (["key", "generate", "--account", "7"], "no TikTok account"),
        (["settings", "set", "endpoint.port", "70000"], "65535"),
        (["settings", "set", "no.such", "1"], "no setting"),
        (["backup", "restore", "/etc/hostname", "--yes"], "not a SQLite database"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, argv, needle):
    out, err = cli(*argv, expect=2)
    assert out == ""
    assert err.count("\n") == 1 and needle.lower() in err.lower(), err


def test_delete_without_terminal_needs_yes(cli, monkeypatch):
    cid = str(cli.json("customer", "add", "--name", "Stays")["id"])
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    _, err = cli("customer", "delete", cid, expect=2)
    assert "--yes" in err
    assert len(cli.json("customer", "list")) == 1


def test_settings_and_fampage_key(cli, data_dir):
    assert cli.json("settings", "set", "invoice.multiplier", "7.5") == {"invoice.multiplier": "7.5"}
    listed = cli.json("settings", "list")
    assert listed["settings"]["invoice.multiplier"] == "7.5" and listed["fampageApiKeySet"] is False
    state = cli.json("settings", "fampage-key", "--value", "fp-key-xyz")
    assert state["set"] is True
    assert b"fp-key-xyz" not in (data_dir / "giftdesk.db").read_bytes()


def test_backup_create_and_restore(cli, data_dir, tmp_path):
    cli("customer", "add", "--name", "In backup")
    result = cli.json("backup", "create", str(tmp_path / "snap.db"))
    assert result["bytes"] > 0
    cli("customer", "add", "--name", "Not in backup")
    restored = cli.json("backup", "restore", result["path"], "--yes")
    assert [c["name"] for c in cli.json("customer", "list")] == ["In backup"]
    conn = sqlite3.connect(restored["previous"])
    assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 2
    conn.close()


def test_db_upgrade_and_status_and_audit(cli):
    assert cli.json("db", "upgrade")["to"] == cli.json("status")["schema"]
    cli("customer", "add", "--name", "Audited")
    entries = cli.json("audit", "list")
    assert entries[0]["action"] == "customer.create" and entries[0]["actor"].startswith("cli:")
