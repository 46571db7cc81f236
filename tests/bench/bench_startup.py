"""Start-up benchmark: process start to the main window painted with the customers listed.

Seeds a data directory with 1,000 customers and 2,000 TikTok accounts with credentials, then
starts, in fresh processes, (a) a bare PySide6 QMainWindow, (b) the GiftDesk main window on that
data and (c) the splash, each several times, interleaved, and prints the medians, the spread and
the ratios to the bare window. All are measured in the same run on the same machine, so the
ratios are what to compare, not the milliseconds.

For the main window two moments are timed: its first paint, and the goal's "painted with the
customers listed" (the customers table painted with rows in it, taken after that paint event).

The started processes compile Python to bytecode once, in the warm-up, into a temporary cache
(as an installed GiftDesk has its ``.pyc`` files) even where ``PYTHONDONTWRITEBYTECODE`` is set:
otherwise every run would compile GiftDesk's own modules from source, which no user pays.

    python tests/bench/bench_startup.py [--runs 7] [--also DIR ...]

``--also DIR`` times another source tree's main window and splash in the same interleaved runs
(``git archive <commit> | tar -x -C DIR``): a before/after under the same load.
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
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QTableView
table = window.findChild(QTableView, "customers-table")

class Listed(QObject):
    # The customers table painted with rows: reported once that paint event has been handled.
    done = False

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not self.done and table.model().rowCount() > 0:
            self.done = True
            QTimer.singleShot(0, self.report)
        return False

    def report(self):
        print(f"LISTED {time.time():.6f}", flush=True)
        app.quit()

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print(f"PAINT {time.time():.6f}", flush=True)
            window.removeEventFilter(self)
        return False
window.installEventFilter(FirstPaint(window))
table.viewport().installEventFilter(Listed(window))
window.show()
app.exec()
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


PYCACHE = {"dir": ""}  # set by main(): a temporary bytecode cache for the started processes


def time_to(script: str, *args: str, source: Path = REPO) -> dict[str, float]:
    """Seconds from process start to each moment the script prints ("PAINT", "LISTED"), running
    the GiftDesk found in ``source``."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"), "GIFTDESK_KEYRING": "file",
           "PYTHONPYCACHEPREFIX": PYCACHE["dir"], "PYTHONPATH": str(source)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.time()
    result = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env,
                            cwd=source, timeout=120)
    moments = {}
    for line in result.stdout.splitlines():
        name, _, value = line.partition(" ")
        if name in ("PAINT", "LISTED"):
            moments[name] = float(value) - started
    if "PAINT" not in moments:
        raise RuntimeError(f"no first paint (exit {result.returncode}): {result.stderr[-2000:]}")
    return moments


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--also", type=Path, metavar="DIR", action="append", default=[],
                        help="another GiftDesk source tree (say, `git archive` of an older commit) timed in the same "
                             "interleaved runs, for a before/after under the same load; may be repeated")
    args = parser.parse_args()
    sources = {"": REPO, **{f" [{tree.name}]": tree.resolve() for tree in args.also}}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        PYCACHE["dir"] = str(Path(tmp) / "pycache")
        t = time.perf_counter()
        seed(data_dir)
        print(f"seeded 1,000 customers / 2,000 accounts with credentials in {time.perf_counter() - t:.1f} s")
        for _ in range(2):  # compile the bytecode and warm the file cache for all
            time_to(BARE)
            for source in sources.values():
                time_to(GIFTDESK, str(data_dir), source=source)
                time_to(SPLASH, source=source)
        times: dict[str, list[float]] = {"bare QMainWindow": []}
        for _ in range(args.runs):  # interleaved so drift hits all alike
            times["bare QMainWindow"].append(time_to(BARE)["PAINT"])
            for tag, source in sources.items():
                ours = time_to(GIFTDESK, str(data_dir), source=source)
                times.setdefault(f"main window painted{tag}", []).append(ours["PAINT"])
                times.setdefault(f"… customers listed{tag}", []).append(ours.get("LISTED", float("nan")))
                times.setdefault(f"splash{tag}", []).append(time_to(SPLASH, source=source)["PAINT"])
    bare = times["bare QMainWindow"]
    b, best_b = statistics.median(bare), min(bare)
    print(f"{'':36} {'median':>8} {'ratio':>6}   {'best':>6} {'ratio':>6}   runs (ms)")
    for name, values in times.items():
        m, best = statistics.median(values), min(values)
        print(f"{name:36} {m * 1000:6.0f} ms {m / b:5.2f}x   {best * 1000:4.0f} ms {best / best_b:5.2f}x   "
              f"{', '.join(f'{x * 1000:.0f}' for x in values)}")
    listed, splash = statistics.median(times["… customers listed"]), statistics.median(times["splash"])
    print(f"ratio main window with the customers listed / bare: {listed / b:.2f}x  (target <= 3x)")
    print(f"ratio splash / bare:                                {splash / b:.2f}x  (target <= 1.5x)")


if __name__ == "__main__":
    main()
