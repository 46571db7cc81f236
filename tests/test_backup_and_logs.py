"""Backups that are consistent while writers run, restore that refuses foreign files, clean logs."""

from __future__ import annotations

import logging
import sqlite3
import threading

import pytest

from giftdesk.db.backup import backup_sqlite, check_giftdesk_database, restore_sqlite
from giftdesk.desk import Desk
from giftdesk.core.errors import ValidationError
from giftdesk.core.logs import redact, setup_logging


def test_backup_while_writing_is_consistent(desk, tmp_path):
    stop = threading.Event()

    def keep_writing():
        n = 0
        while not stop.is_set():
            desk.customers.create(f"busy {n}")
            n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        copies = [backup_sqlite(desk.paths.database, tmp_path / f"copy{i}.db") for i in range(5)]
    finally:
        stop.set()
        writer.join()
    for copy in copies:
        check_giftdesk_database(copy)
        conn = sqlite3.connect(copy)
        customers = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
        audits = conn.execute("SELECT count(*) FROM audit_log WHERE action='customer.create'").fetchone()[0]
        conn.close()
        assert customers == audits  # each customer committed with its audit entry, never half


def test_restore_brings_back_the_old_state_and_keeps_the_current(desk, tmp_path):
    desk.customers.create("Before backup")
    backup = backup_sqlite(desk.paths.database, tmp_path / "b.db")
    desk.customers.create("After backup")
    kept = restore_sqlite(backup, desk.paths.database, desk.paths.backups)
    assert [c.name for c in desk.customers.list()] == ["Before backup"]  # same open engine sees it
    conn = sqlite3.connect(kept)
    assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 2
    conn.close()


@pytest.mark.parametrize("content", [b"", b"not a database at all", b"SQLite format 3\x00" + b"\x00" * 100])
def test_restore_refuses_files_that_are_not_giftdesk_databases(desk, tmp_path, content):
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(content)
    with pytest.raises(ValidationError):
        restore_sqlite(bogus, desk.paths.database, desk.paths.backups)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(ValidationError, match="not a GiftDesk database"):
        check_giftdesk_database(other)


def test_logs_never_hold_keys_or_passwords(tmp_path, make_account, desk):
    logfile = setup_logging(tmp_path / "logs")
    account, api_key = make_account()
    logging.getLogger("giftdesk.test").info("tracker %s used key %s", account.id, api_key)
    logging.getLogger("giftdesk.test").info("POST key=%s&action=add password: hunter22", "fampage-secret")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = logfile.read_text()
    assert api_key not in text and "fampage-secret" not in text and "hunter22" not in text
    assert "<redacted-key>" in text
    assert redact("X-API-Key: abc") == "X-API-Key: <redacted>"


def test_open_twice_reuses_schema(data_dir):
    Desk.open(str(data_dir)).close()
    desk = Desk.open(str(data_dir))
    assert desk.customers.list() == []
    desk.close()


def test_an_existing_data_directory_keeps_its_permissions(tmp_path):
    """``--data-dir`` may name a folder that is not ours (a home directory, or /): never chmod it."""
    import stat

    from giftdesk.core.paths import resolve_data_dir

    existing = tmp_path / "shared-folder"
    existing.mkdir(mode=0o755)
    existing.chmod(0o755)
    (existing / "someone-elses.txt").write_text("not GiftDesk's")
    paths = resolve_data_dir(existing).ensure()
    assert stat.S_IMODE(existing.stat().st_mode) == 0o755
    assert stat.S_IMODE(paths.logs.stat().st_mode) == 0o700  # made here: owner-only
    fresh = resolve_data_dir(tmp_path / "new").ensure()
    assert stat.S_IMODE(fresh.root.stat().st_mode) == 0o700
    empty = tmp_path / "made-for-giftdesk"
    empty.mkdir(mode=0o755)
    empty.chmod(0o755)
    resolve_data_dir(empty).ensure()
    assert stat.S_IMODE(empty.stat().st_mode) == 0o700  # an empty folder made for it becomes owner-only
