"""Moving in from the gift instance manager, on the real engine: its database with its own schema,
its containers started as it starts them, and the tracker backend's exports; nothing restarts.
"""

from __future__ import annotations

import json
import sqlite3
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from giftdesk.accounts.tracker_gateway import TrackerGateway
from giftdesk.db.fleet_models import Instance, InstanceLog
from giftdesk.db.models import AuditEntry
from tests.fleet.conftest import FLEET_IMAGE, FLEET_TEST_LABEL, engine, fleet_desk, free_port  # noqa: F401
from tests.support.cli import make_cli
from tests.support.endpoint_server import EndpointServer

pytestmark = pytest.mark.docker

# The manager's own schema (server/db/schema.js), as better-sqlite3 creates it.
MANAGER_SCHEMA = """
CREATE TABLE instances (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT UNIQUE NOT NULL,
  container_id TEXT UNIQUE,
  status TEXT DEFAULT 'stopped',
  api_key TEXT NOT NULL,
  account_id TEXT NOT NULL,
  tiktok_username TEXT NOT NULL,
  port INTEGER UNIQUE NOT NULL,
  backend_api_url TEXT,
  dash_password TEXT,
  debug_mode INTEGER DEFAULT 0,
  docker_image TEXT,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  last_started_at DATETIME,
  last_stopped_at DATETIME
);
CREATE TABLE instance_logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id INTEGER,
  level TEXT,
  message TEXT,
  details TEXT,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  FOREIGN KEY (instance_id) REFERENCES instances(id)
);
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT,
  updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT UNIQUE,
  password_hash TEXT,
  role TEXT,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  last_login_at DATETIME
);
"""
BACKEND = "https://o3-ttgifts.com/api/instances"
GROUPS = {"group-1": {"name": "VIP Gifts", "goal": 50000, "color": "#ff0000", "giftIds": [5655, 5656, 5657]},
          "group-2": {"name": "Normal Gifts", "goal": 10000, "color": "#00ff00", "giftIds": [5658, 5659]}}


def object_id() -> str:
    return uuid.uuid4().hex[:24]


@pytest.fixture
def manager(tmp_path, engine, request):  # noqa: F811
    """A manager's database and its running trackers: (path, [instance dicts]); the containers go after."""
    path = tmp_path / "instances.db"
    connection = sqlite3.connect(path)
    connection.executescript(MANAGER_SCHEMA)
    connection.execute("INSERT INTO settings (key, value) VALUES ('backend_api_url', ?)", (BACKEND,))
    made, instances = [], []
    for number in (1, 2):
        name = f"mv{uuid.uuid4().hex[:6]}"
        item = {"name": name, "api_key": str(uuid.uuid4()), "account_id": object_id(),
                "tiktok_username": f"creator_{name}", "port": free_port(), "dash_password": f"dash-{name}"}
        cursor = connection.execute(
            "INSERT INTO instances (name, status, api_key, account_id, tiktok_username, port, backend_api_url, "
            "dash_password, debug_mode, docker_image) VALUES (?, 'creating', ?, ?, ?, ?, ?, ?, ?, ?)",
            (name, item["api_key"], item["account_id"], item["tiktok_username"], item["port"], BACKEND,
             item["dash_password"], number == 2, FLEET_IMAGE))
        item["id"] = cursor.lastrowid
        # As the manager's docker.service.js runs a tracker: its name, labels, environment and port.
        container = engine.containers.run(
            FLEET_IMAGE, detach=True, name=f"gift-tracker-{name}",
            labels={"app": "gift-tracker", "managed-by": "gift-instance-manager", "instance.id": str(item["id"]),
                    FLEET_TEST_LABEL: "1"},
            environment={"API_KEY": item["api_key"], "ACCOUNT_ID": item["account_id"],
                         "TIKTOK_USERNAME": item["tiktok_username"], "PORT": "3000", "BACKEND_API_URL": BACKEND,
                         "DASH_PASSWORD": item["dash_password"], "DEBUG_MODE": "true" if number == 2 else "false",
                         "NODE_ENV": "production", "TRACKER_SKIP_BACKEND": "1"},
            ports={"3000/tcp": ("127.0.0.1", item["port"])}, restart_policy={"Name": "unless-stopped"})
        made.append(container)
        container.reload()
        item["container_id"], item["started_at"] = container.id, container.attrs["State"]["StartedAt"]
        connection.execute("UPDATE instances SET container_id = ?, status = 'running', last_started_at = ? "
                           "WHERE id = ?", (container.id, item["started_at"], item["id"]))
        connection.execute("INSERT INTO instance_logs (instance_id, level, message, details) VALUES (?, 'info', ?, ?)",
                           (item["id"], "Instance created", json.dumps({"port": item["port"],
                                                                        "env": {"API_KEY": item["api_key"]}})))
        connection.execute("INSERT INTO instance_logs (instance_id, level, message, details) VALUES (?, 'info', ?, ?)",
                           (item["id"], f"Started with key {item['api_key']}", json.dumps({"note": item["dash_password"]})))
        instances.append(item)
    connection.execute("INSERT INTO users (username, password_hash, role) VALUES ('manager-admin', ?, 'admin')",
                       (_bcrypt("manager password 1"),))
    connection.commit()
    connection.close()
    yield path, instances
    for container in made:
        try:
            container.remove(force=True)
        except Exception:
            pass


