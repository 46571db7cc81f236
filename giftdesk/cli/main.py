"""Entry point: ``giftdesk`` with no command starts the console; subcommands script the same services.

Exit status: 0 success, 2 bad input (one line on stderr saying what is wrong), 1 other failures.
"""

from __future__ import annotations

import argparse
import errno
import logging
import re
import sys
from pathlib import Path

import giftdesk
from giftdesk.core.errors import GiftDeskError, StorageError

log = logging.getLogger("giftdesk.cli")

_PATH_ERRNOS = {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.EACCES, errno.EPERM,
                errno.ELOOP, errno.EINVAL, errno.EEXIST, errno.EROFS}


class ArgumentError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse, but bad input is one line on stderr and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        raise ArgumentError(f"{self.prog}: {message}")


def build_parser() -> Parser:
    def common_options(suppress: bool) -> Parser:
        # The options work before or after the command; the command's copies default to
        # SUPPRESS so they do not overwrite a value given before the command.
        extra = {"default": argparse.SUPPRESS} if suppress else {}
        common = Parser(add_help=False)
        common.add_argument("--data-dir", help="data directory (default: per-user; env GIFTDESK_DATA_DIR)", **extra)
        common.add_argument("--database-url", help="SQLAlchemy URL, e.g. postgresql+psycopg://… (env GIFTDESK_DATABASE_URL)",
                            **extra)
        common.add_argument("--json", action="store_true", help="print machine-readable JSON", **extra)
        return common

    # No abbreviations at the top: a command's own option (import tracker-data --data) must not be
    # taken for the start of --data-dir or --database-url.
    parser = Parser(prog="giftdesk", description="GiftDesk console. With no command, starts the desktop console.",
                    parents=[common_options(False)], allow_abbrev=False)
    parser.add_argument("--version", action="version", version=f"giftdesk {giftdesk.__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="open the main window offscreen on a temporary data directory and exit")
    sub = parser.add_subparsers(dest="command", parser_class=Parser, metavar="COMMAND")
    from giftdesk.cli.framework import CommandLine
    from giftdesk.cli.groups import register_all

    register_all(CommandLine(sub, common_options(True)))
    return parser


# SQLAlchemy ends every error's text with a line linking to its documentation.
_SQLALCHEMY_LINK = re.compile(r"\s*\(Background on this error at: [^)]*\)")
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def one_line(message: object) -> str:
    """An error message as one line: line breaks become spaces, other control characters are shown
    escaped rather than obeyed, and SQLAlchemy's documentation link is left out."""
    text = _LINE_BREAKS.sub(" ", _SQLALCHEMY_LINK.sub("", str(message)).strip())
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _not_text(argv: list[str]) -> int | None:
    """Position of an argument that is not valid text (bytes the locale cannot decode), if any."""
    for position, value in enumerate(argv, 1):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return position
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    position = _not_text(argv)
    if position is not None:
        print(f"giftdesk: argument {position} ({one_line(argv[position - 1])}) is not valid UTF-8 text; "
              "check the terminal's encoding.", file=sys.stderr)
        return 2
    try:
        args = build_parser().parse_args(argv)
    except ArgumentError as exc:
        print(one_line(exc), file=sys.stderr)
        return 2
    if args.self_test or not args.command:
        return _window(args)
    try:
        return args.handler(args) or 0
    except GiftDeskError as exc:
        return _report(exc)
    except ArgumentError as exc:
        print(one_line(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("giftdesk: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`giftdesk --json audit list | head -1`): stop quietly, as cat and grep
        # do. Later writes (the interpreter's final flush) go to /dev/null instead of raising again.
        _silence_stdout()
        return 141  # 128 + SIGPIPE, what a shell reports for a process the pipe ended
    except OSError as exc:
        problem = _storage_problem(exc, args)
        if problem is not None:
            return _report(problem)
        # A path the user typed that cannot be used (too long, a folder, no permission…) is bad
        # input; an I/O error is not.
        code = 2 if exc.errno in _PATH_ERRNOS else 1
        where = f": {exc.filename}" if exc.filename else ""
        print(f"giftdesk: {one_line(exc.strerror or exc)}{one_line(where)}", file=sys.stderr)
        return code
    except Exception as exc:  # a bug, not the user's input: one line here, the traceback in the log
        problem = _storage_problem(exc, args)
        if problem is not None:
            return _report(problem)
        from giftdesk.core.logs import log_file_failed

        log.exception("giftdesk %s failed", args.command)
        details = "the log file could not be written" if log_file_failed() else "the details are in the log"
        print(f"giftdesk: unexpected error ({type(exc).__name__}: {one_line(exc)}); {details}.", file=sys.stderr)
        return 1


def _report(exc: GiftDeskError) -> int:
    if isinstance(exc, StorageError):  # not the user's input: worth a line in the log, once
        log.error("%s", exc)
    print(f"giftdesk: {one_line(exc)}", file=sys.stderr)
    return exc.exit_code


def _storage_problem(exc: BaseException, args) -> GiftDeskError | None:
    """A full disk or a damaged database that reached here untranslated, as its sentence."""
    from giftdesk.db.engine import sqlite_file
    from giftdesk.core.paths import resolve_data_dir, resolve_database_url
    from giftdesk.core.storage import storage_error

    try:
        paths = resolve_data_dir(getattr(args, "data_dir", None))
        database = sqlite_file(resolve_database_url(paths, getattr(args, "database_url", None)))
    except Exception:  # an unusable --data-dir or URL: the error is reported as it is
        return None
    filename = getattr(exc, "filename", None)
    folder = Path(filename).parent if isinstance(filename, str) and filename else paths.root
    return storage_error(exc, database, folder)


def _window(args) -> int:
    """The desktop console (or its self-test), after checking Qt can open a window at all."""
    import os

    from giftdesk.cli.display import EXIT_NO_DISPLAY, display_problem

    # The self-test falls back to offscreen by itself when there is no display at all.
    headless_self_test = args.self_test and not any(
        os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))
    problem = None if headless_self_test else display_problem()
    if problem:
        print(f"giftdesk: {one_line(problem)}", file=sys.stderr)
        return EXIT_NO_DISPLAY
    try:
        from giftdesk.gui.app import run, self_test
    except ImportError as exc:  # Qt's own libraries (libEGL, libGL, fontconfig…) are missing
        print(f"giftdesk: Qt cannot start: {exc}; install the libraries the README lists.", file=sys.stderr)
        return EXIT_NO_DISPLAY
    if args.self_test:
        return self_test(json_output=args.json)
    return run(data_dir=args.data_dir, database_url=args.database_url)


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (captured in tests)
        pass


if __name__ == "__main__":
    raise SystemExit(main())
