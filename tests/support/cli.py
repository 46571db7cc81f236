"""The ``cli`` fixture: ``cli(*argv, expect=0)`` runs ``giftdesk --data-dir <tmp> argv`` in-process."""

from __future__ import annotations

import json

import pytest

from giftdesk.cli.main import main


@pytest.fixture
def cli(data_dir, capsys):
    def run(*argv: str, expect: int = 0):
        code = main(["--data-dir", str(data_dir), *argv])
        out, err = capsys.readouterr()
        assert code == expect, f"exit {code}, stderr: {err}"
        return out, err

    def run_json(*argv: str, expect: int = 0):
        out, _ = run("--json", *argv, expect=expect)
        return json.loads(out)

    run.json = run_json
    return run
