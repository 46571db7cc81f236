"""``giftdesk`` where Qt cannot open a window: one line on stderr and exit 3, never Qt's abort()."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from giftdesk.cli import display
from giftdesk.cli.display import EXIT_NO_DISPLAY, display_problem

ROOT = Path(__file__).resolve().parents[1]
DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE")

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland checks are Linux's")


def run_giftdesk(tmp_path, **env_changes):
    env = {k: v for k, v in os.environ.items() if k not in DISPLAY_VARIABLES}
    env.update(PYTHONPATH=str(ROOT), HOME=str(tmp_path / "home"), GIFTDESK_KEYRING="file", **env_changes)
    return subprocess.run([sys.executable, "-m", "giftdesk", "--data-dir", str(tmp_path / "data")],
                          capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)


def test_no_display_at_all_is_one_line_and_exit_3(tmp_path):
    result = run_giftdesk(tmp_path)
    assert result.returncode == EXIT_NO_DISPLAY, result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert "neither DISPLAY nor WAYLAND_DISPLAY is set" in result.stderr and "desktop session" in result.stderr


def test_a_display_nobody_answers_on_is_one_line_and_exit_3(tmp_path):
    result = run_giftdesk(tmp_path, DISPLAY=":219")  # no X server has that number here
    assert result.returncode == EXIT_NO_DISPLAY, result.stderr
    assert result.stderr.count("\n") == 1 and "cannot open the X display ':219'" in result.stderr


def test_missing_xcb_libraries_are_named_with_their_packages(monkeypatch):
    monkeypatch.setattr(display, "XCB_LIBRARIES", {**display.XCB_LIBRARIES,
                                                   "libxcb-giftdesk-absent.so.0": "libxcb-giftdesk-absent0"})
    problem = display_problem({"DISPLAY": ":0"})
    assert problem.startswith("Qt's X11 platform cannot load libxcb-giftdesk-absent.so.0: install libxcb-giftdesk-absent0")


@pytest.mark.parametrize("env, expected", [
    ({"QT_QPA_PLATFORM": "offscreen"}, None),
    ({"QT_QPA_PLATFORM": "minimal:enable_fonts"}, None),
    ({"QT_QPA_PLATFORM": "wayland"}, "WAYLAND_DISPLAY is not set"),
    ({"QT_QPA_PLATFORM": "wayland", "WAYLAND_DISPLAY": "wayland-9", "XDG_RUNTIME_DIR": "/nonexistent"}, "no socket"),
    ({"QT_QPA_PLATFORM": "wayland;offscreen"}, None),
    ({"XDG_SESSION_TYPE": "wayland"}, "WAYLAND_DISPLAY is not set"),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "DISPLAY is not set."),
])
def test_which_platform_qt_will_use_decides(env, expected):
    problem = display_problem(env)
    assert problem is None if expected is None else expected in problem


def test_a_running_x_server_passes(tmp_path):
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        pytest.skip("Xvfb is not installed")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write_fd), "-nolisten", "tcp", "-screen", "0", "640x480x24"],
                              pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        number = b""
        deadline = time.monotonic() + 20
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = os.read(read_fd, 16)
            if not chunk:
                break
            number += chunk
        assert number.strip(), "Xvfb did not report its display"
        assert display_problem({"DISPLAY": f":{number.decode().strip()}"}) is None
    finally:
        os.close(read_fd)
        server.terminate()
        server.wait(timeout=20)
