"""The wheel `pip install .` builds carries what the app loads from files at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_has_icons_and_migrations(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    wheel = next(tmp_path.glob("giftdesk-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    icons = {p.name for p in (REPO / "resources" / "icons").iterdir()}
    assert {f"giftdesk/resources/icons/{name}" for name in icons} <= names
    assert "giftdesk/db/migrations/env.py" in names
    migrations = {p.name for p in (REPO / "giftdesk" / "db" / "migrations" / "versions").glob("*.py")}
    assert {f"giftdesk/db/migrations/versions/{name}" for name in migrations} <= names
    # invoice PDFs need their font (₹) and its licence; the Fampage package is a package of its own
    assert {"giftdesk/resources/fonts/DejaVuSans.ttf", "giftdesk/resources/fonts/DejaVuSans-Bold.ttf",
            "giftdesk/resources/fonts/LICENSE-DejaVu.txt", "giftdesk/fampage/client.py",
            "giftdesk/cli/groups/order.py"} <= names
    assert not any(n.startswith(("giftdesk/resources/screenshots", "giftdesk/resources/tracker-test-image")) for n in names)
