"""Entry point: ``giftdesk`` with no command starts the console; subcommands script the same services.

Exit status: 0 success, 2 bad input (one line on stderr saying what is wrong), 1 other failures.
"""

from __future__ import annotations

import argparse
import errno
import logging
import sys

import giftdesk
from giftdesk.errors import GiftDeskError

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

    parser = Parser(prog="giftdesk", description="GiftDesk console. With no command, starts the desktop console.",
                    parents=[common_options(False)])
    parser.add_argument("--version", action="version", version=f"giftdesk {giftdesk.__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="open the main window offscreen on a temporary data directory and exit")
    sub = parser.add_subparsers(dest="command", parser_class=Parser, metavar="COMMAND")
    from giftdesk.cli.framework import CommandLine
    from giftdesk.cli.groups import register_all

    register_all(CommandLine(sub, common_options(True)))
    return parser


def one_line(message: object) -> str:
    """An error message as one line: typed newlines and control characters shown escaped, not obeyed."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(message).strip())


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
        print(f"giftdesk: {one_line(exc)}", file=sys.stderr)
        return exc.exit_code
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
        # A path the user typed that cannot be used (too long, a folder, no permission…) is bad
        # input; a full disk or an I/O error is not.
        code = 2 if exc.errno in _PATH_ERRNOS else 1
        where = f": {exc.filename}" if exc.filename else ""
        print(f"giftdesk: {one_line(exc.strerror or exc)}{one_line(where)}", file=sys.stderr)
        return code
    except Exception as exc:  # a bug, not the user's input: one line here, the traceback in the log
        log.exception("giftdesk %s failed", args.command)
        print(f"giftdesk: unexpected error ({type(exc).__name__}: {one_line(exc)}); the details are in the log.",
              file=sys.stderr)
        return 1


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
