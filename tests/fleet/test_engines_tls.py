"""Named engines: a second real dockerd on loopback TCP with mutual TLS (tests/support/tls_engine.py).

The command line adds it (the connection tested first), lists it, and runs a tracker on it from
create to delete; a wrong CA or a closed port is refused with one sentence and nothing stored;
REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE pointing at another CA change nothing.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest

from tests.fleet.conftest import FLEET_IMAGE, add_engine, free_port, unique, wait_state
from tests.runtime.test_supervisor import wait_for

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]


def test_an_engine_with_the_right_certificates_is_added_and_listed(cli, tls_engine, second, fleet_desk):
    added = add_engine(cli, "tls", tls_engine.host, tls=tls_engine)
    assert added["name"] == "tls" and added["reachable"] is True and added["tls"] is True
    assert added["version"] and added["swarm"] == "inactive"
    listed = {e["name"]: e for e in cli.json("engine", "list")}
    assert set(listed) == {"local", "tls"}
    assert listed["local"]["local"] is True and listed["local"]["reachable"] is True
    assert listed["tls"]["host"] == tls_engine.host and listed["tls"]["reachable"] is True
    assert listed["tls"]["instances"] == 0 and listed["tls"]["swarm"] == "inactive"
    assert cli.json("engine", "test", "tls")["reachable"] is True
    assert cli.json("engine", "info", "tls")["apiVersion"]
    out, _ = cli("engine", "list")
    assert "tls" in out and tls_engine.host in out
    # The client key is in the keyring, never in the database.
    assert fleet_desk.secrets.get("engine-tls-key/tls").startswith("-----BEGIN")
    key_text = tls_engine.key.read_text()
    with fleet_desk.db.read_session() as session:
        from sqlalchemy import text

        for row in session.execute(text("SELECT * FROM docker_engines")).all():
            assert all(key_text.strip() not in str(value) for value in row)


def test_a_wrong_ca_or_a_closed_port_is_refused_with_a_sentence_and_nothing_is_stored(cli, tls_engine, second):
    _, err = cli("engine", "add", "bad", "--host", tls_engine.host, "--tls-ca", str(tls_engine.other_ca),
                 "--tls-cert", str(tls_engine.cert), "--tls-key", str(tls_engine.key), expect=2)
    assert err.startswith("giftdesk: ") and err.count("\n") == 1 and "'bad'" in err and "certificate" in err
    _, err = cli("engine", "add", "closed", "--host", f"tcp://127.0.0.1:{free_port()}", "--tls-ca",
                 str(tls_engine.ca), "--tls-cert", str(tls_engine.cert), "--tls-key", str(tls_engine.key), expect=2)
    assert "'closed'" in err and err.count("\n") == 1
    _, err = cli("engine", "add", "half", "--host", tls_engine.host, "--tls-ca", str(tls_engine.ca), expect=2)
    assert "all three" in err
    assert [e["name"] for e in cli.json("engine", "list")] == ["local"]


def test_another_ca_bundle_in_the_environment_does_not_override_the_engines(cli, tls_engine, second, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_engine.other_ca))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(tls_engine.other_ca))
    assert add_engine(cli, "tls", tls_engine.host, tls=tls_engine)["reachable"] is True
    assert cli.json("engine", "test", "tls")["reachable"] is True


def test_a_tracker_on_the_tls_engine_from_create_to_delete(cli, tls_engine, second, account, engine):
    add_engine(cli, "tls", tls_engine.host, tls=tls_engine)
    acct = account()
    name = unique("tls")
    created = cli.json("instance", "create", name, "--account", str(acct.id), "--engine", "tls")
    assert created["engine"] == "tls" and created["state"] == "running"
    container_id = created["containerId"]
    assert second.api.inspect_container(container_id)["State"]["Running"]
    assert not engine.api.containers(all=True, filters={"id": container_id})  # not on the first engine
    listed = {r["name"]: r for r in cli.json("instance", "list")}
    assert listed[name]["engine"] == "tls" and listed[name]["state"] == "running"
    assert cli.json("instance", "show", name)["engine"] == "tls"
    out, _ = cli("instance", "list")
    assert "tls" in out
    assert {e["name"]: e for e in cli.json("engine", "list")}["tls"]["instances"] == 1
    images = {t: i for i in cli.json("image", "list", "--engine", "tls") for t in i["tags"]}
    assert name in images[FLEET_IMAGE]["instances"]  # the TLS engine's own images, with its instances

    assert cli.json("instance", "stop", name)[0]["outcome"] == "ok"
    assert not second.api.inspect_container(container_id)["State"]["Running"]
    assert cli.json("instance", "show", name)["state"] == "exited"
    assert cli.json("instance", "start", name)[0]["outcome"] == "ok"
    assert wait_state(cli, name, "running")["state"] == "running"

    second.api.stop(container_id, timeout=1)  # stopped outside the console
    assert wait_state(cli, name, "exited")["state"] == "exited"

    # Names are unique across engines; ports are checked on the engine that publishes.
    _, err = cli("instance", "create", name, "--account", str(acct.id), expect=2)
    assert "exists already" in err
    _, err = cli("instance", "create", unique("tls"), "--account", str(acct.id), "--engine", "tls",
                 "--port", str(created["port"]), expect=2)
    assert "belongs to instance" in err
    _, err = cli("instance", "create", unique("tls"), "--account", str(acct.id), "--engine", "nowhere", expect=2)
    assert "nowhere" in err
    # Both engines publish on this computer: the stopped tracker's port is not handed to the local one.
    _, err = cli("instance", "create", unique("loc"), "--account", str(acct.id), "--port", str(created["port"]),
                 expect=2)
    assert f"belongs to instance '{name}'" in err

    assert cli.json("instance", "delete", name, "--yes")[0]["outcome"] == "ok"
    assert not second.api.containers(all=True, filters={"id": container_id})
    assert cli.json("instance", "list") == []


def test_removing_an_engine_is_refused_while_instances_live_there_unless_forced(cli, tls_engine, second, account):
    add_engine(cli, "tls", tls_engine.host, tls=tls_engine)
    acct = account()
    name = unique("rm")
    created = cli.json("instance", "create", name, "--account", str(acct.id), "--engine", "tls", "--no-start")
    _, err = cli("engine", "remove", "tls", expect=2)
    assert "still runs 1 instance" in err and name in err
    _, err = cli("engine", "remove", "tls", "--force", expect=2)  # no terminal, no --yes
    assert "--yes" in err
    assert cli.json("engine", "remove", "tls", "--force", "--yes")["forgottenInstances"] == [name]
    assert cli.json("instance", "list") == []
    assert [e["name"] for e in cli.json("engine", "list")] == ["local"]
    # Nothing on the engine was deleted.
    assert second.api.containers(all=True, filters={"id": created["containerId"]})


def test_a_backend_url_is_checked(cli, tls_engine, second):
    _, err = cli("engine", "add", "tls", "--host", tls_engine.host, "--tls-ca", str(tls_engine.ca), "--tls-cert",
                 str(tls_engine.cert), "--tls-key", str(tls_engine.key), "--backend-url", "ftp://x", expect=2)
    assert "http" in err
    added = add_engine(cli, "tls", tls_engine.host, tls=tls_engine, backend_url="http://10.232.0.1:8080/api/instances")
    assert added["backendUrl"] == "http://10.232.0.1:8080/api/instances"
    edited = cli.json("engine", "edit", "tls", "--no-backend-url")
    assert edited["backendUrl"] is None and edited["reachable"] is True
    moved = cli.json("engine", "edit", "tls", "--host", tls_engine.host.replace("127.0.0.1", "localhost"))
    assert moved["tls"] is True and moved["reachable"] is True  # a new tcp:// address keeps the certificates
    _, err = cli("engine", "edit", "tls", "--tls-ca", str(tls_engine.other_ca), "--tls-cert", str(tls_engine.cert),
                 "--tls-key", str(tls_engine.key), expect=2)
    assert "'tls'" in err and "certificate" in err  # refused: the stored engine is unchanged
    assert cli.json("engine", "test", "tls")["reachable"] is True


def test_the_runtime_watches_each_engine_and_one_that_does_not_answer_holds_up_nothing(
        fleet_desk, tls_engine, second, account, engine):
    from giftdesk.db.fleet_models import DockerEngineRecord
    from giftdesk.fleet.events import InstanceProbed, InstanceStateChanged, InstanceStatsSampled
    from giftdesk.fleet.runtime import install
    from giftdesk.runtime import Runtime
    from tests.fleet.test_runtime import Recorder

    desk = fleet_desk
    with desk.db.session() as session:  # an engine that was added, then went away
        session.add(DockerEngineRecord(name="gone", host=f"tcp://127.0.0.1:{free_port()}"))
    local = desk.fleet.create(unique("lw"), account().id)
    recorder = Recorder(desk, InstanceStateChanged, InstanceProbed, InstanceStatsSampled)
    rt = Runtime(desk, endpoint=False, features=False)
    fleet = install(rt, probe_interval=0.5, stats_interval=0.5, probe_grace=2.0)
    assert set(fleet.engine_watchers) == {"gone"}
    rt.start()
    try:
        # Added while the runtime runs: its watcher starts at once.
        desk.engines.add("tls", tls_engine.host, tls_ca=str(tls_engine.ca), tls_cert=str(tls_engine.cert),
                         tls_key=str(tls_engine.key))
        assert set(fleet.engine_watchers) == {"gone", "tls"}
        remote = desk.fleet.create(unique("rw"), account().id, engine="tls")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (
                fleet.live.connection == "connected"
                and fleet.live.engine_connections.get("tls", ("",))[0] == "connected"):
            time.sleep(0.05)
        assert fleet.live.connection == "connected"
        assert fleet.live.engine_connections["tls"][0] == "connected"
        assert fleet.live.engine_connections.get("gone", ("starting",))[0] != "connected"
        recorder.wait(lambda e: isinstance(e, InstanceStateChanged) and e.instance_id == remote.id
                      and e.state == "running")
        assert fleet.live.get(remote.id).engine == "tls"
        # Its probe and its stats, from its own engine (the unreachable one asked for nothing).
        recorder.wait(lambda e: isinstance(e, InstanceProbed) and e.instance_id == remote.id and e.health == "healthy")
        fleet.live.want_stats("test")
        recorder.wait(lambda e: isinstance(e, InstanceStatsSampled) and e.instance_id == remote.id
                      and e.memory_bytes > 0)
        recorder.wait(lambda e: isinstance(e, InstanceStatsSampled) and e.instance_id == local.id)
        fleet.live.release_stats("test")
        after = len(recorder.events)
        second.api.stop(remote.container_id, timeout=1)  # outside the console, on the TLS engine
        recorder.wait(lambda e: isinstance(e, InstanceStateChanged) and e.instance_id == remote.id
                      and e.state == "exited", after=after)
        engine.api.stop(local.container_id, timeout=1)  # and on the local one
        recorder.wait(lambda e: isinstance(e, InstanceStateChanged) and e.instance_id == local.id
                      and e.state == "exited", after=after)
        rows = {r.name: r for r in desk.fleet.list(with_state=True)}
        assert rows[remote.name].state == "exited" and rows[local.name].state == "exited"
        # Moved home while both watchers run: the old engine's events about it do not count.
        desk.fleet.start(remote.id)
        after = len(recorder.events)
        moved = desk.fleet.move(remote.id, "local")
        assert moved.engine == "" and moved.state == "running"
        recorder.wait(lambda e: isinstance(e, InstanceStateChanged) and e.instance_id == remote.id
                      and e.state == "running" and e.container_id == moved.container_id, after=after)
        seen = [e for _t, e in recorder.events[after:] if isinstance(e, InstanceStateChanged)
                and e.instance_id == remote.id]
        assert all(e.state != "missing" for e in seen), seen
        assert desk.fleet.get(remote.id).status != "missing"
    finally:
        rt.stop()


def test_an_engine_that_does_not_answer_leaves_the_others_rows_alone(cli, fleet_desk, account):
    from giftdesk.db.fleet_models import DockerEngineRecord, Instance

    acct = account()
    with fleet_desk.db.session() as session:
        session.add(DockerEngineRecord(name="gone", host=f"tcp://127.0.0.1:{free_port()}"))
        session.add(Instance(name="far-away", account_id=acct.id, tiktok_username=acct.username, port=3399,
                             backend_api_url="http://10.0.0.1/api/instances", image=FLEET_IMAGE, engine="gone",
                             container_id="f" * 64, status="running"))
    name = unique("near")
    cli.json("instance", "create", name, "--account", str(acct.id))
    rows = {r["name"]: r for r in cli.json("instance", "list")}
    assert rows[name]["state"] == "running" and rows[name]["engine"] == "local"
    assert rows["far-away"]["state"] == "unknown" and rows["far-away"]["engineUnreachable"] is True
    _, err = cli("instance", "list")
    assert "gone" in err and "local" not in err
    listed = {e["name"]: e for e in cli.json("engine", "list")}
    assert listed["gone"]["reachable"] is False and listed["gone"]["instances"] == 1
    assert listed["local"]["reachable"] is True
    assert cli.json("engine", "test", "gone", expect=1)["reachable"] is False
    # A sync does not call the unreachable engine's instance missing.
    cli.json("instance", "sync")
    assert cli.json("instance", "show", "far-away")["status"] == "running"


@pytest.mark.parametrize("point", ["create.after_record", "create.after_container", "create.after_link",
                                   "delete.after_journal", "delete.after_remove"])
def test_an_operation_killed_on_the_tls_engine_is_finished_there(cli, fleet_desk, tls_engine, second, account, point):
    from tests.fleet.test_crash_recovery import Crash

    add_engine(cli, "tls", tls_engine.host, tls=tls_engine)
    crash = Crash(fleet_desk, second, cli, account)
    acct = account()
    name = unique("kt")
    if point.startswith("create"):
        crash.run("instance", "create", name, "--account", str(acct.id), "--engine", "tls", failpoint=point)
    else:
        cli.json("instance", "create", name, "--account", str(acct.id), "--engine", "tls")
        crash.run("instance", "delete", name, "--yes", failpoint=point)
    rows = crash.check()  # one sync: one matching container on the TLS engine per record, nothing else
    assert all(row.engine == "tls" and row.state == "running" for row in rows.values())
    assert (name in rows) == (point in ("create.after_container", "create.after_link"))


def test_an_engine_from_a_docker_context_uses_the_clis_own_store(cli, tls_engine, second, tmp_path, monkeypatch,
                                                                  account):
    config = tmp_path / "docker-config"
    made = subprocess.run(
        ["docker", "context", "create", "tlsctx", "--docker",
         f"host={tls_engine.host},ca={tls_engine.ca},cert={tls_engine.cert},key={tls_engine.key}"],
        env={"DOCKER_CONFIG": str(config), "PATH": "/usr/local/bin:/usr/bin:/bin"}, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_engine.other_ca))
    added = cli.json("engine", "add", "ctx", "--context", "tlsctx")
    assert added["reachable"] is True and added["context"] == "tlsctx" and added["host"] == tls_engine.host
    name = unique("ctx")
    created = cli.json("instance", "create", name, "--account", str(account().id), "--engine", "ctx")
    assert second.api.inspect_container(created["containerId"])["State"]["Running"]
    assert cli.json("instance", "delete", name, "--yes")[0]["outcome"] == "ok"
    _, err = cli("engine", "add", "nope", "--context", "no-such-context", expect=2)
    assert "no Docker context called 'no-such-context'" in err


def test_trackers_on_another_computer_are_called_at_its_address(fleet_desk, account):
    from giftdesk.db.fleet_models import DockerEngineRecord, Instance

    acct = account()
    with fleet_desk.db.session() as session:
        session.add_all([DockerEngineRecord(name="far", host="tcp://192.0.2.10:2376"),
                         DockerEngineRecord(name="near", host="tcp://127.0.0.1:2376"),
                         DockerEngineRecord(name="shell", host="ssh://ops@tracker-host.example")])
        for engine, name, address, port in (("far", "t-far", "0.0.0.0", 3400), ("near", "t-near", "0.0.0.0", 3400),
                                            ("shell", "t-shell", "127.0.0.1", 3400),
                                            ("far", "t-one", "198.51.100.7", 3401)):
            session.add(Instance(name=name, account_id=acct.id, tiktok_username=acct.username, port=port,
                                 backend_api_url="http://192.0.2.1/api/instances", image=FLEET_IMAGE, engine=engine,
                                 publish_address=address))
    fleet = fleet_desk.fleet
    assert fleet.tracker_url(fleet.get("t-far")) == "http://192.0.2.10:3400"
    assert fleet.tracker_url(fleet.get("t-near")) == "http://127.0.0.1:3400"
    assert fleet.tracker_url(fleet.get("t-shell")) == "http://tracker-host.example:3400"
    assert fleet.tracker_url(fleet.get("t-one")) == "http://198.51.100.7:3401"
    # A loopback backend URL is refused for the engine on another computer, not for the one here.
    from giftdesk.core.errors import ValidationError
    from giftdesk.fleet.engines import check_backend_url

    with pytest.raises(ValidationError, match="loopback"):
        check_backend_url("http://127.0.0.1:8080/api/instances", "tcp://192.0.2.10:2376")
    assert check_backend_url("http://127.0.0.1:8080/api/instances/", "tcp://127.0.0.1:2376").endswith("/instances")


def test_an_instance_moves_to_the_tls_engine_and_back(cli, tls_engine, second, account, engine):
    add_engine(cli, "tls", tls_engine.host, tls=tls_engine)
    acct = account()
    name = unique("mv")
    created = cli.json("instance", "create", name, "--account", str(acct.id))
    moved = cli.json("instance", "move", name, "--engine", "tls")
    assert moved["engine"] == "tls" and moved["state"] == "running" and moved["uid"] == created["uid"]
    assert moved["port"] != created["port"]  # both engines publish on this computer: the old port was held
    assert second.api.inspect_container(moved["containerId"])["State"]["Running"]
    assert not engine.api.containers(all=True, filters={"id": created["containerId"]})  # the old one is gone
    events = [e["message"] for e in cli.json("instance", "events", name)]
    assert any("Moved from the engine 'local' to 'tls'" in m for m in events)

    _, err = cli("instance", "move", name, "--engine", "tls", expect=2)
    assert "already" in err
    _, err = cli("instance", "move", name, "--engine", "nowhere", expect=2)
    assert "nowhere" in err

    cli.json("instance", "stop", name)
    back = cli.json("instance", "move", name, "--engine", "local")
    assert back["engine"] == "local" and back["state"] == "exited"  # stopped before, stopped after
    assert not second.api.containers(all=True, filters={"id": moved["containerId"]})
    assert engine.api.inspect_container(back["containerId"])["Config"]["Labels"]["giftdesk.instance.uid"] == \
        created["uid"]
    assert cli.json("instance", "delete", name, "--yes")[0]["outcome"] == "ok"


def test_a_move_to_an_engine_without_the_image_changes_nothing(cli, tls_engine, second, account, engine):
    add_engine(cli, "tls", tls_engine.host, tls=tls_engine)
    acct = account()
    name = unique("mi")
    local_only = "giftdesk-fleet-local-only:latest"
    engine.api.tag(FLEET_IMAGE, "giftdesk-fleet-local-only", "latest")
    try:
        created = cli.json("instance", "create", name, "--account", str(acct.id), "--image", local_only)
        _, err = cli("instance", "move", name, "--engine", "tls", expect=2)
        assert "not on the engine 'tls'" in err and err.count("\n") == 1
        shown = cli.json("instance", "show", name)
        assert shown["engine"] == "local" and shown["containerId"] == created["containerId"]
        assert shown["state"] == "running"
        cli.json("instance", "delete", name, "--yes")
    finally:
        engine.api.remove_image(local_only)


@pytest.mark.parametrize("point", ["move.after_create", "move.after_switch", "move.after_ready",
                                   "move.after_remove_old"])
def test_a_move_killed_at_each_step_ends_on_one_engine(cli, fleet_desk, tls_engine, second, account, engine, point):
    from tests.fleet.test_crash_recovery import Crash

    add_engine(cli, "tls", tls_engine.host, tls=tls_engine)
    acct = account()
    name = unique("km")
    created = cli.json("instance", "create", name, "--account", str(acct.id))
    Crash(fleet_desk, engine, cli, account).run("instance", "move", name, "--engine", "tls", failpoint=point)
    cli.json("instance", "sync")
    shown = cli.json("instance", "show", name)
    ours = {"label": f"giftdesk.instance.uid={created['uid']}"}
    on_local, on_tls = engine.api.containers(all=True, filters=ours), second.api.containers(all=True, filters=ours)
    kept = point in ("move.after_ready", "move.after_remove_old")
    assert shown["engine"] == ("tls" if kept else "local")
    assert [c["Id"] for c in (on_tls if kept else on_local)] == [shown["containerId"]]
    assert not (on_local if kept else on_tls)  # nothing left on the other engine
    assert cli.json("instance", "start", name)[0]["outcome"] == "ok"
    assert cli.json("instance", "show", name)["state"] == "running"


class MuteEngine:
    """A TCP port that accepts connections and never answers: an engine that hangs."""

    def __init__(self):
        import socket
        import threading

        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        self.accepted: list = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.server.close()
        for connection in self.accepted:
            connection.close()
        self._thread.join(timeout=5)


def test_a_named_engine_that_hangs_is_not_waited_for_again(fleet_desk, account):
    from giftdesk.db.fleet_models import DockerEngineRecord, Instance

    mute = MuteEngine()
    try:
        acct = account()
        with fleet_desk.db.session() as session:
            session.add(DockerEngineRecord(name="mute", host=f"tcp://127.0.0.1:{mute.port}"))
            session.add(Instance(name="hung", account_id=acct.id, tiktok_username=acct.username, port=3398,
                                 backend_api_url="http://192.0.2.1/api/instances", image=FLEET_IMAGE, engine="mute",
                                 container_id="e" * 64, status="running"))
        near = fleet_desk.fleet.create(unique("near"), acct.id)
        first = {r.name: r.state for r in fleet_desk.fleet.list(with_state=True)}
        assert first == {near.name: "running", "hung": "unknown"}
        asked = len(mute.accepted)
        assert asked >= 1  # it was asked once, and did not answer in time
        again = {r.name: r.state for r in fleet_desk.fleet.list(with_state=True)}
        assert again == first and len(mute.accepted) == asked  # not asked again: the refresh did not wait
        assert fleet_desk.fleet.get("hung", with_state=True).state == "unknown"
    finally:
        fleet_desk.fleet.engines.close()
        mute.close()


def test_the_docker_state_counts_the_engines_and_names_those_that_do_not_answer(fleet_desk, engine):
    """What the status bar says: "Docker: 3 engines, 1 unreachable", the names in its tool tip."""
    from giftdesk.db.fleet_models import DockerEngineRecord
    from giftdesk.runtime.docker_monitor import DockerMonitorService, DockerStateChanged

    with fleet_desk.db.session() as session:
        session.add(DockerEngineRecord(name="gone", host=f"tcp://127.0.0.1:{free_port()}"))
        session.add(DockerEngineRecord(name="twin", host=os.environ["DOCKER_HOST"]))
    seen = []
    fleet_desk.events.subscribe(DockerStateChanged, seen.append)
    monitor = DockerMonitorService(fleet_desk)
    stop = threading.Event()
    runner = threading.Thread(target=monitor.run, args=(stop,))
    runner.start()
    try:
        assert wait_for(lambda: seen and seen[-1].state.reachable is not None, 30)
    finally:
        stop.set()
        runner.join(30)
        monitor.close()
    state = seen[-1].state
    assert (state.reachable, state.engines, state.unreachable_engines) == (True, 3, ("gone",))
    assert state.short_label == "Docker: 3 engines, 1 unreachable"
    assert "3 engines; not answering: gone" in state.tooltip
    assert state.to_json()["unreachableEngines"] == ["gone"]


def test_an_export_carries_the_engine_and_the_import_puts_it_back_there(cli, fleet_desk, account, tmp_path, engine):
    """The engine goes with the instance; a file naming an engine this console does not have is
    refused for that instance with the reason."""
    import json

    fleet_desk.fleet.engines.add("twin", os.environ["DOCKER_HOST"])
    acct = account()
    name = unique("exp")
    cli.json("instance", "create", name, "--account", str(acct.id), "--engine", "twin", "--no-start")
    export_file = tmp_path / "fleet.json"
    cli("instance", "export", "--file", str(export_file))
    data = json.loads(export_file.read_text())
    assert [i["engine"] for i in data["instances"]] == ["twin"]
    cli.json("instance", "delete", name, "--yes")
    # New ports: other test runs on the shared engine may have taken the old one meanwhile.
    planned = cli.json("instance", "import", str(export_file), "--dry-run", "--new-ports")
    assert [(p["action"], p["engine"]) for p in planned["instances"]] == [("create", "twin")]
    assert [r["outcome"] for r in cli.json("instance", "import", str(export_file), "--new-ports")] == ["ok"]
    assert fleet_desk.fleet.get(name).engine == "twin"
    cli.json("instance", "delete", name, "--yes")
    data["instances"][0]["engine"] = "nowhere"
    export_file.write_text(json.dumps(data))
    [plan] = cli.json("instance", "import", str(export_file), "--dry-run", "--new-ports", expect=1)["instances"]
    assert plan["action"] == "refuse" and "there is no Docker engine called 'nowhere' here" in plan["reason"]


def _stop_processes(client, container_id: str, sig) -> list[int]:
    """Signals every process of a container (host pids: the engine runs on this machine)."""
    top = client.api.top(container_id)
    column = top["Titles"].index("PID")
    pids = [int(process[column]) for process in top["Processes"]]
    for pid in pids:
        os.kill(pid, sig)
    return pids


def test_each_engine_has_its_own_sampler_and_probe_and_one_that_hangs_holds_up_neither_local_one(
        fleet_desk, tls_engine, second, account):
    """The TLS engine is reached through a relay that can hold every byte: its sampler's call waits
    and, its tracker stopped with SIGSTOP, its probe's call waits; meanwhile the local sampler and
    probe go on with their rounds. Then the relay is cut: the engine's trackers are not asked and
    their health is not known ("none"), not unhealthy."""
    import signal

    from giftdesk.fleet.events import InstanceProbed, InstanceStatsSampled
    from giftdesk.fleet.probe import ENGINE_AWAY
    from giftdesk.fleet.runtime import install
    from giftdesk.runtime import Runtime
    from tests.fleet.test_runtime import Recorder
    from tests.support.engine_relay import EngineRelay

    desk = fleet_desk
    relay = EngineRelay(int(tls_engine.host.rsplit(":", 1)[1]))
    stopped: list[int] = []
    rt = None
    try:
        desk.engines.add("tls", relay.host, tls_ca=str(tls_engine.ca), tls_cert=str(tls_engine.cert),
                         tls_key=str(tls_engine.key))
        local = desk.fleet.create(unique("lh"), account().id)
        remote = desk.fleet.create(unique("rh"), account().id, engine="tls")
        recorder = Recorder(desk, InstanceProbed, InstanceStatsSampled)
        rt = Runtime(desk, endpoint=False, features=False)
        # A long probe timeout: the stopped tracker's call waits for as long as the test looks.
        fleet = install(rt, probe_interval=0.5, stats_interval=0.5, probe_grace=2.0, probe_timeout=60.0)
        assert set(fleet.engine_samplers) == set(fleet.engine_probes) == {"tls"}
        far_sampler, far_probe = fleet.engine_samplers["tls"], fleet.engine_probes["tls"]
        names = {status.name for status in rt.statuses()}
        assert {"fleet-stats", "fleet-probe", "fleet-stats-tls", "fleet-probe-tls"} <= names
        rt.start()
        for row in (local, remote):
            recorder.wait(lambda e, i=row.id: isinstance(e, InstanceProbed) and e.instance_id == i
                          and e.health == "healthy", timeout=30)
        fleet.live.want_stats("test")
        fleet.wake_stats()
        for row in (local, remote):
            recorder.wait(lambda e, i=row.id: isinstance(e, InstanceStatsSampled) and e.instance_id == i)
        assert far_sampler.rounds > 0 and fleet.live.get(remote.id).engine == "tls"

        # The TLS engine hangs (its watcher still thinks it connected) and its tracker too.
        stopped = _stop_processes(second, remote.container_id, signal.SIGSTOP)
        relay.mute()
        assert wait_for(lambda: far_sampler.asking > 0 and far_probe.asking > 0, 30)
        blocked_rounds = (far_sampler.rounds, far_probe.rounds)
        local_rounds = (fleet.stats.rounds, fleet.probe.rounds)
        after = len(recorder.events)
        assert wait_for(lambda: fleet.stats.rounds >= local_rounds[0] + 2 and fleet.probe.rounds >= local_rounds[1] + 2,
                        30)
        recorder.wait(lambda e: isinstance(e, InstanceStatsSampled) and e.instance_id == local.id, after=after)
        assert fleet.live.get(local.id).health == "healthy" and fleet.live.get(local.id).probe_error == ""
        # All the while the TLS engine's calls had not come back: still in the round they began in.
        assert far_sampler.asking > 0 and far_probe.asking > 0
        assert (far_sampler.rounds, far_probe.rounds) == blocked_rounds
        assert fleet.live.engine_connections["tls"][0] == "connected"

        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        stopped = []
        relay.unmute()
        assert wait_for(lambda: far_sampler.rounds > blocked_rounds[0] and far_probe.rounds > blocked_rounds[1], 30)

        # The host goes away: its watcher says so, and its probe asks its trackers nothing.
        after = len(recorder.events)
        relay.cut()
        _, probed = recorder.wait(lambda e: isinstance(e, InstanceProbed) and e.instance_id == remote.id, after=after)
        assert probed.health == "none" and probed.error == ENGINE_AWAY
        assert fleet.live.engine_connections["tls"][0] != "connected"
        assert fleet.live.get(remote.id).health == "none"
        assert fleet.live.get(local.id).health == "healthy"
        rounds = far_probe.rounds
        assert wait_for(lambda: far_probe.rounds >= rounds + 2, 30)
        assert far_probe.asking == 0 and fleet.live.get(remote.id).health == "none"  # the tracker still answers
        assert not [e for _t, e in recorder.events[after:] if isinstance(e, InstanceProbed)
                    and e.instance_id == remote.id and e.health == "unhealthy"]
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)
        relay.unmute()
        if rt is not None:
            rt.stop()
        relay.cut()
        desk.fleet.engines.close()


def test_an_engine_added_while_the_runtime_runs_gets_its_own_sampler_and_probe(fleet_desk, account):
    from giftdesk.fleet.events import InstanceProbed, InstanceStatsSampled
    from giftdesk.fleet.runtime import install
    from giftdesk.runtime import Runtime
    from tests.fleet.test_runtime import Recorder

    desk = fleet_desk
    recorder = Recorder(desk, InstanceProbed, InstanceStatsSampled)
    rt = Runtime(desk, endpoint=False, features=False)
    fleet = install(rt, probe_interval=0.5, stats_interval=0.5, probe_grace=2.0)
    assert fleet.engine_samplers == {} and fleet.engine_probes == {}
    rt.start()
    try:
        desk.engines.add("twin", os.environ["DOCKER_HOST"])  # the same engine under a name of its own
        assert set(fleet.engine_samplers) == set(fleet.engine_probes) == {"twin"}
        sampler, probe = fleet.engine_samplers["twin"], fleet.engine_probes["twin"]
        assert (sampler.engine, probe.engine) == ("twin", "twin")
        assert {"fleet-stats-twin", "fleet-probe-twin"} <= {status.name for status in rt.statuses()}
        row = desk.fleet.create(unique("tw"), account().id, engine="twin")
        recorder.wait(lambda e: isinstance(e, InstanceProbed) and e.instance_id == row.id and e.health == "healthy",
                      timeout=30)
        fleet.live.want_stats("test")
        fleet.wake_stats()
        recorder.wait(lambda e: isinstance(e, InstanceStatsSampled) and e.instance_id == row.id)
        assert sampler.rounds > 0 and fleet.stats.rounds == 0  # its engine's sampler, not the local one
        assert probe.rounds > 0
    finally:
        rt.stop()
        desk.fleet.engines.close()


def _orphan_on(client, desk_id: str, name: str, start: bool = True, **kwargs):
    """A tracker container without a record, made straight on an engine (this desk's label: the
    fixtures' clean-up takes it)."""
    labels = {"app": "gift-tracker", "managed-by": "giftdesk", "giftdesk.desk": desk_id}
    container = client.containers.create(FLEET_IMAGE, name=name, labels=labels, **kwargs)
    if start:
        container.start()
    return container


def test_orphans_on_the_tls_engine_are_reported_removed_and_adopted_there(cli, fleet_desk, tls_engine, second,
                                                                         account, engine):
    add_engine(cli, "tls", tls_engine.host, tls=tls_engine)
    acct = account()
    desk_id = fleet_desk.secrets.namespace
    keep_name, port = f"gift-tracker-{unique('keep')}", free_port()
    keep = _orphan_on(second, desk_id, keep_name, environment={"ACCOUNT_ID": str(acct.id),
                                                               "TIKTOK_USERNAME": f"@{acct.username}"},
                      ports={"3000/tcp": ("127.0.0.1", port)})
    resting = _orphan_on(second, desk_id, f"gift-tracker-{unique('rest')}", start=False)
    twice = f"gift-tracker-{unique('twice')}"
    there, here = _orphan_on(second, desk_id, twice), _orphan_on(engine, desk_id, twice)  # one name, two engines

    result = cli.json("instance", "sync")
    engines = {o["containerId"]: o["engine"] for o in result["orphans"]}
    assert {keep.id: "tls", resting.id: "tls", there.id: "tls", here.id: "local"}.items() <= engines.items()
    assert result["unreachable"] == []
    only = cli.json("instance", "sync", "--engine", "tls")
    assert {o["containerId"] for o in only["orphans"]} == {keep.id, resting.id, there.id}
    out, _ = cli("instance", "sync")
    [line] = [text for text in out.splitlines() if text.startswith(keep_name + " ")]
    assert line.split()[1] == "tls" and line.endswith("--engine tls")

    # One name on two engines: which one is asked for, and nothing is removed meanwhile.
    _, err = cli("instance", "sync", "--remove-orphan", twice, "--yes", expect=2)
    assert err.count("\n") == 1 and "'local' and 'tls'" in err and "--engine" in err
    assert second.api.containers(all=True, filters={"id": there.id}) and engine.api.containers(filters={"id": here.id})
    removed = cli.json("instance", "sync", "--remove-orphan", twice, "--engine", "tls", "--yes")
    assert removed["removed"] == there.id
    assert not second.api.containers(all=True, filters={"id": there.id})
    here.reload()
    assert here.status == "running"  # the local one of that name is untouched
    assert cli.json("instance", "sync", "--remove-orphan", here.id[:12], "--yes")["removed"] == here.id

    # Adopted where it is: the new tracker runs on the TLS engine, on the orphan's port.
    adopted = cli.json("instance", "sync", "--adopt", keep.id[:12], "--account", str(acct.id))
    assert adopted["engine"] == "tls" and adopted["state"] == "running" and adopted["port"] == port
    assert second.api.inspect_container(adopted["containerId"])["State"]["Running"]
    assert not second.api.containers(all=True, filters={"id": keep.id})
    assert not engine.api.containers(all=True, filters={"id": adopted["containerId"]})
    assert any("on the engine 'tls'" in e["message"] for e in cli.json("instance", "events", adopted["name"]))
    # A stopped orphan stays stopped as an instance, there too.
    quiet = cli.json("instance", "sync", "--adopt", resting.id[:12], "--account", str(acct.id), "--engine", "tls")
    assert quiet["engine"] == "tls" and quiet["state"] != "running"
    assert second.api.inspect_container(quiet["containerId"])["State"]["Running"] is False
    left = {o["containerId"] for o in cli.json("instance", "sync")["orphans"]}
    assert not left & {keep.id, resting.id, there.id, here.id}
    for name in (adopted["name"], quiet["name"]):
        cli.json("instance", "delete", name, "--yes")


@pytest.mark.parametrize("point", ["adopt.after_park", "adopt.after_create"])
def test_an_adoption_killed_on_the_tls_engine_is_settled_there(cli, fleet_desk, tls_engine, second, account, point):
    from tests.fleet.test_crash_recovery import Crash

    add_engine(cli, "tls", tls_engine.host, tls=tls_engine)
    crash = Crash(fleet_desk, second, cli, account)
    acct = account()
    orphan_name = f"gift-tracker-{unique('ko')}"
    orphan = _orphan_on(second, crash.desk_id, orphan_name, environment={"ACCOUNT_ID": str(acct.id)})
    crash.run("instance", "sync", "--adopt", orphan.id[:12], "--account", str(acct.id), failpoint=point)
    result = cli.json("instance", "sync")  # recovery first, on the engine the journal names
    rows = fleet_desk.fleet.list(with_state=True)
    if point == "adopt.after_park":  # rolled back: the orphan is back under its name, running
        assert rows == [] and [(o["name"], o["engine"]) for o in result["orphans"]] == [(orphan_name, "tls")]
        orphan.reload()
        assert orphan.name == orphan_name and orphan.status == "running"
        orphan.remove(force=True)
    else:  # finished: the new instance on the TLS engine, the orphan gone from it
        assert [(r.engine, r.state) for r in rows] == [("tls", "running")] and result["orphans"] == []
        assert not second.api.containers(all=True, filters={"id": orphan.id})
    crash.check()


def test_an_engine_that_does_not_answer_is_named_by_the_sync_and_fails_nothing(cli, fleet_desk, engine):
    from giftdesk.db.fleet_models import DockerEngineRecord

    with fleet_desk.db.session() as session:
        session.add(DockerEngineRecord(name="gone", host=f"tcp://127.0.0.1:{free_port()}"))
    stray = _orphan_on(engine, fleet_desk.secrets.namespace, f"gift-tracker-{unique('st')}")
    result = cli.json("instance", "sync")
    assert result["unreachable"] == ["gone"]
    assert {o["containerId"]: o["engine"] for o in result["orphans"]}[stray.id] == "local"
    out, _ = cli("instance", "sync")
    assert "Not answering: gone" in out and stray.name in out
    assert fleet_desk.fleet.reconcile("gone").unreachable == ("gone",)  # named alone: still no error
    _, err = cli("instance", "sync", "--remove-orphan", "0123456789ab", "--yes", expect=2)
    assert "the engine 'gone' did not answer" in err
    _, err = cli("instance", "sync", "--remove-orphan", stray.id[:12], "--engine", "gone", "--yes", expect=1)
    assert "'gone' does not answer" in err
    _, err = cli("instance", "sync", "--engine", "nowhere", expect=2)
    assert "no Docker engine called 'nowhere'" in err
    assert cli.json("instance", "sync", "--remove-orphan", stray.id[:12], "--yes")["removed"] == stray.id


def test_an_engine_registered_twice_lists_its_orphans_once(cli, fleet_desk, engine):
    """The local engine added again under another name: each orphan once, as the local engine's."""
    fleet_desk.fleet.engines.add("twin", os.environ["DOCKER_HOST"])
    stray = _orphan_on(engine, fleet_desk.secrets.namespace, f"gift-tracker-{unique('tw')}")
    result = cli.json("instance", "sync")
    assert [o["engine"] for o in result["orphans"] if o["containerId"] == stray.id] == ["local"]
    assert [o["engine"] for o in cli.json("instance", "sync", "--engine", "twin")["orphans"]
            if o["containerId"] == stray.id] == ["twin"]
    assert cli.json("instance", "sync", "--remove-orphan", stray.name, "--yes")["removed"] == stray.id
