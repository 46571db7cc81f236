"""``giftdesk social …`` on SQLite and PostgreSQL: profiles, syncs, import, history, metrics, export."""

from __future__ import annotations

import csv
import io
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from giftdesk.cli.main import main
from tests.support.cli import make_cli


@pytest.fixture
def social_cli(any_db_desk, capsys):
    """Runs the real command line against the fixture's data directory and database."""
    run = make_cli(capsys, "--data-dir", str(any_db_desk.paths.root), "--database-url", any_db_desk.db.url)
    run.desk = any_db_desk
    return run


def test_profile_lifecycle_and_seed_stats(social_cli):
    added = social_cli.json("social", "profile", "add", "--name", "Yash Gupta", "--city", "Delhi", "--state", "Delhi",
                            "--country", "India", "--niches", "music, education", "--private")
    assert added["location"] == {"city": "Delhi", "state": "Delhi", "country": "India"}
    assert added["isPublic"] is False and added["niche"] == ["music", "education"]
    for platform, followers, engagement in (("tiktok", "1000", "7.5"), ("instagram", "15925", "2.91"),
                                            ("youtube", "7100", "2.66"), ("twitch", "0", "0")):
        answer = social_cli.json("social", "sync", "yash gupta", platform, "--followers", followers,
                                 "--engagement", engagement)
    assert answer["success"] is True and answer["message"] == "Social media Twitch synced successfully"
    shown = social_cli.json("social", "profile", "show", str(added["id"]))
    assert shown["stats"]["totalFollowers"] == 24025 and shown["stats"]["avgEngagement"] == 4.36
    assert shown["stats"]["platformBreakdown"]["instagram"] == {"followers": 15925, "engagement": 2.91}
    text, _ = social_cli("social", "profile", "show", "Yash Gupta")
    assert "24,025" in text and "4.36 %" in text
    edited = social_cli.json("social", "profile", "edit", "Yash Gupta", "--name", "Yash G", "--bio", "Hi", "--public")
    assert edited["displayName"] == "Yash G" and edited["bio"] == "Hi" and edited["isPublic"] is True
    listed = social_cli.json("social", "profile", "list", "--search", "educ")
    assert [p["displayName"] for p in listed] == ["Yash G"] and listed[0]["change7d"] is None  # nothing synced 7 days ago
    assert listed[0]["stats"] == shown["stats"]  # --json gives each row as 'show' does
    _, err = social_cli("social", "profile", "delete", "Yash G", expect=2)
    assert "4 recorded syncs" in err and "--yes" in err
    deleted = social_cli.json("social", "profile", "delete", "Yash G", "--yes")
    assert deleted == {"id": added["id"], "deleted": True, "platformStats": 4, "syncs": 4}
    assert social_cli.json("social", "profile", "list") == []


@pytest.mark.parametrize("argv, message", [
    (["--followers", "-1"], 'Validation failed: "followers" must be a positive number'),
    (["--followers", "many"], 'Validation failed: "followers" must be a number'),
    (["--followers", "10", "--engagement", "100.5"], 'Validation failed: "engagement" must be between 0 and 100'),
    (["--followers", "100000001"], 'Validation failed: "followers" must be less than or equal to 100,000,000'),
])
def test_bad_sync_values_exit_2_with_the_seed_message(social_cli, argv, message):
    social_cli("social", "profile", "add", "--name", "P")
    _, err = social_cli("social", "sync", "P", "tiktok", *argv, expect=2)
    assert err == f"giftdesk: {message}\n"
    body = social_cli.json("social", "sync", "P", "tiktok", *argv, expect=2)
    assert body["message"] == "Validation failed" and body["details"][0]["message"] in message
    assert social_cli.json("social", "profile", "show", "P")["stats"]["totalFollowers"] == 0
    assert social_cli.json("social", "metrics")["failedSyncs"] == 2


