"""The Docker adapter against the real engine, and against one that is not there."""

from __future__ import annotations

import json

import pytest

from giftdesk.cli.main import main
from giftdesk.docker.state import DockerEngine
from tests.support.docker_engine import docker_host_of

pytestmark = pytest.mark.docker


def test_probe_reports_the_real_engine(engine):
    adapter = DockerEngine(docker_host_of(engine))
    state = adapter.probe()
    adapter.close()
    assert state.reachable is True
    assert state.version == engine.version()["Version"]
    assert state.containers == engine.info()["Containers"]
    assert state.label.startswith(f"Docker: {state.version}, ")


def test_probe_of_a_missing_engine_says_why_and_does_not_raise(tmp_path):
    adapter = DockerEngine(f"unix://{tmp_path / 'no-such.sock'}")
    state = adapter.probe()
    assert state.reachable is False and state.error
    assert state.label == "Docker: not reachable"
    assert "did not answer" in state.tooltip


def test_cli_status_includes_the_engine(engine, data_dir, capsys, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", docker_host_of(engine))
    assert main(["--data-dir", str(data_dir), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["docker"]["reachable"] is True and status["docker"]["version"]
