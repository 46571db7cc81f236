"""Benchmark of the window's hand-over to a detached ``giftdesk serve``, run by hand:
``python -m tests.bench.bench_handover [--rounds 3] [--clients 4]``.

Each round opens the main window (offscreen) on a fresh data directory with
``runtime.keep_running on``, starts ``--clients`` threads that ask ``/health`` over and over, each on
a new connection (what a tracker's retry-less request looks like), closes the window (the hand-over),
lets the serve answer a while, then stops it. It prints, per round and in all:

- requests answered and **refused** (any connection error or non-200: the target is 0);
- the latency of requests before the hand-over (the baseline, p50/p99) and the longest request
  that was in flight across it, as a ratio to the baseline's p50: what a tracker waits, not a loss.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

os.environ["GIFTDESK_KEYRING"] = "file"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Client(threading.Thread):
    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/health"
        self.done = threading.Event()
        self.timings: list[tuple[float, float]] = []  # (start, seconds)
        self.failures: list[str] = []

    def run(self) -> None:
        while not self.done.is_set():
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=60) as response:
                    if response.status != 200:
                        self.failures.append(f"status {response.status}")
                        continue
                    response.read()
                self.timings.append((started, time.perf_counter() - started))
            except Exception as exc:  # noqa: BLE001 - every failure counts
                self.failures.append(repr(exc))


def _round(app, clients: int, settle: float) -> dict:
    from giftdesk.core.context import Actor
    from giftdesk.desk import Desk
    from giftdesk.gui.context import GuiContext
    from giftdesk.gui.main_window import MainWindow
    from giftdesk.runtime.detached import stop_serve

    with tempfile.TemporaryDirectory(prefix="gd-handover-") as data_dir:
        desk = Desk.open(data_dir)
        port = _free_port()
        desk.settings.update({"endpoint.port": port, "endpoint.bind": "local",
                              "docker.host": "unix:///nonexistent.sock", "runtime.keep_running": "on"})
        ctx = GuiContext.create(desk.as_actor(Actor("bench", "admin")))
        window = MainWindow(ctx, background=False)
        window.hand_over_on_close = True
        window.start_background()
        deadline = time.monotonic() + 30
        while not window.status.endpoint.text().startswith(f"Endpoint: port {port}") and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        threads = [Client(port) for _ in range(clients)]
        for thread in threads:
            thread.start()
        time.sleep(settle)
        handover_at = time.perf_counter()
        window.close()
        app.processEvents()
        handed_to = window.runtime_view.handed_over_to
        handover_done = time.perf_counter()
        time.sleep(settle)
        for thread in threads:
            thread.done.set()
        for thread in threads:
            thread.join(120)
        ctx.close()
        desk.close()
        if handed_to is not None:
            stop_serve(Path(data_dir))
    before = [seconds for t in threads for start, seconds in t.timings if start + seconds < handover_at]
    across = [seconds for t in threads for start, seconds in t.timings
              if start < handover_done and start + seconds > handover_at]
    return {"answered": sum(len(t.timings) for t in threads), "refused": sum(len(t.failures) for t in threads),
            "failures": [f for t in threads for f in t.failures][:3], "before": before, "across": across,
            "handed_over": handed_to is not None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--settle", type=float, default=2.0, help="seconds of requests before and after")
    args = parser.parse_args()
    from giftdesk.gui.app import create_application

    app = create_application()
    results = [_round(app, args.clients, args.settle) for _ in range(args.rounds)]
    before = [s for r in results for s in r["before"]]
    baseline = statistics.median(before) if before else float("nan")
    for i, r in enumerate(results, 1):
        longest = max(r["across"], default=0.0)
        print(f"round {i}: handed over={r['handed_over']} answered={r['answered']} refused={r['refused']} "
              f"longest across the hand-over={longest * 1000:.0f} ms ({longest / baseline:.0f}x the p50 before)"
              + (f" failures: {r['failures']}" if r["failures"] else ""))
    p99 = sorted(before)[int(0.99 * (len(before) - 1))] if before else float("nan")
    refused = sum(r["refused"] for r in results)
    longest = max((s for r in results for s in r["across"]), default=0.0)
    print(f"all: {sum(r['answered'] for r in results)} answered, {refused} refused; before the hand-over "
          f"p50 {baseline * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms; the longest request across a hand-over "
          f"{longest * 1000:.0f} ms ({longest / baseline:.0f}x the p50)")
    return 0 if refused == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
