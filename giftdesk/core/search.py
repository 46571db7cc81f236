"""Substring search in SQL: what a person types is matched literally, LIKE's wildcards included."""

from __future__ import annotations

ESCAPE = "\\"


def contains_pattern(text: str) -> str:
    """``%text%`` with ``%``, ``_`` and the escape character itself escaped (use with ``escape=ESCAPE``)."""
    escaped = text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")
    return f"%{escaped}%"


def contains(column, text: str):
    """``column LIKE %text%``, literal: ``customer list --search %`` finds names with a percent sign only."""
    return column.like(contains_pattern(text), escape=ESCAPE)
