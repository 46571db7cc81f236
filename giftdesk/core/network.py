"""This host's addresses: loopback, every interface, and an interface's own IPv4 address."""

from __future__ import annotations

import socket
import struct
import sys

LOOPBACK = "127.0.0.1"
ALL_INTERFACES = "0.0.0.0"
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
