"""Logging: a rotating file in the data directory, with secrets scrubbed on the way out."""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"

# UUID-shaped tokens are tracker API keys; "key=..." covers Fampage's form parameter.
_SECRET_PATTERNS = [
    re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    re.compile(r"(?i)(\b(?:api[_-]?key|key|password|token)\s*[=:]\s*)([^\s&,;\"']+)"),
]


def redact(text: str) -> str:
    text = _SECRET_PATTERNS[0].sub("<redacted-key>", text)
    return _SECRET_PATTERNS[1].sub(r"\1<redacted>", text)


class RedactingFilter(logging.Filter):
    """Rewrites every record so no API key or password reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def setup_logging(log_dir: Path, level: int = logging.INFO, console: bool = False) -> Path:
    log_dir.mkdir(parents=True, exist_ok=True)
    logfile = log_dir / "giftdesk.log"
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_giftdesk", False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(logfile, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    ]
    if console:
        # Warnings and errors only: what a command reports, it prints itself (``serve`` printed
        # "listening on …" twice when the INFO record was echoed too).
        stream = logging.StreamHandler()
        stream.setLevel(logging.WARNING)
        handlers.append(stream)
    for handler in handlers:
        handler._giftdesk = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
    logfile.chmod(0o600)
    # httpx logs every request URL at INFO, and Fampage's API key travels in the query string:
    # the file handler redacts it, but no record of it should exist anywhere else either.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return logfile
