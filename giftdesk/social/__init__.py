"""Social profiles: syncs, history and metrics (``service``), their rules (``validation``), CSV
import/export (``csv_io``) and the tracker-facing sync route (``http``). Qt-free."""
