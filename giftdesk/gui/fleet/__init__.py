"""The window's fleet views: tabs and dialogs over giftdesk.fleet."""
