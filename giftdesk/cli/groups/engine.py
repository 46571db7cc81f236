"""``giftdesk engine info|test``: the Docker engine the fleet runs on."""

from __future__ import annotations

import time

from giftdesk.cli.framework import Fields, Output


def register(cli) -> None:
    engine = cli.group("engine", "the Docker engine the trackers run on")

    @engine.command("info", "version, API version, containers, images, host")
    def info(desk, args):
        data = desk.fleet.docker.info()
        labels = {"version": "Version", "apiVersion": "API version", "host": "Host", "os": "Operating system",
                  "kernel": "Kernel", "cpus": "CPUs", "containers": "Containers", "running": "Running",
                  "images": "Images", "storageDriver": "Storage driver", "cgroupVersion": "Cgroup version"}
        pairs = [(label, data.get(key)) for key, label in labels.items()]
        pairs.append(("Memory", f"{(data.get('memoryBytes') or 0) / 1073741824:.1f} GiB"))
        return Output(data, Fields(pairs))

    @engine.command("test", "check the connection: ping, list, round-trip time")
    def test(desk, args):
        started = time.perf_counter()
        data = desk.fleet.docker.info()
        listed = desk.fleet.docker.list_trackers(desk.fleet.desk_id)
        elapsed = (time.perf_counter() - started) * 1000
        result = {"reachable": True, "host": data["host"], "version": data["version"],
                  "apiVersion": data["apiVersion"], "trackerContainers": len(listed), "milliseconds": round(elapsed, 1)}
        return Output(result, f"The Docker engine {data['version']} (API {data['apiVersion']}) at {data['host']} "
                              f"answers: {len(listed)} tracker container(s), {elapsed:.0f} ms.")
