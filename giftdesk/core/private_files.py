"""Files only the current user may read: a 0700 folder inside the data directory, files 0600.

Used for PDFs written to hand to a viewer or printer (client names and amounts). The folder is
per data directory, so two data directories never overwrite each other's files, and nothing
here follows a link someone else planted: the folder must be a real directory owned by us, and
each file is created exclusively (``O_EXCL | O_NOFOLLOW``) under a temporary name, then renamed
over the final name (a rename replaces a link, it never writes through it).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import BinaryIO, Callable

PRIVATE_FOLDER = "private-files"


def private_folder(root: os.PathLike | str, name: str = PRIVATE_FOLDER) -> Path:
    """``root/name`` as a 0700 directory owned by the current user; raises OSError if it is anything else."""
    folder = Path(root) / name
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise OSError(f"{folder} is not a folder (a link or a file is in its place); remove it and try again.")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise OSError(f"{folder} belongs to another user; remove it and try again.")
    if os.name == "posix" and stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(folder, 0o700)
    return folder


def write_private(folder: Path, filename: str, write: Callable[[BinaryIO], object]) -> Path:
    """Writes ``folder/filename`` (mode 0600) through ``write(out)``; returns its path."""
    if not filename or Path(filename).name != filename or filename in (".", ".."):
        raise ValueError(f"Not a file name: {filename!r}")
    target = folder / filename
    temp = folder / f".{filename}.{secrets.token_hex(6)}.part"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(temp, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    return target
