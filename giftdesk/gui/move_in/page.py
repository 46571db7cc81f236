"""The one page every Move in source uses: its files, its options, Preview, the report, Import.

A source is data (``Source``): its title, intro, files, options and two functions, ``preview`` and
``run``, that call ``giftdesk.move_in`` and turn what it returns into a ``Report`` (the rows, the
summary, the rounded values, the notes). The page runs them on the job runner (the window never
waits) and only shows what comes back; the import plans again inside its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QVBoxLayout, QWidget)

from giftdesk.core.errors import GiftDeskError
from giftdesk.gui import theme
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.table import Column, RowTableView

EXPORT_FILTER = "mongoexport files (*.json);;All files (*)"

# outcome → (what a preview says, what an import says)
OUTCOME_WORDS = {"adopt": ("will be adopted", "adopted"), "create": ("will be created", "created"),
                 "update": ("will be updated", "updated"), "link": ("will be linked", "linked"),
                 "unchanged": ("here already", "here already"), "skip": ("skipped", "skipped")}
CHANGES = {"adopt", "create", "update", "link"}
IMPORT_REFUSED = {"admin": "Only administrators with the admin role can import",
                  "operator": "Only operators and administrators can import"}


@dataclass(frozen=True)
class Line:
    """One row of a report: an item of the source, what happens to it, where it is here, and why."""

    id: int
    kind: str
    what: str
    outcome: str  # a key of OUTCOME_WORDS
    here: str = ""
    why: str = ""
    done: bool = False  # the import has run (past tense)

    @property
    def outcome_text(self) -> str:
        words = OUTCOME_WORDS.get(self.outcome)
        return words[1 if self.done else 0] if words else self.outcome


@dataclass(frozen=True)
class RoundedLine:
    id: int
    what: str
    field: str
    exported: str
    imported: str


@dataclass(frozen=True)
class Report:
    """What a source's preview or import found, in the page's terms."""

    summary: str
    lines: list[Line]
    changes: bool
    rounded: list[RoundedLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FileField:
    key: str
    label: str  # "Instance manager database"
    file_filter: str = EXPORT_FILTER


@dataclass(frozen=True)
class Option:
    """A checkbox the source's functions receive as ``options[key]``."""

    key: str
    label: str
    role: str = "viewer"  # the role it needs
    refused: str = ""  # the tooltip for someone without that role


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    intro: str
    files: tuple[FileField, ...]
    preview: Callable  # (desk, files: dict[str, str | None], options: dict[str, bool]) -> Report
    run: Callable  # the same, writing it
    options: tuple[Option, ...] = ()
    import_role: str = "admin"
    every_file: bool = True  # False: any one of the files will do
    rounding: str | None = None  # the heading of the rounded values; None: this source never rounds


def _outcome_color(line: Line) -> QColor:
    c = theme.colors()
    if line.outcome in CHANGES:
        return QColor(c.success if line.done else c.accent)
    return QColor(c.warning if line.outcome == "skip" else c.muted)


LINE_COLUMNS = [
    Column("Kind", lambda r: r.kind, width=80),
    Column("What", lambda r: r.what, width=260, tooltip=lambda r: r.what or None),
    Column("Outcome", lambda r: r.outcome_text, width=120, foreground=_outcome_color),
    Column("Here", lambda r: r.here, width=160),
    Column("Why", lambda r: r.why, stretch=True, tooltip=lambda r: r.why or None),
]
ROUNDED_COLUMNS = [
    # Widths line up with the rows' table above: Document ends where What does, Field where Here does.
    Column("Document", lambda r: r.what, width=340, tooltip=lambda r: r.what or None),
    Column("Field", lambda r: r.field, width=280),
    Column("In the export", lambda r: r.exported, width=200),
    Column("Imported as", lambda r: r.imported, stretch=True),
]


