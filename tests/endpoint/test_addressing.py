"""Where the endpoint listens and the URL trackers get."""

from __future__ import annotations

import pytest

from giftdesk.endpoint import addressing
from giftdesk.core.errors import ValidationError


def test_interface_addresses_come_from_the_kernel():
    assert addressing.interface_ipv4("lo") == "127.0.0.1"
    assert addressing.interface_ipv4("no-such-if0") is None


def test_docker_bridge_ip_is_none_off_linux(monkeypatch):
    monkeypatch.setattr(addressing.sys, "platform", "darwin")
    assert addressing.docker_bridge_ip() is None
    assert addressing.local_bind_hosts() == ["127.0.0.1"]


def test_local_hosts_add_the_docker_bridge(monkeypatch):
    monkeypatch.setattr(addressing, "docker_bridge_ip", lambda: "172.17.0.1")
    assert addressing.local_bind_hosts() == ["127.0.0.1", "172.17.0.1"]
    assert addressing.bind_hosts("local") == ["127.0.0.1", "172.17.0.1"]
    monkeypatch.setattr(addressing, "docker_bridge_ip", lambda: None)
    assert addressing.local_bind_hosts() == ["127.0.0.1"]


def test_bind_all_and_bad_values():
    assert addressing.bind_hosts("all") == ["0.0.0.0"]
    with pytest.raises(ValidationError):
        addressing.bind_hosts("everywhere")


def test_the_advertised_url(monkeypatch):
    monkeypatch.setattr(addressing, "docker_bridge_ip", lambda: "172.17.0.1")
    assert addressing.advertised_base_url({"endpoint.public_url": ""}, 8787) == "http://172.17.0.1:8787/api/instances"
    assert addressing.advertised_base_url({}, 9000) == "http://172.17.0.1:9000/api/instances"
    public = {"endpoint.public_url": "https://desk.example.com/api/instances/"}
    assert addressing.advertised_base_url(public, 8787) == "https://desk.example.com/api/instances"
    monkeypatch.setattr(addressing, "docker_bridge_ip", lambda: None)
    assert addressing.advertised_base_url({"endpoint.public_url": ""}, 8787) == "http://127.0.0.1:8787/api/instances"


def test_the_docker_bridge_of_this_host_if_any():
    bridge = addressing.docker_bridge_ip()
    assert bridge is None or bridge.count(".") == 3
