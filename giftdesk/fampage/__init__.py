"""Fampage (SMM panel): the HTTP client, money rules and invoice PDFs, and the services on them:
connection and catalogue (``service``), companies, orders, invoices, analytics; ``runtime``
installs the order sync and balance check. Qt-free."""
