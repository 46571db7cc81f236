"""Settings: where data lives, the tracker endpoint, Docker, Fampage and invoices, your company.

Values are read and saved through ``desk.settings`` in the job runner; the service validates
(all or nothing) and its errors are shown inline next to the field. The Fampage API key goes
to the keyring via ``set_fampage_api_key`` and is never shown: the field only says whether one
is stored. Only administrators can change settings; everyone else sees them read-only.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from giftdesk.core.errors import GiftDeskError, ValidationError
from giftdesk.gui import theme
from giftdesk.gui.widgets.form_dialog import FormDialog
from giftdesk.gui.errors import ErrorRoute
from giftdesk.gui.system.backup_panel import BackupsPanel, ScheduleEditor
from giftdesk.system.settings import ENVIRONMENT, SPECS

log = logging.getLogger(__name__)

FAMPAGE_KEY_FIELD = "Fampage API key"  # the field name set_fampage_api_key's errors carry
KEEP_RUNNING_CHOICES = [
    ("auto", "Keep the trackers' backend running once an instance exists"),
    ("on", "Always keep the trackers' backend running"),
    ("off", "Stop the trackers' backend with the window"),
]
BIND_CHOICES = [
    ("local", "This computer and its Docker containers"),
    ("all", "All network interfaces (other machines too)"),
]


def _computed_address(port: int) -> str:
    try:
        from giftdesk.endpoint.addressing import advertised_base_url

        return advertised_base_url({"endpoint.public_url": ""}, port)
    except Exception:  # the endpoint package is optional for the dialog
        return f"http://127.0.0.1:{port}/api/instances"


def _readable(message: str) -> str:
    """``tracker.port_start must not be above tracker.port_end.`` → the settings' labels."""
    for key in sorted(SPECS, key=len, reverse=True):
        if key in message:
            label = SPECS[key].label.split(" (")[0]
            if not message.startswith(key):
                label = label[0].lower() + label[1:]
            message = message.replace(key, label)
    return message


def _same(before: Any, after: Any) -> bool:
    if isinstance(before, bool) or isinstance(after, bool):
        return bool(before) == bool(after)
    return str("" if before is None else before) == str("" if after is None else after)


def _with_hint(field, hint: QLabel) -> QVBoxLayout:
    """A field with its explanation right under it (a form row of its own spaces it too far)."""
    box = QVBoxLayout()
    box.setSpacing(3)
    if isinstance(field, QWidget):
        box.addWidget(field)
    else:
        box.addLayout(field)
    box.addWidget(hint)
    return box


