"""Export and import of instances and templates as JSON (never a key or a password), and the
nginx site files for public tracker URLs (written to a folder; the console never runs sudo)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

from sqlalchemy import func, select

from giftdesk.db.models import TikTokAccount
from giftdesk.fleet.engines import engine_key, shown_name
from giftdesk.fleet.services_mode import ServiceOptions, service_json, service_of_json
from giftdesk.core.errors import GiftDeskError, ValidationError
from giftdesk.fleet.records import BulkResult
from giftdesk.fleet import spec as checks
from giftdesk.fleet.spec import InstanceSettings
from giftdesk.core import validation
from giftdesk.core.storage import write_text_whole

EXPORT_FORMAT = "giftdesk.instances"
EXPORT_VERSION = 1


def export_fleet(fleet) -> dict:
    instances = []
    for row in fleet.list():
        instances.append({
            "name": row.name, "tiktokUsername": row.tiktok_username, "port": row.port, **row.settings.to_json(),
            "schedule": {"start": row.schedule_start, "stop": row.schedule_stop, "timeZone": row.schedule_tz},
            "publicUrl": row.public_url, "engine": shown_name(row.engine), **service_json(row),
        })
    return {"format": EXPORT_FORMAT, "version": EXPORT_VERSION,
            "exportedAt": datetime.now(timezone.utc).isoformat(),
            "instances": instances, "templates": [t.to_json() for t in fleet.templates()]}


def save_export(fleet, path: str | os.PathLike) -> dict:
    """The export written to ``path`` (whole or not at all); returns what was written."""
    import json

    target = Path(path).expanduser()
    data = export_fleet(fleet)
    try:
        write_text_whole(target, json.dumps(data, indent=2, default=str))
    except OSError as exc:
        raise ValidationError(f"Could not write {target}: {exc.strerror or exc}.", field="file") from exc
    return data


def read_export(path: str | os.PathLike) -> dict:
    """An export file's content, or one sentence saying why it cannot be read."""
    import json

    source = Path(path).expanduser()
    try:
        text = source.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValidationError(f"Cannot read {source}: {exc.strerror or exc}.", field="file") from exc
    except UnicodeDecodeError:
        raise ValidationError(f"{source} is not a text file.", field="file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{source} is not JSON (line {exc.lineno}: {exc.msg}).", field="file") from None
    _check_format(data)
    return data


@dataclass(frozen=True)
class ImportItem:
    """One instance of an export file and what importing it would do: ``create``, or ``skip``
    (the name exists) / ``refuse`` with the reason."""

    name: str
    username: str
    port: int | None
    action: str  # create | skip | refuse
    reason: str = ""
    account_id: int | None = None
    settings: InstanceSettings | None = None
    schedule: dict | None = None
    public_url: str | None = None
    service: ServiceOptions | None = None  # a Swarm service, with its placement
    engine: str = ""  # the named engine it goes to ('' the local one)

    def to_json(self) -> dict:
        return {"name": self.name, "tiktokUsername": self.username, "port": self.port, "action": self.action,
                "reason": self.reason, "accountId": self.account_id, "engine": shown_name(self.engine)}


@dataclass(frozen=True)
class ImportPlan:
    items: list[ImportItem]
    templates: list[str]  # names of the templates the file brings
    replaced_templates: list[str]  # ... of which these exist already and would be overwritten

    @property
    def creating(self) -> list[ImportItem]:
        return [i for i in self.items if i.action == "create"]

    def to_json(self) -> dict:
        return {"instances": [i.to_json() for i in self.items], "templates": self.templates,
                "replacedTemplates": self.replaced_templates}


def _check_format(data) -> None:
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise ValidationError("This file is not a GiftDesk instances export.", field="file")
    try:
        version = int(data.get("version", 0))
    except (TypeError, ValueError):
        raise ValidationError("This file's export version is not a number.", field="file") from None
    if version > EXPORT_VERSION:
        raise ValidationError("This export is from a newer GiftDesk; update to import it.", field="file")
    if not isinstance(data.get("instances") or [], list) or not isinstance(data.get("templates") or [], list):
        raise ValidationError("This export's instances or templates are not lists.", field="file")


_TEXT, _NUMBER, _FLAG, _OBJECT = "text", "a number", "true or false", "an object"
# What each field of an exported instance or template may be (null always: the default).
_SETTINGS_SHAPE = {"name": (_TEXT,), "image": (_TEXT,), "network": (_TEXT,), "publishAddress": (_TEXT,),
                   "restartPolicy": (_TEXT,), "memoryLimitMb": (_NUMBER, _TEXT), "cpus": (_NUMBER, _TEXT),
                   "debugMode": (_FLAG,)}
_INSTANCE_SHAPE = {**_SETTINGS_SHAPE, "tiktokUsername": (_TEXT,), "port": (_NUMBER, _TEXT), "schedule": (_OBJECT,),
                   "publicUrl": (_TEXT,), "mode": (_TEXT,), "placement": (_OBJECT,), "publishMode": (_TEXT,),
                   "engine": (_TEXT,)}
