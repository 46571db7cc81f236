"""Trackers as Swarm services on a real two-node Swarm: where the placement puts the task, and
whose engine its stats come from.

The manager and the worker are engines the module starts once, each in a network namespace of
its own joined by a veth pair (tests/support/swarm_nodes.py). The desk is pointed at the manager
through its ``docker.host`` setting; the worker is registered as an engine only where the test
says so. The trackers here call no backend that matters: the namespaces cannot reach the desk's
loopback, and the tracker serves all the same.
"""

from __future__ import annotations

import pytest

from giftdesk.fleet.docker_api import DESK_LABEL
from giftdesk.fleet.runtime import install
from giftdesk.fleet.services_mode import STATS_ELSEWHERE
from giftdesk.runtime import Runtime
from tests.fleet.conftest import free_port, unique
from tests.runtime.test_supervisor import wait_for

pytestmark = pytest.mark.docker


def _show(cli, name: str) -> dict:
    return cli.json("instance", "show", name)


@pytest.mark.timeout(120)
def test_a_tracker_placed_on_the_worker_runs_there_and_its_stats_come_from_the_workers_engine(
        nodes_desk, nodes, cli, account):
    zone = unique("zone")
    nodes.label_node(nodes.worker, zone=zone)
    name = unique("wrk")
    created = cli.json("instance", "create", name, "--account", str(account().id), "--service", "--memory", "64",
                       "--constraint", f"node.labels.zone=={zone}")
    assert created["placement"]["constraints"] == [f"node.labels.zone=={zone}"]
    assert wait_for(lambda: _show(cli, name)["state"] == "running", 45), _show(cli, name)

    # It runs on the worker, named as the worker; the worker's engine is not the console's yet.
    shown = _show(cli, name)
    assert shown["node"] == nodes.worker.hostname != nodes.manager.hostname
    assert shown["statsNote"] == STATS_ELSEWHERE and shown["nodeEngine"] is None
    task_containers = nodes.worker.client.api.containers(filters={"label": f"{DESK_LABEL}="
                                                                           f"{nodes_desk.secrets.namespace}"})
    assert len(task_containers) == 1 and not nodes.manager.client.api.containers(
        filters={"label": f"{DESK_LABEL}={nodes_desk.secrets.namespace}"})
    stats = cli.json("instance", "stats", name)
    assert stats == [{"name": name, "running": True, "statsUnavailable": STATS_ELSEWHERE}]
    out, _ = cli("instance", "stats", name)
    assert STATS_ELSEWHERE in out
    out, _ = cli("instance", "show", name)
    assert f"{nodes.worker.hostname} ({STATS_ELSEWHERE})" in out

    # The worker's engine registered: the stats are its container's (the limit is the tracker's own).
    cli.json("engine", "add", "worker", "--host", nodes.worker.host)
    assert {e["name"]: e["swarm"] for e in cli.json("engine", "list")}["worker"] == "worker"
    shown = _show(cli, name)
    assert shown["nodeEngine"] == "worker" and shown["statsNote"] is None and shown["node"] == nodes.worker.hostname
    out, _ = cli("instance", "show", name)
    assert f"{nodes.worker.hostname} (stats through the engine 'worker')" in out
    stats = cli.json("instance", "stats", name)
    assert stats[0]["running"] and stats[0]["memoryBytes"] > 0 and stats[0]["memoryLimitBytes"] == 64 * 1048576

    # The runtime's sampler asks the worker's engine too.
    nodes_desk.settings.update({"endpoint.port": free_port()})
    rt = Runtime(nodes_desk, features=False)
    fleet = install(rt, probe_interval=5.0, stats_interval=0.5, probe_grace=2.0)
    rt.start()
    try:
        assert wait_for(lambda: fleet.live.get(created["id"]).state == "running", 20)
        assert fleet.live.get(created["id"]).stats_engine == "worker"
        assert fleet.live.get(created["id"]).container_id == task_containers[0]["Id"]
        fleet.live.want_stats("test", (created["id"],))
        assert wait_for(lambda: (fleet.live.get(created["id"]).memory_bytes or 0) > 0, 20)
        assert fleet.live.get(created["id"]).memory_limit == 64 * 1048576
    finally:
        rt.stop()

    # Unregistered again: the sentence comes back.
    cli.json("engine", "remove", "worker", "--yes")
    assert _show(cli, name)["statsNote"] == STATS_ELSEWHERE


