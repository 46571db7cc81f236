"""The Fampage command groups against the fake panel: text, --json (camelCase) and clear errors."""

from __future__ import annotations

import json
import zipfile
from datetime import date

import pypdf
import pytest

from tests.support.cli import make_cli
from tests.support.fake_fampage import API_KEY


@pytest.fixture
def cli(data_dir, capsys, fake, monkeypatch):
    monkeypatch.setenv("FAMPAGE_BASE_URL", fake.url)
    monkeypatch.setenv("FAMPAGE_API_KEY", API_KEY)
    return make_cli(capsys, "--data-dir", str(data_dir))


def test_browse_order_invoice_sync_refill_cancel_and_analytics(cli, fake, tmp_path):
    services = cli.json("fampage", "services", "--network", "TikTok")
    assert [s["id"] for s in services] == [101, 102, 103] and services[0]["ratePer1000"] == "0.90"
    fake.set_rate(101, "1.10")
    cli("fampage", "services", "--refresh")
    rates = cli.json("fampage", "rates", "101")
    assert [r["ratePer1000"] for r in rates["rates"]] == ["0.90", "1.10"]
    fake.set_rate(101, "0.90")
    cli("fampage", "services", "--refresh")
    out, _ = cli("fampage", "services", "--networks")
    assert "Instagram" in out and "TikTok" in out
    balance = cli.json("fampage", "balance")
    assert balance["currency"] == "INR" and balance["low"] is False

    company = cli.json("company", "add", "Acme", "--email", "ops@acme.example", "--tax-id", "GSTIN1",
                       "--multiplier", "10")
    assert company["invoiceMultiplier"] == "10" and company["currency"] == "INR"
    preview = cli.json("order", "add", "--company", "Acme", "--service", "102", "--link",
                       "https://tiktok.com/@acme/video/1", "--quantity", "100", "--preview")
    assert preview["cost"] == "1.87" and preview["invoiceAmount"] == "18.72"
    assert preview["costExact"] == "1.87234" and preview["profit"] == "16.85"
    assert fake.action_counts()["add"] == 0

    placed = cli.json("order", "add", "--company", str(company["id"]), "--service", "101", "--link",
                      "https://tiktok.com/@acme", "--quantity", "1000", "--multiplier", "8")
    order, invoice = placed["order"], placed["invoice"]
    assert order["state"] == "pending" and order["providerOrderId"] in fake.orders
    assert invoice["total"] == "7.20" and invoice["status"] == "draft" and invoice["orderId"] == order["id"]
    out, _ = cli("order", "add", "--company", "Acme", "--service", "103", "--link", "https://tiktok.com/@acme/v/2")
    assert "Invoice" in out and "draft (not issued)" in out and "495.00 INR" in out

    issued = cli.json("invoice", "issue", str(invoice["id"]), "--due-days", "10")
    assert issued["number"] == f"INV-{date.today().year}-000001"
    cli("invoice", "pdf", str(invoice["id"]), "-o", str(tmp_path / "inv.pdf"))
    text = pypdf.PdfReader(tmp_path / "inv.pdf").pages[0].extract_text()
    assert "₹7.20" in text and issued["number"] in text

    fake.set_status(order["providerOrderId"], "Partial", remains=500)
    synced = cli.json("order", "sync")
    assert synced["requested"] == 2 and synced["refunds"] == 1
    shown = cli.json("order", "show", str(order["id"]))
    assert shown["state"] == "partial" and shown["refund"] == "0.45"
    assert shown["creditNotes"][0]["total"] == "3.60" and shown["creditNotes"][0]["number"].startswith("CN-")

    refill = cli.json("order", "refill", str(order["id"]))
    assert refill["refillStatus"] == "Pending"
    assert cli.json("order", "refill", str(order["id"]), "--status")["refillId"] == refill["refillId"]

    second = cli.json("order", "add", "--company", "Acme", "--service", "102", "--link",
                      "https://tiktok.com/@acme/video/9", "--quantity", "100")["order"]
    cancelled = cli.json("order", "cancel", str(second["id"]), "--yes")
    assert cancelled == [{"orderId": second["id"], "cancelled": True, "error": None}]
    assert cli.json("order", "show", str(second["id"]))["state"] == "canceled"

    companies = cli.json("analytics", "companies", "--csv", str(tmp_path / "companies.csv"))
    assert companies[0]["name"] == "Acme" and companies[0]["orders"] == 3
    assert (tmp_path / "companies.csv").read_text().startswith("companyId,name,archived,services,orders")
    target = cli.json("analytics", "target", "https://www.tiktok.com/@acme/")
    assert target["target"] == "tiktok.com/@acme" and target["total"]["orders"] == 1
    assert target["total"]["profit"] == "3.15"  # revenue 7.20 − 3.60, cost 0.90 − 0.45
    history = cli.json("analytics", "history", "Acme")
    assert len(history["orders"]) == 3
    summary = cli.json("analytics", "summary")
    assert set(summary["byStatus"]) == {"partial", "pending", "canceled"}
    out, _ = cli("analytics", "summary")
    assert "SERVICE TYPE" in out and "Package" in out

    month = date.today().strftime("%Y-%m")
    zipped = cli.json("invoice", "zip", month, "-o", str(tmp_path / "month.zip"))
    assert len(zipped["documents"]) == 2 and zipfile.ZipFile(tmp_path / "month.zip").testzip() is None
    assert cli.json("invoice", "pay", str(invoice["id"]))["status"] == "paid"
    log = cli.json("fampage", "log", "--action", "add")
    assert len(log) == 3 and all(API_KEY not in json.dumps(entry) for entry in log)
    assert [e["action"] for e in cli.json("fampage", "log", "--company", "Acme")] == ["add"] * 3
    shown = cli.json("company", "show", "Acme")
    assert shown["totals"]["orders"] == 3 and len(shown["invoices"]) >= 3


