"""The integration log: every call to the Fampage API with its action, outcome and timing."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from giftdesk.gui import theme
from giftdesk.gui.fampage.view_support import FampageView, toolbar_row
from giftdesk.gui.table import RIGHT, Column, RowTableView, fmt_datetime

ACTIONS = ("services", "add", "status", "refill", "refill_status", "cancel", "balance")

CALL_COLUMNS = [
    Column("When", lambda c: fmt_datetime(c.at), sort=lambda c: c.at, width=140),
    Column("Action", lambda c: c.action, width=90),
    Column("Result", lambda c: "ok" if c.ok else "failed", width=60,
           foreground=lambda c: None if c.ok else QColor(theme.colors().error)),
    Column("HTTP", lambda c: c.http_status or "", sort=lambda c: c.http_status, align=RIGHT, width=50),
    Column("Time", lambda c: f"{c.duration_ms:,} ms", sort=lambda c: c.duration_ms, align=RIGHT, width=75),
    Column("Company", lambda c: c.company_id or "", sort=lambda c: c.company_id, align=RIGHT, width=70),
    Column("Parameters", lambda c: ", ".join(f"{k}={v}" for k, v in (c.params or {}).items()), width=260,
           tooltip=lambda c: ", ".join(f"{k}={v}" for k, v in (c.params or {}).items()) or None),
    Column("Answer or error", lambda c: (c.error or c.result or "").replace("\n", " ")[:300], stretch=True,
           tooltip=lambda c: (c.error or c.result or "")[:2000] or None),
]


class CallLogView(FampageView):
    """Every call to Fampage (parameters without the key) with filters by action, failure and company."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.action = QComboBox(self)
        self.action.setObjectName("log-action")
        self.action.addItem("All actions", None)
        for action in ACTIONS:
            self.action.addItem(action, action)
        self.failed = QCheckBox("Failed only", self)
        self.failed.setObjectName("log-failed")
        self.company = QComboBox(self)
        self.company.setObjectName("log-company")
        self.company.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.refresh_button = self._button("Refresh", "refresh", self.refresh, "Read the log again", "log-refresh")
        bar = QHBoxLayout()
        bar.addWidget(self.action)
        bar.addWidget(self.company)
        bar.addWidget(self.failed)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)
        self.table = RowTableView(CALL_COLUMNS, parent=self, settings_key="fampage-calls")
        self.table.setObjectName("fampage-calls")
        self.table.set_empty_text("No calls to Fampage yet", filtered="No call matches")
        self.count = QLabel(self)
        self.count.setProperty("role", "muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(toolbar_row(self, bar))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        self.action.currentIndexChanged.connect(lambda _i: self.refresh())
        self.company.currentIndexChanged.connect(lambda _i: self.refresh())
        self.failed.toggled.connect(lambda _on: self.refresh())

    def set_companies(self, companies) -> None:
        self.fill_companies(self.company, companies)

    def refresh(self) -> None:
        action, company_id = self.action.currentData(), self.company.currentData()
        ok = False if self.failed.isChecked() else None
        self._submit(lambda: self.ctx.desk.fampage.calls(action=action, ok=ok, company_id=company_id, limit=1000),
                     on_success=self._show, supersede="list", description="Loading the Fampage log…")

    def _show(self, rows) -> None:
        self.table.set_rows(rows)
        failed = sum(1 for r in rows if not r.ok)
        self.count.setText(f"{len(rows):,} call{'s' if len(rows) != 1 else ''} (newest 1,000 at most)"
                           + (f" · {failed} failed" if failed else ""))
        self.loads += 1
