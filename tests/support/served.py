"""A fake remote API served over real HTTP on a thread: the part every fake shares.

A fake subclasses ``Served``, builds its ``BaseHTTPRequestHandler`` class in ``start`` and hands
it to ``_serve``; ``stop`` (or leaving the ``with`` block) shuts the server down.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Served:
    _server: ThreadingHTTPServer | None = None

    def _serve(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0,
               queue: int | None = None, poll_interval: float = 0.5):
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        if queue is not None:
            self._server.request_queue_size = queue
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": poll_interval},
                         daemon=True).start()
        return self

    def _address(self) -> tuple[str, int]:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return host, port

    def start(self):
        raise NotImplementedError

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
