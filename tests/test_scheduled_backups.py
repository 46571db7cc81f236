"""Scheduled backups: the schedule as a setting, verified copies (SQLite and PostgreSQL), retention,
a failure kept and published, the runtime taking them, and the CLI."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from datetime import datetime

import pytest

from giftdesk.core.errors import ValidationError
from giftdesk.runtime import Runtime
from giftdesk.system.runtime import BACKUP_JOB
from giftdesk.system.scheduled_backups import BackupFailed, parse_schedule
from tests.runtime.test_supervisor import wait_for
from tests.support.cli import cli  # noqa: F401 - fixture


@pytest.mark.parametrize("text,kind,time,weekday", [
    ("off", "off", "", ""), ("", "off", "", ""), ("daily 2:30", "daily", "02:30", ""),
    ("Weekly Sunday 23:05", "weekly", "23:05", "sun"), ("weekly tue 00:00", "weekly", "00:00", "tue"),
])
def test_schedules_read_in_one_spelling(text, kind, time, weekday):
    schedule = parse_schedule(text)
    assert (schedule.kind, schedule.time, schedule.weekday) == (kind, time, weekday)
    assert parse_schedule(schedule.text()) == schedule


@pytest.mark.parametrize("text,message", [
    ("hourly", "not a backup schedule"), ("daily 25:00", "not a time of day"),
    ("weekly funday 02:00", "not a day of the week"), ("weekly sun", "not a backup schedule"),
])
def test_a_bad_schedule_is_refused_and_nothing_changes(desk, text, message):
    with pytest.raises(ValidationError, match=message):
        desk.scheduled_backups.set_schedule(text, keep=3)
    assert desk.settings.get("backup.schedule") == "off" and desk.settings.get("backup.keep") == 7


def test_a_weekly_schedule_lets_the_other_days_pass():
    weekly = parse_schedule("weekly wed 03:00")
    assert weekly.due_on(datetime(2026, 12, 9, 3, 0)) and not weekly.due_on(datetime(2026, 12, 10, 3, 0))
    assert parse_schedule("daily 03:00").due_on(datetime(2026, 12, 10, 3, 0))


def test_copies_are_verified_and_only_the_oldest_scheduled_ones_pruned(desk):
    desk.customers.create("Kept in every copy")
    desk.scheduled_backups.set_schedule("daily 02:30", keep=2)
    manual = desk.backups.create()
    results = [desk.scheduled_backups.run() for _ in range(3)]
    assert all(r.ok for r in results)
    assert results[1].pruned == () and results[2].pruned == (results[0].path.rsplit("/", 1)[1],)
    files = desk.scheduled_backups.list()
    assert sorted(f.kind for f in files) == ["manual", "scheduled", "scheduled"]
    assert manual in [f.path for f in files]
    newest = [f for f in files if f.kind == "scheduled"][0]
    assert str(newest.path) == results[2].path and newest.bytes == results[2].bytes > 0
    with sqlite3.connect(newest.path) as copy:
        assert copy.execute("SELECT name FROM customers").fetchall() == [("Kept in every copy",)]
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert desk.scheduled_backups.last_result() == results[2]
    assert [e.action for e in desk.audit.list()].count("backup.scheduled") == 3


def test_a_failed_backup_is_kept_as_the_last_result_and_published(desk):
    failures = []
    desk.events.subscribe(BackupFailed, failures.append)
    shutil.rmtree(desk.scheduled_backups.backup_dir, ignore_errors=True)
    desk.scheduled_backups.backup_dir.write_text("a file where the backups folder should be")
    result = desk.scheduled_backups.run()
    assert not result.ok and result.error and result.path is None
    assert desk.scheduled_backups.last_result() == result
    assert failures == [BackupFailed(result.error)]
    audit = [e for e in desk.audit.list() if e.action == "backup.scheduled"]
    assert audit[0].summary.startswith("Scheduled backup failed")


def test_postgresql_is_dumped_and_read_back(any_db_desk):
    desk = any_db_desk
    desk.customers.create("In the dump")
    result = desk.scheduled_backups.run()
    assert result.ok, result.error
    if desk.db.sqlite_path is None:
        assert result.path.endswith(".dump")
        listed = subprocess.run(["pg_restore", "--list", result.path], capture_output=True, text=True, check=True)
        assert "TABLE DATA public customers" in listed.stdout
    else:
        assert result.path.endswith(".db")
    assert [f.kind for f in desk.scheduled_backups.list()] == ["scheduled"]


def test_the_runtime_takes_the_scheduled_backup_and_follows_the_setting(desk):
    runtime = Runtime(desk, endpoint=False, docker=False)
    desk.attach_runtime(runtime)
    try:
        assert BACKUP_JOB not in {j.name for j in runtime.scheduler.jobs()}  # off by default
        desk.scheduled_backups.set_schedule("daily 03:15", keep=3)
        assert wait_for(lambda: [j.daily for j in runtime.scheduler.jobs() if j.name == BACKUP_JOB] == [(3, 15)])
        runtime.start()
        assert runtime.scheduler.run_now(BACKUP_JOB)
        assert wait_for(lambda: desk.scheduled_backups.last_result() is not None, timeout=30)
        assert desk.scheduled_backups.last_result().ok
        desk.scheduled_backups.set_schedule("off")
        assert wait_for(lambda: BACKUP_JOB not in {j.name for j in runtime.scheduler.jobs()})
    finally:
        runtime.stop()


def test_the_cli_sets_shows_runs_and_lists(cli, data_dir):
    shown = cli.json("backup", "schedule")
    assert shown == {"schedule": "off", "keep": 7, "lastResult": None}
    out, _ = cli("backup", "schedule", "--weekly", "sun", "02:30", "--keep", "4")
    assert "every Sun at 02:30" in out and "newest 4 scheduled backups are kept" in out
    assert "No scheduled backup has run yet." in out
    ran = cli.json("backup", "run")
    assert ran["ok"] and ran["path"].startswith(str(data_dir))
    out, _ = cli("backup", "schedule")
    assert "Last backup: scheduled-" in out and "just now" in out
    listed = cli.json("backup", "list")
    assert [f["kind"] for f in listed] == ["scheduled"] and listed[0]["bytes"] == ran["bytes"]
    out, _ = cli("backup", "list")
    assert "scheduled-" in out and "just now" in out
    for argv, message in [(("--daily", "24:00"), "not a time of day"),
                          (("--weekly", "someday", "02:00"), "not a day of the week"),
                          (("--daily", "02:00", "--off"), "Give one of --daily, --off"),
                          (("--keep", "0"), "--keep must be 1 or more")]:
        _, err = cli("backup", "schedule", *argv, expect=2)
        assert message in err and "Traceback" not in err
    assert cli.json("backup", "schedule")["schedule"] == "weekly sun 02:30"
