"""Password hashing with scrypt (memory-hard, in the standard library).

Administrators moved in from the instance manager arrive with its bcrypt hashes: those are checked
as bcrypt (``needs_rehash`` says so) and replaced by scrypt at their first login."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

MIN_PASSWORD_LENGTH = 8

# n=2**15, r=8: 32 MiB and roughly 0.1 s per hash on this class of machine.
_N, _R, _P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAXMEM, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")


def needs_rehash(stored: str) -> bool:
    """A hash of another scheme (an imported bcrypt one): replace it once the password is known."""
    return not stored.startswith("scrypt$")


def _verify_bcrypt(password: str, stored: str) -> bool:
    import bcrypt

    try:
        # bcrypt reads at most 72 bytes, as the manager's bcrypt did when it hashed the password
        return bcrypt.checkpw(password.encode()[:72], stored.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return False


def verify_password(password: str, stored: str) -> bool:
    if stored.startswith(BCRYPT_PREFIXES):
        return _verify_bcrypt(password, stored)
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
            maxmem=_MAXMEM, dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)
