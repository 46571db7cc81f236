"""The window's alert list, over giftdesk.alerts."""
