"""FleetService against the real engine: create, lifecycle, edit with rollback, ports, keys."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request

import pytest
from sqlalchemy import select

from giftdesk.db.fleet_models import Instance, InstanceLog
from giftdesk.core.errors import ConflictError, NotFoundError, ValidationError
from giftdesk.fleet.spec import InstanceSettings
from giftdesk.accounts.keys import key_secret_name
from tests.fleet.conftest import FLEET_IMAGE, FLEET_TEST_LABEL, PORT_START, unique

pytestmark = pytest.mark.docker


def _get_json(url: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_create_makes_the_seed_container_exactly(fleet_desk, account, engine):
    acct = account()
    row = fleet_desk.fleet.create(unique("alpha"), acct.id)
    details = engine.api.inspect_container(row.container_id)
    env = dict(item.split("=", 1) for item in details["Config"]["Env"])
    api_key = fleet_desk.secrets.get(key_secret_name(acct.id))
    password = fleet_desk.fleet.dash_password(row.id)
    assert api_key and password
    for name, value in {"API_KEY": api_key, "ACCOUNT_ID": str(acct.id), "TIKTOK_USERNAME": acct.username,
                        "PORT": "3000", "BACKEND_API_URL": "http://172.17.0.1:8787/api/instances",
                        "DASH_PASSWORD": password, "DEBUG_MODE": "false", "NODE_ENV": "production"}.items():
        assert env[name] == value, name
    labels = details["Config"]["Labels"]
    assert labels["app"] == "gift-tracker" and labels["instance.id"] == str(row.id)
    assert labels["instance.name"] == row.name and labels["managed-by"] == "giftdesk"
    assert details["Name"] == f"/gift-tracker-{row.name}"
    host = details["HostConfig"]
    assert host["Init"] is True
    assert host["RestartPolicy"]["Name"] == "unless-stopped"
    assert host["Memory"] == 256 * 1024 * 1024
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"}}
    assert host["PortBindings"]["3000/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(row.port)}]
    assert PORT_START <= row.port
    assert row.state == "running"
    state = _get_json(f"http://127.0.0.1:{row.port}/api/state")
    assert state["stats"]["username"] == acct.username
    # The record keeps the fleet design's columns; the key and password are in the keyring, not the table.
    with fleet_desk.db.read_session() as session:
        record = session.get(Instance, row.id)
        assert record.last_started_at is not None and record.tiktok_username == acct.username
        dumped = json.dumps({c.name: str(getattr(record, c.name)) for c in Instance.__table__.columns})
        events = " ".join(e.message + json.dumps(e.details) for e in session.scalars(select(InstanceLog)))
    assert api_key not in dumped and password not in dumped
    assert api_key not in events and password not in events
    # The account's instance URL follows the tracker (no pattern: http://127.0.0.1:<port>).
    assert fleet_desk.keys.get(acct.id).instance_url == f"http://127.0.0.1:{row.port}"


def test_bad_input_changes_nothing(fleet_desk, account, engine):
    acct = account()
    before = engine.api.containers(all=True)
    for bad in ("", "has space", "-dash", "under_score", "x" * 60, "dot.ted"):
        with pytest.raises(ValidationError):
            fleet_desk.fleet.create(bad, acct.id)
    with pytest.raises(ValidationError, match="not on the Docker engine"):
        fleet_desk.fleet.create(unique(), acct.id, settings=InstanceSettings(image="no-such-image:nope"))
    with pytest.raises(ValidationError, match="restart policy"):
        fleet_desk.fleet.create(unique(), acct.id, settings=InstanceSettings(restart_policy="sometimes"))
    with pytest.raises(NotFoundError):
        fleet_desk.fleet.create(unique(), 999999)
    assert fleet_desk.fleet.list() == []
    assert len(engine.api.containers(all=True)) == len(before)
    first = fleet_desk.fleet.create(unique("dup"), acct.id, start=False)
    with pytest.raises(ConflictError, match="exists already"):
        fleet_desk.fleet.create(first.name.upper(), acct.id)


def test_next_port_skips_foreign_containers_instances_and_bound_ports(fleet_desk, account, foreign):
    fleet_desk.settings.update({"tracker.port_start": 3620, "tracker.port_end": 3630})
    acct = account()
    foreign(ports={"3000/tcp": ("127.0.0.1", 3620)})  # published by a container we did not create
    with socket.socket() as held:  # and one held by a process on the host
        held.bind(("127.0.0.1", 3621))
        held.listen()
        first = fleet_desk.fleet.create(unique("p"), acct.id, start=False)
        assert first.port == 3622
        second = fleet_desk.fleet.create(unique("p"), acct.id, start=False)
        assert second.port == 3623  # 3622 belongs to the first instance
        with pytest.raises(ConflictError, match="published by another container"):
            fleet_desk.fleet.create(unique("p"), acct.id, port=3620)
        with pytest.raises(ConflictError, match="in use on this computer"):
            fleet_desk.fleet.create(unique("p"), acct.id, port=3621)
        with pytest.raises(ConflictError, match="belongs to instance"):
            fleet_desk.fleet.create(unique("p"), acct.id, port=3622)


def test_a_stopped_tracker_of_another_data_directory_keeps_its_port(fleet_desk, account, engine):
    """The engine lists no ports for a stopped container: its label says which one it will publish."""
    fleet_desk.settings.update({"tracker.port_start": 3640, "tracker.port_end": 3642})
    other = engine.containers.create(
        FLEET_IMAGE, name=unique("gd-other-desk"), ports={"3000/tcp": ("127.0.0.1", 3640)},
        labels={"app": "gift-tracker", "giftdesk.desk": "another-data-directory", "giftdesk.port": "3640",
                FLEET_TEST_LABEL: "1"})
    try:
        acct = account()
        row = fleet_desk.fleet.create(unique("p"), acct.id, start=False)
        assert row.port == 3641
        with pytest.raises(ConflictError, match="published by another container"):
            fleet_desk.fleet.create(unique("p"), acct.id, port=3640)
        labels = engine.api.inspect_container(row.container_id)["Config"]["Labels"]
        assert labels["giftdesk.port"] == "3641" and labels["giftdesk.desk"] == fleet_desk.secrets.namespace
    finally:
        other.remove(force=True)


def test_lifecycle_and_delete_never_touches_another_container(fleet_desk, account, foreign, engine):
    acct = account()
    row = fleet_desk.fleet.create(unique("life"), acct.id)
    stopped = fleet_desk.fleet.stop(row.id)
    assert stopped.last_stopped_at is not None
    assert fleet_desk.fleet.get(row.id, with_state=True).state == "exited"
    fleet_desk.fleet.start(row.name)
    assert fleet_desk.fleet.get(row.id, with_state=True).state == "running"
    fleet_desk.fleet.restart(row.id)
    assert fleet_desk.fleet.get(row.id, with_state=True).state == "running"
    # A record pointing at a container that is not ours: delete drops the record, not the container.
    other = foreign()
    victim = fleet_desk.fleet.create(unique("victim"), acct.id, start=False)
    with fleet_desk.db.session() as session:
        session.get(Instance, victim.id).container_id = other.id
    engine.api.remove_container(victim.container_id, force=True)
    fleet_desk.fleet.delete(victim.id)
    other.reload()
    assert other.status == "running"
    fleet_desk.fleet.delete(row.id)
    assert fleet_desk.fleet.list() == []
    assert not engine.api.containers(all=True, filters={"id": row.container_id})
    assert fleet_desk.fleet.dash_password.__self__.ctx.secrets.get(f"instance-dash-password/{row.id}") is None


def test_edit_recreates_under_the_same_identity(fleet_desk, account, engine):
    acct = account()
    row = fleet_desk.fleet.create(unique("edit"), acct.id)
    new_port = fleet_desk.fleet.next_free_port()
    edited = fleet_desk.fleet.edit(row.id, port=new_port,
                                   settings=row.settings.merged(memory_limit_mb=128, debug_mode=True, cpu_millis=500))
    assert edited.container_id != row.container_id and edited.port == new_port and edited.state == "running"
    details = engine.api.inspect_container(edited.container_id)
    assert details["Name"] == f"/gift-tracker-{row.name}"
    assert details["HostConfig"]["Memory"] == 128 * 1024 * 1024 and details["HostConfig"]["NanoCpus"] == 500_000_000
    assert "DEBUG_MODE=true" in details["Config"]["Env"]
    assert fleet_desk.fleet.dash_password(row.id) in "".join(details["Config"]["Env"])  # same password kept
    assert not engine.api.containers(all=True, filters={"id": row.container_id})  # the old one is gone
    assert _get_json(f"http://127.0.0.1:{new_port}/api/state")["stats"]["username"] == acct.username


def _broken_image(engine, tag: str) -> str:
    """An image whose command does not exist: it is created, then dies at once (exit 127)."""
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("etc")
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    engine.api.import_image_from_data(buffer.getvalue(), repository=tag.split(":")[0], tag=tag.split(":")[1],
                                      changes=['CMD ["/no-such-tracker"]'])
    return tag


def test_edit_whose_new_image_fails_puts_the_old_container_back(fleet_desk, account, engine):
    acct = account()
    broken = _broken_image(engine, f"giftdesk-fleet-broken:{unique('b')}")
    try:
        row = fleet_desk.fleet.create(unique("rollback"), acct.id)
        with pytest.raises(Exception, match="put back"):
            fleet_desk.fleet.edit(row.id, settings=row.settings.merged(image=broken))
        after = fleet_desk.fleet.get(row.id, with_state=True)
        assert after.container_id == row.container_id and after.image == FLEET_IMAGE
        assert after.state == "running"
        assert engine.api.inspect_container(row.container_id)["Name"] == f"/gift-tracker-{row.name}"
        assert _get_json(f"http://127.0.0.1:{row.port}/api/state")
        names = [c["Names"][0] for c in engine.api.containers(all=True, filters={"label": f"instance.id={row.id}"})
                 if c["Labels"].get("giftdesk.desk") == fleet_desk.secrets.namespace]
        assert names == [f"/gift-tracker-{row.name}"]
        assert any("put back" in e.message for e in fleet_desk.fleet.events(row.id))
    finally:
        engine.api.remove_image(broken, force=True)


def test_regenerated_key_recreates_with_the_new_key(fleet_desk, account, engine):
    acct = account()
    row = fleet_desk.fleet.create(unique("key"), acct.id)
    new_key = fleet_desk.keys.regenerate(acct.id)
    assert [r.id for r in fleet_desk.fleet.of_account(acct.id)] == [row.id]
    recreated = fleet_desk.fleet.recreate(row.id)
    env = engine.api.inspect_container(recreated.container_id)["Config"]["Env"]
    assert f"API_KEY={new_key}" in env and recreated.state == "running"
    fleet_desk.keys.set_active(acct.id, False)
    with pytest.raises(ConflictError, match="deactivated"):
        fleet_desk.fleet.recreate(row.id)
    assert fleet_desk.fleet.get(row.id, with_state=True).container_id == recreated.container_id


def test_clone_host_networking_and_a_restart_loop(fleet_desk, account, engine):
    acct = account()
    source = fleet_desk.fleet.create(unique("src"), acct.id, start=False,
                                     settings=InstanceSettings(network="host", memory_limit_mb=64))
    env = dict(e.split("=", 1) for e in engine.api.inspect_container(source.container_id)["Config"]["Env"])
    assert env["PORT"] == str(source.port) and env["BACKEND_API_URL"] == "http://127.0.0.1:8787/api/instances"
    assert engine.api.inspect_container(source.container_id)["HostConfig"]["NetworkMode"] == "host"
    clone = fleet_desk.fleet.clone(source.id, unique("copy"), start=True)
    assert clone.network == "host" and clone.memory_limit_mb == 64 and clone.port != source.port
    assert _get_json(f"http://127.0.0.1:{clone.port}/api/state")["target"] == acct.username


def test_bulk_runs_in_parallel_with_a_result_each_and_cancels_half_way(fleet_desk, account, monkeypatch):
    acct = account()
    rows = [fleet_desk.fleet.create(unique("bulk"), acct.id, start=False) for _ in range(6)]
    # Parallel, proved by counting: each start waits until three are under way (or 10 s pass).
    real_lifecycle = fleet_desk.fleet._lifecycle
    in_flight = [0, 0]  # now, most at once
    changed = threading.Condition()

    def counted(*args, **kwargs):
        with changed:
            in_flight[0] += 1
            in_flight[1] = max(in_flight[1], in_flight[0])
            changed.notify_all()
            changed.wait_for(lambda: in_flight[1] >= 3, timeout=10)
        try:
            return real_lifecycle(*args, **kwargs)
        finally:
            with changed:
                in_flight[0] -= 1

    monkeypatch.setattr(fleet_desk.fleet, "_lifecycle", counted)
    results = fleet_desk.fleet.bulk("start", [r.id for r in rows], concurrency=3)
    monkeypatch.undo()
    assert in_flight[1] == 3
    assert [r.outcome for r in results] == ["ok"] * 6, [(r.name, r.message) for r in results]
    assert {r.state for r in fleet_desk.fleet.list(with_state=True)} == {"running"}
    cancel = threading.Event()
    seen = []

    def on_result(result, done, total):
        seen.append((result.name, done, total))
        if done == 2:
            cancel.set()

    results = fleet_desk.fleet.bulk("stop", [r.id for r in rows], concurrency=1, cancel=cancel, on_result=on_result)
    outcomes = [r.outcome for r in results]
    assert outcomes[:2] == ["ok", "ok"] and outcomes[2:] == ["cancelled"] * 4
    states = {r.name: r.state for r in fleet_desk.fleet.list(with_state=True)}
    assert [states[r.name] for r in rows] == ["exited", "exited", "running", "running", "running", "running"]
    assert seen[-1][1:] == (6, 6)
    missing = fleet_desk.fleet.bulk("start", [rows[0].id, rows[1].id])
    assert all(r.ok for r in missing)


def test_reconcile_marks_missing_and_finds_orphans_to_adopt_or_remove(fleet_desk, account, engine, foreign):
    acct = account()
    row = fleet_desk.fleet.create(unique("gone"), acct.id)
    engine.api.remove_container(row.container_id, force=True)  # removed behind the console's back
    orphan_name = unique("orphan")
    orphan = foreign(name=f"gift-tracker-{orphan_name}", labels={"app": "gift-tracker"},
                     environment={"ACCOUNT_ID": str(acct.id), "TIKTOK_USERNAME": acct.username},
                     ports={"3000/tcp": ("127.0.0.1", 3690)})
    stray = foreign(labels={"app": "gift-tracker"})
    result = fleet_desk.fleet.reconcile()
    assert [r.name for r in result.missing] == [row.name]
    assert {o.id for o in result.orphans} >= {orphan.id, stray.id}
    assert fleet_desk.fleet.get(row.id, with_state=True).state == "missing"
    orphan.reload()
    assert orphan.status == "running"  # reconcile deletes nothing
    recreated = fleet_desk.fleet.recreate(row.id)
    assert recreated.state == "running"
    adopted = fleet_desk.fleet.adopt(orphan.id)
    assert adopted.name == orphan_name and adopted.port == 3690 and adopted.state == "running"
    assert not engine.api.containers(all=True, filters={"id": orphan.id})
    fleet_desk.fleet.remove_orphan(stray.id[:12])
    assert not engine.api.containers(all=True, filters={"id": stray.id})
    with pytest.raises(NotFoundError):
        fleet_desk.fleet.remove_orphan(recreated.container_id)  # has a record: not an orphan
    assert fleet_desk.fleet.reconcile().missing == []


def test_templates_export_import_and_nginx_sites(fleet_desk, account, tmp_path):
    acct = account()
    template = fleet_desk.fleet.save_template("small", InstanceSettings(memory_limit_mb=96, restart_policy="always"))
    row = fleet_desk.fleet.create(unique("tpl"), acct.id, template="small", start=False,
                                  schedule_start="08:00", schedule_stop="22:30", schedule_tz="Europe/Berlin")
    assert row.memory_limit_mb == 96 and row.restart_policy == "always" and row.template_id == template.id
    exported = fleet_desk.fleet_export = None
    from giftdesk.fleet.portability import export_fleet, import_fleet, write_nginx_sites

    exported = export_fleet(fleet_desk.fleet)
    text = json.dumps(exported)
    assert fleet_desk.secrets.get(key_secret_name(acct.id)) not in text
    assert fleet_desk.fleet.dash_password(row.id) not in text
    assert exported["instances"][0]["schedule"] == {"start": "08:00", "stop": "22:30", "timeZone": "Europe/Berlin"}
    fleet_desk.fleet.delete(row.id)
    results = import_fleet(fleet_desk.fleet, exported)
    assert [r.outcome for r in results] == ["ok"]
    again = import_fleet(fleet_desk.fleet, exported)
    assert [r.outcome for r in again] == ["skipped"]
    with pytest.raises(ValidationError):
        import_fleet(fleet_desk.fleet, {"instances": []})
    fleet_desk.settings.update({"tracker.url_pattern": "https://{name}.app.example.com"})
    with pytest.raises(ValidationError):
        fleet_desk.settings.update({"tracker.url_pattern": "https://app.example.com"})
    imported = fleet_desk.fleet.get(row.name)
    fleet_desk.fleet.edit(imported.id, public_url=None)
    assert fleet_desk.keys.get(acct.id).instance_url == f"https://{row.name}.app.example.com"
    sites = write_nginx_sites(fleet_desk.fleet, tmp_path)
    conf = (tmp_path / f"gift-tracker-{row.name}.conf").read_text()
    assert f"server_name {row.name}.app.example.com;" in conf
    assert f"proxy_pass http://127.0.0.1:{imported.port};" in conf and "Upgrade $http_upgrade" in conf
    assert sites.certbot_command == f"sudo certbot --nginx -d {row.name}.app.example.com"
