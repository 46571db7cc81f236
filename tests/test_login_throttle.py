"""Repeated wrong passwords pause and then lock a name, across processes (the count is in the audit
log); an admin unlocks; a success starts the count afresh. Time is moved on, never waited for."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from giftdesk.core.context import Actor
from giftdesk.core.errors import AuthenticationError, PermissionDeniedError
from giftdesk.db.types import utcnow
from giftdesk.desk import Desk
from tests.test_change_feed import run_giftdesk


class Clock:
    def __init__(self, offset: timedelta = timedelta(0)):
        self.now = utcnow() + offset

    def __call__(self):
        return self.now

    def move(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def clock(desk):
    desk.admins.create("maya", "correct horse")
    desk.admins.clock = clock = Clock()
    return clock


def wrong(desk, name="maya") -> str:
    with pytest.raises(AuthenticationError) as refused:
        desk.admins.authenticate(name, "wrong horse")
    return str(refused.value)


def test_wrong_passwords_pause_then_lock_the_name(desk, clock):
    assert wrong(desk) == "Wrong username or password."
    assert wrong(desk) == "Wrong username or password."
    assert wrong(desk) == "Wrong username or password. Wait 1 second before the next try."
    # Too soon: refused without checking the password, even the right one, and not counted.
    with pytest.raises(AuthenticationError, match=r"^Wait 1 second before the next try"):
        desk.admins.authenticate("maya", "correct horse")
    clock.move(seconds=1)
    assert wrong(desk) == "Wrong username or password. Wait 2 seconds before the next try."
    clock.move(seconds=2)
    assert wrong(desk) == ("Wrong username or password. Too many wrong passwords: 'maya' is locked for 5 minutes, "
                           "or until an administrator unlocks it.")
    assert desk.admins.locked_until("maya") == clock.now + timedelta(minutes=5)
    clock.move(minutes=4)
    with pytest.raises(AuthenticationError, match=r"'maya' is locked for 60 seconds more"):
        desk.admins.authenticate("maya", "correct horse")
    [row] = desk.admins.list()
    assert row.locked_until == clock.now + timedelta(minutes=1)
    assert row.to_json()["lockedUntil"] == row.locked_until.isoformat()
    clock.move(minutes=1)
    assert desk.admins.authenticate("maya", "correct horse").username == "maya"
    assert desk.admins.locked_until("maya") is None and desk.admins.list()[0].locked_until is None
    assert wrong(desk) == "Wrong username or password."  # a success starts the count afresh
    actions = [e.action for e in desk.audit.list()]
    assert actions.count("admin.login_failed") == 6 and actions.count("admin.locked") == 1


def test_unknown_names_are_counted_alike(desk, clock):
    answers = [wrong(desk, "nobody") for _ in range(3)]
    assert answers[2] == "Wrong username or password. Wait 1 second before the next try."
    assert wrong(desk) == "Wrong username or password."  # another name has its own count


def test_failures_older_than_the_window_do_not_count(desk, clock):
    for _ in range(2):
        wrong(desk)
    clock.move(minutes=16)
    assert wrong(desk) == "Wrong username or password."
    assert wrong(desk) == "Wrong username or password."


def test_an_admin_unlocks_and_a_viewer_cannot(desk, clock):
    for _ in range(5):
        wrong(desk)
        clock.move(seconds=10)
    assert desk.admins.locked_until("maya") is not None
    desk.admins.create("watcher", "watch password 1", role="viewer")
    viewer = desk.as_actor(Actor("watcher", "viewer", 2))
    viewer.admins.clock = clock
    with pytest.raises(PermissionDeniedError):
        viewer.admins.unlock("maya")
    assert desk.admins.locked_until("maya") is not None
    desk.admins.unlock("MAYA")
    assert desk.admins.locked_until("maya") is None
    assert desk.admins.authenticate("maya", "correct horse").username == "maya"
    [entry] = [e for e in desk.audit.list() if e.action == "admin.unlock"]
    assert entry.summary == f"{desk.ctx.actor.username} unlocked 'maya'" and entry.target_id == "maya"


def test_the_count_is_shared_by_every_process_on_the_database(desk, data_dir):
    desk.admins.create("maya", "correct horse")
    # Two minutes ago, in another window on the same data directory: locked until three minutes from now.
    other = Desk.open(str(data_dir))
    other.admins.clock = clock = Clock(-timedelta(minutes=2))
    try:
        for pause in (0, 0, 0, 1, 2):
            clock.move(seconds=pause)
            wrong(other)
    finally:
        other.close()
    with pytest.raises(AuthenticationError, match="'maya' is locked for"):
        desk.admins.authenticate("maya", "correct horse")
    # Real CLI processes: the count is in the database, not in any one process.
    [shown] = json.loads(run_giftdesk(desk, data_dir, "--json", "admin", "list"))
    assert shown["lockedUntil"] is not None
    assert "'maya' may log in again." in run_giftdesk(desk, data_dir, "admin", "unlock", "maya")
    assert json.loads(run_giftdesk(desk, data_dir, "--json", "admin", "list"))[0]["lockedUntil"] is None
    assert desk.admins.authenticate("maya", "correct horse").username == "maya"
