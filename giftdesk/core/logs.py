"""Logging: a rotating file in the data directory, with secrets scrubbed on the way out."""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from pathlib import Path

from giftdesk.core.storage import is_disk_full

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


class LogFileHandler(logging.handlers.RotatingFileHandler):
    """The rotating log file, degrading quietly when it cannot be written.

    logging's default prints a traceback to stderr for every record it fails to write; on a
    full disk that buried the one line a command prints. Here the first failure gives one short
    notice (none for a full disk: the front end reports that itself) and later ones nothing.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.failed = False

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        error = sys.exc_info()[1]
        if self.failed or error is None:
            return
        self.failed = True
        if not is_disk_full(error):
            reason = str(getattr(error, "strerror", None) or error).rstrip(".")
            try:
                sys.stderr.write(f"giftdesk: the log file {self.baseFilename} cannot be written ({reason}); "
                                 "logging to it stops.\n")
            except (OSError, ValueError):  # no stderr either
                pass


def log_file_failed() -> bool:
    """Whether the log file could not take a record: then "the details are in the log" is not true."""
    return any(isinstance(h, LogFileHandler) and h.failed for h in logging.getLogger().handlers)


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
        LogFileHandler(logfile, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
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
