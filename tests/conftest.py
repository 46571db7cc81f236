"""Shared fixtures: every test gets its own data directory, database and secret store.

Database tests run on SQLite and, when ``GIFTDESK_TEST_DATABASE_URL`` names a PostgreSQL
database, on PostgreSQL too (the ``any_db_desk`` fixture). Services a test needs but that are
absent are a skip on a workstation and a failure under CI (``CI`` set).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from sqlalchemy import create_engine, text

from giftdesk.desk import Desk

POSTGRES_URL = os.environ.get("GIFTDESK_TEST_DATABASE_URL")


def require_service(available: bool, what: str) -> None:
    """Skip locally when ``what`` is missing; under CI a missing service is a failure."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required under CI but is not available")
    pytest.skip(f"{what} is not available here")


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path, monkeypatch):
    # Tests use the file secret store unless they ask for the real keyring (see test_secrets).
    monkeypatch.setenv("GIFTDESK_KEYRING", "file")
    monkeypatch.delenv("GIFTDESK_DATA_DIR", raising=False)
    monkeypatch.delenv("GIFTDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))


@pytest.fixture
def data_dir(tmp_path):
    path = tmp_path / "data"
    path.mkdir()
    return path


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def desk(data_dir):
    """A Desk on a fresh SQLite file, acting as the data directory's owner (admin)."""
    opened = Desk.open(str(data_dir))
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_desk(request, data_dir):
    """The same test on SQLite and on PostgreSQL (the latter skipped or failed as require_service says)."""
    if request.param == "sqlite":
        opened = Desk.open(str(data_dir))
    else:
        require_service(bool(POSTGRES_URL), "PostgreSQL (GIFTDESK_TEST_DATABASE_URL)")
        _reset_postgres(POSTGRES_URL)
        opened = Desk.open(str(data_dir), database_url=POSTGRES_URL)
    yield opened
    opened.close()


@pytest.fixture
def make_account(desk):
    """Creates a customer with a TikTok account and an API key; returns (account_row, api_key)."""
    counter = iter(range(1, 10_000))

    def make(username: str | None = None, customer_name: str = "Customer"):
        n = next(counter)
        customer = desk.customers.create(f"{customer_name} {n}")
        account = desk.customers.add_account(customer.id, username or f"tracker_{n}")
        return account, desk.keys.generate(account.id)

    return make
