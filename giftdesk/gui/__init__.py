"""The PySide6 front end: widgets only; every decision is made by the domain layer (the feature packages, through ``Desk``)."""
