"""What an instance is made of, and the checks every front end shares (one sentence per problem)."""

from __future__ import annotations

import ipaddress
import re
import secrets as _random
import socket
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from giftdesk.core.errors import ValidationError
from giftdesk.core.clock import parse_time_of_day, resolve_zone

# A DNS label that is also a valid Docker name: it becomes gift-tracker-<name> and a subdomain.
_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
RESTART_POLICIES = ("unless-stopped", "always", "on-failure", "no")
DEFAULT_MEMORY_MB = 256
MIN_MEMORY_MB = 6  # the engine refuses less
MAX_CPUS = 256  # a sanity bound; more than this engine has is refused by the engine itself
MAX_NAME = 50  # gift-tracker-<name> stays well inside Docker's and DNS's limits


def instance_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("The instance needs a name.", field="name")
    name = value.strip().lower()
    if len(name) > MAX_NAME:
        raise ValidationError(f"The name '{value.strip()}' is longer than {MAX_NAME} characters.", field="name")
    if not _NAME.match(name):
        raise ValidationError(
            f"'{value.strip()}' cannot be an instance name: use letters, digits and '-' only, starting and "
            "ending with a letter or digit (it becomes a container name and a subdomain).", field="name")
    return name


def port_number(value: Any, field: str = "port") -> int:
    if isinstance(value, bool):
        raise ValidationError(f"The {field} must be a number.", field=field)
    try:
        port = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError(f"The {field} must be a number, not '{value}'.", field=field) from None
    if not 1 <= port <= 65535:
        raise ValidationError(f"The {field} must be between 1 and 65535, not {port}.", field=field)
    return port


def publish_address(value: Any) -> str:
    text = str(value or "127.0.0.1").strip()
    if text in ("all", "*"):
        return "0.0.0.0"
    if text in ("local", "localhost"):
        return "127.0.0.1"
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise ValidationError(f"'{text}' is not an IPv4 address to publish on (127.0.0.1, or 0.0.0.0 for all).",
                              field="publish address") from None


def restart_policy(value: Any) -> str:
    text = str(value or "unless-stopped").strip()
    if text not in RESTART_POLICIES:
        raise ValidationError(f"The restart policy must be one of: {', '.join(RESTART_POLICIES)}.", field="restart policy")
    return text


def memory_mb(value: Any) -> int | None:
    if value in (None, "", 0, "0", "none"):
        return None
    text = str(value).strip().lower()
    factor = 1
    for suffix, multiplier in (("gib", 1024), ("gb", 1024), ("g", 1024), ("mib", 1), ("mb", 1), ("m", 1)):
        if text.endswith(suffix):
            text, factor = text[: -len(suffix)].strip(), multiplier
            break
    try:
        number = int(text) * factor
    except ValueError:
        raise ValidationError(f"The memory limit must be a number of MiB (e.g. 256 or 1g), not '{value}'.",
                              field="memory") from None
    if number < MIN_MEMORY_MB:
        raise ValidationError(f"The memory limit must be at least {MIN_MEMORY_MB} MiB.", field="memory")
    return number


def cpu_millis(value: Any) -> int | None:
    """'0.5' CPUs → 500; '' → no limit."""
    if value in (None, "", 0, "0", "none"):
        return None
    from decimal import Decimal, InvalidOperation

    try:
        cpus = Decimal(str(value).strip())
    except InvalidOperation:
        cpus = None
    if cpus is None or cpus.is_nan():
        raise ValidationError(f"The CPU limit must be a number of CPUs (e.g. 0.5), not '{value}'.", field="cpus")
    if cpus.is_infinite() or cpus <= 0 or cpus > MAX_CPUS:  # 1e309 in a JSON file arrives as inf
        raise ValidationError(f"The CPU limit must be more than 0 and at most {MAX_CPUS} CPUs.", field="cpus")
    return cpu_millis_value(int(cpus * 1000))


def network_name(value: Any) -> str:
    text = str(value or "bridge").strip()
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$", text):
        raise ValidationError(f"'{text}' is not a Docker network name.", field="network")
    if text == "none":
        raise ValidationError("A tracker needs a network: bridge, host or a user-defined one.", field="network")
    return text


def image_reference(value: Any) -> str:
    text = str(value or "").strip()
    if not text or any(c.isspace() for c in text) or len(text) > 300:
        raise ValidationError(f"'{text}' is not an image reference (e.g. gift-tracker:latest).", field="image")
    return text


def time_of_day(value: Any, field: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        hours, minutes = parse_time_of_day(str(value))
    except ValidationError as exc:
        raise ValidationError(f"The {field} time: {exc}", field=field) from None
    return f"{hours:02d}:{minutes:02d}"


def zone_name(value: Any) -> str | None:
    if value in (None, ""):
        return None
    resolve_zone(str(value))
    return str(value)


def new_dash_password() -> str:
    return _random.token_urlsafe(15)


def port_bindable(address: str, port: int) -> bool:
    """Whether this host could listen on ``address:port`` now (nothing else holds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class InstanceSettings:
    """The Docker side of an instance, shared by instances and templates."""

    image: str | None = None  # None: Settings' default image
    network: str = "bridge"
    publish_address: str = "127.0.0.1"
    restart_policy: str = "unless-stopped"
    memory_limit_mb: int | None = DEFAULT_MEMORY_MB
    cpu_millis: int | None = None
    debug_mode: bool = False

    def cleaned(self) -> "InstanceSettings":
        return InstanceSettings(
            image=image_reference(self.image) if self.image else None,
            network=network_name(self.network), publish_address=publish_address(self.publish_address),
            restart_policy=restart_policy(self.restart_policy), memory_limit_mb=memory_mb(self.memory_limit_mb),
            cpu_millis=cpu_millis_value(self.cpu_millis), debug_mode=bool(self.debug_mode))

    def to_json(self) -> dict:
        return {"image": self.image, "network": self.network, "publishAddress": self.publish_address,
                "restartPolicy": self.restart_policy, "memoryLimitMb": self.memory_limit_mb,
                "cpus": self.cpu_millis / 1000 if self.cpu_millis else None, "debugMode": self.debug_mode}

    @classmethod
    def from_json(cls, data: dict) -> "InstanceSettings":
        cpus = data.get("cpus")
        return cls(image=data.get("image"), network=data.get("network") or "bridge",
                   publish_address=data.get("publishAddress") or "127.0.0.1",
                   restart_policy=data.get("restartPolicy") or "unless-stopped",
                   memory_limit_mb=data.get("memoryLimitMb", DEFAULT_MEMORY_MB),
                   cpu_millis=cpu_millis(cpus) if cpus not in (None, "") else None,
                   debug_mode=bool(data.get("debugMode", False))).cleaned()

    def merged(self, **changes: Any) -> "InstanceSettings":
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in changes.items() if k in known})

    def as_dict(self) -> dict:
        return asdict(self)


def cpu_millis_value(value: Any) -> int | None:
    """An already-parsed millis integer, checked."""
    if value in (None, 0):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("The CPU limit must be given in thousandths of a CPU.", field="cpus")
    if value < 10:
        raise ValidationError("The CPU limit must be at least 0.01 CPUs.", field="cpus")
    if value > MAX_CPUS * 1000:
        raise ValidationError(f"The CPU limit must be at most {MAX_CPUS} CPUs.", field="cpus")
    return value
