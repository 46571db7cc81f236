"""The live change feed: what one process commits reaches a follower in another, on SQLite and PostgreSQL.

Waits are for an event with a generous limit (never a measured time): a change arrives, or the
test fails at the limit.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from giftdesk.core.events import EventBus
from giftdesk.db.change_log import ChangeLogEntry, prune_change_log
from giftdesk.db.models import Customer
from giftdesk.db.types import utcnow
from giftdesk.feed import RESYNC, ChangeFollower
from giftdesk.feed.events import ChangeArrived, ResyncNeeded
from giftdesk.feed.service import ChangeFeedService

WAIT = 30.0  # seconds: only reached when something is wrong


class Collected:
    """A follower's changes, in a queue the test waits on."""

    def __init__(self):
        self.queue: queue.Queue = queue.Queue()
        self.all: list = []

    def __call__(self, change) -> None:
        self.all.append(change)
        self.queue.put(change)

    def next(self, matching=lambda change: True):
        while True:
            try:
                change = self.queue.get(timeout=WAIT)
            except queue.Empty:
                raise AssertionError(f"no matching change within {WAIT} s; got {self.all}") from None
            if matching(change):
                return change


@pytest.fixture
def follow(any_db_desk):
    followers = []

    def start(**options) -> tuple[ChangeFollower, Collected]:
        collected = Collected()
        follower = ChangeFollower(any_db_desk.db, collected, poll_interval=0.05, **options).start()
        followers.append(follower)
        assert follower.listening.wait(WAIT), "the follower never caught up"
        return follower, collected

    yield start
    for follower in followers:
        assert follower.stop(timeout=10), "the follower's thread was left behind"


def giftdesk_process(desk, data_dir, *argv: str, **popen) -> subprocess.Popen:
    url = [] if desk.db.is_sqlite else ["--database-url", desk.db.url]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    return subprocess.Popen([sys.executable, "-m", "giftdesk", "--data-dir", str(data_dir), *url, *argv],
                            env=env, text=True, **popen)


def run_giftdesk(desk, data_dir, *argv: str) -> str:
    process = giftdesk_process(desk, data_dir, *argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return out


def test_a_change_committed_by_another_process_reaches_the_follower(any_db_desk, data_dir, follow):
    follower, collected = follow()
    run_giftdesk(any_db_desk, data_dir, "customer", "add", "--name", "From elsewhere")
    change = collected.next(lambda c: c.entity == "customer")
    created = any_db_desk.customers.list("From elsewhere")[0]
    assert (change.id, change.action, change.actor) == (created.id, "created", change.actor)
    assert change.actor.startswith("cli:") and change.seq > 0
    assert follower.stop(timeout=10) and not follower._thread.is_alive()


def test_updates_deletes_and_settings_are_recorded_with_their_actor(any_db_desk, follow):
    _follower, collected = follow()
    customer = any_db_desk.customers.create("Recorded")
    any_db_desk.customers.update(customer.id, email="r@example.com")
    any_db_desk.settings.update({"fampage.sync_interval_minutes": 20})
    any_db_desk.customers.delete(customer.id)
    seen = [(c.entity, c.id, c.action) for c in (collected.next() for _ in range(4))]
    assert seen == [("customer", customer.id, "created"), ("customer", customer.id, "updated"),
                    ("setting", "fampage.sync_interval_minutes", "created"), ("customer", customer.id, "deleted")]
    assert {c.actor for c in collected.all} == {"owner"}, collected.all


def test_a_rolled_back_transaction_records_and_announces_nothing(any_db_desk, follow):
    _follower, collected = follow()

    def count() -> int:
        with any_db_desk.db.read_session() as session:
            return session.execute(select(func.count()).select_from(ChangeLogEntry)).scalar()

    before = count()
    with pytest.raises(RuntimeError):
        with any_db_desk.db.session() as session:
            session.add(Customer(name="Never there"))
            session.flush()
            raise RuntimeError("changed my mind")
    assert count() == before
    kept = any_db_desk.customers.create("Kept")
    first = collected.next()  # what the rollback would have announced would come first
    assert (first.entity, first.id) == ("customer", kept.id)


def test_a_follower_whose_last_change_was_pruned_gets_one_resync_and_goes_on_from_the_newest(any_db_desk, follow):
    for name in ("One", "Two", "Three"):
        any_db_desk.customers.create(name)
    with any_db_desk.db.read_session() as session:
        oldest = session.execute(select(func.min(ChangeLogEntry.id))).scalar()
    with any_db_desk.db.session() as session:  # as if eight days went by
        assert prune_change_log(session, now=utcnow() + timedelta(days=8)) > 0
    after_pruning = any_db_desk.customers.create("After pruning")
    _follower, collected = follow(after_id=oldest)
    resync = collected.next()
    assert resync.action == RESYNC
    later = any_db_desk.customers.create("Later")
    assert collected.next().id == later.id
    assert [c.action for c in collected.all].count(RESYNC) == 1
    assert after_pruning.id not in [c.id for c in collected.all if c.entity == "customer"]


def test_the_follower_prunes_what_is_older_than_the_retention(any_db_desk, follow):
    any_db_desk.customers.create("Old news")
    _follower, _collected = follow(prune=True, retention=timedelta(0))
    with any_db_desk.db.read_session() as session:
        # Pruned at start, before it waited: nothing older than "now" is left.
        assert session.execute(select(func.count()).select_from(ChangeLogEntry)
                               .where(ChangeLogEntry.at < utcnow())).scalar() == 0


def test_postgres_listener_reconnects_and_delivers_a_change_made_in_the_gap_once(any_db_desk, follow):
    if any_db_desk.db.is_sqlite:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    follower, collected = follow()
    pid = follower.backend_pid
    follower.listening.clear()
    with any_db_desk.db.engine.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    in_the_gap = any_db_desk.customers.create("In the gap")
    assert collected.next(lambda c: c.entity == "customer").id == in_the_gap.id
    assert follower.listening.wait(WAIT)
    after = any_db_desk.customers.create("After the gap")
    assert collected.next(lambda c: c.entity == "customer").id == after.id
    assert follower.connections >= 2 and follower.backend_pid != pid
    assert [c.id for c in collected.all if c.entity == "customer"] == [in_the_gap.id, after.id]


def test_events_follow_json_prints_a_change_made_by_another_process(any_db_desk, data_dir):
    process = giftdesk_process(any_db_desk, data_dir, "--json", "events", "--follow", "--since", "10m",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True)
    reader.start()
    try:
        customer = any_db_desk.customers.create("Followed")
        while True:
            record = json.loads(lines.get(timeout=WAIT))
            if record["entity"] == "customer":
                break
        assert {k: record[k] for k in ("entity", "id", "action", "actor")} == {
            "entity": "customer", "id": customer.id, "action": "created", "actor": "owner"}
        assert record["at"].endswith("+00:00")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=WAIT)
        reader.join(WAIT)
        errors = process.stderr.read()
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == 0, errors


