"""The customer list read straight from a SQLite file with ``sqlite3``, without the ORM.

The window's first paint lists the customers before SQLAlchemy (a quarter of a second to import)
is loaded. This is ``CustomerService.list()`` without a search: the same SQL, the same rows
(tests/test_customers.py compares the two); every other read goes through the service.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from giftdesk.accounts.rows import CustomerRow

# What SQLAlchemy compiles ``CustomerService.list()`` to for SQLite.
CUSTOMER_LIST_SQL = (
    "SELECT customers.id, customers.name, customers.email, customers.company, customers.notes, "
    "customers.created_at, customers.updated_at, "
    "(SELECT count(tiktok_accounts.id) FROM tiktok_accounts WHERE tiktok_accounts.customer_id = customers.id) "
    "FROM customers ORDER BY lower(customers.name), customers.id"
)


def _utc(value: str | None) -> datetime | None:
    """A stored UTC time as the models' ``UTCDateTime`` hands it back (aware, UTC)."""
    if value is None:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


def read_customer_list(connection: sqlite3.Connection) -> list[CustomerRow]:
    """Every customer with its account count, ordered by name, as ``CustomerService.list()``."""
    rows = connection.execute(CUSTOMER_LIST_SQL).fetchall()
    return [CustomerRow(id_, name, email, company, notes, _utc(created), _utc(updated), count)
            for id_, name, email, company, notes, created, updated, count in rows]
