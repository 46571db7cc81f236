"""Counts in sentences: "1 order", "2 orders", "1,000 orders"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` with thousands separators and the noun in the right number."""
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"