def _muted(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setProperty("role", "muted")
    label.setWordWrap(True)
    return label


class SettingsDialog(FormDialog):
    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx.runner, "Settings", parent, ok_text="Save")
        self.ctx = ctx
        desk = ctx.desk
        self.can_change = desk.actor.can("admin")
        self.loaded: dict[str, Any] | None = None
        self.has_fampage_key = False
        self._remove_key = False
        self.setMinimumSize(720, 440)

        if not self.can_change:
            note = QLabel(
                f"You are logged in as a {desk.actor.role}: settings are shown read-only. "
                "An administrator can change them.", self)
            note.setProperty("role", "banner-warning")
            note.setWordWrap(True)
            self.layout_.addWidget(note)

        self.tabs = QTabWidget(self)
        self.layout_.addWidget(self.tabs, 1)
        self.pages: dict[str, int] = {}  # setting key -> tab index, to show the page of a bad field
        self.source_notes: dict[str, QLabel] = {}  # setting key -> its "from $VARIABLE" note
        self._focus_field: str | None = None  # show_field's field: the cursor goes there once loaded
        self._build_storage(desk)
        self._build_endpoint()
        self._build_docker()
        self._build_fampage(desk)
        self._build_company()
        self.finish_layout()

        self.inputs: list[QWidget] = [
            w for w in self.fields.values() if w is not self.fampage_key
        ] + [self.fampage_key, self.public_url_override, self.remove_key_button]
        self._set_inputs_enabled(False)
        if not self.can_change:
            self.ok_button.hide()
            self.buttons.button(self.buttons.StandardButton.Cancel).setText("Close")
        self.ok_button.setEnabled(False)
        self.load()

    # ---- pages -------------------------------------------------------------------------------
    def show_field(self, field: str) -> None:
        """Opens on the page of ``field`` (a setting key or field name), the cursor in it once loaded."""
        self.tabs.setCurrentIndex(self.pages[field])
        self._focus_field = field
        if self.loaded is not None:
            self.fields[field].setFocus()

    def _page(self, title: str, icon_name: str) -> tuple[QWidget, QFormLayout]:
        page = QWidget(self.tabs)
        outer = QVBoxLayout(page)
        outer.setContentsMargins(14, 14, 14, 14)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setVerticalSpacing(9)
        outer.addLayout(form)
        outer.addStretch(1)
        self.tabs.addTab(page, theme.icon(icon_name), title)
        return page, form

    def _register(self, key: str, widget: QWidget) -> QWidget:
        self.fields[key] = widget
        self.pages[key] = self.tabs.count() - 1
        widget.setObjectName(key)
        return widget

    def _build_storage(self, desk) -> None:
        page, form = self._page("Storage", "backup")
        self.data_dir = QLineEdit(str(desk.paths.root), page)
        self.data_dir.setReadOnly(True)
        open_button = QPushButton(theme.icon("folder"), "Open folder", page)
        open_button.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(desk.paths.root))))
        row = QHBoxLayout()
        row.addWidget(self.data_dir, 1)
        row.addWidget(open_button)
        form.addRow("Data folder", _with_hint(
            row, _muted("Chosen with --data-dir or GIFTDESK_DATA_DIR when GiftDesk starts.", page)))
        self.database = QLineEdit(desk.db.display_name, page)
        self.database.setReadOnly(True)
        form.addRow("Database", _with_hint(
            self.database, _muted("Chosen with --database-url or GIFTDESK_DATABASE_URL (e.g. PostgreSQL).", page)))
        where, sentence = desk.secrets.describe()
        self.keyring = QLineEdit(where[:1].upper() + where[1:], page)
        self.keyring.setReadOnly(True)
        self.keyring.setCursorPosition(0)
        if desk.secrets.warning:
            hint = QLabel(sentence, page)
            hint.setProperty("role", "banner-warning")
            hint.setWordWrap(True)
            hint.setToolTip(desk.secrets.warning)  # the technical reason, for a support request
        else:
            hint = _muted(sentence, page)
        self.keyring_hint = hint
        form.addRow("Secrets stored in", _with_hint(self.keyring, hint))
        self.backup_schedule = self._register("backup.schedule", ScheduleEditor(page))
        self.backup_keep = self._register("backup.keep", QSpinBox(page))
        self.backup_keep.setRange(1, 10_000)
        self.backup_keep.setSuffix(" copies")
        self.backup_keep.setMaximumWidth(130)
        form.addRow("Scheduled backups", _with_hint(self.backup_schedule, _muted(
            "Taken by this window or by giftdesk serve, in this machine's time; checked after copying.", page)))
        form.addRow("Keep", _with_hint(self.backup_keep, _muted(
            "The oldest scheduled copies beyond this are deleted; other backups are never pruned.", page)))
        self.backups = BackupsPanel(self.ctx, page)
        form.addRow("Backups", self.backups)

    def _build_endpoint(self) -> None:
        page, form = self._page("Tracker endpoint", "keys")
        self.endpoint_enabled = self._register("endpoint.enabled", QCheckBox(SPECS["endpoint.enabled"].label, page))
        form.addRow("", self.endpoint_enabled)
        self.endpoint_bind = self._register("endpoint.bind", QComboBox(page))
        for value, text in BIND_CHOICES:
            self.endpoint_bind.addItem(text, value)
        form.addRow("Listen on", self.endpoint_bind)
        self.endpoint_port = self._register("endpoint.port", QSpinBox(page))
        self.endpoint_port.setRange(1, 65535)
        self.endpoint_port.setMaximumWidth(120)
        form.addRow("Port", self.endpoint_port)
        self.rate_limit = self._register("endpoint.rate_limit_per_minute", QSpinBox(page))
        self.rate_limit.setRange(1, 1_000_000)
        self.rate_limit.setSuffix(" requests/min")
        self.rate_limit.setMaximumWidth(200)
        form.addRow("Rate limit per API key", self.rate_limit)
        self.public_url = self._register("endpoint.public_url", QLineEdit(page))
        self.public_url_override = QCheckBox("Override", page)
        self.public_url_override.setToolTip("Tell trackers a different address, e.g. behind a reverse proxy")
        row = QHBoxLayout()
        row.addWidget(self.public_url, 1)
        row.addWidget(self.public_url_override)
        form.addRow("Address trackers use", _with_hint(row, _muted(
            "Given to tracker containers as BACKEND_API_URL: the Docker bridge address and the port, "
            "unless you override it.", page)))
        self.public_url_override.toggled.connect(lambda on: self._on_override(on, focus=True))
        self.endpoint_port.valueChanged.connect(lambda _v: self._show_computed_address())
        self.keep_running = self._register("runtime.keep_running", QComboBox(page))
        for value, text in KEEP_RUNNING_CHOICES:
            self.keep_running.addItem(text, value)
        form.addRow("When the window closes", _with_hint(self.keep_running, _muted(
            "A detached giftdesk serve then takes over the tracker endpoint, the instance schedules, the order "
            "sync and the scheduled backups.", page)))

    def _build_docker(self) -> None:
        page, form = self._page("Docker", "instances")
        self.docker_host = self._register("docker.host", QLineEdit(page))
        self.docker_host.setPlaceholderText("empty: DOCKER_HOST or the local engine")
        self.environment_problems = QLabel(page)
        self.environment_problems.setObjectName("environment-problems")
        self.environment_problems.setProperty("role", "banner-warning")
        self.environment_problems.setWordWrap(True)
        self.environment_problems.hide()
        form.addRow(self.environment_problems)
        form.addRow("Docker host", _with_hint(
            self._with_source("docker.host", self.docker_host, page),
            _muted("For example unix:///var/run/docker.sock or tcp://10.0.0.5:2375.", page)))
        self.default_image = self._register("tracker.default_image", QLineEdit(page))
        form.addRow("Default tracker image", self._with_source("tracker.default_image", self.default_image, page))
        self.port_start = self._register("tracker.port_start", QSpinBox(page))
        self.port_end = self._register("tracker.port_end", QSpinBox(page))
        for spin in (self.port_start, self.port_end):
            spin.setRange(1, 65535)
            spin.setMaximumWidth(110)
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(self.port_start)
        row.addWidget(self._source_note("tracker.port_start", page))
        row.addWidget(QLabel("to", page))
        row.addWidget(self.port_end)
        row.addWidget(self._source_note("tracker.port_end", page))
        row.addStretch(1)
        form.addRow("Tracker ports", row)

    def _source_note(self, key: str, page: QWidget) -> QLabel:
        """"from $VARIABLE" beside a field whose value the tracker manager's environment gives."""
        note = _muted(f"from ${SPECS[key].env}", page)
        note.setWordWrap(False)
        note.setObjectName(f"source-{key}")
        note.setToolTip(f"No value is stored: the environment variable {SPECS[key].env} replaces the "
                        "built-in default. Saving a value here overrides it.")
        note.hide()
        self.source_notes[key] = note
        return note

    def _with_source(self, key: str, field: QWidget, page: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(field, 1)
        row.addWidget(self._source_note(key, page))
        return row

    def _build_fampage(self, desk) -> None:
        page, form = self._page("Fampage && invoices", "orders")
        self.fampage_url = self._register("fampage.base_url", QLineEdit(page))
        form.addRow("Fampage API address", self.fampage_url)
        self.fampage_key = QLineEdit(page)
        self.fampage_key.setObjectName("fampage-key")
        self.fampage_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.fampage_key.textEdited.connect(lambda _t: self._key_edited())
        self.fields[FAMPAGE_KEY_FIELD] = self.fampage_key
        self.pages[FAMPAGE_KEY_FIELD] = self.tabs.count() - 1
        self.remove_key_button = QPushButton(theme.icon("delete"), "Remove", page)
        self.remove_key_button.setToolTip("Remove the stored Fampage API key when you save")
        self.remove_key_button.clicked.connect(self._remove_key_clicked)
        row = QHBoxLayout()
        row.addWidget(self.fampage_key, 1)
        row.addWidget(self.remove_key_button)
        self.key_where = _muted(f"Stored in {desk.secrets.describe()[0]}, never in the database.", page)
        form.addRow("Fampage API key", _with_hint(row, self.key_where))
        self.multiplier = self._register("invoice.multiplier", QLineEdit(page))
        self.multiplier.setMaximumWidth(120)
        self.multiplier.setToolTip("Invoice amount = Fampage cost × multiplier (exact decimal, e.g. 8 or 7.5)")
        form.addRow("Invoice multiplier", self.multiplier)
        self.currency = self._register("invoice.currency", QLineEdit(page))
        self.currency.setMaxLength(3)
        self.currency.setMaximumWidth(70)
        self.currency.setPlaceholderText("INR")
        form.addRow("Invoice currency", self.currency)

    def _build_company(self) -> None:
        page, form = self._page("Your company", "customers")
        form.addRow(_muted("Your details as they appear on invoices.", page))
        self.company_name = self._register("company.name", QLineEdit(page))
        form.addRow("Company name", self.company_name)
        self.company_address = self._register("company.address", QPlainTextEdit(page))
        self.company_address.setTabChangesFocus(True)
        self.company_address.setFixedHeight(80)
        form.addRow("Address", self.company_address)
        self.company_email = self._register("company.email", QLineEdit(page))
        form.addRow("E-mail", self.company_email)
        self.company_phone = self._register("company.phone", QLineEdit(page))
        form.addRow("Phone", self.company_phone)
        self.company_tax = self._register("company.tax_id", QLineEdit(page))
        form.addRow("Tax id", self.company_tax)

    # ---- load ----------------------------------------------------------------------------------
    def load(self) -> None:
        settings, backups = self.ctx.desk.settings, self.ctx.desk.scheduled_backups

        def read():
            try:
                copies = (backups.last_result(), backups.list())
            except OSError as exc:  # an unreadable backups folder must not keep the settings from showing
                copies = exc
            return (settings.all(), settings.has_fampage_api_key(), settings.sources(),
                    settings.environment_problems(), copies)

        self.ctx.runner.submit(read, on_success=self._loaded,
                               on_error=self.handle_error, owner=self, description="Reading settings…")

    def _loaded(self, result) -> None:
        values, has_key, sources, problems, backups = result
        self.loaded = dict(values)
        self.has_fampage_key = has_key
        self._remove_key = False
        self.endpoint_enabled.setChecked(bool(values["endpoint.enabled"]))
        index = self.endpoint_bind.findData(values["endpoint.bind"])
        self.endpoint_bind.setCurrentIndex(max(index, 0))
        self.endpoint_port.setValue(int(values["endpoint.port"]))
        self.keep_running.setCurrentIndex(max(self.keep_running.findData(values["runtime.keep_running"]), 0))
        self.backup_schedule.set_text(values["backup.schedule"])
        self.backup_keep.setValue(int(values["backup.keep"]))
        for key, note in self.source_notes.items():
            note.setVisible(sources.get(key) == ENVIRONMENT)
        self.environment_problems.setText("\n".join(_readable(problem) for problem in problems))
        self.environment_problems.setVisible(bool(problems))
        self.rate_limit.setValue(int(values["endpoint.rate_limit_per_minute"]))
        public = values.get("endpoint.public_url") or ""
        self.public_url_override.blockSignals(True)
        self.public_url_override.setChecked(bool(public))
        self.public_url_override.blockSignals(False)
        if public:
            self.public_url.setText(public)
        self.docker_host.setText(values["docker.host"] or "")
        self.default_image.setText(values["tracker.default_image"] or "")
        self.port_start.setValue(int(values["tracker.port_start"]))
        self.port_end.setValue(int(values["tracker.port_end"]))
        self.fampage_url.setText(values["fampage.base_url"] or "")
        self.multiplier.setText(str(values["invoice.multiplier"]))
        self.currency.setText(values["invoice.currency"] or "")
        self.company_name.setText(values["company.name"] or "")
        self.company_address.setPlainText(values["company.address"] or "")
        self.company_email.setText(values["company.email"] or "")
        self.company_phone.setText(values["company.phone"] or "")
        self.company_tax.setText(values["company.tax_id"] or "")
        self._show_key_state()
        self._set_inputs_enabled(self.can_change)
        self.backups.show_backups(backups)
        self._on_override(self.public_url_override.isChecked())
        self.ok_button.setEnabled(self.can_change)
        if self._focus_field is not None:
            self.fields[self._focus_field].setFocus()

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for widget in self.inputs:
            if isinstance(widget, QLineEdit | QPlainTextEdit):
                widget.setReadOnly(not enabled)
            elif isinstance(widget, ScheduleEditor):
                widget.set_editable(enabled)
            else:
                widget.setEnabled(enabled)
        self.public_url.setReadOnly(not (enabled and self.public_url_override.isChecked()))

    # ---- endpoint address ---------------------------------------------------------------------
    def _on_override(self, override: bool, focus: bool = False) -> None:
        editable = override and self.can_change and self.loaded is not None
        self.public_url.setReadOnly(not editable)
        if override:
            saved = (self.loaded or {}).get("endpoint.public_url") or ""
            if self.public_url.text() == _computed_address(self.endpoint_port.value()):
                self.public_url.setText(saved)
            self.public_url.setPlaceholderText("https://trackers.example.com/api/instances")
            if editable and focus:
                self.public_url.setFocus()
        else:
            self._show_computed_address()

    def _show_computed_address(self) -> None:
        if not self.public_url_override.isChecked():
            self.public_url.setText(_computed_address(self.endpoint_port.value()))

    # ---- Fampage key -------------------------------------------------------------------------
    def _show_key_state(self) -> None:
        self.fampage_key.clear()
        if self._remove_key:
            self.fampage_key.setPlaceholderText("will be removed when you save")
        elif self.has_fampage_key:
            self.fampage_key.setPlaceholderText("••• (set) — type a new key to replace it")
        else:
            self.fampage_key.setPlaceholderText("not set")
        self.remove_key_button.setVisible(self.has_fampage_key)
        self.remove_key_button.setEnabled(self.can_change and not self._remove_key)

    def _remove_key_clicked(self) -> None:
        self._remove_key = True
        self._show_key_state()

    def _key_edited(self) -> None:
        if self._remove_key and self.fampage_key.text():
            self._remove_key = False
            self.remove_key_button.setEnabled(self.can_change)

    # ---- save ----------------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """What the form says now, in the service's terms (text stays text: Decimal is parsed there)."""
        return {
            "endpoint.enabled": self.endpoint_enabled.isChecked(),
            "endpoint.bind": self.endpoint_bind.currentData(),
            "endpoint.port": self.endpoint_port.value(),
            "endpoint.rate_limit_per_minute": self.rate_limit.value(),
            "runtime.keep_running": self.keep_running.currentData(),
            "backup.schedule": self.backup_schedule.text(),
            "backup.keep": self.backup_keep.value(),
            "endpoint.public_url": self.public_url.text().strip() if self.public_url_override.isChecked() else "",
            "docker.host": self.docker_host.text().strip(),
            "tracker.default_image": self.default_image.text().strip(),
            "tracker.port_start": self.port_start.value(),
            "tracker.port_end": self.port_end.value(),
            "fampage.base_url": self.fampage_url.text().strip(),
            "invoice.multiplier": self.multiplier.text().strip(),
            "invoice.currency": self.currency.text().strip(),
            "company.name": self.company_name.text(),
            "company.address": self.company_address.toPlainText(),
            "company.email": self.company_email.text(),
            "company.phone": self.company_phone.text(),
            "company.tax_id": self.company_tax.text(),
        }

    def changes(self) -> dict[str, Any]:
        """Only what differs from what was loaded: unchanged settings are not rewritten."""
        loaded = self.loaded or {}
        return {key: value for key, value in self.values().items() if key not in loaded or not _same(loaded[key], value)}

    def key_action(self) -> tuple[str, str | None] | None:
        typed = self.fampage_key.text()
        if typed.strip():
            return ("set", typed.strip())
        if self._remove_key:
            return ("remove", None)
        return None

    def on_ok(self) -> None:
        if self.loaded is None or not self.can_change:
            return
        changes, key_action = self.changes(), self.key_action()
        if not changes and key_action is None:
            self.accept()
            return
        settings = self.ctx.desk.settings

        def save() -> None:
            if changes:
                settings.update(changes)
            if key_action is not None:
                settings.set_fampage_api_key(key_action[1])

        self.submit(save, on_success=lambda _r: self.accept(), description="Saving settings…")

    def handle_error(self, exc: BaseException) -> None:
        self.set_busy(False)
        if not isinstance(exc, GiftDeskError):
            ErrorRoute.report(exc)
            return
        field = exc.field if isinstance(exc, ValidationError) else None
        message = _readable(str(exc))
        if field in self.pages:
            self.tabs.setCurrentIndex(self.pages[field])
        self.show_error(message, field)
