"""The window's system views: tabs and dialogs over giftdesk.system."""
