"""Sign Studio desktop application (PySide6). The engine does the work; this is the UI."""
