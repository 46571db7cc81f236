"""Reconcile with the engines: records whose container is gone (recreate them) and labelled
containers without a record on any engine (adopt or remove them, on the engine they are on). The
engines are read off the GUI thread; nothing is removed unless the user confirms it, naming the
container and its engine."""

from __future__ import annotations

from datetime import datetime, timezone

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget)

from giftdesk.core.errors import GiftDeskError, ValidationError
from giftdesk.fleet.engines import shown_name
from giftdesk.gui import theme
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.table import RIGHT, Column, RowTableView
from giftdesk.gui.widgets.list_dialog import ResultLine, closing_row, toolbar_row


def _ago(when: datetime | None) -> str:
    if when is None:
        return ""
    seconds = max(0, int((datetime.now(timezone.utc) - when).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def _state_color(state: str):
    c = theme.colors()
    color = {"running": c.success, "restarting": c.warning, "dead": c.error}.get(state)
    return QColor(color) if color else None


def _origin_tip(origin: str) -> str:
    if origin == "orphan":
        return "A tracker container without a record: adopt it to manage it, or remove it"
    return (f"This container was {origin} that a console did not live to finish (its identity belongs to no "
            "record): adopt it to keep it, or remove it")


MISSING_COLUMNS = [
    Column("Instance", lambda r: r.name, width=170),
    Column("TikTok", lambda r: f"@{r.tiktok_username}", width=140),
    Column("Customer", lambda r: r.customer_name or "", width=140),
    Column("Port", lambda r: r.port, align=RIGHT, width=60),
    Column("Image", lambda r: r.image, stretch=True),
]


def _account_text(hint, usernames: dict[int, str]) -> str:
    if hint.account_id is not None:
        return f"@{usernames.get(hint.account_id, hint.username)}"
    if hint.username:
        return f"@{hint.username} (no such account here)"
    return "—"


class ReconcileDialog(QDialog):
    changed = Signal()  # records or containers changed: the tab reloads

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.fleet = ctx.desk.fleet
        self.setObjectName("reconcile-dialog")
        self.setWindowTitle("Reconcile with the engines")
        self.resize(900, 560)
        self.result = None  # the last Reconciliation
        self.hints: list = []
        self.usernames: dict[int, str] = {}
        self.loads = 0  # finished checks (tests wait on it)
        self.adopt_dialog: AdoptDialog | None = None
        can = ctx.can_edit

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.status = QLabel("Checking the engines…")
        self.status.setObjectName("reconcile-status")
        self.status.setWordWrap(True)
        self.refresh_button = QPushButton("Check again")
        self.refresh_button.setObjectName("reconcile-refresh")
        top.addWidget(self.status, 1)
        top.addWidget(self.refresh_button)
        layout.addLayout(top)

        self.pages = QStackedWidget()
        layout.addWidget(self.pages, 1)
        lists = QWidget()
        lists_layout = QVBoxLayout(lists)
        lists_layout.setContentsMargins(0, 0, 0, 0)
        self.missing_heading = QLabel("")
        self.missing_heading.setProperty("role", "subheading")
        lists_layout.addWidget(self.missing_heading)
        note = QLabel("Their container was removed outside GiftDesk. Recreate makes a new one from the record, "
                      "with the account's current key.")
        note.setProperty("role", "muted")
        note.setWordWrap(True)
        lists_layout.addWidget(note)
        self.missing_table = RowTableView(MISSING_COLUMNS, parent=self, multi_select=True,
                                          empty_text="Every record has its container")
        self.missing_table.setObjectName("reconcile-missing")
        lists_layout.addWidget(self.missing_table, 1)
        self.recreate_button = QPushButton("Recreate selected")
        self.recreate_button.setObjectName("reconcile-recreate")
        self.recreate_all_button = QPushButton("Recreate all")
        self.recreate_all_button.setObjectName("reconcile-recreate-all")
        lists_layout.addLayout(toolbar_row((), (self.recreate_button, self.recreate_all_button)))

        self.orphan_heading = QLabel("")
        self.orphan_heading.setProperty("role", "subheading")
        lists_layout.addSpacing(8)
        lists_layout.addWidget(self.orphan_heading)
        note = QLabel("Containers labelled app=gift-tracker that no instance record owns. Adopt makes one an "
                      "instance (recreated under GiftDesk's labels with the account's key); Remove deletes it.")
        note.setProperty("role", "muted")
        note.setWordWrap(True)
        lists_layout.addWidget(note)
        self.orphan_table = RowTableView(self._orphan_columns(), key=lambda h: h.container.id, parent=self,
                                         multi_select=True, empty_text="No orphan containers")
        self.orphan_table.setObjectName("reconcile-orphans")
        lists_layout.addWidget(self.orphan_table, 1)
        self.adopt_button = QPushButton("Adopt…")
        self.adopt_button.setObjectName("reconcile-adopt")
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setObjectName("reconcile-remove")
        lists_layout.addLayout(toolbar_row((), (self.adopt_button, self.remove_button)))
        self.pages.addWidget(lists)

        self.all_clear = QLabel("✓  The fleet matches the engines\n\nEvery instance record has its container, and "
                                "no gift-tracker container is without a record.")
        self.all_clear.setObjectName("reconcile-all-clear")
        self.all_clear.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.all_clear.setWordWrap(True)
        self.all_clear.setProperty("role", "success")  # the theme's colour, light or dark
        self.all_clear.setStyleSheet("font-size: 13pt;")
        self.pages.addWidget(self.all_clear)

        self.outcome = ResultLine("reconcile-outcome", selectable=True)
        layout.addLayout(closing_row(self.outcome, self))

        self.refresh_button.clicked.connect(self.refresh)
        self.recreate_button.clicked.connect(lambda: self.recreate([r.id for r in self.missing_table.selected_rows()]))
        self.recreate_all_button.clicked.connect(lambda: self.recreate([r.id for r in self.missing_table.rows]))
        self.adopt_button.clicked.connect(self.adopt)
        self.remove_button.clicked.connect(self.remove)
        self.missing_table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        self.orphan_table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        for button in (self.recreate_button, self.recreate_all_button, self.adopt_button, self.remove_button):
            button.setVisible(can)
        self._busy = False
        self._update_buttons()
        self.refresh()

    def _orphan_columns(self) -> list[Column]:
        return [
            Column("Container", lambda h: h.container.name, width=195, tooltip=lambda h: h.container.id[:12]),
            # Shown once the check asked more than the local engine.
            Column("Engine", lambda h: shown_name(h.engine), width=80, hidden=True),
            Column("Image", lambda h: h.container.image, width=180),
            Column("State", lambda h: h.container.state, width=85,
                   foreground=lambda h: _state_color(h.container.state)),
            Column("Created", lambda h: _ago(h.container.created), width=90, sort=lambda h: h.container.created,
                   tooltip=lambda h: f"{h.container.created.astimezone():%Y-%m-%d %H:%M:%S}"),
            Column("Account", lambda h: _account_text(h, self.usernames), stretch=True,
                   tooltip=lambda h: "The TikTok account its environment names"),
            Column("Origin", lambda h: "interrupted create" if self._origin(h) != "orphan" else "orphan", width=150,
                   tooltip=lambda h: _origin_tip(self._origin(h)),
                   foreground=lambda h: QColor(theme.colors().warning) if self._origin(h) != "orphan" else None),
        ]

    def _origin(self, hint) -> str:
        return self.result.origin(hint.container) if self.result is not None else "orphan"

    # ---- loading ----------------------------------------------------------------------------
    def refresh(self) -> None:
        self.status.setText("Checking the engines…")
        self.refresh_button.setEnabled(False)
        fleet = self.fleet
        desk = self.ctx.desk

        def check():
            result = fleet.reconcile()
            hints = fleet.adoption_hints(result.orphans, result.engine_of)
            usernames = {a.id: a.username for a in desk.customers.list_accounts()}
            return result, hints, usernames

        self.ctx.runner.submit(check, owner=self, supersede="reconcile", on_success=self._show,
                               on_error=self._check_failed, description="Reconciling with the engines…")

    def _show(self, loaded) -> None:
        result, hints, usernames = loaded
        self.result, self.hints, self.usernames = result, hints, usernames
        self.refresh_button.setEnabled(True)
        self.missing_table.set_empty_text("Every record has its container")
        self.orphan_table.set_empty_text("No orphan containers")
        self.missing_table.set_rows(result.missing)
        self.orphan_table.set_rows(hints)
        self.missing_heading.setText(f"Records whose container is missing ({len(result.missing)})")
        self.orphan_heading.setText(f"Orphan containers ({len(hints)})")
        several = len(result.engines) > 1
        column = next(i for i, c in enumerate(self.orphan_table.source.columns) if c.title == "Engine")
        if several != self.orphan_table.column_visible(column):
            self.orphan_table.set_column_visible(column, several)
            self.orphan_table.fit_columns()
        clear = not result.missing and not hints and not result.unreachable
        self.pages.setCurrentWidget(self.all_clear if clear else self.pages.widget(0))
        parts = [f"{len(result.missing)} missing", f"{len(hints)} orphan{'s' if len(hints) != 1 else ''}"]
        if result.relinked:
            parts.append(f"{len(result.relinked)} relinked ({', '.join(r.name for r in result.relinked)})")
        if result.recovered:
            parts.append(f"{len(result.recovered)} interrupted operation{'s' if len(result.recovered) != 1 else ''} "
                         "finished or undone")
        down = ""
        if result.unreachable:
            names = ", ".join(f"'{shown_name(e)}'" for e in result.unreachable)
            down = f" Not answering: {names} (orphans there are not known; records there are left as they are)."
        self.status.setText(f"Checked at {datetime.now():%H:%M:%S}: " + ", ".join(parts) + "." + down)
        self.loads += 1
        self._update_buttons()
        if result.relinked or result.missing:
            self.changed.emit()

    def _check_failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        if not isinstance(exc, GiftDeskError):
            ErrorRoute.report(exc)
        # What was listed before may no longer be true: show nothing rather than an old answer.
        self.result, self.hints = None, []
        self.missing_table.set_empty_text("Not known: the local Docker engine did not answer")
        self.orphan_table.set_empty_text("Not known: the local Docker engine did not answer")
        self.missing_table.set_rows([])
        self.orphan_table.set_rows([])
        self.pages.setCurrentIndex(0)
        self.status.setText(f"Could not check the local Docker engine: {exc}")
        self.loads += 1
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = not self._busy
        missing = len(self.missing_table.selected_rows())
        orphans = len(self.orphan_table.selected_rows())
        self.recreate_button.setEnabled(idle and missing > 0)
        self.recreate_all_button.setEnabled(idle and self.missing_table.row_count() > 0)
        self.adopt_button.setEnabled(idle and orphans == 1)
        self.remove_button.setEnabled(idle and orphans > 0)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_buttons()

    def _report(self, text: str, error: bool = False) -> None:
        self.outcome.say(text, "error" if error else "success")

    def _after_change(self, text: str, error: bool = False) -> None:
        self._set_busy(False)
        self._report(text, error)
        self.changed.emit()
        self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if not isinstance(exc, GiftDeskError):
            ErrorRoute.report(exc)
            return
        self._report(str(exc), error=True)
        self.refresh()

    # ---- actions ----------------------------------------------------------------------------
    def recreate(self, ids: list[int]) -> None:
        if not ids or self._busy:
            return
        self._set_busy(True)
        fleet = self.fleet

        def done(results) -> None:
            ok = [r.name for r in results if r.ok]
            failed = [f"{r.where}: {r.message}" for r in results if not r.ok]
            text = f"Recreated {', '.join(ok)}." if ok else ""
            if failed:
                text = (text + " " if text else "") + "Could not recreate " + "; ".join(failed)
            self._after_change(text, error=bool(failed))

        self.ctx.runner.submit(lambda: fleet.bulk("recreate", ids), owner=self, on_success=done,
                               on_error=self._failed, description=f"Recreating {len(ids)} container(s)…")

    def adopt(self) -> None:
        hints = self.orphan_table.selected_rows()
        if len(hints) != 1 or self._busy:
            return
        self.adopt_dialog = AdoptDialog(self.ctx, hints[0], parent=self)
        self.adopt_dialog.adopted.connect(
            lambda row, h=hints[0]: self._after_change(
                f"Adopted {h.container.name} as instance '{row.name}'"
                + (f" on the engine '{row.engine}'" if row.engine else "") + f" on port {row.port}."))
        self.adopt_dialog.open()

    def remove(self) -> None:
        hints = self.orphan_table.selected_rows()
        if not hints or self._busy:
            return
        named = "\n".join(f"• {h.container.name} ({h.container.image}, {h.container.state}, {h.container.id[:12]}"
                          + (f", on the engine '{h.engine}'" if h.engine else "") + ")" for h in hints)
        if not Prompts.confirm(self, "Remove orphan containers" if len(hints) > 1 else "Remove orphan container",
                               f"Remove {'these containers' if len(hints) > 1 else 'this container'} from the "
                               f"Docker engine?\n\n{named}\n\nNo instance record owns "
                               f"{'them' if len(hints) > 1 else 'it'}; a removed container cannot be brought back.",
                               destructive=True, confirm_text="Remove"):
            return
        self._set_busy(True)
        fleet = self.fleet
        ids = [(h.container.id, h.engine) for h in hints]

        def run():
            removed, failed = [], []
            for container_id, engine in ids:
                try:
                    removed.append(fleet.remove_orphan(container_id, engine=engine).name)
                except GiftDeskError as exc:
                    failed.append(f"{container_id[:12]}: {exc}")
            return removed, failed

        def done(outcome) -> None:
            removed, failed = outcome
            text = f"Removed {', '.join(removed)}." if removed else ""
            if failed:
                text = (text + " " if text else "") + "Could not remove " + "; ".join(failed)
            self._after_change(text, error=bool(failed))

        self.ctx.runner.submit(run, owner=self, on_success=done, on_error=self._failed,
                               description="Removing orphan containers…")


class AdoptDialog(QDialog):
    """Adopt one orphan: its instance name and TikTok account, prefilled from its labels and
    environment; each validation error shows under its field and the orphan stays untouched."""

    adopted = Signal(object)  # InstanceRow

    def __init__(self, ctx, hint, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.hint = hint
        self.setObjectName("adopt-dialog")
        self.setWindowTitle(f"Adopt {hint.container.name}")
        self.setMinimumWidth(500)
        layout = QVBoxLayout(self)
        intro = QLabel(f"<b>{hint.container.name}</b> ({hint.container.image}, {hint.container.state}) becomes a "
                       "GiftDesk instance: a new container with GiftDesk's labels and the account's key replaces it"
                       + (f" on the engine '{hint.engine}'" if hint.engine else "")
                       + (f", on port {hint.port}" if hint.port else "") + ".")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.name = QLineEdit(hint.name)
        self.name.setObjectName("adopt-name")
        self.account = QComboBox()
        self.account.setObjectName("adopt-account")
        self.account.addItem("Choose the TikTok account…", None)
        self.account.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.account.setMinimumContentsLength(30)
        self.field_errors: dict[str, QLabel] = {}
        for key, label, widget in (("name", "Instance name", self.name), ("account", "TikTok account", self.account)):
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(widget)
            error = QLabel("")
            error.setObjectName(f"adopt-{key}-error")
            error.setProperty("role", "error")
            error.setWordWrap(True)
            error.hide()
            box.addWidget(error)
            self.field_errors[key] = error
            form.addRow(label, box)
        layout.addLayout(form)
        self.error = QLabel("")
        self.error.setObjectName("adopt-error")
        self.error.setProperty("role", "error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Adopt")
        self.ok_button.setObjectName("adopt-ok")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(lambda: self._clear("name"))
        self.account.currentIndexChanged.connect(lambda: self._clear("account"))
        self.loaded = False
        desk = ctx.desk
        ctx.runner.submit(lambda: (desk.customers.list_accounts(), {c.id: c.name for c in desk.customers.list()}),
                          owner=self, on_success=self._fill, description="Loading accounts…")

    def _fill(self, loaded) -> None:
        accounts, customers = loaded
        for account in sorted(accounts, key=lambda a: a.username.lower()):
            self.account.addItem(f"@{account.username} ({customers.get(account.customer_id, '?')})", account.id)
        if self.hint.account_id is not None:
            self.account.setCurrentIndex(max(0, self.account.findData(self.hint.account_id)))
        self.loaded = True

    def _clear(self, key: str) -> None:
        self.field_errors[key].hide()
        self.error.hide()

    def submit(self) -> None:
        for label in (*self.field_errors.values(), self.error):
            label.hide()
        account_id = self.account.currentData()
        if account_id is None:
            return self._show("Choose the TikTok account this tracker counts gifts for.", "account")
        self.ok_button.setEnabled(False)
        self.ctx.runner.submit(self.ctx.desk.fleet.adopt, self.hint.container.id, account_id=account_id,
                               name=self.name.text(), engine=self.hint.engine, owner=self, on_success=self._done, on_error=self._failed,
                               description=f"Adopting {self.hint.container.name}…")

    def _show(self, message: str, field: str | None) -> None:
        label = self.field_errors.get(field or "", self.error)
        label.setText(message)
        label.show()
        widget = {"name": self.name, "account": self.account}.get(field or "")
        if widget is not None:
            widget.setFocus()
        self.adjustSize()

    def _done(self, row) -> None:
        self.adopted.emit(row)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.ok_button.setEnabled(True)
        if not isinstance(exc, GiftDeskError):
            ErrorRoute.report(exc)
            return
        self._show(str(exc), exc.field if isinstance(exc, ValidationError) else None)
