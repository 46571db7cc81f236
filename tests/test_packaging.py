"""The wheel `pip install .` builds carries what the app loads from files at run time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_has_icons_and_migrations(tmp_path):
    # Built from a copy: setuptools reuses the tree's build/ folder, which keeps modules of earlier builds.
    source = tmp_path / "source"
    for part in ("giftdesk", "resources"):
        shutil.copytree(REPO / part, source / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / part, source / part)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(source)],
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
    # every package of the source tree, each with all its modules (the list in pyproject.toml is by hand)
    modules = {str(p.relative_to(REPO)) for p in (REPO / "giftdesk").rglob("*.py") if "__pycache__" not in p.parts}
    assert modules <= names, f"modules missing from the wheel: {sorted(modules - names)[:10]}"
    assert not any(n.startswith(("giftdesk/resources/screenshots", "giftdesk/resources/tracker-test-image")) for n in names)
