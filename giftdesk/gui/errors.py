"""The one route every failure takes to the user.

A ``GiftDeskError`` is an expected problem: its sentence is shown as a warning; so is a full
disk met outside the database (an export, say), as the sentence naming that disk. Anything else
is a bug: the user sees one dialog with a copyable report (versions and traceback) and the app
keeps running. Tests replace ``ErrorRoute.presenter`` to collect errors instead of showing them.
"""

from __future__ import annotations

import logging
import platform
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QLabel, QMessageBox, QPlainTextEdit, QVBoxLayout, QWidget

import giftdesk
from giftdesk.core.errors import GiftDeskError
from giftdesk.core.storage import storage_error

log = logging.getLogger(__name__)


def error_report(exc: BaseException) -> str:
    import PySide6

    from giftdesk.core.logs import redact  # here: the window need not load the log handlers to open

    lines = [
        f"GiftDesk {giftdesk.__version__}",
        f"Python {platform.python_version()} on {platform.platform()}",
        f"PySide6 {PySide6.__version__}, Qt {qVersion()}",
        "",
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    ]
    return redact("\n".join(lines))


class CrashDialog(QDialog):
    def __init__(self, exc: BaseException, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("GiftDesk hit an unexpected error")
        self.report = error_report(exc)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(
            f"<b>{type(exc).__name__}: {str(exc)[:300]}</b><br>GiftDesk keeps running. "
            "Copy the report below when you ask for help; it holds no passwords or API keys."
        ))
        text = QPlainTextEdit(self.report)
        text.setReadOnly(True)
        text.setMinimumSize(640, 280)
        layout.addWidget(text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy report", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QApplication.clipboard().setText(self.report))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


def _show(exc: BaseException, parent: QWidget | None) -> None:
    if isinstance(exc, GiftDeskError):
        box = QMessageBox(QMessageBox.Icon.Warning, "GiftDesk", str(exc), QMessageBox.StandardButton.Ok, parent)
        box.open()  # window-modal without a nested event loop
        ErrorRoute.open_dialogs.append(box)
        box.finished.connect(lambda *_: ErrorRoute.open_dialogs.remove(box) if box in ErrorRoute.open_dialogs else None)
    else:
        dialog = CrashDialog(exc, parent)
        dialog.open()
        ErrorRoute.open_dialogs.append(dialog)
        dialog.finished.connect(lambda *_: ErrorRoute.open_dialogs.remove(dialog) if dialog in ErrorRoute.open_dialogs else None)


def _as_sentence(exc: BaseException) -> BaseException:
    """A full disk that reached the route as a bare OSError or SQLite error, as its sentence."""
    if isinstance(exc, GiftDeskError):
        return exc
    filename = getattr(exc, "filename", None)
    folder = Path(filename).parent if isinstance(filename, str) and filename else None
    return storage_error(exc, None, folder) or exc


class ErrorRoute:
    presenter: Callable[[BaseException, QWidget | None], None] = staticmethod(_show)
    open_dialogs: list[QWidget] = []
    parent: QWidget | None = None

    @classmethod
    def report(cls, exc: BaseException) -> None:
        exc = _as_sentence(exc)
        if isinstance(exc, GiftDeskError):
            log.info("Shown to the user: %s", exc)
        else:
            log.error("Unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
        cls.presenter(exc, cls.parent)

    @classmethod
    def install_excepthook(cls) -> None:
        """Uncaught exceptions in slots reach the same dialog instead of killing the app."""

        def hook(exc_type, exc, tb):
            if issubclass(exc_type, KeyboardInterrupt):
                sys.__excepthook__(exc_type, exc, tb)
                return
            cls.report(exc)

        sys.excepthook = hook
