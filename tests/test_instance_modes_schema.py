"""The instances' Swarm columns: what the migration makes is what the model says, on both databases."""

from __future__ import annotations


def test_the_migration_makes_the_instance_columns_the_model_describes(any_db_desk):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from giftdesk.db.models import Base

    with any_db_desk.db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        columns = {c["name"] for c in inspect(connection).get_columns("instances")}
    assert [d for d in differences if "instances" in repr(d)] == []
    assert {"mode", "service_id", "placement_constraints", "placement_preferences", "publish_mode"} <= columns
