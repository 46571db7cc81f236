"""The Desk makes its Fampage, orders, invoices, companies, analytics and social services on first
use: opening one imports none of their modules; each is made once, whichever thread asks first; a
Desk acting as someone else still shares the one Fampage connection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from giftdesk.core.context import Actor

REPO = Path(__file__).resolve().parents[1]


def test_opening_a_desk_imports_none_of_them(tmp_path):
    script = r"""
import json, sys
from giftdesk.desk import Desk
desk = Desk.open(sys.argv[1])
desk.customers.create("Alpha Agency")
print(json.dumps([m for m in ("httpx", "giftdesk.fampage.client", "giftdesk.fampage.orders",
                              "giftdesk.fampage.invoices", "giftdesk.fampage.analytics",
                              "giftdesk.social.service") if m in sys.modules]))
desk.close()
"""
    env = {**os.environ, "GIFTDESK_KEYRING": "file", "PYTHONPATH": str(REPO)}
    env.pop("GIFTDESK_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "data")], capture_output=True, text=True,
                            env=env, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_opening_a_sqlite_desk_and_listing_its_customers_loads_no_orm(tmp_path):
    """The window's first paint lists the customers before SQLAlchemy is loaded: opening a current
    SQLite database (schema check, instance id) and ``customer_list`` read the file with sqlite3."""
    script = r"""
import json, sys
from giftdesk.desk import Desk
desk = Desk.open(sys.argv[1], check_integrity=True)
names = [row.name for row in desk.customer_list()]
loaded = [m for m in ("sqlalchemy", "giftdesk.db.models", "alembic") if m in sys.modules]
count = len(desk.customers.list())  # the service, on first use, loads it
print(json.dumps([names, loaded, "sqlalchemy" in sys.modules, count]))
desk.close()
"""
    env = {**os.environ, "GIFTDESK_KEYRING": "file", "PYTHONPATH": str(REPO)}
    env.pop("GIFTDESK_DATABASE_URL", None)
    data = tmp_path / "data"
    first = subprocess.run([sys.executable, "-c", script, str(data)], capture_output=True, text=True, env=env,
                           cwd=REPO, timeout=60)  # creates and migrates the database: the ORM is loaded
    assert first.returncode == 0, first.stderr[-3000:]
    from giftdesk.desk import Desk

    desk = Desk.open(str(data))
    desk.customers.create("beta Media")
    desk.customers.create("Alpha Agency")
    desk.close()
    result = subprocess.run([sys.executable, "-c", script, str(data)], capture_output=True, text=True, env=env,
                            cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [["Alpha Agency", "beta Media"], [], True, 2]


def test_each_is_made_once_whichever_thread_asks_first(desk):
    seen: list = []
    start = threading.Barrier(4)

    def ask() -> None:
        start.wait()
        seen.append((desk.orders, desk.fampage, desk.social))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(orders) for orders, _f, _s in seen}) == 1
    orders, fampage, social = seen[0]
    assert orders.fampage is fampage is desk.fampage and social is desk.social
    assert orders.companies is desk.companies and orders.invoices is desk.invoices
    assert desk.invoice_documents.invoices is desk.invoices


def test_a_desk_acting_as_someone_else_shares_the_fampage_connection(desk):
    other = desk.as_actor(Actor("alice", "operator"))
    assert other.fampage._conn is desk.fampage._conn  # noqa: SLF001
    assert other.fampage is not desk.fampage and other.fampage.ctx.actor.username == "alice"
