"""The credentials generation: one token that every change to tracker credentials replaces, so that
endpoints in other processes know when to reload their keys (see ``CredentialsGeneration``)."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import select, update

from giftdesk.db.models import CredentialsGeneration


def digest_key(api_key: str) -> str:
    """What the database keeps of a tracker's API key: enough to authenticate, not to show."""
    return hashlib.sha256(api_key.encode("utf-8", "surrogatepass")).hexdigest()


def credentials_generation(session) -> str | None:
    """The token every credential change replaces."""
    return session.scalar(select(CredentialsGeneration.token))


def renew_credentials_generation(session) -> None:
    """A new token for changes the triggers cannot see (a restore writes the file underneath them)."""
    session.execute(update(CredentialsGeneration).values(token=uuid.uuid4().hex))
