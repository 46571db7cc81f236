"""A console killed mid-operation, against the real engine: the CLI is SIGKILLed at every step of
create, clone, edit and delete (the GIFTDESK_FAILPOINT test hook) and after random delays; one
`giftdesk instance sync` afterwards must leave one matching container per record and nothing else.
Also: a leftover with a reused numeric id, failed rollbacks, leftover name conflicts, a missing
container, the engine down, and a live owner's journal entry."""

from __future__ import annotations

import io
import os
import random
import signal
import socket
import subprocess
import sys
import threading

import pytest

from giftdesk.db.fleet_models import InstanceOperation
from giftdesk.fleet.docker_api import (ACCOUNT_LABEL, APP_LABEL, APP_VALUE, DESK_LABEL, ID_LABEL, PORT_LABEL,
                                       UID_LABEL)
from giftdesk.fleet.events import InstanceAlert, InstanceStateChanged
from giftdesk.core.processes import process_start
from giftdesk.fleet.journal import FAILPOINT_ENV
from giftdesk.fleet.runtime import install
from giftdesk.fleet.spec import InstanceSettings
from giftdesk.runtime import Runtime
from tests.fleet.conftest import FLEET_IMAGE, unique
from tests.fleet.test_runtime import Recorder
from tests.runtime.test_supervisor import wait_for

pytestmark = pytest.mark.docker

CREATE_POINTS = ["create.after_record", "create.after_container", "create.after_link"]
EDIT_POINTS = ["edit.after_journal", "edit.after_park", "edit.after_stop_old", "edit.after_create",
               "edit.after_start", "edit.after_remove_old"]
EDIT_KEEPS_NEW = {"edit.after_start", "edit.after_remove_old"}
DELETE_POINTS = ["delete.after_journal", "delete.after_remove"]
MIB = 1024 * 1024


