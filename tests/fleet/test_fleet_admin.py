"""The domain behind the window's fleet administration: adoption hints and refused adoptions that
leave the orphan alone, the import preview (what is created, skipped, refused and why), the
public URL plan for nginx sites. Real engine, real database."""
# ruff: noqa: F811  (fixtures)

from __future__ import annotations

import json

import pytest

from giftdesk.core.errors import ValidationError
from giftdesk.fleet.portability import export_fleet, import_fleet, plan_import, site_plan, write_nginx_sites
from giftdesk.fleet.spec import InstanceSettings
from tests.fleet.conftest import FLEET_IMAGE, cli, unique  # noqa: F401 - fixture

pytestmark = pytest.mark.docker


def test_adoption_hints_and_a_refused_adoption_leaves_the_orphan_alone(fleet_desk, account, foreign, engine):
    acct = account()
    taken = fleet_desk.fleet.create(unique("taken"), acct.id, start=False)
    named = unique("orph")
    # The id would name nobody here (another database's id); the username decides.
    orphan = foreign(name=f"gift-tracker-{named}", labels={"app": "gift-tracker", "managed-by": "giftdesk"},
                     environment={"ACCOUNT_ID": "987654", "TIKTOK_USERNAME": f"@{acct.username}"},
                     ports={"3000/tcp": ("127.0.0.1", 3691)})
    stranger = foreign(labels={"app": "gift-tracker"}, environment={"TIKTOK_USERNAME": "nobody_here_at_all"})
    orphans = fleet_desk.fleet.reconcile().orphans
    hints = {h.container.id: h for h in fleet_desk.fleet.adoption_hints(o for o in orphans
                                                                         if o.id in (orphan.id, stranger.id))}
    assert hints[orphan.id].name == named and hints[orphan.id].account_id == acct.id
    assert hints[orphan.id].port == 3691 and hints[orphan.id].username == acct.username
    assert hints[stranger.id].account_id is None and hints[stranger.id].username == "nobody_here_at_all"

    with pytest.raises(ValidationError) as refused:
        fleet_desk.fleet.adopt(orphan.id, account_id=acct.id, name=taken.name)
    assert refused.value.field == "name" and "exists already" in str(refused.value)
    with pytest.raises(ValidationError) as bad_name:
        fleet_desk.fleet.adopt(orphan.id, account_id=acct.id, name="Not A Name!")
    assert bad_name.value.field == "name"
    with pytest.raises(ValidationError) as no_account:
        fleet_desk.fleet.adopt(orphan.id, account_id=999999, name=unique("x"))
    assert no_account.value.field == "account"
    with pytest.raises(ValidationError) as unmatched:
        fleet_desk.fleet.adopt(stranger.id)
    assert unmatched.value.field == "account"
    orphan.reload()
    assert orphan.name == f"gift-tracker-{named}" and orphan.status == "running"  # untouched
    adopted = fleet_desk.fleet.adopt(orphan.id, account_id=acct.id, name=unique("adopted"))
    assert adopted.port == 3691 and adopted.state == "running"


