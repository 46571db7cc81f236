"""Images on the fleet's engine: list (who uses each), remove, remove unused, build with a live log.

Everything the engine is asked runs in the job runner through ``giftdesk.fleet.images`` (the
same code as ``giftdesk image …``). A build streams its log through a queue that a timer drains
into a bounded text view; Cancel closes the build's connection, which stops the engine's build.
"""

from __future__ import annotations

import collections
import threading
import time

import shiboken6
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from giftdesk.core.errors import GiftDeskError, ValidationError
from giftdesk.docker.api import BuildCancelled
from giftdesk.fleet.events import InstancesChanged
from giftdesk.fleet.images import (
    BuildResult,
    ImageCatalog,
    ImageRow,
    Removal,
    build_folder,
    build_tag,
)
from giftdesk.fleet.units import fmt_size
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.table import RIGHT, Column, RowTableView, fmt_datetime
from giftdesk.gui.widgets.list_dialog import ResultLine, closing_row, toolbar_row

BUILD_LOG_LINES = 5000  # the view keeps the newest lines; the build's own log stays with the engine
FLUSH_MS = 100
LISTED = 12  # names a question lists before "and N more"


def _containers_text(row: ImageRow) -> str:
    if not row.containers:
        return ""
    return f"{row.containers} ({row.running} running)" if row.running else str(row.containers)


COLUMNS = [
    Column("Image", lambda r: ", ".join(r.tags) or "<none>", width=300,
           tooltip=lambda r: "Settings' default tracker image" if r.is_default else None,
           font=lambda r: _bold() if r.is_default else None),
    Column("ID", lambda r: r.short_id, width=105),
    Column("Size", lambda r: fmt_size(r.size_bytes), sort=lambda r: r.size_bytes, align=RIGHT, width=80),
    Column("Created", lambda r: fmt_datetime(r.created), sort=lambda r: r.created, width=130),
    Column("Containers", _containers_text, sort=lambda r: r.containers, align=RIGHT, width=110),
    Column("Instances", lambda r: ", ".join(r.instances), stretch=True,
           tooltip=lambda r: r.usage or None),
]


def _bold():
    font = QFont()
    font.setBold(True)
    return font


def _names(rows: list[ImageRow]) -> str:
    shown = "\n".join(f"  • {r.reference} ({fmt_size(r.size_bytes)})" for r in rows[:LISTED])
    return shown + (f"\n  … and {len(rows) - LISTED} more" if len(rows) > LISTED else "")


