"""Social stats domain: profiles, validation, aggregates, syncs, history, metrics, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from giftdesk.db.social_models import SOCIAL_PLATFORMS, SocialPlatformStat, SocialSync
from giftdesk.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from giftdesk.core.context import Actor
from giftdesk.social.events import SocialProfileChanged
from giftdesk.social.records import compute_aggregates
from giftdesk.social.validation import (
    InvalidPlatformError,
    SyncValidationError,
    max_followers,
    validate_sync,
)

SEED_SAMPLE = [("tiktok", 1000, "7.5"), ("instagram", 15925, "2.91"), ("youtube", 7100, "2.66"), ("twitch", 0, 0)]
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _sync_sample(desk, profile_id):
    result = None
    for platform, followers, engagement in SEED_SAMPLE:
        result = desk.social.sync(profile_id, platform, followers, Decimal(str(engagement)), source="cli")
    return result


# ---- aggregates ------------------------------------------------------------------------------
def test_aggregates_of_the_seed_sample_follow_its_formula(any_db_desk):
    profile = any_db_desk.social.create("Yash Gupta", city="Delhi", state="Delhi", country="India")
    synced = _sync_sample(any_db_desk, profile.id)
    stats = synced.to_json()["stats"]
    assert stats["totalFollowers"] == 24025
    assert stats["avgEngagement"] == 4.36  # (7.5 + 2.91 + 2.66) / 3, twitch's 0 left out
    assert stats["platformBreakdown"]["tiktok"] == {"followers": 1000, "engagement": 7.5}
    assert stats["platformBreakdown"]["twitch"] == {"followers": 0, "engagement": 0}
    again = any_db_desk.social.get(profile.id)  # read back from the database, not the sync's answer
    assert (again.total_followers, again.avg_engagement) == (24025, Decimal("4.36"))


def test_aggregate_formula_edges():
    assert compute_aggregates([]) == (0, 0)
    assert compute_aggregates([(5, 0), (7, 0)]) == (12, 0)
    assert compute_aggregates([(1, 1), (1, 2)]) == (2, 2)  # 1.5 hundredths rounds half up
    assert compute_aggregates([(1, 100), (1, 101), (1, 101)]) == (3, 101)


# ---- validation at its edges ---------------------------------------------------------------------
@given(platform=st.sampled_from(SOCIAL_PLATFORMS), data=st.data())
def test_followers_within_the_limit_are_accepted_and_floored(platform, data):
    limit = max_followers(platform)
    whole = data.draw(st.integers(0, limit))
    fraction = data.draw(st.sampled_from(["", ".0", ".5", ".99"])) if whole < limit else ""
    values = validate_sync(platform, Decimal(f"{whole}{fraction}"))
    assert values.followers == whole and values.engagement_centi == 0


@given(platform=st.sampled_from(SOCIAL_PLATFORMS), excess=st.integers(1, 10**12))
def test_followers_above_the_platform_limit_are_refused(platform, excess):
    limit = max_followers(platform)
    with pytest.raises(SyncValidationError) as caught:
        validate_sync(platform, limit + excess)
    detail = caught.value.details[0]
    assert detail["type"] == "number.max" and detail["path"] == ["followers"]
    assert detail["context"]["limit"] == limit


def test_twitch_has_the_lower_limit():
    assert validate_sync("twitch", 10_000_000).followers == 10_000_000
    assert validate_sync("tiktok", 100_000_000).followers == 100_000_000
    with pytest.raises(SyncValidationError):
        validate_sync("twitch", 10_000_001)


@given(negative=st.one_of(st.integers(max_value=-1), st.decimals(max_value=Decimal("-0.0001"), allow_nan=False,
                                                                   allow_infinity=False)))
def test_negative_followers_are_refused_with_the_seed_message(negative):
    with pytest.raises(SyncValidationError) as caught:
        validate_sync("tiktok", negative)
    assert caught.value.to_json() == {"message": "Validation failed", "details": [{
        "message": '"followers" must be a positive number', "path": ["followers"], "type": "number.positive",
        "context": {"key": "followers", "value": caught.value.details[0]["context"]["value"]},
    }]}


def test_zero_followers_is_valid_where_the_seed_refused_it():
    assert validate_sync("instagram", 0).followers == 0


@pytest.mark.parametrize("missing", [None, "", "   "])
def test_missing_followers_has_the_seed_shape(missing):
    with pytest.raises(SyncValidationError) as caught:
        validate_sync("tiktok", missing, allow_text=True)
    assert caught.value.to_json() == {"message": "Validation failed", "details": [{
        "message": '"followers" is required', "path": ["followers"], "type": "any.required",
        "context": {"key": "followers", "label": "followers"}}]}
    assert str(caught.value) == 'Validation failed: "followers" is required'


@pytest.mark.parametrize("bad", ["1000", True, [1], {"n": 1}, float("nan"), float("inf"), Decimal("NaN")])
def test_followers_must_be_a_json_number(bad):
    with pytest.raises(SyncValidationError) as caught:
        validate_sync("tiktok", bad)
    assert caught.value.details[0]["type"] == "number.base"


def test_text_numbers_are_accepted_where_people_type_them():
    assert validate_sync("tiktok", "1,500", " 7.456 ", allow_text=True).followers == 1500
    assert validate_sync("tiktok", "1500", "7.456", allow_text=True).engagement_centi == 746
    with pytest.raises(SyncValidationError):
        validate_sync("tiktok", "lots", allow_text=True)


@given(engagement=st.decimals(min_value=0, max_value=100, places=4))
def test_engagement_within_0_and_100_is_kept_with_two_decimals(engagement):
    values = validate_sync("youtube", 10, engagement)
    assert 0 <= values.engagement_centi <= 10_000
    assert abs(values.engagement - engagement) <= Decimal("0.005")


@given(engagement=st.one_of(st.decimals(max_value=Decimal("-0.0001"), allow_nan=False, allow_infinity=False),
                            st.decimals(min_value=Decimal("100.0001"), allow_nan=False, allow_infinity=False)))
def test_engagement_outside_0_and_100_is_refused(engagement):
    with pytest.raises(SyncValidationError) as caught:
        validate_sync("youtube", 10, engagement)
    assert caught.value.details == [{"message": '"engagement" must be between 0 and 100', "path": ["engagement"],
                                     "type": "number.range", "context": {"key": "engagement", "value": str(engagement)}}]


def test_both_fields_wrong_gives_both_details_and_a_sentence_per_field():
    with pytest.raises(SyncValidationError) as caught:
        validate_sync("tiktok", -1, 101)
    assert [d["path"] for d in caught.value.details] == [["followers"], ["engagement"]]
    assert caught.value.message_for("engagement") == '"engagement" must be between 0 and 100'


def test_unknown_platform_is_refused(desk):
    profile = desk.social.create("P")
    with pytest.raises(InvalidPlatformError):
        desk.social.sync(profile.id, "myspace", 10, source="cli")
    assert desk.social.metrics().total == 0


# ---- syncs, history, metrics ---------------------------------------------------------------------
def test_every_sync_is_kept_and_failures_are_counted(any_db_desk):
    social = any_db_desk.social
    profile = social.create("Creator")
    social.sync(profile.id, "tiktok", 100, 5, source="dialog")
    social.sync(profile.id, "tiktok", 150, None, source="csv")
    with pytest.raises(SyncValidationError):
        social.sync(profile.id, "tiktok", -5, source="endpoint")
    with pytest.raises(NotFoundError):
        social.sync(profile.id + 100, "twitch", 5, source="cli")
    after = social.get(profile.id)
    assert after.platforms["tiktok"].followers == 150 and after.platforms["tiktok"].engagement_centi == 0
    history = social.history(profile.id)
    assert [(h.success, h.followers, h.source) for h in history] == [
        (True, 100, "dialog"), (True, 150, "csv"), (False, None, "endpoint")]
    assert "must be a positive number" in history[-1].error
    metrics = social.metrics()
    assert (metrics.total, metrics.successful, metrics.failed) == (4, 2, 2)
    assert metrics.platforms["tiktok"].total == 3 and metrics.platforms["twitch"].failed == 1
    assert metrics.to_json()["platformBreakdown"]["tiktok"] == 3


def test_slow_syncs_and_average_duration(desk, monkeypatch):
    profile = desk.social.create("Slow")
    clock = iter([100.0, 106.0])  # the sync's start and the moment its duration is measured
    monkeypatch.setattr("giftdesk.social.service.time.perf_counter", lambda: next(clock))
    desk.social.sync(profile.id, "tiktok", 1, source="cli")
    monkeypatch.undo()
    desk.social.sync(profile.id, "tiktok", 2, source="cli", started=__import__("time").perf_counter())
    metrics = desk.social.metrics()
    assert metrics.slow == 1 and metrics.platforms["tiktok"].duration_ms_total >= 6000
    assert metrics.average_duration_ms >= Decimal(3000)


def test_a_sync_failing_inside_its_transaction_leaves_nothing(any_db_desk, monkeypatch):
    social = any_db_desk.social
    profile = social.create("Atomic")
    social.sync(profile.id, "instagram", 500, 2, source="cli")

    def broken_counter(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(social), "_count", staticmethod(broken_counter))
    with pytest.raises(RuntimeError):
        social.sync(profile.id, "instagram", 900, 3, source="cli")
    monkeypatch.undo()
    after = social.get(profile.id)
    assert after.total_followers == 500 and after.platforms["instagram"].followers == 500
    assert len(social.history(profile.id)) == 1 and social.metrics().total == 1


def test_change_over_7_and_30_days(any_db_desk):
    social = any_db_desk.social
    growing, fresh = social.create("Growing"), social.create("Fresh")
    for day, followers in ((0, 1000), (20, 1500), (35, 1800), (40, 2000)):
        social.sync(growing.id, "tiktok", followers, source="cli", now=T0 + timedelta(days=day))
    social.sync(growing.id, "youtube", 300, source="cli", now=T0 + timedelta(days=39))
    social.sync(fresh.id, "tiktok", 10, source="cli", now=T0 + timedelta(days=38))
    now = T0 + timedelta(days=41)
    rows = {r.display_name: r for r in social.list(now=now)}
    assert rows["Growing"].total_followers == 2300
    assert rows["Growing"].change_7d == 2300 - 1500  # day 34: the day-20 sync's total
    assert rows["Growing"].change_30d == 2300 - 1000  # day 11: the day-0 sync's total
    assert rows["Fresh"].change_7d is None and rows["Fresh"].change_30d is None
    assert [r.display_name for r in social.list(sort="change7", descending=True, now=now)] == ["Growing", "Fresh"]
    assert social.get(growing.id, now=now).change_7d == 800


def test_growth_per_platform_over_a_range(desk):
    social = desk.social
    profile = social.create("Chart")
    for day in range(0, 100, 10):
        social.sync(profile.id, "tiktok", 100 + day, 1, source="cli", now=T0 + timedelta(days=day))
    social.sync(profile.id, "twitch", 7, source="cli", now=T0 + timedelta(days=5))
    with pytest.raises(SyncValidationError):
        social.sync(profile.id, "tiktok", -1, source="cli", now=T0 + timedelta(days=95))
    now = T0 + timedelta(days=95)
    everything = social.growth(profile.id, None, now=now)
    assert [p[1] for p in everything["tiktok"]] == [100 + d for d in range(0, 100, 10)]
    assert everything["twitch"] == [(T0 + timedelta(days=5), 7, 0)]
    week = social.growth(profile.id, 7, now=now)
    assert [p[1] for p in week["tiktok"]] == [180, 190]  # the value at the range's start, then day 90
    assert week["tiktok"][0][0] == now - timedelta(days=7)
    assert week["twitch"] == [(now - timedelta(days=7), 7, 0)]


# ---- profiles ------------------------------------------------------------------------------------
def test_profile_links_to_a_customer_account(any_db_desk):
    customers = any_db_desk.customers
    ann = customers.create("Ann")
    bob = customers.create("Bob")
    ann_account = customers.add_account(ann.id, "ann_live")
    profile = any_db_desk.social.create("Ann Live", account_id=ann_account.id, niches=["Music", "music", " dance "])
    assert profile.customer_id == ann.id and profile.tiktok_username == "ann_live"
    assert profile.niches == ("music", "dance")
    with pytest.raises(ConflictError):
        any_db_desk.social.create("Copycat", account_id=ann_account.id)
    with pytest.raises(ValidationError):
        any_db_desk.social.create("Wrong", customer_id=bob.id, account_id=ann_account.id)
    moved = any_db_desk.social.update(profile.id, customer_id=bob.id)
    assert moved.customer_id == bob.id and moved.account_id is None  # the account is Ann's, not Bob's
    customers.delete(bob.id)
    assert any_db_desk.social.get(profile.id).customer_id is None


@pytest.mark.parametrize("fields, field", [
    ({"display_name": " "}, "display name"), ({"avatar_url": "ftp://x"}, "avatar URL"),
    ({"niches": [1]}, "niches"), ({"customer_id": 999}, None), ({"is_public": "yes"}, "is_public"),
])
def test_bad_profile_fields_change_nothing(desk, fields, field):
    profile = desk.social.create("Steady", bio="keep")
    with pytest.raises((ValidationError, NotFoundError)) as caught:
        desk.social.update(profile.id, **fields)
    if field:
        assert getattr(caught.value, "field", None) == field
    assert desk.social.get(profile.id) == profile


def test_search_sort_and_delete_impact(any_db_desk):
    social = any_db_desk.social
    a = social.create("Zed Beats", country="India", niches="music")
    b = social.create("amy cooks", city="Lyon", niches="food")
    social.sync(a.id, "youtube", 50, source="cli")
    social.sync(b.id, "youtube", 500, source="cli")
    assert [p.display_name for p in social.list()] == ["amy cooks", "Zed Beats"]
    assert [p.display_name for p in social.list(search="MUSIC")] == ["Zed Beats"]
    assert [p.display_name for p in social.list(search="lyon")] == ["amy cooks"]
    assert [p.display_name for p in social.list(sort="followers", descending=True)] == ["amy cooks", "Zed Beats"]
    with pytest.raises(ValidationError):
        social.list(sort="bogus")
    impact = social.delete_impact(a.id)
    assert (impact.platform_stats, impact.syncs) == (1, 1) and "1 recorded sync " in impact.sentence()
    social.delete(a.id)
    with any_db_desk.db.read_session() as session:
        assert session.scalar(select(func.count(SocialSync.id)).where(SocialSync.profile_id == a.id)) == 0
        assert session.scalar(select(func.count(SocialPlatformStat.id))) == 1
    with pytest.raises(NotFoundError):
        social.get(a.id)


def test_resolve_by_id_or_name(desk):
    first = desk.social.create("Twin")
    desk.social.create("twin")
    other = desk.social.create("Solo")
    assert desk.social.resolve(str(other.id)) == other.id and desk.social.resolve("SOLO") == other.id
    with pytest.raises(ValidationError):
        desk.social.resolve("TWIN")
    with pytest.raises(NotFoundError):
        desk.social.resolve("nobody")
    assert first.id


def test_viewers_cannot_change_social_stats(desk):
    profile = desk.social.create("Guarded")
    viewer = desk.as_actor(Actor("val", "viewer"))
    with pytest.raises(PermissionDeniedError):
        viewer.social.sync(profile.id, "tiktok", 1, source="dialog")
    with pytest.raises(PermissionDeniedError):
        viewer.social.delete(profile.id)
    assert viewer.social.get(profile.id).total_followers == 0


def test_changes_publish_a_typed_event(desk):
    seen = []
    desk.events.subscribe(SocialProfileChanged, seen.append)
    profile = desk.social.create("Evented")
    desk.social.sync(profile.id, "tiktok", 1, source="cli")
    with pytest.raises(SyncValidationError):
        desk.social.sync(profile.id, "tiktok", -1, source="cli")
    desk.social.delete(profile.id)
    assert seen == [SocialProfileChanged(profile.id)] * 4


# ---- CSV -----------------------------------------------------------------------------------------
def test_csv_import_previews_then_applies_good_rows_and_rejects_bad_ones(any_db_desk):
    social = any_db_desk.social
    customer = any_db_desk.customers.create("C")
    account = any_db_desk.customers.add_account(customer.id, "mia_live")
    mia = social.create("Mia", account_id=account.id)
    leo = social.create("Leo")
    text = (
        "Profile,Platform,Followers,Engagement\n"
        f"{mia.id},tiktok,1200,4.5\n"
        "leo,Instagram,\"3,000\",\n"
        "@mia_live,youtube,-4,2\n"
        "Nobody,tiktok,10,1\n"
        "Leo,myspace,10,1\n"
        "Leo,twitch,20000000,1\n"
        "\n"
        "Leo,twitter,12.9,101\n"
    )
    preview = social.preview_import(text)
    assert [(r.line, r.ok) for r in preview.rows] == [(2, True), (3, True), (4, False), (5, False), (6, False),
                                                      (7, False), (9, False)]
    reasons = {r.line: r.error for r in preview.rows}
    assert reasons[4] == '"followers" must be a positive number'
    assert reasons[5] == "There is no social profile 'Nobody'."
    assert "Invalid platform type 'myspace'" in reasons[6]
    assert "less than or equal to 10,000,000" in reasons[7]
    assert reasons[9] == '"engagement" must be between 0 and 100'
    assert social.metrics().total == 0 and social.get(mia.id).total_followers == 0  # a preview changes nothing

    result = social.apply_import(preview)
    assert (result.valid, result.rejected) == (2, 5)
    assert social.get(mia.id).platforms["tiktok"].followers == 1200
    assert social.get(leo.id).platforms["instagram"].followers == 3000
    assert set(social.get(leo.id).platforms) == {"instagram"}  # no half-applied rejected row
    metrics = social.metrics()
    # 2 applied; rejected rows with a known platform are failed syncs (myspace has no counter)
    assert (metrics.successful, metrics.failed) == (2, 4)
    assert [h.source for h in social.history(mia.id)] == ["csv", "csv"]


def test_rows_that_went_bad_after_the_preview_are_rejected_at_apply(desk):
    doomed = desk.social.create("Doomed")
    kept = desk.social.create("Kept")
    preview = desk.social.preview_import(f"profile,platform,followers\n{doomed.id},tiktok,5\n{kept.id},tiktok,6\n")
    assert preview.rejected == 0
    desk.social.delete(doomed.id)
    result = desk.social.apply_import(preview)
    assert [r.ok for r in result.rows] == [False, True]
    assert "no social profile" in result.rows[0].error


@pytest.mark.parametrize("text, needle", [
    ("", "empty"), ("name,platform\nx,tiktok\n", "profile, followers"), ('profile,platform,followers\n"a,b\n', "CSV"),
])
def test_unusable_import_files_are_refused_whole(desk, text, needle):
    with pytest.raises(ValidationError) as caught:
        desk.social.preview_import(text)
    assert needle in str(caught.value)


def test_csv_exports_profiles_and_history_without_formulas(any_db_desk):
    social = any_db_desk.social
    evil = social.create("=HYPERLINK(\"http://x\")", city="+city")
    _sync_sample(any_db_desk, evil.id)
    out = io.StringIO()
    assert social.export_profiles_csv(out) == 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["displayName"].startswith("'=") and rows[0]["city"] == "'+city"
    assert rows[0]["totalFollowers"] == "24025" and rows[0]["avgEngagement"] == "4.36"
    assert rows[0]["tiktokEngagement"] == "7.50" and rows[0]["twitterFollowers"] == "0"
    history = io.StringIO()
    assert social.export_history_csv(history, evil.id) == 4
    lines = list(csv.DictReader(io.StringIO(history.getvalue())))
    assert [r["platform"] for r in lines] == ["tiktok", "instagram", "youtube", "twitch"]
    assert lines[-1]["totalFollowers"] == "24025"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.tuples(st.sampled_from(["tiktok", "twitch", "x"]),
                                st.one_of(st.integers(-5, 200_000_000).map(str), st.text(max_size=5)),
                                st.one_of(st.just(""), st.decimals(-5, 105, places=2).map(str))), max_size=6))
def test_import_preview_agrees_with_the_validator(desk, cells):
    profile = desk.social.create("Prop") if not desk.social.list(search="Prop") else desk.social.list(search="Prop")[0]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["profile", "platform", "followers", "engagement"])
    for platform, followers, engagement in cells:
        writer.writerow([profile.id, platform, followers, engagement])
    preview = desk.social.preview_import(buffer.getvalue())
    for row, (platform, followers, engagement) in zip(preview.rows, cells):
        try:
            expected = validate_sync(platform, followers.strip(), engagement.strip(), allow_text=True) \
                if platform != "x" else None
        except SyncValidationError:
            expected = None
        assert row.ok == (expected is not None)
        if expected is not None:
            assert row.values == expected


def test_migration_0002_downgrades_and_upgrades_again(any_db_desk):
    from alembic import command
    from sqlalchemy import inspect

    from giftdesk.db.migrate import _alembic_config, current_revision

    social_tables = {"social_profiles", "social_platform_stats", "social_syncs", "social_sync_counters"}
    config = _alembic_config()
    with any_db_desk.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert current_revision(any_db_desk.db) == "0001"
    assert not social_tables & set(inspect(any_db_desk.db.engine).get_table_names())
    with any_db_desk.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    assert social_tables <= set(inspect(any_db_desk.db.engine).get_table_names())
    assert set(any_db_desk.social.metrics().platforms) == set(SOCIAL_PLATFORMS)  # counters seeded again


def test_cached_baselines_follow_backdated_syncs_and_restores(desk):
    from giftdesk.core.events import DatabaseReplaced

    social = desk.social
    profile = social.create("Cached")
    now = T0 + timedelta(days=60)
    social.sync(profile.id, "tiktok", 100, source="cli", now=T0 + timedelta(days=59))
    assert social.list(now=now)[0].change_7d is None
    social.sync(profile.id, "tiktok", 40, source="cli", now=T0 + timedelta(days=50))  # backdated
    assert social.list(now=now)[0].change_7d == 0  # total now 40 (the newest sync), 40 then too
    social._baseline_cache = (social._ages(now)["ago7"], {profile.id: (7, 7)})  # as if another process wrote
    assert social.list(now=now)[0].change_7d == 33
    desk.events.publish(DatabaseReplaced("backup.db"))
    assert social.list(now=now)[0].change_7d == 0


def test_baselines_moved_forward_match_baselines_computed_afresh(any_db_desk):
    """The 7/30-day baselines of a later minute come from the syncs made in between, not a new
    computation: they must be exactly what computing afresh gives, on both databases."""
    from giftdesk.social.service import SocialService

    social = any_db_desk.social
    ids = [social.create(f"Mover {n}").id for n in range(4)]
    for hour in range(0, 50 * 24, 5):  # every 5 hours for 50 days, totals going up and down
        for n, pid in enumerate(ids[:3]):
            if n == 2 and hour > 20 * 24:
                continue  # this one stops syncing on day 20
            platform = ("tiktok", "instagram")[(hour // 5 + n) % 2]
            social.sync(pid, platform, 1000 + (hour * (n + 3)) % 997, source="cli", now=T0 + timedelta(hours=hour))
    start = T0 + timedelta(days=38, minutes=17, seconds=5)
    assert social.list(now=start)  # computed afresh once
    for step in (timedelta(minutes=1), timedelta(hours=7, minutes=3), timedelta(hours=13),
                 timedelta(hours=23, minutes=59), timedelta(days=3)):  # the last one: too far, afresh
        moment = start + step
        moved = {p.id: (p.change_7d, p.change_30d) for p in social.list(now=moment)}
        fresh = {p.id: (p.change_7d, p.change_30d) for p in SocialService(any_db_desk.ctx).list(now=moment)}
        assert moved == fresh, step
        assert moved[ids[0]] != (None, None) and moved[ids[3]] == (None, None)
