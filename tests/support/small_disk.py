"""A real, small file system for full-disk tests: a tmpfs mounted under the test's ``tmp_path``.

Mounting needs root (CI runs the tests as root); elsewhere the tests that use it are skipped with
the reason. The tmpfs is unmounted in teardown whatever the test did: GiftDesk's log handlers on
it are closed first, and a file system something still holds is detached lazily.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_disk(folder: Path, size: str = "2m") -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("a full disk is made with a small tmpfs, and mounting one needs root")
    if shutil.which("mount") is None:
        pytest.skip("no mount command here to make a small tmpfs")
    folder.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        _close_log_files_under(folder)
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", str(folder)], check=True)


def fill(folder: Path, leave: int = 0) -> Path:
    """Takes the file system's free space but ``leave`` bytes with one file; returns that file."""
    filler = folder / "filler"
    stats = os.statvfs(folder)
    take = stats.f_bavail * stats.f_frsize - leave
    with open(filler, "ab", buffering=0) as handle:
        if take > 0:
            os.posix_fallocate(handle.fileno(), handle.seek(0, os.SEEK_END), take)
        if leave == 0:  # whatever rounding left over
            try:
                while handle.write(b"\0" * 4096):
                    pass
            except OSError:
                pass
    return filler


def free_space(folder: Path) -> None:
    (folder / "filler").unlink(missing_ok=True)


def _close_log_files_under(folder: Path) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        filename = getattr(handler, "baseFilename", "")
        if filename and Path(filename).is_relative_to(folder):
            root.removeHandler(handler)
            try:
                handler.close()
            except OSError:  # its last flush has nowhere to go
                pass
