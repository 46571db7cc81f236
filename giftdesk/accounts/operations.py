"""The accounts' operations (see ``giftdesk.core.operations``): API keys of TikTok accounts.

None runs on a lane: each is one short database write, and the key service orders them itself.
"""

from __future__ import annotations

from giftdesk.core.operations import Operation

REVEAL_KEY = Operation("key.reveal", "Reading the API key of")
GENERATE_KEY = Operation("key.generate", "Generating an API key for")
REGENERATE_KEY = Operation(
    "key.regenerate", "Regenerating the API key of",
    confirm="Regenerate the API key of {handle}?\n\nThe old key stops working at once; the tracker must be "
            "given the new key.")
ACTIVATE_KEY = Operation("key.activate", "Activating the key of")
DEACTIVATE_KEY = Operation("key.deactivate", "Deactivating the key of")
