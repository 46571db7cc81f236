"""GiftDesk: desktop console for gift-tracker fleets, social stats and Fampage orders."""

__version__ = "0.1.0"
APP_NAME = "GiftDesk"
