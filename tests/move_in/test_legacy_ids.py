"""An imported account keeps its old 24-hex id: the endpoint answers trackers that call with it
exactly as with our numeric id, and the account's views show it."""

from __future__ import annotations

import httpx
import pytest
from giftdesk.db.models import AccountLegacyId
from giftdesk.db.credentials import renew_credentials_generation
from tests.endpoint.conftest import account, client, endpoint, gateway, start_endpoint  # noqa: F401
from tests.support.cli import make_cli

OLD_ID = "68f0b398d9073c50c7bb1b2f"


def _give_old_id(desk, account_id: int, old_id: str = OLD_ID) -> None:
    with desk.db.session() as session:
        session.add(AccountLegacyId(account_id=account_id, legacy_id=old_id))
        renew_credentials_generation(session)


def test_the_migration_makes_the_columns_the_models_describe(any_db_desk):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from giftdesk.db.models import Base

    with any_db_desk.db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if "legacy_ids" in repr(d) or "adopted_container" in repr(d)] == []


def test_the_old_id_is_unique(desk, make_account):
    first, _ = make_account()
    second, _ = make_account()
    _give_old_id(desk, first.id)
    with pytest.raises(Exception):
        _give_old_id(desk, second.id)


def test_the_endpoint_answers_the_old_id_in_path_and_header(desk, make_account, endpoint, gateway):  # noqa: F811
    row, key = make_account()
    other, other_key = make_account()
    desk.tracker_data.save_gift_groups(row.id, {"g1": {"name": "VIP", "color": "#ff0000", "giftIds": [1]}})
    _give_old_id(desk, row.id)
    gateway.reload_everything()
    with httpx.Client(base_url=f"http://127.0.0.1:{endpoint.port}", timeout=10) as http:
        by_old = http.get(f"/api/instances/{OLD_ID}/gift-groups", headers={"X-API-Key": key, "X-Account-ID": OLD_ID})
        by_new = http.get(f"/api/instances/{row.id}/gift-groups", headers={"X-API-Key": key, "X-Account-ID": str(row.id)})
        assert by_old.status_code == 200 and by_old.content == by_new.content
        assert by_old.json()["data"]["g1"]["name"] == "VIP"
        saved = http.post(f"/api/instances/{OLD_ID}/config", json={"theme": "dark"},
                          headers={"X-API-Key": key, "X-Account-ID": OLD_ID})
        assert saved.status_code == 200
        assert desk.tracker_data.get(row.id, "config") == {"theme": "dark"}
        # Another account's key under the old id, a mixed pair, an unknown old id: refused alike.
        for headers, path in (({"X-API-Key": other_key, "X-Account-ID": OLD_ID}, OLD_ID),
                              ({"X-API-Key": key, "X-Account-ID": str(row.id)}, OLD_ID),
                              ({"X-API-Key": key, "X-Account-ID": "0" * 24}, "0" * 24)):
            assert http.get(f"/api/instances/{path}/gift-groups", headers=headers).status_code == 401


def test_the_account_and_its_instances_show_the_old_id(desk, make_account, capsys):
    row, _key = make_account()
    _give_old_id(desk, row.id)
    assert desk.customers.get_account(row.id).legacy_id == OLD_ID
    cli = make_cli(capsys, "--data-dir", str(desk.paths.root))
    shown = cli.json("account", "show", str(row.id))
    assert shown["legacyId"] == OLD_ID and shown["id"] == row.id


def test_migration_0011b_goes_down_and_up(any_db_desk):
    from alembic import command
    from sqlalchemy import inspect

    from giftdesk.db.migrate import SCHEMA_HEAD, _alembic_config, current_revision, upgrade

    config = _alembic_config()
    with any_db_desk.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    assert "account_legacy_ids" not in inspect(any_db_desk.db.engine).get_table_names()
    assert "adopted_container_id" not in {c["name"] for c in inspect(any_db_desk.db.engine).get_columns("instances")}
    upgrade(any_db_desk.db)
    assert current_revision(any_db_desk.db) == SCHEMA_HEAD
    assert "account_legacy_ids" in inspect(any_db_desk.db.engine).get_table_names()
