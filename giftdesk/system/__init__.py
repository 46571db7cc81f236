"""The console itself: administrators and passwords, settings, the audit log and backups. Qt-free."""
