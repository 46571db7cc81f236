"""The ``giftdesk`` command line: the same services as the GUI, for people and scripts."""
