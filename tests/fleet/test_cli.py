"""``giftdesk instance|engine|image`` against the real engine, as a person or a script runs them."""

from __future__ import annotations

import json
import os
import threading
import queue
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fleet.conftest import FLEET_IMAGE, NODE_IMAGE, unique

pytestmark = pytest.mark.docker
REPO = Path(__file__).resolve().parents[2]


def _wait_show(cli, name: str, predicate, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        shown = cli.json("instance", "show", name)
        if predicate(shown) or time.monotonic() > deadline:
            return shown
        time.sleep(0.2)


def test_create_show_list_lifecycle_and_delete(cli, account):
    acct = account()
    name = unique("cli")
    created = cli.json("instance", "create", name, "--account", str(acct.id), "--memory", "128", "--cpus", "0.5")
    assert created["name"] == name and created["state"] == "running" and created["memoryLimitMb"] == 128
    assert created["cpus"] == 0.5 and created["tiktokUsername"] == f"@{acct.username}"
    shown = _wait_show(cli, name, lambda s: s["health"] == "healthy")
    assert shown["state"] == "running" and shown["health"] == "healthy" and shown["liveStatus"] == "DISCONNECTED"
    assert "apiKey" not in json.dumps(shown) and "API_KEY" not in json.dumps(shown)
    out, _ = cli("instance", "list")
    assert name in out and "running" in out
    stopped = cli.json("instance", "stop", name)
    assert stopped == [{"instanceId": created["id"], "name": name, "engine": "local", "outcome": "ok", "message": ""}]
    assert cli.json("instance", "show", name)["health"] == "none"
    cli("instance", "start", "--all")
    assert cli.json("instance", "show", name)["state"] == "running"
    _, err = cli("instance", "delete", name, expect=2)  # no terminal, no --yes: refused
    assert "--yes" in err and cli.json("instance", "list")
    assert cli.json("instance", "delete", name, "--yes")[0]["outcome"] == "ok"
    assert cli.json("instance", "list") == []


def test_bad_input_is_one_line_and_exit_2(cli, account):
    acct = account()
    for argv in (("instance", "create", "Bad Name", "--account", str(acct.id)),
                 ("instance", "create", unique(), "--account", str(acct.id), "--memory", "lots"),
                 ("instance", "create", unique(), "--account", str(acct.id), "--port", "70000"),
                 ("instance", "create", unique(), "--account", str(acct.id), "--start-at", "25:00"),
                 ("instance", "show", "nobody"), ("instance", "start"),
                 ("instance", "import", "/no/such/file.json")):
        _, err = cli(*argv, expect=2)
        assert err.count("\n") == 1 and err.startswith("giftdesk: "), err
    assert cli.json("instance", "list") == []


@pytest.mark.parametrize("cpus, says", [("9999", "more than 0 and at most 256 CPUs"), ("-1", "more than 0 and at most"),
                                         ("inf", "at most 256 CPUs"), ("nan", "a number of CPUs")])
def test_a_cpu_limit_out_of_range_says_the_range(cli, account, cpus, says):
    acct = account()
    _, err = cli("instance", "create", unique(), "--account", str(acct.id), f"--cpus={cpus}", expect=2)
    assert says in err and err.count("\n") == 1
    assert cli.json("instance", "list") == []


def test_edit_clone_logs_stats_events(cli, account, engine):
    acct = account()
    name = unique("ed")
    cli.json("instance", "create", name, "--account", str(acct.id))
    edited = cli.json("instance", "edit", name, "--memory", "96", "--start-at", "08:00", "--stop-at", "20:00",
                      "--tz", "UTC", "--debug")
    assert edited["memoryLimitMb"] == 96 and edited["debugMode"] is True
    assert edited["schedule"] == {"start": "08:00", "stop": "20:00", "timeZone": "UTC"}
    clone = cli.json("instance", "clone", name, unique("cl"))
    assert clone["memoryLimitMb"] == 96 and clone["state"] == "created"
    deadline = time.monotonic() + 30  # a loaded engine starts the edited container late
    lines: list[str] = []
    while time.monotonic() < deadline and not any("serving /www" in line for line in lines):
        lines = cli.json("instance", "logs", name, "--tail", "5", "--timestamps")["lines"]
        time.sleep(0.2)
    assert any("serving /www" in line for line in lines) and len(lines) <= 5
    assert lines[0][:4].isdigit()  # a timestamp first
    assert cli.json("instance", "logs", name, "--since", "1d")["lines"]
    assert cli.json("instance", "logs", name, "--since", "today")["lines"]  # since local midnight
    port = cli.json("instance", "show", name)["port"]
    asking = threading.Event()

    def ask() -> None:  # traffic over 127.0.0.1 while the two samples are taken
        import urllib.request

        while not asking.is_set():
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=2).read()
            except OSError:
                pass
            asking.wait(0.05)

    asker = threading.Thread(target=ask, daemon=True)
    asker.start()
    try:
        stats = cli.json("instance", "stats", name)
        text, _ = cli("instance", "stats", name)
    finally:
        asking.set()
        asker.join(5)
    assert stats[0]["running"] and stats[0]["cpuPercent"] is not None and stats[0]["memoryLimitBytes"] == 96 * 1048576
    assert stats[0]["netRxBytes"] > 0 and stats[0]["netTxBytes"] > 0
    assert stats[0]["netRxRate"] > 0 and stats[0]["netTxRate"] > 0
    assert "NET I/O" in text and "B/s" in text.split(name, 1)[1]
    events = cli.json("instance", "events", name)
    assert any(e["message"].startswith("Recreated") for e in events)