def test_import_preview_says_what_is_created_skipped_and_refused_and_changes_nothing(fleet_desk, account, engine):
    acct, other = account(), account()
    kept = fleet_desk.fleet.create(unique("kept"), acct.id, start=False)
    holder = fleet_desk.fleet.create(unique("holder"), other.id, start=False)
    fresh, twice, imageless, porty, bad_url = (unique(p) for p in ("fresh", "twice", "noimg", "porty", "url"))
    data = {"format": "giftdesk.instances", "version": 1, "templates": [{"name": unique("tpl"), "memoryLimitMb": 64}],
            "instances": [
                {"name": kept.name, "tiktokUsername": f"@{acct.username}"},
                {"name": fresh, "tiktokUsername": f"@{acct.username.upper()}", "port": 3650, "memoryLimitMb": 96,
                 "schedule": {"start": "07:30"}, "publicUrl": "https://fresh.example.com"},
                {"name": "Bad Name", "tiktokUsername": acct.username},
                {"name": twice, "tiktokUsername": acct.username},
                {"name": twice, "tiktokUsername": acct.username},
                {"name": unique("ghost"), "tiktokUsername": "@no_such_account_here"},
                {"name": imageless, "tiktokUsername": acct.username, "image": "giftdesk-no-such-image:0"},
                {"name": porty, "tiktokUsername": acct.username, "port": holder.port},
                {"name": bad_url, "tiktokUsername": acct.username, "publicUrl": "ftp://nope"},
                {"name": unique("mem"), "tiktokUsername": acct.username, "memoryLimitMb": "lots"},
                "not an object",
            ]}
    before = {r.name for r in fleet_desk.fleet.list()}
    templates_before = fleet_desk.fleet.templates()
    plan = plan_import(fleet_desk.fleet, data)
    actions = [(i.name, i.action) for i in plan.items]
    assert actions[:2] == [(kept.name, "skip"), (fresh, "create")]
    reasons = {i.name: i.reason for i in plan.items if i.action == "refuse"}
    assert "cannot be an instance name" in reasons["Bad Name"]
    assert [i.action for i in plan.items if i.name == twice] == ["create", "refuse"]
    assert any("no TikTok account @no_such_account_here" in r for r in reasons.values())
    assert "not on the Docker engine" in reasons[imageless]
    assert f"belongs to instance '{holder.name}'" in reasons[porty]
    assert "public URL" in reasons[bad_url]
    assert "memory" in next(r for n, r in reasons.items() if n.startswith("mem-"))
    assert reasons["#11"] == "this entry is not an instance"
    assert plan.templates == [data["templates"][0]["name"]] and plan.replaced_templates == []
    # A preview changes nothing.
    assert {r.name for r in fleet_desk.fleet.list()} == before and fleet_desk.fleet.templates() == templates_before

    results = import_fleet(fleet_desk.fleet, data, plan=plan)
    outcomes = {r.name: r.outcome for r in results}
    assert outcomes[kept.name] == "skipped" and outcomes[fresh] == "ok" and outcomes[porty] == "failed"
    assert [r.outcome for r in results if r.name == twice] == ["ok", "failed"]
    created = fleet_desk.fleet.get(fresh)
    assert (created.port, created.memory_limit_mb, created.schedule_start, created.public_url) == (
        3650, 96, "07:30", "https://fresh.example.com")
    assert {r.name for r in fleet_desk.fleet.list()} == before | {fresh, twice}
    # With new ports the held port is no reason to refuse.
    again = plan_import(fleet_desk.fleet, data, keep_ports=False)
    assert next(i for i in again.items if i.name == porty).action == "create"
    assert plan_import(fleet_desk.fleet, data).replaced_templates == [data["templates"][0]["name"]]
    for bad in ({"instances": []}, {"format": "giftdesk.instances", "version": 9},
                {"format": "giftdesk.instances", "version": "x"},
                {"format": "giftdesk.instances", "instances": {"a": 1}}):
        with pytest.raises(ValidationError):
            plan_import(fleet_desk.fleet, bad)


