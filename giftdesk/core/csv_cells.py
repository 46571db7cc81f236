"""CSV a spreadsheet opens as data: every CSV GiftDesk writes goes through ``safe_writer``.

A text cell starting with ``= + - @``, TAB or CR is run as a formula by Excel and LibreOffice
(CSV injection: ``=HYPERLINK(...)`` in a company name). Such cells are prefixed with a quote.
A cell that is a plain number (``-12.50``, a negative amount) cannot be a formula and stays a
number, whether it came as a ``Decimal`` or as the exact text ``str(Decimal)`` our JSON uses.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def safe_cell(value: Any) -> Any:
    """``value``, with a quote in front when a spreadsheet would run it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` that neutralises every cell it writes."""

    def __init__(self, out: TextIO, **kwargs: Any):
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_writer(out: TextIO, **kwargs: Any) -> SafeWriter:
    return SafeWriter(out, **kwargs)
