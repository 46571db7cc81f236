"""A Fampage service's rate history: a row each time a catalogue refresh saw its rate change
(``FampageService.rate_history``), newest first, with the change from the rate before."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from giftdesk.fampage.money import format_rate, is_package
from giftdesk.gui.table import RIGHT, Column, RowTableView


def _change(row, currency: str) -> str:
    """From the rate seen before: "+₹0.15 (+16.7 %)"."""
    if row["before"] is None:
        return "first seen"
    difference = row["rate"] - row["before"]
    if not difference:
        return "no change"
    percent = f" ({difference / row['before'] * 100:+.1f} %)" if row["before"] else ""
    return ("+" if difference > 0 else "-") + format_rate(abs(difference), currency) + percent


class RateHistoryDialog(QDialog):
    """Opened with a ServiceRow (``service``); loads its history off the GUI thread."""

    def __init__(self, ctx, service, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.service = service
        self.loaded = False
        self.setWindowTitle(f"Rate history — #{service.id}")
        self.resize(560, 380)
        unit = "pack" if is_package(service.type) else "1000"
        layout = QVBoxLayout(self)
        title = QLabel(f"#{service.id}  {service.name}", self)
        title.setProperty("role", "subheading")
        title.setWordWrap(True)
        self.summary = QLabel(f"Now {format_rate(service.rate, service.currency)} / {unit}", self)
        self.summary.setProperty("role", "muted")
        self.summary.setWordWrap(True)
        currency = service.currency
        self.table = RowTableView([
            Column("Seen", lambda r: f"{r['at'].astimezone():%Y-%m-%d %H:%M}", width=150, sort=lambda r: r["at"]),
            Column(f"Rate / {unit}", lambda r: format_rate(r["rate"], currency), align=RIGHT, width=140,
                   sort=lambda r: r["rate"]),
            Column("Change", lambda r: _change(r, currency), align=RIGHT, stretch=True),
        ], key=lambda r: r["at"], parent=self)
        self.table.setObjectName("rate-history")
        self.table.set_empty_text("Loading…")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(title)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        ctx.runner.submit(ctx.desk.fampage.rate_history, service.id, on_success=self._show, owner=self,
                          description="Loading the rate history…")

    def _show(self, history) -> None:
        rows = []
        before = None
        for at, rate in history:  # oldest first
            rows.append({"at": at, "rate": rate, "before": before})
            before = rate
        rows.reverse()
        self.table.set_empty_text("No rate recorded yet: a catalogue refresh records the first one")
        self.table.set_rows(rows)
        if len(rows) > 1:
            low, high = min(r["rate"] for r in rows), max(r["rate"] for r in rows)
            self.summary.setText(f"{self.summary.text()} · {len(rows)} rates seen, from "
                                 f"{format_rate(low, self.service.currency)} to "
                                 f"{format_rate(high, self.service.currency)}")
        self.loaded = True
