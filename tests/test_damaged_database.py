"""A damaged SQLite file: one sentence naming the restore command, and a restore that needs no
working database to replace it."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy.exc

from giftdesk.cli.main import one_line
from giftdesk.db.backup import backup_sqlite
from giftdesk.desk import Desk
from giftdesk.core.errors import DatabaseDamagedError
from tests.support.cli import cli, make_cli  # noqa: F401 - fixture

PAGE = 4096


def damage_table(database, table: str) -> None:
    """Overwrites the root page of ``table`` with garbage, as a failing disk would."""
    conn = sqlite3.connect(database)
    page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the page's bytes live in the main file
    conn.close()
    with open(database, "r+b") as handle:
        handle.seek((page - 1) * page_size)
        handle.write(b"\xde\xad" * (page_size // 2))


def damage_header(database) -> None:
    with open(database, "r+b") as handle:
        handle.write(b"not a database!!")


@pytest.fixture
def seeded(cli, data_dir, tmp_path):
    """A data directory with one customer, and a good backup of it at tmp_path/good.db."""
    cli("customer", "add", "--name", "Kept in the backup")
    cli("backup", "create", str(tmp_path / "good.db"))
    return data_dir / "giftdesk.db", tmp_path / "good.db"


def _the_sentence(err: str, database) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"giftdesk: The database {database} is damaged (")
    assert "Restore a backup with `giftdesk backup restore FILE`." in lines[0]
    for sqlalchemy_text in ("sqlalche.me", "Background on this error", "\\n", "sqlite3.", "sqlite:///"):
        assert sqlalchemy_text not in err


@pytest.mark.parametrize("argv", [("customer", "list"), ("customer", "add", "--name", "New"), ("db", "upgrade"),
                                  ("backup", "create")])
def test_a_command_on_a_damaged_database_names_the_restore_command(cli, seeded, argv):
    live, _ = seeded
    damage_table(live, "customers")
    damage_table(live, "alembic_version")
    _, err = cli(*argv, expect=1)
    _the_sentence(err, live)


def test_a_file_that_is_no_database_any_more_is_the_same_sentence(cli, seeded):
    live, _ = seeded
    damage_header(live)
    _, err = cli("customer", "list", expect=1)
    _the_sentence(err, live)
    assert "(file is not a database)" in err


@pytest.mark.parametrize("damage", [lambda live: damage_table(live, "customers"), damage_header])
def test_restore_moves_a_damaged_database_aside_and_puts_the_backup_in_place(cli, seeded, data_dir, damage):
    live, good = seeded
    damage(live)
    damaged_bytes = live.read_bytes()
    out, _ = cli("backup", "restore", str(good), "--yes")
    moved = next((data_dir / "backups").glob("damaged-*.db"))
    assert str(moved) in out
    assert moved.read_bytes() == damaged_bytes
    assert not live.with_name("giftdesk.db.restoring").exists()
    assert [c["name"] for c in cli.json("customer", "list")] == ["Kept in the backup"]
    assert cli.json("audit", "list")[0]["action"] == "database.restore"
    assert sqlite3.connect(live).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_damaged_files_write_ahead_log_moves_with_it(cli, seeded, data_dir):
    live, good = seeded
    damage_table(live, "customers")
    for suffix in ("-wal", "-shm"):
        live.with_name(live.name + suffix).write_bytes(b"belongs to the damaged file")
    cli("backup", "restore", str(good), "--yes")
    moved = next((data_dir / "backups").glob("damaged-*.db"))
    assert moved.with_name(moved.name + "-wal").read_bytes() == b"belongs to the damaged file"
    assert moved.with_name(moved.name + "-shm").exists()  # an index of the -wal, which SQLite rebuilds
    assert [c["name"] for c in cli.json("customer", "list")] == ["Kept in the backup"]


def test_a_damaged_backup_is_refused_before_anything_is_replaced(cli, seeded, data_dir):
    live, good = seeded
    damage_table(live, "customers")
    damage_table(good, "settings")
    before = live.read_bytes()
    _, err = cli("backup", "restore", str(good), "--yes", expect=2)
    assert "damaged" in err or "malformed" in err
    assert live.read_bytes() == before
    assert not list((data_dir / "backups").glob("damaged-*"))


def test_restore_asks_before_it_moves_a_damaged_database(cli, seeded, data_dir, monkeypatch):
    live, good = seeded
    damage_table(live, "customers")
    before = live.read_bytes()
    _, err = cli("backup", "restore", str(good), expect=2)
    assert "is damaged" in err and "--yes" in err
    assert live.read_bytes() == before


def test_the_window_restores_a_database_damaged_under_it(desk, tmp_path):
    """The GUI's File → Restore runs BackupService.restore with the damaged file open in its engine."""
    desk.customers.create("Kept in the backup")
    good = backup_sqlite(desk.paths.database, tmp_path / "good.db")
    desk.customers.create("Lost with the damage")
    damage_table(desk.paths.database, "customers")
    moved = desk.backups.restore(good)
    assert moved.parent == desk.paths.backups and moved.name.startswith("damaged-")
    assert [c.name for c in desk.customers.list()] == ["Kept in the backup"]


def test_start_up_of_the_long_running_front_ends_finds_damage_no_query_meets(data_dir):
    Desk.open(str(data_dir)).close()
    live = data_dir / "giftdesk.db"
    damage_table(live, "instance_logs")
    Desk.open(str(data_dir)).close()  # a command opens it without reading every page
    with pytest.raises(DatabaseDamagedError, match="Restore a backup with `giftdesk backup restore FILE`"):
        Desk.open(str(data_dir), check_integrity=True)


def test_a_file_past_the_quick_check_limit_is_not_read_whole_at_start_up(data_dir, monkeypatch):
    import giftdesk.db.engine

    Desk.open(str(data_dir)).close()
    damage_table(data_dir / "giftdesk.db", "instance_logs")
    monkeypatch.setattr(giftdesk.db.engine, "QUICK_CHECK_LIMIT", PAGE)  # every database is past it
    Desk.open(str(data_dir), check_integrity=True).close()  # damage is left for a query to meet


def test_serve_refuses_a_damaged_database_before_it_listens(cli, seeded, monkeypatch):
    import giftdesk.runtime.headless

    started = []
    monkeypatch.setattr(giftdesk.runtime.headless, "serve", lambda desk, **options: started.append(options))
    live, _ = seeded
    damage_table(live, "instance_logs")
    _, err = cli("serve", "--port", "0", expect=1)
    _the_sentence(err, live)
    assert started == []


def test_one_line_errors_hold_no_line_break_or_sqlalchemy_link():
    error = sqlalchemy.exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: x"))
    assert "\n" in str(error) and "Background on this error" in str(error)  # what SQLAlchemy gives
    line = one_line(error)
    assert line == "(sqlite3.OperationalError) no such table: x [SQL: SELECT 1]"
