"""File → Move in…: the orders backend's and HyperBuds' ``mongoexport`` files, one page each.

Each page previews first (every document with what will happen to it and why, every amount that
rounding changes, the next invoice number) and imports only when Import is pressed, as one
transaction, on the job runner (the window never waits). The work is the move-in services'
(``giftdesk.move_in``); the pages only gather the files and show the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QTabWidget, QVBoxLayout, QWidget)

from giftdesk.core.errors import GiftDeskError
from giftdesk.gui import theme
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.table import Column, RowTableView

OUTCOME = {("create", True): "will be created", ("link", True): "will be linked", ("skip", True): "skipped",
           ("create", False): "created", ("link", False): "linked", ("skip", False): "skipped"}
KIND = {"company": "Company", "order": "Order", "invoice": "Invoice", "social_profile": "Profile"}


@dataclass(frozen=True)
class StepLine:
    id: int
    kind: str
    legacy_id: str
    label: str
    outcome: str
    action: str
    record_id: int | None
    reason: str


@dataclass(frozen=True)
class RoundedLine:
    id: int
    what: str
    field: str
    exported: str
    imported: str


def _outcome_color(action: str):
    c = theme.colors()
    return QColor({"create": c.accent, "link": c.accent}.get(action, c.muted))


STEP_COLUMNS = [
    Column("Kind", lambda r: KIND.get(r.kind, r.kind), width=80),
    Column("What", lambda r: r.label, width=330, tooltip=lambda r: r.label),
    Column("Outcome", lambda r: r.outcome, width=110, foreground=lambda r: _outcome_color(r.action)),
    Column("Here", lambda r: f"#{r.record_id}" if r.record_id else "", width=60),
    Column("Old id", lambda r: r.legacy_id, width=200, hidden=True),
    Column("Why", lambda r: r.reason, stretch=True, tooltip=lambda r: r.reason or None),
]
ROUNDED_COLUMNS = [
    Column("Document", lambda r: r.what, width=220),
    Column("Field", lambda r: r.field, width=150),
    Column("In the export", lambda r: r.exported, width=200),
    Column("Imported as", lambda r: r.imported, stretch=True),
]


@dataclass(frozen=True)
class Source:
    """One page: its files (option name, label), and how to preview and import them."""

    key: str
    title: str
    intro: str
    files: tuple[tuple[str, str], ...]
    nouns: dict
    make: Callable  # desk -> the import service (preview(**files), run(**files))


def _social_scale(desk):
    from giftdesk.move_in.social_scale import SocialScaleImport
    return SocialScaleImport(desk.ctx, desk.settings, desk.invoices)


def _hyperbuds(desk):
    from giftdesk.move_in.hyperbuds import HyperBudsImport
    return HyperBudsImport(desk.ctx)


def sources() -> list[Source]:
    from giftdesk.move_in.hyperbuds import NOUNS as PROFILE_NOUNS
    from giftdesk.move_in.social_scale import NOUNS as ORDER_NOUNS

    return [
        Source("social-scale", "Orders backend", "The social-scale backend's Company, Order and Invoice collections, "
               "as mongoexport wrote them. Orders keep their Fampage order ids (the status sync goes on with them), "
               "invoices their numbers (ours continue after the highest); floats become exact money and every "
               "rounded value is listed. Give the files you have; companies may come first and the rest later.",
               (("companies", "Companies"), ("orders", "Orders"), ("invoices", "Invoices")), ORDER_NOUNS,
               _social_scale),
        Source("hyperbuds", "HyperBuds profiles", "The HyperBuds profiles collection, as mongoexport wrote it: "
               "profiles with their followers and engagement on each platform and when each was last synced.",
               (("profiles", "Profiles"),), PROFILE_NOUNS, _hyperbuds),
    ]


class ExportPage(QWidget):
    """Files, Preview, the report; Import once a preview found something to import."""

    imported = Signal(object)  # the ImportReport

    def __init__(self, ctx, source: Source, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.source = source
        self.setObjectName(f"move-in-{source.key}")
        self.report = None
        self.previews = 0  # finished previews (tests wait on it)
        self._previewed_files: dict | None = None
        layout = QVBoxLayout(self)
        intro = QLabel(source.intro)
        intro.setWordWrap(True)
        intro.setProperty("role", "muted")
        layout.addWidget(intro)
        grid = QGridLayout()
        self.paths: dict[str, QLineEdit] = {}
        for row, (key, label) in enumerate(source.files):
            edit = QLineEdit()
            edit.setObjectName(f"move-in-{source.key}-{key}")
            edit.setPlaceholderText(f"{label} export (.json)")
            edit.textChanged.connect(self._files_changed)
            browse = QPushButton("Choose…")
            browse.setObjectName(f"move-in-{source.key}-{key}-choose")
            browse.clicked.connect(lambda _checked=False, k=key: self.browse(k))
            grid.addWidget(QLabel(label), row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(browse, row, 2)
            self.paths[key] = edit
        layout.addLayout(grid)
        buttons = QHBoxLayout()
        self.preview_button = QPushButton("Preview")
        self.preview_button.setObjectName(f"move-in-{source.key}-preview")
        self.import_button = QPushButton("Import")
        self.import_button.setObjectName(f"move-in-{source.key}-import")
        self.import_button.setEnabled(False)
        self.can_import = ctx.desk.actor.can("admin")
        self.import_button.setToolTip("Preview the files first" if self.can_import
                                      else "Only administrators with the admin role can import")
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.summary = QLabel("")
        self.summary.setObjectName(f"move-in-{source.key}-summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.error = QLabel("")
        self.error.setObjectName(f"move-in-{source.key}-error")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.steps = RowTableView(STEP_COLUMNS, parent=self, empty_text="Choose the export files, then Preview")
        self.steps.setObjectName(f"move-in-{source.key}-steps")
        layout.addWidget(self.steps, 3)
        self.rounded_label = QLabel("Values rounded: floats made exact (money to its minor unit, engagement "
                                    "to two decimals)")
        layout.addWidget(self.rounded_label)
        self.rounded = RowTableView(ROUNDED_COLUMNS, parent=self, empty_text="No value needs rounding")
        self.rounded.setObjectName(f"move-in-{source.key}-rounded")
        layout.addWidget(self.rounded, 2)
        self.notes = QLabel("")
        self.notes.setObjectName(f"move-in-{source.key}-notes")
        self.notes.setWordWrap(True)
        self.notes.setProperty("role", "muted")
        layout.addWidget(self.notes)
        self.preview_button.clicked.connect(self.preview)
        self.import_button.clicked.connect(self.apply)

    def ask_open_path(self, label: str) -> str | None:
        """A person picks the file here (tests type the path instead)."""
        path, _ = QFileDialog.getOpenFileName(self, f"{label} export", "", "mongoexport files (*.json);;All files (*)")
        return path or None

    def browse(self, key: str) -> None:
        label = dict(self.source.files)[key]
        path = self.ask_open_path(label)
        if path:
            self.paths[key].setText(path)

    def files(self) -> dict[str, Path | None]:
        return {key: (Path(edit.text().strip()) if edit.text().strip() else None) for key, edit in self.paths.items()}

    def _files_changed(self) -> None:
        self.import_button.setEnabled(False)
        self._previewed_files = None

    def preview(self) -> None:
        files = self.files()
        self.error.hide()
        self.import_button.setEnabled(False)
        if not any(files.values()):
            return self._show_error("Choose at least one export file first.")
        service = self.source.make(self.ctx.desk)
        self.summary.setText("Reading the files…")
        self.ctx.runner.submit(lambda: service.preview(**files), owner=self, supersede=f"move-in-{self.source.key}",
                               on_success=lambda report: self._show(report, files), on_error=self._failed,
                               description="Reading the export files…")

    def apply(self) -> None:
        files = self._previewed_files
        if files is None:
            return
        self.import_button.setEnabled(False)
        self.preview_button.setEnabled(False)
        service = self.source.make(self.ctx.desk)
        self.summary.setText("Importing…")
        # Planned again inside the import's transaction: the database may have changed since the preview.
        self.ctx.runner.submit(lambda: service.run(**files), owner=self, on_success=self._imported,
                               on_error=self._failed, description="Importing the export files…")

    def _show(self, report, files: dict | None) -> None:
        self.report = report
        self.summary.setText(report.summary(self.source.nouns))
        self.steps.set_rows([StepLine(i, s.kind, s.legacy_id, s.label,
                                      OUTCOME.get((s.action, report.dry_run), s.action), s.action, s.record_id,
                                      s.reason or "") for i, s in enumerate(report.steps)])
        labels = {(s.kind, s.legacy_id): s.label for s in report.steps}
        self.rounded.set_rows([RoundedLine(i, labels.get((r.kind, r.legacy_id), r.legacy_id), r.field, str(r.exported),
                                           str(r.imported)) for i, r in enumerate(report.rounded)])
        numbering = report.extra.get("numbering") or {}
        notes = [f"The next invoice number here will be {n['next']}." for n in numbering.values()] + report.notes
        self.notes.setText("\n".join(notes))
        if report.dry_run:
            self._previewed_files = files
            self.import_button.setEnabled(self.can_import and report.changes)
            self.previews += 1
        else:
            self._previewed_files = None

    def _imported(self, report) -> None:
        self.preview_button.setEnabled(True)
        self._show(report, None)
        self.imported.emit(report)

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


class MoveInDialog(QDialog):
    """One page per system to move in from."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("move-in-dialog")
        self.setWindowTitle("Move in")
        self.resize(1000, 640)
        layout = QVBoxLayout(self)
        intro = QLabel("Brings over what the agency runs today. Each page previews first and changes nothing until "
                       "you press Import; an import is all or nothing, and importing the same files again changes "
                       "nothing.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.tabs = QTabWidget()
        from giftdesk.gui.move_in.dialog import InstanceManagerPage, TrackerBackendPage

        self.manager = InstanceManagerPage(ctx, self)
        self.tracker_data = TrackerBackendPage(ctx, self)
        self.tabs.addTab(self.manager, "Instance manager")
        self.tabs.addTab(self.tracker_data, "Tracker backend")
        self.pages: dict[str, ExportPage] = {}
        for source in sources():
            page = ExportPage(ctx, source, self)
            self.pages[source.key] = page
            self.tabs.addTab(page, source.title)
        layout.addWidget(self.tabs, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
