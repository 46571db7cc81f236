"""The audit log: who changed what and when, newest first, with each entry's details.

Entries are loaded in the job runner (``desk.audit.list``); typing in the search box filters the
loaded rows in the table's proxy model, without a query per keystroke. Refresh loads again.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from giftdesk.gui.table import Column, RowTableView

LIMIT = 1000


def fmt_when(value) -> str:
    """Local time with seconds: audit entries are often seconds apart."""
    from datetime import timezone

    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def details_text(row) -> str:
    """The entry's details, pretty-printed JSON."""
    if row is None:
        return ""
    if row.details is None:
        return "(no details were recorded for this entry)"
    return json.dumps(row.details, indent=2, ensure_ascii=False, default=str)


def heading_html(row) -> str:
    if row is None:
        return ""
    target = f" · {row.target_type} {row.target_id or ''}".rstrip() if row.target_type else ""
    return (f"<b>{_escape(row.action)}</b> by <b>{_escape(row.actor)}</b> · {fmt_when(row.at)}{_escape(target)}"
            f" · entry #{row.id}<br>{_escape(row.summary)}")


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class AuditLogDialog(QDialog):
    def __init__(self, ctx, parent: QWidget | None = None, limit: int = LIMIT):
        super().__init__(parent)
        self.ctx = ctx
        self.limit = limit
        self.loaded = False
        self.setWindowTitle("Audit log")
        self.setMinimumSize(860, 520)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)

        top = QHBoxLayout()
        self.search = QLineEdit(self)
        self.search.setObjectName("audit-search")
        self.search.setPlaceholderText("Filter by who, action or summary…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._apply_filter)
        top.addWidget(self.search, 1)
        self.count_label = QLabel("", self)
        self.count_label.setProperty("role", "muted")
        top.addWidget(self.count_label)
        self.refresh_button = QPushButton("Re&fresh", self)
        self.refresh_button.setAutoDefault(False)
        self.refresh_button.setToolTip("Load the newest entries again (F5)")
        self.refresh_button.clicked.connect(lambda _checked=False: self.reload())
        top.addWidget(self.refresh_button)
        layout.addLayout(top)

        columns = [
            Column("When", lambda r: fmt_when(r.at), sort=lambda r: r.at, width=150),
            Column("Who", lambda r: r.actor, width=110),
            Column("Action", lambda r: r.action, width=160),
            Column("Summary", lambda r: r.summary, tooltip=lambda r: r.summary, stretch=True),
        ]
        self.table = RowTableView(columns, parent=self, empty_text="Loading…", settings_key="audit-log")
        self.table.setObjectName("audit-table")
        self.table.current_changed.connect(self._show_details)

        self.details = QPlainTextEdit(self)
        self.details.setObjectName("audit-details")
        self.details.setReadOnly(True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setPlaceholderText("Select an entry to see its details.")

        self.heading = QLabel(self)
        self.heading.setObjectName("audit-heading")
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 4, 0, 0)
        lower_layout.setSpacing(4)
        lower_layout.addWidget(self.heading)
        lower_layout.addWidget(self.details, 1)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([300, 200])
        self.splitter.setChildrenCollapsible(False)
        layout.addWidget(self.splitter, 1)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self, self.reload)
        QShortcut(QKeySequence.StandardKey.Find, self, self._focus_search)
        self.heading.hide()
        self.search.setFocus()
        self.reload()

    def reload(self) -> None:
        self.refresh_button.setEnabled(False)
        self.ctx.runner.submit(self.ctx.desk.audit.list, self.limit, on_success=self._loaded,
                               on_error=self._failed, owner=self, description="Loading the audit log…")

    def _loaded(self, rows) -> None:
        self.refresh_button.setEnabled(True)
        self.table.set_empty_text("No audit entries yet", "No entries match the filter")
        self.table.set_rows(rows)
        self.loaded = True
        if self.table.current_row() is None and self.table.row_count():
            self.table.select_key(self.table.visible_rows()[0].id)
        self._update_count()

    def _failed(self, exc: BaseException) -> None:
        from giftdesk.gui.errors import ErrorRoute

        self.refresh_button.setEnabled(True)
        self.table.set_empty_text("The audit log could not be loaded")
        ErrorRoute.report(exc)

    def _apply_filter(self, text: str) -> None:
        self.table.set_filter_text(text)
        self._update_count()
        if self.table.current_row() is None:
            self._show_details(None)

    def _update_count(self) -> None:
        total, shown = len(self.table.rows), self.table.row_count()
        newest = f"newest {total}" if total >= self.limit else f"{total}"
        noun = "entry" if total == 1 else "entries"
        self.count_label.setText(f"{shown} of {newest} {noun}" if shown != total else f"{newest} {noun}")

    def _show_details(self, row) -> None:
        self.heading.setText(heading_html(row))
        self.heading.setVisible(row is not None)
        self.details.setPlainText(details_text(row))

    def _focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()
