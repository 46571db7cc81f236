"""Two engines benchmark (``python -m tests.bench.bench_fleet --engines 2`` runs it), every baseline
in the same run.

A second dockerd with mutual TLS on loopback (the tests' own ``tests/support/tls_engine.py``) is
registered beside the local engine, and N stopped trackers are created on each. Then:

1. the fleet table's refresh (``FleetService.list(with_state=True)``: the records plus one list
   call per engine, asked at once) against each engine's raw ``GET /containers/json`` alone, in
   interleaved rounds: the goal is at most 1.2x the slower engine's raw call. Its parts: the
   records and rows alone (``list()`` without state), and both raw calls made at once;
2. the same refresh while the second engine hangs (its dockerd stopped with SIGSTOP: it accepts
   connections and answers nothing, the worst case): the first refresh waits for it at most a few
   seconds and notes it unreachable, the next ones do not ask it; their median against the
   refresh with both engines up;
3. the first part again with the second engine behind a relay process that delays every byte by
   1, 5 and 20 ms each way (``tests/support/latency_relay.py``): an engine on another host is a
   network round trip away, which the refresh waits for once for both engines, not once each.
"""

from __future__ import annotations

import os
import signal
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("GIFTDESK_KEYRING", "file")

REPO = Path(__file__).resolve().parents[2]
LATENCIES_MS = (1.0, 5.0, 20.0)  # one way: a host on the same LAN, a busy one, another site
IMAGE = "giftdesk-fleet-tracker:latest"


def _ms(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def run(n: int = 100, rounds: int = 20) -> int:
    sys.path.insert(0, str(REPO))
    from giftdesk.desk import Desk
    from tests.support.latency_relay import LatencyRelay
    from tests.support.tls_engine import build_image, start_tls_engine

    print("Starting a second engine with mutual TLS…", flush=True)
    second = start_tls_engine()
    desk = None
    try:
        build_image(second, REPO / "resources/tracker-test-image/build.sh", IMAGE)
        data = tempfile.mkdtemp(prefix="gd-bench-engines-")
        desk = Desk.open(data)
        desk.settings.update({"tracker.default_image": IMAGE, "tracker.port_start": 4100, "tracker.port_end": 4999})
        desk.engines.add("second", second.host, tls_ca=str(second.ca), tls_cert=str(second.cert),
                         tls_key=str(second.key))
        fleet = desk.fleet
        customer = desk.customers.create("Bench customer")
        print(f"Creating {n} stopped trackers on each engine…", flush=True)
        for engine in ("", "second"):
            for i in range(n):
                account = desk.customers.add_account(customer.id, f"bench_{engine or 'local'}_{os.getpid()}_{i}")
                fleet.create(f"bench-{engine or 'local'}-{os.getpid()}-{i}", account.id, start=False, engine=engine)
        labels = {"label": ["app=gift-tracker", f"giftdesk.desk={fleet.desk_id}"]}
        local_api, second_api = fleet.docker_for("").api, fleet.docker_for("second").api
        both = len(fleet.list(with_state=True))

        samples: dict[str, list[float]] = {"ours": [], "local": [], "second": [], "records": []}
        for _ in range(rounds):  # interleaved: the engines' own pace drifts alike for all of them
            samples["ours"].append(_ms(lambda: fleet.list(with_state=True)))
            samples["local"].append(_ms(lambda: local_api.containers(all=True, filters=labels)))
            samples["second"].append(_ms(lambda: second_api.containers(all=True, filters=labels)))
            samples["records"].append(_ms(lambda: fleet.list()))  # the refresh's own part, no engine asked
        ours, local, remote, records = (statistics.median(samples[k]) for k in ("ours", "local", "second", "records"))
        slower = max(local, remote)
        print(f"\nfleet refresh with two engines ({both} rows), median of {rounds}:")
        print(f"  FleetService.list(with_state=True)          {ours:8.1f} ms")
        print(f"  raw GET /containers/json, local engine      {local:8.1f} ms")
        print(f"  raw GET /containers/json, TLS engine        {remote:8.1f} ms")
        print(f"  ratio to the slower engine's raw call       {ours / slower:8.2f}x  (goal <= 1.2x)")
        with ThreadPoolExecutor(2) as pool:  # what asking one after the other would cost
            sequential = statistics.median(
                _ms(lambda: (local_api.containers(all=True, filters=labels),
                             second_api.containers(all=True, filters=labels))) for _ in range(rounds))
            parallel = statistics.median(
                _ms(lambda: list(pool.map(lambda api: api.containers(all=True, filters=labels),
                                          (local_api, second_api)))) for _ in range(rounds))
        print(f"  both raw calls one after the other          {sequential:8.1f} ms  (in parallel: {parallel:.1f} ms)")
        print(f"  the refresh's parts: the records and rows alone (list() without state) {records:.1f} ms; "
              f"both engines at once {parallel:.1f} ms")

        print("\nthe second engine hangs (SIGSTOP):", flush=True)
        os.kill(second.process.pid, signal.SIGSTOP)
        try:
            first = _ms(lambda: fleet.list(with_state=True))
            hung = [_ms(lambda: fleet.list(with_state=True)) for _ in range(rounds)]
            unknown = sum(1 for row in fleet.list(with_state=True) if row.state == "unknown")
        finally:
            os.kill(second.process.pid, signal.SIGCONT)
        print(f"  first refresh (waits for it, then notes it) {first:8.1f} ms")
        print(f"  next refreshes, median of {rounds}              {statistics.median(hung):8.1f} ms  "
              f"({statistics.median(hung) / ours:.2f}x the refresh with both up; {unknown} rows 'unknown')")

        print("\nthe second engine as a host on the network (a relay process delaying each way):", flush=True)
        port = int(second.host.rsplit(":", 1)[1])
        for delay_ms in LATENCIES_MS:
            relay = LatencyRelay(port, delay_ms)
            try:
                desk.engines.edit("second", host=relay.host)
                desk.engines.note_reachable("second")  # answered the edit's test: asked again at once
                far_api = fleet.docker_for("second").api
                fleet.list(with_state=True)  # the new connection made
                far: dict[str, list[float]] = {"ours": [], "local": [], "far": []}
                for _ in range(rounds):
                    far["ours"].append(_ms(lambda: fleet.list(with_state=True)))
                    far["local"].append(_ms(lambda: local_api.containers(all=True, filters=labels)))
                    far["far"].append(_ms(lambda: far_api.containers(all=True, filters=labels)))
                mine, near, away = (statistics.median(far[k]) for k in ("ours", "local", "far"))
                print(f"  {2 * delay_ms:4.0f} ms round trip: refresh {mine:6.1f} ms, raw calls {near:5.1f} / "
                      f"{away:5.1f} ms, ratio to the slower {mine / max(near, away):5.2f}x")
            finally:
                relay.close()
        return 0
    finally:
        if desk is not None:
            for row in desk.fleet.list():
                try:
                    desk.fleet.delete(row.id)
                except Exception:
                    pass
            desk.close()
        second.stop()


if __name__ == "__main__":
    sys.exit(run())
