"""Starting the desktop console: the application, the login, the main window and the event loop.

``run`` is what ``giftdesk`` (no sub-command) calls; ``self_test`` is what CI runs inside the
PyInstaller bundle to prove the frozen app can open a database, use its keyring and paint.

The event loop is qasync's: ``asyncio.Runner(loop_factory=qasync.QEventLoop).run(main())`` (the
3.11 spelling of ``asyncio.run(main(), loop_factory=...)``), where ``main`` awaits an event set
from ``app.aboutToQuit``. No dialog is ``exec()``-ed inside the
coroutine: the login and first-run dialogs are opened with ``open()`` and drive the flow with
their ``accepted``/``rejected`` signals.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QtMsgType, QTimer, qInstallMessageHandler, qVersion
from PySide6.QtGui import QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox

import giftdesk
from giftdesk import APP_NAME
from giftdesk.gui import gc_guard, theme

log = logging.getLogger(__name__)
qt_log = logging.getLogger("qt")

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


# Platform-plugin chatter that says nothing about GiftDesk (the offscreen plugin, mostly).
_QT_NOISE = ("This plugin does not support propagateSizeHints", "This plugin does not support raise()")


def qt_message_handler(mode, context, message: str) -> None:
    """Qt's own warnings go to the log file with everything else."""
    category = getattr(context, "category", None)
    prefix = f"[{category}] " if category and category != "default" else ""
    level = _QT_LEVELS.get(mode, logging.WARNING)
    if message.startswith(_QT_NOISE):
        level = logging.DEBUG
    qt_log.log(level, "%s%s", prefix, message)


def create_application(scheme: str | None = None) -> QApplication:
    """The QApplication with names, icon, theme, Qt messages routed into logging, and Python's
    cyclic garbage collector confined to the GUI thread (``gc_guard``)."""
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationVersion(giftdesk.__version__)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationDisplayName(APP_NAME)
    app.setDesktopFileName("giftdesk")
    theme.apply_theme(app, scheme)
    app.setWindowIcon(theme.app_icon())
    gc_guard.install(app)
    return app


class AppController(QObject):
    """Log in (or create the first administrator), show the main window, handle log out and quit."""

    def __init__(self, app: QApplication, desk, background: bool = True):
        super().__init__()
        self.app = app
        self.desk = desk  # acting as the data directory's owner until someone logs in
        self.background = background
        self.exit_code = 0
        self.window = None
        self.ctx = None
        self.dialog = None
        self._logging_out = False
        from giftdesk.gui.errors import ErrorRoute
        from giftdesk.gui.jobs import JobRunner

        self.login_runner = JobRunner(ErrorRoute.report, max_workers=1)

    def start(self) -> None:
        from giftdesk.gui.system.login import FirstRunDialog, LoginDialog

        desk = self.desk
        first = desk.needs_first_admin()
        dialog = (FirstRunDialog if first else LoginDialog)(desk, self.login_runner)
        dialog.setWindowIcon(theme.app_icon())
        dialog.accepted.connect(lambda: self._logged_in(dialog.actor))
        dialog.rejected.connect(self._login_cancelled)
        self.dialog = dialog
        if not desk.orm_loaded():
            # The ORM (SQLAlchemy, the models, the mappers' set-up: a quarter of a second) loads
            # on the login's worker once the dialog is painted, while the person types.
            from giftdesk.gui.widgets.after_paint import AfterPaint

            warm = AfterPaint(dialog, parent=dialog)
            warm.hold("orm", lambda: self.login_runner.submit(lambda: desk.admins.needs_first_admin(),
                                                              description="Opening the database…"))
        dialog.open()

    def _login_cancelled(self) -> None:
        log.info("Login cancelled")
        self.dialog = None
        self.app.quit()

    def _logged_in(self, actor) -> None:
        from giftdesk.gui.context import GuiContext
        from giftdesk.gui.main_window import MainWindow

        self.dialog = None
        log.info("%s logged in (%s)", actor.username, actor.role)
        self.ctx = GuiContext.create(self.desk.as_actor(actor))
        self.window = MainWindow(self.ctx, background=self.background)
        self.window.logout_requested.connect(self._log_out)
        self.window.closed.connect(self._window_closed)
        self.window.hand_over_on_close = True  # the trackers' backend outlives the window (runtime.keep_running)
        self.window.show()

    def _log_out(self) -> None:
        self._logging_out = True

    def _window_closed(self) -> None:
        window, ctx = self.window, self.ctx
        self.window = self.ctx = None
        serve = window.runtime_view.handed_over_to if window is not None and window.runtime_view else None
        if serve is not None:
            print(f"GiftDesk: the trackers' backend keeps running in giftdesk serve (pid {serve.pid}, endpoint "
                  f"{serve.address}); `giftdesk serve stop` stops it.", flush=True)
        if ctx is not None:
            ctx.close()
        if window is not None:
            window.deleteLater()
        if self._logging_out:
            self._logging_out = False
            log.info("Logged out")
            self.start()
        else:
            self.app.quit()

    def shutdown(self) -> None:
        """After the loop: stop the endpoint (flushes access times), the workers, then the database."""
        if self.window is not None:
            self.window.shutdown()
            self.window = None
        if self.ctx is not None:
            self.ctx.close()
            self.ctx = None
        self.login_runner.shutdown()
        self.desk.close()


