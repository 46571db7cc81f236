"""One module per command group; each has ``register(cli: CommandLine)``. Order = order in --help."""

from __future__ import annotations

import importlib

GROUP_MODULES: list[str] = [
    "admin", "customer", "account", "key", "data", "settings", "db", "backup", "audit",
    "instance", "engine", "image",
    "alert",
    "social",
    "fampage", "company", "order", "invoice", "analytics",
    "events",
    "move_in",  # giftdesk import …
    "move_in_orders",  # import social-scale, import hyperbuds
    "system",  # status and serve come last in --help
    "service",  # serve at boot
]


def register_all(cli) -> None:
    for name in GROUP_MODULES:
        importlib.import_module(f"giftdesk.cli.groups.{name}").register(cli)
