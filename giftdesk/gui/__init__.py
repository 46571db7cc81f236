"""The PySide6 front end: widgets only; every decision is made by ``giftdesk.services``."""