def _bcrypt(password: str) -> str:
    import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def _write_exports(folder, instances) -> tuple[str, str]:
    """mongoexport of TrackerInstance (one document a line, relaxed) and InstanceData (--jsonArray, canonical)."""
    keys = folder / "TrackerInstance.json"
    keys.write_text("".join(json.dumps({
        "_id": {"$oid": object_id()}, "accountId": {"$oid": item["account_id"]}, "userId": {"$oid": object_id()},
        "apiKey": item["api_key"], "instanceUrl": f"https://{item['name']}.app.o3-ttgifts.com", "status": "active",
        "lastAccessedAt": {"$date": "2026-11-30T10:00:00.000Z"}, "createdAt": {"$date": "2026-10-16T08:00:00Z"},
        "updatedAt": {"$date": "2026-11-30T10:00:00Z"}, "__v": 0}) + "\n" for item in instances))
    data = folder / "InstanceData.json"
    documents = []
    for item in instances:
        documents.append({"_id": {"$oid": object_id()}, "accountId": {"$oid": item["account_id"]},
                          "dataType": "gift-groups", "data": GROUPS,
                          "createdAt": {"$date": {"$numberLong": "1760601600000"}}})
        documents.append({"_id": {"$oid": object_id()}, "accountId": {"$oid": item["account_id"]},
                          "dataType": "config", "data": {"tiktokUsername": f"@{item['tiktok_username']}",
                                                         "theme": "dark", "language": "en"}})
    data.write_text(json.dumps(documents))
    return str(keys), str(data)


