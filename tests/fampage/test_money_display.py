"""Money is exact inside and shown in the currency's minor units, rounded once, half-up, by
``money.round_money``; a shown profit is the shown revenue less the shown cost, so the figures add up."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest

from giftdesk.fampage import money
from giftdesk.fampage.analytics import Totals
from tests.support.cli import make_cli
from tests.support.fake_fampage import API_KEY

D = Decimal


@pytest.fixture
def cli(data_dir, capsys, fake, monkeypatch):
    monkeypatch.setenv("FAMPAGE_BASE_URL", fake.url)
    monkeypatch.setenv("FAMPAGE_API_KEY", API_KEY)
    return make_cli(capsys, "--data-dir", str(data_dir))


def test_format_money_rounds_half_up_not_half_even():
    assert money.format_money(D("0.125"), "INR") == "₹0.13"
    assert money.format_money(D("-0.125"), "INR") == "-₹0.13"
    assert money.format_money(D("2.5"), "JPY") == "¥3"


def test_shown_figures_add_up_even_on_a_half_minor_unit():
    # Rounding the exact profit alone would show 1.00 − 0.01 = 1.00 (0.995 rounds up).
    totals = Totals(1, D("0.005"), D("1.00"), "INR")
    shown = totals.to_json()
    assert (shown["revenue"], shown["cost"], shown["profit"]) == ("1.00", "0.01", "0.99")
    assert shown["costExact"] == "0.005" and shown["profitExact"] == "0.995"
    assert totals.profit == D("0.995")  # exact inside


def _adds_up(figures: dict) -> None:
    for key in ("cost", "revenue", "profit"):
        assert re.fullmatch(r"-?\d+\.\d\d", figures[key]), (key, figures[key])
    assert D(figures["revenue"]) - D(figures["cost"]) == D(figures["profit"])


def test_cli_shows_two_decimals_that_add_up(cli, tmp_path):
    cli("company", "add", "Acme", "--multiplier", "8")
    placed = cli.json("order", "add", "--company", "Acme", "--service", "102", "--link",
                      "https://tiktok.com/@acme/video/1", "--quantity", "640")
    order = placed["order"]
    # 18.7234 per 1000 × 640 = 11.982976; invoiced × 8 = 95.863808 → 95.86
    assert order["cost"] == "11.98" and order["costExact"] == "11.982976"
    assert order["revenue"] == "95.86" and order["profit"] == "83.88" and order["profitExact"] == "83.877024"
    _adds_up({"cost": order["netCost"], "revenue": order["revenue"], "profit": order["profit"]})
    cli("order", "add", "--company", "Acme", "--service", "101", "--link", "https://tiktok.com/@acme", "--quantity",
        "1234")

    out, _ = cli("order", "show", str(order["id"]))
    assert "11.98 INR" in out and "83.88" in out and "11.982976" not in out and "83.877024" not in out

    summary = cli.json("analytics", "summary")
    _adds_up(summary["total"])
    for group in ("byStatus", "byServiceType", "byNetwork"):
        for figures in summary[group].values():
            _adds_up(figures)
    out, _ = cli("analytics", "summary")
    total_line = next(line for line in out.splitlines() if line.startswith("Total"))
    numbers = re.findall(r"-?\d+\.\d+", total_line)
    assert numbers == [summary["total"]["cost"], summary["total"]["revenue"], summary["total"]["profit"],
                       numbers[3]]  # the margin, a percentage

    cli.json("analytics", "companies", "--csv", str(tmp_path / "companies.csv"))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "companies.csv").read_text())))
    assert rows and all(not key.endswith("Exact") for key in rows[0])
    for row in rows:
        _adds_up(row)
