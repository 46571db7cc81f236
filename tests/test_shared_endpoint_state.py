"""What several endpoints on one database share: the social sync limit (PostgreSQL) and last-access
times. Each endpoint here is a Desk of its own on the same database, as a serve process would be;
tests/runtime/test_serves_behind_nginx.py does it with real processes behind a load balancer."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest

from giftdesk.accounts.tracker_gateway import TrackerGateway
from giftdesk.desk import Desk
from giftdesk.social.http import SocialSyncHandler
from giftdesk.social.sync_limit import DatabaseSyncLimiter
from tests.conftest import POSTGRES_URL, _reset_postgres, require_service


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def two_endpoints(tmp_path):
    """Two Desks (separate data directories) on one fresh PostgreSQL database, and a linked profile's key."""
    require_service(bool(POSTGRES_URL), "PostgreSQL (GIFTDESK_TEST_DATABASE_URL)")
    _reset_postgres(POSTGRES_URL)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = Desk.open(str(tmp_path / "a"), database_url=POSTGRES_URL)
    second = Desk.open(str(tmp_path / "b"), database_url=POSTGRES_URL)
    customer = first.customers.create("Yash")
    account = first.customers.add_account(customer.id, "yash_live")
    key = first.keys.generate(account.id)
    profile = first.social.create("Yash Gupta", account_id=account.id)
    yield first, second, profile, key
    second.close()
    first.close()


def _sync(handler: SocialSyncHandler, key: str, followers: int):
    return handler.handle("tiktok", f"Bearer {key}".encode(), json.dumps({"followers": followers}).encode(),
                          "127.0.0.1")


def test_the_sync_limit_holds_across_endpoints_taking_turns(two_endpoints):
    first, second, profile, key = two_endpoints
    clock = Clock()
    handlers = [SocialSyncHandler(first.social, clock=clock), SocialSyncHandler(second.social, clock=clock)]
    assert all(isinstance(h.syncs, DatabaseSyncLimiter) for h in handlers)
    answers = []
    for i in range(12):
        clock.now += 1
        answers.append(_sync(handlers[i % 2], key, i))
    assert [status for status, _, _ in answers] == [200] * 10 + [429] * 2
    status, body, headers = answers[10]
    assert body == {"message": "Too many sync requests", "error": "Please wait before syncing again"}
    assert dict(headers)["Retry-After"] == "50"  # the first of the 10 leaves the window 50 s from now
    assert dict(answers[9][2])["RateLimit-Remaining"] == "0"
    assert first.social.get(profile.id).platforms["tiktok"].followers == 9

    clock.now += 49.1  # the first sync is now a minute old (the second not): one more, on either endpoint
    assert _sync(handlers[1], key, 100)[0] == 200
    assert _sync(handlers[0], key, 101)[0] == 429


def test_the_sync_limit_is_exact_when_endpoints_ask_at_once(two_endpoints):
    first, second, _profile, key = two_endpoints
    handlers = [SocialSyncHandler(first.social), SocialSyncHandler(second.social)]  # the database's clock
    statuses: list[int] = []
    start = threading.Barrier(16)

    def post(n: int) -> None:
        start.wait(timeout=10)
        statuses.append(_sync(handlers[n % 2], key, n)[0])

    threads = [threading.Thread(target=post, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200] * 10 + [429] * 6


def test_a_later_access_is_never_overwritten_by_an_earlier_one_from_another_endpoint(any_db_desk):
    customer = any_db_desk.customers.create("Yash")
    account = any_db_desk.customers.add_account(customer.id, "yash_live")
    any_db_desk.keys.generate(account.id)
    newer, older = TrackerGateway(any_db_desk.db, any_db_desk.events), TrackerGateway(any_db_desk.db, any_db_desk.events)
    later = datetime(2026, 5, 1, 9, 30, 2, 120331, tzinfo=timezone.utc)

    newer._accessed[account.id] = later.timestamp()
    newer.flush_access_times()
    older._accessed[account.id] = (later - timedelta(seconds=1)).timestamp()  # its flush comes second
    older.flush_access_times()
    assert any_db_desk.keys.get(account.id).last_accessed_at == later

    older._accessed[account.id] = (later + timedelta(microseconds=1)).timestamp()
    older.flush_access_times()
    assert any_db_desk.keys.get(account.id).last_accessed_at == later + timedelta(microseconds=1)


def test_a_batch_counts_all_its_platforms_or_none_across_endpoints(two_endpoints):
    first, second, profile, key = two_endpoints
    clock = Clock()
    limits = [SocialSyncHandler(first.social, clock=clock).syncs, SocialSyncHandler(second.social, clock=clock).syncs]
    assert all(isinstance(limit, DatabaseSyncLimiter) for limit in limits)
    account_id = first.social.get(profile.id).account_id
    assert limits[0].hit_all_or_none(account_id, 6) is None  # six platforms in one batch
    clock.now += 1
    wait = limits[1].hit_all_or_none(account_id, 5)  # the other endpoint: 6 + 5 > 10, none counted
    assert wait is not None and 0 < wait <= 60
    assert limits[1].hit_all_or_none(account_id, 4) is None  # 6 + 4 = 10 still fits
    assert limits[0].hit(account_id)[0] is not None  # and the 11th is refused
