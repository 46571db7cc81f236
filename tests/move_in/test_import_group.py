"""``giftdesk import`` is one group that several modules add commands to; it runs as a real process."""

from __future__ import annotations

import os
import subprocess
import sys

from giftdesk.cli.framework import Output
from giftdesk.cli.main import Parser


def test_two_modules_add_commands_to_one_group():
    from giftdesk.cli.framework import CommandLine

    parser = Parser(prog="giftdesk")
    cli = CommandLine(parser.add_subparsers(dest="command", parser_class=Parser), Parser(add_help=False))
    first = cli.group("import", "bring things in")
    first.command("one", "the first module's", needs_desk=False)(lambda args: Output("one"))
    second = cli.group("import", "said again by the second module")
    second.command("two", "the second module's", needs_desk=False)(lambda args: Output("two"))
    assert parser.parse_args(["import", "one"]).import_command == "one"
    assert parser.parse_args(["import", "two"]).import_command == "two"


def test_a_missing_export_is_one_line_and_exit_status_2_from_a_real_process(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    done = subprocess.run([sys.executable, "-m", "giftdesk", "--data-dir", str(data), "import", "social-scale",
                           "--orders", str(tmp_path / "Order.json")], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "GIFTDESK_KEYRING": "file"})
    assert done.returncode == 2
    assert done.stderr.strip() == f"giftdesk: {tmp_path / 'Order.json'} does not exist."
    assert done.stdout == ""
