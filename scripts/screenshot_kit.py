"""What the README screenshot scripts share: the application they run in, waiting on its event
loop, saving a widget's picture (in the light palette and the dark one) and the final account of
what was written.

A script hands ``run`` its name, its arguments, the pictures it promises and a function that
takes the ``Shots`` and makes them; ``run`` does the rest and gives the exit status.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path


class Unavailable(Exception):
    """What a script needs (a Docker engine, a Swarm) is not there; the message says what."""


class Shots:
    """Saves widget pictures under ``out`` and remembers which."""

    def __init__(self, app, out: Path):
        self.app, self.out, self.saved = app, out, []

    def wait(self, until, timeout: float = 30.0, what: str = "") -> None:
        """Runs the event loop until ``until()`` holds."""
        deadline = time.monotonic() + timeout
        while not until():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up waiting for {what or until}")
            self.app.processEvents()
            time.sleep(0.01)

    def settle(self, seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.01)

    def save(self, widget, name: str) -> None:
        self.settle()
        path = self.out / name
        widget.grab().save(str(path))
        self.saved.append(path)

    @contextmanager
    def dark(self):
        from giftdesk.gui import theme

        theme.apply_theme(self.app, "dark")
        try:
            self.settle(0.1)
            yield
        finally:
            theme.apply_theme(self.app, "light")
            self.settle(0.1)

    def light_and_dark(self, widget, name: str) -> None:
        """``name`` in the light palette and ``…-dark.png`` in the dark one."""
        from PySide6.QtWidgets import QLineEdit

        self.save(widget, name)
        with self.dark():
            for edit in widget.findChildren(QLineEdit):  # re-polishing for the palette re-selects a field's text
                edit.deselect()
            self.save(widget, name.replace(".png", "-dark.png"))


def open_application(scheme: str = "light"):
    """The Qt application the pictures are taken in, and the list the errors the GUI would have
    shown in a message box are collected in instead."""
    os.environ["GIFTDESK_KEYRING"] = "file"  # demo keys never go to the real keyring

    from PySide6.QtCore import QSettings

    from giftdesk.gui.app import create_application
    from giftdesk.gui.errors import ErrorRoute

    app = create_application(scheme)
    # Tables remember their column widths per user: start from the defaults, not this machine's.
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    errors: list[str] = []

    def report(exc, parent) -> None:
        errors.append(f"{type(exc).__name__}: {exc}")
        print(f"error during screenshots: {errors[-1]}", file=sys.stderr)

    ErrorRoute.presenter = staticmethod(report)
    return app, errors


def run(script: str, argv: list[str], usage: str, outputs: Iterable[str], shoot: Callable[[Shots], None]) -> int:
    """Runs ``shoot`` with the pictures going to the one folder ``argv`` names; 0 when it wrote
    every file of ``outputs`` and no error was reported on the way."""
    if len(argv) != 1:
        print(usage, file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    app, errors = open_application()
    shots = Shots(app, out)
    try:
        shoot(shots)
    except Unavailable as exc:
        print(f"{script}: {exc}", file=sys.stderr)
        return 1
    for path in shots.saved:
        print(path)
    missing = sorted(set(outputs) - {p.name for p in shots.saved})
    if missing:
        print(f"{script}: not written: {', '.join(missing)}", file=sys.stderr)
    return 1 if errors or missing else 0


@contextmanager
def docker_engine():
    """The engine of tests/support/dockerd.sh with the fleet tests' offline images built on it."""
    from tests.fleet.conftest import build_fleet_images
    from tests.support.docker_engine import docker_host_of, ensure_engine

    engine = ensure_engine()
    if engine is None:
        raise Unavailable("no Docker engine (tests/support/dockerd.sh, DOCKER_HOST)")
    try:
        os.environ.setdefault("DOCKER_HOST", docker_host_of(engine))
        build_fleet_images(engine)
        yield engine
    finally:
        engine.close()
