"""``runtime.json`` is believed only for the process that wrote it, serving this data directory:
not in a copy of the directory, not for another process that got the writer's pid."""

from __future__ import annotations

import json
import os
import shutil
import sys

import pytest

from giftdesk.core.processes import process_start
from giftdesk.runtime.status_file import FILENAME, StatusFileWriter, read_runtime_status
from tests.runtime.test_runtime import runtime  # noqa: F401 - fixture
from tests.runtime.test_supervisor import wait_for
from tests.support.cli import make_cli


def _write(root, kind="serve") -> dict:
    StatusFileWriter(root, lambda: [], kind).write(running=True)
    return json.loads((root / FILENAME).read_text(encoding="utf-8"))


def test_a_copied_data_directory_does_not_report_the_sources_runtime(runtime, desk, tmp_path, capsys):
    runtime.start()
    assert wait_for(lambda: read_runtime_status(desk.paths.root) is not None)
    copy = tmp_path / "copy"
    shutil.copytree(desk.paths.root, copy)
    assert (copy / FILENAME).exists()
    assert read_runtime_status(copy) is None
    cli = make_cli(capsys, "--data-dir", str(copy))
    assert cli.json("status")["runtime"] is None
    out, _ = cli("status")
    assert "not running" in out
    assert read_runtime_status(desk.paths.root) is not None  # the source still reports its own


def test_the_same_directory_through_a_symbolic_link_is_the_same_directory(data_dir, tmp_path):
    _write(data_dir)
    link = tmp_path / "link"
    link.symlink_to(data_dir, target_is_directory=True)
    assert read_runtime_status(link) is not None and read_runtime_status(data_dir) is not None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process start times come from /proc")
def test_a_reused_pid_is_not_the_writer(data_dir):
    document = _write(data_dir)
    assert document["processStart"] == process_start(os.getpid()) is not None
    assert read_runtime_status(data_dir) is not None
    # Another process now has the writer's pid: alive, but started at another time.
    document["processStart"] = process_start(1)
    (data_dir / FILENAME).write_text(json.dumps(document), encoding="utf-8")
    assert read_runtime_status(data_dir) is None


def test_a_file_without_the_directory_it_serves_is_not_believed(data_dir):
    document = _write(data_dir)
    del document["dataDir"]  # written before the directory was recorded, or edited
    (data_dir / FILENAME).write_text(json.dumps(document), encoding="utf-8")
    assert read_runtime_status(data_dir) is None
