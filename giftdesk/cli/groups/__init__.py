"""One module per command group; each has ``register(cli: CommandLine)``. Order = order in --help."""

from __future__ import annotations

import importlib

GROUP_MODULES: list[str] = ["social"]


def register_all(cli) -> None:
    for name in GROUP_MODULES:
        importlib.import_module(f"giftdesk.cli.groups.{name}").register(cli)
