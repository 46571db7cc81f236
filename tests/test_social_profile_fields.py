"""A profile's user id, rizz score, preferences, links and handles: the service's rules, what it
keeps, and the migration that adds them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import inspect, text

from giftdesk.core.errors import ConflictError, ValidationError
from giftdesk.social.profile_fields import Preferences

USER_ID = "68cec2a59b8985cfa07fe80a"


def test_a_new_profile_has_the_web_apps_defaults(any_db_desk):
    profile = any_db_desk.social.create("Defaults")
    assert profile.extras.user_id is None and profile.extras.rizz_score == 0
    assert profile.extras.preferences == Preferences()
    data = profile.to_json()
    assert data["preferences"] == {"audienceSize": {"min": 0, "max": 1000000}, "budget": {"min": 0, "max": 10000},
                                   "collaborationTypes": [], "locations": []}
    assert data["userId"] is None and data["rizzScore"] == 0 and data["socialLinks"] == {}


def test_every_field_is_kept_and_read_back_in_the_seeds_shape(any_db_desk):
    social = any_db_desk.social
    profile = social.create(
        "Yash Gupta", user_id=USER_ID.upper(), rizz_score="79", audience_min="1,000", audience_max=50000,
        budget_min="49.99", budget_max=Decimal("2500"), collaboration_types="Shoutout, live , shoutout",
        preferred_locations=["Delhi", "Mumbai"],
        social_links={"instagram": "https://www.instagram.com/yash", "YouTube": "http://youtu.be/abc"},
        platform_handles={"tiktok": "@yash.gupta", "twitch": ""})
    again = social.get(profile.id)
    assert again == profile
    data = again.to_json()
    assert data["userId"] == USER_ID and data["rizzScore"] == 79
    assert data["preferences"] == {"audienceSize": {"min": 1000, "max": 50000}, "budget": {"min": 49.99, "max": 2500},
                                   "collaborationTypes": ["shoutout", "live"], "locations": ["Delhi", "Mumbai"]}
    assert again.extras.preferences.budget_min == Decimal("49.99")
    assert data["platformHandles"] == {"tiktok": "yash.gupta"}
    assert data["socialLinks"] == {"tiktok": "https://www.tiktok.com/@yash.gupta",
                                   "instagram": "https://www.instagram.com/yash", "youtube": "http://youtu.be/abc"}


def test_links_and_handles_change_per_platform(desk):
    social = desk.social
    profile = social.create("Links", social_links={"instagram": "https://instagram.com/a",
                                                   "twitter": "https://x.com/a"})
    changed = social.update(profile.id, social_links={"instagram": None, "twitch": "https://www.twitch.tv/a"},
                            platform_handles={"youtube": "chan"})
    assert changed.extras.social_links == {"twitch": "https://www.twitch.tv/a", "twitter": "https://x.com/a"}
    assert changed.extras.platform_handles == {"youtube": "chan"}
    assert changed.to_json()["socialLinks"]["youtube"] == "https://www.youtube.com/@chan"


@pytest.mark.parametrize("fields, field, words", [
    ({"user_id": "68cec2a59b8985cfa07fe80"}, "user_id", "24 hexadecimal"),
    ({"user_id": 12}, "user_id", "24 hexadecimal"),
    ({"rizz_score": 101}, "rizz_score", "from 0 to 100"),
    ({"rizz_score": "-1"}, "rizz_score", "from 0 to 100"),
    ({"rizz_score": "7.5"}, "rizz_score", "whole number"),
    ({"rizz_score": True}, "rizz_score", "must be a number"),
    ({"rizz_score": "lots"}, "rizz_score", "must be a number"),
    ({"audience_min": -5}, "audience_min", "from 0"),
    ({"audience_max": "10000000001"}, "audience_max", "10,000,000,000"),
    ({"audience_min": 2_000_000}, "audience_min", "not be more than the largest"),
    ({"budget_min": "1e12"}, "budget_min", "1,000,000,000.00"),
    ({"budget_max": "-1"}, "budget_max", "from 0"),
    ({"budget_min": 20000}, "budget_min", "not be more than the largest"),
    ({"budget_min": float("nan")}, "budget_min", "must be a number"),
    ({"collaboration_types": ["x" * 51]}, "collaboration_types", "at most 50"),
    ({"collaboration_types": [f"t{i}" for i in range(21)]}, "collaboration_types", "at most 20"),
    ({"preferred_locations": [3]}, "preferred_locations", "list of texts"),
    ({"social_links": {"instagram": "instagram.com/account"}}, "social_links", "http:// or https://"),
    ({"social_links": {"instagram": "https://evil.example/instagram.com"}}, "social_links", "instagram.com"),
    ({"social_links": {"tiktok": "https://nottiktok.com/@a"}}, "social_links", "tiktok.com"),
    ({"social_links": {"myspace": "https://myspace.com/a"}}, "social_links", "unknown platforms"),
    ({"social_links": "https://x.com/a"}, "social_links", "name a platform"),
    ({"platform_handles": {"tiktok": "two words"}}, "platform_handles", "one word"),
    ({"platform_handles": {"tiktok": "a/b"}}, "platform_handles", "one word"),
    ({"platform_handles": {"tiktok": "x" * 101}}, "platform_handles", "at most 100"),
])
def test_bad_values_get_one_sentence_and_change_nothing(desk, fields, field, words):
    profile = desk.social.create("Steady", rizz_score=5, social_links={"twitter": "https://x.com/steady"})
    with pytest.raises(ValidationError) as caught:
        desk.social.update(profile.id, **fields)
    message = str(caught.value)
    assert caught.value.field.split(".")[0] == field and words in message
    assert message.endswith(".") and message.count(". ") == 0 and "\n" not in message
    assert desk.social.get(profile.id) == profile
    with pytest.raises(ValidationError):
        desk.social.create("Never stored", **fields)
    assert [p.display_name for p in desk.social.list()] == ["Steady"]


def test_a_user_id_belongs_to_one_profile(any_db_desk):
    social = any_db_desk.social
    social.create("First", user_id=USER_ID)
    second = social.create("Second")
    with pytest.raises(ConflictError, match="already belongs to the profile 'First'"):
        social.update(second.id, user_id=USER_ID)
    with pytest.raises(ConflictError):
        social.create("Third", user_id=USER_ID)
    assert social.get(second.id).extras.user_id is None
    assert social.update(second.id, user_id=None).extras.user_id is None


def test_a_sync_with_a_handle_keeps_it(desk):
    profile = desk.social.create("Handle", platform_handles={"twitch": "old"})
    synced = desk.social.sync(profile.id, "instagram", 10, source="cli", handle="@yash.gupta")
    assert synced.extras.platform_handles == {"instagram": "yash.gupta", "twitch": "old"}
    with pytest.raises(ValidationError):
        desk.social.sync(profile.id, "instagram", 20, source="cli", handle="two words")
    assert desk.social.get(profile.id).platforms["instagram"].followers == 10


def test_the_migration_makes_the_columns_the_models_describe(any_db_desk):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from giftdesk.db.models import Base

    with any_db_desk.db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if "social" in repr(d)] == []


def test_the_migration_fills_existing_profiles_and_goes_down_and_up(any_db_desk):
    from alembic import command

    from giftdesk.db.migrate import SCHEMA_HEAD, _alembic_config, current_revision, upgrade

    def columns():
        return {c["name"] for c in inspect(any_db_desk.db.engine).get_columns("social_profiles")}

    before = any_db_desk.social.create("Before", user_id=USER_ID, rizz_score=50)
    any_db_desk.social.sync(before.id, "tiktok", 1000, 7, source="cli")
    config = _alembic_config()
    with any_db_desk.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    assert current_revision(any_db_desk.db) == "0010"
    assert not {"user_id", "rizz_score", "social_links"} & columns()
    with any_db_desk.db.engine.begin() as connection:  # a profile made before the upgrade
        connection.execute(text("INSERT INTO social_profiles (display_name, niches, is_public, is_active, "
                                "total_followers, avg_engagement_centi, created_at, updated_at) VALUES "
                                "('Old', '[]', true, true, 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    upgrade(any_db_desk.db)
    assert current_revision(any_db_desk.db) == SCHEMA_HEAD
    old = next(p for p in any_db_desk.social.list() if p.display_name == "Old")
    extras = any_db_desk.social.get(old.id).extras
    assert extras.rizz_score == 0 and extras.preferences == Preferences() and extras.social_links == {}
    assert any_db_desk.social.update(old.id, user_id=USER_ID).extras.user_id == USER_ID
    # Rebuilding the table (SQLite) kept what hangs off it: platform stats and the sync history.
    kept = any_db_desk.social.get(before.id)
    assert kept.platforms["tiktok"].followers == 1000 and len(any_db_desk.social.history(before.id)) == 1


def test_the_profiles_csv_carries_the_fields(desk):
    import csv
    import io

    desk.social.create("Yash", user_id=USER_ID, rizz_score=79, budget_max="2500.5", collaboration_types="live,review",
                       platform_handles={"twitch": "yashlive"}, social_links={"youtube": "https://youtu.be/x"})
    out = io.StringIO()
    desk.social.export_profiles_csv(out)
    (row,) = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert (row["userId"], row["rizzScore"], row["budgetMax"], row["collaborationTypes"]) == (
        USER_ID, "79", "2500.50", "live;review")
    assert (row["audienceSizeMin"], row["audienceSizeMax"], row["budgetMin"]) == ("0", "1000000", "0.00")
    assert row["twitchHandle"] == "yashlive" and row["youtubeLink"] == "https://youtu.be/x" and row["tiktokLink"] == ""
