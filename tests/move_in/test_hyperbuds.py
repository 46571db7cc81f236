"""Moving the creator profiles in: HyperBuds' profiles export (the backend's ``stats.platformBreakdown``
or the web client's ``socialStats``) becomes our profiles with their platform numbers and last
sync times, through the command line, on SQLite and PostgreSQL; a second run changes nothing."""

from __future__ import annotations

import json

import pytest

from giftdesk.core.errors import PermissionDeniedError
from giftdesk.move_in.hyperbuds import HyperBudsImport
from tests.conftest import POSTGRES_URL, _reset_postgres, require_service
from tests.support.cli import make_cli

YASH, MEERA, EMPTY = "68cec58c9b8985cfa07fe824", "68cec58c9b8985cfa07fe825", "68cec58c9b8985cfa07fe826"


def backend_profile() -> dict:
    """The backend's own document (its schema), as ``mongoexport`` writes it by default (relaxed)."""
    return {
        "_id": {"$oid": YASH}, "userId": {"$oid": "68cec2a59b8985cfa07fe80a"},
        "stats": {"platformBreakdown": {
            "tiktok": {"followers": 1000, "engagement": 7.5},
            "instagram": {"followers": 15925, "engagement": 2.9099999999999997},
            "youtube": {"followers": 7100, "engagement": 2.666},
            "twitch": {"followers": 0, "engagement": 0}},
            "totalFollowers": 24025, "avgEngagement": 1.39},
        "preferences": {"audienceSize": {"min": 0, "max": 1000000}, "budget": {"min": 0, "max": 10000},
                        "collaborationTypes": [], "locations": []},
        "location": {"city": "Delhi", "state": "Delhi", "country": "India"},
        "niche": ["music", "education", "gaming", "comedy", "fitness"], "rizzScore": 79, "isPublic": True,
        "isActive": True, "lastSeen": {"$date": "2025-09-26T21:02:18.953Z"},
        "createdAt": {"$date": "2025-09-20T15:17:32.306Z"}, "updatedAt": {"$date": "2025-10-08T19:01:19.222Z"},
        "__v": 0, "bio": "Hi", "displayName": "Yash Gupta", "avatar": "", "profileUrl": "", "id": ""}


def client_profile() -> dict:
    """The web client's shape: ``socialStats`` per platform with its own last sync (canonical mode)."""
    return {
        "_id": {"$oid": MEERA}, "displayName": "Meera Shah", "bio": "Travel and food",
        "avatar": "https://cdn.example/meera.png", "niche": ["travel"], "isPublic": False, "isActive": True,
        "socialStats": {
            "tiktok": {"followers": {"$numberDouble": "52000.7"},
                       "engagement": {"$numberDouble": "0.30000000000000004"},
                       "lastSynced": {"$date": {"$numberLong": "1759950000000"}}},
            "twitter": {"followers": {"$numberInt": "2500"}, "engagement": {"$numberDouble": "5.8"},
                        "lastSynced": {"$date": {"$numberLong": "1759860000000"}}}},
        "lastSeen": {"$date": {"$numberLong": "1759950000000"}},
        "createdAt": {"$date": {"$numberLong": "1757000000000"}}}


def write_exports(tmp_path) -> dict:
    relaxed = tmp_path / "profiles.json"
    relaxed.write_text(json.dumps(backend_profile()) + "\n" + json.dumps(
        {"_id": {"$oid": EMPTY}, "displayName": "New Creator", "stats": {"platformBreakdown": {}}}) + "\n")
    array = tmp_path / "profiles-array.json"
    array.write_text(json.dumps([client_profile()], indent=2))
    return {"relaxed": relaxed, "array": array}


@pytest.fixture(params=["sqlite", "postgresql"])
def any_cli(request, data_dir, capsys):
    if request.param == "sqlite":
        return make_cli(capsys, "--data-dir", str(data_dir))
    require_service(bool(POSTGRES_URL), "PostgreSQL (GIFTDESK_TEST_DATABASE_URL)")
    _reset_postgres(POSTGRES_URL)
    return make_cli(capsys, "--data-dir", str(data_dir), "--database-url", POSTGRES_URL)


