"""The PyInstaller bundle: build it from giftdesk.spec, then run the frozen program.

Slow (about a minute on 2 cores): PyInstaller analyses the whole dependency tree. Run with
``-s`` to see the bundle's size and build time. Skipped when PyInstaller is not installed,
except under CI, where that is a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import giftdesk

# The PyInstaller build in the module fixture takes about a minute, several on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEC = REPO_ROOT / "giftdesk.spec"
BUILD_TIMEOUT_S = 900
RUN_TIMEOUT_S = 120


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment without GiftDesk's own settings (conftest forces the file keyring)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIFTDESK_")}
    env.update(extra)
    return env


def _size_of(folder: Path) -> tuple[int, int]:
    total = files = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
            files += 1
    return total, files


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    if importlib.util.find_spec("PyInstaller") is None:
        if os.environ.get("CI"):
            pytest.fail("PyInstaller is required under CI (pip install -e '.[test]')")
        pytest.skip("PyInstaller is not installed")
    work = tmp_path_factory.mktemp("pyinstaller")
    command = [
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
        "--distpath", str(work / "dist"), "--workpath", str(work / "build"), str(SPEC),
    ]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=_clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, f"PyInstaller failed ({done.returncode}):\n{done.stderr[-6000:]}"
    folder = work / "dist" / "giftdesk"
    size, files = _size_of(folder)
    print(f"\nPyInstaller bundle {folder}: {size / 2**20:.1f} MiB in {files} files, built in {elapsed:.0f} s")
    return folder


def _run(bundle: Path, *args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(bundle / "giftdesk"), *args],
        env=_clean_env(QT_QPA_PLATFORM="offscreen", GIFTDESK_DATA_DIR=str(data_dir)),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def test_bundle_carries_migrations_and_resources_as_files(bundle):
    envs = list(bundle.rglob("giftdesk/db/migrations/env.py"))
    assert envs, "Alembic's env.py is missing: migrations must be files in the bundle"
    versions = envs[0].parent / "versions"
    assert any(versions.glob("0001_*.py")), "the migration scripts are missing"
    # Every file of resources/ is in the bundle's resources/, where giftdesk.core.paths.resource_path
    # looks when frozen; giftdesk.spec leaves out these folders.
    not_bundled = {"tracker-test-image", "screenshots", "__pycache__"}
    source = REPO_ROOT / "resources"
    wanted = {
        p.relative_to(source)
        for p in source.rglob("*")
        if p.is_file() and not not_bundled.intersection(p.relative_to(source).parts)
    }
    frozen_root = envs[0].parents[3]  # <bundle>/_internal: .../giftdesk/db/migrations/env.py
    missing = sorted(str(p) for p in wanted if not (frozen_root / "resources" / p).is_file())
    assert not missing, f"resources missing from the bundle: {missing}"
    assert not list(bundle.rglob("tracker-test-image")), "the test image folder does not belong in the bundle"


def test_frozen_version(bundle, tmp_path):
    done = _run(bundle, "--version", data_dir=tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert giftdesk.__version__ in done.stdout + done.stderr


def test_frozen_self_test(bundle, tmp_path):
    done = _run(bundle, "--self-test", data_dir=tmp_path / "data")
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"


def _secret_service_usable() -> bool:
    """True when this process reaches a working Secret Service (CI's gnome-keyring)."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return False
    try:
        from keyring.backends import SecretService

        return SecretService.Keyring.priority > 0
    except Exception:
        return False


def test_frozen_app_finds_keyring_backends(bundle, tmp_path):
    done = _run(bundle, "--self-test", "--json", data_dir=tmp_path / "data")
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    report = json.loads(done.stdout)
    backend = str(report["keyring_backend"])
    assert "fail" not in backend.lower(), report
    if _secret_service_usable():
        # The entry points survived freezing: the bundle sees what this process sees.
        assert "SecretService" in backend, report


def test_frozen_command_line_has_every_group(bundle, tmp_path):
    """The groups are imported by name (importlib): the bundle must carry each of them."""
    from giftdesk.cli.groups import GROUP_MODULES

    data_dir = tmp_path / "data"
    done = _run(bundle, "--help", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    for command in ("admin", "customer", "account", "key", "data", "settings", "db", "backup", "audit", "status",
                    "serve"):
        assert f"    {command} " in done.stdout, command
    assert len(GROUP_MODULES) >= 10
    assert _run(bundle, "customer", "add", "--name", "Frozen", data_dir=data_dir).returncode == 0
    listed = _run(bundle, "--json", "customer", "list", data_dir=data_dir)
    assert listed.returncode == 0, listed.stderr
    assert [c["name"] for c in json.loads(listed.stdout)] == ["Frozen"]