def test_logs_follow_prints_new_lines_until_interrupted(cli, account, fleet_desk):
    acct = account()
    name = unique("follow")
    cli.json("instance", "create", name, "--account", str(acct.id))
    env = dict(os.environ, PYTHONPATH=str(REPO), GIFTDESK_KEYRING="file")
    process = subprocess.Popen([sys.executable, "-m", "giftdesk", "--data-dir", str(fleet_desk.paths.root),
                                "instance", "logs", name, "--follow", "--tail", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    lines: "queue.Queue[str]" = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line.strip()) for line in process.stdout], daemon=True)
    reader.start()
    try:
        # The stream opens a moment after the process starts (--tail 0: lines written before are
        # not shown), so the line is written again until it shows up, within a deadline.
        deadline = time.monotonic() + 60
        seen: list[str] = []
        # The line carries a terminal escape sequence: it reaches the terminal written out, not obeyed.
        expected = "hello-follow \\x1b[2J cleared"
        while expected not in seen and time.monotonic() < deadline:
            subprocess.run(["docker", "exec", f"gift-tracker-{name}", "sh", "-c",
                            "printf 'hello-follow \\033[2J cleared\\n' > /proc/1/fd/1"],
                           check=True, capture_output=True, timeout=30)
            try:
                while True:
                    seen.append(lines.get(timeout=1.0))
            except queue.Empty:
                pass
        assert expected in seen, seen
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(10)
        finally:
            if process.poll() is None:
                process.kill()
            process.stdout.close()
            process.stderr.close()
    assert code == 0


def test_connect_and_disconnect_a_node_tracker(cli, account):
    acct = account()
    name = unique("live")
    cli.json("instance", "create", name, "--account", str(acct.id), "--image", NODE_IMAGE)
    _wait_show(cli, name, lambda s: s["health"] == "healthy")
    assert cli.json("instance", "connect", name)["answer"]["liveStatus"] == "ONLINE"
    assert cli.json("instance", "show", name)["liveStatus"] == "ONLINE"
    time.sleep(1.1)  # the tracker takes one call a second
    out, _ = cli("instance", "disconnect", name)
    assert "DISCONNECTED" in out


