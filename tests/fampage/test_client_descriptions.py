"""What an invoice tells the client: the reseller's description of a service, never the panel's own
name and id; unit prices in minor units like every amount."""

from __future__ import annotations

import io

import pypdf
import pytest

from giftdesk.core.errors import ConflictError, ValidationError
from giftdesk.fampage.service import clean_description

LINK = "https://tiktok.com/@acme"


@pytest.mark.parametrize("name,clean", [
    ("TikTok Followers [Real] [Refill 30D]", "TikTok Followers"),
    ("TikTok Followers [Real]", "TikTok Followers"),
    ("Instagram Comments [Custom] - {Fast}", "Instagram Comments"),
    ("Tiktok Likes", "Tiktok Likes"),
    ("[Only tags]", "[Only tags]"),
])
def test_clean_description_drops_the_providers_tags(name, clean):
    assert clean_description(name) == clean


def _line(fdesk, order_id):
    return fdesk.orders.invoice_of(order_id).lines[0]


def test_new_draft_line_has_the_clean_description_then_the_set_one(fdesk):
    company = fdesk.companies.create("Acme")
    fdesk.fampage.ensure_catalogue()
    order, _ = fdesk.orders.place(company.id, 101, LINK, 1000)
    line = _line(fdesk, order.id)
    assert line.description == "TikTok Followers"
    assert "101" not in line.description and "[" not in line.description

    row = fdesk.fampage.set_client_description(101, "  Followers for your TikTok profile ")
    assert row.client_description == "Followers for your TikTok profile" and row.to_json()["clientDescriptionSet"]
    second, _ = fdesk.orders.place(company.id, 101, LINK + "/2", 1000)
    assert _line(fdesk, second.id).description == "Followers for your TikTok profile"
    assert _line(fdesk, order.id).description == "TikTok Followers"  # drafted before: unchanged

    assert fdesk.fampage.set_client_description(101, "").client_description == "TikTok Followers"
    with pytest.raises(ValidationError):
        fdesk.fampage.set_client_description(101, "two\nlines")


def test_draft_line_is_editable_and_an_issued_one_refuses(fdesk):
    company = fdesk.companies.create("Acme")
    fdesk.fampage.ensure_catalogue()
    order, draft = fdesk.orders.place(company.id, 101, LINK, 1000)
    edited = fdesk.invoices.set_line_description(draft.id, 1, "Profile growth, June")
    assert edited.lines[0].description == "Profile growth, June" and edited.total == draft.total
    with pytest.raises(ValidationError):
        fdesk.invoices.set_line_description(draft.id, 1, "   ")
    fdesk.invoices.issue(draft.id)
    with pytest.raises(ConflictError):
        fdesk.invoices.set_line_description(draft.id, 1, "Something else")
    assert fdesk.invoices.get(draft.id).lines[0].description == "Profile growth, June"


def test_pdf_shows_the_clean_description_and_a_two_decimal_unit_price(fdesk, fake):
    fake.set_rate(101, "119.7193")
    company = fdesk.companies.create("Acme")
    fdesk.fampage.refresh_services()
    order, draft = fdesk.orders.place(company.id, 101, LINK, 1000, multiplier="8")
    line = draft.lines[0]
    assert str(line.unit_price) == "957.7544"  # exact inside
    data = fdesk.invoice_documents.pdf(draft.id)
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "TikTok Followers" in text and "(service 101)" not in text and "[Real]" not in text
    assert "₹957.75 / 1,000" in text and "957.7544" not in text
    assert "₹957.75" in text  # the line: 957.7544 × 1000 / 1000, rounded once
