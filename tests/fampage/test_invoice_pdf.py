"""Invoice PDFs: the text read back has the right numbers and the ₹ sign; a page renders to PNG."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from datetime import date

import pypdf
import pytest

from tests.conftest import require_service


@pytest.fixture
def billed(desk):
    desk.settings.update({"company.name": "Northwind Growth", "company.tax_id": "29ABCDE1234F1Z5",
                          "invoice.tax_rate": "18", "invoice.tax_label": "GST"})
    company = desk.companies.create("Acme Creators", tax_id="27AAACA1234A1Z9", address="Mumbai 400001")
    order = desk.orders.create_manual(company.id, "TikTok Likes", "https://tiktok.com/@acme/video/1", 100, "1.87234")
    invoice = desk.orders.invoice_of(order.id)
    desk.invoices.issue(invoice.id)
    desk.orders.set_status(order.id, "Partial", remains=25)
    return desk, desk.invoices.get(invoice.id)


def _text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_invoice_pdf_text_has_numbers_and_rupee_sign(billed):
    desk, invoice = billed
    data = desk.invoice_documents.pdf(invoice.id)
    text = _text(data)
    # 1.87234 × 8 = 14.97872 → ₹14.98; GST 18 % → ₹2.70; total ₹17.68; credit 25 % of the line → ₹3.74 + ₹0.67
    for expected in (invoice.number, "Acme Creators", "27AAACA1234A1Z9", "29ABCDE1234F1Z5", "₹14.98", "₹2.70",
                     "₹17.68", "-₹4.41", "₹13.27", "GST (18%)", f"Payment due by {invoice.due_date:%d %B %Y}"):
        assert expected in text, expected
    reader = pypdf.PdfReader(io.BytesIO(data))
    fonts = {str(f["/BaseFont"]) for f in reader.pages[0]["/Resources"]["/Font"].get_object().values()}
    assert all("Helvetica" not in f for f in fonts) and any("DejaVu" in f or "GiftDesk" in f for f in fonts)
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)  # A4


def test_credit_note_pdf_names_its_invoice(billed):
    desk, invoice = billed
    [note_id] = invoice.credit_note_ids
    text = _text(desk.invoice_documents.pdf(note_id))
    assert "CREDIT NOTE" in text and invoice.number in text and "₹3.74" in text and "₹4.41" in text


def test_draft_says_so_and_month_zip(billed, tmp_path):
    desk, invoice = billed
    other = desk.orders.create_manual(invoice.company_id, "Views", "https://tiktok.com/@acme/video/2", 1000, "2.5")
    draft = desk.orders.invoice_of(other.id)
    assert "DRAFT" in _text(desk.invoice_documents.pdf(draft.id))
    today = date.today()
    names = desk.invoice_documents.month_zip(today.year, today.month, tmp_path / "month.zip")
    with zipfile.ZipFile(tmp_path / "month.zip") as archive:
        assert sorted(archive.namelist()) == sorted(names) == sorted(
            [f"{invoice.number}.pdf", f"{desk.invoices.get(invoice.credit_note_ids[0]).number}.pdf"])
        assert "₹17.68" in _text(archive.read(f"{invoice.number}.pdf"))


def test_many_lines_break_onto_pages(desk):
    from giftdesk.fampage.invoice_pdf import render_invoice
    from giftdesk.fampage.invoices import LineRow
    company = desk.companies.create("Long Ltd")
    order = desk.orders.create_manual(company.id, "Followers", "https://tiktok.com/@long", 1000, "0.9")
    row = desk.orders.invoice_of(order.id)
    lines = tuple(LineRow(i + 1, f"Service line {i + 1} " + "x" * 80, "https://tiktok.com/@long", 1000,
                          row.lines[0].unit_price, 1000, row.lines[0].amount) for i in range(40))
    from dataclasses import replace
    text = _text(render_invoice(replace(row, lines=lines)))
    assert "Page 2" in text and "Service line 40" in text


def test_page_renders_to_png(billed, tmp_path):
    require_service(shutil.which("pdftoppm") is not None, "pdftoppm (poppler-utils)")
    desk, invoice = billed
    desk.invoice_documents.pdf(invoice.id, tmp_path / "invoice.pdf")
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-singlefile", str(tmp_path / "invoice.pdf"),
                    str(tmp_path / "page")], check=True, timeout=60)
    png = (tmp_path / "page.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 5000


# ---- long and hostile text ---------------------------------------------------------------------
UNBROKEN = "".join(f"{i:03d}" for i in range(100))  # 300 characters, no space, no repeating run
HOSTILE = "<b>bold?</b> &amp; <font color=red>red</font> <br/> ]]> \\x41 %s"
RTL_CJK_EMOJI = "שלום עולם مرحبا بالعالم 你好世界 😀🎁 Ünïcødé ₹€"


def _hostile_invoice(desk, fake_lines: int = 0):
    """A real invoice with the longest texts the services accept, then (for line counts beyond
    what an order makes) the same row with ``fake_lines`` hostile lines."""
    from dataclasses import replace

    from giftdesk.fampage.invoices import LineRow

    desk.settings.update({"company.name": (("Our " + HOSTILE + " Agency ") * 3)[:160] + "W" * 40,
                          "company.address": "\n".join(f"Street {i} <i>" for i in range(70)),
                          "company.email": "billing@example.com", "company.tax_id": "T" * 50,
                          "invoice.tax_rate": "18", "invoice.tax_label": "GST"})
    company = desk.companies.create(("Client " + HOSTILE + " " + RTL_CJK_EMOJI + " ")[:150] + "N" * 50,
                                    address="\n".join(f"{i}&" for i in range(400)),
                                    tax_id=UNBROKEN[:50], contact_name=RTL_CJK_EMOJI)
    order = desk.orders.create_manual(company.id, f"Followers {HOSTILE} {UNBROKEN}",
                                      "https://tiktok.com/@acme/video/" + UNBROKEN, 1000, "0.9")
    invoice = desk.orders.invoice_of(order.id)
    desk.invoices.issue(invoice.id)
    row = desk.invoices.get(invoice.id)
    if fake_lines:
        line = row.lines[0]
        lines = tuple(LineRow(i + 1, f"Line {i + 1}: {HOSTILE} {RTL_CJK_EMOJI}" + (f" {UNBROKEN}" if i % 50 == 0
                                                                                     else ""),
                              line.link, line.quantity, line.unit_price, line.per, line.amount)
                      for i in range(fake_lines))
        row = replace(row, lines=lines, notes=("Notes " + HOSTILE + " ") * 40 + UNBROKEN)
    return row


def _free_texts(row) -> list[str]:
    issuer, client = row.issuer or {}, row.client or {}
    texts = [issuer.get(k) for k in ("name", "address", "email", "phone", "taxId")]
    texts += [client.get(k) for k in ("name", "contactName", "address", "email", "phone", "taxId")]
    # The lines in the order they are drawn, as one text: checked in one pass.
    texts += [row.notes, row.tax_label, " ".join(t for line in row.lines for t in (line.description, line.link) if t)]
    return [t for t in texts if t]


def _drawable(text: str) -> str:
    """What the PDF can hold: characters the shipped font has no glyph for, and those beyond the
    BMP (reportlab maps them to text as odd-length hex), become U+FFFD."""
    from reportlab.pdfbase import pdfmetrics

    from giftdesk.fampage.invoice_pdf import FONT, register_fonts

    register_fonts()
    glyphs = pdfmetrics.getFont(FONT).face.charToGlyph
    return "".join(ch if ord(ch) in glyphs and ord(ch) <= 0xFFFF else "\ufffd" for ch in text)


def _is_rtl(ch: str) -> bool:
    import unicodedata

    return unicodedata.bidirectional(ch) in ("R", "AL")


def _assert_present(texts: list[str], extracted: str) -> None:
    """Every character of each text is in the PDF's text, in order (right-to-left runs come back
    reversed from the extractor: those are counted instead)."""
    from collections import Counter

    got = [ch for ch in extracted if not ch.isspace()]
    got_ltr = [ch for ch in got if not _is_rtl(ch)]
    got_rtl = Counter(ch for ch in got if _is_rtl(ch))
    for text in texts:
        expected = _drawable("".join(text.split()))
        ltr = iter(got_ltr)
        missing = [ch for ch in expected if not _is_rtl(ch) and ch not in ltr]
        assert not missing, f"{text[:60]!r}: lost from {missing[0]!r} on"
        rtl_short = Counter(ch for ch in expected if _is_rtl(ch)) - got_rtl
        assert not rtl_short, f"{text[:60]!r}: lost {rtl_short}"


def _placed_text(data: bytes):
    """(page, x, y, right edge, text) of every string drawn upright, and how many were drawn turned."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from giftdesk.fampage.invoice_pdf import BOLD, FONT

    placed, turned = [], 0
    for number, page in enumerate(pypdf.PdfReader(io.BytesIO(data)).pages, 1):
        def visit(text, cm, tm, font, size, number=number):
            nonlocal turned
            text = text.replace("\n", "")
            if not text:
                return
            if cm[1] or cm[2] or tm[1] or tm[2]:
                turned += 1
                return
            x, y = tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]
            name = FONT if "Bold" not in str(font.get("/BaseFont")) else BOLD
            placed.append((number, x, y, x + stringWidth(text, name, size * tm[0]), size * tm[0], text))
        page.extract_text(visitor_text=visit)
    return placed, turned


