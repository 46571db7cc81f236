"""The window's fampage views: tabs and dialogs over giftdesk.fampage."""
