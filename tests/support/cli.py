"""Running the real command line in-process: ``cli(*argv, expect=0)`` → (stdout, stderr); ``cli.json``.

``cli`` runs ``giftdesk --data-dir <tmp> argv``; ``make_cli(capsys, *base)`` builds the same runner
over other leading arguments (another database URL, say) for fixtures of their own.
"""

from __future__ import annotations

import json
import logging

import pytest

from giftdesk.cli.main import main


def _drop_closed_log_handlers() -> None:
    """In-process runs share the logging tree with earlier tests, whose captured streams are closed."""
    for name in (None, "giftdesk"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if getattr(getattr(handler, "stream", None), "closed", False):
                logger.removeHandler(handler)


def make_cli(capsys, *base: str):
    def run(*argv: str, expect: int = 0):
        _drop_closed_log_handlers()
        code = main([*base, *argv])
        out, err = capsys.readouterr()
        assert code == expect, f"exit {code}, stdout: {out} stderr: {err}"
        return out, err

    def run_json(*argv: str, expect: int = 0):
        out, _ = run("--json", *argv, expect=expect)
        return json.loads(out)

    run.json = run_json
    return run


@pytest.fixture
def cli(data_dir, capsys):
    return make_cli(capsys, "--data-dir", str(data_dir))