@pytest.mark.timeout(120)
def test_moving_in_adopts_every_tracker_without_a_restart(fleet_desk, manager, engine, tmp_path, capsys):  # noqa: F811
    path, instances = manager
    cli = make_cli(capsys, "--data-dir", str(fleet_desk.paths.root))

    preview = cli.json("import", "gift-instance-manager", str(path), "--dry-run")
    assert [p["outcome"] for p in preview["instances"]] == ["adopt", "adopt"] and preview["applied"] is False
    with fleet_desk.db.read_session() as session:
        assert session.scalar(select(func.count(Instance.id))) == 0

    done = cli.json("import", "gift-instance-manager", str(path))
    assert done["applied"] is True and [p["outcome"] for p in done["instances"]] == ["adopt", "adopt"]
    keys, data = _write_exports(tmp_path, instances)
    imported = cli.json("import", "tracker-data", "--instances", keys, "--data", data)
    assert imported["applied"] is True

    # Not restarted: the same containers, started at the same moment, still running.
    for item in instances:
        details = engine.api.inspect_container(item["container_id"])
        assert details["State"]["Running"] and details["State"]["StartedAt"] == item["started_at"]
        assert details["RestartCount"] == 0 and details["Name"] == f"/gift-tracker-{item['name']}"

    listed = {row["name"]: row for row in cli.json("instance", "list")}
    for item in instances:
        row = listed[item["name"]]
        assert row["state"] == "running" and row["containerId"] == item["container_id"]
        assert row["legacyAccountId"] == item["account_id"] and row["tiktokUsername"] == f"@{item['tiktok_username']}"
        assert row["port"] == item["port"] and row["image"] == FLEET_IMAGE
        shown = cli.json("account", "show", str(row["accountId"]))
        assert shown["legacyId"] == item["account_id"] and shown["status"] == "active"
        assert shown["instanceUrl"] == f"https://{item['name']}.app.o3-ttgifts.com"
    assert listed[instances[1]["name"]]["debugMode"] is True
    first = fleet_desk.fleet.get(instances[0]["name"])
    assert fleet_desk.fleet.dash_password(first.id) == instances[0]["dash_password"]
    history = [e.message for e in fleet_desk.fleet.events(first.id)]
    assert "Instance created" in history and any("adopted as it was" in m for m in history)
    logged = json.dumps([[e.message, e.details] for e in fleet_desk.fleet.events(first.id)])
    assert instances[0]["api_key"] not in logged and instances[0]["dash_password"] not in logged
    assert "Started with key ••••" in history

    # The endpoint serves the imported gift groups to the old key under the old id, path and header.
    gateway = TrackerGateway(fleet_desk.db, fleet_desk.events)
    server = EndpointServer(gateway, hosts=["127.0.0.1"], port=0)
    server.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=10) as http:
            for item in instances:
                answer = http.get(f"/api/instances/{item['account_id']}/gift-groups",
                                  headers={"X-API-Key": item["api_key"], "X-Account-ID": item["account_id"]})
                assert answer.status_code == 200 and answer.json() == {"success": True, "data": GROUPS}
                config = http.get(f"/api/instances/{item['account_id']}/config",
                                  headers={"X-API-Key": item["api_key"], "X-Account-ID": item["account_id"]})
                assert config.json()["data"]["theme"] == "dark"
            wrong = http.get(f"/api/instances/{instances[0]['account_id']}/gift-groups",
                             headers={"X-API-Key": instances[1]["api_key"], "X-Account-ID": instances[0]["account_id"]})
            assert wrong.status_code == 401
    finally:
        server.stop()

    # A second import of both is a no-op that says so, and writes nothing.
    with fleet_desk.db.read_session() as session:
        audit_before = session.scalar(select(func.count(AuditEntry.id)))
        logs_before = session.scalar(select(func.count(InstanceLog.id)))
    again = cli.json("import", "gift-instance-manager", str(path))
    assert again["changes"] is False and [p["outcome"] for p in again["instances"]] == ["unchanged", "unchanged"]
    out, _ = cli("import", "gift-instance-manager", str(path))
    assert "Nothing to import" in out
    again_data = cli.json("import", "tracker-data", "--instances", keys, "--data", data)
    assert again_data["changes"] is False
    with fleet_desk.db.read_session() as session:
        assert session.scalar(select(func.count(AuditEntry.id))) == audit_before
        assert session.scalar(select(func.count(InstanceLog.id))) == logs_before
    for item in instances:
        assert engine.api.inspect_container(item["container_id"])["State"]["StartedAt"] == item["started_at"]


