"""Schema, migrations, SQLite pragmas and file safety, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, inspect, select, text

from giftdesk.db import Database
from giftdesk.db.migrate import SCHEMA_HEAD, current_revision, head_revision, upgrade
from giftdesk.db.models import Customer
from giftdesk.db.types import DecimalText
from giftdesk.desk import Desk

EXPECTED_TABLES = {
    "administrators", "customers", "tiktok_accounts", "tracker_credentials", "tracker_data",
    "settings", "audit_log", "alembic_version",
}


def test_schema_is_at_head_with_every_table(any_db_desk):
    assert current_revision(any_db_desk.db) == head_revision()
    assert EXPECTED_TABLES <= set(inspect(any_db_desk.db.engine).get_table_names())


def test_schema_head_constant_matches_the_migration_scripts():
    from giftdesk.db.migrate import SCHEMA_HEAD

    assert SCHEMA_HEAD == head_revision()


def test_sqlite_runs_wal_with_foreign_keys(desk):
    with desk.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_database_file_and_data_dir_are_owner_only(desk):
    mode = stat.S_IMODE(os.stat(desk.paths.database).st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(os.stat(desk.paths.root).st_mode) == 0o700


def test_foreign_keys_cascade_account_rows(any_db_desk):
    customer = any_db_desk.customers.create("Cascade")
    account = any_db_desk.customers.add_account(customer.id, "cascade_me")
    any_db_desk.keys.generate(account.id)
    any_db_desk.tracker_data.save_config(account.id, {"theme": "dark"})
    any_db_desk.customers.delete(customer.id)
    with any_db_desk.db.read_session() as session:
        for table in ("tiktok_accounts", "tracker_credentials", "tracker_data"):
            assert session.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0


def test_failed_transaction_leaves_nothing(any_db_desk):
    with pytest.raises(RuntimeError):
        with any_db_desk.db.session() as session:
            session.add(Customer(name="Half written"))
            session.flush()
            raise RuntimeError("boom")
    assert any_db_desk.customers.list() == []


def test_a_one_statement_read_opens_no_transaction_and_leaves_the_connection_as_it_was(any_db_desk):
    db = any_db_desk.db
    any_db_desk.settings.update({"tracker.port_start": 3210})
    assert any_db_desk.settings.get("tracker.port_start") == 3210  # read with one statement
    with db.one_statement_read() as connection:
        assert connection.execute(select(Customer.id)).all() == []
        raw = connection.connection.dbapi_connection
        if db.is_sqlite:
            assert not raw.in_transaction
        else:
            from psycopg.pq import TransactionStatus

            assert raw.info.transaction_status == TransactionStatus.IDLE
    # The pooled connection goes back to transactions: a failed write still leaves nothing.
    with pytest.raises(RuntimeError):
        with db.session() as session:
            session.add(Customer(name="Half written"))
            session.flush()
            raise RuntimeError("boom")
    assert any_db_desk.customers.list() == []


def test_decimal_text_round_trips_exactly(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'money.db'}")
    table = Table("money", MetaData(), Column("id", Integer, primary_key=True), Column("amount", DecimalText))
    table.metadata.create_all(db.engine)
    with db.session() as session:
        session.execute(table.insert(), [{"amount": Decimal("0.1")}, {"amount": Decimal("14.928")}])
    with db.read_session() as session:
        values = [row.amount for row in session.execute(select(table.c.amount).order_by(table.c.id))]
    assert values == [Decimal("0.1"), Decimal("14.928")]
    assert all(isinstance(v, Decimal) for v in values)
    with pytest.raises(Exception):
        with db.session() as session:
            session.execute(table.insert(), [{"amount": 0.1}])


def test_migration_copies_the_file_before_upgrading(data_dir):
    desk = Desk.open(str(data_dir))
    desk.customers.create("Kept through migration")
    desk.close()
    # Pretend the file is one revision older: a future migration must find a copy made first.
    conn = sqlite3.connect(data_dir / "giftdesk.db")
    conn.execute("UPDATE alembic_version SET version_num = 'base_for_test'")
    conn.commit()
    conn.close()
    db = Database(f"sqlite:///{data_dir / 'giftdesk.db'}")
    backups = data_dir / "backups"
    with pytest.raises(Exception):
        upgrade(db, backups)  # unknown revision: alembic refuses, but the copy exists already
    copies = list(backups.glob("pre-migration-base_for_test-*.db"))
    assert len(copies) == 1
    copy = sqlite3.connect(copies[0])
    assert copy.execute("SELECT name FROM customers").fetchall() == [("Kept through migration",)]
    copy.close()
    db.dispose()


def test_fresh_database_is_not_copied(data_dir):
    Desk.open(str(data_dir)).close()
    assert list((data_dir / "backups").glob("pre-migration-*")) == []


def test_concurrent_writers_queue_instead_of_failing(desk):
    errors = []

    def write(n):
        try:
            for i in range(20):
                desk.customers.create(f"writer {n}-{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(desk.customers.list()) == 80


def test_database_url_from_environment(data_dir, monkeypatch, tmp_path):
    other = tmp_path / "elsewhere.db"
    monkeypatch.setenv("GIFTDESK_DATABASE_URL", f"sqlite:///{other}")
    desk = Desk.open(str(data_dir))
    assert desk.db.sqlite_path == other
    assert other.exists()
    desk.close()


def test_data_dir_from_environment(tmp_path, monkeypatch):
    target = tmp_path / "from-env"
    monkeypatch.setenv("GIFTDESK_DATA_DIR", str(target))
    desk = Desk.open()
    assert desk.paths.root == target.resolve()
    assert (target / "giftdesk.db").exists()
    desk.close()


def test_migration_0005_upgrades_from_0004_with_a_token_and_working_triggers(any_db_desk):
    """From the previous head: the generation table and its triggers come (and go, and come back)."""
    from alembic import command

    from giftdesk.db.migrate import _alembic_config
    from giftdesk.db.credentials import credentials_generation

    def generation() -> str | None:
        with any_db_desk.db.read_session() as session:
            return credentials_generation(session)

    customer = any_db_desk.customers.create("Before 0005")
    account = any_db_desk.customers.add_account(customer.id, "before_0005")
    any_db_desk.keys.generate(account.id)
    config = _alembic_config()
    with any_db_desk.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    assert current_revision(any_db_desk.db) == "0004"
    assert "credentials_generation" not in inspect(any_db_desk.db.engine).get_table_names()
    any_db_desk.keys.regenerate(account.id)  # no trigger left behind to trip over the missing table

    upgrade(any_db_desk.db)
    assert current_revision(any_db_desk.db) == SCHEMA_HEAD
    first = generation()
    assert first is not None and len(first) == 32
    any_db_desk.keys.regenerate(account.id)
    assert generation() not in (None, first)


def test_migration_0006_gives_every_instance_its_own_uid_and_the_journal_table(any_db_desk):
    """Existing instances get distinct uids on the way up; down and up again works on both databases."""
    from alembic import command

    from giftdesk.db.fleet_models import Instance
    from giftdesk.db.migrate import _alembic_config

    config = _alembic_config()
    with any_db_desk.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    assert current_revision(any_db_desk.db) == "0005"
    assert "instance_operations" not in inspect(any_db_desk.db.engine).get_table_names()
    with any_db_desk.db.engine.begin() as connection:
        for number in (1, 2):
            connection.execute(text(
                "INSERT INTO instances (name, status, tiktok_username, port, backend_api_url, debug_mode, engine, "
                "image, network, publish_address, restart_policy, created_at, updated_at) VALUES "
                f"('old-{number}', 'exited', 'someone', {4000 + number}, 'http://x', false, '', 'img', 'bridge', "
                "'127.0.0.1', 'no', '2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00+00:00')"))

    upgrade(any_db_desk.db)
    assert current_revision(any_db_desk.db) == SCHEMA_HEAD
    with any_db_desk.db.read_session() as session:
        uids = [i.uid for i in session.scalars(select(Instance))]
    assert len(uids) == 2 and len(set(uids)) == 2 and all(len(u) == 32 for u in uids)
    assert "instance_operations" in inspect(any_db_desk.db.engine).get_table_names()
    with pytest.raises(Exception):  # unique
        with any_db_desk.db.engine.begin() as connection:
            connection.execute(text(f"UPDATE instances SET uid = '{uids[0]}' WHERE name = 'old-2'"))


def test_migration_0007_adds_and_drops_the_client_description(any_db_desk):
    """Down to 0006 drops the column (descriptions are the reseller's words, nothing else needs them); up adds it."""
    from alembic import command

    from giftdesk.db.migrate import _alembic_config

    def columns():
        return {c["name"] for c in inspect(any_db_desk.db.engine).get_columns("fampage_services")}

    assert "client_description" in columns()
    config = _alembic_config()
    with any_db_desk.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    assert current_revision(any_db_desk.db) == "0006" and "client_description" not in columns()
    upgrade(any_db_desk.db)
    assert current_revision(any_db_desk.db) == SCHEMA_HEAD and "client_description" in columns()


@pytest.mark.parametrize("url", ["sqlite:////tmp/a b/giftdesk.db", "sqlite:///relative/giftdesk.db", "sqlite://",
                                 "sqlite:///:memory:", "sqlite+pysqlite:////tmp/x.db", "sqlite:////tmp/x.db?timeout=5",
                                 "sqlite:////tmp/caf%C3%A9.db", "postgresql+psycopg://u:p@host/db"])
def test_the_file_of_a_url_read_without_sqlalchemy_is_the_one_it_parses(url):
    """``sqlite_file`` reads a data directory's plain URL itself (start-up imports no SQLAlchemy
    for it); what it gives is what SQLAlchemy's parse gives."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from giftdesk.db.engine import sqlite_file

    parsed = make_url(url)
    expected = (Path(parsed.database) if parsed.get_backend_name() == "sqlite"
                and parsed.database not in (None, "", ":memory:") else None)
    assert sqlite_file(url) == expected
