"""Invoice and credit note PDFs: A4, logo, a clean lines table, totals and the due date.

Drawn straight on a reportlab canvas (no platypus): the layout is fixed and simple, and 1,000
invoices render in little more time than reportlab needs for the same drawing calls. Text uses
DejaVu Sans shipped in ``resources/fonts`` (embedded, subset) because the PDF base fonts
(Helvetica) have no ₹ and no other non-Latin-1 currency sign.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, BinaryIO

from PIL import Image as PILImage
from reportlab import rl_config
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from giftdesk.fampage.money import CURRENCY_SIGNS, format_money
from giftdesk.paths import resource_path

FONT, BOLD = "GiftDeskSans", "GiftDeskSans-Bold"
ACCENT = HexColor("#2563eb")
INK = HexColor("#111827")
MUTED = HexColor("#6b7280")
RULE = HexColor("#d1d5db")
STRIPE = HexColor("#f3f4f6")
WIDTH, HEIGHT = A4
MARGIN = 42
LOGO_PIXELS = 144
_fonts_lock = threading.Lock()
_logo_cache: dict[str, ImageReader] = {}


def register_fonts() -> None:
    with _fonts_lock:
        if FONT in pdfmetrics.getRegisteredFontNames():
            return
        # Binary streams instead of ASCII85 text: a third faster without reportlab's C accelerator,
        # and smaller files. (A process-wide reportlab setting; GiftDesk is its only user.)
        rl_config.useA85 = 0
        pdfmetrics.registerFont(TTFont(FONT, str(resource_path("fonts", "DejaVuSans.ttf"))))
        pdfmetrics.registerFont(TTFont(BOLD, str(resource_path("fonts", "DejaVuSans-Bold.ttf"))))


def default_logo() -> Path:
    return resource_path("icons", "giftdesk.png")


def _logo(path: Path | None) -> ImageReader | None:
    """The logo scaled once to 144 px (216 dpi at the 48 pt it is drawn): a big logo would be
    decoded and compressed into every PDF at full size."""
    if path is None or not Path(path).is_file():
        return None
    key = str(path)
    if key not in _logo_cache:
        try:
            with PILImage.open(key) as image:
                image.load()
                image.thumbnail((LOGO_PIXELS, LOGO_PIXELS))
                _logo_cache[key] = ImageReader(image.copy())
        except OSError:
            return None  # not an image: the invoice goes out without a logo rather than not at all
    return _logo_cache[key]


@dataclass(frozen=True)
class Column:
    title: str
    x: float  # left edge
    width: float
    right: bool = False


COLUMNS = (
    Column("#", MARGIN, 22),
    Column("Description", MARGIN + 22, 270),
    Column("Quantity", MARGIN + 292, 62, True),
    Column("Unit price", MARGIN + 354, 85, True),
    Column("Amount", MARGIN + 439, WIDTH - 2 * MARGIN - 439, True),
)


def _unit_price(value: Decimal, per: int, currency: str) -> str:
    shown = value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize()
    if shown.as_tuple().exponent > -2:
        shown = shown.quantize(Decimal("0.01"))
    text = _money_any(shown, currency)
    return f"{text} / {per:,}" if per != 1 else text


def _money_any(value: Decimal, currency: str) -> str:
    """Like format_money, keeping the value's own decimals (unit prices may have four)."""
    sign = CURRENCY_SIGNS.get(currency.upper())
    text = f"{abs(value):,}"
    prefix = "-" if value < 0 else ""
    return f"{prefix}{sign}{text}" if sign else f"{prefix}{text} {currency.upper()}"


def render_invoice(invoice: Any, out: str | Path | BinaryIO | None = None, logo: Path | None = None,
                   credited_number: str | None = None) -> bytes | None:
    """Draws ``invoice`` (an ``InvoiceRow``) to ``out`` (a path or binary file); returns the bytes
    when ``out`` is None."""
    register_fonts()
    buffer = io.BytesIO() if out is None else None
    target = buffer if out is None else (str(out) if isinstance(out, str | Path) else out)
    canvas = Canvas(target, pagesize=A4, pageCompression=1, initialFontName=FONT, initialFontSize=9)
    title = "Credit note" if invoice.kind == "credit_note" else "Invoice"
    canvas.setTitle(f"{title} {invoice.number or f'draft {invoice.id}'}")
    canvas.setAuthor((invoice.issuer or {}).get("name") or "GiftDesk")
    canvas.setCreator("GiftDesk")
    _Page(canvas, invoice, _logo(logo if logo is not None else default_logo()), credited_number).draw()
    canvas.save()
    return buffer.getvalue() if buffer is not None else None