def test_import_preview_names_the_field_of_the_wrong_shape(fleet_desk, account, engine, cli, tmp_path):
    acct = account()
    entries = {"sched": ({"schedule": "x"}, "schedule must be an object, not text."),
               "start": ({"schedule": {"start": 7}}, "schedule start must be text, not a number."),
               "debug": ({"debugMode": "no"}, "debugMode must be true or false, not text."),
               "memory": ({"memoryLimitMb": [96]}, "memoryLimitMb must be a number or text, not a list."),
               "user": ({"tiktokUsername": {"a": 1}}, "tiktokUsername must be text, not an object."),
               "url": ({"publicUrl": 5}, "publicUrl must be text, not a number."),
               "bigcpu": ({"cpus": 1e309}, "more than 0 and at most 256 CPUs"),
               "manycpu": ({"cpus": 9999}, "more than 0 and at most 256 CPUs")}
    names = {key: unique(key) for key in entries}
    data = {"format": "giftdesk.instances", "version": 1, "instances": [
        {"name": names[key], "tiktokUsername": acct.username, **fields} for key, (fields, _) in entries.items()]}
    reasons = {i.name: i.reason for i in plan_import(fleet_desk.fleet, data).items}
    for key, (_, says) in entries.items():
        assert says in reasons[names[key]], (key, reasons[names[key]])
    path = tmp_path / "export.json"
    path.write_text(json.dumps(data).replace("Infinity", "1e309"))
    out, _ = cli("instance", "import", str(path), "--dry-run", expect=1)
    assert "attribute" not in out and "schedule must be an object" in out
    for template, says in (("x", "Template #1 of this export is not an object."),
                           ({"name": "t", "cpus": "lots"}, "Template #1 of this export: The CPU limit"),
                           ({"memoryLimitMb": 64}, "Template #1 of this export: its name is required.")):
        with pytest.raises(ValidationError) as refused:
            plan_import(fleet_desk.fleet, {**data, "templates": [template]})
        assert str(refused.value).startswith(says)
    assert fleet_desk.fleet.list() == [] and fleet_desk.fleet.templates() == []


def test_export_carries_no_secret_and_round_trips(fleet_desk, account):
    acct = account()
    row = fleet_desk.fleet.create(unique("round"), acct.id, start=False,
                                  settings=InstanceSettings(image=FLEET_IMAGE, memory_limit_mb=80))
    text = json.dumps(export_fleet(fleet_desk.fleet))
    key = fleet_desk.keys.tracker_environment(acct.id, "http://x/api/instances")["API_KEY"]
    assert key not in text and fleet_desk.fleet.dash_password(row.id) not in text
    fleet_desk.fleet.delete(row.id)
    results = import_fleet(fleet_desk.fleet, json.loads(text), start=True)
    assert [(r.name, r.outcome, r.message) for r in results] == [(row.name, "ok", "")]
    back = fleet_desk.fleet.get(row.name, with_state=True)
    assert back.port == row.port and back.memory_limit_mb == 80 and back.state == "running"


def test_site_plan_and_sites_written_only_for_public_hosts(fleet_desk, account, tmp_path):
    acct = account()
    one = fleet_desk.fleet.create(unique("site"), acct.id, start=False)
    two = fleet_desk.fleet.create(unique("own"), acct.id, start=False)
    plans = {p.name: p for p in site_plan(fleet_desk.fleet)}
    assert plans[one.name].host is None and "URL pattern" in plans[one.name].reason
    assert plans[one.name].url == f"http://127.0.0.1:{one.port}"
    fleet_desk.settings.update({"tracker.url_pattern": "https://{name}.trackers.example.com"})
    fleet_desk.fleet.edit(two.id, public_url="https://Live.Example.org/")
    plans = {p.name: p for p in site_plan(fleet_desk.fleet)}
    assert plans[one.name].host == f"{one.name}.trackers.example.com"
    assert plans[two.name].host == "live.example.org" and plans[two.name].file_name == f"gift-tracker-{two.name}.conf"
    sites = write_nginx_sites(fleet_desk.fleet, tmp_path)
    assert sorted(sites.files) == sorted(str(tmp_path / p.file_name) for p in plans.values())
    assert "server_name live.example.org;" in (tmp_path / f"gift-tracker-{two.name}.conf").read_text()
    assert not list(tmp_path.glob("*.tmp"))
    for folder in (tmp_path / "missing", ""):
        with pytest.raises(ValidationError):
            write_nginx_sites(fleet_desk.fleet, folder)


