"""The instance manager's settings table moving in: what maps onto GiftDesk's settings comes over,
checked as the Settings dialog checks it; the rest is skipped with the reason, and never applied.

The manager's databases here hold settings and no instances, so no Docker engine is needed.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from sqlalchemy import func, select

from giftdesk.core.context import Actor
from giftdesk.db.models import AuditEntry
from giftdesk.move_in.instance_manager import InstanceManagerImport
from tests.move_in.test_instance_manager import MANAGER_SCHEMA
from tests.support.cli import make_cli

SECRET = "manager-jwt-secret-4f1d"


def manager_database(folder, settings: dict[str, str]):
    path = folder / "instances.db"
    connection = sqlite3.connect(path)
    connection.executescript(MANAGER_SCHEMA)
    connection.executemany("INSERT INTO settings (key, value) VALUES (?, ?)", settings.items())
    connection.commit()
    connection.close()
    return str(path)


def cli_on(desk, capsys):
    return make_cli(capsys, "--data-dir", str(desk.paths.root), "--database-url", desk.db.url)


def audit_count(desk) -> int:
    with desk.db.read_session() as session:
        return session.scalar(select(func.count(AuditEntry.id)))


def test_the_image_and_the_port_range_come_over_and_the_rest_is_said(any_db_desk, tmp_path, capsys):
    desk = any_db_desk
    path = manager_database(tmp_path, {
        "gift_tracker_image": "registry.example.com/gift-tracker:2.4", "instance_port_start": "5000",
        "instance_port_end": "5999", "backend_api_url": "https://o3-ttgifts.com/api/instances",
        "docker_socket_path": "/var/run/docker.sock", "jwt_secret": SECRET})
    cli = cli_on(desk, capsys)
    before = desk.settings.all()

    preview = cli.json("import", "gift-instance-manager", path, "--dry-run")
    outcomes = {s["name"]: (s["outcome"], s["setting"], s["value"]) for s in preview["settings"]}
    assert outcomes == {"gift_tracker_image": ("update", "tracker.default_image", "registry.example.com/gift-tracker:2.4"),
                        "instance_port_start": ("update", "tracker.port_start", 5000),
                        "instance_port_end": ("update", "tracker.port_end", 5999),
                        "backend_api_url": ("skip", None, None), "docker_socket_path": ("skip", None, None),
                        "jwt_secret": ("skip", None, None)}
    reasons = {s["name"]: s["reason"] for s in preview["settings"]}
    assert "this console is the trackers' backend" in reasons["backend_api_url"]
    assert "Docker host stays" in reasons["docker_socket_path"]
    assert reasons["jwt_secret"] == "GiftDesk has no setting it stands for"
    assert preview["summary"].startswith("Would import 0 instances") and "3 settings (" in preview["summary"]
    assert preview["summary"].endswith("; 3 settings skipped.")
    assert desk.settings.all() == before  # a preview changes nothing

    done = cli.json("import", "gift-instance-manager", path)
    assert done["applied"] is True and done["changes"] is True
    assert desk.settings.get("tracker.default_image") == "registry.example.com/gift-tracker:2.4"
    assert (desk.settings.get("tracker.port_start"), desk.settings.get("tracker.port_end")) == (5000, 5999)
    assert desk.settings.get("docker.host") == before["docker.host"]
    assert desk.settings.sources()["tracker.port_start"] == "stored"
    text, _ = cli("import", "gift-instance-manager", path, "--dry-run")
    assert "tracker.port_start is 5000 here already" in text and "skipped: GiftDesk has no setting" in text
    # A value the import does not understand may be a secret: it is shown nowhere, nor audited.
    with desk.db.read_session() as session:
        audited = [(e.action, e.summary, json.dumps(e.details)) for e in session.scalars(select(AuditEntry))]
    assert SECRET not in json.dumps(done) + text + json.dumps(audited)
    assert any(action == "settings.update" and "tracker.port_end" in summary for action, summary, _d in audited)

    audits = audit_count(desk)
    again = cli.json("import", "gift-instance-manager", path)
    assert again["changes"] is False and again["applied"] is False
    assert [s["outcome"] for s in again["settings"] if s["setting"]] == ["unchanged"] * 3
    assert again["summary"] == f"Nothing to import: everything in {path} is here already (3 settings skipped, " \
                               "see why above)."
    assert audit_count(desk) == audits


@pytest.mark.parametrize("settings, name, says, here", [
    ({"instance_port_start": "70000"}, "instance_port_start", "The manager's instance_port_start must be between 1 "
                                                              "and 65535", {}),
    ({"instance_port_end": "many"}, "instance_port_end", "must be a port number, not 'many'", {}),
    ({"gift_tracker_image": "gift tracker"}, "gift_tracker_image", "'gift tracker' is not an image reference", {}),
    ({"gift_tracker_image": "  "}, "gift_tracker_image", "it is empty", {}),
    ({"port_range": "3000 to 3999"}, "port_range", "'3000 to 3999' is not a port range like 3000-3999", {}),
    ({"instance_port_start": "6000", "instance_port_end": "5000"}, "instance_port_end",
     "its port range 6000-5000 ends before it starts", {}),
    ({"instance_port_start": "4200"}, "instance_port_start", "the first tracker port would be 4200, above the "
                                                             "last, 4100", {"tracker.port_end": 4100}),
])
def test_an_invalid_value_is_skipped_with_the_reason_and_never_applied(desk, tmp_path, capsys, settings, name, says,
                                                                        here):
    if here:
        desk.settings.update(here)
    # A good value beside it still comes over.
    path = manager_database(tmp_path, {**settings, "docker_image": "gift-tracker:3"})
    before = desk.settings.all()
    done = cli_on(desk, capsys).json("import", "gift-instance-manager", path)
    skipped = [s for s in done["settings"] if s["name"] == name]
    assert skipped and all(s["outcome"] == "skip" for s in skipped)
    assert any(says in s["reason"] for s in skipped), skipped
    after = desk.settings.all()
    assert after == {**before, "tracker.default_image": "gift-tracker:3"}


def test_a_setting_chosen_here_stays_and_two_names_for_one_setting_count_once(desk, tmp_path, capsys):
    desk.settings.update({"tracker.default_image": "ours:1"})
    path = manager_database(tmp_path, {"gift_tracker_image": "theirs:2", "port_range": "5000-5099",
                                       "port_start": "5050"})
    done = cli_on(desk, capsys).json("import", "gift-instance-manager", path)
    by_name = {(s["name"], s["setting"]): s for s in done["settings"]}
    image = by_name[("gift_tracker_image", "tracker.default_image")]
    assert image["outcome"] == "skip" and image["reason"] == ("tracker.default_image is set here to ours:1 already; "
                                                              "that stays (change it in Settings)")
    assert by_name[("port_range", "tracker.port_start")]["outcome"] == "update"
    twice = by_name[("port_start", "tracker.port_start")]
    assert twice["outcome"] == "skip" and twice["reason"] == "its port_range gives tracker.port_start already (5000)"
    assert desk.settings.get("tracker.default_image") == "ours:1"
    assert (desk.settings.get("tracker.port_start"), desk.settings.get("tracker.port_end")) == (5000, 5099)


def test_only_an_administrator_changes_settings_by_importing(desk, tmp_path):
    path = manager_database(tmp_path, {"instance_port_start": "5000", "instance_port_end": "5999"})
    operator = desk.as_actor(Actor("olga", "operator"))
    done = InstanceManagerImport(operator).apply(path)
    assert [(s.outcome, s.reason) for s in done.settings] == [("skip", "changing settings needs an administrator")] * 2
    assert not done.changes_anything and desk.settings.get("tracker.port_start") == 3000
    assert InstanceManagerImport(desk).apply(path).settings_changed
    assert desk.settings.get("tracker.port_start") == 5000
