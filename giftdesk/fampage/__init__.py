"""Fampage (SMM panel) integration: the HTTP client, money rules and invoice PDFs. Qt-free."""
