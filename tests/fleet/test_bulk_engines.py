"""Bulk actions over instances on two engines: each engine has its own queue and workers.

The second engine is the TLS dockerd (tests/support/tls_engine.py) reached through a loopback relay
(tests/support/engine_relay.py) that can hold every byte (a host that hangs while connected) or
close every connection (a host that went away).
"""

from __future__ import annotations

import os
import threading

import pytest

from tests.fleet.conftest import unique
from tests.support.engine_relay import EngineRelay

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]


@pytest.fixture
def relay(tls_engine, fleet_desk):
    """The TLS engine added as 'tls' at a relay's address."""
    relay = EngineRelay(int(tls_engine.host.rsplit(":", 1)[1]))
    fleet_desk.engines.add("tls", relay.host, tls_ca=str(tls_engine.ca), tls_cert=str(tls_engine.cert),
                           tls_key=str(tls_engine.key))
    yield relay
    relay.unmute()
    relay.cut()
    fleet_desk.fleet.engines.close()


def _running(client, container_id: str) -> bool:
    return client.api.inspect_container(container_id)["State"]["Running"]


def test_a_hung_engine_holds_only_its_own_rows_of_a_bulk_stop(fleet_desk, account, engine, second, relay):
    """Two workers a queue and the hung engine's rows asked first: one queue for all would have both
    workers waiting on the hung engine and the local rows behind them. Each local result arrives
    while the hung engine has not even received its stop (its containers still run), and none of
    its results is in; once it is gone its rows fail, saying so, and every row has its result in
    the order asked."""
    acct = account()
    far = [fleet_desk.fleet.create(unique("far"), acct.id, engine="tls") for _ in range(3)]
    near = [fleet_desk.fleet.create(unique("near"), acct.id) for _ in range(3)]
    asked = [*far, *near]
    arrived: list = []
    near_done = threading.Event()
    lock = threading.Lock()

    def on_result(result, done, total):
        with lock:
            arrived.append((result, done, total))
            if {r.instance_id for r, _d, _t in arrived} >= {row.id for row in near}:
                near_done.set()

    relay.mute()
    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.setdefault(
        "results", fleet_desk.fleet.bulk("stop", [row.id for row in asked], concurrency=2, on_result=on_result)))
    runner.start()
    try:
        assert near_done.wait(60), [(r.name, r.outcome, r.message) for r, _d, _t in arrived]
        with lock:
            first = list(arrived)
        # Every local row done, and not one of the hung engine's: its calls are still unanswered.
        assert {r.instance_id for r, _d, _t in first} == {row.id for row in near}
        assert all(r.ok and r.engine == "" for r, _d, _t in first)
        assert [d for _r, d, _t in first] == [1, 2, 3] and {t for _r, _d, t in first} == {6}
        assert not any(_running(engine, row.container_id) for row in near)
        assert all(_running(second, row.container_id) for row in far)  # the stops wait in the relay
    finally:
        relay.cut()  # the host goes away: the waiting calls fail, the rows not begun fail at once
        runner.join(60)
    assert not runner.is_alive()
    results = outcome["results"]
    assert [r.instance_id for r in results] == [row.id for row in asked]
    assert [r.outcome for r in results] == ["failed"] * 3 + ["ok"] * 3
    assert [d for _r, d, _t in arrived] == [1, 2, 3, 4, 5, 6]
    for result in results[:3]:
        assert result.engine == "tls" and result.message
        assert result.where == f"{result.name} on the engine 'tls'"
        assert result.to_json()["engine"] == "tls"
    assert results[3].where == results[3].name and results[3].to_json()["engine"] == "local"