class ImagesDialog(QDialog):
    changed = Signal()  # images were built or removed

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.catalog = ImageCatalog(ctx.desk.fleet)
        self.results: list[Removal] | None = None  # the last removal's outcome (tests read it)
        self.build_dialog: BuildDialog | None = None
        self.setWindowTitle("Docker images")
        self.setObjectName("images-dialog")
        self.resize(960, 520)
        layout = QVBoxLayout(self)

        self.filter = QLineEdit()
        self.filter.setObjectName("images-filter")
        self.filter.setPlaceholderText("Filter…")
        self.filter.setClearButtonEnabled(True)
        self.filter.setMaximumWidth(260)
        self.build_button = QPushButton("Build…")
        self.build_button.setObjectName("images-build")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("images-remove")
        self.unused_button = QPushButton("Remove unused")
        self.unused_button.setObjectName("images-remove-unused")
        self.unused_button.setToolTip("Images no container uses and no instance names (the default tracker image "
                                      "stays); with a filter, only among the images shown.")
        self.refresh_button = QPushButton("Refresh")
        layout.addLayout(toolbar_row((self.filter,), (self.build_button, self.remove_button, self.unused_button,
                                                      self.refresh_button)))

        self.table = RowTableView(COLUMNS, key=lambda r: r.id, parent=self, multi_select=True,
                                  empty_text="Loading the images…", settings_key="images")
        self.table.setObjectName("images-table")
        layout.addWidget(self.table, 1)
        self.summary = ResultLine("images-summary", role="muted")
        layout.addLayout(closing_row(self.summary, self))

        self.filter.textChanged.connect(self._filter)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self.refresh_button.clicked.connect(self.refresh)
        self.remove_button.clicked.connect(self.remove_selected)
        self.unused_button.clicked.connect(self.remove_unused)
        self.build_button.clicked.connect(self.open_build)
        self._update_buttons()
        # An instance created, edited or deleted elsewhere changes who uses which image.
        ctx.bridge.subscribe(InstancesChanged, lambda _e: self.refresh(), owner=self)
        self.refresh()

    def done(self, result: int) -> None:  # closing the list stops a build started from it
        if self.build_dialog is not None and shiboken6.isValid(self.build_dialog):
            self.build_dialog.close()
        super().done(result)

    # ---- the list ---------------------------------------------------------------------------
    @property
    def loading(self) -> bool:
        return not self.refresh_button.isEnabled()

    def refresh(self) -> None:
        self.refresh_button.setEnabled(False)
        self.ctx.runner.submit(self.catalog.list, owner=self, supersede="images.list", on_success=self._loaded,
                               on_error=self._load_failed, description="Listing images…")

    def _loaded(self, rows: list[ImageRow]) -> None:
        self.refresh_button.setEnabled(True)
        self.table.set_empty_text("No images on this engine — Build… makes one from the tracker's repository")
        self.table.set_rows(rows)
        self._update_summary()
        self._update_buttons()

    def _load_failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        if not isinstance(exc, GiftDeskError):
            self.ctx.report(exc)
            return
        self.table.set_rows([])
        self.table.set_empty_text(f"{exc}\nCheck the Docker host in File → Settings, then Refresh.")
        self.summary.setText("")

    def _filter(self, text: str) -> None:
        self.table.set_filter_text(text)
        self._update_summary()

    def _update_summary(self) -> None:
        rows = self.table.rows
        shown = self.table.visible_rows()
        unused = [r for r in shown if r.unused]
        text = f"{len(rows)} image{'s' if len(rows) != 1 else ''}, {fmt_size(sum(r.size_bytes for r in rows))}"
        if len(shown) != len(rows):
            text += f" · {len(shown)} shown"
        text += f" · {len(unused)} unused ({fmt_size(sum(r.size_bytes for r in unused))})"
        self.summary.setText(text)

    def _update_buttons(self) -> None:
        can = self.ctx.can_edit
        self.remove_button.setEnabled(can and bool(self.table.selected_rows()))
        self.unused_button.setEnabled(can)
        self.build_button.setEnabled(can)

    # ---- removing ---------------------------------------------------------------------------
    def remove_selected(self) -> None:
        rows = self.table.selected_rows()
        if not rows:
            return
        in_use = [r for r in rows if r.in_use]
        free = [r for r in rows if not r.in_use]
        if not in_use:
            if not Prompts.confirm(self, "Remove images", f"Remove {len(rows)} image(s)?\n{_names(rows)}",
                                   destructive=True, confirm_text="Remove"):
                return
            self._remove([r.id for r in rows], force=False)
            return
        users = "\n".join(f"  • {r.reference} is used by {r.usage}." for r in in_use[:LISTED])
        if Prompts.confirm(self, "Images in use", f"{users}\n\nRemove {'them' if len(in_use) > 1 else 'it'} anyway "
                           "(force)? A stopped or missing tracker then cannot start or be recreated until the "
                           "image is back; the engine refuses an image a running container uses.",
                           destructive=True, confirm_text="Force remove"):
            self._remove([r.id for r in rows], force=True)
        elif free and Prompts.confirm(self, "Remove images", f"Remove only the {len(free)} image(s) nobody uses?\n"
                                      f"{_names(free)}", destructive=True, confirm_text="Remove"):
            self._remove([r.id for r in rows], force=False)  # the ones in use come back refused, with who uses them
        else:  # nothing removed: say why, as the domain would
            self._removed([Removal(r.reference, "refused", f"used by {r.usage}") for r in in_use], refresh=False)

    def remove_unused(self) -> None:
        shown = self.table.visible_rows()
        unused = [r for r in shown if r.unused]
        among = " among the images shown" if len(shown) != len(self.table.rows) else ""
        if not unused:
            Prompts.info(self, "Remove unused images", f"No unused images{among}.")
            self.results = []
            return
        size = fmt_size(sum(r.size_bytes for r in unused))
        if not Prompts.confirm(self, "Remove unused images", f"These {len(unused)} image(s){among} are used by no "
                               f"container and no instance ({size}):\n{_names(unused)}\n\nRemove them?",
                               destructive=True, confirm_text="Remove"):
            return
        ids = [r.id for r in unused]
        self._run_removal(lambda: self.catalog.remove_unused(ids), "Removing unused images…")

    def _remove(self, ids: list[str], force: bool) -> None:
        self._run_removal(lambda: self.catalog.remove(ids, force=force), "Removing images…")

    def _run_removal(self, work, description: str) -> None:
        self.remove_button.setEnabled(False)
        self.unused_button.setEnabled(False)
        self.ctx.runner.submit(work, owner=self, on_success=self._removed, on_error=self._removal_failed,
                               description=description)

    def _removed(self, results: list[Removal], refresh: bool = True) -> None:
        self.results = results
        removed = [r for r in results if r.outcome == "removed"]
        kept = [r for r in results if r.outcome != "removed"]
        text = f"Removed {len(removed)} image(s)."
        if kept:
            text += f" Kept {len(kept)}:\n" + "\n".join(f"  • {r.reference}: {r.message}" for r in kept[:LISTED])
        Prompts.info(self, "Images", text)
        if refresh:
            self._after_change()

    def _removal_failed(self, exc: BaseException) -> None:
        self.results = None
        self.ctx.report(exc)
        self.refresh()

    def _after_change(self) -> None:
        self.refresh()
        self.changed.emit()

    # ---- building ---------------------------------------------------------------------------
    def open_build(self) -> None:
        self.build_dialog = BuildDialog(self.ctx, self.catalog, parent=self)
        self.build_dialog.built.connect(lambda _result: self._after_change())
        self.build_dialog.show()


