"""Shared fixtures: every test gets its own data directory, database and secret store.

Database tests run on SQLite and, when ``GIFTDESK_TEST_DATABASE_URL`` names a PostgreSQL
database, on PostgreSQL too (the ``any_db_desk`` fixture). Services a test needs but that are
absent are a skip on a workstation and a failure under CI (``CI`` set).
"""

from __future__ import annotations

import faulthandler
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from sqlalchemy import create_engine, text

from giftdesk.desk import Desk

POSTGRES_URL = os.environ.get("GIFTDESK_TEST_DATABASE_URL")

# ---- deadlines -----------------------------------------------------------------------------
# pytest-timeout fails a test at its deadline (``timeout`` in pyproject.toml, or the test's
# ``@pytest.mark.timeout(N)``) with every thread's stack. A deadlock in C that holds the GIL never
# lets that signal handler run, so faulthandler's watchdog thread, which needs no GIL, dumps the
# stacks and ends the whole run a little later: a hang costs seconds, never CI's time limit.
_WATCHDOG_GRACE = float(os.environ.get("GIFTDESK_TEST_WATCHDOG_GRACE", "30"))
_watchdog_file = None


def pytest_configure(config):
    global _watchdog_file
    # Its own copy of the terminal's stderr: pytest replaces fd 2 while a test runs.
    _watchdog_file = os.fdopen(os.dup(sys.__stderr__.fileno()), "w")
    _stretch_qtbot_waits()


# A wait for a condition returns as soon as it holds, so its limit only matters when something is
# wrong; on CI's loaded 2 cores a 5 s limit written on a quiet machine is a coin toss. Every
# qtbot.waitUntil limit is stretched (the test's own deadline above still bounds the whole test).
WAIT_STRETCH = float(os.environ.get("GIFTDESK_TEST_WAIT_STRETCH", "3"))


def _stretch_qtbot_waits() -> None:
    try:
        from pytestqt.qtbot import QtBot
    except ImportError:
        return
    if getattr(QtBot.waitUntil, "_stretched", False):
        return
    wait_until = QtBot.waitUntil

    def stretched(self, callback, *, timeout: int = 5000):
        return wait_until(self, callback, timeout=int(timeout * WAIT_STRETCH))

    stretched._stretched = True
    QtBot.waitUntil = stretched


def pytest_unconfigure(config):
    if _watchdog_file is not None:
        faulthandler.cancel_dump_traceback_later()
        _watchdog_file.close()


def _deadline(item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    configured = item.config.getoption("timeout", None) or item.config.getini("timeout")
    return float(configured or 0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    seconds = _deadline(item)
    if seconds > 0:
        faulthandler.dump_traceback_later(seconds + _WATCHDOG_GRACE, exit=True, file=_watchdog_file)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


# ---- property tests ----------------------------------------------------------------------
# Under CI the generated examples are the same on every run (derandomize): a case that fails
# fails every time and can be reproduced, instead of one run in fifty going red by chance.
# Locally they stay random, to find new cases.
try:
    from hypothesis import settings as _hypothesis_settings

    _hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
    if os.environ.get("CI"):
        _hypothesis_settings.load_profile("ci")
except ImportError:  # the lowest-PySide6 job may run without the test extra's property tools
    pass


# ---- Qt -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def qapp():
    """pytest-qt's application, made as the console makes it (theme, GUI-thread-only collector)."""
    from giftdesk.gui.app import create_application

    return create_application()


@pytest.fixture(autouse=True)
def _collect_garbage_on_this_thread():
    """With a Qt application made, the cyclic collector runs only on the main thread: between
    tests too, so a test that never spins the event loop does not pile up garbage."""
    yield
    guard_module = sys.modules.get("giftdesk.gui.gc_guard")
    guard = guard_module.installed() if guard_module is not None else None
    if guard is not None:
        guard.collect_due()


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
