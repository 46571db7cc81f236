"""An ssh://user@host engine: Debian's sshd on loopback (tests/support/ssh_engine.py) in front of
the second test engine; docker-py runs the ssh program, so the user's ssh config applies (here a
test config handed to it by an `ssh` first on PATH)."""

from __future__ import annotations

import pytest

from tests.conftest import require_service
from tests.fleet.conftest import add_engine, free_port, remove_desk_containers, unique, wait_state
from tests.support.ssh_engine import start_ssh_server

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]


@pytest.fixture(scope="session")
def ssh_server(tls_engine):
    try:
        server = start_ssh_server(tls_engine.socket_host)
    except RuntimeError as exc:
        require_service(False, f"an sshd on loopback ({exc})")
    yield server
    server.stop()


@pytest.fixture
def over_ssh(ssh_server, tls_engine, fleet_desk, monkeypatch):
    monkeypatch.setenv("PATH", f"{ssh_server.ssh_wrapper}:{__import__('os').environ['PATH']}")
    client = tls_engine.client()
    yield client
    remove_desk_containers(client, fleet_desk.secrets.namespace)
    client.close()


def test_a_tracker_on_an_ssh_engine_from_create_to_delete(cli, ssh_server, over_ssh, account):
    added = add_engine(cli, "far", ssh_server.host)
    assert added["reachable"] is True and added["host"] == ssh_server.host and added["tls"] is False
    assert {e["name"]: e for e in cli.json("engine", "list")}["far"]["reachable"] is True
    acct = account()
    name = unique("ssh")
    created = cli.json("instance", "create", name, "--account", str(acct.id), "--engine", "far")
    assert created["engine"] == "far" and created["state"] == "running"
    container_id = created["containerId"]
    assert over_ssh.api.inspect_container(container_id)["State"]["Running"]
    assert cli.json("instance", "stop", name)[0]["outcome"] == "ok"
    assert cli.json("instance", "show", name)["state"] == "exited"
    assert cli.json("instance", "start", name)[0]["outcome"] == "ok"
    over_ssh.api.stop(container_id, timeout=1)  # stopped outside the console
    assert wait_state(cli, name, "exited")["state"] == "exited"
    assert cli.json("instance", "delete", name, "--yes")[0]["outcome"] == "ok"
    assert not over_ssh.api.containers(all=True, filters={"id": container_id})


def test_an_ssh_engine_that_does_not_answer_is_refused_with_a_sentence(cli, ssh_server, over_ssh):
    _, err = cli("engine", "add", "nowhere", "--host", f"ssh://{ssh_server.user}@127.0.0.1:{free_port()}", expect=2)
    assert err.startswith("giftdesk: ") and err.count("\n") == 1 and "'nowhere'" in err
    assert [e["name"] for e in cli.json("engine", "list")] == ["local"]
