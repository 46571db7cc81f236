"""Benchmark of Fampage orders, run by hand: ``python -m tests.bench.bench_orders``.

Three measurements, each with its baseline measured in the same run:

1. Status sync of 10,000 open orders against the fake panel answering every request after 50 ms:
   ``OrderService.sync_open_orders`` (batches of 100, 4 in parallel, applied in one transaction)
   vs asking one order at a time (``client.status(id)``, the open clone's way). The one-by-one
   baseline is timed on a sample (``--sample``, default 200) and scaled to 10,000 — the full run
   would take 10,000 × 50 ms ≈ 9 minutes; ``--sample 10000`` runs it anyway.
   Targets: ≤ 100 requests, ≥ 100× faster.
2. 1,000 invoice PDFs through ``render_invoice`` vs reportlab replaying the very same drawing calls
   (recorded once from our renderer) on a fresh canvas: reportlab's own cost with no logic of
   ours. Target ≤ 1.5×.
3. Each analytics view over 100,000 orders (SQLite file, 40 companies): median of 20 runs.
   Target ≤ 50 ms each. Baseline: ``SELECT count(*)`` over the same table.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

os.environ["GIFTDESK_KEYRING"] = "file"
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from giftdesk.db.fampage_models import Company, FampageOrder  # noqa: E402
from giftdesk.db.types import utcnow  # noqa: E402
from giftdesk.desk import Desk  # noqa: E402
from giftdesk.fampage import invoice_pdf, money  # noqa: E402
from giftdesk.fampage.client import FampageClient  # noqa: E402
from giftdesk.fampage.orders import link_key  # noqa: E402
from tests.support.fake_fampage import API_KEY, FakeFampage  # noqa: E402


def _bulk_orders(desk: Desk, company_ids: list[int], count: int, provider_ids: list[int] | None = None,
                 spread_days: int = 0) -> None:
    rng = random.Random(7)
    types = [("Default", "TikTok"), ("Package", "TikTok"), ("Custom Comments", "Instagram"), ("Default", "YouTube")]
    states = ["pending", "in_progress", "completed", "partial", "canceled"]
    now = utcnow()
    rows = []
    for i in range(count):
        kind, network = types[i % len(types)]
        quantity = rng.choice([100, 500, 1000, 5000])
        cost = Decimal("0.90") * quantity / 1000
        revenue = money.round_money(cost * 8, "INR")
        link = f"https://tiktok.com/@target{i % 5000}"
        rows.append(dict(
            company_id=company_ids[i % len(company_ids)], service_id=None, service_name=f"Service {i % 60}",
            service_type=kind, network=network, link=link, link_key=link_key(link), quantity=quantity,
            rate=Decimal("0.90"), cost=cost, currency="INR", multiplier=Decimal(8),
            provider_order_id=provider_ids[i] if provider_ids else None, status_raw="In progress",
            state="in_progress" if provider_ids else states[i % len(states)], start_count=0,
            remains=quantity if provider_ids else 0, refund=Decimal(0), manual=False,
            cost_units=money.to_units(cost), revenue_units=money.to_units(revenue),
            created_at=now - timedelta(days=rng.randint(0, spread_days)) if spread_days else now, updated_at=now))
    with desk.db.session() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(FampageOrder), rows[start:start + 5000])


def bench_sync(orders: int, sample: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, FakeFampage() as fake:
        desk = Desk.open(tmp)
        desk.settings.update({"fampage.base_url": fake.url})
        desk.settings.set_fampage_api_key(API_KEY)
        company = desk.companies.create("Bench")
        provider_ids = fake.add_orders_directly(orders)
        _bulk_orders(desk, [company.id], orders, provider_ids)
        for provider_id in provider_ids[: orders // 10]:
            fake.set_status(provider_id, "Completed", remains=0)
        fake.delay = 0.05
        fake.requests.clear()
        started = time.perf_counter()
        result = desk.orders.sync_open_orders()
        ours = time.perf_counter() - started
        our_requests = len(fake.requests)
        assert result.updated == orders, result

        fake.requests.clear()
        with httpx.Client() as http:
            client = FampageClient(http, fake.url, API_KEY)
            started = time.perf_counter()
            for provider_id in provider_ids[:sample]:
                client.status(provider_id)
            one_by_one = (time.perf_counter() - started) * orders / sample
        desk.close()
    return {"orders": orders, "ours_s": ours, "our_requests": our_requests, "one_by_one_s": one_by_one,
            "one_by_one_requests": orders, "sampled": sample, "changed": result.changed}


class _Recorder:
    """A canvas stand-in that forwards to a real canvas and records every call for replay."""

    def __init__(self, *args, **kwargs):
        self._canvas = Canvas(*args, **kwargs)
        self.calls: list[tuple[str, tuple, dict]] = []
        _Recorder.last = self

    def __getattr__(self, name):
        target = getattr(self._canvas, name)
        if not callable(target):
            return target

        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            return target(*args, **kwargs)

        return call


def bench_pdfs(count: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        desk = Desk.open(tmp)
        desk.settings.update({"company.name": "Northwind Growth", "company.address": "12 MG Road\nBengaluru",
                              "company.tax_id": "29ABCDE1234F1Z5", "invoice.tax_rate": "18", "invoice.tax_label": "GST"})
        company = desk.companies.create("Acme Creators", tax_id="27AAACA1234A1Z9", address="Mumbai 400001")
        order = desk.orders.create_manual(company.id, "TikTok Followers [Real]", "https://tiktok.com/@acme/video/1",
                                          5000, "93.617")
        invoice_id = desk.orders.invoice_of(order.id).id
        desk.invoices.issue(invoice_id)
        row = desk.invoices.get(invoice_id)
        logo = invoice_pdf.default_logo()
        invoice_pdf.render_invoice(row, io.BytesIO(), logo)  # fonts registered, logo cached

        original = invoice_pdf.Canvas
        invoice_pdf.Canvas = _Recorder
        try:
            invoice_pdf.render_invoice(row, io.BytesIO(), logo)
        finally:
            invoice_pdf.Canvas = original
        recorded = _Recorder.last
        construct = (recorded._canvas._filename, )
        calls = recorded.calls

        def replay():
            canvas = Canvas(io.BytesIO(), pagesize=invoice_pdf.A4, pageCompression=1,
                            initialFontName=invoice_pdf.FONT, initialFontSize=9)
            for name, args, kwargs in calls:
                getattr(canvas, name)(*args, **kwargs)

        def ours():
            invoice_pdf.render_invoice(row, io.BytesIO(), logo)

        def ours_with_db():
            desk.invoice_documents.pdf(invoice_id, io.BytesIO())

        timings = {}
        for label, fn in (("reportlab_replay", replay), ("ours", ours), ("ours_with_db", ours_with_db)):
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                for _ in range(count):
                    fn()
                best = min(best, time.perf_counter() - started)
            timings[label] = best
        desk.close()
        del construct
    return {"count": count, **timings, "calls_per_page": len(calls)}


def bench_analytics(count: int, runs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        desk = Desk.open(tmp)
        company_ids = [desk.companies.create(f"Company {i:02d}").id for i in range(40)]
        started = time.perf_counter()
        _bulk_orders(desk, company_ids, count, spread_days=365)
        fill = time.perf_counter() - started
        with desk.db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")

        def median_ms(fn) -> float:
            fn()
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                fn()
                samples.append((time.perf_counter() - started) * 1000)
            return statistics.median(samples)

        def count_all():
            with desk.db.read_session() as session:
                session.scalar(select(func.count()).select_from(FampageOrder))

        since = (utcnow() - timedelta(days=90)).date()
        figures = {
            "baseline count(*)": median_ms(count_all),
            "companies": median_ms(lambda: desk.analytics.companies()),
            "companies (90 days)": median_ms(lambda: desk.analytics.companies(since=since)),
            "summary": median_ms(lambda: desk.analytics.summary()),
            "summary (90 days)": median_ms(lambda: desk.analytics.summary(since=since)),
            "target": median_ms(lambda: desk.analytics.target("https://tiktok.com/@target42")),
            "history": median_ms(lambda: desk.analytics.history(company_ids[3])),
            "history (90 days)": median_ms(lambda: desk.analytics.history(company_ids[3], since=since)),
        }
        with desk.db.read_session() as session:
            assert session.scalar(select(func.count()).select_from(FampageOrder)) == count
            assert session.scalar(select(func.count()).select_from(Company)) == 40
        desk.close()
    return {"orders": count, "fill_s": fill, **figures}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--pdfs", type=int, default=1000)
    parser.add_argument("--analytics-orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", choices=("sync", "pdf", "analytics"))
    args = parser.parse_args()
    ok = True
    if args.only in (None, "sync"):
        s = bench_sync(args.orders, min(args.sample, args.orders))
        speedup = s["one_by_one_s"] / s["ours_s"]
        print(f"sync {s['orders']:,} open orders, fake answering after 50 ms:")
        print(f"  ours:        {s['our_requests']:>6,} requests  {s['ours_s']:8.2f} s  ({s['changed']:,} changed)")
        print(f"  one by one:  {s['one_by_one_requests']:>6,} requests  {s['one_by_one_s']:8.2f} s  "
              f"(timed on {s['sampled']:,}, scaled)")
        print(f"  speed-up:    {speedup:,.0f}×   targets: ≤ 100 requests, ≥ 100×")
        ok &= s["our_requests"] <= 100 and speedup >= 100
    if args.only in (None, "pdf"):
        p = bench_pdfs(args.pdfs)
        ratio = p["ours"] / p["reportlab_replay"]
        print(f"{p['count']:,} invoice PDFs ({p['calls_per_page']} drawing calls a page):")
        print(f"  reportlab replaying the same calls: {p['reportlab_replay']:6.2f} s "
              f"({p['reportlab_replay'] / p['count'] * 1000:.2f} ms each)")
        print(f"  render_invoice:                     {p['ours']:6.2f} s  ratio {ratio:.2f}×   target ≤ 1.5×")
        print(f"  with the database read per invoice: {p['ours_with_db']:6.2f} s  "
              f"ratio {p['ours_with_db'] / p['reportlab_replay']:.2f}×")
        ok &= ratio <= 1.5
    if args.only in (None, "analytics"):
        a = bench_analytics(args.analytics_orders, args.runs)
        print(f"analytics over {a['orders']:,} orders (SQLite, filled in {a['fill_s']:.1f} s), median of {args.runs}:")
        for key, value in a.items():
            if key in ("orders", "fill_s"):
                continue
            print(f"  {key:<22} {value:7.1f} ms" + ("" if key.startswith("baseline") else "   target ≤ 50 ms"))
            if not key.startswith("baseline"):
                ok &= value <= 50
    print("all targets met" if ok else "SOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