class SourcePage(QWidget):
    """A source's files and options, Preview and Import, and the report of the last one."""

    def __init__(self, ctx, source: Source, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.source = source
        name = source.key
        self.setObjectName(f"move-in-{name}")
        self.report: Report | None = None
        self.previews = 0  # finished previews and imports (tests wait on them)
        self.imports = 0
        self.can_import = ctx.desk.actor.can(source.import_role)
        layout = QVBoxLayout(self)
        intro = QLabel(source.intro)
        intro.setWordWrap(True)
        intro.setProperty("role", "muted")
        layout.addWidget(intro)

        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.paths: dict[str, QLineEdit] = {}
        for row, spec in enumerate(source.files):
            edit = QLineEdit()
            edit.setObjectName(f"move-in-{name}-{spec.key}")
            edit.setPlaceholderText(f"Path of the {spec.label.lower()} file")
            edit.textChanged.connect(self._files_changed)
            browse = QPushButton("Choose…")
            browse.setObjectName(f"move-in-{name}-{spec.key}-choose")
            browse.clicked.connect(lambda _checked=False, s=spec: self.browse(s))
            grid.addWidget(QLabel(spec.label), row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(browse, row, 2)
            self.paths[spec.key] = edit
        layout.addLayout(grid)

        self.options: dict[str, QCheckBox] = {}
        for spec in source.options:
            box = QCheckBox(spec.label)
            box.setObjectName(f"move-in-{name}-{spec.key}")
            if not ctx.desk.actor.can(spec.role):
                box.setEnabled(False)
                box.setToolTip(spec.refused)
            box.toggled.connect(self._option_changed)
            layout.addWidget(box)
            self.options[spec.key] = box

        buttons = QHBoxLayout()
        self.preview_button = QPushButton("Preview")
        self.preview_button.setObjectName(f"move-in-{name}-preview")
        self.import_button = QPushButton("Import")
        self.import_button.setObjectName(f"move-in-{name}-import")
        self.import_button.setEnabled(False)
        self.import_button.setToolTip("Preview first: Import writes what the preview shows" if self.can_import
                                      else IMPORT_REFUSED.get(source.import_role, "Importing needs another role"))
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.summary = QLabel("")
        self.summary.setObjectName(f"move-in-{name}-summary")
        self.summary.setWordWrap(True)
        self.summary.hide()  # shown with something to say (an empty line would leave a gap)
        layout.addWidget(self.summary)
        self.error = QLabel("")
        self.error.setObjectName(f"move-in-{name}-error")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)

        needed = "the files" if source.every_file and len(source.files) > 1 else (
            "the file" if len(source.files) == 1 else "the files you have")
        self.table = RowTableView(LINE_COLUMNS, parent=self, empty_text=f"Choose {needed}, then Preview")
        self.table.setObjectName(f"move-in-{name}-table")
        layout.addWidget(self.table, 3)
        self.rounded = None
        if source.rounding:
            heading = QLabel(source.rounding)
            heading.setWordWrap(True)
            layout.addWidget(heading)
            self.rounded = RowTableView(ROUNDED_COLUMNS, parent=self, empty_text="No value needs rounding")
            self.rounded.setObjectName(f"move-in-{name}-rounded")
            layout.addWidget(self.rounded, 2)
        self.notes = QLabel("")
        self.notes.setObjectName(f"move-in-{name}-notes")
        self.notes.setWordWrap(True)
        self.notes.setProperty("role", "muted")
        self.notes.hide()
        layout.addWidget(self.notes)
        self.preview_button.clicked.connect(self.preview)
        self.import_button.clicked.connect(self.apply)

    # ---- the files and options --------------------------------------------------------------
    def ask_open_path(self, title: str, file_filter: str) -> str | None:
        """A person picks the file here (tests type the path instead)."""
        path, _ = QFileDialog.getOpenFileName(self, title, "", file_filter)
        return path or None

    def browse(self, spec: FileField) -> None:
        path = self.ask_open_path(spec.label, spec.file_filter)
        if path:
            self.paths[spec.key].setText(path)

    def _files_changed(self) -> None:
        self.import_button.setEnabled(False)

    def _option_changed(self) -> None:
        # What the import does depends on the options: the shown preview no longer holds.
        self.import_button.setEnabled(False)
        if self.report is not None:
            self.preview()

    def _chosen(self) -> tuple[dict, dict] | None:
        """The files and options, read here on the GUI thread (the work runs on a worker)."""
        files = {key: edit.text().strip() or None for key, edit in self.paths.items()}
        if self.source.every_file:
            missing = next((s.label for s in self.source.files if not files[s.key]), None)
            if missing:
                self._show_error(f"Choose the {missing.lower()} first.")
                return None
        elif not any(files.values()):
            self._show_error("Choose at least one export file first.")
            return None
        return files, {key: box.isChecked() for key, box in self.options.items()}

    # ---- the flow ---------------------------------------------------------------------------
    def preview(self) -> None:
        self.error.hide()
        self.import_button.setEnabled(False)
        chosen = self._chosen()
        if chosen is None:
            return
        desk, preview = self.ctx.desk, self.source.preview
        self._say("Reading the files and checking them against this desk…")
        self.ctx.runner.submit(lambda: preview(desk, *chosen), owner=self, supersede=f"{self.objectName()}-preview",
                               on_success=self._previewed, on_error=self._failed,
                               description=f"Previewing the move-in: {self.source.title}…")

    def apply(self) -> None:
        chosen = self._chosen()
        if chosen is None or self.report is None:
            return
        self.error.hide()
        self.import_button.setEnabled(False)
        self.preview_button.setEnabled(False)
        desk, run = self.ctx.desk, self.source.run
        self._say("Importing (one transaction: all of it or nothing)…")
        # Planned again inside the import's transaction: the desk or the engine may have changed.
        self.ctx.runner.submit(lambda: run(desk, *chosen), owner=self, on_success=self._imported,
                               on_error=self._failed, description=f"Moving in: {self.source.title}…")

    def _previewed(self, report: Report) -> None:
        self._show(report)
        self.import_button.setEnabled(self.can_import and report.changes)
        self.previews += 1

    def _imported(self, report: Report) -> None:
        self.preview_button.setEnabled(True)
        self._show(replace(report, lines=[replace(line, done=True) for line in report.lines]))
        self.imports += 1

    def _show(self, report: Report) -> None:
        self.report = report
        self._say(report.summary)
        self.table.set_rows(report.lines)
        if self.rounded is not None:
            self.rounded.set_rows(report.rounded)
        self.notes.setText("\n".join(report.notes))
        self.notes.setVisible(bool(report.notes))

    def _failed(self, exc: BaseException) -> None:
        self.preview_button.setEnabled(True)
        self._say("")
        if not isinstance(exc, GiftDeskError):
            ErrorRoute.report(exc)
            return
        self._show_error(str(exc))

    def _say(self, text: str) -> None:
        self.summary.setText(text)
        self.summary.setVisible(bool(text))

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