@pytest.mark.timeout(120)
def test_the_imported_trackers_are_this_desks_to_stop_and_start(fleet_desk, manager, engine, capsys):  # noqa: F811
    path, instances = manager
    cli = make_cli(capsys, "--data-dir", str(fleet_desk.paths.root))
    cli("import", "gift-instance-manager", str(path))
    name = instances[0]["name"]
    cli("instance", "stop", name)
    assert not engine.api.inspect_container(instances[0]["container_id"])["State"]["Running"]
    cli("instance", "start", name)
    assert engine.api.inspect_container(instances[0]["container_id"])["State"]["Running"]
    # The reconciler takes it for this instance's container, not for an orphan or a missing one.
    report = fleet_desk.fleet.reconcile()
    ids = {o.id for o in report.orphans}
    assert not ({i["container_id"] for i in instances} & ids) and report.missing == []
    # A recreate replaces it with a container of ours, and says the tracker's account id changes.
    recreated = cli.json("instance", "edit", name, "--recreate")
    assert recreated["containerId"] != instances[0]["container_id"] and recreated["adoptedContainerId"] is None
    assert not engine.api.containers(all=True, filters={"id": instances[0]["container_id"]})
    labels = engine.api.inspect_container(recreated["containerId"])["Config"]["Labels"]
    assert labels["giftdesk.desk"] == fleet_desk.secrets.namespace and labels["managed-by"] == "giftdesk"
    events = [e["message"] for e in cli.json("instance", "events", name)]
    assert any(f"no longer as {instances[0]['account_id']}" in m for m in events)
    # Deleting the other one removes its adopted container (it is this instance's now).
    cli("instance", "delete", instances[1]["name"], "--yes")
    assert not engine.api.containers(all=True, filters={"id": instances[1]["container_id"]})


@pytest.mark.timeout(120)
@pytest.mark.timeout(120)
def test_the_import_on_postgresql_too(any_db_desk, manager, engine, monkeypatch):  # noqa: F811
    from giftdesk.move_in.instance_manager import InstanceManagerImport
    from tests.support.docker_engine import docker_host_of

    monkeypatch.setenv("DOCKER_HOST", docker_host_of(engine))
    path, instances = manager
    done = InstanceManagerImport(any_db_desk).apply(path)
    assert [p.outcome for p in done.instances] == ["adopt", "adopt"] and done.applied
    accounts = {a.legacy_id: a for a in any_db_desk.customers.list_accounts()}
    assert set(accounts) == {i["account_id"] for i in instances}
    assert not InstanceManagerImport(any_db_desk).apply(path).changes_anything


def test_users_become_administrators_only_when_asked(fleet_desk, manager, capsys):  # noqa: F811
    path, _instances = manager
    cli = make_cli(capsys, "--data-dir", str(fleet_desk.paths.root))
    fleet_desk.admins.create("owner", "owner password 1")
    cli("import", "gift-instance-manager", str(path))
    assert [a.username for a in fleet_desk.admins.list()] == ["owner"]
    done = cli.json("import", "gift-instance-manager", str(path), "--users")
    assert [u["outcome"] for u in done["users"]] == ["create"]
    actor = fleet_desk.admins.authenticate("manager-admin", "manager password 1")
    assert actor.role == "admin"
    with fleet_desk.db.read_session() as session:
        from giftdesk.db.models import Administrator

        stored = session.scalar(select(Administrator.password_hash).where(Administrator.username == "manager-admin"))
    assert stored.startswith("scrypt$")  # rehashed at the first login
    assert fleet_desk.admins.authenticate("manager-admin", "manager password 1").username == "manager-admin"


def test_a_port_taken_and_a_name_clash_are_skipped_and_said(fleet_desk, manager, capsys, account):  # noqa: F811
    path, instances = manager
    row = account()
    with fleet_desk.db.session() as session:  # records here whose containers are gone (another engine's, say)
        for name, port in ((instances[0]["name"], free_port()), ("holder", instances[1]["port"])):
            session.add(Instance(name=name, status="missing", account_id=row.id, tiktok_username=row.username,
                                 port=port, backend_api_url=BACKEND, image=FLEET_IMAGE))
    cli = make_cli(capsys, "--data-dir", str(fleet_desk.paths.root))
    preview = cli.json("import", "gift-instance-manager", str(path), "--dry-run")
    first, second = preview["instances"]
    assert first["outcome"] == "skip" and "name clash" in first["reason"]
    assert second["outcome"] == "skip" and "port taken" in second["reason"] and "'holder'" in second["reason"]
    out, _ = cli("import", "gift-instance-manager", str(path), "--dry-run")
    assert "name clash" in out and "port taken" in out


