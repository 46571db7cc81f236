"""Templates…: the saved settings for new instances, with their values; delete asks first.
Templates are saved from the create dialog ("Save as template…") or `giftdesk instance template-save`."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QVBoxLayout, QWidget

from giftdesk.core.errors import GiftDeskError
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.table import RIGHT, Column, RowTableView
from giftdesk.gui.widgets.list_dialog import ResultLine, closing_row, toolbar_row


def describe(settings) -> str:
    """One line for a template's settings (the create dialog's tooltip says the same)."""
    parts = [settings.image or "default image", f"network {settings.network}",
             f"on {settings.publish_address}", f"restart {settings.restart_policy}",
             f"{settings.memory_limit_mb} MiB" if settings.memory_limit_mb else "no memory limit",
             f"{settings.cpu_millis / 1000:g} CPU" if settings.cpu_millis else "no CPU limit"]
    if settings.debug_mode:
        parts.append("debug")
    return ", ".join(parts)


TEMPLATE_COLUMNS = [
    Column("Template", lambda t: t.name, width=150),
    Column("Image", lambda t: t.settings.image or "(Settings' default)", width=210),
    Column("Network", lambda t: t.settings.network, width=80),
    Column("Publish on", lambda t: t.settings.publish_address, width=90),
    Column("Restart", lambda t: t.settings.restart_policy, width=105),
    Column("Memory", lambda t: f"{t.settings.memory_limit_mb} MiB" if t.settings.memory_limit_mb else "no limit",
           align=RIGHT, width=75, sort=lambda t: t.settings.memory_limit_mb or 0),
    Column("CPU", lambda t: f"{t.settings.cpu_millis / 1000:g}" if t.settings.cpu_millis else "no limit",
           align=RIGHT, width=65, sort=lambda t: t.settings.cpu_millis or 0),
    Column("Debug", lambda t: "yes" if t.settings.debug_mode else "", stretch=True),
]


class TemplatesDialog(QDialog):
    changed = Signal()

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("templates-dialog")
        self.setWindowTitle("Instance templates")
        self.resize(860, 380)
        self.loads = 0
        layout = QVBoxLayout(self)
        intro = QLabel("Settings for new instances. Choose one in New… to fill the fields; save the dialog's "
                       "settings there with “Save as template…”. Deleting a template leaves the instances made "
                       "from it unchanged.")
        intro.setWordWrap(True)
        intro.setProperty("role", "muted")
        layout.addWidget(intro)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setObjectName("templates-delete")
        self.delete_button.setVisible(ctx.can_edit)
        layout.addLayout(toolbar_row((self.delete_button,)))
        self.table = RowTableView(TEMPLATE_COLUMNS, parent=self,
                                  empty_text="No templates yet — in New…, Save as template… keeps the settings")
        self.table.setObjectName("templates-table")
        layout.addWidget(self.table, 1)
        self.outcome = ResultLine("templates-outcome", selectable=True)
        layout.addLayout(closing_row(self.outcome, self))
        self.delete_button.clicked.connect(self.delete)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update())
        self._update()
        self.reload()

    def reload(self) -> None:
        self.ctx.runner.submit(self.ctx.desk.fleet.templates, owner=self, supersede="templates",
                               on_success=self._loaded, description="Loading templates…")

    def _loaded(self, rows) -> None:
        self.table.set_rows(rows)
        self.loads += 1
        self._update()

    def _update(self) -> None:
        self.delete_button.setEnabled(self.table.current_row() is not None and bool(self.table.selected_rows()))

    def delete(self) -> None:
        rows = self.table.selected_rows()
        if len(rows) != 1:
            return
        template = rows[0]
        if not Prompts.confirm(self, "Delete template", f"Delete the template '{template.name}' "
                               f"({describe(template.settings)})?\n\nInstances made from it keep their settings.",
                               destructive=True):
            return
        self.delete_button.setEnabled(False)

        def done(_result) -> None:
            self.outcome.say(f"Deleted the template '{template.name}'.", "success")
            self.changed.emit()
            self.reload()

        def failed(exc: BaseException) -> None:
            if not isinstance(exc, GiftDeskError):
                ErrorRoute.report(exc)
                return
            self.outcome.say(str(exc), "error")
            self.reload()

        self.ctx.runner.submit(self.ctx.desk.fleet.delete_template, template.id, owner=self, on_success=done,
                               on_error=failed, description="Deleting the template…")
