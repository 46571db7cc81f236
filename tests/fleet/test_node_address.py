"""Where the console calls a tracker that runs as a Swarm service whose task is on another node.

A port published in host mode is open only on the node the task runs on; through the routing
mesh (ingress) every node answers. The node's address comes from the Swarm's node list; the
two-node Swarm in tests/fleet/test_swarm_nodes.py calls such a tracker for real.
"""

from __future__ import annotations

from giftdesk.docker.swarm import ServiceView, SwarmNode
from giftdesk.fleet.services_mode import service_state
from tests.fleet.conftest import FLEET_IMAGE


def _node(node_id: str, addr: str, manager_addr: str | None = None) -> dict:
    raw = {"ID": node_id, "Description": {"Hostname": f"host-{node_id}"}, "Status": {"State": "ready", "Addr": addr}}
    if manager_addr is not None:
        raw["ManagerStatus"] = {"Leader": True, "Addr": manager_addr}
    return raw


def test_a_nodes_address_is_its_status_address_or_else_the_one_it_manages_the_swarm_on():
    assert SwarmNode.of(_node("w1", "10.0.0.2")) == SwarmNode("w1", "host-w1", "10.0.0.2")
    # A manager that reports 0.0.0.0 (Docker does, at times): the address it manages on, without the port.
    assert SwarmNode.of(_node("m1", "0.0.0.0", "10.0.0.1:2377")).address == "10.0.0.1"
    assert SwarmNode.of(_node("m1", "", "[fd00::1]:2377")).address == "fd00::1"
    assert SwarmNode.of(_node("m1", "0.0.0.0", "0.0.0.0:2377")).address is None
    assert SwarmNode.of(_node("w1", "")).address is None
    # Loopback says where a node is only when it is this engine's own.
    assert SwarmNode.of(_node("w1", "127.0.0.1"), local_node="m1").address is None
    assert SwarmNode.of(_node("m1", "127.0.0.1"), local_node="m1").address == "127.0.0.1"


def test_the_state_carries_the_tasks_node_address_only_when_it_is_another_node():
    def view(node: str, state: str = "running"):
        task = {"ID": "t1", "NodeID": node, "DesiredState": "running", "UpdatedAt": "2026-01-01T00:00:01Z",
                "Status": {"State": state, "ContainerStatus": {"ContainerID": "c1"}}}
        return ServiceView.of({"ID": "s1", "Spec": {"Name": "x", "Mode": {"Replicated": {"Replicas": 1}}}}, [task])

    names = {"n1": "manager", "n2": "worker", "n3": "silent"}
    addresses = {"n1": "10.0.0.1", "n2": "10.0.0.2"}
    assert service_state(view("n2"), names, "n1", {}, addresses).node_address == "10.0.0.2"
    assert service_state(view("n2", "starting"), names, "n1", {}, addresses).node_address == "10.0.0.2"
    assert service_state(view("n1"), names, "n1", {}, addresses).node_address is None  # the engine's own node
    assert service_state(view("n3"), names, "n1", {}, addresses).node_address is None  # it says no address
    assert service_state(view("n2"), names, "n1").node_address is None  # none asked


def test_a_host_mode_tracker_on_another_node_is_called_at_that_nodes_address(fleet_desk, account):
    from giftdesk.db.fleet_models import DockerEngineRecord, Instance

    acct = account()
    with fleet_desk.db.session() as session:
        session.add(DockerEngineRecord(name="far", host="tcp://192.0.2.10:2376"))
        for engine, name, publish, port in (("", "s-host", "host", 3500), ("", "s-mesh", "ingress", 3501),
                                            ("far", "s-far", "host", 3502), ("far", "s-farmesh", "ingress", 3503)):
            session.add(Instance(name=name, account_id=acct.id, tiktok_username=acct.username, port=port,
                                 backend_api_url="http://192.0.2.1/api/instances", image=FLEET_IMAGE, engine=engine,
                                 publish_address="0.0.0.0", mode="service", service_id=f"svc-{name}",
                                 publish_mode=publish))
    fleet = fleet_desk.fleet

    def on_worker(name: str, address: str | None = "10.0.0.2"):
        return fleet.get(name).with_service("running", node="worker", node_address=address)

    # Host mode, the task on another node with an address: that node, whatever the manager's engine.
    assert fleet.tracker_url(on_worker("s-host")) == "http://10.0.0.2:3500"
    assert fleet.tracker_url(on_worker("s-far")) == "http://10.0.0.2:3502"
    assert fleet.tracker_url(on_worker("s-far", "fd00::2")) == "http://[fd00::2]:3502"
    # The routing mesh answers on the manager too: its host, as before.
    assert fleet.tracker_url(on_worker("s-mesh")) == "http://127.0.0.1:3501"
    assert fleet.tracker_url(on_worker("s-farmesh")) == "http://192.0.2.10:3503"
    # On the engine's own node, or another node that says no address: today's URL.
    assert fleet.tracker_url(on_worker("s-host", None)) == "http://127.0.0.1:3500"
    assert fleet.tracker_url(on_worker("s-far", None)) == "http://192.0.2.10:3502"
    # The probe's rows carry no state: the address comes from the live table, as an argument.
    assert fleet.tracker_url(fleet.get("s-far"), "10.0.0.3") == "http://10.0.0.3:3502"
    assert fleet.tracker_url(fleet.get("s-far")) == "http://192.0.2.10:3502"
    assert on_worker("s-far").to_json()["nodeAddress"] == "10.0.0.2"
    assert "nodeAddress" in fleet.get("s-far").to_json() and fleet.get("s-far").to_json()["nodeAddress"] is None
