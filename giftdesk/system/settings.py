"""Typed settings with declarative defaults, stored as JSON rows in ``settings``.

Money-like settings (the invoice multiplier) are kept as decimal strings, never floats.
Secret settings (the Fampage API key) never touch the table: they go to the secret store.
"""

from __future__ import annotations

import ipaddress
import os
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import bindparam, select

from giftdesk.db.models import Setting
from giftdesk.core.errors import ValidationError
from giftdesk.core import validation
from giftdesk.core.context import ServiceContext
from giftdesk.core.events import SettingsChanged
from giftdesk.core.secrets import FAMPAGE_API_KEY_SECRET, INSTANCE_ID_KEY


def _port(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError(f"{key} must be a port number.", field=key)
    try:
        port = int(value)
    except ValueError:
        raise ValidationError(f"{key} must be a port number, not '{value}'.", field=key) from None
    if not 1 <= port <= 65535:
        raise ValidationError(f"{key} must be between 1 and 65535.", field=key)
    return port


def _choice(*choices: str):
    def check(value: Any, key: str) -> str:
        if value not in choices:
            raise ValidationError(f"{key} must be one of: {', '.join(choices)}.", field=key)
        return value

    return check


def _text(max_length: int = 500):
    def check(value: Any, key: str) -> str:
        return validation.text(value, key, max_length=max_length) or ""

    return check


def _name(max_length: int = 200):
    def check(value: Any, key: str) -> str:
        return validation.name(value, key, max_length=max_length) or ""

    return check


def _optional_url(value: Any, key: str) -> str:
    return validation.http_url(value, key) or ""


def _web_origins(value: Any, key: str) -> list[str]:
    """Exact web origins (``scheme://host[:port]``), as a list or one comma-separated text; no
    paths, no wildcards. Lower-cased, as browsers send them."""
    items = [part for part in value.split(",")] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ValidationError(f"{key} must be a list of origins such as https://app.example.com.", field=key)
    origins: list[str] = []
    for item in items:
        text = item.strip().lower() if isinstance(item, str) else None
        if text == "":
            continue
        match = _ORIGIN.fullmatch(text or "")
        if text is None or len(text) > 200 or match is None or (match["port"] and not 0 < int(match["port"]) < 65536):
            raise ValidationError(f"{key}: '{item}' is not an origin (scheme://host[:port], no path, no wildcard, "
                                  "e.g. https://app.example.com).", field=key)
        if text not in origins:
            origins.append(text)
    return origins


def _proxy_networks(value: Any, key: str) -> list[str]:
    """Addresses or networks, as a list or one comma-separated text; kept in their normal form."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ValidationError(f"{key} must be a list of addresses or networks such as 10.0.0.0/8.", field=key)
    networks: list[str] = []
    for item in items:
        text = item.strip() if isinstance(item, str) else None
        if text == "":
            continue
        try:
            network = str(ipaddress.ip_network(text or "", strict=False))
        except ValueError:
            raise ValidationError(f"{key}: '{item}' is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8).",
                                  field=key) from None
        if network not in networks:
            networks.append(network)
    return networks


_ORIGIN = re.compile(r"https?://(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*"
                     r"|\[[0-9a-f:.]+\])(?::(?P<port>[0-9]{1,5}))?")


def _positive_decimal(value: Any, key: str) -> str:
    if isinstance(value, float):
        raise ValidationError(f"{key} must be given as text or an integer, not a float.", field=key)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(f"{key} must be a number, not '{value}'.", field=key) from None
    if not number.is_finite() or number <= 0:
        raise ValidationError(f"{key} must be greater than zero.", field=key)
    return str(number)


def _non_negative_decimal(value: Any, key: str) -> str:
    if isinstance(value, float):
        raise ValidationError(f"{key} must be given as text or an integer, not a float.", field=key)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(f"{key} must be a number, not '{value}'.", field=key) from None
    if not number.is_finite() or number < 0:
        raise ValidationError(f"{key} must be zero or more.", field=key)
    return str(number)


def _currency(value: Any, key: str) -> str:
    code = str(value).strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValidationError(f"{key} must be a three-letter currency code such as INR or USD.", field=key)
    return code


def _url_pattern(value: Any, key: str) -> str:
    text = validation.text(value, key, max_length=300) or ""
    if text:
        if "{name}" not in text:
            raise ValidationError(f"{key} must contain {{name}}, e.g. https://{{name}}.app.example.com.", field=key)
        validation.http_url(text.replace("{name}", "x").replace("{port}", "3000"), key)
    return text


_TRUE_WORDS = {"true", "yes", "on", "1"}
_FALSE_WORDS = {"false", "no", "off", "0"}


def _flag(value: Any, key: str) -> bool:
    """A yes/no setting: true/false, yes/no, on/off, 1/0 — anything else is refused, never guessed."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS | _FALSE_WORDS:
        return value.strip().lower() in _TRUE_WORDS
    raise ValidationError(f"{key} must be yes or no (true/false, on/off), not '{value}'.", field=key)


def _positive_int(value: Any, key: str) -> int:
    if isinstance(value, bool):
        raise ValidationError(f"{key} must be a whole number.", field=key)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{key} must be a whole number, not '{value}'.", field=key) from None
    if number <= 0:
        raise ValidationError(f"{key} must be greater than zero.", field=key)
    return number


def _backup_schedule(value: Any, key: str) -> str:
    from giftdesk.system.scheduled_backups import check_schedule
    return check_schedule(value, key)


@dataclass(frozen=True)
class SettingSpec:
    default: Any
    check: Any
    label: str
    # An environment variable that, when set, replaces the built-in default (a stored value still wins):
    # an installation configured by the tracker manager's variables keeps its configuration.
    env: str | None = None
    from_env: Any = None  # turns the variable's text into the setting's value


def _socket_path(text: str) -> str:
    """DOCKER_SOCKET_PATH names a socket file; the setting takes an address."""
    return f"unix://{text}" if text.startswith("/") else text


SPECS: dict[str, SettingSpec] = {
    "docker.host": SettingSpec("", _text(), "Docker host (empty: the environment's default)",
                               env="DOCKER_SOCKET_PATH", from_env=_socket_path),
    "endpoint.enabled": SettingSpec(True, _flag, "Run the tracker endpoint inside the console"),
    "endpoint.port": SettingSpec(8787, _port, "Tracker endpoint port"),
    "endpoint.bind": SettingSpec("local", _choice("local", "all"), "Who may reach the endpoint"),
    "endpoint.public_url": SettingSpec("", _optional_url, "Address trackers use (empty: computed)"),
    "endpoint.rate_limit_per_minute": SettingSpec(600, _positive_int, "Requests per minute per API key"),
    "endpoint.company_intake": SettingSpec(False, _flag, "Let client companies ask to be billed through the "
                                           "endpoint (POST /api/v1/companies); they wait for approval"),
    "endpoint.cors_origins": SettingSpec([], _web_origins, "Web origins whose pages may call the social routes "
                                                         "(e.g. https://app.example.com; none: no browser may)"),
    "endpoint.trusted_proxies": SettingSpec([], _proxy_networks, "Reverse proxies whose X-Forwarded-For names the "
                                            "client (addresses or networks, e.g. 127.0.0.1, 10.0.0.0/8; none: each "
                                            "connection's own address counts)"),
    "runtime.keep_running": SettingSpec("auto", _choice("auto", "on", "off"),
                                        "Keep the trackers' backend running when the window closes "
                                        "(auto: once an instance exists)"),
    "fampage.base_url": SettingSpec("https://fampage.in/api/v2", _optional_url, "Fampage API address"),
    "fampage.request_style": SettingSpec("query", _choice("query", "form"),
                                         "How parameters are sent to Fampage (query string or form body)"),
    "fampage.sync_interval_minutes": SettingSpec(15, _positive_int, "Sync open Fampage orders every N minutes"),
    "fampage.low_balance_threshold": SettingSpec("1000", _non_negative_decimal,
                                                 "Warn when the Fampage balance is below"),
    "tracker.default_image": SettingSpec("gift-tracker:latest", _text(200), "Default tracker image",
                                         env="GIFT_TRACKER_IMAGE"),
    "tracker.port_start": SettingSpec(3000, _port, "First tracker port", env="INSTANCE_PORT_START"),
    "tracker.port_end": SettingSpec(3999, _port, "Last tracker port", env="INSTANCE_PORT_END"),
    "tracker.url_pattern": SettingSpec("", _url_pattern, "Public tracker URL pattern, e.g. https://{name}.app.example.com"),
    "invoice.multiplier": SettingSpec("8", _positive_decimal, "Invoice multiplier"),
    "invoice.currency": SettingSpec("INR", _currency, "Invoice currency"),
    "invoice.due_days": SettingSpec(14, _positive_int, "Invoices are due after N days"),
    "invoice.tax_rate": SettingSpec("0", _non_negative_decimal, "Tax rate on invoices, in percent"),
    "invoice.tax_label": SettingSpec("", _text(50), "Tax name on invoices (e.g. GST)"),
    "invoice.logo_path": SettingSpec("", _text(1000), "Logo on invoice PDFs (PNG or JPEG; empty: GiftDesk's)"),
    "backup.schedule": SettingSpec("off", _backup_schedule, "Scheduled backups: off, daily HH:MM or weekly DAY HH:MM"),
    "backup.keep": SettingSpec(7, _positive_int, "Scheduled backups kept (the oldest are deleted)"),
    "company.name": SettingSpec("", _name(200), "Company name"),
    "company.address": SettingSpec("", _text(1000), "Company address"),
    "company.email": SettingSpec("", lambda v, k: validation.email(v, k) or "", "Company e-mail"),
    "company.phone": SettingSpec("", _text(50), "Company phone"),
    "company.tax_id": SettingSpec("", _text(50), "Tax id"),
}

STORED, ENVIRONMENT, DEFAULT = "stored", "environment", "default"


def environment_default(key: str) -> tuple[Any, str | None]:
    """The value the setting's environment variable gives, and why it was ignored if it was.

    (None, None) when the setting has no variable or it is not set."""
    spec = SPECS[key]
    text = os.environ.get(spec.env or "", "").strip() if spec.env else ""
    if not text:
        return None, None
    try:
        return spec.check((spec.from_env or _from_text)(text), key), None
    except ValidationError as exc:
        return None, f"{spec.env} is ignored: {exc}"


def _from_text(text: str) -> Any:
    return int(text) if text.isdigit() else text


def default_of(key: str) -> Any:
    """The built-in default, or the environment's when its variable is set and valid."""
    value, _problem = environment_default(key)
    return SPECS[key].default if value is None else value


def ensure_instance_id(session) -> str:
    """A random id per database; namespaces keyring entries so data directories never collide."""
    row = session.get(Setting, INSTANCE_ID_KEY)
    if row is None:
        row = Setting(key=INSTANCE_ID_KEY, value=str(uuid.uuid4()))
        session.add(row)
        session.flush()
    return row.value


_VALUE_OF = select(Setting.value).where(Setting.key == bindparam("key"))


class SettingsService:
    def __init__(self, ctx: ServiceContext):
        self.ctx = ctx

    def all(self) -> dict[str, Any]:
        with self.ctx.db.read_session() as session:
            stored = {row.key: row.value for row in session.scalars(select(Setting))}
        return {key: stored[key] if key in stored else default_of(key) for key in SPECS}

    def sources(self) -> dict[str, str]:
        """Where each value comes from: "stored", "environment" (a variable replaced the default) or "default"."""
        with self.ctx.db.read_session() as session:
            stored = set(session.scalars(select(Setting.key)))
        return {key: STORED if key in stored else ENVIRONMENT if environment_default(key)[0] is not None else DEFAULT
                for key in SPECS}

    def environment_problems(self) -> list[str]:
        """Variables that were set but could not be used, each with why."""
        return [problem for key in SPECS if (problem := environment_default(key)[1])]

    def get(self, key: str) -> Any:
        if key not in SPECS:
            raise ValidationError(f"There is no setting called '{key}'.", field=key)
        # One statement, no ORM session: read on every engine call (the local engine's address).
        with self.ctx.db.one_statement_read() as connection:
            row = connection.execute(_VALUE_OF.params(key=key)).first()
        return default_of(key) if row is None else row.value

    def check(self, key: str, value: Any, label: str | None = None) -> Any:
        """The value as the setting ``key`` would store it, or a ValidationError naming ``label``."""
        if key not in SPECS:
            raise ValidationError(f"There is no setting called '{key}'.", field=key)
        return SPECS[key].check(value, label or key)

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Validates every change first; applies all or none."""
        self.ctx.require("admin", "change settings")
        cleaned = {}
        for key, value in changes.items():
            if key not in SPECS:
                raise ValidationError(f"There is no setting called '{key}'.", field=key)
            cleaned[key] = SPECS[key].check(value, key)
        merged = {**self.all(), **cleaned}
        if merged["tracker.port_start"] > merged["tracker.port_end"]:
            raise ValidationError("tracker.port_start must not be above tracker.port_end.", field="tracker.port_start")
        with self.ctx.db.session() as session:
            before = {}
            for key, value in cleaned.items():
                row = session.get(Setting, key)
                before[key] = default_of(key) if row is None else row.value
                if row is None:
                    session.add(Setting(key=key, value=value))
                else:
                    row.value = value
            changed = {k: v for k, v in cleaned.items() if before[k] != v}
            if changed:
                self.ctx.audit(
                    session,
                    "settings.update",
                    "Changed settings: " + ", ".join(sorted(changed)),
                    details={"before": {k: before[k] for k in changed}, "after": changed},
                )
        if changed:
            self.ctx.events.publish(SettingsChanged(tuple(sorted(changed))))
        return merged

    # The Fampage API key lives in the keyring, never in the settings table.
    def fampage_api_key(self) -> str | None:
        self.ctx.require("admin", "read the Fampage API key")
        return self.ctx.secrets.get(FAMPAGE_API_KEY_SECRET)

    def has_fampage_api_key(self) -> bool:
        return bool(self.ctx.secrets.get(FAMPAGE_API_KEY_SECRET))

    def set_fampage_api_key(self, value: str | None) -> None:
        self.ctx.require("admin", "change the Fampage API key")
        value = validation.text(value, "Fampage API key", max_length=200)
        with self.ctx.db.session() as session:
            if value:
                self.ctx.secrets.set(FAMPAGE_API_KEY_SECRET, value)
                self.ctx.audit(session, "settings.fampage_key", "Set the Fampage API key")
            else:
                self.ctx.secrets.delete(FAMPAGE_API_KEY_SECRET)
                self.ctx.audit(session, "settings.fampage_key", "Removed the Fampage API key")
