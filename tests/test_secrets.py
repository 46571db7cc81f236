"""The secret store: the real Secret Service keyring when there is one, an explicit fallback when not."""

from __future__ import annotations

import os
import stat

import keyring
import pytest

from giftdesk.desk import Desk
from giftdesk.core.secrets import SecretStore
from tests.conftest import require_service


def _secret_service_usable() -> bool:
    try:
        from keyring.backends import SecretService

        return SecretService.Keyring.priority > 0  # raises when D-Bus or the service is missing
    except Exception:
        return False


@pytest.mark.secretservice
def test_real_secret_service_keyring(tmp_path, monkeypatch):
    require_service(_secret_service_usable(), "A Secret Service keyring (gnome-keyring on D-Bus)")
    monkeypatch.delenv("GIFTDESK_KEYRING")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    keyring.set_keyring(keyring.core.load_keyring("keyring.backends.SecretService.Keyring"))
    try:
        store = SecretStore(tmp_path / "secrets.json", namespace=f"test-{os.getpid()}")
        assert "SecretService" in store.backend_name and not store.is_fallback and store.warning is None
        store.set("tracker-key/1", "a1b2")
        assert store.get("tracker-key/1") == "a1b2"
        store.delete("tracker-key/1")
        assert store.get("tracker-key/1") is None
        assert not (tmp_path / "secrets.json").exists()  # nothing fell back to the file
    finally:
        keyring.core._keyring_backend = None


@pytest.mark.secretservice
def test_keys_live_in_the_real_keyring_not_the_database(data_dir, monkeypatch):
    require_service(_secret_service_usable(), "A Secret Service keyring (gnome-keyring on D-Bus)")
    monkeypatch.delenv("GIFTDESK_KEYRING")
    keyring.set_keyring(keyring.core.load_keyring("keyring.backends.SecretService.Keyring"))
    try:
        desk = Desk.open(str(data_dir))
        customer = desk.customers.create("Keyring")
        account = desk.customers.add_account(customer.id, "keyring_user")
        api_key = desk.keys.generate(account.id)
        assert desk.keys.reveal(account.id) == api_key
        assert api_key.encode() not in (data_dir / "giftdesk.db").read_bytes()
        desk.customers.delete(customer.id)
        assert desk.secrets.get(f"tracker-key/{account.id}") is None
        desk.close()
    finally:
        keyring.core._keyring_backend = None


def test_unusable_keyring_falls_back_visibly(tmp_path, monkeypatch):
    monkeypatch.delenv("GIFTDESK_KEYRING")
    keyring.set_keyring(keyring.core.load_keyring("keyring.backends.fail.Keyring"))
    try:
        store = SecretStore(tmp_path / "secrets.json", namespace="n")
        assert store.is_fallback
        assert "No usable system keyring" in store.warning and "fail.Keyring" in store.warning
        store.set("fampage-api-key", "sk-123")
        assert store.get("fampage-api-key") == "sk-123"
        assert stat.S_IMODE(os.stat(tmp_path / "secrets.json").st_mode) == 0o600
    finally:
        keyring.core._keyring_backend = None


def test_namespaces_keep_data_directories_apart(tmp_path):
    first = SecretStore(tmp_path / "s.json", namespace="one")
    second = SecretStore(tmp_path / "s.json", namespace="two")
    first.set("tracker-key/1", "first")
    assert second.get("tracker-key/1") is None
    second.delete("tracker-key/1")  # deleting what is not there is fine
    assert first.get("tracker-key/1") == "first"


def test_fampage_key_goes_to_the_secret_store_only(desk):
    desk.settings.set_fampage_api_key("fp-secret-123")
    assert desk.settings.has_fampage_api_key()
    assert desk.settings.fampage_api_key() == "fp-secret-123"
    assert b"fp-secret-123" not in desk.paths.database.read_bytes()
    desk.settings.set_fampage_api_key(None)
    assert not desk.settings.has_fampage_api_key()


def test_the_fallback_warning_is_said_once_per_data_directory_and_status_always_shows_it(data_dir):
    """Real CLI processes with no usable keyring (keyring's fail backend): the first command that
    touches a key says so, the next ones do not, and ``status`` always shows it."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "GIFTDESK_KEYRING"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

    def giftdesk(*argv: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "giftdesk", "--data-dir", str(data_dir), *argv],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        return done

    giftdesk("customer", "add", "--name", "Once")
    giftdesk("account", "add", "--customer", "1", "--tiktok", "@once")
    first = giftdesk("key", "generate", "--account", "1").stderr
    later = giftdesk("key", "regenerate", "--account", "1").stderr + giftdesk("key", "show", "--account", "1").stderr
    assert first.count("No usable system keyring") == 1
    assert "No usable system keyring" not in later
    assert "No usable system keyring" in giftdesk("status").stdout
