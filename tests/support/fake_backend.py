"""A tiny JSON backend on loopback that records what the test tracker sends it.

It answers the tracker's calls under ``/api/instances/<account>/``:
``GET config``, ``GET gift-groups`` (the JSON given at construction) and ``POST`` to either
(records the body, answers ``{"ok": true}``). Anything else gets a 404.

    with FakeBackend() as backend:
        url = backend.api_url            # http://127.0.0.1:<port>/api/instances
        ...
        request = backend.wait_for("POST", "/gift-groups")

Bind it to another address (``host=``) only for an address of this machine, e.g. the
docker0 gateway, never anything routed elsewhere.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.served import Served


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client: str

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class FakeBackend(Served):
    host: str = "127.0.0.1"
    port: int = 0
    config: dict[str, Any] = field(default_factory=lambda: {"theme": "light", "sound": True})
    gift_groups: dict[str, Any] = field(
        default_factory=lambda: {"groups": {"vip": {"name": "VIP", "color": "#00ff00", "giftIds": [1]}}}
    )
    requests: list[RecordedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Condition()

    @property
    def base_url(self) -> str:
        host, port = self._address()
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/instances"

    def start(self) -> "FakeBackend":
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorded = RecordedRequest(
                    self.command, self.path, dict(self.headers.items()), body, self.client_address[0]
                )
                with backend._lock:
                    backend.requests.append(recorded)
                    backend._lock.notify_all()
                parts = self.path.split("?", 1)[0].strip("/").split("/")
                status, payload = 404, {"error": "not found"}
                if len(parts) == 4 and parts[:2] == ["api", "instances"]:
                    what = parts[3]
                    if self.command == "GET" and what == "config":
                        status, payload = 200, backend.config
                    elif self.command == "GET" and what == "gift-groups":
                        status, payload = 200, backend.gift_groups
                    elif self.command == "POST" and what in ("config", "gift-groups"):
                        status, payload = 200, {"ok": True}
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _answer
            do_POST = _answer

        return self._serve(Handler, self.host, self.port)

    def wait_for(self, method: str, path_suffix: str, timeout: float = 15.0) -> RecordedRequest:
        """The first recorded request with this method whose path ends with ``path_suffix``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for request in self.requests:
                    if request.method == method and request.path.endswith(path_suffix):
                        return request
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(r.method, r.path) for r in self.requests]
                    raise TimeoutError(f"no {method} …{path_suffix} within {timeout}s; saw {seen}")
                self._lock.wait(left)
