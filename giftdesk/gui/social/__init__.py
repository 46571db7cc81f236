"""The window's social views: tabs and dialogs over giftdesk.social."""
