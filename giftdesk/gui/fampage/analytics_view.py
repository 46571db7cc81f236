"""Analytics: revenue, cost and profit per company, target link or order, as a table and a chart."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import QMarginsF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from giftdesk.fampage.analytics import Totals, to_csv
from giftdesk.fampage.money import CURRENCY_SIGNS
from giftdesk.gui import theme
from giftdesk.gui.chart_scale import value_scale
from giftdesk.gui.fampage.view_support import (
    FampageView,
    date_edit,
    date_of,
    money_text,
    signed_color,
    toolbar_row,
)
from giftdesk.gui.table import RIGHT, Column, RowTableView, fmt_datetime
from giftdesk.gui.widgets.chart_support import (
    EmptyState,
    set_scale,
    show_tip,
    style_chart,
    value_axis,
)


@dataclass(frozen=True)
class SummaryLine:
    key: str
    group: str
    name: str
    totals: Totals


def _totals_columns(first: Column, currency: str) -> list[Column]:
    return [
        first,
        Column("Orders", lambda r: f"{r.totals.orders:,}", sort=lambda r: r.totals.orders, align=RIGHT, width=70),
        Column("Cost", lambda r: money_text(r.totals.cost, currency), sort=lambda r: r.totals.cost, align=RIGHT,
               width=110),
        Column("Revenue", lambda r: money_text(r.totals.revenue, currency), sort=lambda r: r.totals.revenue,
               align=RIGHT, width=110),
        Column("Profit", lambda r: money_text(r.totals.profit_shown, currency), sort=lambda r: r.totals.profit,
               align=RIGHT, width=110, foreground=lambda r: signed_color(r.totals.profit)),
        Column("Margin", lambda r: "" if r.totals.margin is None else f"{r.totals.margin} %",
               sort=lambda r: r.totals.margin, align=RIGHT, width=80),
    ]


def _order_profit_columns() -> list[Column]:
    return [
        Column("#", lambda o: o.id, align=RIGHT, width=55),
        Column("Placed", lambda o: fmt_datetime(o.created_at), sort=lambda o: o.created_at, width=130),
        Column("Company", lambda o: o.company_name, width=130),
        Column("Service", lambda o: o.service_name, width=180),
        Column("Link", lambda o: o.link, width=200, tooltip=lambda o: o.link),
        Column("Quantity", lambda o: f"{o.quantity:,}", sort=lambda o: o.quantity, align=RIGHT, width=70),
        Column("Status", lambda o: o.state.replace("_", " "), width=80, tooltip=lambda o: o.status_raw),
        Column("Cost", lambda o: money_text(o.net_cost, o.currency), sort=lambda o: o.net_cost, align=RIGHT,
               width=90),
        Column("Revenue", lambda o: money_text(o.revenue, o.currency), sort=lambda o: o.revenue, align=RIGHT,
               width=90),
        Column("Profit", lambda o: money_text(o.profit_shown, o.currency), sort=lambda o: o.profit, align=RIGHT,
               stretch=True, foreground=lambda o: signed_color(o.profit)),
    ]


BAR_MEASURES = (("Revenue", lambda t: t.revenue), ("Cost", lambda t: t.cost), ("Profit", lambda t: t.profit))
NO_ORDERS_CHART = "No orders in these dates: orders placed between them fill this chart"

VIEWS = (("companies", "Per company"), ("summary", "Summary"), ("target", "By target link"),
         ("history", "Company history"))


class ProfitChart(QWidget):
    """Revenue, cost and profit bars per category (QtCharts). Floats only for drawing the bars.

    The money axis starts at 0 (bars are lengths) with room above the tallest bar, ticks at round
    amounts with the currency ("₹1,500"); hovering a bar says its category, measure and amount.
    With nothing to draw, a message says what will fill the chart.
    """

    def __init__(self, parent: QWidget | None = None, currency: str = "INR"):
        super().__init__(parent)
        from PySide6.QtCharts import QChart, QChartView

        self.currency = currency
        self.chart = QChart()
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart.setMargins(QMarginsF(4, 4, 4, 4).toMargins())
        self.view = QChartView(self.chart, self)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.empty = EmptyState(self.view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.categories: list[str] = []
        self.items: list[tuple[str, Totals]] = []
        self.y_axis = None
        self.retheme()
        self.empty.show_message(NO_ORDERS_CHART)

    def retheme(self) -> None:
        style_chart(self.view)
        c = theme.colors()
        for series in self.chart.series():
            for bars, color in zip(series.barSets(), (c.accent, c.warning, c.success), strict=True):
                bars.setColor(QColor(color))
                bars.setBorderColor(QColor(color))

    def set_bars(self, title: str, items: list[tuple[str, Totals]], empty_text: str = NO_ORDERS_CHART) -> None:
        from PySide6.QtCharts import QBarCategoryAxis, QBarSeries, QBarSet

        self.chart.removeAllSeries()
        for axis in self.chart.axes():
            self.chart.removeAxis(axis)
        self.y_axis = None
        self.chart.setTitle(title)
        self.categories = [name for name, _ in items]
        self.items = list(items)
        if not items:
            self.chart.setTitle("")
            self.empty.show_message(empty_text)
            return
        series = QBarSeries()
        for label, pick in BAR_MEASURES:
            bars = QBarSet(label)
            bars.append([float(pick(totals)) for _, totals in items])
            series.append(bars)
        series.hovered.connect(self._hovered)
        self.chart.addSeries(series)
        x = QBarCategoryAxis()
        x.append(self.categories)
        y = value_axis()
        amounts = [float(pick(t)) for _, t in items for _label, pick in BAR_MEASURES]
        sign = CURRENCY_SIGNS.get(self.currency.upper(), "")
        set_scale(y, value_scale(amounts, keep_zero=True, min_span=1.0, target_ticks=6), prefix=sign,
                  unit="" if sign else self.currency.upper())
        self.chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x)
        series.attachAxis(y)
        self.y_axis = y
        self.empty.show_message(None)
        self.retheme()

    def bar_text(self, index: int, measure: str) -> str:
        """What hovering a bar says: its category, the measure and the amount."""
        name, totals = self.items[index]
        pick = dict(BAR_MEASURES)[measure]
        return f"{name} · {measure} {money_text(pick(totals), self.currency)}"

    def _hovered(self, status: bool, index: int, bars) -> None:
        show_tip(self.bar_text(index, bars.label()) if status else "")


class AnalyticsView(FampageView):
    """The four analytics views with a date range, a chart and CSV export."""

    def __init__(self, ctx, parent: QWidget | None = None):
        super().__init__(ctx, parent)
        self.data = None  # the shown view's data (for CSV)
        self.view = QComboBox(self)
        self.view.setObjectName("analytics-view")
        for key, title in VIEWS:
            self.view.addItem(title, key)
        self.since = date_edit(self, "analytics-since", "Orders placed on or after (Any: no bound)")
        self.until = date_edit(self, "analytics-until", "Orders placed on or before (Any: no bound)")
        self.link = QLineEdit(self)
        self.link.setObjectName("analytics-link")
        self.link.setPlaceholderText("Target link, e.g. tiktok.com/@account")
        self.company = QComboBox(self)
        self.company.setObjectName("analytics-company")
        self.company.setMinimumWidth(180)
        self.refresh_button = self._button("Show", "refresh", self.refresh, "Compute the view", "analytics-show")
        self.export_button = self._button("Export CSV…", "backup", self.export_csv, "This view as CSV",
                                          "analytics-export")
        bar = QHBoxLayout()
        bar.addWidget(self.view)
        bar.addWidget(QLabel("From", self))
        bar.addWidget(self.since)
        bar.addWidget(QLabel("to", self))
        bar.addWidget(self.until)
        bar.addWidget(self.link, 2)
        bar.addWidget(self.company)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.export_button)
        cur = self.currency
        self.tables = {
            "companies": RowTableView(_totals_columns(Column("Company", lambda r: r.name, stretch=True), cur),
                                      key=lambda r: r.company_id, parent=self, settings_key="fampage-analytics-co"),
            "summary": RowTableView(_totals_columns(Column("Group", lambda r: f"{r.group}: {r.name}", stretch=True),
                                                    cur), key=lambda r: r.key, parent=self,
                                    settings_key="fampage-analytics-sum"),
            "target": RowTableView(_order_profit_columns(), parent=self, settings_key="fampage-analytics-target"),
            "history": RowTableView(_order_profit_columns(), parent=self, settings_key="fampage-analytics-history"),
        }
        self.stack = QStackedWidget(self)
        for name, table in self.tables.items():
            table.setObjectName(f"analytics-{name}")
            table.set_empty_text({"target": "Type a target link and press Show",
                                  "history": "Pick a company"}.get(name, "No orders in this range"))
            self.stack.addWidget(table)
        self.chart = ProfitChart(self, self.currency)
        self.chart.setMinimumHeight(120)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.stack)
        splitter.addWidget(self.chart)
        splitter.setSizes([300, 260])
        self.total = QLabel(self)
        self.total.setObjectName("analytics-total")
        self.total.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(toolbar_row(self, bar))
        layout.addWidget(self.total)
        layout.addWidget(splitter, 1)
        self.view.currentIndexChanged.connect(lambda _i: self._view_changed())
        for edit in (self.since, self.until):
            edit.dateChanged.connect(lambda _d: self.refresh())
        self.company.currentIndexChanged.connect(lambda _i: self.refresh())
        self.link.returnPressed.connect(self.refresh)
        self._view_changed()

    def set_companies(self, companies) -> None:
        self.fill_companies(self.company, companies, "Pick a company")

    def current_view(self) -> str:
        return self.view.currentData()

    def set_view(self, key: str) -> None:
        self.view.setCurrentIndex(self.view.findData(key))

    def _view_changed(self) -> None:
        key = self.current_view()
        self.stack.setCurrentWidget(self.tables[key])
        self.link.setVisible(key == "target")
        self.company.setVisible(key == "history")
        self.refresh()

    def refresh(self) -> None:
        key, since, until = self.current_view(), date_of(self.since), date_of(self.until)
        analytics = self.ctx.desk.analytics
        if key == "target" and not self.link.text().strip():
            self._show((key, None))
            return
        company_id = self.company.currentData()
        if key == "history" and company_id is None:
            self._show((key, None))
            return
        link = self.link.text().strip()
        calls = {"companies": lambda: analytics.companies(since, until),
                 "summary": lambda: analytics.summary(since, until),
                 "target": lambda: analytics.target(link, since, until, limit=1000),
                 "history": lambda: analytics.history(company_id, since, until, limit=1000)}
        self._submit(lambda: (key, calls[key]()), on_success=self._show, supersede="view",
                     description="Computing analytics…")

    def _show(self, result) -> None:
        key, data = result
        if key != self.current_view():
            return
        self.data = data
        table = self.tables[key]
        if data is None:
            table.set_rows([])
            self.total.setText("")
            self.chart.set_bars("", [], {"target": "Type a target link and press Show to chart its orders",
                                         "history": "Pick a company to chart its orders"}[key])
        elif key == "companies":
            table.set_rows(data)
            grand = Totals(sum(f.totals.orders for f in data), sum((f.totals.cost for f in data), Decimal(0)),
                           sum((f.totals.revenue for f in data), Decimal(0)))
            self._total_text(grand)
            self.chart.set_bars("Revenue, cost and profit per company", [(f.name, f.totals) for f in data[:12]])
        elif key == "summary":
            lines = [SummaryLine(f"{group}:{name}", label, name.replace("_", " ") or "all", totals)
                     for group, label in (("byStatus", "status"), ("byServiceType", "type"), ("byNetwork", "network"))
                     for name, totals in data[group].items()]
            table.set_rows(lines)
            self._total_text(data["total"])
            self.chart.set_bars("Real cost vs revenue by service type",
                                list(data["byServiceType"].items()))
        else:
            table.set_rows(data["orders"])
            self._total_text(data["total"])
            by_status: dict[str, list] = {}
            for order in data["orders"]:
                by_status.setdefault(order.state.replace("_", " "), []).append(order)
            self.chart.set_bars("Revenue, cost and profit by status", [
                (state, Totals(len(orders), sum((o.net_cost for o in orders), Decimal(0)),
                               sum((o.revenue for o in orders), Decimal(0)))) for state, orders in by_status.items()])
        self.export_button.setEnabled(data is not None)
        self.loads += 1

    def _total_text(self, totals: Totals) -> None:
        cur = self.currency
        margin = "" if totals.margin is None else f" · margin {totals.margin} %"
        self.total.setText(f"{totals.orders:,} orders · real cost {money_text(totals.cost, cur)} · revenue "
                           f"{money_text(totals.revenue, cur)} · profit {money_text(totals.profit_shown, cur)}{margin}")

    def export_csv(self) -> None:
        if self.data is None:
            return
        key = self.current_view()
        path = self.ask_save_path("Export analytics", f"analytics-{key}.csv", "CSV files (*.csv)")
        if not path:
            return
        data = self.data
        self._submit(lambda: to_csv(key, data, path), on_success=lambda _t: self.message.emit(f"Exported {path}."),
                     description="Exporting…")

    def retheme(self) -> None:
        self.chart.retheme()
        self._view_changed()
