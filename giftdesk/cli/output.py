"""Printing results: aligned text tables for people, ``--json`` for scripts.

Text never carries a value's control characters to the terminal: a cell or a field is one line
with every control character escaped; free text keeps its line breaks only (``visible_text``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from giftdesk.core.printable import escape_controls


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)  # exact: never through float
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=_default, ensure_ascii=False)
    sys.stdout.write("\n")


def fmt(value: Any) -> str:
    """A value as one line of visible text: a table cell or a field."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return escape_controls(str(value))


def visible_text(text: str) -> str:
    """A command's free text: its own line breaks stay, every other control character is escaped."""
    return escape_controls(text, keep="\n")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    cells = [[fmt(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line.rstrip())
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    if not cells:
        print("(none)")


def fields(pairs: Sequence[tuple[str, Any]]) -> None:
    width = max(len(k) for k, _ in pairs)
    for key, value in pairs:
        print(f"{key.ljust(width)}  {fmt(value)}")


def warn(message: str) -> None:
    print(f"giftdesk: warning: {escape_controls(message)}", file=sys.stderr)
