"""GUI fixtures: a logged-in GuiContext over the real SQLite ``desk``, captured errors, canned answers.

Every question a test does not answer fails it (``Prompts.answers`` starts empty), and every
error that reaches the error route fails it too unless the test asks for the ``errors`` fixture.
"""

from __future__ import annotations

import pytest

from giftdesk.gui import theme
from giftdesk.gui.context import GuiContext
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.prompts import Prompts
from giftdesk.core.context import Actor


@pytest.fixture(scope="session", autouse=True)
def _light_theme(qapp):
    theme.apply_theme(qapp, "light")
    yield


@pytest.fixture(autouse=True)
def _table_settings(tmp_path):
    """Tables remember their columns in the user's QSettings: a fresh temporary place per test."""
    from PySide6.QtCore import QSettings

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    yield


@pytest.fixture(autouse=True)
def _route(monkeypatch, request):
    """Collects what reaches the error route; unexpected errors fail the test at teardown."""
    reported: list[BaseException] = []
    monkeypatch.setattr(ErrorRoute, "presenter", staticmethod(lambda exc, parent: reported.append(exc)))
    monkeypatch.setattr(ErrorRoute, "parent", None)
    monkeypatch.setattr(Prompts, "answers", [])
    yield reported
    if "errors" not in request.fixturenames and reported:
        pytest.fail(f"Unexpected errors reached the error route: {reported!r}")


@pytest.fixture
def errors(_route):
    """The errors reported during the test (expected by the test)."""
    return _route


@pytest.fixture
def answers(monkeypatch):
    """``answers.extend([True])``: the replies to the next questions, in order."""
    canned: list = []
    monkeypatch.setattr(Prompts, "answers", canned)
    return canned


def _make_ctx(desk, actor: Actor):
    ctx = GuiContext.create(desk.as_actor(actor))
    return ctx


def _close(ctx) -> None:
    """Widgets first (they may still submit work), then the runner and the bridge."""
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    ctx.runner.wait_idle()
    QCoreApplication.processEvents()
    ctx.close()


@pytest.fixture
def ctx(desk, qtbot):
    """Logged in as an admin (no password round-trip: tests of the login dialogs do that)."""
    made = _make_ctx(desk, Actor("alice", "admin"))
    yield made
    _close(made)


@pytest.fixture
def viewer_ctx(desk, qtbot):
    made = _make_ctx(desk, Actor("vera", "viewer"))
    yield made
    _close(made)


def idle(qtbot, ctx, timeout: int = 5000) -> None:
    """Until every submitted job has run and delivered its result on the GUI thread."""
    qtbot.waitUntil(lambda: ctx.runner.running == 0, timeout=timeout)


@pytest.fixture
def window(ctx, qtbot):
    from giftdesk.gui.main_window import MainWindow

    win = MainWindow(ctx, background=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    idle(qtbot, ctx)
    yield win
    win.close()
