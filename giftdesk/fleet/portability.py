"""Export and import of instances and templates as JSON (never a key or a password), and the
nginx site files for public tracker URLs (written to a folder; the console never runs sudo)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse

from sqlalchemy import select

from giftdesk.db.models import TikTokAccount
from giftdesk.errors import GiftDeskError, ValidationError
from giftdesk.fleet.records import BulkResult
from giftdesk.fleet.spec import InstanceSettings

EXPORT_FORMAT = "giftdesk.instances"
EXPORT_VERSION = 1


def export_fleet(fleet) -> dict:
    instances = []
    for row in fleet.list():
        instances.append({
            "name": row.name, "tiktokUsername": row.tiktok_username, "port": row.port, **row.settings.to_json(),
            "schedule": {"start": row.schedule_start, "stop": row.schedule_stop, "timeZone": row.schedule_tz},
            "publicUrl": row.public_url,
        })
    return {"format": EXPORT_FORMAT, "version": EXPORT_VERSION,
            "exportedAt": datetime.now(timezone.utc).isoformat(),
            "instances": instances, "templates": [t.to_json() for t in fleet.templates()]}


def import_fleet(fleet, data: dict, start: bool = False, keep_ports: bool = True) -> list[BulkResult]:
    """One result per instance; an instance whose name exists already is skipped. The account is
    found by its TikTok username (it must exist); its key comes from the keyring or is generated."""
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise ValidationError("This file is not a GiftDesk instances export.", field="file")
    if int(data.get("version", 0)) > EXPORT_VERSION:
        raise ValidationError("This export is from a newer GiftDesk; update to import it.", field="file")
    for template in data.get("templates") or ():
        fleet.save_template(template.get("name"), InstanceSettings.from_json(template))
    existing = {row.name for row in fleet.list()}
    results = []
    for index, item in enumerate(data.get("instances") or ()):
        name = str(item.get("name") or f"#{index + 1}")
        if name in existing:
            results.append(BulkResult(0, name, "skipped", "an instance with this name exists"))
            continue
        try:
            username = str(item.get("tiktokUsername") or "").removeprefix("@").lower()
            with fleet.ctx.db.read_session() as session:
                account_id = session.scalar(select(TikTokAccount.id).where(TikTokAccount.username == username))
            if account_id is None:
                raise ValidationError(f"there is no TikTok account @{username}; add it first")
            schedule = item.get("schedule") or {}
            row = fleet.create(name, account_id, port=item.get("port") if keep_ports else None,
                               settings=InstanceSettings.from_json(item), start=start,
                               schedule_start=schedule.get("start"), schedule_stop=schedule.get("stop"),
                               schedule_tz=schedule.get("timeZone"))
            if item.get("publicUrl"):
                fleet.edit(row.id, public_url=item["publicUrl"])
            results.append(BulkResult(row.id, row.name, "ok"))
        except GiftDeskError as exc:
            results.append(BulkResult(0, name, "failed", str(exc)))
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


def write_nginx_sites(fleet, folder: str | os.PathLike, refs=None) -> NginxSites:
    """One site file per instance with a public https/http URL, proxying to its published port."""
    target = Path(folder).expanduser()
    if not target.is_dir():
        raise ValidationError(f"{target} is not a folder.", field="folder")
    rows = fleet.resolve(refs) if refs else fleet.list()
    files, hosts, skipped = [], [], []
    for row in rows:
        url = row.public_url or fleet.public_url_for(row.name, row.port)
        host = (urlparse(url).hostname or "").lower()
        if not host or host in ("127.0.0.1", "localhost") or not _HOST.match(host):
            skipped.append(row.name)
            continue
        path = target / f"gift-tracker-{row.name}.conf"
        temporary = path.with_suffix(".conf.tmp")
        temporary.write_text(SITE_TEMPLATE.format(name=row.name, port=row.port, host=host), encoding="utf-8")
        os.replace(temporary, path)
        files.append(str(path))
        hosts.append(host)
    return NginxSites(files, hosts, skipped)
