"""Reading the gift instance manager's SQLite database, with the manager's own schema.

``instances`` (name, container_id, status, api_key, account_id, tiktok_username, port,
backend_api_url, dash_password, debug_mode, docker_image and timestamps), ``instance_logs``,
``settings`` and ``users``. The file is opened read-only and never changed. Anything that is not
such a database is a ``ValidationError`` in one sentence.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from giftdesk.core.errors import ValidationError

# What makes a file the manager's database: without these there is nothing to move in.
REQUIRED_INSTANCE_COLUMNS = ("name", "container_id", "api_key", "account_id", "tiktok_username", "port")


@dataclass(frozen=True)
class ManagerInstance:
    id: int
    name: str
    container_id: str | None
    status: str | None
    api_key: str | None
    account_id: str | None
    tiktok_username: str | None
    port: int | None
    backend_api_url: str | None
    dash_password: str | None
    debug_mode: bool
    docker_image: str | None
    created_at: datetime | None
    last_started_at: datetime | None
    last_stopped_at: datetime | None


@dataclass(frozen=True)
class ManagerLog:
    instance_id: int
    level: str
    message: str
    details: Any
    created_at: datetime | None


@dataclass(frozen=True)
class ManagerUser:
    username: str
    password_hash: str
    role: str
    created_at: datetime | None
    last_login_at: datetime | None


@dataclass(frozen=True)
class ManagerDatabase:
    path: Path
    instances: list[ManagerInstance]
    logs: dict[int, list[ManagerLog]] = field(default_factory=dict)
    users: list[ManagerUser] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)


def read_manager_database(path: str | Path) -> ManagerDatabase:
    path = Path(path)
    if not path.exists():
        raise ValidationError(f"{path} does not exist; give the instance manager's database file "
                              "(data/instances.db).", field="database")
    if path.is_dir():
        raise ValidationError(f"{path} is a folder; give the instance manager's database file "
                              "(data/instances.db).", field="database")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise ValidationError(f"{path} cannot be opened: {exc}.", field="database") from None
    try:
        connection.row_factory = sqlite3.Row
        try:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError:
            raise ValidationError(f"{path} is not an instance manager's database (not an SQLite file).",
                                  field="database") from None
        columns = _columns(connection, "instances") if "instances" in tables else set()
        missing = [c for c in REQUIRED_INSTANCE_COLUMNS if c not in columns]
        if missing:
            raise ValidationError(f"{path} is not an instance manager's database: it has no instances table with "
                                  f"{', '.join(missing)}.", field="database")
        try:
            instances = [_instance(row, columns) for row in connection.execute("SELECT * FROM instances ORDER BY id")]
            logs: dict[int, list[ManagerLog]] = {}
            if "instance_logs" in tables:
                for row in connection.execute("SELECT * FROM instance_logs ORDER BY id"):
                    entry = _log(row)
                    logs.setdefault(entry.instance_id, []).append(entry)
            users = ([_user(row) for row in connection.execute("SELECT * FROM users ORDER BY id")]
                     if "users" in tables and {"username", "password_hash"} <= _columns(connection, "users") else [])
            settings = {}
            if "settings" in tables and {"key", "value"} <= _columns(connection, "settings"):
                settings = {str(r["key"]): str(r["value"]) for r in connection.execute("SELECT key, value FROM settings")}
        except (sqlite3.DatabaseError, ValueError, TypeError) as exc:
            raise ValidationError(f"{path} cannot be read as an instance manager's database: {exc}.",
                                  field="database") from None
    finally:
        connection.close()
    return ManagerDatabase(path, instances, logs, users, settings)


def _columns(connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _instance(row: sqlite3.Row, columns: set[str]) -> ManagerInstance:
    def get(name: str) -> Any:
        return row[name] if name in columns else None

    port = get("port")
    return ManagerInstance(
        id=int(row["id"]) if "id" in columns else 0, name=str(row["name"] or "").strip(),
        container_id=_text(get("container_id")), status=_text(get("status")), api_key=_text(get("api_key")),
        account_id=_text(get("account_id")), tiktok_username=_text(get("tiktok_username")),
        port=int(port) if port not in (None, "") else None, backend_api_url=_text(get("backend_api_url")),
        dash_password=_text(get("dash_password")), debug_mode=_flag(get("debug_mode")),
        docker_image=_text(get("docker_image")), created_at=moment(get("created_at")),
        last_started_at=moment(get("last_started_at")), last_stopped_at=moment(get("last_stopped_at")))


def _log(row: sqlite3.Row) -> ManagerLog:
    keys = row.keys()
    details = row["details"] if "details" in keys else None
    if isinstance(details, str):
        try:
            details = json.loads(details)
        except ValueError:
            details = {"text": details}
    if details is not None and not isinstance(details, dict):
        details = {"value": details}
    return ManagerLog(int(row["instance_id"]), str(row["level"] or "info") if "level" in keys else "info",
                      str(row["message"] or ""), details, moment(row["created_at"] if "created_at" in keys else None))


def _user(row: sqlite3.Row) -> ManagerUser:
    keys = row.keys()
    return ManagerUser(str(row["username"] or "").strip(), str(row["password_hash"] or ""),
                       str(row["role"] or "admin") if "role" in keys else "admin",
                       moment(row["created_at"] if "created_at" in keys else None),
                       moment(row["last_login_at"] if "last_login_at" in keys else None))


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def moment(value: Any) -> datetime | None:
    """A timestamp as SQLite's CURRENT_TIMESTAMP (UTC, no zone) or JavaScript's ISO string writes it,
    or epoch milliseconds; None when there is none or it cannot be read."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, timezone.utc)
    text = str(value).strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)
