"""Import instances from an export file: a preview of what would be created, skipped or refused
(and why) before anything changes, then one result per instance. Each instance is created on its
own and atomically (record and container together); a refused or failed one leaves nothing behind
and the others go on (giftdesk.fleet.portability)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QVBoxLayout, QWidget)

from giftdesk.core.errors import GiftDeskError
from giftdesk.gui import theme
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.table import RIGHT, Column, RowTableView

ACTION_TEXT = {"create": "will be created", "skip": "skipped", "refuse": "refused",
               "ok": "created", "failed": "failed", "skipped": "skipped", "cancelled": "cancelled"}


@dataclass(frozen=True)
class ImportLine:
    """One row of the table: a planned item, later its result."""

    index: int
    name: str
    username: str
    port: int | None
    action: str  # create | skip | refuse, then ok | failed | skipped
    reason: str

    @property
    def id(self) -> int:
        return self.index


def _action_color(action: str):
    c = theme.colors()
    color = {"create": c.accent, "ok": c.success, "refuse": c.error, "failed": c.error}.get(action, c.muted)
    return QColor(color)


IMPORT_COLUMNS = [
    Column("Instance", lambda r: r.name, width=170),
    Column("TikTok", lambda r: f"@{r.username}" if r.username else "", width=140),
    Column("Port", lambda r: r.port or ("" if r.action in ("skip", "skipped") else "new"), align=RIGHT, width=60,
           sort=lambda r: r.port or 0),
    Column("Outcome", lambda r: ACTION_TEXT.get(r.action, r.action), width=115,
           foreground=lambda r: _action_color(r.action)),
    Column("Why", lambda r: r.reason, stretch=True, tooltip=lambda r: r.reason or None),
]


class ImportDialog(QDialog):
    imported = Signal(object)  # list[BulkResult]

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("import-dialog")
        self.setWindowTitle("Import instances")
        self.resize(960, 500)
        self.data: dict | None = None
        self.plan = None
        self.results = None
        self.previews = 0  # finished previews (tests wait on it)
        layout = QVBoxLayout(self)
        intro = QLabel("Creates the instances of a GiftDesk export (More → Export instances…). Nothing changes until "
                       "you press Import. Each instance is created on its own: one that is refused or fails leaves "
                       "nothing behind, and the others go on. Keys are never in an export: each account's key comes "
                       "from this computer's keyring, or a new one is generated.")
        intro.setWordWrap(True)
        intro.setProperty("role", "muted")
        layout.addWidget(intro)
        chooser = QHBoxLayout()
        self.path = QLineEdit()
        self.path.setObjectName("import-path")
        self.path.setPlaceholderText("Export file (.json)")
        self.browse_button = QPushButton("Choose…")
        self.preview_button = QPushButton("Preview")
        self.preview_button.setObjectName("import-preview")
        chooser.addWidget(QLabel("File"))
        chooser.addWidget(self.path, 1)
        chooser.addWidget(self.browse_button)
        chooser.addWidget(self.preview_button)
        layout.addLayout(chooser)
        options = QHBoxLayout()
        self.new_ports = QCheckBox("Choose new free ports instead of the exported ones")
        self.new_ports.setObjectName("import-new-ports")
        self.start = QCheckBox("Start them after the import")
        self.start.setObjectName("import-start")
        options.addWidget(self.new_ports)
        options.addWidget(self.start)
        options.addStretch(1)
        layout.addLayout(options)
        self.table = RowTableView(IMPORT_COLUMNS, parent=self, empty_text="Choose an export file to preview it")
        self.table.setObjectName("import-table")
        layout.addWidget(self.table, 1)
        self.summary = QLabel("")
        self.summary.setObjectName("import-summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.error = QLabel("")
        self.error.setObjectName("import-error")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.import_button = self.buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setObjectName("import-apply")
        self.import_button.setEnabled(False)
        self.buttons.rejected.connect(self.reject)
        self.import_button.clicked.connect(self.apply)
        layout.addWidget(self.buttons)
        self.browse_button.clicked.connect(self.browse)
        self.preview_button.clicked.connect(self.preview)
        self.path.returnPressed.connect(self.preview)
        self.path.textChanged.connect(lambda: self.import_button.setEnabled(False))
        self.new_ports.toggled.connect(lambda: self.data is not None and self.preview())

    def ask_open_path(self) -> str | None:
        """A person picks the file here (tests type the path instead)."""
        path, _ = QFileDialog.getOpenFileName(self, "Import instances", "", "GiftDesk exports (*.json);;All files (*)")
        return path or None

    def browse(self) -> None:
        path = self.ask_open_path()
        if path:
            self.path.setText(path)
            self.preview()

    def preview(self) -> None:
        from giftdesk.fleet.portability import plan_import, read_export

        path = self.path.text().strip()
        self.error.hide()
        self.import_button.setEnabled(False)
        if not path:
            return self._show_error("Choose the export file first.")
        fleet, keep_ports = self.ctx.desk.fleet, not self.new_ports.isChecked()

        def check():
            data = read_export(path)
            return data, plan_import(fleet, data, keep_ports)

        self.summary.setText("Checking the file against the fleet…")
        self.ctx.runner.submit(check, owner=self, supersede="import-preview", on_success=self._previewed,
                               on_error=self._failed, description="Checking the export file…")

    def _previewed(self, loaded) -> None:
        self.data, self.plan = loaded
        self.results = None
        self.table.set_rows([ImportLine(i, item.name, item.username, item.port, item.action, item.reason)
                             for i, item in enumerate(self.plan.items)])
        creating = len(self.plan.creating)
        skipped = sum(1 for i in self.plan.items if i.action == "skip")
        refused = sum(1 for i in self.plan.items if i.action == "refuse")
        text = f"{creating} will be created, {skipped} skipped (the name exists), {refused} refused."
        if self.plan.templates:
            replaced = set(self.plan.replaced_templates)
            text += " Templates: " + ", ".join(f"{n} (replaces the existing one)" if n in replaced else n
                                               for n in self.plan.templates) + "."
        self.summary.setText(text)
        self.import_button.setEnabled(self.ctx.can_edit and bool(creating or self.plan.templates))
        self.previews += 1

    def apply(self) -> None:
        from giftdesk.fleet.portability import import_fleet

        if self.data is None:
            return
        self.import_button.setEnabled(False)
        self.preview_button.setEnabled(False)
        fleet, data = self.ctx.desk.fleet, self.data
        start, keep_ports = self.start.isChecked(), not self.new_ports.isChecked()
        self.summary.setText("Importing…")
        # Planned again at the moment of the import: the fleet may have changed since the preview.
        self.ctx.runner.submit(lambda: import_fleet(fleet, data, start=start, keep_ports=keep_ports), owner=self,
                               on_success=self._imported, on_error=self._failed,
                               description="Importing instances…")

    def _imported(self, results) -> None:
        self.results = results
        self.preview_button.setEnabled(True)
        planned = {item.name: item for item in self.plan.items} if self.plan else {}
        self.table.set_rows([ImportLine(i, r.name, getattr(planned.get(r.name), "username", ""),
                                        getattr(planned.get(r.name), "port", None), r.outcome, r.message)
                             for i, r in enumerate(results)])
        ok = sum(1 for r in results if r.outcome == "ok")
        failed = sum(1 for r in results if r.outcome == "failed")
        skipped = sum(1 for r in results if r.outcome == "skipped")
        self.summary.setText(f"Imported: {ok} created{' and started' if self.start.isChecked() else ''}, "
                             f"{skipped} skipped, {failed} refused or failed.")
        self.data = None  # a second press would only skip them all
        self.imported.emit(results)

    def _failed(self, exc: BaseException) -> None:
        self.preview_button.setEnabled(True)
        self.summary.setText("")
        if not isinstance(exc, GiftDeskError):
            ErrorRoute.report(exc)
            return
        self._show_error(str(exc))

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


__all__ = ["ImportDialog", "Qt"]
