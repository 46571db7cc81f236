"""The test harness itself: a hanging test fails in seconds with every thread's stack.

Each case runs pytest in a child process on a generated test file, with this suite's conftest
and settings, and checks how that run ended.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

PYTHON_HANG = '''
import threading, time
import pytest

@pytest.mark.timeout(2)
def test_waits_forever():
    threading.Thread(target=threading.Event().wait, name="idle-worker", daemon=True).start()
    threading.Event().wait()

def test_runs_after_the_hang():
    pass
'''

# A C-level deadlock that keeps the GIL (the shape of a QObject destroyed on a worker): no
# Python signal handler can run, only faulthandler's watchdog.
GIL_DEADLOCK = '''
import ctypes, threading
import pytest

@pytest.mark.timeout(2)
def test_deadlocks_holding_the_gil():
    threading.Thread(target=threading.Event().wait, name="idle-worker", daemon=True).start()
    libc = ctypes.PyDLL(None)
    mutex = ctypes.create_string_buffer(64)
    libc.pthread_mutex_lock(mutex)
    libc.pthread_mutex_lock(mutex)
'''


def _run(tmp_path: Path, source: str) -> subprocess.CompletedProcess:
    test_file = tmp_path / "test_generated.py"
    test_file.write_text(source)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["GIFTDESK_TEST_WATCHDOG_GRACE"] = "3"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
         "-c", str(REPO / "pyproject.toml"), "--rootdir", str(tmp_path), str(test_file)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )


def test_a_hanging_test_fails_at_its_deadline_and_the_run_goes_on(tmp_path):
    run = _run(tmp_path, PYTHON_HANG)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Timeout (>2.0s)" in run.stdout
    assert "idle-worker" in run.stdout + run.stderr  # every thread's stack, not only the test's
    assert "1 failed, 1 passed" in run.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="libc's pthread mutex by name")
def test_a_deadlock_holding_the_gil_ends_the_run_with_every_stack(tmp_path):
    run = _run(tmp_path, GIL_DEADLOCK)
    assert run.returncode != 0
    dump = run.stderr
    assert "Timeout (" in dump  # faulthandler's watchdog fired
    assert "test_deadlocks_holding_the_gil" in dump
    assert "Thread 0x" in dump and dump.count("Thread 0x") >= 2  # the worker's stack too
