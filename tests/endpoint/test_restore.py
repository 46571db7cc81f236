"""A backup restored by another process while ``giftdesk serve`` runs: the endpoint answers from the
restored database (its keys and its documents), not from what it had loaded before."""

from __future__ import annotations

import http.client
import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from sqlalchemy import update

from giftdesk.db.models import TrackerCredential, TrackerData
from tests.endpoint.helpers import auth_headers, wait_until
from tests.endpoint.test_crash import _start_endpoint_process

SYNC = "/api/v1/profiles/social-sync/tiktok"
RESTORE_DEADLINE = 30.0  # generous: the endpoint polls for changes about twice a second
POLL = 0.1  # between tries: a key that fails meanwhile counts against the address's failed-auth budget


@contextmanager
def _serving(data_dir, tmp_path) -> Iterator[int]:
    with open(tmp_path / "endpoint.log", "wb") as log_file:
        process, port = _start_endpoint_process(data_dir, tmp_path / "port", log_file)
        try:
            yield port
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=15) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def _request(port: int, method: str, path: str, headers: dict[str, str], body: dict | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def _config(port: int, account_id: int, key: str) -> tuple[int, dict]:
    return _request(port, "GET", f"/api/instances/{account_id}/config", auth_headers(account_id, key))


def _save_config(port: int, account_id: int, key: str, config: dict) -> None:
    status, _ = _request(port, "POST", f"/api/instances/{account_id}/config", auth_headers(account_id, key), config)
    assert status == 200


def _backdate(desk) -> None:
    """As if the keys and documents had been written an hour before the backup, as they usually
    are: a restore then brings back timestamps older than anything the endpoint has seen."""
    earlier = datetime.now(timezone.utc) - timedelta(hours=1)
    with desk.db.session() as session:
        session.execute(update(TrackerCredential).values(updated_at=earlier))
        session.execute(update(TrackerData).values(updated_at=earlier))


def _sync_status(port: int, key: str) -> int:
    return _request(port, "POST", SYNC, {"Authorization": f"Bearer {key}"}, {"followers": 5})[0]


def test_a_restore_brings_back_the_restored_key_and_retires_the_regenerated_one(desk, data_dir, make_account,
                                                                                   tmp_path):
    account, restored_key = make_account()
    desk.social.create("Restored Creator", account_id=account.id)
    with _serving(data_dir, tmp_path) as port:
        _save_config(port, account.id, restored_key, {"state": "backed up"})
        _backdate(desk)
        backup = desk.backups.create(tmp_path / "b.db")
        _save_config(port, account.id, restored_key, {"state": "after the backup"})  # now in the endpoint's cache
        regenerated_key = desk.keys.regenerate(account.id)
        wait_until(lambda: _config(port, account.id, regenerated_key)[0] == 200, timeout=RESTORE_DEADLINE,
                   message="the endpoint to take the regenerated key", interval=POLL)

        desk.backups.restore(backup)

        wait_until(lambda: (_config(port, account.id, restored_key)[0], _config(port, account.id, regenerated_key)[0])
                   == (200, 401), timeout=RESTORE_DEADLINE, message="the restored key to work and the other not",
                   interval=POLL)
        assert _config(port, account.id, restored_key)[1]["data"] == {"state": "backed up"}
        assert _sync_status(port, restored_key) == 200
        assert _sync_status(port, regenerated_key) == 401


def test_a_restore_without_key_changes_still_drops_the_cached_documents(desk, data_dir, make_account, tmp_path):
    account, key = make_account()
    with _serving(data_dir, tmp_path) as port:
        _save_config(port, account.id, key, {"state": "backed up"})
        _backdate(desk)
        backup = desk.backups.create(tmp_path / "b.db")
        _save_config(port, account.id, key, {"state": "after the backup"})
        assert _config(port, account.id, key)[1]["data"] == {"state": "after the backup"}

        desk.backups.restore(backup)

        wait_until(lambda: _config(port, account.id, key)[1].get("data") == {"state": "backed up"},
                   timeout=RESTORE_DEADLINE, message="the restored document", interval=POLL)