def test_the_runtime_service_publishes_changes_on_the_event_bus(any_db_desk):
    from giftdesk.runtime.supervisor import Supervisor

    bus = EventBus()
    arrived: queue.Queue = queue.Queue()
    bus.subscribe(ChangeArrived, arrived.put)
    bus.subscribe(ResyncNeeded, arrived.put)
    supervisor = Supervisor(bus)
    service = supervisor.add(ChangeFeedService(any_db_desk.db, bus, poll_interval=0.05))
    supervisor.start()
    try:
        # Once the follower waits, a change made now is after its starting point.
        while service.follower is None or not service.follower.listening.is_set():
            threading.Event().wait(0.05)
        company = any_db_desk.companies.create("Bus Ltd")
        event = arrived.get(timeout=WAIT)
        assert isinstance(event, ChangeArrived)
        assert (event.entity, event.id, event.action) == ("company", company.id, "created")
        assert supervisor.status("change-feed").state == "running"
    finally:
        assert supervisor.stop(timeout=WAIT) == [], "the change feed's thread was left behind"


def test_a_restored_backup_gives_a_resync_and_the_feed_goes_on(desk, tmp_path):
    """Ids in the restored copy end below the last one seen: the follower resyncs, not waits for them."""
    desk.customers.create("In the backup")
    backup = desk.backups.create(tmp_path / "before.db")
    for name in ("After the backup", "And another"):
        desk.customers.create(name)
    collected = Collected()
    follower = ChangeFollower(desk.db, collected, poll_interval=0.05).start()
    try:
        assert follower.listening.wait(WAIT)
        desk.backups.restore(backup)
        follower.reconnect()  # what the runtime's service does on DatabaseReplaced
        assert collected.next().action == RESYNC
        later = desk.customers.create("After the restore")
        assert collected.next(lambda c: c.entity == "customer").id == later.id
    finally:
        assert follower.stop(timeout=10)