def _assert_laid_out(data: bytes) -> int:
    """No text beyond the printable box or over the footer; a footer with "Page X of Y" on every page."""
    from giftdesk.fampage.invoice_pdf import MARGIN, WIDTH, HEIGHT

    pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
    placed, turned = _placed_text(data)
    assert turned == 0  # an issued invoice has no watermark
    footers: dict[int, list[str]] = {}
    for page, x, y, right, size, text in placed:
        assert x >= MARGIN - 0.01 and right <= WIDTH - MARGIN + 0.01, f"page {page}: {text[:40]!r} x {x}–{right}"
        assert y + 0.75 * size <= HEIGHT - MARGIN, f"page {page}: {text[:40]!r} above the top margin"
        if y < MARGIN:
            assert y == pytest.approx(MARGIN - 14), f"page {page}: {text[:40]!r} at {y}"
            footers.setdefault(page, []).append(text)
        else:
            assert y - 0.25 * size >= MARGIN + 2, f"page {page}: {text[:40]!r} at {y} runs over the footer"
    for page in range(1, pages + 1):
        assert f"Page {page} of {pages}" in footers.get(page, []), f"page {page} has no footer"
        assert len(footers[page]) == 2, footers[page]
    return pages


def test_long_and_hostile_texts_are_wrapped_kept_and_inside_the_page(desk):
    row = _hostile_invoice(desk)
    data = desk.invoice_documents.pdf(row.id)
    text = _text(data)
    _assert_present(_free_texts(row), text)
    for literal in ("<b>bold?</b>", "&amp;", "<font color=red>red</font>", "<br/>", "]]>", "\\x41 %s", "₹€"):
        assert literal in text.replace("\n", " "), literal  # markup stays literal
    assert "\ufffd" in text  # CJK and emoji degrade to the replacement character, layout intact
    pages = _assert_laid_out(data)
    assert pages >= 4  # the 400-line address flows on


