"""Where the tracker endpoint listens, and the address trackers are told to call.

Tracker containers reach the host through the Docker bridge gateway (``docker0``, usually
172.17.0.1), so ``endpoint.bind = 'local'`` listens on loopback plus that address when the host
has one, and never on public interfaces. ``'all'`` listens on every IPv4 interface.
"""

from __future__ import annotations

import socket
import struct
import sys
from collections.abc import Mapping
from typing import Any

from giftdesk.core.errors import ValidationError

LOOPBACK = "127.0.0.1"
ALL_INTERFACES = "0.0.0.0"
DOCKER_BRIDGE_INTERFACE = "docker0"
_SIOCGIFADDR = 0x8915  # linux/sockios.h


def interface_ipv4(name: str) -> str | None:
    """The IPv4 address of a network interface on Linux; None elsewhere or when it has none."""
    if not sys.platform.startswith("linux"):
        return None
    import fcntl

    request = struct.pack("256s", name.encode("ascii", "ignore")[:15])
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            answer = fcntl.ioctl(probe.fileno(), _SIOCGIFADDR, request)
    except OSError:  # no such interface, or no IPv4 address on it
        return None
    return socket.inet_ntoa(answer[20:24])


def docker_bridge_ip() -> str | None:
    """The host's address on the Docker bridge (what containers use to reach the host)."""
    return interface_ipv4(DOCKER_BRIDGE_INTERFACE)


def local_bind_hosts() -> list[str]:
    """Loopback, plus the Docker bridge gateway address when this host has one."""
    bridge = docker_bridge_ip()
    return [LOOPBACK, bridge] if bridge and bridge != LOOPBACK else [LOOPBACK]


def bind_hosts(bind: str) -> list[str]:
    """The listen addresses for the ``endpoint.bind`` setting ('local' or 'all')."""
    if bind == "local":
        return local_bind_hosts()
    if bind == "all":
        return [ALL_INTERFACES]
    raise ValidationError("endpoint.bind must be one of: local, all.", field="endpoint.bind")


def advertised_base_url(settings: Mapping[str, Any], port: int) -> str:
    """The ``BACKEND_API_URL`` trackers get: ``endpoint.public_url`` when set, else computed.

    Computed: ``http://<docker bridge ip, else 127.0.0.1>:<port>/api/instances``.
    """
    public = (settings.get("endpoint.public_url") or "").strip()
    if public:
        return public.rstrip("/")
    return f"http://{docker_bridge_ip() or LOOPBACK}:{port}/api/instances"
