"""Helpers every view of the Fampage Orders tab shares: money and date widgets, the toolbar row, ``FampageView``.

Each view is Qt only: it asks ``desk.companies``, ``desk.invoices``, ``desk.invoice_documents``,
``desk.analytics``, ``desk.orders`` and ``desk.fampage`` through ``ctx.runner`` (file work included:
PDFs are rendered and written on a worker thread) and shows rows. One module per view; the tab
itself is ``orders_tab``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QWidget,
)

from giftdesk.core.operations import Operation
from giftdesk.fampage.money import format_money
from giftdesk.gui import theme

ANY_DATE = QDate(2000, 1, 1)  # a date edit at its minimum shows "Any"
SAVE_AS, COPY_PATH = "Save as…", "Copy path"
INVOICE_STATUSES = ("draft", "sent", "paid", "void", "overdue")


def money_text(value: Decimal | None, currency: str) -> str:
    return "" if value is None else format_money(value, currency)


def signed_color(value: Decimal | None):
    if not value:
        return None
    c = theme.colors()
    return QColor(c.success if value > 0 else c.error)


def date_edit(parent: QWidget, name: str, tip: str) -> QDateEdit:
    """A date with a calendar; its minimum reads "Any" (no bound)."""
    edit = QDateEdit(parent)
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMinimumDate(ANY_DATE)
    edit.setSpecialValueText("Any")
    edit.setDate(ANY_DATE)
    edit.setToolTip(tip)
    edit.setFixedWidth(edit.fontMetrics().horizontalAdvance("2026-12-31") + 44)
    return edit


def date_of(edit: QDateEdit) -> date | None:
    value = edit.date()
    return None if value == ANY_DATE else date(value.year(), value.month(), value.day())


def toolbar_row(parent: QWidget, layout: QHBoxLayout) -> QScrollArea:
    """A row of filters or buttons that scrolls sideways in a narrow window instead of widening it."""
    holder = QWidget(parent)
    layout.setContentsMargins(0, 0, 0, 0)
    holder.setLayout(layout)
    area = QScrollArea(parent)
    area.setWidget(holder)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    area.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    area.setFixedHeight(holder.sizeHint().height() + 2)
    area.setMinimumWidth(200)
    area.setStyleSheet("QScrollArea { background: transparent; } QScrollArea > QWidget > QWidget "
                       "{ background: transparent; }")
    return area


def viewer_tip(tip: str) -> str:
    return f"{tip}. Viewers cannot do this: it needs the operator role."


class FampageView(QWidget):
    """What the views share: the runner with this view as owner, buttons, a debounce timer."""

    message = Signal(str)
    dialog = None  # the last dialog the view opened (tests reach it here)

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.can_edit = ctx.can_edit
        self.loads = 0  # finished loads (tests wait on it)
        self.currency = ctx.desk.settings.get("invoice.currency")

    def _submit(self, fn, *args, on_success=None, on_error=None, supersede: str | None = None,
                description: str):
        return self.ctx.runner.submit(fn, *args, on_success=on_success, on_error=on_error, owner=self,
                                      supersede=(self, supersede) if supersede else None, description=description)

    def _run(self, operation: Operation, fn, *args, target=None, on_success=None, on_error=None):
        return self.ctx.runner.run(operation, fn, *args, target=target, on_success=on_success, on_error=on_error,
                                   owner=self)

    def _button(self, text: str, icon_name: str | None, slot, tip: str, name: str | None = None,
                changes: bool = False) -> QPushButton:
        """``changes``: the button changes data, so a viewer sees it disabled and is told why."""
        button = QPushButton(theme.icon(icon_name), text, self) if icon_name else QPushButton(text, self)
        button.setToolTip(viewer_tip(tip) if changes and not self.can_edit else tip)
        button.setObjectName(name or text.lower().rstrip("…").replace(" ", "-"))
        button.clicked.connect(lambda _checked=False: slot())
        return button

    def ask_save_path(self, title: str, suggested: str, file_filter: str) -> str | None:
        """Where to write a file (tests replace this; a person picks in the file dialog)."""
        path, _ = QFileDialog.getSaveFileName(self, title, suggested, file_filter)
        return path or None

    def fill_companies(self, combo: QComboBox, companies, first: str = "All companies") -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(first, None)
        for company in companies:
            combo.addItem(company.name + (" (archived)" if company.archived else ""), company.id)
        index = combo.findData(current)
        combo.setCurrentIndex(max(0, index))
        combo.blockSignals(False)
