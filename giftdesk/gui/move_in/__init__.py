"""File → Move in…: the guided import of what an agency runs today."""
