"""Invoice and credit note PDFs: A4, logo, a clean lines table, totals and the due date.

Drawn straight on a reportlab canvas (no platypus): the layout is simple, and 1,000 invoices
render in little more time than reportlab needs for the same drawing calls. Text uses DejaVu Sans
shipped in ``resources/fonts`` (embedded, subset) because the PDF base fonts (Helvetica) have no ₹
and no other non-Latin-1 currency sign.

An issued invoice cannot be changed, so its PDF must hold everything typed into it: every free
text is wrapped to its column (a word too long for a line is broken), flows onto further pages
(the lines table's header repeated, "Page X of Y" in every footer), and is drawn as plain text, so
markup stays literal. Characters DejaVu cannot show or a reader could not copy (CJK, emoji)
become U+FFFD.
"""

from __future__ import annotations

import io
import threading
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from PIL import Image as PILImage
from reportlab import rl_config
from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from giftdesk.fampage.money import format_money
from giftdesk.core.paths import resource_path

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

    @property
    def text_width(self) -> float:
        return self.width - 2 * CELL_PAD

    def text_x(self) -> float:
        return self.x + self.width - CELL_PAD if self.right else self.x + CELL_PAD


CELL_PAD = 5
COLUMNS = (
    Column("#", MARGIN, 34),  # room for four-digit positions
    Column("Description", MARGIN + 34, 258),
    Column("Quantity", MARGIN + 292, 62, True),
    Column("Unit price", MARGIN + 354, 85, True),
    Column("Amount", MARGIN + 439, WIDTH - 2 * MARGIN - 439, True),
)
CONTENT_WIDTH = WIDTH - 2 * MARGIN
FLOOR = MARGIN + 6  # nothing of the body reaches below this: the footer's rule and text are under it
META_WIDTH = 170  # the document's number, dates and title at the top right of the first page
REPLACEMENT = "\ufffd"


def _unit_price(value: Decimal, per: int, currency: str) -> str:
    """In the currency's minor units like every amount (the line's amount is computed from the exact
    price and is what is billed)."""
    text = format_money(value, currency)
    return f"{text} / {per:,}" if per != 1 else text


def render_invoice(invoice: Any, out: str | Path | BinaryIO | None = None, logo: Path | None = None,
                   credited_number: str | None = None) -> bytes | None:
    """Draws ``invoice`` (an ``InvoiceRow``) to ``out`` (a path or binary file); returns the bytes
    when ``out`` is None."""
    register_fonts()
    buffer = io.BytesIO() if out is None else None
    target = buffer if out is None else (str(out) if isinstance(out, str | Path) else out)
    canvas = _NumberedCanvas(target, pagesize=A4, pageCompression=1, initialFontName=FONT, initialFontSize=9)
    title = "Credit note" if invoice.kind == "credit_note" else "Invoice"
    canvas.setTitle(f"{title} {invoice.number or f'draft {invoice.id}'}")
    canvas.setAuthor(printable((invoice.issuer or {}).get("name") or "GiftDesk", FONT))
    canvas.setCreator("GiftDesk")
    page = _Page(canvas, invoice, _logo(logo if logo is not None else default_logo()), credited_number)
    page.draw()
    canvas.footer = page.footer
    canvas.showPage()
    canvas.save()
    return buffer.getvalue() if buffer is not None else None


class _NumberedCanvas(Canvas):
    """Keeps every page until ``save`` so each footer can say "Page X of Y"."""

    footer = None  # (canvas, page, pages) -> None, drawn on every page at save

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, 1):
            self.__dict__.update(state)
            if self.footer is not None:
                self.footer(self, number, total)
            super().showPage()
        super().save()


def printable(text: Any, font: str = FONT) -> str:
    """``text`` as it can be drawn: control characters become spaces, and characters the font has
    no glyph for (CJK) or beyond the BMP (emoji: reportlab writes their text mapping as odd-length
    hex, so readers could not copy or search them) the replacement character. A measured line is
    then the drawn line."""
    glyphs = pdfmetrics.getFont(font).face.charToGlyph
    return "".join(" " if unicodedata.category(ch) == "Cc" else
                   ch if ord(ch) in glyphs and ord(ch) <= 0xFFFF else REPLACEMENT for ch in str(text))


