"""Every command does all it was asked or nothing, and no input a person can type gives a
traceback, a silent deletion, a wildcard match, a data directory nobody asked for or a lost file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from giftdesk.core.errors import ServiceUnavailableError
from tests.support.cli import cli  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[1]


def giftdesk_process(*argv, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "giftdesk", *argv], env=env, **kwargs)


# ---- all or nothing -----------------------------------------------------------------------------
def test_account_add_with_a_bad_url_creates_nothing(cli):
    cid = str(cli.json("customer", "add", "--name", "Ann")["id"])
    for extra in (["--generate-key"], []):
        _, err = cli("account", "add", "--customer", cid, "--tiktok", "@x_user", "--instance-url", "not a url",
                     *extra, expect=2)
        assert err.count("\n") == 1
    assert cli.json("account", "list") == []
    assert [e["action"] for e in cli.json("audit", "list")] == ["customer.create"]
    _, err = cli("account", "add", "--customer", cid, "--tiktok", "@x_user", "--instance-url", "https://x.example",
                 expect=2)
    assert "--generate-key" in err
    made = cli.json("account", "add", "--customer", cid, "--tiktok", "@x_user", "--instance-url",
                    "https://x.example", "--generate-key")
    assert made["instanceUrl"] == "https://x.example" and made["hasKey"] is True and made["apiKey"]


def test_account_add_with_key_is_one_transaction_when_the_keyring_fails(cli, monkeypatch):
    cid = str(cli.json("customer", "add", "--name", "Ann")["id"])

    def broken(self, name, value):
        raise ServiceUnavailableError("The keyring is locked.")

    monkeypatch.setattr("giftdesk.core.secrets.SecretStore.set", broken)
    _, err = cli("account", "add", "--customer", cid, "--tiktok", "@x_user", "--generate-key", expect=1)
    assert err == "giftdesk: The keyring is locked.\n"
    assert cli.json("account", "list") == []


def test_service_adds_account_and_key_together(any_db_desk):
    customer = any_db_desk.customers.create("Both")
    row, api_key = any_db_desk.customers.add_account_with_key(customer.id, "@both_here", "https://t.example")
    assert any_db_desk.keys.reveal(row.id) == api_key
    assert any_db_desk.keys.get(row.id).instance_url == "https://t.example"
    with pytest.raises(Exception, match="instance URL"):
        any_db_desk.customers.add_account_with_key(customer.id, "@second", "ftp://nope")
    assert [a.username for a in any_db_desk.customers.list_accounts()] == ["both_here"]


# ---- files and pipes ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind, needle", [("missing", "does not exist"), ("folder", "is a folder"),
                                          ("latin1", "not UTF-8"), ("unreadable", "cannot be read")])
def test_data_set_with_an_unusable_file_is_one_line(cli, tmp_path, kind, needle):
    cid = str(cli.json("customer", "add", "--name", "D")["id"])
    aid = str(cli.json("account", "add", "--customer", cid, "--tiktok", "data_user")["id"])
    path = tmp_path / "doc.json"
    if kind == "folder":
        path.mkdir()
    elif kind == "latin1":
        path.write_bytes('{"title": "Ünïcode"}'.encode("latin-1"))
    elif kind == "unreadable":
        if os.geteuid() == 0:
            pytest.skip("root reads every file")
        path.write_text("{}")
        path.chmod(0)
    out, err = cli("data", "set", "--account", aid, "--type", "config", "--file", str(path), expect=2)
    assert out == "" and err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_json_into_a_closed_pipe_ends_quietly(desk, data_dir):
    for n in range(400):  # 400 audit entries: far more than a pipe buffer holds
        desk.customers.create(f"Customer number {n:04d} with a long enough name to fill the pipe")
    process = giftdesk_process("--data-dir", str(data_dir), "--json", "audit", "list", "--limit", "1000",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = process.stdout.readline()
    process.stdout.close()  # `| head -1`
    _, err = process.communicate(timeout=60)
    assert first == b"[\n"
    assert err == b"" and process.returncode == 141


# ---- quiet surprises ----------------------------------------------------------------------------
def test_empty_fampage_key_is_refused_not_a_deletion(cli, monkeypatch):
    import io

    cli("settings", "fampage-key", "--value", "fp-key-1")
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    _, err = cli("settings", "fampage-key", expect=2)
    assert "--clear" in err and err.count("\n") == 1
    _, err = cli("settings", "fampage-key", "--value", "  ", expect=2)
    assert cli.json("settings", "list")["fampageApiKeySet"] is True
    assert cli.json("settings", "fampage-key", "--clear")["set"] is False


@pytest.mark.parametrize("command", ["customer", "key", "audit"])
def test_search_matches_like_wildcards_literally(cli, command):
    for name in ("100% Organic", "Under_score", "Plain"):
        cid = str(cli.json("customer", "add", "--name", name)["id"])
        cli("account", "add", "--customer", cid, "--tiktok", f"user{cid}", "--generate-key")

    def names(search):
        if command == "customer":
            return sorted(c["name"] for c in cli.json("customer", "list", "--search", search))
        if command == "key":
            return sorted(k["customerName"] for k in cli.json("key", "list", "--search", search))
        return sorted({e["summary"].split("'")[1] for e in cli.json("audit", "list", "--search", search)
                       if e["action"] == "customer.create"})

    assert names("%") == ["100% Organic"]
    assert names("_") == ["Under_score"]
    assert names("\\") == []
    assert names("r_s") == ["Under_score"] and names("0%") == ["100% Organic"]


def test_social_profile_search_is_literal_too(cli):
    for name in ("100% Organic", "Under_score", "Plain"):
        cli("social", "profile", "add", "--name", name)

    def names(search):
        return sorted(p["displayName"] for p in cli.json("social", "profile", "list", "--search", search))

    assert names("%") == ["100% Organic"] and names("_") == ["Under_score"] and names("r_s") == ["Under_score"]


@pytest.mark.parametrize("argv", [["status"], ["customer", "list"], ["customer", "show", "1"], ["audit", "list"],
                                  ["key", "list"], ["settings", "list"], ["backup", "create"], ["serve"],
                                  ["data", "get", "--account", "1", "--type", "config"]])
def test_reading_commands_refuse_a_data_directory_that_does_not_exist(tmp_path, capsys, argv):
    from giftdesk.cli.main import main

    typo = tmp_path / "dta"
    assert main(["--data-dir", str(typo), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"There is no data directory at {typo}" in err
    assert not typo.exists()


def test_the_first_change_creates_the_data_directory(tmp_path, capsys):
    from giftdesk.cli.main import main

    fresh = tmp_path / "new" / "data"
    assert main(["--data-dir", str(fresh), "customer", "add", "--name", "First"]) == 0
    assert (fresh / "giftdesk.db").is_file()
    assert main(["--data-dir", str(fresh), "status"]) == 0


def test_backup_create_does_not_replace_a_file_without_force(cli, data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    target = tmp_path / "precious.db"
    target.write_bytes(b"not mine to lose")
    out, err = cli("backup", "create", str(target), expect=2)
    assert "--force" in err and err.count("\n") == 1 and target.read_bytes() == b"not mine to lose"
    assert cli.json("backup", "create", str(target), "--force")["bytes"] > 0
    assert target.read_bytes().startswith(b"SQLite format 3")
    _, err = cli("backup", "create", str(data_dir / "giftdesk.db"), "--force", expect=2)
    assert "in use" in err


def test_settings_set_echoes_the_text_itself(cli):
    out, _ = cli("settings", "set", "company.name", "Übersee Ltd — 東京")
    assert out == 'company.name = "Übersee Ltd — 東京"\n'
    out, _ = cli("settings", "list")
    assert '"Übersee Ltd — 東京"' in out


def test_serve_says_where_it_listens_once_and_status_sees_it(data_dir, tmp_path, capsys):
    from giftdesk.cli.main import main
    from giftdesk.desk import Desk

    Desk.open(str(data_dir)).close()
    port_file = tmp_path / "port"
    process = giftdesk_process("--data-dir", str(data_dir), "serve", "--port", "0", "--port-file", str(port_file),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert port_file.exists()
        runtime = None
        while runtime is None and time.monotonic() < deadline:  # runtime.json is written within a second
            assert main(["--data-dir", str(data_dir), "--json", "status"]) == 0
            runtime = json.loads(capsys.readouterr().out)["runtime"]
        assert runtime["kind"] == "serve" and runtime["pid"] == process.pid
        assert "endpoint" in [service["name"] for service in runtime["services"]]
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert output.count("listening on") == 1, output


# ---- no traceback, whatever is typed ----------------------------------------------------------
# Values a person (or a script with a bug) may type where a value is expected.
AWKWARD = ["", " ", "-1", "0", "1.5", "99999999999999999999999", "1e400", "NaN", "%", "_", "\\", "'", '"',
           "é", "Ü" * 300, "@", "@@", "../../etc/passwd", "/", "/dev/null", "/etc/shadow", "-", "not a url",
           "http://", "ftp://x.example", "javascript:alert(1)", "{", "[]", "null", "true", "[[[[[[[[[[",
           "\t", "a\nb", "\u202e", "\udcff", "x" * 5000, "--", "-x", "=", "endpoint.port", "viewer"]

# Commands with a slot for one value each (never `serve` or `backup create` with a free value:
# a good value would start a server or write a file where the value points).
TEMPLATES = [
    ["customer", "show", "{}"], ["customer", "add", "--name", "{}"], ["customer", "add", "--name", "N", "--email", "{}"],
    ["customer", "edit", "1", "--email", "{}"], ["customer", "edit", "{}", "--name", "{}"],
    ["customer", "list", "--search", "{}"], ["customer", "delete", "{}", "--yes"],
    ["account", "add", "--customer", "{}", "--tiktok", "{}"],
    ["account", "add", "--customer", "1", "--tiktok", "{}", "--instance-url", "{}", "--generate-key"],
    ["account", "list", "--customer", "{}"], ["account", "delete", "{}", "--yes"],
    ["key", "generate", "--account", "{}", "--instance-url", "{}"], ["key", "set-url", "--account", "1", "--url", "{}"],
    ["key", "show", "--account", "{}"], ["key", "env", "--account", "{}"], ["key", "list", "--status", "{}"],
    ["key", "list", "--search", "{}"], ["data", "get", "--account", "{}", "--type", "{}"],
    ["data", "set", "--account", "1", "--type", "config", "--file", "{}"],
    ["data", "set", "--account", "{}", "--type", "gift-groups", "--file", "{}"],
    ["settings", "set", "{}", "{}"], ["settings", "set", "endpoint.port", "{}"],
    ["settings", "set", "invoice.multiplier", "{}"], ["settings", "set", "company.email", "{}"],
    ["settings", "fampage-key", "--value", "{}"],
    ["admin", "create", "{}", "--password", "{}"], ["admin", "set-role", "{}", "{}"],
    ["admin", "reset-password", "{}", "--password", "{}"], ["admin", "delete", "{}", "--yes"],
    ["audit", "list", "--limit", "{}"], ["audit", "list", "--search", "{}"],
    ["backup", "restore", "{}", "--yes"], ["serve", "--port", "{}", "--bind", "nowhere"],
    ["{}"], ["customer", "{}"], ["--data-dir", "{}", "status"],
    ["social", "profile", "add", "--name", "{}", "--niches", "{}"], ["social", "profile", "show", "{}"],
    ["social", "profile", "edit", "{}", "--url", "{}"], ["social", "profile", "edit", "1", "--customer", "{}"],
    ["social", "profile", "edit", "1", "--account", "{}"], ["social", "profile", "add", "--name", "P", "--avatar", "{}"],
    ["social", "sync", "{}", "tiktok", "--followers", "{}"], ["social", "sync", "1", "{}", "--followers", "1",
                                                              "--engagement", "{}"],
    ["social", "import", "{}", "--dry-run"], ["social", "history", "{}", "--days", "{}"],
    ["social", "history", "1", "--limit", "{}"], ["social", "profile", "delete", "{}", "--yes"],
    ["alert", "rule", "add", "{}", "--when", "{}"], ["alert", "rule", "add", "r", "--when", "balance-below",
                                                     "--below", "{}", "--minutes", "{}"],
    ["alert", "rule", "add", "r", "--when", "key-unused", "--days", "{}", "--webhook", "{}"],
    ["alert", "rule", "edit", "{}", "--minutes", "{}"], ["alert", "rule", "remove", "{}"],
    ["alert", "ack", "{}"], ["alert", "snooze", "{}", "--minutes", "{}"],
]

# Inputs that are wrong whatever the data: exit 2, one line, nothing on stdout.
ALWAYS_WRONG = [
    ["customer", "show", "99999999999999999999999"], ["customer", "show", "-1"], ["customer", "show", "0"],
    ["customer", "add", "--name", ""], ["customer", "add", "--name", "N", "--email", "not-an-email"],
    ["customer", "add", "--name", "bad \udcff bytes"], ["account", "list", "--customer", "99999999999999999999"],
    ["account", "add", "--customer", "1", "--tiktok", "@x_y", "--instance-url", "not a url", "--generate-key"],
    ["key", "set-url", "--account", "1", "--url", "ftp://x"], ["data", "set", "--account", "1", "--type", "config",
                                                                "--file", "/"],
    ["data", "get", "--account", "1", "--type", "invoices"], ["settings", "set", "endpoint.port", "1e400"],
    ["settings", "set", "invoice.multiplier", "NaN"], ["settings", "set", "no.such.setting", "1"],
    ["settings", "fampage-key", "--value", ""], ["audit", "list", "--limit", "0"],
    ["audit", "list", "--limit", "99999999999999999999"], ["backup", "restore", "/", "--yes"],
    ["backup", "restore", "/dev/null", "--yes"], ["serve", "--port", "70000"], ["serve", "--port", "-5"],
    ["admin", "set-role", "root", "superuser"], ["admin", "create", "x y", "--password", "longenough1"],
    ["admin", "create", "newbie", "--password", "short"], ["--database-url", "nonsense://", "customer", "list"],
    ["frobnicate"], ["customer"], ["--data-dir", "/proc/1/nope", "customer", "add", "--name", "x"],
    ["serve", "--rate-limit", "0"], ["social", "history", "1", "--days", "99999999999999999999999"],
    ["social", "history", "1", "--limit", "-1"],
    ["alert", "rule", "add", "r", "--when", "balance-below", "--below", "NaN"],
    ["alert", "rule", "add", "r", "--when", "key-unused", "--days", "99999999999999999999999"],
    ["alert", "rule", "add", "r", "--when", "instance-down", "--webhook", "javascript:alert(1)"],
    ["alert", "rule", "add", "a\tb", "--when", "instance-down"], ["alert", "snooze", "1", "--minutes", "1e400"],
]


@pytest.fixture
def seeded_cli(cli, monkeypatch):
    import io

    cli("admin", "create", "root", "--password", "s3cret-pass")
    cid = str(cli.json("customer", "add", "--name", "Seed")["id"])
    cli("account", "add", "--customer", cid, "--tiktok", "@seed_user", "--generate-key")
    cli("social", "profile", "add", "--name", "Seed profile")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # nothing typed, no terminal: nobody to ask
    return cli


def _run(argv, capsys):
    from giftdesk.cli.main import main

    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv", ALWAYS_WRONG, ids=lambda a: " ".join(a)[:60])
def test_wrong_input_is_exit_2_and_one_line(seeded_cli, data_dir, capsys, argv):
    code, out, err = _run(["--data-dir", str(data_dir), *argv], capsys)
    assert (code, out) == (2, ""), err
    assert err.count("\n") == 1 and err.strip() and "Traceback" not in err, err


def test_a_database_that_does_not_answer_is_one_line_without_the_password(data_dir, capsys):
    code, out, err = _run(["--data-dir", str(data_dir), "--database-url",
                           "postgresql+psycopg://nobody:pa55word@127.0.0.1:1/none", "customer", "list"], capsys)
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert "Cannot open the database postgresql+psycopg://nobody:***@127.0.0.1:1/none" in err and "pa55word" not in err


@pytest.mark.timeout(240)  # hundreds of generated cases (or every screen); minutes on a loaded machine
def test_no_typed_value_gives_a_traceback(seeded_cli, data_dir, capsys, tmp_path, monkeypatch):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    monkeypatch.chdir(tmp_path)  # a relative path typed as a value lands here
    value = st.one_of(st.sampled_from(AWKWARD), st.text(st.characters(blacklist_characters="\x00"), max_size=40))

    @settings(max_examples=int(os.environ.get("GD_EXAMPLES", 250)), deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(template=st.sampled_from(TEMPLATES), values=st.lists(value, min_size=2, max_size=2))
    def check(template, values):
        filled = iter(values)
        argv = [next(filled) if part == "{}" else part for part in template]
        code, out, err = _run(["--data-dir", str(data_dir), *argv], capsys)
        assert "Traceback" not in err and "Traceback" not in out
        assert code in (0, 2), (argv, code, err)
        if code == 2:
            assert out == "" and err.count("\n") == 1, (argv, err)

    check()


@pytest.mark.parametrize(("word", "stored"), [("no", False), ("off", False), ("false", False), ("0", False),
                                              ("yes", True), ("On", True), ("true", True)])
def test_yes_no_settings_take_words_and_refuse_anything_else(word, stored, data_dir):
    from giftdesk.cli.main import main
    from giftdesk.desk import Desk

    assert main(["--data-dir", str(data_dir), "settings", "set", "endpoint.enabled", word]) == 0
    desk = Desk.open(str(data_dir))
    try:
        assert desk.settings.get("endpoint.enabled") is stored
    finally:
        desk.close()


def test_a_yes_no_setting_refuses_a_word_it_does_not_know(data_dir, capsys):
    from giftdesk.cli.main import main

    assert main(["--data-dir", str(data_dir), "settings", "set", "endpoint.enabled", "maybe"]) == 2
    assert "must be yes or no" in capsys.readouterr().err


def test_reading_commands_leave_nothing_in_a_folder_that_is_not_a_data_directory(tmp_path, capsys):
    """`giftdesk --data-dir / status` once wrote giftdesk.db, logs/ and backups/ into / (and chmod-ed it)."""
    import stat

    from giftdesk.cli.main import main

    folder = tmp_path / "someones-home"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    folder.chmod(0o755)
    for argv in (["status"], ["customer", "list"], ["audit", "list"], ["settings", "list"]):
        assert main(["--data-dir", str(folder), *argv]) == 2
        assert "not a GiftDesk data directory" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
