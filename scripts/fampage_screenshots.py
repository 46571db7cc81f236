"""README screenshots of the Fampage Orders tab with demo data, against the fake Fampage panel.

    scripts/screenshot.sh python scripts/fampage_screenshots.py resources/screenshots

Writes fampage-orders(-dark).png, fampage-invoices(-dark).png, fampage-analytics(-dark).png and
fampage-companies(-dark).png. A development tool: the fake panel lives in tests/support (the
window's own screenshot script, giftdesk.gui.screenshots, has no Fampage server to talk to and
shows the tab's "connect Fampage" state as fampage-empty.png).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.screenshot_kit import Shots, run

VIEWS = ("orders", "invoices", "analytics", "companies")
OUTPUTS = tuple(f"fampage-{view}{suffix}.png" for view in VIEWS for suffix in ("", "-dark"))


def demo_desk(tmp: str, fake):
    """A desk with three companies' orders in every state the panel gives, and a company waiting
    for approval; gives the desk, the order ids and the waiting company."""
    from giftdesk.desk import Desk
    from tests.support.fake_fampage import API_KEY

    desk = Desk.open(tmp)
    desk.settings.update({"fampage.base_url": fake.url, "company.name": "Northwind Growth"})
    desk.settings.set_fampage_api_key(API_KEY)
    acme = desk.companies.create("Acme Media", contact_name="Asha Rao", email="asha@acme.in")
    beta = desk.companies.create("Beta Studios", invoice_multiplier="10")
    gamma = desk.companies.create("Gamma Foods", invoice_multiplier="6")
    # A company that asked through the intake form: it waits for approval in the Companies view.
    delta = desk.companies.submit({"name": "Delta Creators", "contact_name": "Meera Iyer", "email": "hello@delta.in"},
                                  source="203.0.113.5")
    desk.fampage.refresh_services()
    specs = [(acme, 101, "https://www.tiktok.com/@acmemedia", 2000, "Completed", 0),
             (acme, 102, "https://www.tiktok.com/@acmemedia/video/7310", 5000, "In progress", 2100),
             (beta, 103, "https://www.tiktok.com/@betastudios/video/991", 1000, "Completed", 0),
             (beta, 101, "https://www.tiktok.com/@betastudios", 1500, "Partial", 400),
             (gamma, 105, "https://www.instagram.com/gammafoods", 1000, "Pending", 1000),
             (gamma, 106, "https://www.youtube.com/watch?v=gamma1", 20000, "Completed", 0),
             (acme, 101, "https://www.tiktok.com/@acme.shop", 800, "Canceled", 800)]
    ids = []
    for company, service, link, qty, status, remains in specs:
        o, inv = desk.orders.place(company.id, service, link, qty)
        desk.invoices.issue(inv.id)
        fake.set_status(o.provider_order_id, status, remains=remains, start_count=1200)
        ids.append(o.id)
    desk.orders.sync()
    desk.invoices.pay(desk.orders.invoice_of(ids[0]).id)
    fake.fail_next("add", 504, "<html>Gateway Time-out</html>")
    try:  # an answer lost on the way: the order waits, unconfirmed, for the user to reconcile it
        desk.orders.place(gamma.id, 101, "https://www.tiktok.com/@gammafoods", 500)
    except Exception as exc:  # noqa: BLE001
        print(exc)
    return desk, ids, delta


def shoot(shots: Shots) -> None:
    import tempfile

    from giftdesk.gui import theme
    from giftdesk.gui.context import GuiContext
    from giftdesk.gui.main_window import MainWindow
    from tests.support.fake_fampage import FakeFampage

    fake = FakeFampage().start()
    with tempfile.TemporaryDirectory(prefix="giftdesk-fampage-shots-") as tmp:
        desk, ids, delta = demo_desk(tmp, fake)
        try:
            for scheme in ("light", "dark"):
                theme.apply_theme(shots.app, scheme)  # a window made in the palette, as the user would open it
                suffix = "" if scheme == "light" else "-dark"
                ctx = GuiContext.create(desk)
                window = MainWindow(ctx, background=False)
                window.resize(1280, 800)
                window.show()
                window.show_tab("Fampage Orders")
                shots.settle(2)
                tab = window.orders_tab
                tab.orders.table.select_key(ids[1])
                shots.settle(0.5)
                shots.save(window, f"fampage-orders{suffix}.png")
                tab.views.setCurrentWidget(tab.invoices)
                shots.settle(0.8)
                tab.invoices.table.select_key(tab.invoices.table.rows[0].id)
                shots.save(window, f"fampage-invoices{suffix}.png")
                tab.views.setCurrentWidget(tab.analytics)
                shots.settle(1.2)
                shots.save(window, f"fampage-analytics{suffix}.png")
                tab.views.setCurrentWidget(tab.companies)
                shots.settle(0.8)
                tab.companies.table.select_key(delta.id)
                shots.save(window, f"fampage-companies{suffix}.png")
                window.close()
                ctx.close()
                shots.settle(0.2)
            theme.apply_theme(shots.app, "light")
        finally:
            desk.close()
            fake.stop()


def main(argv: list[str]) -> int:
    return run("fampage_screenshots", argv, __doc__, OUTPUTS, shoot)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
