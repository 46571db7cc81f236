"""Raw-socket helpers for the endpoint tests: send exact bytes, read exact answers."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    raw_head: bytes = field(repr=False, default=b"")

    def json(self):
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def parse_answers(data: bytes, head_only: tuple[int, ...] = ()) -> tuple[list[Answer], bytes]:
    """Every complete response in ``data`` (Content-Length framed), and what is left over.

    ``head_only`` lists the indexes of responses to HEAD requests (they have no body).
    """
    answers: list[Answer] = []
    while True:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return answers, data
        head = data[:end]
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.decode().lower()] = value.strip().decode("latin-1")
        length = 0 if len(answers) in head_only or status in (100, 204) else int(headers.get("content-length", 0))
        if len(data) < end + 4 + length:
            return answers, data
        if status != 100:
            answers.append(Answer(status, headers, data[end + 4:end + 4 + length], head))
        data = data[end + 4 + length:]


def read_until_closed(sock: socket.socket, timeout: float = 5.0) -> tuple[bytes, bool]:
    """Everything the server sends until it closes (True) or ``timeout`` passes (False)."""
    sock.settimeout(0.2)
    chunks = []
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return b"".join(chunks), True
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
    return b"".join(chunks), False


def read_answers(sock: socket.socket, count: int, timeout: float = 5.0, head_only: tuple[int, ...] = ()) -> list[Answer]:
    """Reads until ``count`` complete responses are in (keeps the connection open)."""
    sock.settimeout(timeout)
    data = b""
    give_up = time.monotonic() + timeout
    while True:
        answers, _ = parse_answers(data, head_only)
        if len(answers) >= count:
            return answers
        if time.monotonic() > give_up:
            raise TimeoutError(f"only {len(answers)} of {count} answers: {data[:500]!r}")
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {len(answers)} of {count} answers: {data[:500]!r}")
        data += chunk


def exchange(port: int, payload: bytes, timeout: float = 5.0, host: str = "127.0.0.1") -> tuple[list[Answer], bool]:
    """Sends ``payload``, half-closes, and returns every answer and whether the server closed."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(payload)
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        data, closed = read_until_closed(sock, timeout)
    answers, _ = parse_answers(data)
    return answers, closed


def request_bytes(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"",
                  version: str = "HTTP/1.1", content_length: bool = True) -> bytes:
    lines = [f"{method} {path} {version}", "Host: 127.0.0.1"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if content_length and (body or method == "POST"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def auth_headers(account_id: int, api_key: str) -> dict[str, str]:
    return {"X-API-Key": api_key, "X-Account-ID": str(account_id), "Content-Type": "application/json"}


class paused_loop:
    """Holds the endpoint's event loop still (a callback that blocks it) for the ``with`` block, so
    that bytes sent meanwhile are all waiting when it looks next. Test-only: reaches into ``_loop``."""

    def __init__(self, server, timeout: float = 10.0):
        self.server = server
        self.timeout = timeout
        self.entered = threading.Event()
        self.release = threading.Event()

    def _block(self) -> None:
        self.entered.set()
        self.release.wait(self.timeout)

    def __enter__(self) -> "paused_loop":
        self.server._loop.call_soon_threadsafe(self._block)
        assert self.entered.wait(self.timeout), "the endpoint's loop did not come round"
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()


def wait_until(condition, timeout: float = 10.0, message: str = "condition", interval: float = 0.01) -> None:
    give_up = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > give_up:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(interval)