@pytest.mark.parametrize("argv, needle", [
    (["social", "sync", "P", "myspace", "--followers", "1"], "Invalid platform type"),
    (["social", "sync", "Nobody", "tiktok", "--followers", "1"], "no social profile 'Nobody'"),
    (["social", "profile", "add", "--name", "Q", "--avatar", "javascript:x"], "avatar URL"),
    (["social", "profile", "add", "--name", "Q", "--customer", "abc"], "customer must be a number"),
    (["social", "history", "P", "--days", "0"], "--days"),
    (["social", "import", "/nonexistent.csv"], "There is no file"),
    (["social", "export", "profiles", "--profile", "P"], "--profile goes with"),
    (["social", "profile", "list", "--sort", "height"], "invalid choice"),
    (["social", "profile", "add", "--name", "Q", "--customer", "99999999999999999999"], "no customer"),
    (["social", "history", "P", "--days", "99999999999"], "--days"),
    (["social", "history", "P", "--limit", "0"], "--limit"),
    (["social", "import", "/"], "Cannot read /"),
])
def test_bad_input_is_one_line_and_exit_2(social_cli, argv, needle):
    social_cli("social", "profile", "add", "--name", "P")
    _, err = social_cli(*argv, expect=2)
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_import_dry_run_then_apply_with_bad_rows(social_cli, tmp_path):
    social_cli("social", "profile", "add", "--name", "Ana")
    social_cli("social", "profile", "add", "--name", "Ben")
    path = tmp_path / "stats.csv"
    path.write_text("profile,platform,followers,engagement\nAna,tiktok,500,3\nBen,youtube,-1,\n"
                    "Ben,twitter,70,\nGhost,tiktok,1,\n", encoding="utf-8")
    dry = social_cli.json("social", "import", str(path), "--dry-run", expect=2)
    assert dry["wouldApply"] == 2 and dry["rejected"] == 2
    assert [r["status"] for r in dry["rows"]] == ["ok", "rejected", "ok", "rejected"]
    assert social_cli.json("social", "metrics")["totalSyncs"] == 0
    text, _ = social_cli("social", "import", str(path), expect=2)
    assert "2 rows applied, 2 rejected." in text and 'rejected: "followers" must be a positive number' in text
    assert social_cli.json("social", "profile", "show", "Ana")["stats"]["totalFollowers"] == 500
    assert social_cli.json("social", "profile", "show", "Ben")["stats"]["totalFollowers"] == 70
    path.write_text("profile,platform,followers\nAna,instagram,5\n", encoding="utf-8")
    assert social_cli.json("social", "import", str(path))["applied"] == 1


def test_history_metrics_and_export(social_cli, tmp_path):
    social_cli("social", "profile", "add", "--name", "Cara")
    social_cli("social", "sync", "Cara", "tiktok", "--followers", "10")
    social_cli("social", "sync", "Cara", "tiktok", "--followers", "25", "--engagement", "1.25")
    social_cli("social", "sync", "Cara", "tiktok", "--followers", "-2", expect=2)
    history = social_cli.json("social", "history", "Cara")
    assert [(h["success"], h["followers"], h["source"]) for h in history] == [
        (True, 10, "cli"), (True, 25, "cli"), (False, None, "cli")]
    assert social_cli.json("social", "history", "Cara", "--limit", "1")[0]["success"] is False
    metrics = social_cli.json("social", "metrics")
    assert (metrics["totalSyncs"], metrics["successfulSyncs"], metrics["failedSyncs"]) == (3, 2, 1)
    assert metrics["platformBreakdown"]["tiktok"] == 3
    out, _ = social_cli("social", "export")
    row = next(csv.DictReader(io.StringIO(out)))
    assert row["displayName"] == "Cara" and row["tiktokEngagement"] == "1.25"
    target = tmp_path / "history.csv"
    written = social_cli.json("social", "export", "history", "--profile", "Cara", "--output", str(target))
    assert written["rows"] == 3 and len(target.read_text().splitlines()) == 4


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(followers=st.one_of(st.integers(-3, 3), st.integers(9_999_998, 10_000_002)),
       engagement=st.one_of(st.none(), st.sampled_from(["0", "100", "100.01", "-0.01", "55.555"])))
def test_cli_accepts_exactly_what_the_rules_allow_at_the_twitch_edges(desk, capsys, followers, engagement):
    if not desk.social.list():
        desk.social.create("Edge")
    argv = ["--data-dir", str(desk.paths.root), "social", "sync", "Edge", "twitch", "--followers", str(followers)]
    if engagement is not None:
        argv += ["--engagement", engagement]
    allowed = 0 <= followers <= 10_000_000 and engagement not in ("100.01", "-0.01")
    assert main(argv) == (0 if allowed else 2)
    capsys.readouterr()
    if allowed:
        assert desk.social.get(desk.social.list()[0].id).platforms["twitch"].followers == followers


