"""Errors the domain layer raises. Each carries one sentence a person can act on.

The GUI shows ``str(error)`` in its single error route; the CLI prints it and exits 2 for
input problems, 1 for the rest; the endpoint maps them to HTTP statuses.
"""

from __future__ import annotations


class GiftDeskError(Exception):
    """Base class: ``str(exc)`` is the user-facing sentence."""

    exit_code = 1


class ValidationError(GiftDeskError):
    """Input that breaks a rule; ``field`` names the offending field when there is one."""

    exit_code = 2

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFoundError(GiftDeskError):
    exit_code = 2


class ConflictError(GiftDeskError):
    """The change collides with existing data (duplicate name, still-referenced row...)."""

    exit_code = 2


class PermissionDeniedError(GiftDeskError):
    """The acting administrator's role does not allow the change."""

    exit_code = 2


class AuthenticationError(GiftDeskError):
    exit_code = 2


class ServiceUnavailableError(GiftDeskError):
    """An outside service (Docker engine, keyring, Fampage) cannot be reached."""


class StorageError(GiftDeskError):
    """The disk or the database file failed under the data; not something the user typed."""


class DiskFullError(StorageError):
    def __init__(self, folder):
        super().__init__(f"The disk holding {folder} is full: free some space, then try again.")
        self.folder = folder


class DatabaseDamagedError(StorageError):
    def __init__(self, path, reason: str):
        super().__init__(f"The database {path} is damaged ({reason}). "
                         "Restore a backup with `giftdesk backup restore FILE`.")
        self.path = path
        self.reason = reason