@pytest.mark.parametrize("argv,message", [
    (("order", "add", "--company", "Nope", "--service", "101", "--link", "https://t.co/x", "--quantity", "100"),
     "no company called 'Nope'"),
    (("order", "add", "--company", "Acme", "--service", "101", "--link", "https://t.co/x", "--quantity", "5"),
     "takes 50 to 10,000"),
    (("order", "add", "--company", "Acme", "--service", "999", "--link", "https://t.co/x", "--quantity", "5"),
     "no Fampage service 999"),
    (("analytics", "companies", "--since", "yesterday"), "must be a date"),
    (("invoice", "zip", "2026-13", "-o", "x.zip"), "must look like 2026-11"),
    (("company", "edit", "Acme", "--multiplier", "abc"), "number such as 8"),
    (("order", "cancel", "1"), "Refusing without --yes"),
    (("invoice", "show", "42"), "no invoice with id 42"),
])
def test_bad_input_is_one_line_and_exit_2(cli, argv, message):
    cli("company", "add", "Acme")
    out, err = cli(*argv, expect=2)
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_fampage_refusals_are_sentences(cli, fake):
    cli("company", "add", "Acme")
    fake.balance = 0
    _, err = cli("order", "add", "--company", "Acme", "--service", "101", "--link", "https://tiktok.com/@z",
                 "--quantity", "100", expect=2)
    assert "balance is too low" in err
    assert cli.json("order", "list") == []


def test_timed_out_order_is_reported_and_reconciled(cli, fake, monkeypatch):
    from giftdesk.fampage import client as client_module
    cli("company", "add", "Acme")
    fake.hang("add", 3)
    original = client_module.FampageClient.__init__

    def short(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.add_timeout = 0.5

    monkeypatch.setattr(client_module.FampageClient, "__init__", short)
    _, err = cli("order", "add", "--company", "Acme", "--service", "101", "--link", "https://tiktok.com/@slow",
                 "--quantity", "100", expect=1)
    assert "kept as unconfirmed" in err and "giftdesk order reconcile 1" in err
    [order] = cli.json("order", "list", "--state", "unconfirmed")
    [provider_id] = list(fake.orders)
    settled = cli.json("order", "reconcile", str(order["id"]), "--provider-id", str(provider_id))
    assert settled["state"] == "pending" and settled["providerOrderId"] == provider_id


def test_the_services_table_shows_quantities_with_thousands_separators(cli):
    out, _ = cli("fampage", "services", "--network", "TikTok")
    row = next(line for line in out.splitlines() if line.startswith("102"))
    assert "50,000" in row and "50000" not in row



def test_invoice_create_bills_an_order_again_after_a_void(cli):
    cli("company", "add", "Acme")
    made = cli.json("order", "manual", "--company", "Acme", "--service-name", "Followers", "--link",
                    "https://tiktok.com/@v", "--quantity", "1000", "--cost", "0.90", "--multiplier", "8")
    order, first = made["order"], made["invoice"]
    out, err = cli("invoice", "create", "--order", str(order["id"]), expect=2)
    assert f"already has draft #{first['id']}" in err and "Traceback" not in err
    cli("invoice", "void", str(first["id"]), "--yes")
    again = cli.json("invoice", "create", "--order", str(order["id"]))
    assert again["status"] == "draft" and again["orderId"] == order["id"] and again["id"] != first["id"]
    assert again["total"] == first["total"]
    assert cli.json("order", "show", str(order["id"]))["invoice"]["id"] == again["id"]
    out, _ = cli("invoice", "create", "--order", "9999", expect=2)
