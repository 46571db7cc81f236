"""The window's alert list (File → Alerts…): open alerts first, acknowledge or snooze them, and see
what each rule's webhook did. The rules themselves are set with ``giftdesk alert rule …``.

Loaded in the job runner (``desk.alerts.list``), reloaded when the runtime raises or resolves an
alert; acknowledging and snoozing run on the alert's lane. Operators and admins act; viewers read.
"""

from __future__ import annotations

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from giftdesk.alerts.events import AlertRaised, AlertResolved
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.system.audit_log import fmt_when
from giftdesk.gui.table import Column, RowTableView

SNOOZES = ((15, "15 minutes"), (60, "1 hour"), (240, "4 hours"), (24 * 60, "1 day"))
_ORDER = {"open": 0, "acknowledged": 1, "snoozed": 2, "resolved": 3}


class AlertsDialog(QDialog):
    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Alerts")
        self.setMinimumSize(900, 460)
        layout = QVBoxLayout(self)
        layout.setSpacing(8)

        top = QHBoxLayout()
        self.show_resolved = QCheckBox("Show &resolved", self)
        self.show_resolved.setObjectName("alerts-show-resolved")
        self.show_resolved.toggled.connect(lambda _on: self.reload())
        top.addWidget(self.show_resolved)
        top.addStretch(1)
        self.count_label = QLabel("", self)
        self.count_label.setProperty("role", "muted")
        top.addWidget(self.count_label)
        self.ack_button = QPushButton("&Acknowledge", self)
        self.ack_button.setObjectName("alerts-ack")
        self.ack_button.clicked.connect(lambda _checked=False: self.acknowledge())
        top.addWidget(self.ack_button)
        self.snooze_button = QToolButton(self)
        self.snooze_button.setObjectName("alerts-snooze")
        self.snooze_button.setText("&Snooze")
        self.snooze_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.snooze_button)
        for minutes, label in SNOOZES:
            action = menu.addAction(f"For {label}")
            action.setObjectName(f"snooze-{minutes}")
            action.triggered.connect(lambda _checked=False, m=minutes: self.snooze(m))
        self.snooze_button.setMenu(menu)
        top.addWidget(self.snooze_button)
        layout.addLayout(top)

        columns = [
            Column("Opened", lambda r: fmt_when(r.opened_at), sort=lambda r: r.opened_at, width=150),
            Column("State", lambda r: r.state(), sort=lambda r: _ORDER[r.state()], width=100),
            Column("Rule", lambda r: r.rule_name, tooltip=lambda r: r.kind, width=140),
            Column("Subject", lambda r: r.subject, width=170),
            Column("What happened", lambda r: r.message, tooltip=lambda r: r.message, stretch=True),
            Column("Webhook", lambda r: r.webhook_state(), tooltip=lambda r: r.webhook_state(), width=120),
        ]
        self.table = RowTableView(columns, key=lambda r: r.id, parent=self, empty_text="Loading…",
                                  settings_key="alerts")
        self.table.setObjectName("alerts-table")
        self.table.current_changed.connect(lambda _row: self._update_actions())
        layout.addWidget(self.table, 1)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self, self.reload)
        ctx.bridge.subscribe(AlertRaised, lambda _e: self.reload(), owner=self)
        ctx.bridge.subscribe(AlertResolved, lambda _e: self.reload(), owner=self)
        self._update_actions()
        self.reload()

    # ---- loading ---------------------------------------------------------------------------
    def reload(self) -> None:
        self.ctx.runner.submit(self.ctx.desk.alerts.list, not self.show_resolved.isChecked(),
                               on_success=self._loaded, on_error=self._failed, owner=self,
                               supersede="alerts.list", description="Loading alerts…")

    def _loaded(self, rows) -> None:
        self.table.set_empty_text("No open alerts" if not self.show_resolved.isChecked() else "No alerts yet")
        self.table.set_rows(sorted(rows, key=lambda r: (_ORDER[r.state()], -r.opened_at.timestamp())))
        open_count = sum(r.is_open for r in rows)
        self.count_label.setText(f"{open_count} open" + ("" if not self.show_resolved.isChecked()
                                                          else f" · {len(rows)} in all"))
        self._update_actions()

    def _failed(self, exc: BaseException) -> None:
        self.table.set_empty_text("The alerts could not be loaded")
        ErrorRoute.report(exc)

    # ---- actions ---------------------------------------------------------------------------
    def _update_actions(self) -> None:
        row = self.table.current_row()
        can_act = self.ctx.desk.actor.can("operator")
        why = ("" if can_act else "Operators and admins act on alerts; a viewer reads them")
        if can_act and (row is None or not row.is_open):
            why = "Select an open alert"
        self.ack_button.setEnabled(not why and row.acknowledged_at is None)
        self.ack_button.setToolTip(why or ("Acknowledged already" if row.acknowledged_at else
                                           "Someone is on it: the alert stays open until its condition ends"))
        self.snooze_button.setEnabled(not why)
        self.snooze_button.setToolTip(why or "No notification for this rule and subject until then")

    def acknowledge(self) -> None:
        row = self.table.current_row()
        if row is None:
            return
        self.ctx.runner.submit(self.ctx.desk.alerts.ack, row.id, on_success=lambda _r: self.reload(),
                               on_error=ErrorRoute.report, owner=self, lane=("alert", row.id),
                               description="Acknowledging the alert…")

    def snooze(self, minutes: int) -> None:
        row = self.table.current_row()
        if row is None:
            return
        self.ctx.runner.submit(self.ctx.desk.alerts.snooze, row.id, minutes, on_success=lambda _r: self.reload(),
                               on_error=ErrorRoute.report, owner=self, lane=("alert", row.id),
                               description="Snoozing the alert…")
