"""The window's accounts views: tabs and dialogs over giftdesk.accounts."""
