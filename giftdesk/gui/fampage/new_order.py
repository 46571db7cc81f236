"""New Fampage order: company, service (searchable, by network), link, quantity and the type's
fields, with a live preview of provider cost, invoice amount, profit and the balance after.

The preview is the service layer's (``OrderService.preview``), run off the GUI thread and
superseded by each newer keystroke; placing goes through ``OrderService.place`` once. Errors
(a quantity out of range, insufficient funds, a duplicate link…) stay in the dialog as sentences.
"""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from giftdesk.core.errors import GiftDeskError
from giftdesk.fampage.client import comment_lines
from giftdesk.fampage.money import format_money, format_rate, is_package
from giftdesk.gui.widgets.form_dialog import FormDialog
from giftdesk.gui.prompts import Prompts

ALL_NETWORKS = "All networks"
SERVICE_ROLE = Qt.ItemDataRole.UserRole


class NewOrderDialog(FormDialog):
    """After ``accepted``: ``result`` is (OrderRow, InvoiceRow)."""

    def __init__(self, ctx, parent: QWidget | None = None, company_id: int | None = None):
        super().__init__(ctx.runner, "New Fampage order", parent, ok_text="Place order")
        self.ctx = ctx
        self.result = None
        self.services: list = []
        self.companies: list = []
        self.balance = None
        self.loaded = False
        self.preview = None
        self._preview_job = None
        self._wanted_company = company_id
        self.setMinimumWidth(620)

        form = QFormLayout()
        self.company = QComboBox(self)
        self.company.setObjectName("company")
        form.addRow("&Company", self.company)

        pick = QHBoxLayout()
        self.network = QComboBox(self)
        self.network.setObjectName("network")
        self.search = QLineEdit(self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search services by name, category or id")
        self.search.setClearButtonEnabled(True)
        self.network.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        pick.addWidget(self.network)
        pick.addWidget(self.search, 1)
        service_label = QLabel("&Service", self)
        service_label.setBuddy(self.search)
        form.addRow(service_label, pick)
        self.service_list = QListWidget(self)
        self.service_list.setObjectName("services")
        self.service_list.setMinimumHeight(150)
        self.service_list.setAlternatingRowColors(True)
        form.addRow("", self.service_list)
        self.service_info = QLabel("Pick a service.", self)
        self.service_info.setProperty("role", "muted")
        self.service_info.setWordWrap(True)
        self.rates_button = QPushButton("Rate history…", self)
        self.rates_button.setObjectName("service-rate-history")
        self.rates_button.setToolTip("How the chosen service's rate changed over time")
        self.rates_button.setEnabled(False)
        self.rates_button.clicked.connect(lambda _c=False: self.show_rate_history())
        info_row = QHBoxLayout()
        info_row.addWidget(self.service_info, 1)
        info_row.addWidget(self.rates_button, 0, Qt.AlignmentFlag.AlignTop)
        form.addRow("", info_row)

        self.link = QLineEdit(self)
        self.link.setObjectName("link")
        self.link.setPlaceholderText("https://www.tiktok.com/@account/video/…")
        form.addRow("&Link", self.link)
        self.quantity = QLineEdit(self)
        self.quantity.setObjectName("quantity")
        form.addRow("&Quantity", self.quantity)
        self.comments = QPlainTextEdit(self)
        self.comments.setObjectName("comments")
        self.comments.setPlaceholderText("One comment per line; the quantity is the number of lines.")
        self.comments.setFixedHeight(90)
        self.comments_label = QLabel("Co&mments", self)
        self.comments_label.setBuddy(self.comments)
        form.addRow(self.comments_label, self.comments)
        drip = QHBoxLayout()
        self.dripfeed = QCheckBox("Drip-feed in", self)
        self.dripfeed.setObjectName("dripfeed")
        self.runs = QSpinBox(self)
        self.runs.setObjectName("runs")
        self.runs.setRange(2, 1000)
        self.runs.setValue(5)
        self.runs.setSuffix(" runs")
        self.interval = QSpinBox(self)
        self.interval.setObjectName("interval")
        self.interval.setRange(1, 10_000)
        self.interval.setValue(30)
        self.interval.setPrefix("every ")
        self.interval.setSuffix(" min")
        for widget in (self.dripfeed, self.runs, self.interval):
            drip.addWidget(widget)
        drip.addStretch(1)
        self.drip_row = QWidget(self)
        self.drip_row.setLayout(drip)
        drip.setContentsMargins(0, 0, 0, 0)
        form.addRow("", self.drip_row)
        self.multiplier = QLineEdit(self)
        self.multiplier.setObjectName("multiplier")
        form.addRow("Invoice &multiplier", self.multiplier)
        self.layout_.addLayout(form)

        self.preview_box = QFrame(self)
        self.preview_box.setObjectName("preview")
        self.preview_box.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self.preview_box)
        self.figures: dict[str, QLabel] = {}
        for row, (key, title) in enumerate((("cost", "Provider cost"), ("invoice", "Invoice amount (before tax)"),
                                            ("profit", "Profit"), ("balance", "Fampage balance"),
                                            ("after", "Balance after the order"))):
            caption = QLabel(title, self.preview_box)
            caption.setProperty("role", "muted")
            value = QLabel("—", self.preview_box)
            value.setObjectName(f"preview-{key}")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            font = value.font()
            font.setBold(key in ("invoice", "profit"))
            value.setFont(font)
            grid.addWidget(caption, row, 0)
            grid.addWidget(value, row, 1)
            self.figures[key] = value
        self.preview_note = QLabel("", self.preview_box)
        self.preview_note.setObjectName("preview-note")
        self.preview_note.setProperty("role", "muted")
        self.preview_note.setWordWrap(True)
        grid.addWidget(self.preview_note, 5, 0, 1, 2)
        self.layout_.addWidget(self.preview_box)

        self.fields = {"company": self.company, "service": self.service_list, "link": self.link,
                       "quantity": self.quantity, "comments": self.comments, "runs": self.runs,
                       "interval": self.interval, "invoice multiplier": self.multiplier}
        self.finish_layout()
        self._apply_service(None)

        self.network.currentIndexChanged.connect(lambda _i: self._fill_services())
        self.search.textChanged.connect(lambda _t: self._fill_services())
        self.service_list.currentItemChanged.connect(lambda item, _prev: self._apply_service(self._service_of(item)))
        self.company.currentIndexChanged.connect(lambda _i: self._company_changed())
        for edit in (self.link, self.quantity, self.multiplier):
            edit.textChanged.connect(lambda _t: self.refresh_preview())
        self.comments.textChanged.connect(self._comments_changed)
        self.dripfeed.toggled.connect(lambda _c: self._drip_changed())
        self.runs.valueChanged.connect(lambda _v: self.refresh_preview())
        self.interval.valueChanged.connect(lambda _v: self.refresh_preview())
        self._load()

    # ---- loading -------------------------------------------------------------------------
    def _load(self) -> None:
        desk = self.ctx.desk

        def load():
            try:
                desk.fampage.ensure_catalogue()
                stale = None
            except GiftDeskError as exc:  # offline: the cached catalogue still lets you prepare an order
                stale = str(exc)
            return desk.companies.list(status="active"), desk.fampage.services(), desk.fampage.networks(), stale

        self.runner.submit(load, on_success=self._loaded, on_error=self.handle_error,
                           description="Loading Fampage services…", owner=self)
        self.runner.submit(desk.fampage.balance, on_success=self._balance_loaded,
                           on_error=self._balance_failed, description="Reading the Fampage balance…",
                           owner=self)

    def _loaded(self, result) -> None:
        self.companies, self.services, networks, stale = result
        self.company.blockSignals(True)
        for company in self.companies:
            self.company.addItem(company.name, company.id)
        if self._wanted_company is not None:
            index = self.company.findData(self._wanted_company)
            if index >= 0:
                self.company.setCurrentIndex(index)
        self.company.blockSignals(False)
        self.network.blockSignals(True)
        self.network.addItem(ALL_NETWORKS)
        for name, count in networks.items():
            self.network.addItem(f"{name} ({count})", name)
        self.network.blockSignals(False)
        self._fill_services()
        self._company_changed()
        if not self.companies:
            self.show_error("There is no active company yet: add one first (Companies, or `giftdesk company add`).")
        elif stale:
            self.preview_note.setText(f"Using the saved services list: {stale}")
        self.loaded = True

    def _balance_loaded(self, row) -> None:
        self.balance = row
        self.figures["balance"].setText(format_money(row.amount, row.currency))
        self.refresh_preview()

    def _balance_failed(self, exc: BaseException) -> None:
        self.figures["balance"].setText("unknown")
        self.figures["balance"].setToolTip(str(exc))

    # ---- service and company -----------------------------------------------------------
    def _fill_services(self) -> None:
        network = self.network.currentData()
        needle = self.search.text().strip().lower()
        current = self.selected_service()
        self.service_list.blockSignals(True)
        self.service_list.clear()
        for service in self.services:
            if network and service.network != network:
                continue
            if needle and needle not in f"{service.id} {service.name} {service.category} {service.type}".lower():
                continue
            unit = "pack" if is_package(service.type) else "1000"
            item = QListWidgetItem(f"#{service.id}  {service.name}  ·  {format_rate(service.rate, service.currency)}"
                                   f" / {unit}  ·  {service.min:,}–{service.max:,}")
            item.setData(SERVICE_ROLE, service.id)
            item.setToolTip(f"{service.category} · {service.type}")
            self.service_list.addItem(item)
            if current is not None and service.id == current.id:
                self.service_list.setCurrentItem(item)
        self.service_list.blockSignals(False)
        if self.service_list.count() == 0:
            self.service_info.setText("No service matches." if self.services else "No services yet.")
        self._apply_service(self.selected_service())

    def _service_of(self, item) -> object | None:
        if item is None:
            return None
        service_id = item.data(SERVICE_ROLE)
        return next((s for s in self.services if s.id == service_id), None)

    def selected_service(self):
        return self._service_of(self.service_list.currentItem())

    def _apply_service(self, service) -> None:
        comments = service is not None and service.type == "Custom Comments"
        package = service is not None and is_package(service.type)
        self.comments.setVisible(comments)
        self.comments_label.setVisible(comments)
        self.drip_row.setVisible(service is not None and service.dripfeed)
        self.quantity.setReadOnly(comments or (package and service.min == service.max))
        if service is None:
            self.service_info.setText("Pick a service.")
        else:
            flags = [name for name, on in (("refill", service.refill), ("cancel", service.cancel),
                                           ("drip-feed", service.dripfeed)) if on]
            self.service_info.setText(
                f"{service.network} · {service.type} · {service.min:,} to {service.max:,}"
                + (f" · {', '.join(flags)}" if flags else "")
                + (" · the rate is the price of the whole pack" if package else ""))
            if package and service.min == service.max:
                self.quantity.setText(str(service.min))
            elif comments:
                self._comments_changed()
            elif self.quantity.isReadOnly() is False and not self.quantity.text():
                self.quantity.setPlaceholderText(f"{service.min:,} to {service.max:,}")
        if not service or not service.dripfeed:
            self.dripfeed.setChecked(False)
        self.rates_button.setEnabled(service is not None)
        self._drip_changed()

    def show_rate_history(self) -> None:
        from giftdesk.gui.fampage.rate_history import RateHistoryDialog

        service = self.selected_service()
        if service is None:
            return
        self.rate_dialog = RateHistoryDialog(self.ctx, service, parent=self)
        self.rate_dialog.open()

    def _company_changed(self) -> None:
        company = self.current_company()
        default = None
        if company is not None:
            default = company.invoice_multiplier or Decimal(self.ctx.desk.settings.get("invoice.multiplier"))
        self.multiplier.setPlaceholderText(f"{default} (default)" if default is not None else "")
        self.refresh_preview()

    def current_company(self):
        company_id = self.company.currentData()
        return next((c for c in self.companies if c.id == company_id), None)

    def _comments_changed(self) -> None:
        service = self.selected_service()
        if service is not None and service.type == "Custom Comments":
            self.quantity.setText(str(len(comment_lines(self.comments.toPlainText()))))
        self.refresh_preview()

    def _drip_changed(self) -> None:
        self.runs.setEnabled(self.dripfeed.isChecked())
        self.interval.setEnabled(self.dripfeed.isChecked())
        self.refresh_preview()

    # ---- preview and placing ---------------------------------------------------------------
    def order_arguments(self) -> dict | None:
        company, service = self.current_company(), self.selected_service()
        if company is None or service is None:
            return None
        drip = self.dripfeed.isChecked()
        return {"company_id": company.id, "service_id": service.id, "link": self.link.text(),
                "quantity": self.quantity.text().strip().replace(",", "") or None,
                "multiplier": self.multiplier.text().strip() or None,
                "comments": self.comments.toPlainText() if service.type == "Custom Comments" else None,
                "runs": self.runs.value() if drip else None, "interval": self.interval.value() if drip else None}

    def refresh_preview(self) -> None:
        arguments = self.order_arguments()
        if arguments is None:
            self._show_preview(None, "Pick a company and a service.")
            return
        balance = self.balance.amount if self.balance is not None else None
        preview_args = dict(arguments, link=arguments["link"].strip() or None, balance=balance)
        job = None

        def shown(preview) -> None:
            if job is self._preview_job:
                self._show_preview(preview, "")

        def failed(exc: BaseException) -> None:
            if job is self._preview_job:
                self._preview_failed(exc)

        # Supersede drops older results that finish after this one is submitted, but one that
        # finished just before can still be delivered after it: only the newest job may draw.
        job = self.runner.submit(self.ctx.desk.orders.preview, **preview_args,
                                 on_success=shown, on_error=failed,
                                 description="Pricing the order…", owner=self, supersede="new-order-preview")
        self._preview_job = job

    def _preview_failed(self, exc: BaseException) -> None:
        if isinstance(exc, GiftDeskError):
            self._show_preview(None, str(exc))
        else:
            self.handle_error(exc)

    def _show_preview(self, preview, note: str) -> None:
        self.preview = preview
        if preview is None:
            for key in ("cost", "invoice", "profit", "after"):
                self.figures[key].setText("—")
        else:
            currency = preview.currency
            # Money shows rounded once, to the currency's minor unit; the exact cost is there on hover.
            self.figures["cost"].setText(format_money(preview.cost, currency))
            exact = preview.cost != preview.cost.quantize(Decimal("0.01"))
            self.figures["cost"].setToolTip(f"Exactly {preview.cost:f} {currency}" if exact else "")
            self.figures["invoice"].setText(f"{format_money(preview.invoice_amount, currency)}  (× {preview.multiplier})")
            self.figures["profit"].setText(format_money(preview.profit_shown, currency))
            after = preview.balance_after
            self.figures["after"].setText("—" if after is None else format_money(after, currency))
            self.figures["after"].setProperty("role", "error" if after is not None and after < 0 else "")
            self.figures["after"].style().unpolish(self.figures["after"])
            self.figures["after"].style().polish(self.figures["after"])
            if after is not None and after < 0:
                note = "The Fampage balance is too low for this order."
        self.preview_note.setText(note)
        self.preview_note.setVisible(bool(note))

    def on_ok(self) -> None:
        arguments = self.order_arguments()
        if arguments is None:
            self.show_error("Pick a company and a service.", "service")
            return
        # Priced again with exactly what will be sent, then confirmed: placing spends the balance at once.
        self.submit(lambda: self.ctx.desk.orders.preview(**arguments), description="Pricing the order…",
                    on_success=lambda preview: self._confirm(arguments, preview))

    def confirm_text(self, preview) -> str:
        service, company, currency = self.selected_service(), self.current_company(), preview.currency
        cost = format_money(preview.cost, currency)
        if preview.balance_after is None:
            after = "unknown (the balance could not be read)"
        else:
            after = (f"{format_money(preview.balance_after, currency)} "
                     f"(from the last known {format_money(preview.balance, currency)})")
        return (f"Place this order at Fampage now?\n\n"
                f"Service: #{service.id} {service.name}\n"
                f"Link: {self.link.text().strip()}\n"
                f"Quantity: {preview.quantity:,}\n\n"
                f"Cost at Fampage: {cost} — spent from the balance at once\n"
                f"Balance after: {after}\n"
                f"Invoice to {company.name}: {format_money(preview.invoice_amount, currency)} "
                f"(a draft, issued later)")

    def _confirm(self, arguments: dict, preview) -> None:
        if not Prompts.confirm(self, "Place order", self.confirm_text(preview), confirm_text="Place order"):
            return
        self.submit(lambda: self.ctx.desk.orders.place(**arguments), on_success=self._placed,
                    description="Placing the order at Fampage…")

    def _placed(self, result) -> None:
        self.result = result
        self.accept()
