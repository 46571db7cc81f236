"""Can Qt open a window here? Asked before the QApplication exists, because Qt's answer to "no"
is ``abort()`` (exit 134, a core dump, the reason only in the log).

Qt-free and cheap (a few ``dlopen`` calls and, for X11, one ``xcb_connect``), so it runs on every
start of the window. Platforms that need no display (offscreen, minimal, vnc, eglfs…) pass.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Mapping
from pathlib import Path

EXIT_NO_DISPLAY = 3

# Platform plugins that draw without a desktop session.
HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal", "minimalegl", "vnc", "eglfs", "linuxfb", "vkkhrdisplay"})

# What Qt's xcb platform plugin loads beyond the wheel (ldd on libqxcb.so and libQt6XcbQpa.so),
# with the Debian package that has each: the list the README gives.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
}


def platform_candidates(env: Mapping[str, str]) -> list[str]:
    """The platforms Qt will try, in order (``QT_QPA_PLATFORM`` may list several with ';')."""
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return [part.split(":", 1)[0].strip().lower() for part in chosen.split(";") if part.strip()]
    if env.get("XDG_SESSION_TYPE", "").lower() == "wayland":
        return ["wayland", "xcb"]
    return ["xcb"]


def missing_libraries() -> list[str]:
    missing = []
    for name in XCB_LIBRARIES:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return missing


def _x_connection_error(display: str) -> str | None:
    """None when the X server at ``display`` accepts us; else why not."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return "libxcb.so.1 is missing"
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(display.encode(), None)
    try:
        if connection and xcb.xcb_connection_has_error(connection) == 0:
            return None
        return "the X server does not answer or refuses this user"
    finally:
        if connection:
            xcb.xcb_disconnect(connection)


def _xcb_problem(env: Mapping[str, str]) -> str | None:
    display = env.get("DISPLAY", "").strip()
    if not display:
        unset = "DISPLAY is not set" if env.get("WAYLAND_DISPLAY") else "neither DISPLAY nor WAYLAND_DISPLAY is set"
        return (f"no display to open the window on: {unset}. Start giftdesk from a desktop session "
                "(or set DISPLAY, e.g. ssh -X); the command line needs none (giftdesk --help).")
    missing = missing_libraries()
    if missing:
        packages = " ".join(XCB_LIBRARIES[name] for name in missing)
        return (f"Qt's X11 platform cannot load {', '.join(missing)}: install {packages} "
                "(Debian package names; the README lists the libraries Qt needs).")
    why = _x_connection_error(display)
    if why:
        return (f"cannot open the X display {display!r} (DISPLAY): {why}. Check that the X server runs "
                "and that this user may use it (xauth), or unset DISPLAY inside a Wayland session.")
    return None


def _wayland_problem(env: Mapping[str, str]) -> str | None:
    name = env.get("WAYLAND_DISPLAY", "").strip()
    if not name:
        return "no Wayland display: WAYLAND_DISPLAY is not set."
    socket = Path(name) if os.path.isabs(name) else Path(env.get("XDG_RUNTIME_DIR", "/nonexistent"), name)
    if not socket.exists():
        return f"the Wayland display {name!r} has no socket at {socket}; is the session still running?"
    return None


def display_problem(env: Mapping[str, str] | None = None) -> str | None:
    """One sentence saying why Qt could not open a window here, or None when it can (or may)."""
    if not sys.platform.startswith("linux"):
        return None  # Windows and macOS always have their native platform
    env = os.environ if env is None else env
    problems = []
    for platform in platform_candidates(env):
        if platform in HEADLESS_PLATFORMS:
            return None
        if platform == "xcb":
            problem = _xcb_problem(env)
        elif platform == "wayland" or platform.startswith("wayland-"):
            problem = _wayland_problem(env)
        else:
            return None  # a platform we do not know: let Qt decide
        if problem is None:
            return None
        problems.append(problem)
    return problems[0]
