"""Benchmark of the live change feed, run by hand: ``python -m tests.bench.bench_feed``.

Two measurements, on a SQLite file and on PostgreSQL (``--pg-url``, default
``GIFTDESK_TEST_DATABASE_URL``; its public schema is dropped and made again):

1. Latency from commit to a follower in another process: a writer process adds ``--count``
   customers (default 200), 20–100 ms apart at random so that writes do not fall in step with the
   follower's polls, and notes the wall-clock time each commit returned; a ``ChangeFollower`` here
   notes when each arrived. p50/p99/max of the difference. Target p99 ≤ 1 s.
2. An idle follower's CPU: ``time.process_time`` of this process over ``--idle`` seconds (default
   20) with nothing changing and only the follower running, scaled to an hour.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ["GIFTDESK_KEYRING"] = "file"
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import create_engine, text  # noqa: E402

from giftdesk.desk import Desk  # noqa: E402
from giftdesk.feed import ChangeFollower  # noqa: E402


def _writer(data_dir: str, url: str | None, count: int) -> None:
    """In the writer process: add customers and print {id: when the commit returned}."""
    desk = Desk.open(data_dir, database_url=url)
    rng = random.Random(11)
    committed = {}
    for i in range(count):
        time.sleep(rng.uniform(0.02, 0.1))
        row = desk.customers.create(f"Bench {i}")
        committed[row.id] = time.time()
    desk.close()
    print(json.dumps(committed))


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(label: str, data_dir: str, url: str | None, count: int, idle: float) -> dict:
    desk = Desk.open(data_dir, database_url=url)
    arrived: dict[int, float] = {}
    all_in = threading.Event()

    def on_change(change) -> None:
        if change.entity == "customer" and change.action == "created":
            arrived[change.id] = time.time()
            if len(arrived) >= count:
                all_in.set()

    follower = ChangeFollower(desk.db, on_change).start()
    follower.listening.wait(30)
    # Idle first: nothing changes while the CPU is measured.
    cpu_before, wall_before = time.process_time(), time.monotonic()
    time.sleep(idle)
    cpu = time.process_time() - cpu_before
    wall = time.monotonic() - wall_before
    command = [sys.executable, "-m", "tests.bench.bench_feed", "--writer", data_dir, "--count", str(count)]
    if url:
        command += ["--writer-url", url]
    writer = subprocess.run(command, capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[2])
    committed = {int(k): v for k, v in json.loads(writer.stdout.strip().splitlines()[-1]).items()}
    all_in.wait(60)
    assert follower.stop(10), "the follower did not stop"
    desk.close()
    latencies = [(arrived[i] - committed[i]) * 1000 for i in committed if i in arrived]
    result = {
        "database": label, "changes": len(committed), "delivered": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1), "p99_ms": round(_percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
        "idle_cpu_s_per_hour": round(cpu * 3600 / wall, 2),
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds of idle follower for the CPU figure")
    parser.add_argument("--pg-url", default=os.environ.get("GIFTDESK_TEST_DATABASE_URL"))
    parser.add_argument("--writer", help=argparse.SUPPRESS)
    parser.add_argument("--writer-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        _writer(args.writer, args.writer_url, args.count)
        return
    results = []
    with tempfile.TemporaryDirectory() as data_dir:
        results.append(measure("sqlite", data_dir, None, args.count, args.idle))
    if args.pg_url:
        _reset_postgres(args.pg_url)
        with tempfile.TemporaryDirectory() as data_dir:
            results.append(measure("postgresql", data_dir, args.pg_url, args.count, args.idle))
    print("\n| database | changes | p50 | p99 | max | idle follower CPU |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['database']} | {r['delivered']}/{r['changes']} | {r['p50_ms']} ms | {r['p99_ms']} ms "
              f"| {r['max_ms']} ms | {r['idle_cpu_s_per_hour']} CPU s/h |")


if __name__ == "__main__":
    main()
