"""File → Move in…: what the agency runs today, brought over with every tracker left running.

One page per source, each a guided preview: choose the files, Preview shows what would be
adopted, created, updated or skipped and why (nothing changes), Import writes it all in one
transaction. The work is ``giftdesk.move_in``'s (the same as ``giftdesk import …``), run off the
GUI thread; the pages only show what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QVBoxLayout, QWidget)

from giftdesk.core.errors import GiftDeskError
from giftdesk.gui import theme
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.table import Column, RowTableView

OUTCOME_TEXT = {"adopt": "adopt", "create": "create", "update": "update", "unchanged": "here already",
                "skip": "skipped"}
DONE_TEXT = {"adopt": "adopted", "create": "created", "update": "updated"}


@dataclass(frozen=True)
class PlanLine:
    """One row of a preview: what an item of the source becomes, and why."""

    index: int
    item: str
    kind: str
    outcome: str
    details: str
    applied: bool = False

    @property
    def id(self) -> int:
        return self.index


def _outcome_color(outcome: str):
    c = theme.colors()
    return QColor({"adopt": c.accent, "create": c.accent, "update": c.accent, "skip": c.error}.get(outcome, c.muted))


PLAN_COLUMNS = [
    Column("Item", lambda r: r.item, width=200),
    Column("What", lambda r: r.kind, width=110),
    Column("Outcome", lambda r: (DONE_TEXT.get(r.outcome) if r.applied else None) or OUTCOME_TEXT.get(r.outcome, r.outcome),
           width=100,
           foreground=lambda r: _outcome_color(r.outcome)),
    Column("Details", lambda r: r.details, stretch=True, tooltip=lambda r: r.details or None),
]


class SourcePage(QWidget):
    """A source's files, its preview table, its summary, Preview and Import."""

    def __init__(self, ctx, name: str, intro: str, fields: list[tuple[str, str, str]], parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName(f"move-in-{name}")
        self.plan = None
        self.previews = 0  # finished previews and imports (tests wait on them)
        self.imports = 0
        layout = QVBoxLayout(self)
        text = QLabel(intro)
        text.setWordWrap(True)
        text.setProperty("role", "muted")
        layout.addWidget(text)
        grid = QGridLayout()
        self.paths: dict[str, QLineEdit] = {}
        for row, (key, label, file_filter) in enumerate(fields):
            edit = QLineEdit()
            edit.setObjectName(f"move-in-{name}-{key}")
            edit.setPlaceholderText(label)
            browse = QPushButton("Choose…")
            browse.clicked.connect(lambda _checked=False, e=edit, t=label, f=file_filter: self._browse(e, t, f))
            edit.textChanged.connect(lambda: self.import_button.setEnabled(False))
            grid.addWidget(QLabel(label), row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(browse, row, 2)
            self.paths[key] = edit
        layout.addLayout(grid)
        self.options = QHBoxLayout()
        layout.addLayout(self.options)
        self.table = RowTableView(PLAN_COLUMNS, parent=self, empty_text="Choose the files, then Preview")
        self.table.setObjectName(f"move-in-{name}-table")
        layout.addWidget(self.table, 1)
        self.summary = QLabel("")
        self.summary.setObjectName(f"move-in-{name}-summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.error = QLabel("")
        self.error.setObjectName(f"move-in-{name}-error")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.preview_button = QPushButton("Preview")
        self.preview_button.setObjectName(f"move-in-{name}-preview")
        self.import_button = QPushButton("Import")
        self.import_button.setObjectName(f"move-in-{name}-import")
        self.import_button.setEnabled(False)
        if not ctx.can_edit:
            self.import_button.setToolTip("Importing needs the operator role")
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.import_button)
        layout.addLayout(buttons)
        self.preview_button.clicked.connect(self.preview)
        self.import_button.clicked.connect(self.apply)

    # ---- what a source says -------------------------------------------------------------------
    def make_plan(self, paths: dict[str, str]):
        raise NotImplementedError

    def make_import(self, paths: dict[str, str]):
        raise NotImplementedError

    def lines(self, plan) -> list[PlanLine]:
        raise NotImplementedError

    # ---- the flow -----------------------------------------------------------------------------
    def ask_open_path(self, title: str, file_filter: str) -> str | None:
        """A person picks the file here (tests type the path instead)."""
        path, _ = QFileDialog.getOpenFileName(self, title, "", file_filter)
        return path or None

    def _browse(self, edit: QLineEdit, title: str, file_filter: str) -> None:
        path = self.ask_open_path(title, file_filter)
        if path:
            edit.setText(path)

    def _chosen(self) -> dict[str, str] | None:
        paths = {key: edit.text().strip() for key, edit in self.paths.items()}
        missing = next((self.paths[k].placeholderText() for k, v in paths.items() if not v), None)
        if missing:
            self._show_error(f"Choose the {missing.lower()} first.")
            return None
        return {**paths, **self.choices()}

    def choices(self) -> dict:
        """The page's options, read here on the GUI thread (the work runs on a worker)."""
        return {}

    def preview(self) -> None:
        self.error.hide()
        self.import_button.setEnabled(False)
        paths = self._chosen()
        if paths is None:
            return
        self.summary.setText("Reading the files and checking them against this desk and the engine…")
        self.ctx.runner.submit(lambda: self.make_plan(paths), owner=self, supersede=f"{self.objectName()}-preview",
                               on_success=self._previewed, on_error=self._failed,
                               description="Previewing the move-in…")

    def _previewed(self, plan) -> None:
        self.plan = plan
        self.table.set_rows(self.lines(plan))
        self.summary.setText(plan.summary())
        self.import_button.setEnabled(self.ctx.can_edit and plan.changes_anything)
        self.previews += 1

    def apply(self) -> None:
        paths = self._chosen()
        if paths is None or self.plan is None:
            return
        self.import_button.setEnabled(False)
        self.preview_button.setEnabled(False)
        self.summary.setText("Importing (one transaction: all of it or nothing)…")
        # Planned again at the moment of the import: the desk or the engine may have changed.
        self.ctx.runner.submit(lambda: self.make_import(paths), owner=self, on_success=self._imported,
                               on_error=self._failed, description="Moving in…")

    def _imported(self, plan) -> None:
        self.plan = plan
        self.preview_button.setEnabled(True)
        self.table.set_rows([replace(line, applied=True) for line in self.lines(plan)])
        self.summary.setText(plan.summary())
        self.imports += 1

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


class InstanceManagerPage(SourcePage):
    def __init__(self, ctx, parent=None):
        super().__init__(ctx, "manager", (
            "The instance manager's database (data/instances.db). Each instance's running container is adopted "
            "as it runs (never restarted), with its account (keeping its old id, which its tracker calls with), its "
            "API key, dashboard password and logs. Nothing changes until you press Import."),
            [("database", "Instance manager database", "SQLite databases (*.db *.sqlite);;All files (*)")], parent)
        self.users = QCheckBox("Also make its users administrators (their passwords are checked at their first "
                               "login, then rehashed)")
        self.users.setObjectName("move-in-manager-users")
        if not ctx.desk.actor.can("admin"):
            self.users.setEnabled(False)
            self.users.setToolTip("Only administrators with the admin role can add administrators")
        self.users.toggled.connect(lambda: self.plan is not None and self.preview())
        self.options.addWidget(self.users)
        self.options.addStretch(1)

    def choices(self) -> dict:
        return {"users": self.users.isChecked()}

    def make_plan(self, paths):
        from giftdesk.move_in.instance_manager import InstanceManagerImport

        return InstanceManagerImport(self.ctx.desk).plan(paths["database"], users=paths["users"])

    def make_import(self, paths):
        from giftdesk.move_in.instance_manager import InstanceManagerImport

        return InstanceManagerImport(self.ctx.desk).apply(paths["database"], users=paths["users"])

    def lines(self, plan) -> list[PlanLine]:
        rows = [PlanLine(i, p.name, "instance", p.outcome, p.text() if p.outcome == "adopt" else p.reason)
                for i, p in enumerate(plan.instances)]
        start = len(rows)
        rows += [PlanLine(start + i, u.username, f"user ({u.role})", u.outcome, u.reason)
                 for i, u in enumerate(plan.users)]
        return rows


class TrackerBackendPage(SourcePage):
    def __init__(self, ctx, parent=None):
        exports = "mongoexport files (*.json);;All files (*)"
        super().__init__(ctx, "tracker-data", (
            "The tracker backend's mongoexport files: the keys (TrackerInstance: status, instance URL, last access) "
            "and the gift groups, config and analytics documents (InstanceData), by the accounts' old ids. Import "
            "the instance manager first. Nothing changes until you press Import."),
            [("instances", "TrackerInstance export", exports), ("data", "InstanceData export", exports)], parent)

    def make_plan(self, paths):
        from giftdesk.move_in.tracker_data import TrackerDataImport

        return TrackerDataImport(self.ctx.desk).plan(paths["instances"], paths["data"])

    def make_import(self, paths):
        from giftdesk.move_in.tracker_data import TrackerDataImport

        return TrackerDataImport(self.ctx.desk).apply(paths["instances"], paths["data"])

    def lines(self, plan) -> list[PlanLine]:
        rows = [PlanLine(i, k.legacy_account_id, "key", k.outcome, k.reason or k.status or "")
                for i, k in enumerate(plan.keys)]
        start = len(rows)
        rows += [PlanLine(start + i, d.legacy_account_id, d.data_type, d.outcome, d.reason)
                 for i, d in enumerate(plan.documents)]
        return rows