class BuildDialog(QDialog):
    """Folder + tag, then the build's log as it arrives, Cancel, and the result."""

    built = Signal(object)  # BuildResult

    def __init__(self, ctx, catalog: ImageCatalog, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.catalog = catalog
        self.result: BuildResult | None = None
        self.outcome = ""  # built | cancelled | failed (tests wait on it)
        self._queue: collections.deque[str] = collections.deque()
        self._cancel: threading.Event | None = None
        self._started = 0.0
        self.setWindowTitle("Build an image")
        self.setObjectName("build-dialog")
        self.resize(820, 540)
        layout = QVBoxLayout(self)

        form = QFormLayout()
        folder_row = QHBoxLayout()
        self.folder = QLineEdit()
        self.folder.setObjectName("build-folder")
        self.folder.setPlaceholderText("the tracker's repository checked out (the folder with the Dockerfile)")
        self.browse_button = QPushButton("Browse…")
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse_button)
        form.addRow("Folder", folder_row)
        self.tag = QLineEdit(str(ctx.desk.settings.get("tracker.default_image") or ""))
        self.tag.setObjectName("build-tag")
        self.tag.setPlaceholderText("gift-tracker:latest")
        form.addRow("Tag", self.tag)
        layout.addLayout(form)

        self.problem = QLabel("")
        self.problem.setObjectName("build-problem")
        self.problem.setProperty("role", "error")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.problem)

        self.log = QPlainTextEdit()
        self.log.setObjectName("build-log")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(BUILD_LOG_LINES)
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.log.setFont(QFont("monospace"))
        self.log.setPlaceholderText("The build's log shows here as the engine sends it.")
        layout.addWidget(self.log, 1)

        self.status = ResultLine("build-status", role="muted", selectable=True)
        layout.addWidget(self.status)

        buttons = QDialogButtonBox()
        self.build_button = buttons.addButton("Build", QDialogButtonBox.ButtonRole.AcceptRole)
        self.build_button.setObjectName("build-start")
        self.build_button.setDefault(True)
        self.cancel_button = buttons.addButton("Cancel build", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button.setObjectName("build-cancel")
        self.cancel_button.setEnabled(False)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        layout.addWidget(buttons)

        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self._flush)
        self.browse_button.clicked.connect(self._browse)
        self.build_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "The folder with the Dockerfile", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _say_problem(self, text: str, field: QLineEdit | None) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
        for edit in (self.folder, self.tag):
            edit.setProperty("invalid", "true" if edit is field else None)
            edit.style().unpolish(edit)
            edit.style().polish(edit)

    def start(self) -> None:
        if self.running:
            return
        try:  # the same checks the build makes, said before anything starts
            folder = build_folder(self.folder.text())
            tag = build_tag(self.tag.text())
        except ValidationError as exc:
            self._say_problem(str(exc), self.folder if exc.field == "directory" else self.tag)
            return
        self._say_problem("", None)
        self.log.clear()
        self._queue.clear()
        self.result = None
        self.outcome = ""
        cancel = self._cancel = threading.Event()
        self._started = time.monotonic()
        self._set_running(True)
        self.status.say(f"Building {tag} from {folder}…", "muted")
        self._timer.start()
        queue, catalog = self._queue, self.catalog
        # Our own event, not the runner's job cancel: a cancelled build still reports how it ended.
        self.ctx.runner.submit(lambda: catalog.build(str(folder), tag, cancel=cancel, on_line=queue.append),
                               owner=self, on_success=self._built, on_error=self._failed,
                               description=f"Building {tag}…")

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self.status.setText("Cancelling: closing the build's connection…")

    def _set_running(self, running: bool) -> None:
        self.build_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.folder.setEnabled(not running)
        self.tag.setEnabled(not running)
        self.browse_button.setEnabled(not running)

    def _flush(self) -> None:
        if not self._queue:
            return
        batch = []
        while self._queue:
            batch.append(self._queue.popleft())
        step = next((line for line in reversed(batch) if line.startswith("Step ")), None)
        if step is not None and self._cancel is not None and not self._cancel.is_set():
            self.status.setText(f"Building… {step[:160]}")  # the classic builder's "Step 3/7 : COPY …"
        bar = self.log.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.log.appendPlainText("\n".join(batch[-BUILD_LOG_LINES:]))
        if at_end:
            bar.setValue(bar.maximum())

    def _finish(self, outcome: str, text: str, role: str) -> None:
        self._flush()
        self._timer.stop()
        self._cancel = None
        self._set_running(False)
        self.folder.deselect()
        self.build_button.setFocus()  # not the folder field (its text would show selected)
        self.outcome = outcome
        self.status.say(text, role)

    def _built(self, result: BuildResult) -> None:
        self.result = result
        seconds = time.monotonic() - self._started
        self._finish("built", f"✓ Built {result.tag} — image {result.short_id}, {result.lines} log lines, "
                              f"{seconds:.1f} s. New instances can use it now.", "success")
        self.built.emit(result)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, BuildCancelled):
            self._finish("cancelled", f"Cancelled after {time.monotonic() - self._started:.1f} s; the engine "
                                      "stopped the build and tagged nothing.", "muted")
        elif isinstance(exc, GiftDeskError):
            self._finish("failed", f"✗ {exc}", "error")
        else:
            self._finish("failed", "✗ The build stopped with an unexpected error.", "error")
            self.ctx.report(exc)

    def closeEvent(self, event) -> None:  # Qt's name; closing stops a build that runs
        self._stop_build()
        super().closeEvent(event)

    def done(self, result: int) -> None:  # Escape too
        self._stop_build()
        super().done(result)

    def _stop_build(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
