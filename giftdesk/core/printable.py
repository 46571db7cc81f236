"""Control characters made visible, for text written to a terminal or a one-line field.

A stored value may hold an ESC sequence, a NUL or a line break (typed into an older version, or
read from a file): written raw, it would recolour or rewrite the terminal, or split one table row
into two. ``escape_controls`` shows each as a backslash escape instead (``\\n``, ``\\x1b``).
"""

from __future__ import annotations

import re

# C0, DEL, C1 (Unicode category Cc) and the Unicode line and paragraph separators (Zl, Zp).
CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    return _SHORT_ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) <= 0xFF else f"\\u{ord(char):04x}")


def escape_controls(text: str, keep: str = "") -> str:
    """``text`` with every control character except those in ``keep`` written as an escape."""
    return CONTROL_CHARACTER.sub(lambda found: found.group() if found.group() in keep else _escape(found.group()),
                                 text)
