"""Record an order placed elsewhere (on Fampage's own site, by phone…) with what it cost:
``OrderService.create_manual``, which validates every field and drafts its invoice. Nothing is
sent to Fampage; a Fampage order id, when given, lets later syncs follow the order."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QWidget

from giftdesk.gui.fampage.dialogs import MANUAL_STATUSES
from giftdesk.gui.widgets.form_dialog import FormDialog

NOT_IN_CATALOGUE = "— not in the catalogue —"


class ManualOrderDialog(FormDialog):
    """After ``accepted``: ``result`` is (OrderRow, InvoiceRow or None)."""

    def __init__(self, ctx, parent: QWidget | None = None, company_id: int | None = None):
        super().__init__(ctx.runner, "Record an order placed elsewhere", parent, ok_text="Record order")
        self.ctx = ctx
        self.result = None
        self.loaded = False
        self.companies: list = []
        self._wanted_company = company_id
        self.setMinimumWidth(560)
        intro = QLabel("An order placed outside GiftDesk, with what Fampage charged for it. Nothing is sent to "
                       "Fampage; a draft invoice is made as for any order.", self)
        intro.setProperty("role", "muted")
        intro.setWordWrap(True)
        self.layout_.addWidget(intro)
        form = QFormLayout()
        self.company = QComboBox(self)
        self.company.setObjectName("manual-company")
        self.service = QComboBox(self)
        self.service.setObjectName("manual-service")
        self.service.addItem(NOT_IN_CATALOGUE, None)
        self.service_name = QLineEdit(self)
        self.service_name.setObjectName("manual-service-name")
        self.service_name.setPlaceholderText("what was ordered, e.g. TikTok Likes")
        self.link = QLineEdit(self)
        self.link.setObjectName("manual-link")
        self.link.setPlaceholderText("https://www.tiktok.com/@account/video/…")
        self.quantity = QLineEdit(self)
        self.quantity.setObjectName("manual-quantity")
        self.cost = QLineEdit(self)
        self.cost.setObjectName("manual-cost")
        self.cost.setPlaceholderText("what Fampage charged, e.g. 12.50")
        self.multiplier = QLineEdit(self)
        self.multiplier.setObjectName("manual-multiplier")
        self.provider_id = QLineEdit(self)
        self.provider_id.setObjectName("manual-provider-id")
        self.provider_id.setPlaceholderText("optional: Fampage's order id, so syncs follow it")
        self.status = QComboBox(self)
        self.status.setObjectName("manual-status")
        self.status.setEditable(True)
        self.status.addItems(MANUAL_STATUSES)
        form.addRow("&Company", self.company)
        form.addRow("Catalogue s&ervice", self.service)
        form.addRow("&Service", self.service_name)
        form.addRow("&Link", self.link)
        form.addRow("&Quantity", self.quantity)
        self.cost_label = QLabel("C&ost", self)
        self.cost_label.setBuddy(self.cost)
        form.addRow(self.cost_label, self.cost)
        form.addRow("Invoice &multiplier", self.multiplier)
        form.addRow("&Fampage order id", self.provider_id)
        form.addRow("S&tatus", self.status)
        self.layout_.addLayout(form)
        self.fields = {"company": self.company, "service": self.service_name, "link": self.link,
                       "quantity": self.quantity, "cost": self.cost, "invoice multiplier": self.multiplier,
                       "provider id": self.provider_id}
        self.finish_layout()
        self.company.currentIndexChanged.connect(lambda _i: self._company_changed())
        self.service.currentIndexChanged.connect(lambda _i: self._service_changed())
        desk = ctx.desk
        self.runner.submit(lambda: (desk.companies.list(status="active"), desk.fampage.services()),
                           on_success=self._loaded, on_error=self.handle_error, owner=self,
                           description="Loading companies…")

    def _loaded(self, result) -> None:
        self.companies, services = result
        self.company.blockSignals(True)
        for company in self.companies:
            self.company.addItem(company.name, company.id)
        index = self.company.findData(self._wanted_company) if self._wanted_company is not None else -1
        if index >= 0:
            self.company.setCurrentIndex(index)
        self.company.blockSignals(False)
        for service in services:
            self.service.addItem(f"#{service.id}  {service.name}", service)
        self._company_changed()
        if not self.companies:
            self.show_error("There is no active company yet: add one first (Companies, or `giftdesk company add`).")
        self.loaded = True

    def _company_changed(self) -> None:
        company = next((c for c in self.companies if c.id == self.company.currentData()), None)
        default = self.ctx.desk.settings.get("invoice.multiplier")
        multiplier = company.invoice_multiplier if company is not None and company.invoice_multiplier else None
        self.multiplier.setPlaceholderText(f"{multiplier} (the company's)" if multiplier else f"{default} (from Settings)")
        self.cost_label.setText(f"C&ost ({company.currency})" if company is not None else "C&ost")

    def _service_changed(self) -> None:
        service = self.service.currentData()
        if service is not None:
            self.service_name.setText(service.name)

    def on_ok(self) -> None:
        service = self.service.currentData()
        args = (self.company.currentData(), self.service_name.text(), self.link.text().strip(),
                self.quantity.text().strip(), self.cost.text().strip(), self.multiplier.text().strip() or None,
                self.provider_id.text().strip() or None, service.id if service is not None else None,
                self.status.currentText().strip() or "Pending")
        # A catalogue service's network and type (a pack's rate is its price) come with it.
        catalogue = ({"network": service.network, "service_type": service.type} if service is not None else {})
        orders = self.ctx.desk.orders

        def record():
            row = orders.create_manual(*args, **catalogue)
            return row, orders.invoice_of(row.id)

        self.submit(record, on_success=self._recorded, description="Recording the order…")

    def _recorded(self, result) -> None:
        self.result = result
        self.accept()