def test_search_matches_like_wildcards_literally(social_cli):
    for name in ("100% Organic", "Under_score", "Plain"):
        social_cli("social", "profile", "add", "--name", name)

    def names(search):
        return sorted(p["displayName"] for p in social_cli.json("social", "profile", "list", "--search", search))

    assert names("%") == ["100% Organic"] and names("_") == ["Under_score"] and names("\\") == []
    assert names("r_s") == ["Under_score"] and names("0%") == ["100% Organic"]


@pytest.mark.parametrize("argv", [["social", "profile", "list"], ["social", "profile", "show", "1"],
                                  ["social", "history", "1"], ["social", "metrics"], ["social", "export"]])
def test_reading_commands_refuse_a_data_directory_that_does_not_exist(tmp_path, capsys, argv):
    typo = tmp_path / "dta"
    assert main(["--data-dir", str(typo), *argv]) == 2
    assert f"There is no data directory at {typo}" in capsys.readouterr().err
    assert not typo.exists()


AWKWARD = ["", " ", "0", "-1", "1", "1.5", "1e400", "NaN", "inf", "99999999999999999999", "9" * 40, "0x10",
           "1,000", "%", "_", "\\", "'", '"', "@", "@@", "../../etc/passwd", "/", "/dev/null", "-", "not a url",
           "javascript:alert(1)", "{", "[]", "null", "tiktok", "TWITCH", "a\nb", "\t", "\u202e", "x" * 5000,
           "--", "=", "é", "Yash"]
TEMPLATES = [
    ["social", "profile", "add", "--name", "{}"], ["social", "profile", "add", "--name", "N", "--customer", "{}"],
    ["social", "profile", "add", "--name", "N", "--account", "{}"], ["social", "profile", "add", "--name", "N",
                                                                     "--avatar", "{}"],
    ["social", "profile", "add", "--name", "N", "--niches", "{}"], ["social", "profile", "show", "{}"],
    ["social", "profile", "edit", "{}", "--city", "{}"], ["social", "profile", "list", "--search", "{}"],
    ["social", "profile", "list", "--sort", "{}"], ["social", "profile", "delete", "{}", "--yes"],
    ["social", "sync", "{}", "{}", "--followers", "1"], ["social", "sync", "Yash", "tiktok", "--followers", "{}"],
    ["social", "sync", "Yash", "twitch", "--followers", "{}", "--engagement", "{}"],
    ["social", "import", "{}", "--dry-run"], ["social", "history", "{}", "--platform", "{}"],
    ["social", "history", "Yash", "--days", "{}"], ["social", "history", "Yash", "--limit", "{}"],
    ["social", "export", "{}"], ["social", "export", "history", "--profile", "{}"], ["social", "{}"],
]


