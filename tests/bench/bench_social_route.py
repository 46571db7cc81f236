"""Benchmark of the social sync route on the real endpoint: ``python -m tests.bench.bench_social_route``.

Seeds 1,000 creator profiles, each linked to a TikTok account with its own API key (and gift groups
for that account), starts the real ``EndpointServer`` with a ``SocialSyncHandler`` in this process
and loads it from outside with ``wrk`` (one thread, 50 keep-alive connections, all on 127.0.0.1,
a Lua script spreading requests over the 1,000 profiles), in the same run:

1. baseline: authenticated ``GET /api/instances/{id}/gift-groups`` across the 1,000 accounts;
2. ``POST /api/v1/profiles/social-sync/{platform}`` with ``Authorization: Bearer <key>`` across the
   1,000 profiles (platform cycling over the five). Every 200 is a committed sync (SQLite
   ``synchronous=FULL``: fsynced; PostgreSQL: ``synchronous_commit`` on); the number of syncs
   in the database afterwards is checked against the 200s counted;
3. baseline for what the transport adds: the same handler called in process, one thread, no HTTP.

The per-profile limit (10 syncs a minute) would cap 1,000 profiles at 167 syncs/s;
the benchmark raises it through ``SocialSyncHandler(limit=...)`` to measure the route itself, as
it raises the tracker routes' per-key limit. Printed: req/s, p50/p99, non-2xx, the ratio to the
GET baseline and durable syncs per second, for each ``--workers`` count given (threads that run
the handler).

    python -m tests.bench.bench_social_route [--duration 10] [--connections 50] [--profiles 1000]
        [--workers 1,2,4] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ["GIFTDESK_KEYRING"] = "file"
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import func, select  # noqa: E402

from giftdesk.db.social_models import SOCIAL_PLATFORMS  # noqa: E402
from giftdesk.desk import Desk  # noqa: E402
from tests.support.endpoint_server import EndpointServer  # noqa: E402
from giftdesk.social.http import SocialSyncHandler  # noqa: E402
from giftdesk.accounts.tracker_gateway import TrackerGateway  # noqa: E402
from tests.bench.bench_endpoint import run_wrk, seed_accounts  # noqa: E402

BENCH_RATE_LIMIT = 10**12  # per minute: effectively off (tracker routes' per-key and the route's per-profile)

GET_LUA = """
local accounts = {%(accounts)s}
local n = 0
request = function()
  n = n + 1
  local a = accounts[(n %% #accounts) + 1]
  return wrk.format("GET", "/api/instances/" .. a[1] .. "/gift-groups", {["X-API-Key"] = a[2], ["X-Account-ID"] = a[1]})
end
"""

SYNC_LUA = """
local accounts = {%(accounts)s}
local platforms = {%(platforms)s}
local n = 0
request = function()
  n = n + 1
  local a = accounts[(n %% #accounts) + 1]
  local platform = platforms[(math.floor(n / #accounts) %% #platforms) + 1]
  local body = '{"followers":' .. (1000 + n) .. ',"engagement":' .. (n %% 100) .. '.25}'
  return wrk.format("POST", "/api/v1/profiles/social-sync/" .. platform,
    {["Authorization"] = "Bearer " .. a[2], ["Content-Type"] = "application/json"}, body)
end
"""


def seed(desk: Desk, count: int) -> list[tuple[int, str]]:
    """The endpoint bench's accounts (key, gift groups), each linked to a creator profile."""
    accounts = seed_accounts(desk, count, prefix="route")
    for n, (account_id, _key) in enumerate(accounts):
        desk.social.create(f"Route creator {n}", account_id=account_id)
    return accounts


def committed_syncs(desk: Desk) -> int:
    from giftdesk.db.social_models import SocialSync

    with desk.db.read_session() as session:
        return session.scalar(select(func.count()).select_from(SocialSync).where(SocialSync.error.is_(None)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4", help="social worker thread counts to measure, comma-separated")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed; this benchmark needs it", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="bench-social-route-"))
    if args.database_url:
        from sqlalchemy import create_engine, text

        engine = create_engine(args.database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    desk = Desk.open(str(workdir / "data"), args.database_url)
    started = time.perf_counter()
    accounts = seed(desk, args.profiles)
    print(f"database: {desk.db.display_name}; seeded {len(accounts):,} linked profiles in "
          f"{time.perf_counter() - started:.0f} s")
    lua_accounts = ", ".join(f'{{"{account}", "{key}"}}' for account, key in accounts)
    (workdir / "get.lua").write_text(GET_LUA % {"accounts": lua_accounts})
    (workdir / "sync.lua").write_text(SYNC_LUA % {"accounts": lua_accounts,
                                                  "platforms": ", ".join(f'"{p}"' for p in SOCIAL_PLATFORMS)})

    rows = []
    try:
        in_process = SocialSyncHandler(desk.social, limit=BENCH_RATE_LIMIT)
        calls = min(1000, 50 * args.duration)
        started = time.perf_counter()
        for n in range(calls):
            account, key = accounts[n % len(accounts)]
            status, _, _ = in_process.handle(SOCIAL_PLATFORMS[n % 5], f"Bearer {key}".encode(),
                                             b'{"followers": %d, "engagement": 5.5}' % n, "127.0.0.1")
            assert status == 200, status
        direct = calls / (time.perf_counter() - started)
        print(f"handler in process, one thread: {direct:,.0f} syncs/s", flush=True)
        for workers in [int(w) for w in args.workers.split(",")]:
            handler = SocialSyncHandler(desk.social, limit=BENCH_RATE_LIMIT)
            server = EndpointServer(TrackerGateway(desk.db, desk.events), ["127.0.0.1"], 0,
                                    rate_limit_per_minute=BENCH_RATE_LIMIT, social=handler, social_workers=workers)
            server.start()
            try:
                url = f"http://127.0.0.1:{server.port}/"
                get = run_wrk(url, args.duration, args.connections, str(workdir / "get.lua"))
                before = committed_syncs(desk)
                sync = run_wrk(url, args.duration, args.connections, str(workdir / "sync.lua"))
            finally:
                server.stop()  # answers (or finishes) the syncs in flight
            stats = server.stats()
            durable = committed_syncs(desk) - before
            rows.append((workers, get, sync, durable, stats.social_syncs))
            print(f"workers={workers}: GET gift-groups {get['rps']:,.0f} req/s p50 {get['p50']:.1f} ms "
                  f"p99 {get['p99']:.1f} ms non-2xx {get['errors']} | sync {sync['rps']:,.0f} req/s "
                  f"p50 {sync['p50']:.1f} ms p99 {sync['p99']:.1f} ms non-2xx {sync['errors']} "
                  f"{sync['socket_errors']}| ratio {sync['rps'] / get['rps']:.3f} | durable syncs "
                  f"{durable:,} ({durable / args.duration:,.0f}/s; 200s answered {stats.social_syncs:,})", flush=True)
    finally:
        desk.close()
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print("| handler threads | `GET gift-groups` req/s, p50/p99 | sync route req/s, p50/p99 | ratio | durable syncs/s |")
    print("|---|---|---|---|---|")
    for workers, get, sync, durable, answered in rows:
        print(f"| {workers} | {get['rps']:,.0f}, {get['p50']:.1f}/{get['p99']:.1f} ms | {sync['rps']:,.0f}, "
              f"{sync['p50']:.1f}/{sync['p99']:.1f} ms | {sync['rps'] / get['rps']:.3f} | "
              f"{durable / args.duration:,.0f} |")
    print(f"| baseline: the handler in process, one thread, no HTTP | | {direct:,.0f} syncs/s | | |")
    failures = [w for w, _, sync, durable, answered in rows if sync["errors"] or durable != answered]
    if failures:
        print(f"refused syncs or a mismatch between 200s and committed syncs with {failures} workers", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