class _Page:
    def __init__(self, canvas: Canvas, invoice: Any, logo: ImageReader | None, credited_number: str | None):
        self.c = canvas
        self.inv = invoice
        self.logo = logo
        self.credited_number = credited_number
        self.page = 1
        self.cur = invoice.currency

    def text(self, x, y, value, size=9, bold=False, color=INK, right=False) -> None:
        self.c.setFont(BOLD if bold else FONT, size)
        self.c.setFillColor(color)
        (self.c.drawRightString if right else self.c.drawString)(x, y, str(value))

    def draw(self) -> None:
        y = self.header()
        y = self.parties(y)
        y = self.lines(y)
        self.totals(y)
        self.footer()

    def header(self) -> float:
        inv, top = self.inv, HEIGHT - MARGIN
        x = MARGIN
        if self.logo is not None:
            self.c.drawImage(self.logo, MARGIN, top - 48, 48, 48, mask="auto", preserveAspectRatio=True)
            x += 60
        issuer = inv.issuer or {}
        self.text(x, top - 16, issuer.get("name") or "GiftDesk", 14, bold=True)
        y = top - 30
        for line in _lines(issuer.get("address")) + [issuer.get("email"), issuer.get("phone")]:
            if line:
                self.text(x, y, line, 8.5, color=MUTED)
                y -= 11
        if issuer.get("taxId"):
            self.text(x, y, f"Tax id: {issuer['taxId']}", 8.5, color=MUTED)
            y -= 11
        right = WIDTH - MARGIN
        kind = "CREDIT NOTE" if inv.kind == "credit_note" else "INVOICE"
        self.text(right, top - 18, kind, 20, bold=True, color=ACCENT, right=True)
        meta = [("Number", inv.number or "DRAFT — not issued"),
                ("Issued", inv.issue_date.isoformat() if inv.issue_date else "—")]
        if inv.kind == "invoice":
            meta.append(("Due", inv.due_date.isoformat() if inv.due_date else "—"))
        if self.credited_number:
            meta.append(("Credits", self.credited_number))
        if inv.status in ("paid", "void"):
            meta.append(("Status", inv.status.upper()))
        ry = top - 38
        for label, value in meta:
            self.text(right - 120, ry, label, 8.5, color=MUTED, right=True)
            self.text(right, ry, value, 9, bold=label in ("Number", "Due"), right=True)
            ry -= 13
        if inv.status == "draft" or inv.status == "void":
            self.watermark("DRAFT" if inv.status == "draft" else "VOID")
        return min(y, ry) - 18

    def watermark(self, word: str) -> None:
        self.c.saveState()
        self.c.setFillColor(Color(0.85, 0.1, 0.1, alpha=0.10))
        self.c.setFont(BOLD, 96)
        self.c.translate(WIDTH / 2, HEIGHT / 2)
        self.c.rotate(35)
        self.c.drawCentredString(0, 0, word)
        self.c.restoreState()

    def parties(self, y: float) -> float:
        client = self.inv.client or {"name": self.inv.company_name}
        self.c.setStrokeColor(RULE)
        self.c.line(MARGIN, y, WIDTH - MARGIN, y)
        y -= 16
        self.text(MARGIN, y, "BILL TO", 8, bold=True, color=MUTED)
        y -= 14
        self.text(MARGIN, y, client.get("name") or "", 11, bold=True)
        y -= 13
        details = [client.get("contactName")] + _lines(client.get("address")) + [client.get("email"),
                                                                                  client.get("phone")]
        if client.get("taxId"):
            details.append(f"Tax id: {client['taxId']}")
        for line in details:
            if line:
                self.text(MARGIN, y, line, 9, color=INK)
                y -= 12
        return y - 14

    def table_header(self, y: float) -> float:
        self.c.setFillColor(ACCENT)
        self.c.rect(MARGIN, y - 6, WIDTH - 2 * MARGIN, 20, stroke=0, fill=1)
        for col in COLUMNS:
            x = col.x + col.width - 6 if col.right else col.x + 6
            self.text(x, y, col.title, 8.5, bold=True, color=white, right=col.right)
        return y - 22

    def lines(self, y: float) -> float:
        y = self.table_header(y)
        for index, line in enumerate(self.inv.lines):
            desc = simpleSplit(line.description, FONT, 9, COLUMNS[1].width - 12)
            link = simpleSplit(line.link, FONT, 7.5, COLUMNS[1].width - 12)[:2] if line.link else []
            height = 12 * len(desc) + 10 * len(link) + 8
            if y - height < MARGIN + 150:
                self.new_page()
                y = self.table_header(HEIGHT - MARGIN - 20)
            if index % 2:
                self.c.setFillColor(STRIPE)
                self.c.rect(MARGIN, y - height + 10, WIDTH - 2 * MARGIN, height, stroke=0, fill=1)
            self.text(COLUMNS[0].x + 6, y, str(line.position), 9, color=MUTED)
            ty = y
            for part in desc:
                self.text(COLUMNS[1].x + 6, ty, part, 9)
                ty -= 12
            for part in link:
                self.text(COLUMNS[1].x + 6, ty, part, 7.5, color=MUTED)
                ty -= 10
            qty, unit, amount = COLUMNS[2], COLUMNS[3], COLUMNS[4]
            self.text(qty.x + qty.width - 6, y, f"{line.quantity:,}", 9, right=True)
            self.text(unit.x + unit.width - 6, y, _unit_price(line.unit_price, line.per, self.cur), 8.5, right=True)
            self.text(amount.x + amount.width - 6, y, format_money(line.amount, self.cur), 9, right=True)
            y -= height
        self.c.setStrokeColor(RULE)
        self.c.line(MARGIN, y + 6, WIDTH - MARGIN, y + 6)
        return y - 10

    def totals(self, y: float) -> None:
        inv = self.inv
        rows: list[tuple[str, str, bool]] = [("Subtotal", format_money(inv.subtotal, self.cur), False)]
        if inv.tax_rate or inv.tax:
            label = f"{inv.tax_label or 'Tax'} ({inv.tax_rate.normalize():f}%)"
            rows.append((label, format_money(inv.tax, self.cur), False))
        rows.append(("Total credited" if inv.kind == "credit_note" else "Total", format_money(inv.total, self.cur),
                     True))
        if inv.kind == "invoice" and inv.credited:
            rows.append(("Credit notes", format_money(-inv.credited, self.cur), False))
            rows.append(("Balance due", format_money(inv.balance_due, self.cur), True))
        right, label_x = WIDTH - MARGIN - 6, WIDTH - MARGIN - 130
        for label, value, strong in rows:
            if strong:
                self.c.setFillColor(STRIPE)
                self.c.rect(label_x - 100, y - 6, WIDTH - MARGIN - label_x + 100, 20, stroke=0, fill=1)
            self.text(label_x, y, label, 10 if strong else 9, bold=strong, right=True,
                      color=INK if strong else MUTED)
            self.text(right, y, value, 11 if strong else 9, bold=strong, right=True)
            y -= 22 if strong else 16
        if inv.kind == "invoice" and inv.due_date and inv.status != "void":
            y -= 8
            self.text(MARGIN, y, f"Payment due by {inv.due_date.strftime('%d %B %Y')}", 10, bold=True,
                      color=ACCENT)
        if inv.notes:
            y -= 16
            for part in simpleSplit(inv.notes, FONT, 8.5, WIDTH - 2 * MARGIN)[:6]:
                self.text(MARGIN, y, part, 8.5, color=MUTED)
                y -= 11

    def new_page(self) -> None:
        self.footer()
        self.c.showPage()
        self.page += 1

    def footer(self) -> None:
        self.c.setStrokeColor(RULE)
        self.c.line(MARGIN, MARGIN, WIDTH - MARGIN, MARGIN)
        issuer = (self.inv.issuer or {}).get("name") or "GiftDesk"
        label = self.inv.number or f"draft {self.inv.id}"
        self.text(MARGIN, MARGIN - 14, f"{issuer} · {label} · amounts in {self.cur}", 7.5, color=MUTED)
        self.text(WIDTH - MARGIN, MARGIN - 14, f"Page {self.page}", 7.5, color=MUTED, right=True)


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