@pytest.mark.timeout(240)  # hundreds of generated cases (or every screen); minutes on a loaded machine
def test_no_typed_value_gives_a_traceback(desk, data_dir, capsys, tmp_path, monkeypatch):
    import io

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    customer = desk.customers.create("Seed")
    account = desk.customers.add_account(customer.id, "seed_user")
    desk.social.create("Yash", account_id=account.id)
    value = st.one_of(st.sampled_from(AWKWARD), st.text(st.characters(blacklist_characters="\x00",
                                                                      blacklist_categories=["Cs"]), max_size=30))

    @settings(max_examples=int(os.environ.get("GD_EXAMPLES", "200")), deadline=None,
              suppress_health_check=list(HealthCheck), database=None)
    @given(template=st.sampled_from(TEMPLATES), values=st.lists(value, min_size=2, max_size=2))
    def check(template, values):
        filled = iter(values)
        argv = [next(filled) if part == "{}" else part for part in template]
        code = main(["--data-dir", str(data_dir), *argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in err and "Traceback" not in out
        assert code in (0, 2), (argv, code, err)
        if code == 2:
            assert err.count("\n") == 1, (argv, err)

    check()


def test_list_json_gives_every_profile_as_show_does(social_cli):
    full = social_cli.json("social", "profile", "add", "--name", "Asha", "--user-id", "68cec2a59b8985cfa07fe80b",
                           "--rizz-score", "64", "--audience-min", "5000", "--audience-max", "90000",
                           "--budget-min", "100", "--budget-max", "1999.99", "--collaboration-types", "shoutout",
                           "--locations", "Pune", "--link", "youtube=https://www.youtube.com/@asha",
                           "--handle", "instagram=asha.ig")
    social_cli.json("social", "sync", "Asha", "instagram", "--followers", "4200", "--engagement", "3.5")
    plain = social_cli.json("social", "profile", "add", "--name", "Bela")
    listed = social_cli.json("social", "profile", "list", "--sort", "followers", "--desc")
    assert [p["id"] for p in listed] == [full["id"], plain["id"]]
    for row in listed:
        assert row == social_cli.json("social", "profile", "show", str(row["id"]))
    asha = listed[0]
    assert asha["userId"] == "68cec2a59b8985cfa07fe80b" and asha["rizzScore"] == 64
    assert asha["preferences"] == {"audienceSize": {"min": 5000, "max": 90000}, "budget": {"min": 100, "max": 1999.99},
                                   "collaborationTypes": ["shoutout"], "locations": ["Pune"]}
    assert asha["socialLinks"] == {"youtube": "https://www.youtube.com/@asha", "instagram": "https://www.instagram.com/asha.ig"}
    assert asha["platformHandles"] == {"instagram": "asha.ig"}
    assert asha["stats"]["platformBreakdown"]["instagram"] == {"followers": 4200, "engagement": 3.5}
    assert listed[1]["userId"] is None and listed[1]["stats"]["totalFollowers"] == 0
    assert [p["displayName"] for p in social_cli.json("social", "profile", "list", "--search", "bel")] == ["Bela"]
    text, _ = social_cli("social", "profile", "list")  # the table keeps its columns
    assert text.splitlines()[0].split()[:3] == ["ID", "NAME", "LOCATION"] and "Asha" in text


def test_profile_fields_of_the_web_app_are_shown_and_edited(social_cli):
    added = social_cli.json("social", "profile", "add", "--name", "Yash", "--user-id", "68CEC2A59B8985CFA07FE80A",
                            "--rizz-score", "79", "--audience-min", "1,000", "--budget-max", "2500.50",
                            "--collaboration-types", "Shoutout, live", "--locations", "Delhi,Mumbai",
                            "--link", "instagram=https://www.instagram.com/yash", "--handle", "tiktok=@yash.g")
    assert added["userId"] == "68cec2a59b8985cfa07fe80a" and added["rizzScore"] == 79
    assert added["preferences"] == {"audienceSize": {"min": 1000, "max": 1000000}, "budget": {"min": 0, "max": 2500.5},
                                    "collaborationTypes": ["shoutout", "live"], "locations": ["Delhi", "Mumbai"]}
    assert added["socialLinks"] == {"tiktok": "https://www.tiktok.com/@yash.g",
                                    "instagram": "https://www.instagram.com/yash"}
    edited = social_cli.json("social", "profile", "edit", "Yash", "--link", "instagram=", "--link",
                             "twitter=https://x.com/yash", "--handle", "twitch=yashlive", "--user-id", "")
    assert edited["userId"] is None and edited["platformHandles"] == {"tiktok": "yash.g", "twitch": "yashlive"}
    assert edited["socialLinks"] == {"tiktok": "https://www.tiktok.com/@yash.g", "twitch": "https://www.twitch.tv/yashlive",
                                     "twitter": "https://x.com/yash"}
    text, _ = social_cli("social", "profile", "show", "Yash")
    assert "Rizz score" in text and "1,000 – 1,000,000" in text and "0.00 – 2,500.50" in text
    assert "@yashlive" in text and "https://x.com/yash" in text and "shoutout, live" in text


@pytest.mark.parametrize("argv, message", [
    (["--rizz-score", "101"], "The rizz score must be a whole number from 0 to 100."),
    (["--user-id", "abc"], "The user id must be 24 hexadecimal digits"),
    (["--audience-min", "5000000"], "The smallest audience size must not be more than the largest."),
    (["--budget-min", "cheap"], "The smallest budget must be a number, not 'cheap'."),
    (["--link", "instagram=instagram.com/account"], "The Instagram link must be an http:// or https:// address"),
    (["--link", "tiktok=https://example.com/@a"], "The TikTok link must be an address on tiktok.com"),
    (["--link", "myspace=https://myspace.com/a"], "unknown platforms (myspace)"),
    (["--link", "instagram"], "--link takes PLATFORM=VALUE"),
    (["--handle", "tiktok=two words"], "The TikTok handle must be one word"),
])
def test_bad_profile_fields_exit_2_and_change_nothing(social_cli, argv, message):
    social_cli("social", "profile", "add", "--name", "P", "--rizz-score", "5")
    before = social_cli.json("social", "profile", "show", "P")
    _, err = social_cli("social", "profile", "edit", "P", *argv, expect=2)
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    after = social_cli.json("social", "profile", "show", "P")
    assert after == before
