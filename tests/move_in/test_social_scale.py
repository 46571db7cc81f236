"""Moving the orders backend in: its mongoexport files of companies, orders and invoices become ours
through the command line, on SQLite and PostgreSQL; numbering continues after the highest imported
number, rounded amounts are reported, a second run changes nothing, bad input changes nothing."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from giftdesk.core.errors import PermissionDeniedError
from giftdesk.fampage.invoices import today
from giftdesk.move_in.social_scale import SocialScaleImport
from tests.conftest import POSTGRES_URL, _reset_postgres, require_service
from tests.support.cli import make_cli
from tests.support.fake_fampage import API_KEY, FakeFampage, FakeOrder

YEAR = today().year
CLIENT, BRIGHT = "6650a1f2c3d4e5f607182930", "6650a1f2c3d4e5f607182931"
ORDER_1, ORDER_2, ORDER_3 = "6650b0000000000000000001", "6650b0000000000000000002", "6650b0000000000000000003"
INVOICE_1, INVOICE_2, INVOICE_3 = "6650c0000000000000000001", "6650c0000000000000000002", "6650c0000000000000000003"


def oid(value: str) -> dict:
    return {"$oid": value}


def companies() -> list[dict]:
    """As ``mongoexport --collection=companies`` writes them by default: relaxed, one a line."""
    return [
        {"_id": oid(CLIENT), "name": "Client Corp", "email": "billing@clientcorp.example",
         "phone": "+91 98765 43210", "contactPerson": "Asha Rao",
         "address": {"street": "12 MG Road", "city": "Bengaluru", "country": "India"},
         "isActive": True, "createdAt": {"$date": "2025-03-01T10:00:00.000Z"},
         "updatedAt": {"$date": "2025-06-01T10:00:00.000Z"}, "__v": 0},
        {"_id": oid(BRIGHT), "name": "Bright Media", "gstNumber": "29ABCDE1234F1Z5",
         "website": "https://bright.example",
         "isActive": True, "createdAt": {"$date": "2025-04-02T08:00:00.000Z"}, "__v": 0},
    ]


def orders() -> list[dict]:
    """As ``mongoexport --jsonArray --jsonFormat=canonical`` writes them."""
    def number(value: str) -> dict:
        return {"$numberDouble": value}

    def whole(value: int) -> dict:
        return {"$numberInt": str(value)}

    def when(ms: int) -> dict:
        return {"$date": {"$numberLong": str(ms)}}

    return [
        {"_id": oid(ORDER_1), "companyId": oid(CLIENT), "providerId": oid("6650d0000000000000000001"),
         "apiOrderId": whole(23501), "service": whole(101), "serviceName": "TikTok Followers [Real]",
         "category": "TikTok : Followers", "link": "https://www.tiktok.com/@client/video/1",
         "quantity": whole(1000), "charge": number("12.345"), "status": "In progress",
         "stats": {"startCount": whole(150), "remains": whole(400)}, "invoiceMultiplier": whole(8),
         "createdAt": when(1748772000000), "updatedAt": when(1748775600000)},
        {"_id": oid(ORDER_2), "companyId": oid(BRIGHT), "apiOrderId": whole(23502), "service": whole(102),
         "serviceName": "Instagram Likes", "category": "Instagram : Likes", "link": "instagram.com/bright",
         "quantity": whole(500), "charge": number("0.30000000000000004"), "status": "Completed",
         "startCount": whole(10), "remains": whole(0), "createdAt": when(1748858400000)},
        {"_id": oid(ORDER_3), "companyId": oid(CLIENT), "apiOrderId": whole(23503), "service": whole(101),
         "serviceName": "TikTok Followers [Real]", "link": "https://www.tiktok.com/@client",
         "quantity": whole(1000), "charge": number("2.5"), "status": "Partial", "remains": whole(200),
         "invoiceMultiplier": whole(8), "createdAt": when(1748944800000)},
    ]


def invoices() -> list[dict]:
    """Relaxed, one a line; the amounts are the floats the old backend computed."""
    return [
        {"_id": oid(INVOICE_1), "invoiceNumber": f"INV-{YEAR}-0041", "companyId": oid(CLIENT),
         "orderId": oid(ORDER_1), "multiplier": 8, "subtotal": 98.76, "tax": 0, "totalAmount": 98.76,
         "status": "paid", "issueDate": {"$date": f"{YEAR}-01-05T00:00:00Z"},
         "paidAt": {"$date": f"{YEAR}-01-09T12:00:00Z"}, "createdAt": {"$date": f"{YEAR}-01-05T00:00:00Z"}},
        {"_id": oid(INVOICE_2), "invoiceNumber": f"INV-{YEAR}-0042", "companyId": oid(BRIGHT),
         "orderId": oid(ORDER_2), "multiplier": 8, "subtotal": 2.4000000000000004,
         "totalAmount": 2.4000000000000004, "status": "pending", "dueDate": {"$date": f"{YEAR}-02-05T00:00:00Z"},
         "createdAt": {"$date": f"{YEAR}-01-06T00:00:00Z"}},
        {"_id": oid(INVOICE_3), "invoiceNumber": f"INV-{YEAR}-0043", "companyId": oid(CLIENT),
         "orderId": oid(ORDER_3), "multiplier": 8,
         "items": [{"description": "TikTok Followers", "quantity": 1000, "unitPrice": 20, "amount": 20.005}],
         "subtotal": 20.005, "tax": 12.345, "totalAmount": 32.355000000000004, "status": "sent",
         "createdAt": {"$date": f"{YEAR}-01-07T00:00:00Z"}},
    ]


def lines(documents: list[dict]) -> str:
    # Python writes 2.4000000000000004 as it is: the float text the old backend stored.
    return "".join(json.dumps(d) + "\n" for d in documents)


@pytest.fixture
def exports(tmp_path):
    paths = {"companies": tmp_path / "Company.json", "orders": tmp_path / "Order.json",
             "invoices": tmp_path / "Invoice.json"}
    paths["companies"].write_text(lines(companies()))
    paths["orders"].write_text(json.dumps(orders(), indent=2))
    paths["invoices"].write_text(lines(invoices()))
    return paths


def arguments(paths: dict) -> list[str]:
    return [f"--{kind}={path}" for kind, path in paths.items()]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_cli(request, data_dir, capsys):
    if request.param == "sqlite":
        return make_cli(capsys, "--data-dir", str(data_dir))
    require_service(bool(POSTGRES_URL), "PostgreSQL (GIFTDESK_TEST_DATABASE_URL)")
    _reset_postgres(POSTGRES_URL)
    return make_cli(capsys, "--data-dir", str(data_dir), "--database-url", POSTGRES_URL)


def everything(cli) -> dict:
    return {"companies": cli.json("company", "list"), "orders": cli.json("order", "list"),
            "invoices": cli.json("invoice", "list")}


def test_the_export_is_imported_and_a_second_run_changes_nothing(any_cli, exports):
    cli = any_cli
    preview = cli.json("import", "social-scale", *arguments(exports), "--dry-run")
    assert preview["dryRun"] and not preview["changed"]
    assert preview["created"] == {"company": 2, "order": 3, "invoice": 3}
    assert [s["action"] for s in preview["steps"]] == ["create"] * 8
    assert cli.json("order", "list") == []  # the preview wrote nothing

    report = cli.json("import", "social-scale", *arguments(exports))
    assert report["changed"] and report["created"] == {"company": 2, "order": 3, "invoice": 3}
    assert report["summary"].startswith("Imported 2 companies, 3 orders, 3 invoices")

    by_name = {c["name"]: c for c in cli.json("company", "list")}
    assert set(by_name) == {"Client Corp", "Bright Media"}
    client = by_name["Client Corp"]
    assert client["email"] == "billing@clientcorp.example" and client["contactName"] == "Asha Rao"
    assert client["address"] == "12 MG Road, Bengaluru, India" and client["createdAt"].startswith("2025-03-01")
    assert by_name["Bright Media"]["taxId"] == "29ABCDE1234F1Z5"

    placed = {o["providerOrderId"]: o for o in cli.json("order", "list")}
    assert set(placed) == {23501, 23502, 23503}
    first = placed[23501]
    assert first["companyName"] == "Client Corp" and first["serviceId"] is None  # not in our catalogue
    assert first["serviceName"] == "TikTok Followers [Real]" and first["network"] == "TikTok"
    assert first["quantity"] == 1000 and first["link"] == "https://www.tiktok.com/@client/video/1"
    assert first["chargeExact"] == "12.345" and first["status"] == "In progress" and first["state"] == "in_progress"
    assert first["startCount"] == 150 and first["remains"] == 400 and first["multiplier"] == "8"
    assert first["createdAt"].startswith("2025-06-01") and first["revenue"] == "98.76"
    assert placed[23502]["chargeExact"] == "0.30" and placed[23502]["state"] == "completed"
    assert placed[23502]["multiplier"] == "8" and placed[23502]["rate"] == "0.60"  # its invoice's; 0.30 per 500
    partial = placed[23503]
    assert partial["state"] == "partial" and partial["refundExact"] == "0.50"  # 2.5 × 200 / 1000, given back

    numbered = {i["number"]: i for i in cli.json("invoice", "list")}
    assert set(numbered) == {f"INV-{YEAR}-0041", f"INV-{YEAR}-0042", f"INV-{YEAR}-0043"}
    paid = numbered[f"INV-{YEAR}-0041"]
    assert paid["status"] == "paid" and paid["total"] == "98.76" and paid["orderId"] == first["id"]
    assert paid["issueDate"] == f"{YEAR}-01-05" and paid["client"]["name"] == "Client Corp"
    assert paid["lines"][0]["amount"] == "98.76" and paid["lines"][0]["quantity"] == 1000
    assert numbered[f"INV-{YEAR}-0042"]["status"] == "sent"
    assert numbered[f"INV-{YEAR}-0042"]["total"] == "2.40"
    third = numbered[f"INV-{YEAR}-0043"]
    assert (third["subtotal"], third["tax"], third["total"]) == ("20.01", "12.35", "32.36")
    assert third["lines"][0]["amount"] == "20.01" and third["lines"][0]["unitPrice"] == "20.00"

    rounded = {(r["legacyId"], r["field"]): (r["exported"], r["imported"]) for r in report["rounded"]}
    assert rounded == {
        (ORDER_2, "charge"): ("0.30000000000000004", "0.30"),
        (INVOICE_2, "subtotal"): ("2.4000000000000004", "2.40"),
        (INVOICE_2, "total"): ("2.4000000000000004", "2.40"),
        (INVOICE_3, "items.1.amount"): ("20.005", "20.01"),
        (INVOICE_3, "subtotal"): ("20.005", "20.01"),
        (INVOICE_3, "tax"): ("12.345", "12.35"),
        (INVOICE_3, "total"): ("32.355000000000004", "32.36"),
    }
    assert report["numbering"][f"INV-{YEAR}"]["next"] == f"INV-{YEAR}-000044"
    audit = cli.json("audit", "list", "--search", "social-scale")
    assert [a["action"] for a in audit] == ["import.social_scale"]

    before = everything(cli)
    again = cli.json("import", "social-scale", *arguments(exports))
    assert not again["changed"] and again["created"] == {"company": 0, "order": 0, "invoice": 0}
    assert again["skipped"] == {"company": 2, "order": 3, "invoice": 3}
    assert again["summary"].startswith("Nothing to import: every document was imported before")
    assert everything(cli) == before
    assert len(cli.json("audit", "list", "--search", "social-scale")) == 1

    # Our numbering continues after the highest imported number.
    made = cli.json("order", "manual", "--company", "Client Corp", "--service-name", "Views",
                    "--link", "https://www.tiktok.com/@client/video/9", "--quantity", "100", "--cost", "1.00")
    issued = cli.json("invoice", "issue", str(made["invoice"]["id"]))
    assert issued["number"] == f"INV-{YEAR}-000044"


def test_the_text_report_lists_documents_rounded_values_and_the_next_number(tmp_path, data_dir, capsys, exports):
    cli = make_cli(capsys, "--data-dir", str(data_dir))
    out, _ = cli("import", "social-scale", *arguments(exports), "--dry-run")
    assert "Would import 2 companies, 3 orders, 3 invoices" in out
    assert "0.30000000000000004" in out and "32.355000000000004" in out
    assert f"INV-{YEAR}-000044" in out
    out, _ = cli("import", "social-scale", *arguments(exports))
    assert out.startswith("Imported 2 companies")
    out, _ = cli("import", "social-scale", *arguments(exports))
    assert out.startswith("Nothing to import: every document was imported before; nothing was changed.")


def test_status_sync_goes_on_with_the_imported_fampage_order_ids(data_dir, capsys, exports):
    cli = make_cli(capsys, "--data-dir", str(data_dir))
    cli("import", "social-scale", *arguments(exports))
    with FakeFampage() as fake:
        fake.orders[23501] = FakeOrder(23501, 101, "https://www.tiktok.com/@client/video/1", 1000,
                                       Decimal("12.345"), "Completed", 150, 0)
        cli("settings", "set", "fampage.base_url", fake.url)
        cli("settings", "fampage-key", "--value", API_KEY)
        result = cli.json("order", "sync")
    assert result["requested"] == 1 and result["changed"] == 1  # the one open order, by its Fampage id
    synced = {o["providerOrderId"]: o for o in cli.json("order", "list")}
    assert synced[23501]["state"] == "completed" and synced[23501]["remains"] == 0


def test_numbers_without_a_year_continue_in_this_year_and_unnumbered_invoices_are_drafts(data_dir, capsys, exports):
    cli = make_cli(capsys, "--data-dir", str(data_dir))
    first, second, third = invoices()
    exports["invoices"].write_text(lines([
        {**first, "invoiceNumber": "SS-0107"},
        {**second, "invoiceNumber": "SS-1717171717171"},  # a timestamp, not a count
        {key: value for key, value in third.items() if key != "invoiceNumber"} | {"status": "draft"}]))
    report = cli.json("import", "social-scale", *arguments(exports))
    assert report["numbering"] == {f"INV-{YEAR}": {"lastNumber": 107, "before": 0, "next": f"INV-{YEAR}-000108"}}
    assert any("SS-1717171717171's last digits are not a count" in note for note in report["notes"])
    draft = next(i for i in cli.json("invoice", "list") if i["number"] is None)
    assert draft["status"] == "draft" and draft["total"] == "32.36"
    assert cli.json("invoice", "issue", str(draft["id"]))["number"] == f"INV-{YEAR}-000108"


def test_an_order_naming_its_service_in_words_and_an_embedded_company(data_dir, capsys, exports):
    cli = make_cli(capsys, "--data-dir", str(data_dir))
    first = orders()[0]
    exports["orders"].write_text(json.dumps([{**{k: v for k, v in first.items() if k not in ("serviceName",)},
                                              "service": "YouTube Views", "companyId": {"_id": oid(BRIGHT)}}]))
    exports["invoices"].write_text("")
    report = cli.json("import", "social-scale", *arguments(exports))
    assert report["created"] == {"company": 2, "order": 1, "invoice": 0}
    [order] = cli.json("order", "list")
    assert order["serviceName"] == "YouTube Views" and order["serviceId"] is None
    assert order["companyName"] == "Bright Media" and order["multiplier"] == "8"


def test_orders_and_invoices_of_companies_imported_in_an_earlier_run(data_dir, capsys, exports):
    cli = make_cli(capsys, "--data-dir", str(data_dir))
    first = cli.json("import", "social-scale", "--companies", str(exports["companies"]))
    assert first["created"] == {"company": 2, "order": 0, "invoice": 0}
    second = cli.json("import", "social-scale", "--orders", str(exports["orders"]),
                      "--invoices", str(exports["invoices"]))
    assert second["created"] == {"company": 0, "order": 3, "invoice": 3}
    assert {i["companyName"] for i in cli.json("invoice", "list")} == {"Client Corp", "Bright Media"}


def test_a_company_we_have_by_name_is_linked_not_made_twice(data_dir, capsys, exports):
    cli = make_cli(capsys, "--data-dir", str(data_dir))
    ours = cli.json("company", "add", "client corp")
    report = cli.json("import", "social-scale", *arguments(exports))
    assert report["created"]["company"] == 1 and report["linked"]["company"] == 1
    assert len(cli.json("company", "list")) == 2
    assert {o["companyId"] for o in cli.json("order", "list") if o["companyName"] == "client corp"} == {ours["id"]}


@pytest.mark.parametrize("breakage, says", [
    (lambda p: p["orders"].unlink(), "Order.json does not exist"),
    (lambda p: p["orders"].write_text(json.dumps([{**orders()[0], "companyId": oid("6650a1f2c3d4e5f6071829ff")}])),
     "points at company 6650a1f2c3d4e5f6071829ff, which is neither in the companies export nor imported before"),
    (lambda p: p["invoices"].write_text(lines(invoices()) + "[1, 2]\n"), "a document must be a JSON object"),
    (lambda p: p["orders"].write_text(json.dumps([{**orders()[0], "quantity": "many"}])), "quantity must be"),
    (lambda p: p["invoices"].write_text(
        lines(invoices()[:1] + [{**invoices()[1], "invoiceNumber": f"INV-{YEAR}-0041"}])),
     f"invoice number INV-{YEAR}-0041 is also"),
])
def test_bad_input_is_one_sentence_and_nothing_is_written(data_dir, capsys, exports, breakage, says):
    cli = make_cli(capsys, "--data-dir", str(data_dir))
    cli("company", "list")  # a database to compare with
    breakage(exports)
    _out, err = cli("import", "social-scale", *arguments(exports), expect=2)
    assert says in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert everything(cli) == {"companies": [], "orders": [], "invoices": []}


def test_an_invoice_number_we_issued_already_stops_the_import(data_dir, capsys, exports):
    cli = make_cli(capsys, "--data-dir", str(data_dir))
    cli("company", "add", "Someone")
    made = cli.json("order", "manual", "--company", "Someone", "--service-name", "Views",
                    "--link", "https://www.tiktok.com/@x", "--quantity", "100", "--cost", "1.00")
    number = cli.json("invoice", "issue", str(made["invoice"]["id"]))["number"]
    exports["invoices"].write_text(lines([{**invoices()[0], "invoiceNumber": number}]))
    _out, err = cli("import", "social-scale", *arguments(exports), expect=2)
    assert f"invoice number {number} is taken here already" in err
    assert len(cli.json("company", "list")) == 1


def test_a_viewer_may_preview_but_not_import(desk, exports):
    desk.admins.create("root", "root password 1")
    desk.admins.create("watcher", "watch password 1", role="viewer")
    viewer = desk.as_actor(desk.admins.authenticate("watcher", "watch password 1"))
    importer = SocialScaleImport(viewer.ctx, viewer.settings, viewer.invoices)
    assert importer.preview(**exports).count("create") == 8
    with pytest.raises(PermissionDeniedError):
        importer.run(**exports)
    assert desk.companies.list() == [] and desk.orders.list() == []


def test_the_migration_makes_the_table_the_model_describes(any_db_desk):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from giftdesk.db.models import Base

    with any_db_desk.db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if "imported_records" in repr(d)] == []
