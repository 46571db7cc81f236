"""A loopback TCP relay in front of a Docker engine, to make the engine hang or go away on purpose.

The console is given ``tcp://127.0.0.1:<relay port>`` as the engine's address; TLS passes through
untouched (the server certificate names 127.0.0.1, whatever the port). ``mute()`` holds every
byte in both directions while the connections stay open (a host that stopped answering: an event
stream goes silent, a call waits); ``unmute()`` lets them through again. ``cut()`` closes every
connection and refuses new ones (a host that went away).
"""

from __future__ import annotations

import socket
import threading


class EngineRelay:
    def __init__(self, target_port: int):
        self.target_port = target_port
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        self.host = f"tcp://127.0.0.1:{self.port}"
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="engine-relay").start()

    def mute(self) -> None:
        self._flowing.clear()

    def unmute(self) -> None:
        self._flowing.set()

    def cut(self) -> None:
        with self._lock:
            self._closed = True
            sockets, self._sockets = self._sockets, []
        self.server.close()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._flowing.set()  # the pumps holding bytes find their sockets closed and end

    close = cut

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._closed:
                    client.close()
                    upstream.close()
                    return
                self._sockets += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                self._flowing.wait()
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
