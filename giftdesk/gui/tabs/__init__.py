"""Tabs of the main window, one module each (placeholders for areas that arrive later)."""