def test_bulk_updates_by_primary_key_and_core_social_syncs_are_recorded(any_db_desk):
    from datetime import datetime, timezone

    from sqlalchemy import update

    from giftdesk.feed import read_changes_since

    first, second = any_db_desk.customers.create("Bulk one"), any_db_desk.customers.create("Bulk two")
    since = datetime.now(timezone.utc)
    with any_db_desk.db.session() as session:
        session.execute(update(Customer), [{"id": first.id, "notes": "a"}, {"id": second.id, "notes": "b"}])
    profile = any_db_desk.social.create("Synced profile")
    any_db_desk.social.sync(profile.id, "tiktok", 1200, Decimal("3.5"), source="cli")
    changes = [(c.entity, c.id, c.action) for c in read_changes_since(any_db_desk.db, since)[0]]
    assert ("customer", first.id, "updated") in changes and ("customer", second.id, "updated") in changes
    assert changes[-1] == ("social_profile", profile.id, "updated")


def test_the_actor_is_whoever_the_desk_acts_for_audited_or_not(any_db_desk):
    from datetime import datetime, timezone

    from giftdesk.core.context import Actor
    from giftdesk.feed import read_changes_since

    since = datetime.now(timezone.utc)
    alice = any_db_desk.as_actor(Actor("alice", "admin"))
    customer = alice.customers.create("Alice's")
    with alice.ctx.db.session() as session:  # a write no audit entry names
        session.get(Customer, customer.id).notes = "quietly"
    assert [(c.action, c.actor) for c in read_changes_since(any_db_desk.db, since)[0]] == [
        ("created", "alice"), ("updated", "alice")]


def test_events_follow_in_text_ends_cleanly_on_ctrl_c(desk, data_dir):
    customer = desk.customers.create("Seen before Ctrl+C")
    process = giftdesk_process(desk, data_dir, "events", "--follow", "--since", "10m",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for line in process.stdout:
            if f"customer {customer.id} created by owner" in line:
                break
    finally:
        process.send_signal(signal.SIGINT)
        out, errors = process.communicate(timeout=WAIT)
    assert process.returncode == 0, errors


def test_other_processes_changes_become_this_processs_events_and_its_own_are_not_repeated(any_db_desk, data_dir):
    """The desk relays what the feed brings from elsewhere as the events its own services publish."""
    from giftdesk.accounts.events import CustomerChanged, KeyChanged
    from giftdesk.runtime.supervisor import Supervisor

    desk = any_db_desk
    seen: queue.Queue = queue.Queue()
    for kind in (CustomerChanged, KeyChanged, ChangeArrived):
        desk.events.subscribe(kind, seen.put)
    supervisor = Supervisor(desk.events)
    service = supervisor.add(ChangeFeedService(desk.db, desk.events, poll_interval=0.05))
    supervisor.start()
    try:
        while service.follower is None or not service.follower.listening.is_set():
            threading.Event().wait(0.05)
        mine = desk.customers.create("Made here")
        # A relayed event would be published inside the feed's ChangeArrived, before this queue gets that:
        # so once both are in, every CustomerChanged there will be is in.
        own = _drain_until_all(seen, lambda e: isinstance(e, ChangeArrived) and e.id == mine.id,
                               lambda e: e == CustomerChanged(mine.id))
        [feed] = [e for e in own if isinstance(e, ChangeArrived)]
        assert feed.here and [e for e in own if isinstance(e, CustomerChanged)] == [CustomerChanged(mine.id)]
        run_giftdesk(desk, data_dir, "customer", "add", "--name", "Made elsewhere")
        elsewhere = desk.customers.list("Made elsewhere")[0]
        got = _drain(seen, until=lambda e: isinstance(e, ChangeArrived) and e.id == elsewhere.id)
        assert not got[-1].here and CustomerChanged(elsewhere.id) in got  # relayed as if made here
        account = desk.customers.add_account(mine.id, "relay_me")
        run_giftdesk(desk, data_dir, "key", "generate", "--account", str(account.id))
        got = _drain(seen, until=lambda e: isinstance(e, ChangeArrived) and e.entity == "key")
        assert got[-1].id == account.id  # a key is named by its account
        assert KeyChanged(account.id, "changed") in got
    finally:
        assert supervisor.stop(timeout=WAIT) == [], "the change feed's thread was left behind"


def _drain_until_all(events: queue.Queue, *conditions) -> list:
    got: list = []
    while not all(any(condition(e) for e in got) for condition in conditions):
        got.append(events.get(timeout=WAIT))
    return got


def _drain(events: queue.Queue, until, timeout: float = WAIT) -> list:
    got = []
    while True:
        try:
            event = events.get(timeout=timeout)
        except queue.Empty:
            return got
        got.append(event)
        if until(event):
            return got
