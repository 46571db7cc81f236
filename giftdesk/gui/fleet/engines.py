"""The Engines page: every Docker engine the trackers run on (the local one first), and adding,
testing, editing and removing the named ones.

Everything goes through ``giftdesk.fleet.engines.EngineService`` (the same calls as ``giftdesk
engine …``), in the job runner: the list asks every engine at once, and adding or editing tests
the connection before anything is stored. A refusal is the service's sentence, shown in the
dialog; nothing is stored then. Only an administrator changes engines; the others see the list.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from giftdesk.core.errors import ConflictError, GiftDeskError
from giftdesk.fleet.engines import EngineRow, EngineStatus
from giftdesk.fleet.events import EnginesChanged, InstancesChanged
from giftdesk.gui import theme
from giftdesk.gui.prompts import Prompts
from giftdesk.gui.table import RIGHT, Column, RowTableView
from giftdesk.gui.widgets.list_dialog import ResultLine, closing_row, toolbar_row

ADMIN_ONLY = "Only an administrator can add, edit or remove Docker engines"


def _reachable_color(status: EngineStatus) -> QColor:
    c = theme.colors()
    return QColor(c.success if status.reachable else c.error)


COLUMNS = [
    Column("Name", lambda s: s.name, width=120,
           tooltip=lambda s: "The configured engine (File → Settings → Docker host)" if s.engine.local else None),
    Column("Host", lambda s: s.engine.host, width=260,
           tooltip=lambda s: f"Docker context {s.engine.context}" if s.engine.context else None),
    Column("Reachable", lambda s: "yes" if s.reachable else "no", width=84, foreground=_reachable_color,
           tooltip=lambda s: s.error or None),
    Column("Version", lambda s: s.version, width=90),
    Column("Swarm", lambda s: s.swarm or ("" if not s.reachable else "unknown"), width=90),
    Column("TLS", lambda s: "mutual TLS" if s.engine.tls else "", width=90),
    Column("Instances", lambda s: s.instances, align=RIGHT, width=80),
    Column("Backend URL", lambda s: s.engine.backend_url or "", stretch=True),
]


class EnginesDialog(QDialog):
    changed = Signal()  # an engine was added, edited or removed

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.engines = ctx.desk.fleet.engines
        self.dialog: EngineDialog | None = None  # the last add/edit dialog (tests reach it here)
        self.setWindowTitle("Docker engines")
        self.setObjectName("engines-dialog")
        self.resize(980, 380)
        layout = QVBoxLayout(self)

        self.add_button = QPushButton("Add…")
        self.add_button.setObjectName("engines-add")
        self.test_button = QPushButton("Test")
        self.test_button.setObjectName("engines-test")
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setObjectName("engines-edit")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("engines-remove")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("engines-refresh")
        layout.addLayout(toolbar_row((self.add_button, self.test_button, self.edit_button, self.remove_button),
                                     (self.refresh_button,)))

        self.table = RowTableView(COLUMNS, key=lambda s: s.name, parent=self, empty_text="Asking the engines…",
                                  settings_key="engines")
        self.table.setObjectName("engines-table")
        layout.addWidget(self.table, 1)
        self.result = ResultLine("engines-result", selectable=True)
        layout.addLayout(closing_row(self.result, self))

        self.add_button.clicked.connect(self.open_add)
        self.edit_button.clicked.connect(self.open_edit)
        self.test_button.clicked.connect(self.test_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.refresh_button.clicked.connect(self.refresh)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._selection_changed())
        self.table.row_activated.connect(lambda _s: self.open_edit())
        ctx.bridge.subscribe(EnginesChanged, lambda _e: self.refresh(), owner=self)
        ctx.bridge.subscribe(InstancesChanged, lambda _e: self.refresh(), owner=self)
        self._update_buttons()
        self.refresh()

    # ---- the list -------------------------------------------------------------------------
    @property
    def loading(self) -> bool:
        return not self.refresh_button.isEnabled()

    def refresh(self) -> None:
        self.refresh_button.setEnabled(False)
        self.ctx.runner.submit(self.engines.statuses, owner=self, supersede="engines.list", on_success=self._loaded,
                               on_error=self._load_failed, description="Asking the Docker engines…")

    def _loaded(self, statuses: list[EngineStatus]) -> None:
        self.refresh_button.setEnabled(True)
        self.table.set_rows(statuses)
        self.table.fit_columns()
        if not self.table.selected_rows():
            self.table.select_key(statuses[0].name if statuses else None)
        self._update_buttons()

    def _load_failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        if not isinstance(exc, GiftDeskError):
            self.ctx.report(exc)
            return
        self.table.set_rows([])
        self.table.set_empty_text(f"{exc}\nRefresh asks again.")

    def selected(self) -> EngineStatus | None:
        rows = self.table.selected_rows()
        return rows[0] if rows else None

    def _selection_changed(self) -> None:
        self._update_buttons()
        chosen = self.selected()
        if chosen is not None and not chosen.reachable:  # why it does not answer, in full
            self.result.say(f"✗ The engine '{chosen.name}' does not answer: {chosen.error}", "error")

    def _update_buttons(self) -> None:
        admin = self.ctx.desk.actor.can("admin")
        chosen = self.selected()
        named = chosen is not None and not chosen.engine.local
        self.add_button.setEnabled(admin)
        self.edit_button.setEnabled(admin and named)
        self.remove_button.setEnabled(admin and named)
        self.test_button.setEnabled(chosen is not None)
        if not admin:
            for button in (self.add_button, self.edit_button, self.remove_button):
                button.setToolTip(ADMIN_ONLY)
        else:
            local = "The local engine is set in File → Settings (Docker host), not here"
            self.add_button.setToolTip("Add an engine reached over TLS, ssh, a socket or a Docker context; "
                                       "the connection is tested before it is stored")
            self.edit_button.setToolTip(local if chosen is not None and not named else "")
            self.remove_button.setToolTip(local if chosen is not None and not named else
                                          "Refused while instances live there")

    # ---- actions --------------------------------------------------------------------------
    def test_selected(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        self.test_button.setEnabled(False)
        self.result.say(f"Testing the engine '{chosen.name}'…", "muted")
        self.ctx.runner.submit(self.engines.status, chosen.name, owner=self, supersede="engines.test",
                               on_success=self._tested, on_error=self._test_failed,
                               description=f"Testing the engine {chosen.name}…")

    def _tested(self, status: EngineStatus) -> None:
        self._update_buttons()
        self.table.upsert_rows([status])
        self.result.say(("✓ " if status.reachable else "✗ ") + (status.sentence or "It does not answer."),
                  "success" if status.reachable else "error")

    def _test_failed(self, exc: BaseException) -> None:
        self._update_buttons()
        if isinstance(exc, GiftDeskError):
            self.result.say(f"✗ {exc}", "error")
        else:
            self.ctx.report(exc)

    def open_add(self) -> None:
        self._open(EngineDialog(self.ctx, parent=self))

    def open_edit(self) -> None:
        chosen = self.selected()
        if chosen is None or chosen.engine.local or not self.ctx.desk.actor.can("admin"):
            return
        self._open(EngineDialog(self.ctx, chosen.engine, parent=self))

    def _open(self, dialog: "EngineDialog") -> None:
        self.dialog = dialog
        dialog.saved.connect(self._saved)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def _saved(self, status: EngineStatus) -> None:
        self.result.say(f"✓ {status.sentence}", "success")
        self.changed.emit()
        self.refresh()

    def remove_selected(self) -> None:
        chosen = self.selected()
        if chosen is None or chosen.engine.local:
            return
        if not Prompts.confirm(self, "Remove engine", f"Remove the engine '{chosen.name}' ({chosen.engine.host})? "
                               "Nothing on the engine is deleted.", destructive=True, confirm_text="Remove"):
            return
        self._remove(chosen.name, force=False)

    def _remove(self, name: str, force: bool) -> None:
        self.remove_button.setEnabled(False)
        self.ctx.runner.submit(self.engines.remove, name, force, owner=self, on_success=lambda forgotten: self._removed(
            name, forgotten), on_error=lambda exc: self._remove_failed(name, exc, force),
            description=f"Removing the engine {name}…")

    def _removed(self, name: str, forgotten: list[str]) -> None:
        self._update_buttons()
        self.result.say(f"Removed the engine '{name}'" + (f" and forgot {len(forgotten)} instance(s): "
                                                   f"{', '.join(forgotten)}." if forgotten else "."), "success")
        self.changed.emit()
        self.refresh()

    def _remove_failed(self, name: str, exc: BaseException, forced: bool) -> None:
        self._update_buttons()
        if not isinstance(exc, GiftDeskError):
            self.ctx.report(exc)
            return
        self.result.say(f"✗ {exc}", "error")
        if isinstance(exc, ConflictError) and not forced and Prompts.confirm(
                self, "Forget the engine and its instances",
                f"{exc}\n\nForget the engine '{name}' and the records of its instances anyway? Their containers "
                "stay on the engine; this console stops managing them.", destructive=True,
                confirm_text="Forget them"):
            self._remove(name, force=True)


class EngineDialog(QDialog):
    """Add an engine, or edit one (``row``). Saving tests the connection first, in the job runner."""

    saved = Signal(object)  # EngineStatus

    def __init__(self, ctx, row: EngineRow | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.row = row
        self.setWindowTitle(f"Edit the engine {row.name}" if row else "Add a Docker engine")
        self.setObjectName("engine-dialog")
        self.setMinimumWidth(620)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.name = QLineEdit(row.name if row else "")
        self.name.setObjectName("engine-name")
        self.name.setPlaceholderText("e.g. rack-2 (letters, digits and '-')")
        self.name.setEnabled(row is None)
        self.host = QLineEdit((row.host if row and not row.context else "") if row else "")
        self.host.setObjectName("engine-host")
        self.host.setPlaceholderText("tcp://host:2376, ssh://user@host or unix:///path/docker.sock")
        self.tls_ca = self._file_field("engine-tls-ca", row.tls_ca if row else "", "the CA certificate")
        self.tls_cert = self._file_field("engine-tls-cert", row.tls_cert if row else "", "the client certificate")
        self.tls_key = self._file_field("engine-tls-key", "", "the client key")
        self.tls_key.edit.setPlaceholderText("kept in the keyring" + (" (empty: keep the stored key)" if row else ""))
        self.context = QLineEdit((row.context or "") if row else "")
        self.context.setObjectName("engine-context")
        self.context.setPlaceholderText("a Docker CLI context, instead of a host")
        self.backend = QLineEdit((row.backend_url or "") if row else "")
        self.backend.setObjectName("engine-backend-url")
        self.backend.setPlaceholderText("where its trackers reach this console (empty: the configured one)")
        for label, widget in (("Name", self.name), ("Host URL", self.host), ("TLS CA", self.tls_ca),
                              ("Client certificate", self.tls_cert), ("Client key", self.tls_key),
                              ("Docker context", self.context), ("Backend URL", self.backend)):
            form.addRow(label, widget)
        layout.addLayout(form)
        note = QLabel("The connection is tested before anything is stored. A tcp:// address on another computer "
                      "needs the three TLS files; ssh:// uses your own ssh configuration, keys and agent.")
        note.setWordWrap(True)
        note.setProperty("role", "muted")
        layout.addWidget(note)
        self.error = QLabel("")
        self.error.setObjectName("engine-dialog-error")
        self.error.setWordWrap(True)
        self.error.setProperty("role", "error")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Test and add" if row is None else "Test and save")
        self.save_button.setObjectName("engine-save")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _file_field(self, name: str, value: str, what: str) -> "FileField":
        field = FileField(value or "", f"Choose {what}", self)
        field.edit.setObjectName(name)
        field.button.setObjectName(f"{name}-browse")
        return field

    @property
    def testing(self) -> bool:
        return not self.save_button.isEnabled()

    def submit(self) -> None:
        self.error.hide()
        engines = self.ctx.desk.fleet.engines
        text = {k: w.text().strip() or None for k, w in (("host", self.host), ("context", self.context),
                                                         ("backend", self.backend))}
        ca, cert, key = (f.edit.text().strip() or None for f in (self.tls_ca, self.tls_cert, self.tls_key))
        self.save_button.setEnabled(False)
        self.error.setText("Testing the connection…")
        theme.set_role(self.error, "muted")
        self.error.show()
        if self.row is None:
            call = (engines.add, self.name.text().strip(), text["host"])
            kwargs = dict(tls_ca=ca, tls_cert=cert, tls_key=key, context=text["context"], backend_url=text["backend"])
        else:
            row = self.row
            host_changed = text["host"] != (None if row.context else row.host)
            context_changed = text["context"] != row.context
            # The stored key stays unless a new one is given (then all three files go with it).
            tls_changed = key is not None or (ca, cert) != (row.tls_ca, row.tls_cert)
            call = (engines.edit, row.name)
            kwargs = dict(host=text["host"] if host_changed else None,
                          context=text["context"] if context_changed else None,
                          tls_ca=ca if tls_changed else None, tls_cert=cert if tls_changed else None,
                          tls_key=key if tls_changed else None,
                          backend_url=text["backend"] if text["backend"] != row.backend_url else None,
                          clear_backend_url=text["backend"] is None and row.backend_url is not None)
        self.ctx.runner.submit(*call, owner=self, on_success=self._done, on_error=self._failed,
                               description="Testing the Docker engine…", **kwargs)

    def _done(self, status: EngineStatus) -> None:
        self.saved.emit(status)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if not isinstance(exc, GiftDeskError):
            self.error.hide()
            self.ctx.report(exc)
            return
        self.error.setText(str(exc))
        theme.set_role(self.error, "error")
        self.error.show()


class FileField(QWidget):
    """A path with a "…" button that opens a file picker (tests type the path instead)."""

    def __init__(self, value: str, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(value)
        self.button = QToolButton()
        self.button.setText("…")
        self.button.setToolTip(title)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.button)
        self.button.clicked.connect(self.browse)

    def text(self) -> str:
        return self.edit.text()

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.title, self.edit.text(), "PEM files (*.pem *.crt *.key);;"
                                              "All files (*)")
        if path:
            self.edit.setText(path)