def test_sync_export_import_engine_and_images(cli, account, engine, tmp_path, fleet_desk):
    acct = account()
    name = unique("exp")
    created = cli.json("instance", "create", name, "--account", str(acct.id), "--no-start")
    engine.api.remove_container(created["containerId"], force=True)
    synced = cli.json("instance", "sync")
    assert synced["missing"] == [name]
    repaired = cli.json("instance", "sync", "--recreate-missing")
    assert repaired["recreated"][0]["outcome"] == "ok"
    export_file = tmp_path / "fleet.json"
    cli("instance", "export", "--file", str(export_file))
    exported = export_file.read_text()
    assert fleet_desk.secrets.get(f"tracker-key/{acct.id}") not in exported
    planned = cli.json("instance", "import", str(export_file), "--dry-run")  # the name exists: skipped
    assert [(i["name"], i["action"]) for i in planned["instances"]] == [(name, "skip")]
    cli.json("instance", "delete", name, "--yes")
    planned = cli.json("instance", "import", str(export_file), "--dry-run")
    assert [(i["name"], i["action"]) for i in planned["instances"]] == [(name, "create")]
    assert cli.json("instance", "list") == []  # a dry run changes nothing
    imported = cli.json("instance", "import", str(export_file))
    assert [r["outcome"] for r in imported] == ["ok"]
    info = cli.json("engine", "info")
    assert info["apiVersion"] and info["version"]
    assert cli.json("engine", "test")["reachable"] is True
    images = cli.json("image", "list")
    assert any(FLEET_IMAGE in i["tags"] for i in images)
    folder = tmp_path / "tracker"
    folder.mkdir()
    (folder / "Dockerfile").write_text(f"FROM {FLEET_IMAGE}\nLABEL org.giftdesk.fleet-test=1\n")
    tag = f"giftdesk-fleet-built:{unique('b')}"
    built = cli.json("image", "build", str(folder), "--tag", tag)
    assert built["tag"] == tag and any("Successfully" in line or "writing" in line.lower() or "Step" in line
                                       for line in built["log"])
    _, err = cli("image", "build", str(tmp_path), "--tag", tag, expect=2)
    assert "no Dockerfile" in err
    cli("image", "remove", tag, "--yes")
    assert not any(tag in i["tags"] for i in cli.json("image", "list"))


def test_engine_unreachable_is_a_sentence(cli, fleet_desk):
    fleet_desk.settings.update({"docker.host": "unix:///tmp/no-such-engine.sock"})
    _, err = cli("engine", "test", expect=1)
    assert err.startswith("giftdesk: The Docker engine at unix:///tmp/no-such-engine.sock did not answer")
    assert err.count("\n") == 1


def test_instance_ports_says_who_holds_each_port_of_the_range(cli, account, fleet_desk):
    import socket

    from tests.fleet.conftest import PORT_END, PORT_START

    name = unique("ports")
    created = cli.json("instance", "create", name, "--account", str(account().id), "--no-start")
    blocker = socket.socket()
    try:
        taken_here = cli.json("instance", "ports", "--free")[0]["port"]
        blocker.bind(("0.0.0.0", taken_here))  # something else on this computer takes it
        blocker.listen()
        uses = {u["port"]: u for u in cli.json("instance", "ports")}
        assert sorted(uses) == list(range(PORT_START, PORT_END + 1))
        assert uses[created["port"]] == {"port": created["port"], "free": False, "holder": "instance", "name": name}
        assert uses[taken_here] == {"port": taken_here, "free": False, "holder": "host", "name": None}
        free = cli.json("instance", "ports", "--free")
        assert free and all(u["free"] for u in free)
        assert created["port"] not in [u["port"] for u in free] and taken_here not in [u["port"] for u in free]
        assert fleet_desk.fleet.next_free_port() == free[0]["port"]  # what create would pick
        out, _ = cli("instance", "ports")
        assert f"instance {name}" in out and "in use on this computer" in out
    finally:
        blocker.close()
        cli("instance", "delete", name, "--yes")
