"""Create or edit a tracker instance. The service validates; errors stay in the dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSizePolicy, QSpinBox, QVBoxLayout, QWidget)

from giftdesk.core.errors import GiftDeskError
from giftdesk.fleet import operations as fleet_operations
from giftdesk.fleet import spec
from giftdesk.fleet.engines import LOCAL, engine_key, shown_name
from giftdesk.fleet.images import ImageCatalog
from giftdesk.fleet.services_mode import ServiceOptions
from giftdesk.fleet.spec import RESTART_POLICIES, InstanceSettings
from giftdesk.gui.prompts import Prompts


class InstanceDialog(QDialog):
    saved = Signal(object)  # InstanceRow

    def __init__(self, ctx, row=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.row = row
        self.setWindowTitle(f"Edit {row.name}" if row else "New tracker instance")
        self.setObjectName("instance-dialog")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.name = QLineEdit(row.name if row else "")
        self.name.setPlaceholderText("e.g. creator-one (becomes gift-tracker-creator-one and a subdomain)")
        self.name.setEnabled(row is None)
        self.account = QComboBox()
        self.account.setEnabled(row is None)
        self.template = QComboBox()
        self.template.addItem("(none)", None)
        # The Docker engine it runs on: the local one unless another is chosen (instance move changes it later).
        self.engine = QComboBox()
        self.engine.setObjectName("instance-engine")
        self.engine.addItem(shown_name(row.engine) if row else LOCAL, row.engine if row else "")
        self.engine.setEnabled(False)  # until the engines are listed; an instance's engine changes by moving it
        if row is not None:
            self.engine.setToolTip("An instance changes engine by moving it (giftdesk instance move).")
        self._swarm_role = None
        self._asking_role = False  # a change of engine asks it again
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("next free port")
        self.port.setValue(row.port if row else 0)
        self.image = QComboBox()
        self.image.setEditable(True)
        self.image.setEditText(row.image if row else str(ctx.desk.settings.get("tracker.default_image")))
        self.network = QComboBox()
        self.network.setEditable(True)
        self.network.addItems(["bridge", "host"])
        self.network.setCurrentText(row.network if row else "bridge")
        self.publish = QComboBox()
        self.publish.addItem("This computer only (127.0.0.1)", "127.0.0.1")
        self.publish.addItem("All interfaces (0.0.0.0)", "0.0.0.0")
        if row is not None and row.publish_address not in ("127.0.0.1", "0.0.0.0"):
            self.publish.addItem(row.publish_address, row.publish_address)
        self.publish.setCurrentIndex(max(0, self.publish.findData(row.publish_address if row else "127.0.0.1")))
        self.restart = QComboBox()
        self.restart.addItems(list(RESTART_POLICIES))
        self.restart.setCurrentText(row.restart_policy if row else "unless-stopped")
        self.memory = QSpinBox()
        self.memory.setRange(0, 65536)
        self.memory.setSuffix(" MiB")
        self.memory.setSpecialValueText("no limit")
        self.memory.setValue((row.memory_limit_mb or 0) if row else spec.DEFAULT_MEMORY_MB)
        self.cpus = QLineEdit(f"{row.cpu_millis / 1000:g}" if row and row.cpu_millis else "")
        self.cpus.setPlaceholderText("no limit (e.g. 0.5)")
        self.debug = QCheckBox("Debug mode (DEBUG_MODE=true)")
        self.debug.setChecked(bool(row and row.debug_mode))
        self.start_at = QLineEdit((row.schedule_start or "") if row else "")
        self.start_at.setPlaceholderText("HH:MM, empty for none")
        self.stop_at = QLineEdit((row.schedule_stop or "") if row else "")
        self.stop_at.setPlaceholderText("HH:MM, empty for none")
        # A Swarm service instead of a container: offered once the engine says it is a manager.
        self.as_service = QCheckBox("Run as a Swarm service")
        self.as_service.setObjectName("instance-as-service")
        self.as_service.setEnabled(False)
        self.as_service.setToolTip("Checking the Docker engine…")
        self.constraints = QLineEdit(", ".join(row.placement_constraints) if row else "")
        self.constraints.setObjectName("instance-constraints")
        self.constraints.setPlaceholderText("e.g. node.labels.zone==eu, node.role==worker")
        self.spread = QLineEdit(", ".join(row.placement_preferences) if row else "")
        self.spread.setObjectName("instance-spread")
        self.spread.setPlaceholderText("e.g. node.labels.zone")
        self.spread.setToolTip("Docker's spread preference: it spreads the tasks of one service. Each tracker is a "
                               "service with one task, so it does not spread trackers over the nodes; Docker "
                               "already puts a new tracker on the node with fewer tasks.")
        self.ingress = QCheckBox("Publish through the routing mesh (needs IPVS on the nodes)")
        self.ingress.setObjectName("instance-ingress")
        self.ingress.setChecked(bool(row and row.publish_mode == "ingress"))
        # Templates: choosing one fills the fields; "Save as template…" keeps the fields as one.
        self.save_template_button = QPushButton("Save as template…")
        self.save_template_button.setObjectName("instance-save-template")
        self.save_template_button.setEnabled(ctx.can_edit)
        self.template_row = QWidget()
        template_box = QVBoxLayout(self.template_row)
        template_box.setContentsMargins(0, 0, 0, 0)
        template_box.setSpacing(2)
        template_layout = QHBoxLayout()
        template_layout.addWidget(self.template, 1)
        template_layout.addWidget(self.save_template_button)
        template_box.addLayout(template_layout)
        self.template_note = QLabel("")
        self.template_note.setObjectName("instance-template-note")
        self.template_note.setProperty("role", "muted")
        self.template_note.setWordWrap(True)
        self.template_note.hide()
        template_box.addWidget(self.template_note)
        self.template.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.template.setMinimumContentsLength(16)
        for label, widget in (("Name", self.name), ("TikTok account", self.account), ("Engine", self.engine),
                              ("Template", self.template_row),
                              ("Host port", self.port), ("Image", self.image), ("Network", self.network),
                              ("Publish on", self.publish), ("Restart policy", self.restart),
                              ("Memory limit", self.memory), ("CPU limit", self.cpus), ("", self.debug),
                              ("Start daily at", self.start_at), ("Stop daily at", self.stop_at),
                              ("Swarm", self.as_service), ("Constraints", self.constraints),
                              ("Spread over", self.spread), ("", self.ingress)):
            if isinstance(widget, QComboBox):
                widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
                widget.setMinimumContentsLength(24)
            form.addRow(label, widget)
        layout.addLayout(form)
        if row is not None and row.is_service:
            self.as_service.setChecked(True)
            self.as_service.setToolTip("This instance runs as a Swarm service.")
            # A service's settings cannot change in place yet (the service refuses it with a sentence).
            for widget in (self.port, self.image, self.network, self.memory, self.cpus, self.debug):
                widget.setEnabled(False)
        self._service_toggled()
        self.as_service.toggled.connect(self._service_toggled)
        self.engine.currentIndexChanged.connect(self._engine_changed)
        note = QLabel("A dashboard password is generated and kept in the keyring; the API key comes from the "
                      "account (generated when it has none)." if row is None else
                      "It runs as a Swarm service: only its daily schedule changes here; delete it and create it "
                      "again to change the rest." if row.is_service else
                      "Changing the port, image, network or limits recreates the container; if the new one "
                      "cannot start, the old one is put back.")
        note.setWordWrap(True)
        note.setProperty("role", "muted")
        layout.addWidget(note)
        self.error = QLabel("")
        self.error.setObjectName("instance-dialog-error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("Create" if row is None else "Save")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.template.currentIndexChanged.connect(self._apply_template)
        self.save_template_button.clicked.connect(self.save_template)
        ctx.runner.submit(self._choices, owner=self, on_success=self._fill, description="Loading accounts and images…")

    # ---- choices ------------------------------------------------------------------------
    def _choices(self):
        desk = self.ctx.desk
        accounts = desk.customers.list_accounts() if self.row is None else []
        customers = {c.id: c.name for c in desk.customers.list()} if self.row is None else {}
        try:
            images = ImageCatalog(desk.fleet).tags()
            networks = desk.fleet.docker.networks()
        except Exception:  # the engine is away: the fields stay editable
            images, networks = [], []
        try:
            role = desk.fleet.swarm_role() if self.row is None else None
        except Exception:  # the engine is away: no Swarm choice
            role = None
        engines = [r.name for r in desk.fleet.engines.list_engines()] if self.row is None else []
        return accounts, customers, images, networks, desk.fleet.templates(), role, engines

    def _service_toggled(self) -> None:
        """Placement applies to a service; a service restarts on failure and publishes on its node."""
        service = self.as_service.isChecked()
        creating = self.row is None
        for widget in (self.constraints, self.spread, self.ingress):
            widget.setEnabled(service and creating)
        self.restart.setEnabled(not service)
        self.publish.setEnabled(not service)
        if service:  # what a service does, shown in the fields it overrides
            self.restart.setCurrentText("on-failure")
            self.publish.setCurrentIndex(max(0, self.publish.findData("0.0.0.0")))

    def _suggest_engine(self) -> None:
        """Asks (off the GUI thread) which engine has the most memory free and the image, and picks it
        unless the person has chosen one meanwhile."""
        fleet, image = self.ctx.desk.fleet, self.image.currentText().strip()
        untouched = self.engine.currentIndex()

        def picked(engine: str) -> None:
            if self.engine.currentIndex() == untouched and engine:
                self.engine.setCurrentIndex(max(0, self.engine.findData(engine)))
                self.engine.setToolTip(f"Suggested: '{engine}' has the image and the most memory free.")

        def suggest() -> str:
            try:
                return fleet.engines.suggest_engine(image) if image else ""
            except GiftDeskError:  # a suggestion only: the local engine stays chosen
                return ""

        self.ctx.runner.submit(suggest, owner=self, on_success=picked, description="Choosing an engine…")

    def _engine_changed(self, *_args) -> None:
        """The images, networks and Swarm choice offered are the chosen engine's."""
        self._swarm_role = None  # until the engine says
        self._asking_role = True
        self._offer_service()
        fleet, engine = self.ctx.desk.fleet, self.engine.currentData() or ""

        def ask():
            try:
                images, networks = ImageCatalog(fleet, engine).tags(), fleet.docker_for(engine).networks()
            except Exception:  # the engine is away: the fields stay editable
                images, networks = [], []
            try:
                role = fleet.swarm_role(engine)
            except Exception:
                role = None
            return images, networks, role

        self.ctx.runner.submit(ask, owner=self, supersede="instance.engine-choices", on_success=self._engine_choices,
                               description="Asking the engine for its images…")

    def _engine_choices(self, choices) -> None:
        images, networks, role = choices
        self._swarm_role, self._asking_role = role, False
        self._offer_service()
        current = self.image.currentText()
        self.image.clear()
        self.image.addItems(images)
        self.image.setEditText(current)
        network = self.network.currentText()
        self.network.clear()
        self.network.addItems(["bridge", "host", *(n for n in networks if n not in ("bridge", "host"))])
        self.network.setCurrentText(network)

    def _offer_service(self, *_args) -> None:
        """A Swarm service can be made on the chosen engine when it is a Swarm manager."""
        if self.row is not None:
            return
        role = self._swarm_role
        manager = role is not None and role.manager
        if not manager and self.as_service.isChecked():
            self.as_service.setChecked(False)
        self.as_service.setEnabled(manager)
        self.as_service.setToolTip(
            "One replica on the Swarm, restarted on failure, its port published on the node it runs on" if manager
            else f"Asking the engine '{self.engine.currentText()}' whether it is a Swarm manager…"
            if self._asking_role
            else f"The engine '{self.engine.currentText()}' did not answer." if role is None
            else f"Not available on '{self.engine.currentText()}': {role.not_manager_reason}.")

    def service_options(self) -> ServiceOptions | None:
        if self.row is not None or not self.as_service.isChecked():
            return None
        return ServiceOptions.from_text(self.constraints.text(), self.spread.text(), self.ingress.isChecked())

    def _fill(self, choices) -> None:
        accounts, customers, images, networks, templates, role, engines = choices
        if self.row is None:
            self._swarm_role = role
            for name in engines[1:]:  # the local engine is the first, already there
                self.engine.addItem(name, engine_key(name))
            self.engine.setEnabled(len(engines) > 1)
            self.engine.setToolTip("" if len(engines) > 1 else "Only the local engine is set up (Instances → More → "
                                   "Engines… adds others).")
            self._offer_service()
            if len(engines) > 1:
                self._suggest_engine()
        for account in accounts:
            self.account.addItem(f"@{account.username} ({customers.get(account.customer_id, '?')})", account.id)
        current = self.image.currentText()
        self.image.addItems(images)  # gift-tracker images first
        self.image.setEditText(current)
        for name in networks:
            if self.network.findText(name) < 0:
                self.network.addItem(name)
        for template in templates:
            self.template.addItem(template.name, template)

    def _apply_template(self) -> None:
        template = self.template.currentData()
        if template is None:
            self.template_note.hide()
            return
        from giftdesk.gui.fleet.templates import describe

        self._note(f"Filled from '{template.name}': {describe(template.settings)}")
        s = template.settings
        if s.image:
            self.image.setEditText(s.image)
        self.network.setCurrentText(s.network)
        self.publish.setCurrentIndex(max(0, self.publish.findData(s.publish_address)))
        self.restart.setCurrentText(s.restart_policy)
        self.memory.setValue(s.memory_limit_mb or 0)
        self.cpus.setText(f"{s.cpu_millis / 1000:g}" if s.cpu_millis else "")
        self.debug.setChecked(s.debug_mode)

    def save_template(self) -> None:
        """The fields as they are now become a template (a name that exists is overwritten)."""
        self.error.hide()
        try:
            settings = self.settings()
        except Exception as exc:
            return self._failed(exc)
        current = self.template.currentData()
        name = Prompts.text(self, "Save as template", "Template name (an existing one is replaced):",
                            current.name if current else "")
        if name is None or not name.strip():
            return
        self.save_template_button.setEnabled(False)
        self.ctx.runner.submit(self.ctx.desk.fleet.save_template, name, settings, owner=self,
                               on_success=self._template_saved, on_error=self._template_failed,
                               description="Saving the template…")

    def _template_saved(self, template) -> None:
        self.save_template_button.setEnabled(True)
        index = next((i for i in range(1, self.template.count()) if self.template.itemData(i).id == template.id), -1)
        if index < 0:
            self.template.addItem(template.name, template)
            index = self.template.count() - 1
        else:
            self.template.setItemData(index, template)
        self.template.blockSignals(True)  # the fields already hold these settings
        self.template.setCurrentIndex(index)
        self.template.blockSignals(False)
        self._note(f"Saved as template '{template.name}'.")

    def _note(self, text: str) -> None:
        """The note under the template row; the dialog grows so that nothing above it is squeezed."""
        self.template_note.setText(text)
        self.template_note.show()
        layout = self.layout()
        needed = (layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth()
                  else layout.totalSizeHint().height())
        if needed > self.height():
            self.resize(self.width(), needed)

    def _template_failed(self, exc: BaseException) -> None:
        self.save_template_button.setEnabled(True)
        self._failed(exc)

    # ---- saving -------------------------------------------------------------------------
    def settings(self) -> InstanceSettings:
        return InstanceSettings(self.image.currentText().strip() or None, self.network.currentText().strip(),
                                self.publish.currentData(), self.restart.currentText(), self.memory.value() or None,
                                spec.cpu_millis(self.cpus.text()), self.debug.isChecked())

    def submit(self) -> None:
        self.error.hide()
        try:
            settings = self.settings()
            service = self.service_options()
        except Exception as exc:
            return self._failed(exc)
        port = self.port.value() or None
        fleet = self.ctx.desk.fleet
        self.buttons.setEnabled(False)
        if self.row is None:
            account_id = self.account.currentData()
            if account_id is None:
                self.buttons.setEnabled(True)
                return self._failed(ValueError("Choose the TikTok account (add one in Customer Accounts first)."))
            template = self.template.currentData()
            self.ctx.runner.run(fleet_operations.CREATE, fleet.create, self.name.text(), account_id, port=port,
                                settings=settings, template=template.id if template else None,
                                schedule_start=self.start_at.text(), schedule_stop=self.stop_at.text(),
                                service=service, engine=self.engine.currentData() or None, owner=self,
                                on_success=self._done, on_error=self._failed)
        else:
            self.ctx.runner.run(fleet_operations.EDIT, fleet.edit, self.row.id, port=port, settings=settings,
                                schedule_start=self.start_at.text() or None, schedule_stop=self.stop_at.text() or None,
                                owner=self, on_success=self._done, on_error=self._failed,
                                target=self.row.id, subject=self.row.name)

    def _done(self, row) -> None:
        self.saved.emit(row)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.error.setText(str(exc) or type(exc).__name__)
        self.error.show()


__all__ = ["InstanceDialog", "Qt"]