def test_profiles_come_with_their_platform_numbers_and_last_syncs(any_cli, tmp_path):
    cli = any_cli
    files = write_exports(tmp_path)
    preview = cli.json("import", "hyperbuds", "--profiles", str(files["relaxed"]), "--dry-run")
    assert preview["created"] == {"social_profile": 2} and not preview["changed"]
    assert cli.json("social", "profile", "list") == []

    report = cli.json("import", "hyperbuds", "--profiles", str(files["relaxed"]))
    assert report["changed"] and report["summary"].startswith("Imported 2 profiles")
    assert {(r["field"], r["exported"], r["imported"]) for r in report["rounded"]} == {
        ("instagram.engagement", "2.9099999999999997", "2.91"), ("youtube.engagement", "2.666", "2.67")}
    second = cli.json("import", "hyperbuds", "--profiles", str(files["array"]))
    assert second["created"] == {"social_profile": 1}
    assert {(r["field"], r["exported"], r["imported"]) for r in second["rounded"]} == {
        ("tiktok.followers", "52000.7", "52000"), ("tiktok.engagement", "0.30000000000000004", "0.30")}

    yash = cli.json("social", "profile", "show", "Yash Gupta")
    breakdown = yash["stats"]["platformBreakdown"]
    assert breakdown["tiktok"] == {"followers": 1000, "engagement": 7.5}
    assert breakdown["instagram"] == {"followers": 15925, "engagement": 2.91}
    assert breakdown["youtube"] == {"followers": 7100, "engagement": 2.67}
    assert breakdown["twitch"] == {"followers": 0, "engagement": 0}
    # The aggregates as a sync computes them, not the export's stale 1.39.
    assert yash["stats"]["totalFollowers"] == 24025 and yash["stats"]["avgEngagement"] == 4.36
    assert yash["niche"] == ["music", "education", "gaming", "comedy", "fitness"]
    assert yash["location"] == {"city": "Delhi", "state": "Delhi", "country": "India"}
    assert yash["lastSeen"].startswith("2025-09-26T21:02:18") and yash["createdAt"].startswith("2025-09-20")
    history = cli.json("social", "history", "Yash Gupta")
    assert {h["platform"] for h in history} == {"tiktok", "instagram", "youtube"}
    assert {h["source"] for h in history} == {"import"}
    assert all(h["at"].startswith("2025-10-08T19:01:19") for h in history)  # its last update: the last sync

    meera = cli.json("social", "profile", "show", "Meera Shah")
    assert meera["isPublic"] is False and meera["avatar"] == "https://cdn.example/meera.png"
    assert meera["stats"]["platformBreakdown"]["tiktok"] == {"followers": 52000, "engagement": 0.3}
    assert meera["stats"]["platformBreakdown"]["twitter"] == {"followers": 2500, "engagement": 5.8}
    synced = {h["platform"]: h["at"] for h in cli.json("social", "history", "Meera Shah")}
    assert synced["tiktok"].startswith("2025-10-08T19:00:00") and synced["twitter"].startswith("2025-10-07T18:00:00")
    assert cli.json("social", "profile", "show", "New Creator")["stats"]["totalFollowers"] == 0
    assert cli.json("social", "metrics")["totalSyncs"] == 0  # an import is not a sync

    before = cli.json("social", "profile", "list")
    again = cli.json("import", "hyperbuds", "--profiles", str(files["relaxed"]))
    assert not again["changed"] and again["skipped"] == {"social_profile": 2}
    assert again["summary"].startswith("Nothing to import: every document was imported before")
    assert cli.json("social", "profile", "list") == before
    assert len(cli.json("audit", "list", "--search", "HyperBuds")) == 2


@pytest.mark.parametrize("content, says", [
    (None, "profiles.json does not exist"),
    ('{"_id": {"$oid": "68cec58c9b8985cfa07fe824"}, "displayName": "A"}\n"just text"\n', "must be a JSON object"),
    (json.dumps({"_id": {"$oid": YASH}, "displayName": "A",
                 "stats": {"platformBreakdown": {"twitch": {"followers": 20000000}}}}),
     "its twitch numbers are refused"),
    (json.dumps({"_id": {"$oid": YASH}, "bio": "no name"}), "the profile has no displayName"),
    (json.dumps({"_id": {"$oid": YASH}, "displayName": "A"}) + "\n" + json.dumps({"_id": {"$oid": YASH},
                                                                                 "displayName": "B"}),
     "is in the export twice"),
])
def test_bad_input_is_one_sentence_and_nothing_is_written(data_dir, capsys, tmp_path, content, says):
    cli = make_cli(capsys, "--data-dir", str(data_dir))
    cli("social", "profile", "add", "--name", "Already here")
    path = tmp_path / "profiles.json"
    if content is not None:
        # A good profile first: the bad one must hold it back too.
        path.write_text(json.dumps({"_id": {"$oid": EMPTY}, "displayName": "Good"}) + "\n" + content)
    _out, err = cli("import", "hyperbuds", "--profiles", str(path), expect=2)
    assert says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert [p["displayName"] for p in cli.json("social", "profile", "list")] == ["Already here"]


def test_a_viewer_may_preview_but_not_import(desk, tmp_path):
    files = write_exports(tmp_path)
    desk.admins.create("root", "root password 1")
    desk.admins.create("watcher", "watch password 1", role="viewer")
    viewer = desk.as_actor(desk.admins.authenticate("watcher", "watch password 1"))
    importer = HyperBudsImport(viewer.ctx)
    assert importer.preview(files["relaxed"]).count("create") == 2
    with pytest.raises(PermissionDeniedError):
        importer.run(files["relaxed"])
    assert desk.social.list() == []