def test_cancel_stops_every_engines_queue(fleet_desk, account, second, relay):
    """Cancelled after the first result: what runs finishes, nothing new begins on either engine,
    and the rest is 'cancelled' with its engine."""
    acct = account()
    rows = [fleet_desk.fleet.create(unique("cn"), acct.id, engine=engine_name, start=False)
            for engine_name in ("tls", "", "tls", "", "tls", "")]
    cancel = threading.Event()
    seen = []

    def on_result(result, done, total):
        seen.append((result.name, done, total))
        cancel.set()

    results = fleet_desk.fleet.bulk("start", [row.id for row in rows], concurrency=1, cancel=cancel,
                                    on_result=on_result)
    assert [r.instance_id for r in results] == [row.id for row in rows]
    outcomes = [r.outcome for r in results]
    # One worker an engine: at most the first row of each began; the others were cancelled.
    assert outcomes[2:] == ["cancelled"] * 4 and set(outcomes[:2]) <= {"ok", "cancelled"} and "ok" in outcomes[:2]
    assert [r.engine for r in results] == ["tls", "", "tls", "", "tls", ""]
    assert [d for _n, d, _t in seen] == [1, 2, 3, 4, 5, 6] and seen[-1][2] == 6


def test_instance_stop_over_two_engines_names_the_engine_of_each_result(cli, fleet_desk, account, second, relay):
    acct = account()
    near = cli.json("instance", "create", unique("cn"), "--account", str(acct.id))
    far = cli.json("instance", "create", unique("cf"), "--account", str(acct.id), "--engine", "tls")
    stopped = cli.json("instance", "stop", far["name"], near["name"], "--concurrency", "1")
    assert [(r["name"], r["engine"], r["outcome"]) for r in stopped] == [
        (far["name"], "tls", "ok"), (near["name"], "local", "ok")]
    assert not _running(second, far["containerId"])
    out, _ = cli("instance", "start", "--all")
    assert "ENGINE" in out and "tls" in out and "local" in out

    relay.cut()  # the TLS engine went away: its row fails and says where; the local one goes on
    failed = cli.json("instance", "restart", far["name"], near["name"], expect=1)
    assert [(r["name"], r["engine"], r["outcome"]) for r in failed] == [
        (far["name"], "tls", "failed"), (near["name"], "local", "ok")]
    assert failed[0]["message"]
    out, _ = cli("instance", "restart", far["name"], near["name"], expect=1)
    line = next(line for line in out.splitlines() if far["name"] in line)
    assert "tls" in line and "failed" in line


def test_a_swarm_services_row_is_its_engines_and_goes_on_while_another_engine_hangs(
        cli, fleet_desk, account, swarm, second, relay):
    """A service on the Swarm engine is a row of that engine: its stop does not wait behind the
    hung engine's rows asked before it, one worker an engine."""
    from giftdesk.fleet.docker_api import DESK_LABEL
    from tests.runtime.test_supervisor import wait_for

    start = 4600 + os.getpid() % 200  # host-mode publishing binds every address: ports of its own
    fleet_desk.settings.update({"tracker.port_start": start, "tracker.port_end": start + 39})
    cli.json("engine", "add", "swarm", "--host", swarm.host)
    try:
        acct = account()
        service = cli.json("instance", "create", unique("sv"), "--account", str(acct.id), "--service",
                           "--engine", "swarm", "--network", "host")
        assert wait_for(lambda: cli.json("instance", "show", service["name"])["state"] == "running", 60)
        far = [fleet_desk.fleet.create(unique("far"), acct.id, engine="tls") for _ in range(2)]
        arrived: list = []
        service_done = threading.Event()

        def on_result(result, done, total):
            arrived.append(result)
            if result.instance_id == service["id"]:
                service_done.set()

        relay.mute()
        outcome: dict = {}
        runner = threading.Thread(target=lambda: outcome.setdefault("results", fleet_desk.fleet.bulk(
            "stop", [*(row.id for row in far), service["id"]], concurrency=1, on_result=on_result)))
        runner.start()
        try:
            assert service_done.wait(60), [(r.name, r.outcome, r.message) for r in arrived]
            assert [(r.name, r.engine, r.outcome) for r in arrived] == [(service["name"], "swarm", "ok")]
            assert all(_running(second, row.container_id) for row in far)
        finally:
            relay.cut()
            runner.join(60)
        assert [r.engine for r in outcome["results"]] == ["tls", "tls", "swarm"]
        assert swarm.client.api.inspect_service(service["serviceId"])["Spec"]["Mode"]["Replicated"]["Replicas"] == 0
    finally:
        swarm.remove_services(f"{DESK_LABEL}={fleet_desk.secrets.namespace}")
