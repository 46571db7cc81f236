"""Screenshots for the README: ``python -m giftdesk.gui.screenshots OUTDIR [--scheme light|dark|both]``.

Seeds a throw-away data directory with demo customers, TikTok accounts, API keys and tracker
data, opens the main window at 1280x800 and saves PNGs of each tab and of the settings dialog.
Runs offscreen when there is no display. The secret store is the data directory's file (the
demo never writes to your keyring).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

DEMO_CUSTOMERS = [
    # name, e-mail, company, notes, [(handle, key status, minutes since the tracker last called)]
    ("Aarav Sharma", "aarav@sharmastudio.in", "Sharma Studio",
     "Streams cricket watch-alongs on weekends. Invoice monthly; prefers WhatsApp for urgent issues.",
     [("aarav.live", "active", 2), ("aarav_gaming", "active", 47), ("aarav.shorts", "inactive", 60 * 24 * 9)]),
    ("Priya Nair", "priya.nair@pnmedia.in", "PN Creators", "Dance battles every Friday, 9 pm IST.",
     [("priyadances", "active", 0)]),
    ("Kenji Watanabe", "kenji@watanabe.jp", "", "", [("kenji_cooks", "active", 180)]),
    ("Lumen Media", "ops@lumenmedia.co", "Lumen Media Ltd", "Agency account: three creators under one contract.",
     [("lumen.beauty", "active", 5), ("lumen.travel", "active", 60 * 30), ("lumen.tech", None, None)]),
    ("Mia Hoffmann", "mia.hoffmann@posteo.de", "", "", [("mia_asmr", "active", 12)]),
    ("Diego Alvarez", "diego@alvarez.mx", "DA Games", "", [("diegoplays", "active", 60 * 5)]),
    ("Chloé Bernard", "chloe@bernard.fr", "", "Goal widget in pink, please.", [("chloe.paris", "active", 1)]),
    ("Ravi Patel", "ravi@fitwithravi.com", "Fit With Ravi", "", [("ravi.fitness", "inactive", 60 * 24 * 40)]),
    ("Hannah Kim", "hannah@hkmusic.kr", "HK Music", "", [("hannahkimmusic", "active", 25)]),
    ("Omar Haddad", "omar.haddad@outlook.com", "", "Trial customer; no account yet.", []),
]

GIFT_GROUPS = {
    "group-1": {"name": "VIP Gifts", "goal": 50000, "color": "#ff3366", "giftIds": [5655, 5656, 5657]},
    "group-2": {"name": "Roses & Hearts", "goal": 10000, "color": "#22aa66", "giftIds": [5658, 5659]},
    "group-3": {"name": "Universe", "goal": 120000, "color": "#5b5bd6", "giftIds": [7934]},
}


def seed_demo(desk) -> dict:
    """Creates the demo data as the owner; returns {"selected": customer id to show}."""
    from sqlalchemy import update

    from giftdesk.db.models import TrackerCredential

    now = datetime.now(timezone.utc)
    selected = None
    accessed: dict[int, datetime] = {}
    for name, email, company, notes, accounts in DEMO_CUSTOMERS:
        customer = desk.customers.create(name, email or None, company or None, notes or None)
        if selected is None:
            selected = customer.id
        for handle, status, minutes in accounts:
            account = desk.customers.add_account(customer.id, handle)
            if status is None:
                continue
            desk.keys.generate(account.id, f"https://{handle.replace('.', '-').replace('_', '-')}.trackers.example.com")
            if status == "inactive":
                desk.keys.set_active(account.id, False)
            if minutes is not None:
                accessed[account.id] = now - timedelta(minutes=minutes, seconds=20)
            desk.tracker_data.save_gift_groups(account.id, GIFT_GROUPS)
            desk.tracker_data.save_config(account.id, {"tiktokUsername": f"@{handle}", "theme": "dark",
                                                       "language": "en", "notifications": True,
                                                       "autoConnect": False})
    # Demo last-access times, as the endpoint would have recorded them.
    with desk.db.session() as session:
        for account_id, when in accessed.items():
            session.execute(update(TrackerCredential).where(TrackerCredential.account_id == account_id)
                            .values(last_accessed_at=when))
    desk.settings.update({
        "company.name": "Gift Ops Agency", "company.email": "billing@giftops.example",
        "company.address": "12 MG Road\nBengaluru 560001\nIndia", "company.phone": "+91 80 1234 5678",
        "company.tax_id": "29ABCDE1234F1Z5",
    })
    desk.settings.set_fampage_api_key("demo-fampage-key")
    return {"selected": selected}


DEMO_CREATORS = [
    # display name, TikTok handle of a demo account (or None), city, state, country, niches,
    # {platform: (followers a year ago, followers now, engagement %)}
    ("Aarav Sharma", "aarav.live", "Mumbai", "Maharashtra", "India", "cricket, gaming",
     {"tiktok": (41_000, 88_500, "6.8"), "instagram": (22_000, 31_200, "3.1"), "youtube": (9_000, 15_400, "2.4")}),
    ("Priya Nair", "priyadances", "Kochi", "Kerala", "India", "dance, music",
     {"tiktok": (120_000, 164_000, "9.2"), "instagram": (64_000, 70_500, "4.4")}),
    ("Kenji Watanabe", "kenji_cooks", "Osaka", "", "Japan", "food",
     {"tiktok": (18_000, 26_300, "7.1"), "youtube": (30_000, 29_100, "3.0")}),
    ("Chloé Bernard", "chloe.paris", "Paris", "", "France", "fashion, travel",
     {"tiktok": (52_000, 61_000, "5.5"), "instagram": (140_000, 152_000, "2.2"), "twitter": (8_000, 7_600, "0.9")}),
    ("Diego Alvarez", "diegoplays", "Guadalajara", "Jalisco", "Mexico", "gaming",
     {"twitch": (35_000, 58_000, "11.5"), "tiktok": (12_000, 19_800, "6.0"), "youtube": (20_000, 24_000, "3.6")}),
    ("Hannah Kim", "hannahkimmusic", "Seoul", "", "South Korea", "music",
     {"tiktok": (9_000, 31_000, "8.4"), "instagram": (15_000, 21_000, "3.9")}),
]


def seed_social_demo(desk) -> int:
    """A year of weekly syncs (daily for the last month) per demo creator; returns the one to show."""
    import math

    now = datetime.now(timezone.utc)
    handles = {a.username: a.id for a in desk.customers.list_accounts()}
    shown = None
    for n, (name, handle, city, state, country, niches, platforms) in enumerate(DEMO_CREATORS):
        profile = desk.social.create(name, city=city, state=state, country=country, niches=niches,
                                     account_id=handles.get(handle))
        shown = shown or profile.id
        days = sorted(set(range(365, 30, -7)) | set(range(30, -1, -1)), reverse=True)
        for day in days:
            progress = (365 - day) / 365
            for i, (platform, (before, after, engagement)) in enumerate(platforms.items()):
                wobble = 1 + 0.02 * math.sin(day / 11 + i + n)
                followers = int((before + (after - before) * progress ** 1.3) * wobble)
                desk.social.sync(profile.id, platform, followers, engagement, source="endpoint", allow_text=True,
                                 now=now - timedelta(days=day, hours=n))
    return shown


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _settle(app, seconds: float = 0.4, until=None, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if until is None or until():
            break
        time.sleep(0.01)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def take(outdir: Path, schemes: list[str], pause: float = 0.3, live_status: bool = True) -> list[Path]:
    """Saves the PNGs; ``pause``: seconds to let each screen settle before grabbing.

    ``live_status``: ping the real Docker engine and run the endpoint, so the status bar is true.
    """
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["GIFTDESK_KEYRING"] = "file"  # demo keys never go to the real keyring

    from PySide6.QtCore import qInstallMessageHandler

    from giftdesk.gui.app import create_application, qt_message_handler
    from giftdesk.gui.errors import ErrorRoute

    previous_handler = qInstallMessageHandler(qt_message_handler)
    previous_presenter = ErrorRoute.presenter
    outdir.mkdir(parents=True, exist_ok=True)
    app = create_application(schemes[0])
    errors: list[str] = []
    ErrorRoute.presenter = staticmethod(lambda exc, parent: errors.append(f"{type(exc).__name__}: {exc}"))
    saved: list[Path] = []
    try:
        saved = _take(app, outdir, schemes, pause, live_status)
    finally:
        ErrorRoute.presenter = previous_presenter
        qInstallMessageHandler(previous_handler)
    for error in errors:
        print(f"error during screenshots: {error}", file=sys.stderr)
    return saved


def _take(app, outdir: Path, schemes: list[str], pause: float, live_status: bool) -> list[Path]:
    from giftdesk.desk import Desk
    from giftdesk.gui import theme
    from giftdesk.gui.context import GuiContext
    from giftdesk.gui.system.settings import SettingsDialog
    from giftdesk.gui.main_window import MainWindow

    saved: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="giftdesk-shots-") as tmp:
        desk = Desk.open(tmp)
        try:
            demo = seed_demo(desk)
            demo["creator"] = seed_social_demo(desk)
            desk.settings.update({"endpoint.port": _free_port()})
            desk.scheduled_backups.set_schedule("daily 02:30", 7)  # the Storage page shows a schedule and a copy
            desk.scheduled_backups.run()
            desk.admins.create("maya", "demo-password-1")
            user = desk.as_actor(desk.admins.authenticate("maya", "demo-password-1"))
            for scheme in schemes:
                theme.apply_theme(app, scheme)
                suffix = "" if scheme == "light" else f"-{scheme}"
                ctx = GuiContext.create(user)
                window = MainWindow(ctx, background=live_status)
                window.resize(1280, 800)
                window.show()
                _settle(app, pause, until=lambda: ctx.runner.running == 0)
                if live_status:
                    _settle(app, 0, timeout=5, until=lambda: window.runtime_view.docker_state.reachable is not None
                            and getattr(window.runtime_view.status("endpoint"), "state", "") == "running")
                window.customers_tab.table.select_key(demo["selected"])
                _settle(app, pause * 2, until=lambda: ctx.runner.running == 0)

                def shot(name: str, widget) -> None:
                    _settle(app, pause, until=lambda: ctx.runner.running == 0)
                    path = outdir / f"{name}{suffix}.png"
                    widget.grab().save(str(path))
                    saved.append(path)

                for title, name in (("Customer Accounts", "customers"), ("API Keys", "api-keys"),
                                    ("Instances", "instances"), ("Social Stats", "social-stats"),
                                    ("Fampage Orders", "fampage-empty")):
                    window.show_tab(title)  # built now, on first show: its first load is under way
                    _settle(app, 0, until=lambda: ctx.runner.running == 0)
                    if name == "social-stats":
                        window.stats_tab.table.select_key(demo["creator"])
                        _settle(app, pause, until=lambda: ctx.runner.running == 0)
                        window.stats_tab.set_range(90)
                        _settle(app, pause, until=lambda: ctx.runner.running == 0)
                    shot(name, window)
                window.show_tab("Customer Accounts")
                dialog = SettingsDialog(ctx, window)
                dialog.show()
                _settle(app, pause, until=lambda: dialog.loaded is not None)
                shot("settings", dialog)
                dialog.tabs.setCurrentIndex(1)
                shot("settings-endpoint", dialog)
                dialog.close()
                window.close()
                ctx.close()
                window.deleteLater()
                _settle(app, 0.1)
        finally:
            desk.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m giftdesk.gui.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--scheme", choices=["light", "dark", "both"], default="both")
    args = parser.parse_args(argv)
    schemes = ["light", "dark"] if args.scheme == "both" else [args.scheme]
    for path in take(args.outdir, schemes):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
