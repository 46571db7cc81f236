"""The tracker's environment and container configuration, and the secrets they carry.

Secrets never reach the instance log: ``scrub`` masks environment values before an event is written.
"""

from __future__ import annotations

from giftdesk.db.fleet_models import Instance
from giftdesk.fleet import spec as checks
from giftdesk.fleet.docker_api import (ACCOUNT_LABEL, APP_LABEL, APP_VALUE, CONTAINER_PREFIX, DESK_LABEL, ID_LABEL,
                                       MANAGED_LABEL, MANAGED_VALUE, NAME_LABEL, PORT_LABEL, TRACKER_PORT, UID_LABEL,
                                       ContainerConfig)
from giftdesk.fleet.spec import InstanceSettings

SECRET_WORDS = ("API_KEY", "DASH_PASSWORD")


def dash_password_secret(instance_id: int) -> str:
    return f"instance-dash-password/{instance_id}"


class TrackerEnvironment:
    """Part of ``FleetService``: what a tracker container is made from."""

    def _environment(self, account_id: int, backend: str, port: int, settings: InstanceSettings,
                     instance_id: int | None = None) -> dict[str, str]:
        """The tracker's environment, exactly: the credential and the endpoint are its one source."""
        base = self.keys.tracker_environment(account_id, backend)
        password = None
        if instance_id is not None:
            password = self.ctx.secrets.get(dash_password_secret(instance_id))
        if not password:
            password = checks.new_dash_password()
            if instance_id is not None:
                self.ctx.secrets.set(dash_password_secret(instance_id), password)
        return {
            "API_KEY": base["API_KEY"], "ACCOUNT_ID": base["ACCOUNT_ID"], "TIKTOK_USERNAME": base["TIKTOK_USERNAME"],
            "PORT": str(port if settings.network == "host" else TRACKER_PORT),
            "BACKEND_API_URL": base["BACKEND_API_URL"], "DASH_PASSWORD": password,
            "DEBUG_MODE": "true" if settings.debug_mode else "false", "NODE_ENV": "production",
        }

    def dash_password(self, ref: int | str) -> str | None:
        self.ctx.require("operator", "show dashboard passwords")
        row = self.get(ref)
        return self.ctx.secrets.get(dash_password_secret(row.id))

    def _config(self, record: Instance, environment: dict[str, str]) -> ContainerConfig:
        labels = {APP_LABEL: APP_VALUE, ID_LABEL: str(record.id), NAME_LABEL: record.name,
                  MANAGED_LABEL: MANAGED_VALUE, DESK_LABEL: self.desk_id, PORT_LABEL: str(record.port),
                  UID_LABEL: record.uid, ACCOUNT_LABEL: str(record.account_id)}
        return ContainerConfig(f"{CONTAINER_PREFIX}{record.name}", record.image, environment, labels, record.port,
                               record.network, record.publish_address, record.restart_policy,
                               record.memory_limit_mb, record.cpu_millis)


def scrub(details: dict) -> dict:
    def clean(value):
        if isinstance(value, dict):
            return {k: ("••••" if any(w in str(k).upper() for w in SECRET_WORDS) else clean(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, str):
            for word in SECRET_WORDS:
                if f"{word}=" in value:
                    return "••••"
        return value

    return clean(details)