_SCHEDULE_SHAPE = {"start": (_TEXT,), "stop": (_TEXT,), "timeZone": (_TEXT,)}


def _json_kind(value) -> str:
    if isinstance(value, bool):
        return _FLAG
    if isinstance(value, (int, float)):
        return _NUMBER
    if isinstance(value, str):
        return _TEXT
    if isinstance(value, dict):
        return _OBJECT
    return "a list" if isinstance(value, list) else type(value).__name__


def _check_shape(raw: dict, shape: dict[str, tuple[str, ...]], where: str = "") -> None:
    """One sentence for the first field of the wrong JSON type (``"schedule": "x"``)."""
    for key, kinds in shape.items():
        value = raw.get(key)
        if value is not None and _json_kind(value) not in kinds:
            raise ValidationError(f"{where}{key} must be {' or '.join(kinds)}, not {_json_kind(value)}.", field=key)


def _check_templates(data: dict) -> None:
    """A file whose templates cannot be saved is refused whole, before anything is created."""
    for index, template in enumerate(data.get("templates") or ()):
        if not isinstance(template, dict):
            raise ValidationError(f"Template #{index + 1} of this export is not an object.", field="file")
        try:
            _check_shape(template, _SETTINGS_SHAPE)
            validation.text(template.get("name"), "its name", required=True, max_length=100)
            InstanceSettings.from_json(template)
        except ValidationError as exc:
            raise ValidationError(f"Template #{index + 1} of this export: {exc}", field="file") from None


def plan_import(fleet, data: dict, keep_ports: bool = True) -> ImportPlan:
    """What ``import_fleet`` would do, changing nothing: each instance is created, skipped (its
    name exists) or refused with the reason (bad name or settings, no such account, port taken,
    image missing, twice in the file)."""
    _check_format(data)
    _check_templates(data)
    existing = {row.name for row in fleet.list()}
    templates = [str(t.get("name") or "") for t in data.get("templates") or () if isinstance(t, dict)]
    known_templates = {t.name for t in fleet.templates()}
    image_known: dict[tuple[str, str], bool] = {}
    published: dict[str, set[int]] = {}  # per engine, asked once: the ports its containers publish
    seen_names: set[str] = set()
    seen_ports: set[int] = set()
    items = []
    for index, item in enumerate(data.get("instances") or ()):
        raw = item if isinstance(item, dict) else {}
        shown = str(raw.get("name") or f"#{index + 1}")
        username = str(raw.get("tiktokUsername") or "").strip().removeprefix("@").lower()

        def refuse(reason: str, name: str = shown, port=None) -> ImportItem:
            return ImportItem(name, username, port, "refuse", reason)

        if not isinstance(item, dict):
            items.append(refuse("this entry is not an instance"))
            continue
        try:
            _check_shape(raw, _INSTANCE_SHAPE)
            name = checks.instance_name(raw.get("name"))
        except ValidationError as exc:
            items.append(refuse(str(exc)))
            continue
        if name in existing:
            items.append(ImportItem(name, username, None, "skip", "an instance with this name exists"))
            continue
        if name in seen_names:
            items.append(refuse("the name appears twice in the file", name))
            continue
        seen_names.add(name)
        try:
            settings = InstanceSettings.from_json(raw)
            schedule = raw.get("schedule") or {}
            _check_shape(schedule, _SCHEDULE_SHAPE, "schedule ")
            schedule = {"start": checks.time_of_day(schedule.get("start"), "start"),
                        "stop": checks.time_of_day(schedule.get("stop"), "stop"),
                        "timeZone": checks.zone_name(schedule.get("timeZone"))}
            public_url = validation.http_url(raw.get("publicUrl"), "public URL")
            service = service_of_json(raw)
            engine = engine_key(raw.get("engine"))
            port = checks.port_number(raw["port"]) if keep_ports and raw.get("port") not in (None, "") else None
        except ValidationError as exc:
            items.append(refuse(str(exc), name))
            continue
        if not username:
            items.append(refuse("it names no TikTok account", name, port))
            continue
        with fleet.ctx.db.read_session() as session:
            account_id = session.scalar(select(TikTokAccount.id).where(func.lower(TikTokAccount.username) == username))
        if account_id is None:
            items.append(refuse(f"there is no TikTok account @{username}; add it first", name, port))
            continue
        if not fleet.engines.exists(engine):
            items.append(refuse(f"there is no Docker engine called '{engine}' here (add it with `giftdesk engine add`, "
                                "or change the file's engine)", name, port))
            continue
        image = settings.image or str(fleet.settings.get("tracker.default_image"))
        if (engine, image) not in image_known:
            image_known[engine, image] = fleet.docker_for(engine).image_exists(image)
        if not image_known[engine, image]:
            items.append(refuse(f"the image '{image}' is not on the Docker engine '{shown_name(engine)}'", name, port))
            continue
        if port is not None:
            if keep_ports and engine not in published:
                published[engine] = fleet.docker_for(engine).published_ports(fleet.desk_id)
            taken = ("another instance in the file uses it" if port in seen_ports
                     else fleet.port_taken(port, settings, published=published.get(engine, set()), engine=engine))
            if taken:
                items.append(refuse(f"port {port} is taken: {taken} (import with new ports instead)", name, port))
                continue
            seen_ports.add(port)
        items.append(ImportItem(name, username, port, "create", "", account_id, settings, schedule, public_url,
                                service, engine))
    return ImportPlan(items, templates, sorted(set(templates) & known_templates))


