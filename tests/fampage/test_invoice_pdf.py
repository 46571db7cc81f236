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
    from giftdesk.services.invoices import LineRow
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