def test_a_thousand_hostile_lines_repeat_the_table_header(desk):
    from giftdesk.fampage.invoice_pdf import render_invoice

    row = _hostile_invoice(desk, fake_lines=1000)
    data = render_invoice(row)
    page_texts = [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]
    text = "\n".join(page_texts)
    _assert_present(_free_texts(row), text)
    assert _assert_laid_out(data) == len(page_texts)
    assert all("(continued)" in t for t in page_texts[1:])
    table_pages = [t for t in page_texts if "Line " in t]
    assert len(table_pages) > 100 and all("Description" in t and "Unit price" in t for t in table_pages)
    assert "Line 1000:" in text


def test_margins_stay_blank_when_rendered(desk, tmp_path):
    require_service(shutil.which("pdftoppm") is not None, "pdftoppm (poppler-utils)")
    from PIL import Image

    from giftdesk.fampage.invoice_pdf import MARGIN

    row = _hostile_invoice(desk)
    desk.invoice_documents.pdf(row.id, tmp_path / "hostile.pdf")
    dpi = 30
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(tmp_path / "hostile.pdf"), str(tmp_path / "page")],
                   check=True, timeout=120)
    scale = dpi / 72
    for path in sorted(tmp_path.glob("page-*.png")):
        with Image.open(path) as image:
            gray = image.convert("L")
            w, h = gray.size
            edge = int(MARGIN * scale) - 2  # printable box, less a pixel of anti-aliasing
            bottom = h - int((MARGIN - 22) * scale)  # below the footer's text
            for box in ((0, 0, edge, h), (w - edge, 0, w, h), (0, 0, w, edge), (0, bottom, w, h)):
                assert gray.crop(box).getextrema()[0] >= 250, f"{path.name}: ink in the margin {box}"