def import_fleet(fleet, data: dict, start: bool = False, keep_ports: bool = True,
                 plan: ImportPlan | None = None) -> list[BulkResult]:
    """One result per instance, as ``plan_import`` decided: skipped, failed (refused, with the
    reason) or created. Each instance is created on its own and atomically (record and container
    together): a failure leaves nothing of that instance and the others go on. The file's
    templates are saved first. The account is found by its TikTok username; its key comes from
    the keyring or is generated."""
    plan = plan or plan_import(fleet, data, keep_ports)
    for template in data.get("templates") or ():
        fleet.save_template(template.get("name"), InstanceSettings.from_json(template))
    results = []
    for item in plan.items:
        if item.action == "skip":
            results.append(BulkResult(0, item.name, "skipped", item.reason, item.engine))
            continue
        if item.action == "refuse":
            results.append(BulkResult(0, item.name, "failed", item.reason, item.engine))
            continue
        try:
            row = fleet.create(item.name, item.account_id, port=item.port, settings=item.settings, start=False,
                               schedule_start=item.schedule["start"], schedule_stop=item.schedule["stop"],
                               schedule_tz=item.schedule["timeZone"], service=item.service, engine=item.engine)
        except GiftDeskError as exc:
            results.append(BulkResult(0, item.name, "failed", str(exc), item.engine))
            continue
        message = ""
        try:
            if item.public_url:
                fleet.edit(row.id, public_url=item.public_url)
            if start:
                fleet.start(row.id)
        except GiftDeskError as exc:  # the instance exists: say what is left to do
            message = f"created, but: {exc}"
        results.append(BulkResult(row.id, row.name, "ok", message, row.engine))
    return results


# ---- nginx -------------------------------------------------------------------------------------
_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")

SITE_TEMPLATE = """# GiftDesk: tracker '{name}' -> 127.0.0.1:{port}. Written by the console; certbot adds TLS.
server {{
    listen 80;
    listen [::]:80;
    server_name {host};

    location / {{
        proxy_pass http://127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_set_header Host $host;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_read_timeout 3600s;
    }}
}}
"""


@dataclass(frozen=True)
class NginxSites:
    files: list[str]
    hosts: list[str]
    skipped: list[str]

    @property
    def certbot_command(self) -> str:
        if not self.hosts:
            return ""
        return "sudo certbot --nginx " + " ".join(f"-d {h}" for h in self.hosts)

    def to_json(self) -> dict:
        return {"files": self.files, "hosts": self.hosts, "skipped": self.skipped,
                "certbotCommand": self.certbot_command}


@dataclass(frozen=True)
class SitePlan:
    """An instance's public URL and the nginx site it gets (``host`` None: none, ``reason`` says why)."""

    name: str
    port: int
    url: str
    host: str | None
    reason: str = ""

    @property
    def file_name(self) -> str:
        return f"gift-tracker-{self.name}.conf"

    def to_json(self) -> dict:
        return {"name": self.name, "port": self.port, "url": self.url, "host": self.host, "reason": self.reason,
                "fileName": self.file_name if self.host else None}


def site_plan(fleet, refs=None) -> list[SitePlan]:
    """Each instance's public URL (its own, else Settings' pattern) and whether it can get a site."""
    plans = []
    for row in (fleet.resolve(refs) if refs else fleet.list()):
        url = row.public_url or fleet.public_url_for(row.name, row.port)
        host = (urlparse(url).hostname or "").lower()
        if not host or host in ("127.0.0.1", "localhost"):
            plans.append(SitePlan(row.name, row.port, url, None, "no public host: set a URL pattern in Settings"))
        elif not _HOST.match(host):
            plans.append(SitePlan(row.name, row.port, url, None, f"'{host}' is not a host name nginx can serve"))
        else:
            plans.append(SitePlan(row.name, row.port, url, host))
    return plans


def write_nginx_sites(fleet, folder: str | os.PathLike, refs=None) -> NginxSites:
    """One site file per instance with a public https/http URL, proxying to its published port."""
    target = Path(folder).expanduser()
    if not str(folder).strip() or not target.is_dir():
        raise ValidationError(f"{target} is not a folder.", field="folder")
    files, hosts, skipped = [], [], []
    for plan in site_plan(fleet, refs):
        if plan.host is None:
            skipped.append(plan.name)
            continue
        path = target / plan.file_name
        try:
            write_text_whole(path, SITE_TEMPLATE.format(name=plan.name, port=plan.port, host=plan.host))
        except OSError as exc:
            raise ValidationError(f"Could not write {path}: {exc.strerror or exc}.", field="folder") from exc
        files.append(str(path))
        hosts.append(plan.host)
    return NginxSites(files, hosts, skipped)
