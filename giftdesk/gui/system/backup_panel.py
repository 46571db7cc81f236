"""The Storage page's scheduled backups: the schedule, how many copies stay, the last result, the copies.

The schedule and the count are settings (``backup.schedule``, ``backup.keep``): the Settings dialog
saves them with the others, and ``desk.settings`` checks them. "Back up now" runs
``desk.scheduled_backups.run()`` in the job runner; the last result and the list of copies are read
there too. Only administrators may change the schedule or take a backup.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTime
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTimeEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from giftdesk.core.wording import age_text
from giftdesk.fleet.units import fmt_size
from giftdesk.gui import theme
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.timefmt import fmt_datetime
from giftdesk.system.scheduled_backups import WEEKDAYS, parse_schedule

SCHEDULE_KINDS = [("off", "Off"), ("daily", "Daily"), ("weekly", "Weekly")]
DAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
             "sat": "Saturday", "sun": "Sunday"}
KIND_NAMES = {"scheduled": "Scheduled", "manual": "Manual", "before-migration": "Before a migration",
              "before-restore": "Before a restore"}
ADMIN_ONLY = "Only an administrator can take backups."


class ScheduleEditor(QWidget):
    """off / daily at HH:MM / weekly on DAY at HH:MM, spelled as the ``backup.schedule`` setting takes it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        self.kind = QComboBox(self)
        self.kind.setObjectName("backup-schedule-kind")
        for value, text in SCHEDULE_KINDS:
            self.kind.addItem(text, value)
        self.on_label = QLabel("on", self)
        self.day = QComboBox(self)
        self.day.setObjectName("backup-day")
        for value in WEEKDAYS:
            self.day.addItem(DAY_NAMES[value], value)
        self.at_label = QLabel("at", self)
        self.time = QTimeEdit(QTime(2, 30), self)
        self.time.setObjectName("backup-time")
        self.time.setDisplayFormat("HH:mm")
        for widget in (self.kind, self.on_label, self.day, self.at_label, self.time):
            row.addWidget(widget)
        row.addStretch(1)
        self.kind.currentIndexChanged.connect(lambda _i: self._show_parts())
        self._show_parts()

    def _show_parts(self) -> None:
        kind = self.kind.currentData()
        self.on_label.setVisible(kind == "weekly")
        self.day.setVisible(kind == "weekly")
        self.at_label.setVisible(kind != "off")
        self.time.setVisible(kind != "off")

    def set_text(self, text: str) -> None:
        schedule = parse_schedule(text)
        self.kind.setCurrentIndex(max(self.kind.findData(schedule.kind), 0))
        if schedule.weekday:
            self.day.setCurrentIndex(max(self.day.findData(schedule.weekday), 0))
        if schedule.time:
            hours, minutes = (int(part) for part in schedule.time.split(":"))
            self.time.setTime(QTime(hours, minutes))
        self._show_parts()

    def text(self) -> str:
        kind = self.kind.currentData()
        if kind == "off":
            return "off"
        at = self.time.time().toString("HH:mm")
        return f"daily {at}" if kind == "daily" else f"weekly {self.day.currentData()} {at}"

    def set_editable(self, editable: bool) -> None:
        for widget in (self.kind, self.day, self.time):
            widget.setEnabled(editable)


class BackupsPanel(QWidget):
    """The last result, "Back up now" and the list of copies in the backups folder."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.can_back_up = ctx.desk.actor.can("admin")
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        row = QHBoxLayout()
        self.last_result = QLabel("Reading the last backup…", self)
        self.last_result.setObjectName("backup-last-result")
        self.last_result.setWordWrap(True)
        row.addWidget(self.last_result, 1)
        self.back_up_now = QPushButton(theme.icon("backup"), "Back up now", self)
        self.back_up_now.setObjectName("back-up-now")
        self.back_up_now.setEnabled(False)
        self.back_up_now.setToolTip("Take a scheduled backup now, verify it and prune the oldest copies"
                                    if self.can_back_up else ADMIN_ONLY)
        self.back_up_now.clicked.connect(self.run_now)
        row.addWidget(self.back_up_now)
        box.addLayout(row)
        self.copies = QTreeWidget(self)
        self.copies.setObjectName("backup-copies")
        self.copies.setRootIsDecorated(False)
        self.copies.setHeaderLabels(["Backup", "Kind", "Size", "Age"])
        self.copies.setMinimumHeight(110)
        header = self.copies.header()
        header.setStretchLastSection(True)
        for column in (0, 1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        box.addWidget(self.copies, 1)
        self.empty = QLabel("No backups in the backups folder yet.", self)
        self.empty.setProperty("role", "muted")
        box.addWidget(self.empty)
        self.empty.hide()

    def run_now(self) -> None:
        if not self.can_back_up:
            return
        self.back_up_now.setEnabled(False)
        self.last_result.setText("Backing up…")
        backups = self.ctx.desk.scheduled_backups

        def run():
            backups.run()  # a failure is a result, kept as the last one
            return backups.last_result(), backups.list()

        self.ctx.runner.submit(run, on_success=self.show_backups, on_error=self._failed, owner=self,
                               description="Backing up the database…")

    def _failed(self, exc: BaseException) -> None:
        self.back_up_now.setEnabled(self.can_back_up)
        self.last_result.setText("The backup could not be taken.")
        ErrorRoute.report(exc)

    def show_backups(self, result) -> None:
        """``(last result, copies)`` as read by the job runner, or the OSError that kept them unread."""
        if isinstance(result, OSError):
            self.back_up_now.setEnabled(self.can_back_up)
            self.last_result.setText(f"The backups folder could not be read: {result.strerror or result}")
            self.copies.hide()
            self.empty.hide()
            return
        last, files = result
        self.back_up_now.setEnabled(self.can_back_up)
        self.last_result.setProperty("role", "" if last is None or last.ok else "error")
        self.last_result.style().unpolish(self.last_result)
        self.last_result.style().polish(self.last_result)
        self.last_result.setText(last_result_text(last))
        self.last_result.setToolTip(f"Taken {fmt_datetime(last.at)}" if last is not None else "")
        self.copies.clear()
        for backup in files:
            item = QTreeWidgetItem([backup.path.name, KIND_NAMES.get(backup.kind, backup.kind),
                                    fmt_size(backup.bytes), age_text(backup.created)])
            item.setToolTip(0, str(backup.path))
            item.setToolTip(3, fmt_datetime(backup.created))
            self.copies.addTopLevelItem(item)
        self.copies.setVisible(bool(files))
        self.empty.setVisible(not files)


def last_result_text(last) -> str:
    if last is None:
        return "No scheduled backup has been taken yet."
    if last.ok:
        name = Path(last.path).name if last.path else "?"
        return f"Last backup {age_text(last.at)}: {name} ({fmt_size(last.bytes)})."
    return f"Last backup FAILED {age_text(last.at)}: {last.error}"