class Crash:
    """The CLI as a separate process (so that it can be killed), and the checks after a kill."""

    def __init__(self, desk, engine, cli, account):
        self.desk, self.engine, self.cli = desk, engine, cli
        self.account = account
        self.desk_id = desk.secrets.namespace

    def run(self, *argv: str, failpoint: str | None = None, kill_after: float | None = None) -> int:
        env = dict(os.environ)
        env.pop(FAILPOINT_ENV, None)
        if failpoint:
            env[FAILPOINT_ENV] = failpoint
        process = subprocess.Popen([sys.executable, "-m", "giftdesk", "--data-dir", str(self.desk.paths.root),
                                    *argv], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if kill_after is not None:
            try:
                process.wait(kill_after)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
        out, err = process.communicate(timeout=60)
        if failpoint:
            assert process.returncode == -signal.SIGKILL, f"{failpoint} never fired: {out!r} {err!r}"
        return process.returncode

    def containers(self) -> list[dict]:
        return self.engine.api.containers(all=True, filters={"label": f"{DESK_LABEL}={self.desk_id}"})

    def journal(self) -> list:
        with self.desk.db.read_session() as session:
            return list(session.query(InstanceOperation))

    def check(self) -> dict:
        """One sync, then every invariant; returns the rows by name."""
        self.cli.json("instance", "sync")
        containers = {c["Id"]: c for c in self.containers()}
        names = [c["Names"][0].lstrip("/") for c in containers.values()]
        assert not [n for n in names if "-old-" in n or "-adopting-" in n], names
        rows = self.desk.fleet.list(with_state=True)
        assert len(containers) == len(rows), (names, [r.name for r in rows])
        uids = {r.uid for r in rows}
        for row in rows:
            container = containers[row.container_id]
            labels = container["Labels"]
            assert labels[UID_LABEL] == row.uid and labels[ACCOUNT_LABEL] == str(row.account_id)
            assert labels[PORT_LABEL] == str(row.port)
            assert container["Names"][0] == f"/gift-tracker-{row.name}"
            memory = self.engine.api.inspect_container(row.container_id)["HostConfig"]["Memory"]
            assert memory == (row.memory_limit_mb or 0) * MIB, (row.name, memory, row.memory_limit_mb)
        assert all(c["Labels"].get(UID_LABEL) in uids for c in containers.values())
        assert self.journal() == []
        listed = {r["name"]: r["state"] for r in self.cli.json("instance", "list")}
        assert listed == {r.name: r.state for r in rows}
        for row in rows:
            self.cli("instance", "start", row.name)
        return {r.name: r for r in self.desk.fleet.list(with_state=True)}


@pytest.fixture
def crash(fleet_desk, engine, cli, account):
    return Crash(fleet_desk, engine, cli, account)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("point", CREATE_POINTS)
def test_a_create_killed_at_each_step_is_finished_or_rolled_back(crash, point):
    account = crash.account()
    name = unique("kc")
    crash.run("instance", "create", name, "--account", str(account.id), "--memory", "64", failpoint=point)
    rows = crash.check()
    if point == "create.after_record":
        assert name not in rows  # no container had been made: rolled back
    else:
        assert rows[name].state == "running"
        password = crash.desk.fleet.dash_password(name)
        env = crash.engine.api.inspect_container(rows[name].container_id)["Config"]["Env"]
        assert f"DASH_PASSWORD={password}" in env  # taken back from the container
    if point == "create.after_container":
        assert any("interrupted create" in e.message for e in crash.desk.fleet.events(name))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("point", CREATE_POINTS)
def test_a_clone_killed_at_each_step_is_finished_or_rolled_back(crash, point):
    account = crash.account()
    source = crash.desk.fleet.create(unique("src"), account.id, settings=InstanceSettings(memory_limit_mb=64),
                                     start=False)
    name = unique("kl")
    crash.run("instance", "clone", source.name, name, failpoint=point)
    rows = crash.check()
    assert (name in rows) == (point != "create.after_record")
    if name in rows:
        assert rows[name].memory_limit_mb == 64


@pytest.mark.timeout(120)
@pytest.mark.parametrize("point", EDIT_POINTS)
def test_an_edit_killed_at_each_step_ends_with_one_matching_container(crash, point):
    account = crash.account()
    row = crash.desk.fleet.create(unique("ke"), account.id, settings=InstanceSettings(memory_limit_mb=64))
    crash.run("instance", "edit", row.name, "--memory", "96", failpoint=point)
    rows = crash.check()
    kept = rows[row.name]
    assert kept.memory_limit_mb == (96 if point in EDIT_KEEPS_NEW else 64)
    assert kept.state == "running" and kept.uid == row.uid
    events = [e.message for e in crash.desk.fleet.events(row.name)]
    assert any("interrupted edit" in m for m in events), events


@pytest.mark.timeout(120)
@pytest.mark.parametrize("point", ["create.after_container", "edit.after_stop_old", "edit.after_create",
                                   "edit.after_start", "edit.after_remove_old"])
def test_the_window_and_the_cli_agree_after_a_kill_and_a_sync(fleet_desk, crash, point):
    """The window's view (the watcher-fed live state) follows a killed CLI and the recovery another
    process ran, and ends where `instance list --json` says."""
    rt = Runtime(fleet_desk, endpoint=False, features=False)
    fleet = install(rt, probe_interval=30, stats_interval=30)
    rt.start()
    try:
        assert wait_for(lambda: fleet.live.connection == "connected")
        account = crash.account()
        row = fleet_desk.fleet.create(unique("wv"), account.id, settings=InstanceSettings(memory_limit_mb=64))
        if point.startswith("create."):
            crash.run("instance", "create", unique("wc"), "--account", str(account.id), failpoint=point)
        else:
            crash.run("instance", "edit", row.name, "--memory", "96", failpoint=point)
        crash.check()

        def agree() -> bool:
            listed = {r["id"]: r["state"] for r in crash.cli.json("instance", "list")}
            return all(fleet.live.get(i).state == state for i, state in listed.items())

        assert wait_for(agree)
    finally:
        rt.stop()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("point", DELETE_POINTS)
def test_a_delete_killed_at_each_step_is_finished(crash, point):
    account = crash.account()
    row = crash.desk.fleet.create(unique("kd"), account.id)
    crash.run("instance", "delete", row.name, "--yes", failpoint=point)
    assert row.name not in crash.check()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("point", ["adopt.after_park", "create.after_record", "create.after_container",
                                   "adopt.after_create"])
def test_an_adoption_killed_at_each_step_is_finished_or_the_orphan_restored(crash, point):
    account = crash.account()
    orphan_name = f"gift-tracker-{unique('or')}"
    orphan = crash.engine.api.create_container(
        FLEET_IMAGE, name=orphan_name, labels={APP_LABEL: APP_VALUE, DESK_LABEL: crash.desk_id},
        environment={"ACCOUNT_ID": str(account.id), "TIKTOK_USERNAME": account.username})
    crash.engine.api.start(orphan["Id"])
    crash.run("instance", "sync", "--adopt", orphan["Id"][:12], "--account", str(account.id), failpoint=point)
    result = crash.cli.json("instance", "sync")
    rows = crash.desk.fleet.list(with_state=True)
    if point in ("adopt.after_park", "create.after_record"):  # rolled back: the orphan is as it was
        assert rows == [] and [o["name"] for o in result["orphans"]] == [orphan_name]
        assert crash.engine.api.inspect_container(orphan["Id"])["State"]["Running"]
        crash.engine.api.remove_container(orphan["Id"], force=True)
    else:
        assert [r.state for r in rows] == ["running"] and result["orphans"] == []
        assert not crash.engine.api.containers(all=True, filters={"id": orphan["Id"]})
    crash.check()


@pytest.mark.timeout(240)
def test_operations_killed_after_random_delays(crash):
    seed = random.randrange(1_000_000)
    chance = random.Random(seed)
    account = crash.account()
    base = crash.desk.fleet.create(unique("kr"), account.id, settings=InstanceSettings(memory_limit_mb=64))
    for run in range(3):
        delay = chance.uniform(0.5, 3.0)
        crash.run("instance", "create", unique("krc"), "--account", str(account.id), kill_after=delay)
        crash.run("instance", "edit", base.name, "--memory", str(70 + run), kill_after=delay)
        try:
            crash.check()
        except AssertionError as exc:
            raise AssertionError(f"killed after {delay:.2f} s (seed {seed}): {exc}") from exc


def test_a_leftover_with_a_reused_id_never_moves_another_instance(fleet_desk, engine, account, crash):
    """A container left with a numeric id SQLite then gave to another instance: it is neither
    reflected in that instance's state nor relinked to it, and the real container's death alerts."""
    rt = Runtime(fleet_desk, endpoint=False, features=False)
    fleet = install(rt, probe_interval=30, stats_interval=30)
    rt.start()
    try:
        assert wait_for(lambda: fleet.live.connection == "connected")
        recorder = Recorder(fleet_desk, InstanceStateChanged, InstanceAlert)
        real = fleet_desk.fleet.create(unique("real"), account().id)
        other = account()
        leftover = engine.api.create_container(
            FLEET_IMAGE, name=f"gift-tracker-{unique('left')}",
            labels={APP_LABEL: APP_VALUE, DESK_LABEL: fleet_desk.secrets.namespace, ID_LABEL: str(real.id),
                    UID_LABEL: "f" * 32, ACCOUNT_LABEL: str(other.id), PORT_LABEL: str(real.port + 1)},
            environment={"ACCOUNT_ID": str(other.id), "TIKTOK_USERNAME": other.username})
        engine.api.start(leftover["Id"])
        engine.api.kill(leftover["Id"])
        engine.api.wait(leftover["Id"], timeout=30)
        assert fleet_desk.fleet.get(real.id, with_state=True).state == "running"
        assert fleet_desk.fleet.get(real.id).status == "running"
        # The real one dies by itself (no kill through the API, which is a stop): its alert comes.
        engine.api.exec_start(engine.api.exec_create(real.container_id, ["kill", "-TERM", "1"]))
        recorder.wait(lambda e: isinstance(e, InstanceAlert) and e.instance_id == real.id)
        engine.api.remove_container(real.container_id, force=True)
        recorder.wait(lambda e: isinstance(e, InstanceStateChanged) and e.instance_id == real.id
                      and e.state == "missing")
        assert fleet.live.get(real.id).state == "missing"
        result = crash.cli.json("instance", "sync")
        assert result["relinked"] == [] and result["missing"] == [real.name]
        [orphan] = [o for o in result["orphans"] if o["containerId"] == leftover["Id"]]
        assert orphan["origin"] == "left by an interrupted create" and orphan["choices"] == ["adopt", "remove"]
        assert fleet_desk.fleet.get(real.id).container_id == real.container_id
        missing_events = [e for e in fleet_desk.fleet.events(real.id) if "container is missing" in e.message]
        assert len(missing_events) == 1  # the watcher's and sync's finding are one event
    finally:
        rt.stop()


def test_a_failed_rollback_says_both_errors_and_where_the_old_container_is(fleet_desk, account, foreign, crash,
                                                                          monkeypatch):
    row = fleet_desk.fleet.create(unique("rb"), account().id, settings=InstanceSettings(memory_limit_mb=64))
    docker = fleet_desk.fleet.docker
    create = docker.create

    def name_taken_meanwhile(config):
        foreign(name=config.name, command="sleep 600")  # someone takes the real name while it is parked
        return create(config)

    monkeypatch.setattr(docker, "create", name_taken_meanwhile)
    with pytest.raises(Exception) as failure:
        fleet_desk.fleet.edit(row.name, settings=row.settings.merged(memory_limit_mb=96))
    message = str(failure.value)
    assert "putting the previous container back failed too" in message and "giftdesk instance sync" in message
    assert f"stopped as gift-tracker-{row.name}-old-" in message, message
    assert any("putting the previous container back failed too" in e.message for e in fleet_desk.fleet.events(row.id))
    monkeypatch.setattr(docker, "create", create)
    for container in crash.engine.api.containers(all=True, filters={"name": f"gift-tracker-{row.name}"}):
        if container["Names"][0] == f"/gift-tracker-{row.name}":
            crash.engine.api.remove_container(container["Id"], force=True)
    rows = crash.check()  # the released entry is recovered: the old container is back, running
    assert rows[row.name].memory_limit_mb == 64 and rows[row.name].state == "running"


def test_a_name_held_by_a_leftover_says_so_and_offers_sync(fleet_desk, engine, account, cli):
    name = unique("nh")
    engine.api.create_container(FLEET_IMAGE, name=f"gift-tracker-{name}", labels={
        APP_LABEL: APP_VALUE, DESK_LABEL: fleet_desk.secrets.namespace, UID_LABEL: "e" * 32})
    _, err = cli("instance", "create", name, "--account", str(account().id), expect=2)
    assert "left behind" in err and "giftdesk instance sync" in err and "Conflict" not in err, err
    assert err.count("\n") == 1
    assert cli.json("instance", "list") == []


def test_retrying_a_killed_create_finishes_it_first(crash):
    account = crash.account()
    name = unique("rt")
    crash.run("instance", "create", name, "--account", str(account.id), failpoint="create.after_container")
    _, err = crash.cli("instance", "create", name, "--account", str(account.id), expect=2)
    assert f"Finished an interrupted create of '{name}'" in err and f"'{name}' exists already" in err, err
    assert "Conflict" not in err
    crash.check()


def test_start_on_a_missing_container_says_how_to_recreate_it(fleet_desk, engine, account, cli):
    row = fleet_desk.fleet.create(unique("ms"), account().id)
    engine.api.remove_container(row.container_id, force=True)
    [result] = cli.json("instance", "start", row.name, expect=1)
    assert result["message"] == (f"'{row.name}' is missing its container: recreate it with "
                                 "`giftdesk instance sync --recreate-missing`.")
    assert cli.json("instance", "show", row.name)["state"] == "missing"
    synced = cli.json("instance", "sync", "--recreate-missing")
    assert [r["outcome"] for r in synced["recreated"]] == ["ok"]
    assert cli.json("instance", "start", row.name)[0]["outcome"] == "ok"


def test_with_the_engine_down_list_show_and_status_say_so(fleet_desk, account, cli, monkeypatch, tmp_path):
    row = fleet_desk.fleet.create(unique("dn"), account().id, start=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    out, err = cli("instance", "list")
    assert row.name in out and "unknown (engine unreachable)" in out
    assert err.count("\n") == 1 and "does not answer" in err
    [listed] = cli.json("instance", "list")
    assert listed["state"] == "unknown" and listed["engineUnreachable"] is True and listed["name"] == row.name
    shown = cli.json("instance", "show", row.name)
    assert shown["state"] == "unknown" and shown["health"] == "none"
    out, _ = cli("status")
    assert "engine unreachable" in out


def test_serve_says_once_when_the_engine_goes_and_when_it_returns(fleet_desk, engine, tmp_path):
    from giftdesk.runtime.headless import serve

    real = os.environ["DOCKER_HOST"]
    fleet_desk.settings.update({"docker.host": f"unix://{tmp_path}/no-engine.sock"})
    out, stop = io.StringIO(), threading.Event()
    thread = threading.Thread(target=serve, args=(fleet_desk,), kwargs=dict(port=0, stop_event=stop, out=out))
    thread.start()
    try:
        assert wait_for(lambda: "Docker engine lost: " in out.getvalue())
        fleet_desk.settings.update({"docker.host": real})
        assert wait_for(lambda: "Docker engine reconnected" in out.getvalue())
    finally:
        stop.set()
        thread.join(30)
    text = out.getvalue()
    assert text.count("Docker engine lost") == 1 and text.count("Docker engine reconnected") == 1


def test_recovery_never_touches_a_live_owners_entry(fleet_desk, account, crash):
    row = fleet_desk.fleet.create(unique("lv"), account().id)
    owner = subprocess.Popen(["sleep", "60"])
    try:
        with fleet_desk.db.session() as session:
            session.add(InstanceOperation(kind="delete", instance_uid=row.uid, instance_id=row.id, step="begun",
                                          old_container_id=row.container_id, owner_host=socket.gethostname(),
                                          owner_pid=owner.pid, owner_started=process_start(owner.pid)))
        assert crash.cli.json("instance", "sync")["recovered"] == []
        assert fleet_desk.fleet.get(row.id, with_state=True).state == "running" and len(crash.journal()) == 1
    finally:
        owner.kill()
        owner.wait()
    assert crash.cli.json("instance", "sync")["recovered"] == [f"Finished an interrupted delete of '{row.name}'"]
    assert crash.journal() == [] and fleet_desk.fleet.list() == []


def test_journal_claims_only_abandoned_entries_once(any_db_desk):
    """On SQLite and PostgreSQL: a dead owner's entry is abandoned and claimed by one recoverer only;
    a released one is abandoned at once; a live one never."""
    from giftdesk.fleet.journal import Journal

    journal = Journal(any_db_desk.db)
    assert not journal.pending()
    live = journal.begin("create", "a" * 32)
    released = journal.begin("create", "b" * 32)
    journal.release(released)
    gone = subprocess.Popen(["true"])
    gone.wait()
    with any_db_desk.db.session() as session:
        session.add(InstanceOperation(kind="delete", instance_uid="c" * 32, step="begun",
                                      owner_host=socket.gethostname(), owner_pid=gone.pid, owner_started="1"))
    assert journal.pending()
    abandoned = journal.abandoned()
    assert sorted(e.instance_uid[0] for e in abandoned) == ["b", "c"]
    assert all(journal.claim(e) for e in abandoned)
    assert not any(journal.claim(e) for e in abandoned)  # taken: nobody claims them twice
    assert journal.abandoned() == []  # ours now, and we live
    journal.drop(live)
    assert {e.instance_uid[0] for e in journal.entries()} == {"b", "c"}
