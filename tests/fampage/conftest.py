"""Fixtures for the Fampage tests: a fake panel on 127.0.0.1 and desks/clients pointed at it."""

from __future__ import annotations

import httpx
import pytest

from giftdesk.fampage.client import FampageClient
from tests.support.fake_fampage import API_KEY, FakeFampage


@pytest.fixture
def fake():
    with FakeFampage() as server:
        yield server


@pytest.fixture
def calls():
    return []


@pytest.fixture
def client(fake, calls):
    with httpx.Client() as http:
        yield FampageClient(http, fake.url, API_KEY, log_sink=calls.append, backoff=0.01, read_timeout=2,
                            add_timeout=2)


def point_desk_at(desk, fake) -> None:
    desk.settings.update({"fampage.base_url": fake.url})
    desk.settings.set_fampage_api_key(API_KEY)


@pytest.fixture
def fdesk(desk, fake):
    """A SQLite desk whose Fampage settings point at the fake."""
    point_desk_at(desk, fake)
    desk.fampage.backoff = 0.01
    return desk


@pytest.fixture
def any_fdesk(any_db_desk, fake):
    point_desk_at(any_db_desk, fake)
    any_db_desk.fampage.backoff = 0.01
    return any_db_desk
