"""Start-up benchmark: process start to the main window's first paint.

Seeds a data directory with 1,000 customers and 2,000 TikTok accounts with credentials, then
starts, in fresh processes, (a) a bare PySide6 QMainWindow and (b) the GiftDesk main window on
that data, each several times, and prints the medians and their ratio. Both are measured in the
same run on the same machine, so the ratio is what to compare, not the milliseconds.

    python tests/bench/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Appended to both scripts: print the wall-clock time of the window's first paint, then quit.
FIRST_PAINT = r"""
class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print(f"PAINT {time.time():.6f}", flush=True)
            app.quit()
        return False
window.installEventFilter(FirstPaint(window))
window.show()
app.exec()
"""

BARE = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv)
window = QMainWindow()
window.resize(1280, 800)
""" + FIRST_PAINT

GIFTDESK = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject
from giftdesk.gui.app import create_application
app = create_application()
from giftdesk.desk import Desk
from giftdesk.gui.context import GuiContext
from giftdesk.gui.main_window import MainWindow
desk = Desk.open(sys.argv[1])
# The login dialog waits for a person; its password check (scrypt, ~0.1 s) is not start-up.
from giftdesk.core.context import Actor
actor = Actor("bench", "admin", 1)
ctx = GuiContext.create(desk.as_actor(actor))
window = MainWindow(ctx)
window.resize(1280, 800)
""" + FIRST_PAINT + """
window.close()
ctx.close()
"""

# What a person sees first: the splash `giftdesk` paints before it imports the domain layer.
# Timed when _splash() returns, after the events that painted it: a little late, never early.
SPLASH = r"""
import sys, time
from giftdesk.gui import app as gapp
application = gapp.create_application()
gapp._splash(application)
print(f"PAINT {time.time():.6f}", flush=True)
"""


def seed(data_dir: Path, customers: int = 1000, accounts: int = 2000) -> None:
    """Bulk insert (seeding is not what is measured); the schema comes from the real migrations."""
    sys.path.insert(0, str(REPO))
    from sqlalchemy import insert

    from giftdesk.db.models import Customer, TikTokAccount, TrackerCredential
    from giftdesk.db.types import utcnow
    from giftdesk.desk import Desk

    desk = Desk.open(str(data_dir))
    desk.admins.create("bench", "bench-password")
    now = utcnow()
    with desk.db.session() as session:
        session.execute(insert(Customer), [
            {"id": i, "name": f"Customer {i:04d}", "email": f"c{i}@example.com", "company": f"Company {i % 37}",
             "notes": "seeded", "created_at": now, "updated_at": now} for i in range(1, customers + 1)
        ])
        session.execute(insert(TikTokAccount), [
            {"id": i, "customer_id": (i - 1) % customers + 1, "username": f"creator_{i:05d}", "created_at": now,
             "updated_at": now} for i in range(1, accounts + 1)
        ])
        keys = [str(uuid.uuid4()) for _ in range(accounts)]
        session.execute(insert(TrackerCredential), [
            {"account_id": i + 1, "api_key_sha256": hashlib.sha256(k.encode()).hexdigest(), "key_hint": k[-4:],
             "status": "active", "instance_url": f"https://t{i}.example.com", "key_generated_at": now,
             "created_at": now, "updated_at": now} for i, k in enumerate(keys)
        ])
    desk.close()


def time_to_first_paint(script: str, *args: str) -> float:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"), "GIFTDESK_KEYRING": "file"}
    started = time.time()
    result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env,
                            cwd=REPO, timeout=120)
    for line in result.stdout.splitlines():
        if line.startswith("PAINT "):
            return float(line.split()[1]) - started
    raise RuntimeError(f"no first paint (exit {result.returncode}): {result.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        t = time.perf_counter()
        seed(data_dir)
        print(f"seeded 1,000 customers / 2,000 accounts with credentials in {time.perf_counter() - t:.1f} s")
        time_to_first_paint(BARE)  # warm the file cache for both
        time_to_first_paint(GIFTDESK, str(data_dir))
        bare, ours, splash = [], [], []
        for _ in range(args.runs):  # interleaved so drift hits all alike
            bare.append(time_to_first_paint(BARE))
            ours.append(time_to_first_paint(GIFTDESK, str(data_dir)))
            splash.append(time_to_first_paint(SPLASH))
    b, o, s = statistics.median(bare), statistics.median(ours), statistics.median(splash)
    runs = lambda values: ", ".join(f"{x * 1000:.0f}" for x in values)  # noqa: E731
    print(f"bare QMainWindow   median {b * 1000:7.0f} ms  (runs: {runs(bare)})")
    print(f"GiftDesk window    median {o * 1000:7.0f} ms  (runs: {runs(ours)})")
    print(f"GiftDesk splash    median {s * 1000:7.0f} ms  (runs: {runs(splash)})")
    print(f"ratio GiftDesk main window / bare: {o / b:.2f}x  (target <= 2x)")
    print(f"ratio GiftDesk splash / bare:      {s / b:.2f}x  (what a person sees first)")


if __name__ == "__main__":
    main()