def test_a_missing_container_is_skipped_with_the_reason(fleet_desk, manager, engine, capsys):  # noqa: F811
    path, instances = manager
    engine.api.remove_container(instances[1]["container_id"], force=True)
    cli = make_cli(capsys, "--data-dir", str(fleet_desk.paths.root))
    done = cli.json("import", "gift-instance-manager", str(path))
    assert done["instances"][0]["outcome"] == "adopt"
    assert done["instances"][1]["outcome"] == "skip" and "container missing" in done["instances"][1]["reason"]


@pytest.fixture
def account(fleet_desk):  # noqa: F811
    def make():
        customer = fleet_desk.customers.create("Someone")
        return fleet_desk.customers.add_account(customer.id, f"here_{uuid.uuid4().hex[:8]}")

    return make


def test_bad_input_is_one_sentence_and_writes_nothing(desk, tmp_path, capsys):
    cli = make_cli(capsys, "--data-dir", str(desk.paths.root))
    not_db = tmp_path / "notes.txt"
    not_db.write_text("hello, this is not a database\n" * 10)
    other = tmp_path / "other.db"
    sqlite3.connect(other).executescript("CREATE TABLE things (id INTEGER PRIMARY KEY);")
    with desk.db.read_session() as session:
        audit_before = session.scalar(select(func.count(AuditEntry.id)))
    for argv, words in ((["gift-instance-manager", str(tmp_path / "missing.db")], "does not exist"),
                        (["gift-instance-manager", str(not_db)], "not an instance manager's database"),
                        (["gift-instance-manager", str(other)], "no instances table"),
                        (["tracker-data", "--instances", str(tmp_path / "none.json"), "--data", str(not_db)],
                         "does not exist"),
                        (["tracker-data", "--instances", str(not_db), "--data", str(not_db)], "not JSON")):
        out, err = cli("import", *argv, expect=2)
        assert words in err and "Traceback" not in err and err.count("\n") == 1, err
    with desk.db.read_session() as session:
        assert session.scalar(select(func.count(AuditEntry.id))) == audit_before
        assert session.scalar(select(func.count(Instance.id))) == 0


@pytest.mark.timeout(120)
def test_the_watcher_follows_an_adopted_container_by_its_id(fleet_desk, manager, engine, capsys):  # noqa: F811
    from giftdesk.fleet.events import InstanceStateChanged
    from giftdesk.fleet.runtime import install
    from giftdesk.runtime import Runtime
    from tests.fleet.test_runtime import Recorder

    path, instances = manager
    make_cli(capsys, "--data-dir", str(fleet_desk.paths.root))("import", "gift-instance-manager", str(path))
    row = fleet_desk.fleet.get(instances[0]["name"])
    recorder = Recorder(fleet_desk, InstanceStateChanged)
    runtime = Runtime(fleet_desk, endpoint=False, features=False)
    fleet = install(runtime, probe_interval=0.5, stats_interval=0.5, probe_grace=2.0)
    runtime.start()
    try:
        recorder.wait(lambda e: e.instance_id == row.id and e.state == "running", timeout=20)
        resyncs = fleet.watcher.resyncs
        engine.api.stop(instances[0]["container_id"], timeout=5)  # from outside, as `docker stop` does
        _at, event = recorder.wait(lambda e: e.instance_id == row.id and e.state == "exited", timeout=20)
        assert event.name == row.name and fleet.watcher.resyncs == resyncs  # carried by the event stream
        # The manager's numeric instance.id label never names one of ours.
        assert all(e.instance_id in {row.id, fleet_desk.fleet.get(instances[1]["name"]).id}
                   for _at, e in recorder.events)
    finally:
        runtime.stop()