@pytest.mark.timeout(120)
def test_trackers_are_balanced_over_the_nodes_and_a_spread_preference_reaches_the_service(
        nodes_desk, nodes, cli, account):
    """Each tracker is a one-replica service of its own. Without a preference the scheduler puts
    the second on the node with fewer tasks. Docker's spread preference counts only the service's
    own tasks: it reaches the service as asked, but cannot spread one-replica trackers (with one
    task, every zone ties, and Docker then takes the same first zone each time; see NOTES.md)."""
    names = [unique("bal"), unique("bal")]
    for name in names:
        cli.json("instance", "create", name, "--account", str(account().id), "--service")
        assert wait_for(lambda name=name: _show(cli, name)["state"] == "running", 45)
    api = nodes.manager.client.api
    placed = sorted(_show(cli, n)["node"] for n in names)
    assert placed == sorted([nodes.manager.hostname, nodes.worker.hostname]), [
        (t.get("NodeID") == nodes.worker.node_id, t["Status"]["State"], t["DesiredState"]) for t in api.tasks()]
    # The one on the manager's node has its stats there; the other's need the worker's engine.
    notes = {_show(cli, n)["node"]: _show(cli, n)["statsNote"] for n in names}
    assert notes == {nodes.manager.hostname: None, nodes.worker.hostname: STATS_ELSEWHERE}

    nodes.label_node(nodes.manager, zone="a")
    nodes.label_node(nodes.worker, zone="b")
    spread = cli.json("instance", "create", unique("spr"), "--account", str(account().id), "--service",
                      "--spread", "node.labels.zone")
    assert spread["placement"]["spread"] == ["node.labels.zone"]
    assert wait_for(lambda: _show(cli, spread["name"])["state"] == "running", 45)
    spec = api.inspect_service(spread["serviceId"])["Spec"]
    assert spec["TaskTemplate"]["Placement"]["Preferences"] == [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}]


def test_only_the_engine_that_is_the_tasks_node_is_taken_for_it(nodes_desk, nodes, engine, cli, account):
    """Matched by the Swarm node id each engine reports: neither the manager registered under a
    name of its own nor an engine in no Swarm (the tests' first one) names the worker's task."""
    from tests.support.docker_engine import docker_host_of

    zone = unique("zone")
    nodes.label_node(nodes.worker, zone=zone)
    name = unique("oth")
    cli.json("instance", "create", name, "--account", str(account().id), "--service",
             "--constraint", f"node.labels.zone=={zone}")
    assert wait_for(lambda: _show(cli, name)["state"] == "running", 45)
    cli.json("engine", "add", "mgr", "--host", nodes.manager.host)
    cli.json("engine", "add", "plain", "--host", docker_host_of(engine))
    assert _show(cli, name)["nodeEngine"] is None and _show(cli, name)["statsNote"] == STATS_ELSEWHERE
    cli.json("engine", "add", "worker", "--host", nodes.worker.host)
    shown = _show(cli, name)
    assert shown["nodeEngine"] == "worker" and shown["statsNote"] is None


@pytest.mark.timeout(150)
def test_a_tracker_on_the_worker_is_called_at_the_workers_address(nodes_desk, nodes, cli, account):
    """Published in host mode, the tracker answers on the worker only: the console calls it at the
    worker's address (the manager's would find nothing), and the one on the manager's node as before."""
    zone = unique("zone")
    nodes.label_node(nodes.worker, zone=zone)
    far, near = unique("far"), unique("near")
    created = cli.json("instance", "create", far, "--account", str(account().id), "--service",
                       "--constraint", f"node.labels.zone=={zone}")
    cli.json("instance", "create", near, "--account", str(account().id), "--service",
             "--constraint", "node.role==manager")
    assert wait_for(lambda: _show(cli, far)["state"] == "running" and _show(cli, near)["state"] == "running", 45)

    shown = _show(cli, far)
    assert (shown["node"], shown["nodeAddress"], shown["publishMode"]) == (nodes.worker.hostname,
                                                                           nodes.worker.address, "host")
    assert _show(cli, near)["nodeAddress"] is None
    out, _ = cli("instance", "show", far)
    assert nodes.worker.address in out
    fleet = nodes_desk.fleet
    port = created["port"]
    assert fleet.tracker_url(fleet.get(far, with_state=True)) == f"http://{nodes.worker.address}:{port}"
    near_row = fleet.get(near, with_state=True)
    assert fleet.tracker_url(near_row) == near_row.local_url

    # A way from here to the nodes' link: `instance show` reads the tracker's /api/state on the worker.
    nodes.reach_from_root()
    assert wait_for(lambda: _show(cli, far)["health"] == "healthy", 20), _show(cli, far)
    assert _show(cli, far)["tracker"]["liveStatus"] == "DISCONNECTED"

    # The runtime's probe too, with the address the watcher put in the live table.
    nodes_desk.settings.update({"endpoint.port": free_port()})
    rt = Runtime(nodes_desk, features=False)
    live_fleet = install(rt, probe_interval=0.5, stats_interval=5.0, probe_grace=60.0)
    rt.start()
    try:
        assert wait_for(lambda: live_fleet.live.get(created["id"]).node_address == nodes.worker.address, 20)
        assert wait_for(lambda: live_fleet.live.get(created["id"]).health == "healthy", 20), \
            live_fleet.live.get(created["id"])
        assert live_fleet.live.get(created["id"]).probe_error == ""
    finally:
        rt.stop()
