"""Real ``giftdesk serve`` processes for tests: started with a port file, always ended at teardown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.runtime.test_supervisor import wait_for


def giftdesk(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "giftdesk", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "GIFTDESK_KEYRING": "file"}, stdin=subprocess.DEVNULL)


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


class Serves:
    """Starts serve processes and kills whatever is left of them (and of detached ones) at the end."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []
        self.pids: list[int] = []  # detached serves: not our children
        self._count = 0

    def start(self, data_dir: Path, *options: str) -> tuple[subprocess.Popen, Path]:
        """A serve of ``data_dir`` on a free loopback port; ``options`` are more of serve's (``--database-url``)."""
        self._count += 1
        port_file = self.tmp_path / f"serve-port-{self._count}"
        process = subprocess.Popen(
            [sys.executable, "-m", "giftdesk", "serve", "--data-dir", str(data_dir), "--port", "0",
             "--host", "127.0.0.1", "--port-file", str(port_file), *options],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "GIFTDESK_KEYRING": "file"})
        self.processes.append(process)
        return process, port_file

    def start_listening(self, data_dir: Path, *options: str) -> tuple[subprocess.Popen, int]:
        process, port_file = self.start(data_dir, *options)
        listening = wait_for(lambda: port_file.exists() or process.poll() is not None, timeout=60)
        if not listening or process.poll() is not None:
            process.kill()
            pytest.fail(f"giftdesk serve did not start: {process.communicate(timeout=10)}")
        return process, int(port_file.read_text())

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=20)
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def serves(tmp_path):
    started = Serves(tmp_path)
    yield started
    started.close()


@pytest.fixture
def quiet_data_dir(desk):
    """A data directory whose serves do not look for Docker (nothing in these tests needs it)."""
    desk.settings.update({"docker.host": "unix:///nonexistent.sock"})
    return desk.paths.root
