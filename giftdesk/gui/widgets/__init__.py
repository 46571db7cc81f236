"""Reusable widgets and table models shared by the tabs and dialogs."""
