"""A loopback TCP relay that delays every byte by a fixed time each way: an engine made to look
as far away as a host on the network (a LAN answers in a millisecond or two, another site in tens).

It runs as a process of its own (``python -m tests.support.latency_relay TARGET_PORT DELAY_MS``
prints its port, then relays until killed), so its threads never take the GIL from the process
being measured. Each direction delivers a chunk ``DELAY_MS`` after it arrived, in order and
without adding the delays of chunks in flight (latency, not a slower line).
"""

from __future__ import annotations

import queue
import socket
import subprocess
import sys
import threading
import time


def _forward(source: socket.socket, target: socket.socket, delay: float) -> None:
    pending: queue.Queue = queue.Queue()

    def deliver() -> None:
        while True:
            due, data = pending.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                target.sendall(data)
            except OSError:
                break
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    threading.Thread(target=deliver, daemon=True).start()
    try:
        while data := source.recv(65536):
            pending.put((time.monotonic() + delay, data))
    except OSError:
        pass
    pending.put((0.0, None))


def serve(target_port: int, delay_ms: float) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    print(server.getsockname()[1], flush=True)
    delay = delay_ms / 1000
    while True:
        client, _ = server.accept()
        try:
            upstream = socket.create_connection(("127.0.0.1", target_port), timeout=10)
            upstream.settimeout(None)
        except OSError:
            client.close()
            continue
        for source, target in ((client, upstream), (upstream, client)):
            source.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=_forward, args=(source, target, delay), daemon=True).start()


class LatencyRelay:
    """The relay process; ``host`` is the address to give the console (TLS passes through)."""

    def __init__(self, target_port: int, delay_ms: float):
        self.process = subprocess.Popen([sys.executable, "-m", "tests.support.latency_relay", str(target_port),
                                         str(delay_ms)], stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())
        self.host = f"tcp://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


if __name__ == "__main__":
    serve(int(sys.argv[1]), float(sys.argv[2]))
