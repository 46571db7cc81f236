"""A full disk under the data directory (a real small tmpfs): one sentence naming the disk, no
half-written files, a log handler that keeps quiet, and a 507 for a tracker."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url, text

from giftdesk.cli.main import main
from giftdesk.db.engine import Database
from giftdesk.desk import Desk
from giftdesk.core.errors import DiskFullError
from tests.support.endpoint_server import EndpointServer
from giftdesk.accounts.tracker_gateway import TrackerGateway
from giftdesk.core.logs import setup_logging
from tests.conftest import POSTGRES_URL, require_service
from tests.endpoint.helpers import auth_headers
from tests.support.cli import make_cli
from tests.support.small_disk import fill, free_space, small_disk


def _disk_full_line(err: str, folder) -> None:
    assert err.splitlines() == [f"giftdesk: The disk holding {folder} is full: free some space, then try again."]


@pytest.fixture
def disk(tmp_path):
    with small_disk(tmp_path / "disk") as folder:
        yield folder


@pytest.mark.parametrize("leave", [0, 96 * 1024], ids=["nothing-left", "a-little-left"])
def test_a_change_on_a_full_disk_is_one_line_and_changes_nothing(disk, capsys, leave):
    cli = make_cli(capsys, "--data-dir", str(disk))
    cli("customer", "add", "--name", "Before")
    fill(disk, leave)
    saved = []
    for attempt in range(100):  # with a little space left, the first few still fit
        name = f"Customer {attempt}"
        code = main(["--data-dir", str(disk), "customer", "add", "--name", name, "--notes", "n" * 9000])
        _, err = capsys.readouterr()
        if code != 0:
            break
        saved.append(name)
    assert code == 1
    _disk_full_line(err, disk)
    assert "Logging error" not in err and "Traceback" not in err
    free_space(disk)
    assert [c["name"] for c in cli.json("customer", "list")] == ["Before", *saved]


def test_a_backup_that_does_not_fit_leaves_no_partial_file(disk, capsys):
    cli = make_cli(capsys, "--data-dir", str(disk))
    cli("customer", "add", "--name", "Before")
    fill(disk, leave=64 * 1024)  # room to open the database, not for a copy of it
    _, err = cli("backup", "create", expect=1)
    _disk_full_line(err, disk / "backups")
    assert list((disk / "backups").iterdir()) == []


def test_an_export_to_a_full_disk_leaves_no_file(data_dir, disk, capsys):
    cli = make_cli(capsys, "--data-dir", str(data_dir))
    cli("social", "profile", "add", "--name", "Creator")
    fill(disk)
    _, err = cli("social", "export", "--output", str(disk / "profiles.csv"), expect=1)
    _disk_full_line(err, disk)
    assert sorted(p.name for p in disk.iterdir()) == ["filler"]


def test_the_log_file_on_a_full_disk_does_not_spill_tracebacks(disk, capsys):
    setup_logging(disk / "logs")
    fill(disk)
    log = logging.getLogger("giftdesk.test")
    for n in range(3):
        try:
            raise OSError(28, "No space left on device")
        except OSError:
            log.exception("record %d", n)
    _, err = capsys.readouterr()
    assert "Logging error" not in err and "Traceback" not in err


def test_a_log_file_that_cannot_be_written_for_another_reason_is_one_short_notice(data_dir, capsys):
    logfile = setup_logging(data_dir / "logs")
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "baseFilename", "") == str(logfile))
    handler.stream.close()  # every later write fails with "I/O operation on closed file"
    for n in range(3):
        logging.getLogger("giftdesk.test").error("record %d", n)
    _, err = capsys.readouterr()
    assert err.splitlines() == [f"giftdesk: the log file {logfile} cannot be written "
                                "(I/O operation on closed file); logging to it stops."]


def test_a_tracker_write_on_a_full_disk_gets_507(disk, caplog):
    desk = Desk.open(str(disk))
    server = None
    try:
        customer = desk.customers.create("Customer")
        account = desk.customers.add_account(customer.id, "tracker_1")
        headers = auth_headers(account.id, desk.keys.generate(account.id))
        server = EndpointServer(TrackerGateway(desk.db, desk.events), hosts=["127.0.0.1"], port=0)
        server.start()
        url = f"http://127.0.0.1:{server.port}/api/instances/{account.id}/config"
        big = {"theme": "dark", "notes": "x" * 600_000}  # more than the WAL has room for
        fill(disk)
        with httpx.Client(timeout=30) as client, caplog.at_level(logging.WARNING):
            answer = client.post(url, json=big, headers=headers)
            assert answer.status_code == 507
            assert answer.json() == {"success": False, "message": "The server's disk is full; nothing was saved. "
                                                                  "Try again once space has been freed."}
            messages = [r.getMessage() for r in caplog.records if r.name.startswith("giftdesk.endpoint")]
            assert any(f"The disk holding {disk} is full" in m for m in messages), messages
            assert not any("OperationalError" in m for m in messages)
            free_space(disk)
            assert client.post(url, json={"theme": "dark"}, headers=headers).status_code == 200
    finally:
        if server is not None:
            server.stop()
        desk.close()


def test_a_social_sync_on_a_full_disk_gets_507(disk, caplog):
    from giftdesk.social.http import SocialSyncHandler

    desk = Desk.open(str(disk))
    try:
        account = desk.customers.add_account(desk.customers.create("Yash").id, "yash_live")
        key = desk.keys.generate(account.id)
        desk.social.create("Yash Gupta", account_id=account.id)
        handler = SocialSyncHandler(desk.social)
        desk.db.dispose()  # the last connection takes the -wal and -shm files with it
        fill(disk)
        with caplog.at_level(logging.ERROR):
            status, body, _ = handler.handle("instagram", f"Bearer {key}".encode(), b'{"followers": 10}', "127.0.0.1")
        assert (status, body) == (507, {"message": "Insufficient storage",
                                        "error": "The server's disk is full; the sync was not saved."})
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
            f"Social sync from 127.0.0.1 not saved: The disk holding {disk} is full: free some space, then try again."]
    finally:
        free_space(disk)
        desk.close()


def test_a_full_disk_on_the_postgresql_server_is_the_same_one_sentence(tmp_path):
    """A tablespace on a small tmpfs fills up on the server: SQLSTATE 53100 through our engine."""
    require_service(bool(POSTGRES_URL), "PostgreSQL (GIFTDESK_TEST_DATABASE_URL)")
    if shutil.which("runuser") is None or os.geteuid() != 0:
        pytest.skip("the tablespace is made as the postgres superuser, which needs root")
    tablespace = f"gd_small_{os.getpid()}"

    url = make_url(POSTGRES_URL)

    def as_postgres(sql: str) -> None:
        done = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-p", str(url.port or 5432),
                               "-d", url.database, "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    # The server runs as postgres: the mount point must be one it can reach (pytest's tmp_path is not).
    reachable = Path(tempfile.mkdtemp(prefix="gd-pgdisk-"))
    reachable.chmod(0o755)
    with small_disk(reachable / "disk", size="1m") as folder:
        shutil.chown(folder, "postgres", "postgres")
        as_postgres(f"CREATE TABLESPACE {tablespace} LOCATION '{folder}'")
        try:
            as_postgres(f"GRANT CREATE ON TABLESPACE {tablespace} TO giftdesk_test")
            database = Database(POSTGRES_URL)
            try:
                with database.engine.begin() as conn:
                    conn.execute(text(f"CREATE TABLE filler (data text) TABLESPACE {tablespace}"))
                with pytest.raises(DiskFullError) as raised:
                    for _ in range(200):  # 1 MiB holds a few dozen of these
                        with database.engine.begin() as conn:
                            conn.execute(text("INSERT INTO filler SELECT string_agg(md5(random()::text), '') "
                                              "FROM generate_series(1, 2000)"))
                assert str(raised.value) == ("The disk holding the database server's data is full: free some "
                                             "space, then try again.")
            finally:
                with database.engine.begin() as conn:
                    conn.execute(text("DROP TABLE IF EXISTS filler"))
                database.engine.dispose()
        finally:
            as_postgres(f"DROP TABLESPACE IF EXISTS {tablespace}")
    shutil.rmtree(reachable, ignore_errors=True)
