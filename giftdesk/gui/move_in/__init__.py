"""The window's Move in dialog: bringing over what an agency runs today."""
