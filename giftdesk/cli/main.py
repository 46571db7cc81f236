"""Entry point: ``giftdesk`` with no command starts the console; subcommands script the same services.

Exit status: 0 success, 2 bad input (one line on stderr saying what is wrong), 1 other failures.
"""

from __future__ import annotations

import argparse
import logging
import sys

import giftdesk
from giftdesk.errors import GiftDeskError

log = logging.getLogger("giftdesk.cli")


class ArgumentError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse, but bad input is one line on stderr and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        raise ArgumentError(f"{self.prog}: {message}")


def build_parser() -> Parser:
    from giftdesk.cli import commands

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
    commands.register(sub, common_options(True))
    from giftdesk.cli.framework import CommandLine
    from giftdesk.cli.groups import register_all

    register_all(CommandLine(sub, common_options(True)))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
    except ArgumentError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.self_test:
        from giftdesk.gui.app import self_test

        return self_test(json_output=args.json)
    if not args.command:
        from giftdesk.gui.app import run

        return run(data_dir=args.data_dir, database_url=args.database_url)
    try:
        return args.handler(args) or 0
    except GiftDeskError as exc:
        print(f"giftdesk: {exc}", file=sys.stderr)
        return exc.exit_code
    except ArgumentError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("giftdesk: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
