"""The Fampage domain, its services and command groups never import PySide6 (they run in serve)."""

from __future__ import annotations

import subprocess
import sys

MODULES = [
    "giftdesk.fampage.client", "giftdesk.fampage.parse", "giftdesk.fampage.money", "giftdesk.fampage.invoice_pdf",
    "giftdesk.fampage.events", "giftdesk.fampage.runtime_feature", "giftdesk.services.fampage",
    "giftdesk.services.companies", "giftdesk.services.orders", "giftdesk.services.invoices",
    "giftdesk.services.analytics", "giftdesk.cli.groups.fampage", "giftdesk.cli.groups.company",
    "giftdesk.cli.groups.order", "giftdesk.cli.groups.invoice", "giftdesk.cli.groups.analytics",
]


def test_fampage_modules_do_not_import_qt():
    code = ("import importlib, sys\n"
            f"for name in {MODULES!r}: importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.startswith('PySide6')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