def wrap(text: Any, font: str, size: float, width: float) -> list[str]:
    """Lines of at most ``width`` points; a word longer than a line is broken between characters.
    Markup is not interpreted: the canvas draws text as it is."""
    lines: list[str] = []
    for paragraph in str(text).splitlines() or [""]:
        paragraph = printable(paragraph, font)
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if _width(candidate, font, size) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            while _width(word, font, size) > width:
                cut = _longest_fitting(word, font, size, width)
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines


def _width(text: str, font: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, font, size)


def _longest_fitting(word: str, font: str, size: float, width: float) -> int:
    """How many leading characters of ``word`` fit in ``width`` (at least one: a line always advances)."""
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if _width(word[:middle], font, size) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` shortened with an ellipsis to one line of ``width`` (only for the running footer:
    the full text is on the first page)."""
    text = printable(" ".join(str(text).split()), font)
    if _width(text, font, size) <= width:
        return text
    return text[:max(0, _longest_fitting(text, font, size, width - _width("…", font, size)))] + "…"


@dataclass(frozen=True)
class _Styled:
    """One wrapped line of a cell: its text, size, leading, weight and colour."""

    text: str
    size: float
    leading: float
    bold: bool = False
    color: Any = INK


class _Page:
    """Lays the document out from the top down; ``self.y`` is the baseline of the next line and a
    line that would reach below ``FLOOR`` goes to a new page (with the table's header again)."""

    def __init__(self, canvas: Canvas, invoice: Any, logo: ImageReader | None, credited_number: str | None):
        self.c = canvas
        self.inv = invoice
        self.logo = logo
        self.credited_number = credited_number
        self.cur = invoice.currency
        self.y = HEIGHT - MARGIN
        self.page = 1
        self.in_table = False

    def text(self, x, y, value, size=9, bold=False, color=INK, right=False) -> None:
        self.c.setFont(BOLD if bold else FONT, size)
        self.c.setFillColor(color)
        (self.c.drawRightString if right else self.c.drawString)(x, y, str(value))

    # ---- flow ----------------------------------------------------------------------------
    def room(self, height: float) -> bool:
        return self.y - height + 10 >= FLOOR

    def ensure(self, height: float) -> None:
        if not self.room(height):
            self.new_page()

    def new_page(self) -> None:
        self.c.showPage()
        self.page += 1
        self.watermark()
        top = HEIGHT - MARGIN
        kind = "Credit note" if self.inv.kind == "credit_note" else "Invoice"
        self.text(MARGIN, top - 10, f"{kind} {self.inv.number or f'draft {self.inv.id}'} (continued)", 10,
                  bold=True, color=ACCENT)
        self.c.setStrokeColor(RULE)
        self.c.line(MARGIN, top - 18, WIDTH - MARGIN, top - 18)
        self.y = top - 36
        if self.in_table:
            self.table_header()

    def paragraph(self, text: Any, x: float, width: float, size: float, leading: float, bold: bool = False,
                  color=INK) -> None:
        for line in wrap(text, BOLD if bold else FONT, size, width):
            self.ensure(leading)
            self.text(x, self.y, line, size, bold=bold, color=color)
            self.y -= leading

    # ---- the document --------------------------------------------------------------------
    def draw(self) -> None:
        self.watermark()
        self.header()
        self.parties()
        self.lines()
        self.totals()

    def header(self) -> None:
        inv, top = self.inv, HEIGHT - MARGIN
        x = MARGIN
        if self.logo is not None:
            self.c.drawImage(self.logo, MARGIN, top - 48, 48, 48, mask="auto", preserveAspectRatio=True)
            x += 60
        meta_bottom = self.meta(top)
        width = WIDTH - MARGIN - META_WIDTH - x
        issuer = inv.issuer or {}
        self.y = top - 16
        self.paragraph(issuer.get("name") or "GiftDesk", x, width, 14, 17, bold=True)
        self.y += 3  # the name's leading is for 14 pt; the details follow closer
        for line in _lines(issuer.get("address")) + [issuer.get("email"), issuer.get("phone")]:
            if line:
                self.paragraph(line, x, width, 8.5, 11, color=MUTED)
        if issuer.get("taxId"):
            self.paragraph(f"Tax id: {issuer['taxId']}", x, width, 8.5, 11, color=MUTED)
        self.y = (min(self.y, meta_bottom) if self.page == 1 else self.y) - 7

    def meta(self, top: float) -> float:
        inv, right = self.inv, WIDTH - MARGIN
        kind = "CREDIT NOTE" if inv.kind == "credit_note" else "INVOICE"
        self.text(right, top - 18, kind, 20, bold=True, color=ACCENT, right=True)
        rows = [("Number", inv.number or "DRAFT — not issued"),
                ("Issued", inv.issue_date.isoformat() if inv.issue_date else "—")]
        if inv.kind == "invoice":
            rows.append(("Due", inv.due_date.isoformat() if inv.due_date else "—"))
        if self.credited_number:
            rows.append(("Credits", self.credited_number))
        if inv.status in ("paid", "void"):
            rows.append(("Status", inv.status.upper()))
        y = top - 38
        for label, value in rows:
            self.text(right - 120, y, label, 8.5, color=MUTED, right=True)
            for part in wrap(value, BOLD, 9, 110):
                self.text(right, y, part, 9, bold=label in ("Number", "Due"), right=True)
                y -= 13
        return y - 11

    def watermark(self) -> None:
        if self.inv.status not in ("draft", "void"):
            return
        self.c.saveState()
        self.c.setFillColor(Color(0.85, 0.1, 0.1, alpha=0.10))
        self.c.setFont(BOLD, 96)
        self.c.translate(WIDTH / 2, HEIGHT / 2)
        self.c.rotate(35)
        self.c.drawCentredString(0, 0, "DRAFT" if self.inv.status == "draft" else "VOID")
        self.c.restoreState()

    def parties(self) -> None:
        client = self.inv.client or {"name": self.inv.company_name}
        self.ensure(60)
        self.c.setStrokeColor(RULE)
        self.c.line(MARGIN, self.y, WIDTH - MARGIN, self.y)
        self.y -= 16
        self.text(MARGIN, self.y, "BILL TO", 8, bold=True, color=MUTED)
        self.y -= 14
        self.paragraph(client.get("name") or "", MARGIN, CONTENT_WIDTH, 11, 13, bold=True)
        details = [client.get("contactName")] + _lines(client.get("address")) + [client.get("email"),
                                                                                  client.get("phone")]
        if client.get("taxId"):
            details.append(f"Tax id: {client['taxId']}")
        for line in details:
            if line:
                self.paragraph(line, MARGIN, CONTENT_WIDTH, 9, 12)
        self.y -= 14

    def table_header(self) -> None:
        self.ensure(40)  # the header and a first row
        self.c.setFillColor(ACCENT)
        self.c.rect(MARGIN, self.y - 6, CONTENT_WIDTH, 20, stroke=0, fill=1)
        for col in COLUMNS:
            self.text(col.text_x(), self.y, col.title, 8.5, bold=True, color=white, right=col.right)
        self.y -= 22

    def lines(self) -> None:
        self.ensure(60)
        self.in_table = True
        self.table_header()
        for index, line in enumerate(self.inv.lines):
            self.row(index, line)
        self.in_table = False
        self.c.setStrokeColor(RULE)
        self.c.line(MARGIN, self.y + 6, WIDTH - MARGIN, self.y + 6)
        self.y -= 10

    def row(self, index: int, line: Any) -> None:
        """One invoice line: its cells wrapped, kept on one page when it fits on one, else split
        between its lines of text."""
        number, description, quantity, unit, amount = COLUMNS
        cells = [
            [_Styled(t, 9, 12, color=MUTED) for t in wrap(line.position, FONT, 9, number.text_width)],
            [_Styled(t, 9, 12) for t in wrap(line.description, FONT, 9, description.text_width)]
            + [_Styled(t, 7.5, 10, color=MUTED) for t in wrap(line.link, FONT, 7.5, description.text_width)
               if line.link],
            [_Styled(t, 9, 12) for t in wrap(f"{line.quantity:,}", FONT, 9, quantity.text_width)],
            [_Styled(t, 8.5, 12) for t in wrap(_unit_price(line.unit_price, line.per, self.cur), FONT, 8.5,
                                               unit.text_width)],
            [_Styled(t, 9, 12) for t in wrap(format_money(line.amount, self.cur), FONT, 9, amount.text_width)],
        ]
        slices = max(len(cell) for cell in cells)
        leadings = [max(cell[i].leading for cell in cells if i < len(cell)) for i in range(slices)]
        leadings[-1] += 8
        if not self.room(sum(leadings)) and sum(leadings) <= HEIGHT - 2 * MARGIN - 100:
            self.new_page()
        for i, leading in enumerate(leadings):
            self.ensure(leading)
            if index % 2:
                self.c.setFillColor(STRIPE)
                self.c.rect(MARGIN, self.y - leading + 10, CONTENT_WIDTH, leading, stroke=0, fill=1)
            for col, cell in zip(COLUMNS, cells):
                if i < len(cell):
                    part = cell[i]
                    self.text(col.text_x(), self.y, part.text, part.size, color=part.color, right=col.right)
            self.y -= leading

    def totals(self) -> None:
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
            font = BOLD if strong else FONT
            labels = wrap(label, font, 10 if strong else 9, label_x - MARGIN)
            values = wrap(value, font, 11 if strong else 9, right - label_x - 12)
            leading = 13
            height = (max(len(labels), len(values)) - 1) * leading + (22 if strong else 16)
            self.ensure(height)
            if strong:
                self.c.setFillColor(STRIPE)
                self.c.rect(label_x - 100, self.y - height + 16, WIDTH - MARGIN - label_x + 100, height - 2,
                            stroke=0, fill=1)
            for i, part in enumerate(labels):
                self.text(label_x, self.y - i * leading, part, 10 if strong else 9, bold=strong, right=True,
                          color=INK if strong else MUTED)
            for i, part in enumerate(values):
                self.text(right, self.y - i * leading, part, 11 if strong else 9, bold=strong, right=True)
            self.y -= height
        if inv.kind == "invoice" and inv.due_date and inv.status != "void":
            self.y -= 8
            self.paragraph(f"Payment due by {inv.due_date.strftime('%d %B %Y')}", MARGIN, CONTENT_WIDTH, 10, 13,
                           bold=True, color=ACCENT)
        if inv.notes:
            self.y -= 6
            self.paragraph(inv.notes, MARGIN, CONTENT_WIDTH, 8.5, 11, color=MUTED)

    def footer(self, canvas: Canvas, page: int, pages: int) -> None:
        """Drawn on every page when the count is known (``_NumberedCanvas.save``)."""
        canvas.setStrokeColor(RULE)
        canvas.line(MARGIN, MARGIN, WIDTH - MARGIN, MARGIN)
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        number = f"Page {page} of {pages}"
        label = self.inv.number or f"draft {self.inv.id}"
        tail = f" · {label} · amounts in {self.cur}"
        room = CONTENT_WIDTH - _width(number, FONT, 7.5) - 16 - _width(tail, FONT, 7.5)
        issuer = fit((self.inv.issuer or {}).get("name") or "GiftDesk", FONT, 7.5, room)
        canvas.drawString(MARGIN, MARGIN - 14, issuer + tail)
        canvas.drawRightString(WIDTH - MARGIN, MARGIN - 14, number)


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]
