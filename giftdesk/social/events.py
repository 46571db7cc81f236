"""The social feature's events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from giftdesk.core.events import Event


@dataclass(frozen=True)
class SocialProfileChanged(Event):
    """A profile was created, edited, deleted or synced (or a sync failed); None: many profiles.

    Coalesced: the endpoint may sync hundreds of profiles a second; views take one batch a frame.
    """

    coalesce: ClassVar[bool] = True
    profile_id: int | None

    @property
    def coalesce_key(self) -> Any:
        return self.profile_id
