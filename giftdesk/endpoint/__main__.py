"""``python -m giftdesk.endpoint``: the endpoint headless (what ``giftdesk serve`` runs)."""

from giftdesk.endpoint.server import main

raise SystemExit(main())
