"""Secrets (tracker API keys, the Fampage API key) in the system keyring, service ``giftdesk``.

If the keyring is unusable (keyring's ``fail``/``null`` backends, or a Secret Service that does
not answer) the store falls back to a file in the data directory readable only by the owner,
and says so: ``warning`` is shown in the GUI status bar and printed by the CLI.
Entries are namespaced by the database's instance id so two data directories never collide.
The backend is chosen on first use, not at start-up: importing keyring and probing a Secret
Service costs a tenth of a second that the first window should not wait for.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)
SERVICE_NAME = "giftdesk"
# The keyring entries the console keeps beside the per-key ones ("tracker-key/<account id>").
FAMPAGE_API_KEY_SECRET = "fampage-api-key"
# The setting holding a random id per database, the namespace of its keyring entries.
INSTANCE_ID_KEY = "internal.instance_id"
FORCE_BACKEND_ENV = "GIFTDESK_KEYRING"  # "file" forces the file store (tests, servers without a keyring)
_UNUSABLE_MODULES = ("keyring.backends.fail", "keyring.backends.null")


class FileSecretBackend:
    """JSON file, mode 0600, replaced atomically on every write."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def _save(self, data: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError:  # a full disk: the store keeps its last whole version, and no half copy
            tmp.unlink(missing_ok=True)
            raise

    def get_password(self, service: str, name: str) -> str | None:
        with self._lock:
            return self._load().get(f"{service}/{name}")

    def set_password(self, service: str, name: str, value: str) -> None:
        with self._lock:
            data = self._load()
            data[f"{service}/{name}"] = value
            self._save(data)

    def delete_password(self, service: str, name: str) -> None:
        with self._lock:
            data = self._load()
            if data.pop(f"{service}/{name}", None) is not None:
                self._save(data)


def _backend_label(backend) -> str:
    cls = type(backend)
    return f"{cls.__module__.removeprefix('keyring.backends.')}.{cls.__name__}"


class SecretStore:
    def __init__(self, fallback_path: Path, namespace: str = "default"):
        self.namespace = namespace
        self._fallback_path = Path(fallback_path)
        self._lock = threading.Lock()
        self._backend = None
        self._backend_name = ""
        self._warning: str | None = None

    def _resolve(self):
        with self._lock:
            if self._backend is None:
                self._backend, self._backend_name, self._warning = self._choose_backend()
            return self._backend

    def _choose_backend(self):
        file_store = FileSecretBackend(self._fallback_path)
        file_name = f"file ({self._fallback_path})"
        if os.environ.get(FORCE_BACKEND_ENV, "").lower() == "file":
            return file_store, file_name, None
        import keyring

        backend = keyring.get_keyring()
        label = _backend_label(backend)
        problem = self._probe(backend)
        if problem is None:
            return backend, label, None
        warning = (
            f"No usable system keyring ({label}: {problem}). Secrets are kept in "
            f"{self._fallback_path}, readable only by your user account."
        )
        log.warning(warning)
        return file_store, file_name, warning

    @property
    def backend_name(self) -> str:
        self._resolve()
        return self._backend_name

    @property
    def warning(self) -> str | None:
        """Set when the system keyring is unusable and secrets went to the file instead."""
        self._resolve()
        return self._warning

    @property
    def is_fallback(self) -> bool:
        return isinstance(self._resolve(), FileSecretBackend)

    def describe(self) -> tuple[str, str]:
        """For people (the Settings window): where secrets are kept ("the system keyring (SecretService)"),
        and a sentence on what that means and what to do about it."""
        backend = self._resolve()
        if not isinstance(backend, FileSecretBackend):
            name = self._backend_name.removesuffix(".Keyring").split(".")[-1]
            return (f"the system keyring ({name})",
                    "Tracker API keys and the Fampage API key live here, never in the database.")
        where = f"a file readable only by your user account ({self._fallback_path})"
        if self._warning is None:
            return where, (f"{FORCE_BACKEND_ENV}=file is set, so secrets are kept in this file instead of the "
                           "system keyring. Unset it and restart GiftDesk to use the keyring.")
        return where, ("No system keyring is available on this computer, so tracker API keys and the Fampage "
                       "API key are kept in this file. To use the system keyring instead, install and unlock "
                       "one (GNOME Keyring or KWallet on Linux) and restart GiftDesk; keys saved before then "
                       "stay in this file, so regenerate them and enter the Fampage key again afterwards.")

    @staticmethod
    def _probe(backend) -> str | None:
        if type(backend).__module__ in _UNUSABLE_MODULES:
            return "no keyring service is available"
        try:
            probe_name = "giftdesk-probe"
            backend.set_password(SERVICE_NAME, probe_name, "ok")
            value = backend.get_password(SERVICE_NAME, probe_name)
            backend.delete_password(SERVICE_NAME, probe_name)
        except Exception as exc:  # locked, no D-Bus session, denied...
            return f"{type(exc).__name__}: {exc}"
        return None if value == "ok" else "it did not return what was stored"

    def _entry(self, name: str) -> str:
        return f"{self.namespace}/{name}"

    def get(self, name: str) -> str | None:
        return self._resolve().get_password(SERVICE_NAME, self._entry(name))

    def set(self, name: str, value: str) -> None:
        self._resolve().set_password(SERVICE_NAME, self._entry(name), value)

    def delete(self, name: str) -> None:
        backend = self._resolve()
        if isinstance(backend, FileSecretBackend):
            backend.delete_password(SERVICE_NAME, self._entry(name))
            return
        import keyring.errors

        try:
            backend.delete_password(SERVICE_NAME, self._entry(name))
        except keyring.errors.PasswordDeleteError:
            pass  # already gone: deleting is idempotent
