"""Where GiftDesk keeps its data and finds its resources.

Precedence for the data directory: ``--data-dir`` > ``GIFTDESK_DATA_DIR`` > the per-user
directory platformdirs gives. The database URL: ``--database-url`` > ``GIFTDESK_DATABASE_URL``
> a SQLite file inside the data directory.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "GIFTDESK_DATA_DIR"
DATABASE_URL_ENV = "GIFTDESK_DATABASE_URL"
DB_FILENAME = "giftdesk.db"


@dataclass(frozen=True)
class DataPaths:
    root: Path

    @property
    def database(self) -> Path:
        return self.root / DB_FILENAME

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def secrets_fallback(self) -> Path:
        return self.root / "secrets.json"

    def ensure(self) -> "DataPaths":
        for folder in (self.root, self.logs, self.backups):
            ours = not folder.exists() or folder != self.root or self._empty_or_giftdesk()
            folder.mkdir(parents=True, exist_ok=True)
            # Owner-only: the folder holds the database, logs and backups. A folder that holds
            # other things (a home directory given as --data-dir, even /) keeps its mode.
            if ours and os.name == "posix":
                os.chmod(folder, 0o700)
        return self

    def _empty_or_giftdesk(self) -> bool:
        try:
            return self.database.exists() or not any(self.root.iterdir())
        except OSError:
            return False


def resolve_data_dir(explicit: str | os.PathLike | None = None) -> DataPaths:
    if explicit:
        root = Path(explicit)
    elif os.environ.get(DATA_DIR_ENV):
        root = Path(os.environ[DATA_DIR_ENV])
    else:
        root = Path(platformdirs.user_data_dir("giftdesk", appauthor=False))
    return DataPaths(root.expanduser().resolve())


def resolve_database_url(paths: DataPaths, explicit: str | None = None) -> str:
    if explicit:
        return explicit
    if os.environ.get(DATABASE_URL_ENV):
        return os.environ[DATABASE_URL_ENV]
    return f"sqlite:///{paths.database}"


def resource_path(*parts: str) -> Path:
    """A file under ``resources/``, in a source checkout, an installed wheel or a frozen bundle."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root, "resources", *parts)
    package = Path(__file__).resolve().parents[1]  # giftdesk/ (this module is giftdesk/core/paths.py)
    packaged = package / "resources"
    if packaged.is_dir():
        return packaged.joinpath(*parts)
    return package.parent.joinpath("resources", *parts)