def test_export_file_written_whole_and_read_back_with_sentences(fleet_desk, account, tmp_path):
    from giftdesk.fleet.portability import read_export, save_export

    acct = account()
    row = fleet_desk.fleet.create(unique("file"), acct.id, start=False)
    target = tmp_path / "fleet.json"
    save_export(fleet_desk.fleet, target)
    assert [i["name"] for i in read_export(target)["instances"]] == [row.name]
    assert not list(tmp_path.glob("*.tmp"))
    with pytest.raises(ValidationError, match="Could not write"):
        save_export(fleet_desk.fleet, tmp_path / "no-folder" / "x.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValidationError, match=r"is not JSON \(line 1"):
        read_export(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(ValidationError, match="not a GiftDesk instances export"):
        read_export(tmp_path / "other.json")
    with pytest.raises(ValidationError, match="Cannot read"):
        read_export(tmp_path / "absent.json")


def test_a_new_url_pattern_reaches_every_account(fleet_desk, account):
    acct = account()
    row = fleet_desk.fleet.create(unique("pat"), acct.id, start=False)
    assert fleet_desk.keys.get(acct.id).instance_url == f"http://127.0.0.1:{row.port}"
    # Changing the setting is enough, wherever it is changed (Settings dialog, CLI, this desk).
    fleet_desk.settings.update({"tracker.url_pattern": "https://{name}.fleet.example.com"})
    assert fleet_desk.keys.get(acct.id).instance_url == f"https://{row.name}.fleet.example.com"
    fleet_desk.settings.update({"tracker.url_pattern": ""})
    assert fleet_desk.keys.get(acct.id).instance_url == f"http://127.0.0.1:{row.port}"
    assert fleet_desk.fleet.apply_public_urls() >= 1  # idempotent
    assert fleet_desk.keys.get(acct.id).instance_url == f"http://127.0.0.1:{row.port}"


def test_preview_import_and_templates_on_both_databases(any_db_desk, engine, monkeypatch):
    from tests.fleet.conftest import PORT_END, PORT_START, remove_desk_containers
    from tests.support.docker_engine import docker_host_of

    desk = any_db_desk
    monkeypatch.setenv("DOCKER_HOST", docker_host_of(engine))
    desk.settings.update({"tracker.default_image": FLEET_IMAGE, "tracker.port_start": PORT_START,
                          "tracker.port_end": PORT_END})
    try:
        customer = desk.customers.create("Both databases")
        acct = desk.customers.add_account(customer.id, unique("db").replace("-", "_"))
        desk.fleet.save_template("lean", InstanceSettings(memory_limit_mb=72))
        row = desk.fleet.create(unique("db"), acct.id, template="lean", start=False)
        data = export_fleet(desk.fleet)
        data["instances"].append({"name": unique("nobody"), "tiktokUsername": "@Not_Here"})
        desk.fleet.delete(row.id)
        desk.fleet.delete_template("lean")
        plan = plan_import(desk.fleet, data, keep_ports=False)
        assert [i.action for i in plan.items] == ["create", "refuse"] and plan.replaced_templates == []
        assert [r.outcome for r in import_fleet(desk.fleet, data, keep_ports=False)] == ["ok", "failed"]
        assert desk.fleet.get(row.name).memory_limit_mb == 72 and desk.fleet.template("lean").settings.memory_limit_mb == 72
    finally:
        remove_desk_containers(engine, desk.secrets.namespace)


def test_a_viewer_can_look_but_not_remove_adopt_or_recreate(fleet_desk, account, foreign, engine):
    from giftdesk.core.errors import PermissionDeniedError
    from giftdesk.core.context import Actor

    acct = account()
    row = fleet_desk.fleet.create(unique("seen"), acct.id, start=False)
    orphan = foreign(labels={"app": "gift-tracker"})
    viewer = fleet_desk.as_actor(Actor("vera", "viewer"))
    assert orphan.id in {o.id for o in viewer.fleet.reconcile().orphans}
    for attempt in (lambda: viewer.fleet.remove_orphan(orphan.id), lambda: viewer.fleet.adopt(orphan.id, acct.id),
                    lambda: viewer.fleet.recreate(row.id), lambda: viewer.fleet.delete_template("x"),
                    lambda: viewer.fleet.apply_public_urls()):
        with pytest.raises(PermissionDeniedError):
            attempt()
    assert engine.api.containers(all=True, filters={"id": orphan.id})