def _ensure_logging(data_dir: str | None) -> None:
    """The rotating log file in the data directory, unless the caller (the CLI) has set it up."""
    from giftdesk.core.logs import setup_logging
    from giftdesk.core.paths import resolve_data_dir

    if any(getattr(handler, "_giftdesk", False) for handler in logging.getLogger().handlers):
        return
    try:
        setup_logging(resolve_data_dir(data_dir).ensure().logs)
    except OSError as exc:  # an unwritable folder is reported when the Desk opens it
        log.warning("No log file: %s", exc)


async def _main(app: QApplication, controller: AppController) -> int:
    import asyncio

    quit_event = asyncio.Event()
    app.aboutToQuit.connect(quit_event.set)
    controller.start()
    await quit_event.wait()
    return controller.exit_code


def _quit_on_ctrl_c(app: QApplication) -> QTimer | None:
    """Ctrl+C in the terminal quits cleanly (Qt's loop would otherwise never let Python see it)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.signal(signal.SIGINT, lambda *_: app.quit())
    app.aboutToQuit.connect(lambda: signal.signal(signal.SIGINT, previous))
    timer = QTimer()
    timer.timeout.connect(lambda: None)  # wakes the interpreter so the handler runs
    timer.start(300)
    return timer


def _splash(app: QApplication) -> QLabel:
    """Painted before the domain layer is imported: something is on screen within a blink.

    A plain label with the splash window flag: QSplashScreen waits up to a second for the window
    to be exposed on every message, which is exactly the time it is meant to cover.
    """
    palette = app.palette()
    card = QPixmap(420, 180)
    card.fill(palette.color(QPalette.ColorRole.Window))
    painter = QPainter(card)
    painter.drawPixmap(24, 42, theme.app_icon().pixmap(96, 96))
    painter.setPen(palette.color(QPalette.ColorRole.WindowText))
    font = painter.font()
    font.setPointSize(18)
    font.setBold(True)
    painter.setFont(font)
    painter.drawText(140, 80, APP_NAME)
    font.setPointSize(10)
    font.setBold(False)
    painter.setFont(font)
    painter.drawText(140, 106, f"version {giftdesk.__version__}")
    painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
    painter.drawText(140, 132, "Opening the database…")
    painter.setPen(palette.color(QPalette.ColorRole.Mid))
    painter.drawRect(card.rect().adjusted(0, 0, -1, -1))
    painter.end()
    splash = QLabel()
    splash.setWindowFlags(Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint)
    splash.setPixmap(card)
    splash.setFixedSize(card.size())
    screen = app.primaryScreen()
    if screen is not None:
        splash.move(screen.availableGeometry().center() - splash.rect().center())
    splash.show()
    app.processEvents()
    return splash


def _open_desk(app: QApplication, data_dir: str | None, database_url: str | None):
    """``Desk.open`` (migrations, the integrity check) on a thread while the splash keeps painting."""
    result: dict = {}

    def work() -> None:
        try:
            from giftdesk.desk import Desk

            # The window runs for hours: worth reading every page once behind the splash.
            result["desk"] = Desk.open(data_dir, database_url, check_integrity=True)
        except Exception as exc:  # handed to the GUI thread below
            result["error"] = exc

    opener = threading.Thread(target=work, name="desk-open", daemon=True)
    opener.start()
    while opener.is_alive():
        app.processEvents()
        opener.join(0.02)
    if "error" in result:
        raise result["error"]
    return result["desk"]


def run(data_dir: str | None = None, database_url: str | None = None) -> int:
    """The desktop console. Returns the process exit code (0 also when the login is cancelled)."""
    qInstallMessageHandler(qt_message_handler)
    app = create_application()
    app.setQuitOnLastWindowClosed(False)  # the controller quits; log out closes the window on purpose
    splash = _splash(app)
    # The log file and the error route once the splash is up: it need not wait for them (Qt's
    # warnings before it go to stderr, as Python's logging does with no handler yet).
    _ensure_logging(data_dir)
    from giftdesk.gui.errors import ErrorRoute

    ErrorRoute.install_excepthook()
    try:
        desk = _open_desk(app, data_dir, database_url)
    except Exception as exc:  # unreadable folder, database server down, failed migration...
        from giftdesk.core.errors import GiftDeskError

        if isinstance(exc, GiftDeskError):  # a damaged database, a full disk: the sentence says it all
            log.error("Cannot open the data directory: %s", exc)
        else:
            log.exception("Cannot open the data directory")
        splash.close()
        QMessageBox.critical(None, APP_NAME, f"GiftDesk cannot start:\n\n{exc}")  # no event loop runs yet
        return 1
    import asyncio  # imported here, not above: with ssl it is 30-60 ms the splash need not wait for

    import qasync

    splash.close()
    controller = AppController(app, desk)
    wake = _quit_on_ctrl_c(app)  # noqa: F841 (kept alive for the loop's lifetime)
    try:
        # asyncio.run(main(), loop_factory=...) needs Python 3.12; asyncio.Runner takes it on 3.11.
        with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
            return runner.run(_main(app, controller))
    finally:
        controller.shutdown()


# ---- self-test ---------------------------------------------------------------------------------
class _PaintWatcher(QObject):
    def __init__(self):
        super().__init__()
        self.painted = False

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.painted = True
        return False


def _wait(app: QApplication, condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.01)
    app.processEvents()
    return condition()


def self_test(json_output: bool = False) -> int:
    """Opens a throw-away data directory, logs in, seeds a customer, paints the main window.

    Prints a summary (text, or JSON with ``ok``, ``version``, ``qt``, ``keyring_backend``,
    ``database``, ``tabs``) and returns 0 when everything worked. Needs no source files, so it
    runs inside the PyInstaller bundle; on Linux without a display it uses the offscreen platform.
    """
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import json  # these four here, not above: the splash need not wait for them
    import platform
    import secrets
    import tempfile

    import PySide6

    from giftdesk.desk import Desk
    from giftdesk.gui.context import GuiContext
    from giftdesk.gui.errors import ErrorRoute
    from giftdesk.gui.main_window import MainWindow

    previous_handler = qInstallMessageHandler(qt_message_handler)
    started = time.monotonic()
    summary: dict = {
        "ok": False,
        "version": giftdesk.__version__,
        "python": platform.python_version(),
        "pyside6": PySide6.__version__,
        "qt": qVersion(),
        "platform": None,
        "frozen": bool(getattr(sys, "frozen", False)),
        "keyring_backend": None,
        "keyring_warning": None,
        "database": None,
        "tabs": [],
        "errors": [],
    }
    errors: list[str] = []
    previous_presenter = ErrorRoute.presenter
    ErrorRoute.presenter = staticmethod(lambda exc, parent: errors.append(f"{type(exc).__name__}: {exc}"))
    try:
        app = create_application()
        summary["platform"] = app.platformName()
        with tempfile.TemporaryDirectory(prefix="giftdesk-selftest-") as tmp:
            desk = Desk.open(tmp)
            ctx = window = customer_id = None
            try:
                summary["keyring_backend"] = desk.secrets.backend_name
                summary["keyring_warning"] = desk.secrets.warning
                summary["database"] = desk.db.display_name
                password = secrets.token_urlsafe(18)
                desk.admins.create("selftest", password)
                user_desk = desk.as_actor(desk.admins.authenticate("selftest", password))
                customer = user_desk.customers.create("Self-test customer", "selftest@example.com", "GiftDesk")
                customer_id = customer.id
                account = user_desk.customers.add_account(customer.id, "@giftdesk_selftest")
                api_key = user_desk.keys.generate(account.id)
                if user_desk.keys.reveal(account.id) != api_key:
                    errors.append(f"The keyring ({desk.secrets.backend_name}) did not return the stored API key")
                ctx = GuiContext.create(user_desk)
                window = MainWindow(ctx, background=False)
                watcher = _PaintWatcher()
                window.installEventFilter(watcher)
                window.show()
                painted = _wait(app, lambda: watcher.painted and ctx.runner.running == 0, 20)
                window.customers_tab.refresh()
                _wait(app, lambda: ctx.runner.running == 0 and bool(window.customers_tab.table.rows), 20)
                image = window.grab().toImage()
                summary["tabs"] = window.tab_titles()
                summary["window"] = [image.width(), image.height()]
                if not painted:
                    errors.append("The main window was not painted within 20 s")
                if image.isNull() or image.width() < 100:
                    errors.append("Grabbing the main window gave no image")
                if not window.customers_tab.table.rows:
                    errors.append("The Customer Accounts tab did not list the seeded customer")
                window.close()
            finally:
                if window is not None:
                    window.shutdown()
                    window.deleteLater()
                if ctx is not None:
                    ctx.close()
                app.processEvents()
                if customer_id is not None:
                    desk.customers.delete(customer_id)  # also removes its key from the keyring
                desk.close()
    except Exception as exc:  # the summary says what broke; the exit code says that it broke
        log.exception("Self-test failed")
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        ErrorRoute.presenter = previous_presenter
        qInstallMessageHandler(previous_handler)
    summary["errors"] = errors
    summary["ok"] = not errors and len(summary["tabs"]) == 5
    summary["seconds"] = round(time.monotonic() - started, 2)
    if json_output:
        print(json.dumps(summary, indent=2))
    else:
        print(f"GiftDesk {summary['version']} self-test: {'OK' if summary['ok'] else 'FAILED'}")
        for key in ("python", "pyside6", "qt", "platform", "frozen", "keyring_backend", "database", "seconds"):
            print(f"  {key:16} {summary[key]}")
        print(f"  {'tabs':16} {', '.join(summary['tabs'])}")
        if summary["keyring_warning"]:
            print(f"  warning          {summary['keyring_warning']}")
        for error in errors:
            print(f"  error            {error}")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":  # python -m giftdesk.gui.app
    raise SystemExit(run(*sys.argv[1:2]))
