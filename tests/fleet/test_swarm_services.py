"""Trackers as Swarm services on a real one-node Swarm: a second engine the tests start themselves.

The desk is pointed at the Swarm engine through its ``docker.host`` setting, as a person would;
the first engine stays the tests' own. The tracker services use host networking to call the
runtime's endpoint on loopback (as the container tests do), except where the host-mode published
port itself is the point.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from giftdesk.fleet.docker_api import DESK_LABEL
from giftdesk.fleet.journal import FAILPOINT_ENV
from giftdesk.fleet.runtime import install
from giftdesk.fleet.services_mode import STATS_ELSEWHERE, ServiceOptions, service_state
from giftdesk.docker.swarm import ServiceView
from giftdesk.runtime import Runtime
from tests.fleet.conftest import free_port, unique
from tests.runtime.test_supervisor import wait_for

pytestmark = pytest.mark.docker


@pytest.fixture
def runtime(swarm_desk):
    """The runtime with its endpoint (the trackers call it) and the fleet watcher on the Swarm engine."""
    swarm_desk.settings.update({"endpoint.port": free_port()})
    rt = Runtime(swarm_desk, features=False)
    fleet = install(rt, probe_interval=0.5, stats_interval=0.5, probe_grace=2.0)
    rt.start()
    assert wait_for(lambda: rt.supervisor.status("endpoint").state == "running", 20)
    assert wait_for(lambda: fleet.live.connection == "connected", 15)
    yield rt
    rt.stop()


def _service_logs(swarm, service_id: str) -> str:
    return swarm.docker("service", "logs", "--raw", service_id, check=False).stdout


@pytest.mark.timeout(120)
def test_a_service_tracker_from_create_to_delete(swarm_desk, swarm, runtime, cli, account):
    fleet = runtime.fleet
    acct = account()
    name = unique("svc")
    created = cli.json("instance", "create", name, "--account", str(acct.id), "--service", "--network", "host",
                       "--memory", "96", "--cpus", "0.5", "--constraint", "node.role==manager",
                       "--spread", "node.labels.zone")
    assert created["mode"] == "service" and created["serviceId"] and created["containerId"] is None
    assert created["placement"] == {"constraints": ["node.role==manager"], "spread": ["node.labels.zone"]}
    assert created["restartPolicy"] == "on-failure" and created["publishMode"] == "host"
    instance_id, service_id = created["id"], created["serviceId"]

    # It runs on this node and calls the endpoint back with its key.
    assert wait_for(lambda: cli.json("instance", "show", name)["state"] == "running", 30)
    shown = cli.json("instance", "show", name)
    assert shown["mode"] == "service" and shown["taskState"] == "running" and shown["node"]
    out, _ = cli("instance", "list")
    assert f"service on {shown['node']}" in out
    assert wait_for(lambda: "GET config -> ok" in _service_logs(swarm, service_id), 30), \
        _service_logs(swarm, service_id)
    assert wait_for(lambda: swarm_desk.keys.get(acct.id).last_accessed_at is not None, 15)
    # The watcher saw it run, and its stats come from the task's container on this engine.
    assert wait_for(lambda: fleet.live.get(instance_id).state == "running", 15)
    assert fleet.live.get(instance_id).container_id
    stats = cli.json("instance", "stats", name)
    assert stats[0]["running"] and stats[0]["memoryBytes"] > 0 and stats[0]["memoryLimitBytes"] == 96 * 1048576

    out, _ = cli("instance", "logs", name)
    assert "tracker: starting" in out and "backend calls done" in out

    # stop → 0 replicas; start → 1 again; restart → a new task.
    cli.json("instance", "stop", name)
    replicas = swarm.client.api.inspect_service(service_id)["Spec"]["Mode"]["Replicated"]["Replicas"]
    assert replicas == 0 and cli.json("instance", "show", name)["state"] == "exited"
    assert wait_for(lambda: fleet.live.get(instance_id).state == "exited", 15)
    cli.json("instance", "start", name)
    assert swarm.client.api.inspect_service(service_id)["Spec"]["Mode"]["Replicated"]["Replicas"] == 1
    assert wait_for(lambda: cli.json("instance", "show", name)["state"] == "running", 30), \
        ({k: v for k, v in cli.json("instance", "show", name).items() if k in ("state", "taskState", "stateReason")},
         [(t["Status"], t["DesiredState"]) for t in swarm.client.api.tasks(filters={"service": service_id})])
    tasks_before = {t["ID"] for t in swarm.client.api.tasks(filters={"service": service_id})}
    cli.json("instance", "restart", name)
    assert swarm.client.api.inspect_service(service_id)["Spec"]["TaskTemplate"]["ForceUpdate"] >= 1
    assert wait_for(lambda: {t["ID"] for t in swarm.client.api.tasks(filters={"service": service_id})
                             if t["Status"]["State"] == "running"} - tasks_before, 30)

    # Changed outside the console (scaled to 0): the watcher sees the service event.
    swarm.docker("service", "scale", "--detach", f"{service_id}=0")
    assert wait_for(lambda: fleet.live.get(instance_id).state == "exited", 10)

    # Removed outside the console: the watcher marks it missing.
    swarm.docker("service", "rm", service_id)
    assert wait_for(lambda: fleet.live.get(instance_id).state == "missing", 10)
    assert cli.json("instance", "show", name)["state"] == "missing"
    assert any("missing" in e["message"].lower() for e in cli.json("instance", "events", name))

    assert cli.json("instance", "delete", name, "--yes")[0]["outcome"] == "ok"
    assert cli.json("instance", "list") == []


def test_the_service_has_the_containers_settings_and_publishes_on_its_node(swarm_desk, swarm, cli, account):
    acct = account()
    name = unique("pub")
    created = cli.json("instance", "create", name, "--account", str(acct.id), "--service", "--memory", "64")
    spec = swarm.client.api.inspect_service(created["serviceId"])["Spec"]
    template = spec["TaskTemplate"]
    container = template["ContainerSpec"]
    env = dict(item.split("=", 1) for item in container["Env"])
    assert env["TIKTOK_USERNAME"] == acct.username and env["ACCOUNT_ID"] == str(acct.id) and env["API_KEY"]
    assert env["PORT"] == "3000" and container["Init"] is True
    assert container["Labels"][DESK_LABEL] == swarm_desk.secrets.namespace == spec["Labels"][DESK_LABEL]
    assert template["RestartPolicy"]["Condition"] == "on-failure"
    assert template["Resources"]["Limits"]["MemoryBytes"] == 64 * 1048576
    assert template["LogDriver"] == {"Name": "json-file", "Options": {"max-size": "10m", "max-file": "3"}}
    assert spec["EndpointSpec"]["Ports"] == [{"Protocol": "tcp", "TargetPort": 3000,
                                              "PublishedPort": created["port"], "PublishMode": "host"}]

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{created['port']}/index.html", timeout=2) as page:
                return acct.username in page.read().decode()
        except OSError:
            return False

    assert wait_for(answers, 30)  # the tracker answers on the node it runs on, through docker-proxy
    mesh = cli.json("instance", "create", unique("mesh"), "--account", str(account().id), "--service", "--ingress",
                    "--no-start")
    assert mesh["publishMode"] == "ingress"  # only when asked: the routing mesh needs IPVS
    ports = swarm.client.api.inspect_service(mesh["serviceId"])["Spec"]["EndpointSpec"]["Ports"]
    assert [p["PublishMode"] for p in ports] == ["ingress"]


def test_an_unsatisfiable_constraint_is_pending_with_the_reason(swarm_desk, cli, account):
    acct = account()
    name = unique("pend")
    cli.json("instance", "create", name, "--account", str(acct.id), "--service",
             "--constraint", "node.labels.zone==nowhere")
    assert wait_for(lambda: cli.json("instance", "show", name)["stateReason"] is not None, 15)
    shown = cli.json("instance", "show", name)
    assert shown["state"] == "pending" and shown["stateReason"].startswith("no suitable node")
    out, _ = cli("instance", "show", name)
    assert "pending: no suitable node" in out
    out, _ = cli("instance", "list")
    assert "pending: no suitable node" in out and "RUNS AS" in out
    stopped = cli.json("instance", "stop", name)  # a pending service can be stopped (scaled to 0)
    assert stopped[0]["outcome"] == "ok" and cli.json("instance", "show", name)["state"] == "exited"


def test_bad_placement_and_an_edit_are_refused_with_a_sentence(swarm_desk, cli, account):
    acct = account()
    for argv, says in ((("--service", "--constraint", "zone=eu"), "is not a placement constraint"),
                       (("--service", "--spread", "node labels"), "is not a node attribute"),
                       (("--constraint", "node.role==manager"), "add --service"),
                       (("--service", "--publish", "local"), "leave out --publish"),
                       (("--service", "--restart", "always"), "leave out --restart")):
        _, err = cli("instance", "create", unique(), "--account", str(acct.id), *argv, expect=2)
        assert says in err and err.count("\n") == 1
    assert cli.json("instance", "list") == []
    name = unique("ed")
    cli.json("instance", "create", name, "--account", str(acct.id), "--service", "--no-start")
    _, err = cli("instance", "edit", name, "--memory", "128", expect=2)
    assert "runs as a Swarm service" in err and err.count("\n") == 1
    assert cli.json("instance", "edit", name, "--start-at", "08:00")["schedule"]["start"] == "08:00"


def test_create_service_on_an_engine_that_is_no_swarm_manager_is_refused(fleet_desk, cli, account):
    acct = account()
    _, err = cli("instance", "create", unique(), "--account", str(acct.id), "--service", expect=2)
    assert err.startswith("giftdesk: Cannot run the tracker as a Swarm service: the engine is not part of a Swarm")
    assert err.count("\n") == 1
    assert cli.json("instance", "list") == []


def test_the_state_of_a_service_comes_from_its_newest_task():
    def task(state, node="n1", error="", desired="running", updated="2026-01-01T00:00:01Z"):
        return {"ID": f"t-{state}", "NodeID": node, "DesiredState": desired, "UpdatedAt": updated,
                "Status": {"State": state, "Err": error, "ContainerStatus": {"ContainerID": "c1"}}}

    def view(replicas, *tasks):
        return ServiceView.of({"ID": "s1", "Spec": {"Name": "x", "Mode": {"Replicated": {"Replicas": replicas}}}},
                              list(tasks))

    nodes = {"n1": "here", "n2": "elsewhere"}
    running = service_state(view(1, task("running")), nodes, "n1")
    assert (running.state, running.node, running.task_container_id, running.stats_note) == ("running", "here", "c1",
                                                                                            None)
    remote = service_state(view(1, task("running", node="n2")), nodes, "n1")
    assert remote.task_container_id is None and remote.stats_note == STATS_ELSEWHERE
    # That node's engine registered in the console: its container, through that engine.
    known = service_state(view(1, task("running", node="n2")), nodes, "n1", {"n2": "worker"})
    assert (known.node, known.task_container_id, known.task_engine, known.stats_note) == ("elsewhere", "c1",
                                                                                          "worker", None)
    rejected = service_state(view(1, task("rejected", error="invalid mount config\nmore")), nodes, "n1")
    assert (rejected.state, rejected.reason) == ("rejected", "invalid mount config")
    newest = service_state(view(1, task("shutdown", desired="shutdown", updated="2026-01-01T00:00:05Z"),
                                task("running", updated="2026-01-01T00:00:04Z")), nodes, "n1")
    assert newest.state == "running"
    assert service_state(view(0, task("shutdown", desired="shutdown")), nodes, "n1").state == "exited"
    assert service_state(None, nodes, "n1").state == "missing"
    assert ServiceOptions(("node.labels.zone == eu",)).cleaned().constraints == ("node.labels.zone==eu",)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("point", ["create.after_record", "create.after_container", "create.after_link"])
def test_a_service_create_killed_at_each_step_is_finished_or_rolled_back(swarm_desk, swarm, cli, account, point):
    acct = account()
    name = unique("kill")
    env = dict(os.environ, **{FAILPOINT_ENV: point})
    done = subprocess.run([sys.executable, "-m", "giftdesk", "--data-dir", str(swarm_desk.paths.root), "instance",
                           "create", name, "--account", str(acct.id), "--service"], env=env, capture_output=True,
                          timeout=60)
    assert done.returncode == -signal.SIGKILL, done
    cli.json("instance", "sync")
    label = f"{DESK_LABEL}={swarm_desk.secrets.namespace}"
    services = swarm.client.api.services(filters={"label": label})
    listed = cli.json("instance", "list")
    if point == "create.after_record":
        assert listed == [] and services == []  # nothing had been made: rolled back
        return
    assert [r["name"] for r in listed] == [name] and [s["ID"] for s in services] == [listed[0]["serviceId"]]
    cli.json("instance", "start", name)
    assert wait_for(lambda: cli.json("instance", "show", name)["state"] == "running", 30)


def test_a_clone_and_an_export_keep_the_service_and_its_placement(swarm_desk, cli, account, tmp_path):
    source = cli.json("instance", "create", unique("src"), "--account", str(account().id), "--service", "--no-start",
                      "--constraint", "node.role==manager", "--spread", "node.labels.zone")
    clone = cli.json("instance", "clone", source["name"], unique("cln"), "--account", str(account().id))
    assert clone["mode"] == "service" and clone["serviceId"] != source["serviceId"]
    assert clone["placement"] == source["placement"] == {"constraints": ["node.role==manager"],
                                                         "spread": ["node.labels.zone"]}
    export = tmp_path / "fleet.json"
    cli.json("instance", "export", "--file", str(export))
    cli.json("instance", "delete", source["name"], clone["name"], "--yes")
    imported = cli.json("instance", "import", str(export))
    assert [r["outcome"] for r in imported] == ["ok", "ok"]
    again = {r["name"]: r for r in cli.json("instance", "list")}
    assert again[source["name"]]["mode"] == "service" and again[source["name"]]["placement"] == source["placement"]


@pytest.mark.timeout(90)
def test_a_pending_service_runs_once_a_node_gets_the_label(swarm_desk, swarm, runtime, cli, account):
    fleet = runtime.fleet
    name = unique("moon")
    created = cli.json("instance", "create", name, "--account", str(account().id), "--service",
                       "--constraint", "node.labels.zone==moon")
    assert wait_for(lambda: fleet.live.get(created["id"]).state == "pending", 15)
    swarm.docker("node", "update", "--label-add", "zone=moon", swarm.node_id)
    try:
        assert wait_for(lambda: fleet.live.get(created["id"]).state == "running", 30)
        shown = cli.json("instance", "show", name)
        assert shown["state"] == "running" and shown["stateReason"] is None and shown["node"]
    finally:
        swarm.docker("node", "update", "--label-rm", "zone", swarm.node_id)


@pytest.mark.timeout(120)
def test_a_service_on_a_named_engine_that_is_a_swarm_manager(fleet_desk, swarm, cli, account):
    """The local engine is no manager; the Swarm engine is registered by name and the service goes there."""
    start = 4400 + os.getpid() % 200
    fleet_desk.settings.update({"tracker.port_start": start, "tracker.port_end": start + 39})
    cli.json("engine", "add", "swarm", "--host", swarm.host)
    try:
        assert {e["name"]: e["swarm"] for e in cli.json("engine", "list")}["swarm"] == "manager"
        acct = account()
        name = unique("named")
        created = cli.json("instance", "create", name, "--account", str(acct.id), "--service", "--engine", "swarm",
                           "--network", "host")
        assert created["mode"] == "service" and created["engine"] == "swarm"
        assert swarm.docker("service", "inspect", created["serviceId"], check=False).returncode == 0
        assert wait_for(lambda: cli.json("instance", "show", name)["state"] == "running", 60)
        stopped = cli.json("instance", "stop", name)
        assert stopped[0]["outcome"] == "ok" and cli.json("instance", "show", name)["state"] == "exited"
        _, err = cli("instance", "move", name, "--engine", "local", expect=2)
        assert "is a Swarm service" in err and err.count("\n") == 1
        cli.json("instance", "delete", name, "--yes")
        assert wait_for(lambda: swarm.docker("service", "inspect", created["serviceId"],
                                             check=False).returncode != 0, 15)
    finally:
        swarm.remove_services(f"{DESK_LABEL}={fleet_desk.secrets.namespace}")
